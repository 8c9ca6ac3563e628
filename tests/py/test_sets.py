"""Set commands through redis-py's API, to Redis 7.0 semantics, replies and error texts."""

import pytest
import redis

from conftest import raises_err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def test_sadd_srem_scard_sismember(r, k):
    assert r.sadd(k(), "a", "b", "b", "c") == 3
    assert r.sadd(k(), "c", "d") == 1
    assert r.scard(k()) == 4
    assert r.sismember(k(), "a") in (1, True)
    assert r.sismember(k(), "z") in (0, False)
    assert [bool(x) for x in r.smismember(k(), ["a", "z", "d"])] == [True, False, True]
    assert r.smembers(k()) == {"a", "b", "c", "d"}
    assert r.srem(k(), "a", "z") == 1
    assert r.srem(k(), "b", "c", "d") == 3
    assert r.exists(k()) == 0
    assert r.scard(k()) == 0
    assert r.smembers(k()) == set()


def test_encodings(r, k):
    r.sadd(k("i"), 1, 2, 3)
    assert r.object("encoding", k("i")) == "intset"
    r.sadd(k("i"), "x")
    assert r.object("encoding", k("i")) == "hashtable"
    r.srem(k("i"), "x")
    assert r.object("encoding", k("i")) == "hashtable"
    r.sadd(k("big"), *range(513))
    assert r.object("encoding", k("big")) == "hashtable"
    r.sadd(k("fits"), *range(512))
    assert r.object("encoding", k("fits")) == "intset"


def test_srandmember_and_spop(r, k):
    members = {f"m{i}" for i in range(20)}
    r.sadd(k(), *members)
    assert r.srandmember(k()) in members
    got = r.srandmember(k(), 5)
    assert len(got) == 5 and len(set(got)) == 5 and set(got) <= members
    assert len(r.srandmember(k(), -30)) == 30
    assert sorted(r.srandmember(k(), 100)) == sorted(members)
    assert r.srandmember(k("none")) is None
    assert r.srandmember(k("none"), 3) == []
    p = r.spop(k())
    assert p in members and not r.sismember(k(), p)
    popped = r.spop(k(), 4)
    assert len(popped) == 4
    assert r.scard(k()) == 15
    rest = r.spop(k(), 100)
    assert len(rest) == 15
    assert r.exists(k()) == 0
    assert r.spop(k()) is None
    with raises_err("ERR value is out of range, must be positive"):
        r.spop(k(), -1)


def test_smove(r, k):
    r.sadd(k("a"), "1", "x")
    assert r.smove(k("a"), k("b"), "1") in (1, True)
    assert r.smove(k("a"), k("b"), "1") in (0, False)
    assert r.smove(k("a"), k("b"), "x") in (1, True)
    assert r.exists(k("a")) == 0
    assert r.smembers(k("b")) == {"1", "x"}


def test_algebra(r, k):
    a, b, c = k("a"), k("b"), k("c")
    r.sadd(a, 1, 2, 3, "x")
    r.sadd(b, 2, 3, 4)
    r.sadd(c, 3, "x")
    assert r.sinter(a, b) == {"2", "3"}
    assert r.sinter(a, k("none")) == set()
    assert r.sintercard(2, [a, b]) == 2
    assert r.sintercard(2, [a, b], limit=1) == 1
    assert r.sunion(a, b, c) == {"1", "2", "3", "4", "x"}
    assert r.sdiff(a, b, c) == {"1"}
    assert r.sinterstore(k("d"), [a, b]) == 2
    assert r.smembers(k("d")) == {"2", "3"}
    assert r.sunionstore(k("d"), [b, c]) == 4
    assert r.sdiffstore(k("d"), [a, a]) == 0
    assert r.exists(k("d")) == 0
    with raises_err("ERR numkeys should be greater than 0"):
        r.execute_command("SINTERCARD", 0, a)


def test_sscan(r, k):
    members = {f"member:{i}" for i in range(300)}
    r.sadd(k(), *members)
    assert set(r.sscan_iter(k(), count=20)) == members
    assert set(r.sscan_iter(k(), match="member:1?")) == {f"member:1{i}" for i in range(10)}
    r.sadd(k("i"), 1, 2, 3)
    assert r.sscan(k("i"), 0, count=1) == (0, ["1", "2", "3"])


def test_wrongtype(r, k):
    r.set(k(), "v")
    for f in (
        lambda: r.sadd(k(), "a"),
        lambda: r.smembers(k()),
        lambda: r.scard(k()),
        lambda: r.spop(k()),
        lambda: r.sunion(k(), k("x")),
    ):
        with raises_err(WRONGTYPE):
            f()


def test_resp3_set_replies(tern, k):
    c = tern(protocol=3, decode_responses=True)
    c.sadd(k(), "a", "b")
    assert c.smembers(k()) == {"a", "b"}
    assert c.sunion(k(), k("none")) == {"a", "b"}
    assert c.spop(k("none"), 2) in ([], set())


def test_dump_restore_and_digest_match_redis(tern, redis_server, k):
    t = tern(decode_responses=False)
    rs = redis_server(decode_responses=False)
    for c in (t, rs):
        c.sadd(k("i"), 1, -70000, 5000000000)
        c.sadd(k("h"), "a", "b", 7)
    # An intset's payload is byte-identical.
    assert t.dump(k("i")) == rs.dump(k("i"))
    # A hashtable's payload restores into the other server.
    rs.restore(k("h2"), 0, t.dump(k("h")))
    assert rs.smembers(k("h2")) == {b"a", b"b", b"7"}
    t.restore(k("h2"), 0, rs.dump(k("h")))
    assert t.smembers(k("h2")) == {b"a", b"b", b"7"}
