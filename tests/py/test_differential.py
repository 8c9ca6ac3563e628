"""Differential tests: the same scripted commands, errors included, against tern and Debian's
redis-server; the replies must be identical, type byte included (a raw RESP client is used, so
that +OK and $2 OK, or an integer and a bulk "1", are told apart). Each script runs in RESP2 and
again after HELLO 3.
"""

import uuid

import pytest

from conftest import Resp

X50 = "x" * 50
# DUMP of "hello" as Redis 7.0 writes it (RDB 10).
HELLO_DUMP = b"\x00\x05hello\n\x00cr\xdfve4 \n"

SCRIPTS = {
    "strings": [
        ["SET", "{p}a", "1"],
        ["GET", "{p}a"],
        ["INCR", "{p}a"],
        ["INCRBY", "{p}a", "10"],
        ["DECR", "{p}a"],
        ["DECRBY", "{p}a", "3"],
        ["INCRBYFLOAT", "{p}a", "1.5"],
        ["GET", "{p}a"],
        ["INCR", "{p}a"],
        ["APPEND", "{p}a", "xyz"],
        ["STRLEN", "{p}a"],
        ["GETRANGE", "{p}a", "0", "-1"],
        ["GETRANGE", "{p}a", "-3", "-2"],
        ["SETRANGE", "{p}a", "2", "ZZ"],
        ["GET", "{p}a"],
        ["SUBSTR", "{p}a", "0", "2"],
        ["MSET", "{p}b", "2", "{p}c", "3"],
        ["MGET", "{p}a", "{p}b", "{p}c", "{p}nokey"],
        ["MSETNX", "{p}c", "1", "{p}d", "4"],
        ["MSETNX", "{p}d", "4", "{p}e", "5"],
        ["GETSET", "{p}d", "40"],
        ["GETDEL", "{p}d"],
        ["GETDEL", "{p}d"],
        ["SETNX", "{p}e", "1"],
        ["SETNX", "{p}e", "2"],
        ["SET", "{p}f", "v", "NX"],
        ["SET", "{p}f", "w", "XX", "GET"],
        ["SET", "{p}f", "x", "GET"],
        ["SET", "{p}g", "v", "XX"],
        ["SET", "{p}g", "v", "NX", "GET"],
        ["GETEX", "{p}f", "PERSIST"],
        ["GETEX", "{p}nokey"],
        ["INCRBYFLOAT", "{p}c", "0.1"],
        ["INCRBYFLOAT", "{p}c", "0.2"],
        ["INCRBYFLOAT", "{p}c", "-3.3"],
        ["INCRBYFLOAT", "{p}c", "1e2"],
        ["SET", "{p}big", "9223372036854775807"],
        ["INCR", "{p}big"],
        ["DECRBY", "{p}a", "abc"],
        ["SETRANGE", "{p}a", "-1", "x"],
        ["GETRANGE", "{p}nokey", "0", "1"],
        ["SETRANGE", "{p}pad", "3", "x"],
        ["GET", "{p}pad"],
        ["SETEX", "{p}h", "0", "v"],
        ["PSETEX", "{p}h", "-1", "v"],
        ["SET", "{p}a", "b", "c"],
        ["SET", "{p}a", "1", "EX", "0"],
        ["SET", "{p}a", "1", "EX", "1.5"],
        ["SET"],
        ["MSET", "{p}a"],
        ["INCRBYFLOAT", "{p}f", "1"],
        ["INCRBYFLOAT", "{p}e", "inf"],
        ["APPEND", "{p}e", ""],
        ["STRLEN", "{p}nokey"],
        ["GeT", "{p}e"],
        ["SET", "{p}fl", "1.1"],
        ["INCRBYFLOAT", "{p}fl", "1e-20"],
        ["SET", "{p}x", "v", "EX", "10", "EX", "1000"],
        ["TTL", "{p}x"],
    ],
    "expiry": [
        ["SET", "{p}t", "v", "EX", "1000"],
        ["TTL", "{p}t"],
        ["EXPIRE", "{p}t", "100", "NX"],
        ["EXPIRE", "{p}t", "100", "XX"],
        ["EXPIRE", "{p}t", "50", "GT"],
        ["EXPIRE", "{p}t", "500", "GT"],
        ["EXPIRE", "{p}t", "600", "LT"],
        ["TTL", "{p}t"],
        ["SET", "{p}t", "w", "KEEPTTL"],
        ["TTL", "{p}t"],
        ["PERSIST", "{p}t"],
        ["PERSIST", "{p}t"],
        ["TTL", "{p}t"],
        ["PTTL", "{p}t"],
        ["TTL", "{p}nokey"],
        ["PTTL", "{p}nokey"],
        ["EXPIRE", "{p}t", "10", "NX", "XX"],
        ["EXPIRE", "{p}t", "10", "GT", "LT"],
        ["EXPIRE", "{p}t", "abc"],
        ["EXPIRE", "{p}t", "10", "BOGUS"],
        ["EXPIREAT", "{p}t", "4102444800"],
        ["EXPIRETIME", "{p}t"],
        ["PEXPIRETIME", "{p}t"],
        ["PEXPIREAT", "{p}t", "4102444800123"],
        ["PEXPIRETIME", "{p}t"],
        ["EXPIRETIME", "{p}t"],
        ["EXPIRETIME", "{p}nokey"],
        ["EXPIREAT", "{p}t", "1"],
        ["EXISTS", "{p}t"],
        ["EXPIRE", "{p}nokey", "10"],
        ["SET", "{p}u", "v"],
        ["EXPIRE", "{p}u", "-1"],
        ["GET", "{p}u"],
        ["SET", "{p}s", "v", "EX", "100"],
        ["GETEX", "{p}s", "EX", "1000"],
        ["TTL", "{p}s"],
        ["GETEX", "{p}s", "EX", "0"],
        ["GETEX", "{p}s", "PX", "10", "EX", "10"],
        ["SETEX", "{p}s", "1000", "v"],
        ["TTL", "{p}s"],
        ["SET", "{p}s", "v", "EX", "9223372036854775807"],
    ],
    "keys": [
        ["MSET", "{p}k1", "1", "{p}k2", "hello", "{p}k3", X50],
        ["DEL", "{p}k1", "{p}nokey"],
        ["EXISTS", "{p}k1", "{p}k2", "{p}k2"],
        ["TYPE", "{p}k2"],
        ["TYPE", "{p}nokey"],
        ["OBJECT", "ENCODING", "{p}k2"],
        ["SET", "{p}int", "123"],
        ["OBJECT", "ENCODING", "{p}int"],
        ["OBJECT", "ENCODING", "{p}k3"],
        ["OBJECT", "ENCODING", "{p}nokey"],
        ["OBJECT", "FREQ", "{p}int"],
        ["OBJECT", "FOO", "{p}int"],
        ["RENAME", "{p}k2", "{p}k4"],
        ["RENAME", "{p}nokey", "{p}x"],
        ["RENAMENX", "{p}k4", "{p}k3"],
        ["RENAMENX", "{p}k4", "{p}k5"],
        ["COPY", "{p}k5", "{p}k6"],
        ["COPY", "{p}k5", "{p}k6"],
        ["COPY", "{p}k5", "{p}k6", "REPLACE"],
        ["COPY", "{p}k5", "{p}k5"],
        ["COPY", "{p}k5", "{p}k7", "DB", "99"],
        ["TOUCH", "{p}k5", "{p}k6", "{p}nokey"],
        ["KEYS", "{p}k*"],
        ["KEYS", "{p}[a-j]*"],
        ["DUMP", "{p}k5"],
        ["DUMP", "{p}int"],
        ["DUMP", "{p}k3"],
        ["DUMP", "{p}nokey"],
        ["RESTORE", "{p}r", "0", HELLO_DUMP],
        ["GET", "{p}r"],
        ["RESTORE", "{p}r", "0", HELLO_DUMP],
        ["RESTORE", "{p}r", "0", "garbage", "REPLACE"],
        ["RESTORE", "{p}r", "-5", HELLO_DUMP, "REPLACE"],
        ["MOVE", "{p}k5", "0"],
        ["MOVE", "{p}k5", "99"],
        ["UNLINK", "{p}k5", "{p}k6"],
        ["EXISTS", "{p}k5", "{p}k6"],
        ["DEL"],
        ["SCAN", "notacursor"],
    ],
    "errors": [
        ["PING"],
        ["PING", "hi"],
        ["PING", "a", "b"],
        ["ECHO", "hi"],
        ["ECHO"],
        ["FOOBAR", "x", "y"],
        ["FOOBAR"],
        ["SELECT", "99"],
        ["SELECT", "x"],
        ["SELECT", "0"],
        ["CONFIG", "FOO"],
        ["CLIENT", "FOO"],
        ["CONFIG", "GET"],
        ["CONFIG", "SET", "nosuchparam", "1"],
        ["CONFIG", "GET", "maxmemory"],
        ["AUTH", "x"],
        ["HELLO", "4"],
        ["HELLO", "x"],
        ["GET"],
        ["GET", "{p}a", "b"],
        ["INCR", "{p}a", "b"],
        ["TIME", "x"],
        ["DBSIZE", "x"],
        ["SWAPDB", "0", "99"],
        ["SWAPDB", "x", "0"],
        ["FLUSHDB", "BOGUS"],
        ["OBJECT", "ENCODING"],
        ["SLOWLOG", "BOGUS"],
    ],
}


def _args(cmd, prefix):
    return [a.replace("{p}", prefix) if isinstance(a, str) else a for a in cmd]


def _normalise(cmd, reply):
    if cmd[0].upper() == "KEYS" and reply[0] in "*~" and reply[1] is not None:
        return (reply[0], sorted(reply[1]))
    return reply


def _run(port, script, prefix, proto):
    c = Resp(port)
    try:
        if proto == 3:
            t, _ = c.call("HELLO", "3")
            assert t == "%", f"HELLO 3 answered with type {t!r}"
        return [_normalise(cmd, c.call(*_args(cmd, prefix))) for cmd in script]
    finally:
        c.close()


def test_script_size():
    assert sum(len(s) for s in SCRIPTS.values()) >= 50


@pytest.mark.parametrize("proto", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("group", sorted(SCRIPTS))
def test_same_replies_as_redis(tern, redis_server, group, proto):
    script = SCRIPTS[group]
    prefix = f"diff:{uuid.uuid4().hex[:8]}:"
    got = _run(tern.port, script, prefix, proto)
    want = _run(redis_server.port, script, prefix, proto)
    diffs = [
        f"  #{i} {' '.join(map(str, _args(cmd, '')))}\n      tern:  {g!r}\n      redis: {w!r}"
        for i, (cmd, g, w) in enumerate(zip(script, got, want))
        if g != w
    ]
    assert not diffs, f"{len(diffs)} of {len(script)} replies differ from redis-server:\n" + "\n".join(diffs)
