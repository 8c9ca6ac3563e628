"""Hash commands through redis-py's API, to Redis 7.0 semantics, error texts and RESP3 shapes.
The same tests pass against redis-server (TERN_PY_TARGET=redis)."""

import time

import pytest
import redis

from conftest import raises_err, raw_cmd

WRONG = "WRONGTYPE Operation against a key holding the wrong kind of value"


def test_hset_hget_hgetall(r, k):
    assert r.hset(k(), mapping={"a": "1", "b": "two"}) == 2
    assert r.hset(k(), "a", "10") == 0
    assert r.hget(k(), "a") == "10"
    assert r.hget(k(), "zz") is None
    assert r.hget(k("missing"), "a") is None
    assert r.hgetall(k()) == {"a": "10", "b": "two"}
    assert r.hgetall(k("missing")) == {}
    assert r.hkeys(k()) == ["a", "b"]
    assert r.hvals(k()) == ["10", "two"]
    assert r.hlen(k()) == 2
    assert r.hmget(k(), ["a", "zz", "b"]) == ["10", None, "two"]
    assert r.hexists(k(), "a") is True
    assert r.hexists(k(), "zz") is False
    assert r.hstrlen(k(), "b") == 3
    assert r.type(k()) == "hash"
    assert r.object("encoding", k()) == "listpack"


def test_hmset_hsetnx_hdel(r, k):
    assert r.execute_command("HMSET", k(), "a", "1", "b", "2") in (True, "OK", b"OK")
    assert r.hsetnx(k(), "a", "9") == 0
    assert r.hsetnx(k(), "c", "3") == 1
    assert r.hdel(k(), "a", "zz") == 1
    assert r.hdel(k(), "b", "c") == 2
    assert r.exists(k()) == 0
    assert r.hdel(k(), "a") == 0


def test_hincrby_and_hincrbyfloat(r, k):
    assert r.hincrby(k(), "n", 5) == 5
    assert r.hincrby(k(), "n", -7) == -2
    assert r.hincrbyfloat(k(), "f", 10.5) == 10.5
    assert r.hincrbyfloat(k(), "f", 0.1) == pytest.approx(10.6)
    assert r.hget(k(), "f") == "10.6"
    r.hset(k(), "s", "abc")
    with raises_err("ERR hash value is not an integer"):
        r.hincrby(k(), "s", 1)
    with raises_err("ERR hash value is not a float"):
        r.hincrbyfloat(k(), "s", 1)
    r.hset(k(), "max", str(2**63 - 1))
    with raises_err("ERR increment or decrement would overflow"):
        r.hincrby(k(), "max", 1)
    with raises_err("ERR value is not an integer or out of range"):
        r.hincrby(k(), "n", "1.5")
    with raises_err("ERR value is not a valid float"):
        r.hincrbyfloat(k(), "f", "abc")
    with raises_err("ERR value is NaN or Infinity"):
        r.hincrbyfloat(k(), "f", "inf")


def test_hrandfield(r, k):
    r.hset(k(), mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hrandfield(k()) in ("a", "b", "c")
    assert r.hrandfield(k("missing")) is None
    assert sorted(r.hrandfield(k(), 10)) == ["a", "b", "c"]
    assert len(r.hrandfield(k(), 2)) == 2
    assert len(set(r.hrandfield(k(), 2))) == 2
    assert len(r.hrandfield(k(), -7)) == 7
    assert r.hrandfield(k(), 0) == []
    assert r.hrandfield(k("missing"), 3) == []
    pairs = r.hrandfield(k(), -4, withvalues=True)
    # RESP2: a flat list; RESP3: a list of [field, value] pairs (Redis 7.0).
    if r.connection_pool.connection_kwargs.get("protocol") == 3:
        assert len(pairs) == 4 and all(len(p) == 2 for p in pairs)
        flat = [x for p in pairs for x in p]
    else:
        assert len(pairs) == 8
        flat = pairs
    for f, v in zip(flat[::2], flat[1::2]):
        assert r.hget(k(), f) == v
    with raises_err("ERR syntax error"):
        r.execute_command("HRANDFIELD", k(), 1, "WITHSCORES")
    with raises_err("ERR value is out of range"):
        r.execute_command("HRANDFIELD", k(), 2**62, "WITHVALUES")


def test_hscan(r, k):
    r.hset(k(), mapping={"ab": "1", "cd": "2", "ax": "3"})
    assert r.hscan(k(), 0) == (0, {"ab": "1", "cd": "2", "ax": "3"})
    assert r.hscan(k(), 0, match="a*") == (0, {"ab": "1", "ax": "3"})
    assert r.hscan(k("missing"), 0) == (0, {})
    big = {f"f{i}": str(i) for i in range(1000)}
    r.hset(k("big"), mapping=big)
    assert r.object("encoding", k("big")) == "hashtable"
    assert dict(r.hscan_iter(k("big"), count=25)) == big
    with raises_err("ERR syntax error"):
        r.hscan(k(), 0, count=0)
    with raises_err("ERR invalid cursor"):
        r.execute_command("HSCAN", k(), "x")


def test_wrong_type_and_arity(r, k):
    r.set(k("s"), "x")
    for call in (
        lambda: r.hset(k("s"), "a", "1"),
        lambda: r.hget(k("s"), "a"),
        lambda: r.hgetall(k("s")),
        lambda: r.hincrby(k("s"), "a", 1),
        lambda: r.hrandfield(k("s"), 2),
        lambda: r.hscan(k("s"), 0),
    ):
        with raises_err(WRONG):
            call()
    with raises_err("ERR wrong number of arguments for 'hset' command"):
        r.execute_command("HSET", k(), "a")
    with raises_err("ERR wrong number of arguments for 'hget' command"):
        r.execute_command("HGET", k())


def test_resp3_hgetall_is_a_map(tern, k):
    c = tern(protocol=3, decode_responses=True)
    c.hset(k(), mapping={"a": "1", "b": "2"})
    assert raw_cmd(c, "HGETALL", k()) == {"a": "1", "b": "2"}


def test_health_registry_nodes_expire_whole(r, k):
    node = k("node:1")
    r.hset(node, mapping={"addr": "10.0.0.1:7000", "role": "primary", "load": "0.5"})
    r.pexpire(node, 200)
    assert r.hgetall(node) == {"addr": "10.0.0.1:7000", "role": "primary", "load": "0.5"}
    r.hincrbyfloat(node, "load", 0.25)
    assert 0 < r.pttl(node) <= 200
    time.sleep(0.4)
    assert r.hgetall(node) == {}
    assert r.exists(node) == 0


def test_dump_restore_round_trip(r, k):
    r.hset(k(), mapping={"a": "1", "b": "hello", "n": "-5"})
    payload = r.dump(k())
    assert payload[0] == 16  # RDB_TYPE_HASH_LISTPACK
    r.restore(k("copy"), 0, payload)
    assert r.hgetall(k("copy")) == r.hgetall(k())
    assert r.object("encoding", k("copy")) == "listpack"
