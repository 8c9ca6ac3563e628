"""Sorted set commands through redis-py's API (RESP2 and RESP3), to Redis 7.0 semantics and
error texts. `TERN_PY_TARGET=redis` runs them against redis-server to check the expectations."""

import pytest
import redis

from conftest import raises_err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def pairs(v):
    """WITHSCORES replies as [(member, score)]: tuples in RESP2, [member, score] lists in RESP3
    (a pop without a count replies one flat [member, score] in RESP3)."""
    if v and not isinstance(v[0], (list, tuple)):
        v = [v[i : i + 2] for i in range(0, len(v), 2)]
    return [(m, float(s)) for m, s in v]


def test_zadd_and_reads(r, k):
    z = k()
    assert r.zadd(z, {"a": 1, "b": 2, "c": 3.5}) == 3
    assert r.zadd(z, {"a": 1}) == 0
    assert r.zcard(z) == 3
    assert r.zscore(z, "c") == 3.5
    assert r.zscore(z, "nope") is None
    assert r.zmscore(z, ["a", "nope", "b"]) == [1.0, None, 2.0]
    assert r.zrank(z, "b") == 1
    assert r.zrevrank(z, "b") == 1
    assert r.zrank(z, "nope") is None
    assert r.zcount(z, "(1", "+inf") == 2
    assert r.type(z) == "zset"
    assert r.object("encoding", z) == "listpack"


def test_zadd_flags(r, k):
    z = k()
    r.zadd(z, {"a": 5})
    assert r.zadd(z, {"a": 1, "b": 1}, nx=True) == 1
    assert r.zscore(z, "a") == 5
    assert r.zadd(z, {"a": 1, "c": 1}, xx=True, ch=True) == 1
    assert r.zscore(z, "a") == 1
    assert r.zadd(z, {"a": 0}, gt=True, ch=True) == 0
    assert r.zadd(z, {"a": 0}, lt=True, ch=True) == 1
    assert r.zadd(z, {"a": 2.5}, incr=True) == 2.5
    assert r.zincrby(z, 0.5, "a") == 3.0
    assert r.zadd(z, {"nope": 1}, xx=True, incr=True) is None
    with raises_err("ERR XX and NX options at the same time are not compatible"):
        r.execute_command("ZADD", z, "NX", "XX", 1, "a")
    with raises_err("ERR value is not a valid float"):
        r.zadd(z, {"a": "abc"})
    r.zadd(z, {"i": "inf"})
    with raises_err("ERR resulting score is not a number (NaN)"):
        r.zincrby(z, float("-inf"), "i")


def test_ranges(r, k):
    z = k()
    r.zadd(z, {m: i for i, m in enumerate("abcdef")})
    assert r.zrange(z, 0, 2) == ["a", "b", "c"]
    assert r.zrange(z, 0, 1, desc=True) == ["f", "e"]
    assert pairs(r.zrange(z, 0, 1, withscores=True)) == [("a", 0.0), ("b", 1.0)]
    assert r.zrange(z, "(1", 4, byscore=True) == ["c", "d", "e"]
    assert r.zrange(z, 4, "(1", byscore=True, desc=True, offset=1, num=2) == ["d", "c"]
    assert r.zrangebyscore(z, 2, "+inf", start=0, num=2) == ["c", "d"]
    assert r.zrevrangebyscore(z, 2, "-inf") == ["c", "b", "a"]
    assert r.zrevrange(z, 0, 0) == ["f"]
    with raises_err("ERR min or max is not a float"):
        r.zrangebyscore(z, "x", 1)
    lex = k("lex")
    r.zadd(lex, {m: 0 for m in "abcd"})
    assert r.zrangebylex(lex, "[b", "(d") == ["b", "c"]
    assert r.zrevrangebylex(lex, "+", "-", start=0, num=2) == ["d", "c"]
    assert r.zlexcount(lex, "-", "+") == 4
    with raises_err("ERR min or max not valid string range item"):
        r.zrangebylex(lex, "b", "d")
    dst = k("dst")
    assert r.zrangestore(dst, z, 0, 2) == 3
    assert r.zrange(dst, 0, -1) == ["a", "b", "c"]


def test_removals_delete_empty_keys(r, k):
    z = k()
    r.zadd(z, {m: i for i, m in enumerate("abcdef")})
    assert r.zrem(z, "a", "nope") == 1
    assert r.zremrangebyrank(z, 0, 0) == 1
    assert r.zremrangebyscore(z, "(2", 3) == 1
    assert r.zremrangebylex(z, "-", "+") == 3
    assert r.exists(z) == 0


def test_pops(r, k):
    z = k()
    r.zadd(z, {"a": 1, "b": 2, "c": 3, "d": 4})
    assert pairs(r.zpopmin(z)) == [("a", 1.0)]
    assert pairs(r.zpopmax(z, 2)) == [("d", 4.0), ("c", 3.0)]
    assert r.zpopmin(k("nokey")) == []
    popped = r.zmpop(2, [k("nokey"), z], min=True, count=5)
    assert popped[0] == z and pairs(popped[1]) == [("b", 2.0)]
    assert r.zmpop(1, [z], max=True) is None
    assert r.exists(z) == 0
    with raises_err("ERR value is out of range, must be positive"):
        r.zpopmin(z, -1)


def test_blocking_pop_serves_from_a_ready_key(r, k):
    z = k()
    r.zadd(z, {"a": 1})
    assert r.bzpopmin([k("empty"), z], timeout=1) in ((z, "a", 1.0), [z, "a", 1.0])
    assert r.bzpopmax([z], timeout=0.05) is None


def test_set_operations(r, k):
    a, b, dst = k("a"), k("b"), k("dst")
    r.zadd(a, {"x": 1, "y": 2, "z": 3})
    r.zadd(b, {"y": 10, "z": 20, "w": 30})
    assert pairs(r.zunion([a, b], withscores=True)) == [("x", 1), ("y", 12), ("z", 23), ("w", 30)]
    assert pairs(r.zinter({a: 2, b: 1}, aggregate="MAX", withscores=True)) == [("y", 10), ("z", 20)]
    assert r.zdiff([a, b]) == ["x"]
    assert r.zunionstore(dst, [a, b], aggregate="MIN") == 4
    assert pairs(r.zrange(dst, 0, -1, withscores=True)) == [("x", 1), ("y", 2), ("z", 3), ("w", 30)]
    assert r.zinterstore(dst, [a, b]) == 2
    assert r.zdiffstore(dst, [b, a]) == 1
    assert r.zintercard(2, [a, b]) == 2
    assert r.zintercard(2, [a, b], limit=1) == 1
    with raises_err("ERR weight value is not a float"):
        r.zunion({a: "x", b: 1})


def test_randmember_and_scan(r, k):
    z = k()
    members = {f"m{i}": i for i in range(300)}
    r.zadd(z, members)
    assert r.object("encoding", z) == "skiplist"
    assert r.zrandmember(z) in members
    assert len(set(r.zrandmember(z, 20))) == 20
    assert len(r.zrandmember(z, -500)) == 500
    got = dict(r.zscan_iter(z, count=37))
    assert got == {m: float(s) for m, s in members.items()}
    assert r.zrandmember(k("nokey")) is None


def test_wrong_type(r, k):
    s = k()
    r.set(s, "v")
    for call in (
        lambda: r.zadd(s, {"a": 1}),
        lambda: r.zrange(s, 0, 1),
        lambda: r.zcard(s),
        lambda: r.zpopmin(s),
        lambda: r.zunion([s]),
    ):
        with raises_err(WRONGTYPE):
            call()


def test_dump_restore_round_trip(r, k):
    z, z2 = k(), k("copy")
    r.zadd(z, {f"m{i}": i / 3 for i in range(200)})
    payload = r.dump(z)
    assert r.restore(z2, 0, payload)
    assert r.zrange(z2, 0, -1, withscores=True) == r.zrange(z, 0, -1, withscores=True)
