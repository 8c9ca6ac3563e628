"""List commands through redis-py's API, to Redis 7.0 semantics and error texts (RESP2 and
RESP3 via the ``r`` fixture), plus DUMP payloads compared with redis-server's."""

import pytest
import redis

from conftest import raises_err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"


def test_push_pop_len_range(r, k):
    l = k()
    assert r.rpush(l, "a", "b", "c") == 3
    assert r.lpush(l, "z") == 4
    assert r.lpushx(l, "y") == 5
    assert r.rpushx(l, "d") == 6
    assert r.lpushx(k("none"), "x") == 0
    assert r.exists(k("none")) == 0
    assert r.llen(l) == 6
    assert r.lrange(l, 0, -1) == ["y", "z", "a", "b", "c", "d"]
    assert r.lrange(l, -2, 100) == ["c", "d"]
    assert r.lrange(l, 4, 2) == []
    assert r.lpop(l) == "y"
    assert r.rpop(l) == "d"
    assert r.lpop(l, 2) == ["z", "a"]
    assert r.rpop(l, 5) == ["c", "b"]
    assert r.exists(l) == 0
    assert r.lpop(l) is None
    assert r.lpop(l, 3) is None
    assert r.llen(l) == 0
    assert r.type(l) == "none"
    r.rpush(l, "1")
    assert r.lpop(l, 0) == []
    assert r.object("encoding", l) == "quicklist"


def test_lindex_lset_linsert_lrem_ltrim(r, k):
    l = k()
    r.rpush(l, "a", "b", "c", "b", "a")
    assert r.lindex(l, 0) == "a"
    assert r.lindex(l, -2) == "b"
    assert r.lindex(l, 10) is None
    assert r.lset(l, 1, "B") is True
    with raises_err("ERR index out of range"):
        r.lset(l, 10, "x")
    with raises_err("ERR no such key"):
        r.lset(k("none"), 0, "x")
    assert r.linsert(l, "BEFORE", "c", "x") == 6
    assert r.linsert(l, "AFTER", "c", "y") == 7
    assert r.linsert(l, "AFTER", "nope", "y") == -1
    assert r.linsert(k("none"), "AFTER", "a", "y") == 0
    assert r.lrange(l, 0, -1) == ["a", "B", "x", "c", "y", "b", "a"]
    assert r.lrem(l, -1, "a") == 1
    assert r.lrem(l, 0, "b") == 1
    assert r.lrem(l, 0, "zz") == 0
    assert r.ltrim(l, 1, -2) is True
    assert r.lrange(l, 0, -1) == ["B", "x", "c"]
    assert r.ltrim(l, 5, 10) is True
    assert r.exists(l) == 0


def test_lpos(r, k):
    l = k()
    r.rpush(l, "a", "b", "c", "1", "2", "3", "c", "c")
    assert r.lpos(l, "c") == 2
    assert r.lpos(l, "c", rank=2) == 6
    assert r.lpos(l, "c", rank=-1) == 7
    assert r.lpos(l, "c", count=0) == [2, 6, 7]
    assert r.lpos(l, "c", rank=-1, count=2) == [7, 6]
    assert r.lpos(l, "c", count=0, maxlen=7) == [2, 6]
    assert r.lpos(l, "zz") is None
    assert r.lpos(k("none"), "a", count=1) == []
    with raises_err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"):
        r.lpos(l, "c", rank=0)
    with raises_err("ERR COUNT can't be negative"):
        r.lpos(l, "c", count=-1)
    with raises_err("ERR MAXLEN can't be negative"):
        r.lpos(l, "c", maxlen=-1)


def test_lmove_rpoplpush_lmpop(r, k):
    src, dst = k("src"), k("dst")
    r.rpush(src, "a", "b", "c")
    assert r.lmove(src, dst, "LEFT", "RIGHT") == "a"
    assert r.rpoplpush(src, dst) == "c"
    assert r.lrange(dst, 0, -1) == ["c", "a"]
    assert r.lmove(dst, dst, "LEFT", "RIGHT") == "c"
    assert r.lrange(dst, 0, -1) == ["a", "c"]
    assert r.lmove(k("none"), dst) is None
    assert r.lmpop(2, k("none"), src, direction="LEFT", count=5) == [src, ["b"]]
    assert r.exists(src) == 0
    assert r.lmpop(1, k("none"), direction="RIGHT") is None
    with raises_err("ERR numkeys should be greater than 0"):
        r.execute_command("LMPOP", 0, dst, "LEFT")
    with raises_err("ERR count should be greater than 0"):
        r.lmpop(1, dst, direction="LEFT", count=0)
    with raises_err("ERR syntax error"):
        r.execute_command("LMOVE", src, dst, "UP", "LEFT")


def test_errors(r, k):
    s, l = k("s"), k("l")
    r.set(s, "v")
    r.rpush(l, "a")
    for call in (
        lambda: r.lpush(s, "a"),
        lambda: r.rpushx(s, "a"),
        lambda: r.lpop(s),
        lambda: r.rpop(s, 2),
        lambda: r.llen(s),
        lambda: r.lrange(s, 0, -1),
        lambda: r.lindex(s, 0),
        lambda: r.lset(s, 0, "x"),
        lambda: r.linsert(s, "BEFORE", "a", "b"),
        lambda: r.lrem(s, 0, "a"),
        lambda: r.ltrim(s, 0, 1),
        lambda: r.lpos(s, "a"),
        lambda: r.lmove(l, s),
        lambda: r.rpoplpush(s, l),
        lambda: r.lmpop(1, s, direction="LEFT"),
    ):
        with raises_err(WRONGTYPE):
            call()
    assert r.lrange(l, 0, -1) == ["a"]
    with raises_err("ERR value is out of range, must be positive"):
        r.lpop(l, -1)
    with raises_err(NOT_INT):
        r.execute_command("LRANGE", l, "x", 1)
    with raises_err(NOT_INT):
        r.execute_command("LINDEX", l, "1.5")
    with raises_err("ERR syntax error"):
        r.execute_command("LINSERT", l, "MIDDLE", "a", "b")
    with raises_err("ERR wrong number of arguments for 'lpop' command"):
        r.execute_command("LPOP", l, 1, 2)
    with raises_err("ERR wrong number of arguments for 'lpush' command"):
        r.execute_command("LPUSH", l)


def test_binary_elements(tern, k):
    raw = tern(decode_responses=False)
    l = k()
    v = b"a\x00b\r\nc\xff" * 50
    assert raw.rpush(l, v, b"", b"-12") == 3
    assert raw.lrange(l, 0, -1) == [v, b"", b"-12"]
    assert raw.lpos(l, b"-12") == 2


def test_resp3_null_replies(tern, k):
    c = tern(protocol=3)
    l = k()
    assert c.lpop(l) is None
    assert c.execute_command("RPOP", l, 2) is None
    assert c.execute_command("LMPOP", 1, l, "LEFT") is None
    c.rpush(l, "a")
    assert c.execute_command("LPOP", l, 0) == []


def test_dump_matches_redis(tern, redis_server, k):
    """Same commands on both servers: identical DUMP payloads (several 8 KiB nodes, a split
    by LINSERT), and each server restores the other's."""
    t = tern(decode_responses=False)
    rs = redis_server(decode_responses=False)
    l = k()
    for c in (t, rs):
        c.delete(l)
        c.rpush(l, *[f"item:{i:05}" for i in range(2000)])
        c.linsert(l, "AFTER", "item:00900", "x" * 300)
        c.lrem(l, 0, "item:00010")
    pt, pr = t.dump(l), rs.dump(l)
    assert pt == pr
    t.restore(k("copy"), 0, pr)
    rs.restore(k("copy"), 0, pt)
    assert t.lrange(k("copy"), 0, -1) == rs.lrange(l, 0, -1)
    assert rs.lrange(k("copy"), 0, -1) == t.lrange(l, 0, -1)


def test_pipeline_capped_log(r, k):
    log = k()
    p = r.pipeline(transaction=False)
    for i in range(1200):
        p.lpush(log, f"e{i}")
        p.ltrim(log, 0, 99)
    p.execute()
    assert r.llen(log) == 100
    assert r.lindex(log, 0) == "e1199"
    assert r.lindex(log, -1) == "e1100"
