"""MULTI/EXEC/WATCH through redis-py's pipeline and transaction helpers."""

from __future__ import annotations

import pytest
import redis


def test_pipeline_is_a_transaction_by_default(r, k):
    a, b = k("a"), k("b")
    with r.pipeline() as p:  # transaction=True: MULTI ... EXEC
        p.set(a, 1).incr(a).incrby(a, 10).set(b, "x")
        assert p.execute() == [True, 2, 12, True]
    assert r.get(a) == "12"


def test_runtime_errors_do_not_roll_back(r, k):
    a, b = k("a"), k("b")
    with r.pipeline() as p:
        p.set(a, "text").incr(a).set(b, "after")
        res = p.execute(raise_on_error=False)
    assert res[0] is True
    assert isinstance(res[1], redis.ResponseError)
    assert "not an integer" in str(res[1])
    assert res[2] is True
    assert r.get(b) == "after"


def test_queueing_error_discards_everything(r, k):
    a = k("a")
    with r.pipeline() as p:
        p.set(a, 1)
        p.execute_command("SET", a)  # wrong arity: refused while queueing
        with pytest.raises(redis.ResponseError, match="EXECABORT|wrong number of arguments"):
            p.execute()
    assert r.exists(a) == 0


def test_watch_with_transaction_helper_retries_until_it_wins(tern, k):
    r = tern(decode_responses=True)
    other = tern(decode_responses=True)
    key = k("counter")
    r.set(key, 0)
    attempts = []

    def incr(pipe):
        attempts.append(1)
        value = int(pipe.get(key))
        if len(attempts) == 1:
            other.set(key, 100)  # someone else changes the watched key: first EXEC aborts
        pipe.multi()
        pipe.set(key, value + 1)

    r.transaction(incr, key)
    assert len(attempts) == 2
    assert r.get(key) == "101"


def test_watch_error_is_raised_by_a_plain_pipeline(tern, k):
    r = tern(decode_responses=True)
    other = tern(decode_responses=True)
    key = k("w")
    with r.pipeline() as p:
        p.watch(key)
        other.set(key, "changed")
        p.multi()
        p.set(key, "mine")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get(key) == "changed"
