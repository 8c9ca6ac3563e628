"""Bitmap commands through redis-py's API (setbit, getbit, bitcount, bitpos, bitop, bitfield,
bitfield_ro), to Redis 7.0 semantics and error texts."""

import pytest
import redis

from conftest import raises_err

OFFSET_ERR = "ERR bit offset is not an integer or out of range"
TYPE_ERR = ("ERR Invalid bitfield type. Use something like i16 u8. "
            "Note that u64 is not supported but i64 is.")


def test_setbit_getbit(r, k):
    assert r.setbit(k(), 7, 1) == 0
    assert r.setbit(k(), 7, 1) == 1
    assert r.getbit(k(), 7) == 1
    assert r.getbit(k(), 6) == 0
    assert r.getbit(k(), 10_000) == 0
    assert r.getbit(k("missing"), 0) == 0
    assert r.setbit(k(), 100, 1) == 0
    assert r.strlen(k()) == 13
    assert r.object("encoding", k()) == "raw"
    with raises_err(OFFSET_ERR):
        r.setbit(k(), -1, 1)
    # redis-py coerces the value to 0/1 itself, so send the bad value raw.
    with raises_err("ERR bit is not an integer or out of range"):
        r.execute_command("SETBIT", k(), 1, 2)


def test_bitcount_ranges(r, k):
    r.set(k(), "foobar")
    assert r.bitcount(k()) == 26
    assert r.bitcount(k(), 0, 0) == 4
    assert r.bitcount(k(), 1, 1) == 6
    assert r.bitcount(k(), 5, 30, "BIT") == 17
    assert r.bitcount(k(), -2, -1, "BYTE") == 7
    assert r.bitcount(k("missing")) == 0
    with raises_err("ERR syntax error"):
        r.execute_command("BITCOUNT", k(), 0, 1, "NIBBLE")


def test_bitpos(r, k):
    raw_key = k()
    r.set(raw_key, "\x00\x0f")
    assert r.bitpos(raw_key, 1) == 12
    assert r.bitpos(raw_key, 0) == 0
    assert r.bitpos(raw_key, 1, 0, 0) == -1
    assert r.bitpos(raw_key, 1, 10, 15, "BIT") == 12
    assert r.bitpos(k("missing"), 0) == 0
    assert r.bitpos(k("missing"), 1) == -1
    # redis-py checks the bit itself, so send it raw.
    with raises_err("ERR The bit argument must be 1 or 0."):
        r.execute_command("BITPOS", raw_key, 3)


def test_bitop(r, k):
    r.set(k("a"), "abc")
    r.set(k("b"), "ab")
    assert r.bitop("AND", k("d"), k("a"), k("b")) == 3
    assert r.get(k("d")) == "ab\x00"
    assert r.bitop("OR", k("d"), k("a"), k("b")) == 3
    assert r.get(k("d")) == "abc"
    assert r.bitop("XOR", k("d"), k("a"), k("b")) == 3
    assert r.bitop("OR", k("d"), k("none")) == 0
    assert r.exists(k("d")) == 0
    with raises_err("ERR BITOP NOT must be called with a single source key."):
        r.bitop("NOT", k("d"), k("a"), k("b"))
    with raises_err("ERR syntax error"):
        r.bitop("NAND", k("d"), k("a"))


def test_bitfield_builder(r, k):
    bf = r.bitfield(k())
    res = bf.set("u8", 0, 255).get("u8", 0).incrby("u8", 0, 10).execute()
    assert res == [0, 255, 9]
    res = r.bitfield(k(), default_overflow="SAT").incrby("u8", 0, 1000).execute()
    assert res == [255]
    res = r.bitfield(k(), default_overflow="FAIL").incrby("u8", 0, 1).execute()
    assert res == [None]
    res = r.bitfield(k()).overflow("WRAP").incrby("i8", "#0", 1).get("i8", 0).execute()
    assert res == [0, 0]  # 255 is -1 as an i8
    assert r.bitfield(k()).set("u8", 0, 0x81).execute() == [0]
    assert r.bitfield_ro(k(), "u8", 0, items=[("u4", 4), ("i4", 0)]) == [129, 1, -8]
    with raises_err(TYPE_ERR):
        r.bitfield(k()).get("u64", 0).execute()
    with raises_err("ERR BITFIELD_RO only supports the GET subcommand"):
        r.execute_command("BITFIELD_RO", k(), "SET", "u8", 0, 1)


def test_wrongtype(r, k):
    try:
        r.rpush(k("l"), "x")
    except redis.ResponseError as e:
        if "unknown command" in str(e):
            pytest.skip("no list type yet (RPUSH unknown)")
        raise
    wt = "WRONGTYPE Operation against a key holding the wrong kind of value"
    for call in (lambda: r.setbit(k("l"), 0, 1), lambda: r.getbit(k("l"), 0),
                 lambda: r.bitcount(k("l")), lambda: r.bitpos(k("l"), 1)):
        with raises_err(wt):
            call()


def test_same_replies_as_redis(tern, redis_server, k):
    t, s = tern(decode_responses=False), redis_server(decode_responses=False)
    ops = [
        ("SETBIT", k(), 3, 1), ("SETBIT", k(), 77, 1), ("GETBIT", k(), 77),
        ("BITCOUNT", k()), ("BITCOUNT", k(), 1, -1, "BIT"), ("BITPOS", k(), 0, 0, -1),
        ("BITFIELD", k(), "OVERFLOW", "SAT", "INCRBY", "i5", 3, 100, "GET", "u16", "#2"),
        ("BITOP", "NOT", k("n"), k()), ("GET", k("n")), ("OBJECT", "ENCODING", k("n")),
    ]
    for op in ops:
        assert t.execute_command(*op) == s.execute_command(*op), op
