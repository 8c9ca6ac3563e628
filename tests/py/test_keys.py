"""Keyspace commands through redis-py, to Redis 7.0 semantics.

Keys are named per test (the ``k`` fixture), so tests do not depend on FLUSHALL; the tests that
need an empty database (DBSIZE, RANDOMKEY, FLUSHDB, SWAPDB) use a scratch database of their own.
"""

import time

import pytest
import redis

from conftest import raises_err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


@pytest.fixture
def scratch(tern, request):
    """make(db=9) -> a client on that scratch database, emptied first."""

    def make(db=9, **kw):
        kw.setdefault("decode_responses", True)
        c = tern(db=db, **kw)
        c.flushdb()
        return c

    return make


# ---------------------------------------------------------------------------------------------
# DEL UNLINK EXISTS TYPE TOUCH


def test_delete_exists(r, k):
    r.mset({k("a"): 1, k("b"): 2})
    assert r.exists(k("a")) == 1
    assert r.exists(k("a"), k("a"), k("b"), k("missing")) == 3  # duplicates count
    assert r.delete(k("a"), k("b"), k("missing")) == 2
    assert r.exists(k("a"), k("b")) == 0
    assert r.delete(k("a")) == 0
    r.set(k("u"), 1)
    assert r.unlink(k("u"), k("missing")) == 1
    assert r.exists(k("u")) == 0


def test_type(r, k):
    r.set(k("s"), "v")
    assert r.type(k("s")) == "string"
    assert r.type(k("missing")) == "none"


def test_touch(r, k):
    r.mset({k("a"): 1, k("b"): 2})
    assert r.touch(k("a"), k("b"), k("missing")) == 2


# ---------------------------------------------------------------------------------------------
# KEYS SCAN RANDOMKEY


def test_keys_patterns(r, k):
    names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "hillo", "h*llo", "other"]
    r.mset({k(n): 1 for n in names})
    p = k("")

    def keys(pat):
        return sorted(x[len(p):] for x in r.keys(p + pat))

    assert keys("*") == sorted(names)
    assert keys("h?llo") == ["h*llo", "hallo", "hello", "hillo", "hxllo"]
    assert keys("h*llo") == sorted(n for n in names if n.startswith("h"))
    assert keys("h[ae]llo") == ["hallo", "hello"]
    assert keys("h[^e]llo") == ["h*llo", "hallo", "hillo", "hxllo"]
    assert keys("h[a-f]llo") == ["hallo", "hello"]
    assert keys("h\\*llo") == ["h*llo"]
    assert keys("nomatch*") == []


def test_scan_iter(r, k):
    names = [f"n{i}" for i in range(300)]
    r.mset({k(n): i for i, n in enumerate(names)})
    p = k("")
    found = list(r.scan_iter(match=p + "*", count=10))
    assert len(found) == len(set(found))  # no duplicates without rehashing
    assert sorted(found) == sorted(p + n for n in names)
    assert sorted(r.scan_iter(match=p + "n1?")) == sorted(p + f"n1{i}" for i in range(10))
    assert sorted(r.scan_iter(match=p + "*", _type="string", count=1000)) == sorted(p + n for n in names)
    assert list(r.scan_iter(match=p + "*", _type="list")) == []
    assert list(r.scan_iter(match=p + "*", _type="nosuchtype")) == []


def test_scan_cursor(scratch):
    c = scratch()
    c.mset({f"s{i}": i for i in range(50)})
    seen = set()
    cursor = 0
    for _ in range(1000):
        cursor, keys = c.scan(cursor, count=7)
        seen.update(keys)
        if cursor == 0:
            break
    assert cursor == 0
    assert seen == {f"s{i}" for i in range(50)}
    cursor, keys = c.scan(0, count=1000)
    assert cursor == 0 and len(keys) == 50


def test_scan_errors(r):
    with raises_err("ERR invalid cursor"):
        r.execute_command("SCAN", "abc")
    with raises_err("ERR syntax error"):
        r.execute_command("SCAN", 0, "COUNT", 0)
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("SCAN", 0, "COUNT", "x")
    with raises_err("ERR syntax error"):
        r.execute_command("SCAN", 0, "BOGUS", 1)


def test_randomkey(scratch):
    c = scratch()
    assert c.randomkey() is None
    c.set("only", 1)
    assert c.randomkey() == "only"
    c.mset({"a": 1, "b": 2})
    assert {c.randomkey() for _ in range(50)} <= {"only", "a", "b"}


# ---------------------------------------------------------------------------------------------
# RENAME RENAMENX COPY MOVE


def test_rename(r, k):
    r.set(k("a"), "v", ex=100)
    assert r.rename(k("a"), k("b")) is True
    assert r.get(k("a")) is None
    assert r.get(k("b")) == "v"
    assert 99 <= r.ttl(k("b")) <= 100  # the TTL moves with the key
    r.set(k("c"), "old", ex=100)
    r.set(k("d"), "new")
    r.rename(k("d"), k("c"))  # overwrites, and the target's TTL goes
    assert r.get(k("c")) == "new"
    assert r.ttl(k("c")) == -1
    assert r.rename(k("c"), k("c")) is True  # same key: OK
    with raises_err("ERR no such key"):
        r.rename(k("missing"), k("x"))
    with raises_err("ERR no such key"):
        r.rename(k("missing"), k("missing"))


def test_renamenx(r, k):
    r.mset({k("a"): 1, k("b"): 2})
    assert r.renamenx(k("a"), k("b")) is False
    assert r.get(k("a")) == "1"
    assert r.renamenx(k("a"), k("c")) is True
    assert r.get(k("c")) == "1"
    assert r.exists(k("a")) == 0
    assert r.renamenx(k("c"), k("c")) is False
    with raises_err("ERR no such key"):
        r.renamenx(k("missing"), k("x"))


def test_copy(r, tern, k):
    r.set(k("src"), "v", ex=100)
    assert r.copy(k("src"), k("dst")) is True
    assert r.get(k("dst")) == "v"
    assert 99 <= r.ttl(k("dst")) <= 100  # the TTL is copied
    r.set(k("src"), "v2")
    assert r.copy(k("src"), k("dst")) is False
    assert r.get(k("dst")) == "v"
    assert r.copy(k("src"), k("dst"), replace=True) is True
    assert r.get(k("dst")) == "v2"
    assert r.ttl(k("dst")) == -1
    assert r.copy(k("missing"), k("dst2")) is False
    # Into another database.
    assert r.copy(k("src"), k("other"), destination_db=3) is True
    assert tern(db=3, decode_responses=True).get(k("other")) == "v2"
    assert r.exists(k("other")) == 0
    with raises_err("ERR source and destination objects are the same"):
        r.copy(k("src"), k("src"))
    with raises_err("ERR DB index is out of range"):
        r.copy(k("src"), k("x"), destination_db=16)
    with raises_err("ERR syntax error"):
        r.execute_command("COPY", k("src"), k("x"), "BOGUS")


def test_copy_is_independent(r, k):
    r.set(k("src"), "abc")
    r.copy(k("src"), k("dst"))
    r.append(k("dst"), "def")
    assert r.get(k("src")) == "abc"
    assert r.get(k("dst")) == "abcdef"


def test_move(r, tern, k):
    db2 = tern(db=2, decode_responses=True)
    r.set(k("a"), "v", ex=100)
    assert r.move(k("a"), 2) is True
    assert r.exists(k("a")) == 0
    assert db2.get(k("a")) == "v"
    assert 99 <= db2.ttl(k("a")) <= 100
    r.set(k("b"), "here")
    db2.set(k("b"), "there")
    assert r.move(k("b"), 2) is False  # exists in the target
    assert r.get(k("b")) == "here"
    assert r.move(k("missing"), 2) is False
    with raises_err("ERR source and destination objects are the same"):
        r.move(k("b"), 0)
    with raises_err("ERR DB index is out of range"):
        r.move(k("b"), 16)
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("MOVE", k("b"), "x")


# ---------------------------------------------------------------------------------------------
# EXPIRE family, TTL PTTL EXPIRETIME PERSIST


def test_expire_basic(r, k):
    r.set(k(), "v")
    assert r.expire(k(), 100) is True
    assert 99 <= r.ttl(k()) <= 100
    assert 99000 < r.pttl(k()) <= 100000
    assert r.pexpire(k(), 200000) is True
    assert 199 <= r.ttl(k()) <= 200
    assert r.expire(k("missing"), 100) is False
    assert r.pexpire(k("missing"), 100) is False
    assert r.ttl(k("missing")) == -2
    assert r.pttl(k("missing")) == -2
    r.set(k("p"), "v")
    assert r.ttl(k("p")) == -1
    assert r.pttl(k("p")) == -1


def test_expire_really_expires(r, k):
    r.set(k(), "v")
    r.pexpire(k(), 50)
    time.sleep(0.15)
    assert r.exists(k()) == 0
    assert r.ttl(k()) == -2


def test_expire_non_positive_deletes(r, k):
    r.mset({k("a"): 1, k("b"): 2, k("c"): 3, k("d"): 4})
    assert r.expire(k("a"), 0) is True
    assert r.pexpire(k("b"), -10) is True
    assert r.expireat(k("c"), int(time.time()) - 10) is True
    assert r.pexpireat(k("d"), 1) is True
    assert r.exists(k("a"), k("b"), k("c"), k("d")) == 0


def test_expireat_pexpireat(r, k):
    r.set(k(), "v")
    at = int(time.time()) + 100
    assert r.expireat(k(), at) is True
    assert r.expiretime(k()) == at
    assert r.execute_command("PEXPIRETIME", k()) == at * 1000
    assert r.pexpireat(k(), at * 1000 + 499) is True
    assert r.execute_command("PEXPIRETIME", k()) == at * 1000 + 499
    assert r.expiretime(k()) == at  # rounded to the nearest second
    assert r.pexpireat(k(), at * 1000 + 500) is True
    assert r.expiretime(k()) == at + 1
    assert r.expireat(k("missing"), at) is False
    assert r.expiretime(k("missing")) == -2
    r.set(k("p"), "v")
    assert r.expiretime(k("p")) == -1
    assert r.execute_command("PEXPIRETIME", k("p")) == -1


def test_expire_nx_xx(r, k):
    r.set(k(), "v")
    assert r.expire(k(), 100, xx=True) is False  # no TTL yet
    assert r.ttl(k()) == -1
    assert r.expire(k(), 100, nx=True) is True
    assert r.expire(k(), 200, nx=True) is False
    assert 99 <= r.ttl(k()) <= 100
    assert r.expire(k(), 200, xx=True) is True
    assert 199 <= r.ttl(k()) <= 200
    assert r.pexpire(k(), 300000, nx=True) is False
    assert r.pexpire(k(), 300000, xx=True) is True
    assert 299 <= r.ttl(k()) <= 300


def test_expire_gt_lt(r, k):
    r.set(k(), "v")
    # No TTL counts as an infinite one: GT never applies, LT always does.
    assert r.expire(k(), 100, gt=True) is False
    assert r.ttl(k()) == -1
    assert r.expire(k(), 100, lt=True) is True
    assert r.expire(k(), 50, gt=True) is False
    assert r.expire(k(), 200, gt=True) is True
    assert 199 <= r.ttl(k()) <= 200
    assert r.expire(k(), 300, lt=True) is False
    assert r.expire(k(), 150, lt=True) is True
    assert 149 <= r.ttl(k()) <= 150
    at = int(time.time())
    assert r.expireat(k(), at + 1000, gt=True) is True
    assert r.expireat(k(), at + 500, gt=True) is False
    assert r.pexpireat(k(), (at + 400) * 1000, lt=True) is True
    assert r.expiretime(k()) == at + 400
    assert r.execute_command("EXPIRE", k(), 900, "XX", "GT") == 1  # XX and GT combine


def test_expire_option_errors(r, k):
    r.set(k(), "v")
    with raises_err("ERR NX and XX, GT or LT options at the same time are not compatible"):
        r.execute_command("EXPIRE", k(), 10, "NX", "XX")
    with raises_err("ERR NX and XX, GT or LT options at the same time are not compatible"):
        r.execute_command("EXPIRE", k(), 10, "NX", "GT")
    with raises_err("ERR GT and LT options at the same time are not compatible"):
        r.execute_command("PEXPIRE", k(), 10, "GT", "LT")
    with raises_err("ERR Unsupported option BOGUS"):
        r.execute_command("EXPIRE", k(), 10, "BOGUS")
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("EXPIRE", k(), "ten")
    with raises_err("ERR invalid expire time in 'expire' command"):
        r.execute_command("EXPIRE", k(), 2**62)
    with raises_err("ERR invalid expire time in 'expireat' command"):
        r.execute_command("EXPIREAT", k(), 2**63 - 1)
    with raises_err("ERR invalid expire time in 'pexpire' command"):
        r.execute_command("PEXPIRE", k(), 2**63 - 1)
    assert r.ttl(k()) == -1


def test_persist(r, k):
    r.set(k(), "v", ex=100)
    assert r.persist(k()) is True
    assert r.ttl(k()) == -1
    assert r.persist(k()) is False
    assert r.persist(k("missing")) is False


def test_overwrite_clears_ttl_but_not_alter(r, k):
    r.set(k(), "1", ex=100)
    r.incr(k())
    assert r.ttl(k()) > 0
    r.set(k(), "x")
    assert r.ttl(k()) == -1


# ---------------------------------------------------------------------------------------------
# OBJECT


def test_object_encoding(r, k):
    r.set(k("i"), "12345")
    assert r.object("encoding", k("i")) == "int"
    r.set(k("e"), "short string")
    assert r.object("encoding", k("e")) == "embstr"
    r.set(k("r"), "x" * 45)
    assert r.object("encoding", k("r")) == "raw"
    r.set(k("b"), "x" * 44)
    assert r.object("encoding", k("b")) == "embstr"
    r.set(k("big"), "123456789012345678901")  # not a long long
    assert r.object("encoding", k("big")) == "embstr"
    r.append(k("e"), "!")
    assert r.object("encoding", k("e")) == "raw"
    r.set(k("n"), "5")
    r.incr(k("n"))
    assert r.object("encoding", k("n")) == "int"
    assert r.object("encoding", k("missing")) is None


def test_object_other(r, k):
    r.set(k(), "v")
    assert r.object("refcount", k()) == 1
    assert r.object("idletime", k()) <= 1
    with raises_err("ERR unknown subcommand 'NOSUCH'. Try OBJECT HELP."):
        r.execute_command("OBJECT", "NOSUCH", k())
    # OBJECT FREQ needs an LFU maxmemory-policy.
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is not selected"):
        r.object("freq", k())


# ---------------------------------------------------------------------------------------------
# DUMP RESTORE


def test_dump_restore(tern, k):
    raw = tern(decode_responses=False)
    for v in (b"hello", b"12345", b"-7", b"x" * 200, b"", b"\x00\xff" * 50):
        raw.set(k("src"), v)
        payload = raw.dump(k("src"))
        assert isinstance(payload, bytes) and len(payload) > 10
        raw.delete(k("dst"))
        assert raw.restore(k("dst"), 0, payload) == b"OK"
        assert raw.get(k("dst")) == v
        assert raw.ttl(k("dst")) == -1
    assert raw.dump(k("missing")) is None


def test_restore_options(tern, k):
    raw = tern(decode_responses=False)
    raw.set(k("src"), b"value")
    payload = raw.dump(k("src"))
    assert raw.restore(k("t"), 100000, payload) == b"OK"
    assert 99000 < raw.pttl(k("t")) <= 100000
    with raises_err("BUSYKEY Target key name already exists."):
        raw.restore(k("t"), 0, payload)
    assert raw.restore(k("t"), 0, payload, replace=True) == b"OK"
    assert raw.ttl(k("t")) == -1
    at_ms = int(time.time() * 1000) + 200000
    assert raw.restore(k("abs"), at_ms, payload, absttl=True) == b"OK"
    assert 199000 < raw.pttl(k("abs")) <= 200000
    assert raw.restore(k("idle"), 0, payload, idletime=1000) == b"OK"
    assert raw.object("idletime", k("idle")) >= 1000
    with raises_err("ERR Invalid TTL value, must be >= 0"):
        raw.restore(k("neg"), -1, payload)
    with raises_err("ERR DUMP payload version or checksum are wrong"):
        raw.restore(k("bad"), 0, payload[:-1] + bytes([payload[-1] ^ 1]))
    with raises_err("ERR DUMP payload version or checksum are wrong"):
        raw.restore(k("bad"), 0, b"garbage")
    assert raw.exists(k("neg"), k("bad")) == 0


def test_dump_known_payload(tern, k):
    # The exact bytes Redis 7.0.15 produces: type 0 (string), the value in RDB string encoding
    # (raw, integer-encoded, or LZF-compressed above 20 bytes), RDB version 10, CRC64 (Jones).
    raw = tern(decode_responses=False)
    cases = [
        (b"hello", b"\x00\x05hello\n\x00cr\xdfve4 \n"),
        (b"1", b"\x00\xc0\x01\n\x00&x\xe7\xb6\xd1\x01\x11\xfc"),
        (b"12345", b"\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\x08\xb9"),
        (b"x" * 50, b"\x00\xc3\t2\x01xx\xe0%\x00\x01xx\n\x00\xbc\xb8\x0b\xdd\xa0pk\xe7"),
    ]
    for value, payload in cases:
        raw.set(k(), value)
        assert raw.dump(k()) == payload, value
        assert raw.restore(k("r"), 0, payload, replace=True) == b"OK"
        assert raw.get(k("r")) == value


# ---------------------------------------------------------------------------------------------
# DBSIZE FLUSHDB FLUSHALL SWAPDB


def test_dbsize_flushdb(scratch):
    c = scratch()
    assert c.dbsize() == 0
    c.mset({"a": 1, "b": 2, "c": 3})
    c.set("t", 1, ex=100)
    assert c.dbsize() == 4
    assert c.flushdb() is True
    assert c.dbsize() == 0
    c.set("a", 1)
    assert c.flushdb(asynchronous=True) is True
    assert c.dbsize() == 0
    assert c.execute_command("FLUSHDB", "SYNC") is True
    with raises_err("ERR syntax error"):
        c.execute_command("FLUSHDB", "BOGUS")


def test_flushdb_only_touches_its_db(scratch):
    a = scratch(db=10)
    b = scratch(db=11)
    a.set("x", 1)
    b.set("x", 2)
    a.flushdb()
    assert a.dbsize() == 0
    assert b.get("x") == "2"


def test_flushall(tern, scratch):
    a = scratch(db=12)
    b = scratch(db=13)
    a.set("x", 1)
    b.set("y", 2, ex=100)
    assert a.flushall() is True
    assert a.dbsize() == 0 and b.dbsize() == 0
    b.set("y", 2)
    assert a.flushall(asynchronous=True) is True
    assert b.dbsize() == 0
    with raises_err("ERR syntax error"):
        a.execute_command("FLUSHALL", "BOGUS")


def test_swapdb(scratch):
    a = scratch(db=14)
    b = scratch(db=15)
    a.set("k", "from14", ex=100)
    b.mset({"m": "from15", "n": "x"})
    assert a.swapdb(14, 15) is True
    assert a.get("k") is None and a.get("m") == "from15"  # a is still on db 14
    assert b.get("k") == "from14" and 99 <= b.ttl("k") <= 100
    assert a.dbsize() == 2 and b.dbsize() == 1
    assert a.swapdb(14, 14) is True
    assert a.dbsize() == 2
    with raises_err("ERR DB index is out of range"):
        a.swapdb(14, 16)
    with raises_err("ERR invalid first DB index"):
        a.execute_command("SWAPDB", "x", 1)
    with raises_err("ERR invalid second DB index"):
        a.execute_command("SWAPDB", 1, "y")


def test_keyspace_errors(r, k):
    with raises_err("ERR wrong number of arguments for 'del' command"):
        r.execute_command("DEL")
    with raises_err("ERR wrong number of arguments for 'exists' command"):
        r.execute_command("EXISTS")
    with raises_err("ERR wrong number of arguments for 'rename' command"):
        r.execute_command("RENAME", k())
    with raises_err("ERR wrong number of arguments for 'expire' command"):
        r.execute_command("EXPIRE", k())
    with raises_err("ERR wrong number of arguments for 'keys' command"):
        r.execute_command("KEYS")
