"""Pub/sub through redis-py's PubSub helper (RESP2 and RESP3)."""

from __future__ import annotations

import time


def get_message(p, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = p.get_message(timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no message")


def test_subscribe_publish_psubscribe(r, k):
    ch = k("news")
    p = r.pubsub()
    p.subscribe(ch)
    assert get_message(p) == {"type": "subscribe", "pattern": None, "channel": ch, "data": 1}
    p.psubscribe(k("n*"))
    assert get_message(p)["type"] == "psubscribe"
    assert r.publish(ch, "hello") == 2
    msgs = [get_message(p), get_message(p)]
    assert {"type": "message", "pattern": None, "channel": ch, "data": "hello"} in msgs
    assert {"type": "pmessage", "pattern": k("n*"), "channel": ch, "data": "hello"} in msgs
    assert r.pubsub_numsub(ch) == [(ch, 1)]
    assert r.pubsub_numpat() >= 1
    p.unsubscribe(ch)
    assert get_message(p)["type"] == "unsubscribe"
    p.close()


def test_handler_thread_receives_in_order(r, k):
    ch = k("ordered")
    got = []
    p = r.pubsub()
    p.subscribe(**{ch: lambda m: got.append(m["data"])})
    t = p.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        deadline = time.time() + 5
        while r.pubsub_numsub(ch)[0][1] != 1 and time.time() < deadline:
            time.sleep(0.01)
        for i in range(100):
            r.publish(ch, str(i))
        deadline = time.time() + 10
        while len(got) < 100 and time.time() < deadline:
            time.sleep(0.01)
    finally:
        t.stop()
        t.join(timeout=5)
    assert got == [str(i) for i in range(100)]
