"""String commands through redis-py's API, to Redis 7.0 semantics and error texts."""

import time

import pytest
import redis

from conftest import raises_err

LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)


def need_lists(r, key):
    """WRONGTYPE checks need a non-string value; skip while tern has no list type."""
    try:
        r.lpush(key, "x")
    except redis.ResponseError as e:
        if "unknown command" in str(e):
            pytest.skip("no list type yet (LPUSH unknown)")
        raise


# ---------------------------------------------------------------------------------------------
# SET and its options


def test_set_get(r, k):
    assert r.set(k(), "v") is True
    assert r.get(k()) == "v"
    assert r.get(k("missing")) is None
    assert r.set(k(), "w") is True
    assert r.get(k()) == "w"


def test_set_binary_and_empty(tern, k):
    raw = tern(decode_responses=False)
    v = b"a\x00b\r\nc\xff" * 100
    assert raw.set(k(), v) is True
    assert raw.get(k()) == v
    assert raw.set(k("e"), b"") is True
    assert raw.get(k("e")) == b""
    assert raw.strlen(k("e")) == 0


def test_set_ex_px(r, k):
    assert r.set(k("ex"), "v", ex=100) is True
    assert 99 <= r.ttl(k("ex")) <= 100
    assert r.set(k("px"), "v", px=100000) is True
    assert 99000 < r.pttl(k("px")) <= 100000
    # A plain SET drops the TTL.
    r.set(k("ex"), "w")
    assert r.ttl(k("ex")) == -1


def test_set_ex_expires(r, k):
    r.set(k(), "v", px=50)
    time.sleep(0.15)
    assert r.get(k()) is None
    assert r.exists(k()) == 0


def test_set_exat_pxat(r, k):
    now = int(time.time())
    assert r.set(k("a"), "v", exat=now + 100) is True
    assert 98 <= r.ttl(k("a")) <= 100
    assert r.set(k("b"), "v", pxat=now * 1000 + 100000) is True
    assert 97000 < r.pttl(k("b")) <= 100000
    # A time in the past: the key is set and expires at once.
    assert r.set(k("c"), "v", exat=now - 10) is True
    assert r.get(k("c")) is None


def test_set_nx_xx(r, k):
    assert r.set(k(), "1", nx=True) is True
    assert r.set(k(), "2", nx=True) is None
    assert r.get(k()) == "1"
    assert r.set(k(), "3", xx=True) is True
    assert r.get(k()) == "3"
    assert r.set(k("missing"), "x", xx=True) is None
    assert r.get(k("missing")) is None


def test_set_keepttl(r, k):
    r.set(k(), "v", ex=100)
    assert r.set(k(), "w", keepttl=True) is True
    assert r.get(k()) == "w"
    assert 99 <= r.ttl(k()) <= 100
    r.set(k(), "x")
    assert r.ttl(k()) == -1


def test_set_get_option(r, k):
    assert r.set(k(), "a", get=True) is None
    assert r.get(k()) == "a"
    assert r.set(k(), "b", get=True) == "a"
    assert r.get(k()) == "b"
    # NX + GET is allowed since 7.0: the old value comes back and nothing is set.
    assert r.set(k(), "c", nx=True, get=True) == "b"
    assert r.get(k()) == "b"
    assert r.set(k("n"), "c", nx=True, get=True) is None
    assert r.get(k("n")) == "c"
    assert r.set(k("x"), "c", xx=True, get=True) is None
    assert r.get(k("x")) is None


def test_set_get_wrongtype(r, k):
    need_lists(r, k("l"))
    with raises_err("WRONGTYPE Operation against a key holding the wrong kind of value"):
        r.set(k("l"), "v", get=True)
    # The failed SET ... GET left the list alone.
    assert r.type(k("l")) == "list"
    with raises_err("WRONGTYPE Operation against a key holding the wrong kind of value"):
        r.get(k("l"))
    # A plain SET overwrites any type.
    assert r.set(k("l"), "v") is True
    assert r.get(k("l")) == "v"


@pytest.mark.parametrize(
    "args",
    [
        ["NX", "XX"],
        ["EX", "10", "PX", "100"],
        ["EX", "10", "KEEPTTL"],
        ["PX", "10", "EXAT", "100"],
        ["EX"],
        ["NOPE"],
    ],
)
def test_set_syntax_errors(r, k, args):
    with raises_err("ERR syntax error"):
        r.execute_command("SET", k(), "v", *args)
    assert r.get(k()) is None


def test_set_repeated_option_last_wins(r, k):
    # Redis's parser accepts the same expire option twice; the last one counts.
    assert r.execute_command("SET", k(), "v", "EX", "10", "EX", "100") is True
    assert 99 <= r.ttl(k()) <= 100


@pytest.mark.parametrize("opt", ["EX", "PX", "EXAT", "PXAT"])
def test_set_invalid_expire(r, k, opt):
    for bad in ("0", "-1"):
        with raises_err("ERR invalid expire time in 'set' command"):
            r.execute_command("SET", k(), "v", opt, bad)
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("SET", k(), "v", opt, "1.5")
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("SET", k(), "v", opt, "abc")
    assert r.get(k()) is None


def test_set_expire_overflow(r, k):
    with raises_err("ERR invalid expire time in 'set' command"):
        r.set(k(), "v", ex=LLONG_MAX // 1000 + 1)
    with raises_err("ERR invalid expire time in 'set' command"):
        r.set(k(), "v", px=LLONG_MAX)


def test_set_wrong_arity(r):
    with raises_err("ERR wrong number of arguments for 'set' command"):
        r.execute_command("SET", "onlykey")


# ---------------------------------------------------------------------------------------------
# SETNX SETEX PSETEX GETSET GETDEL GETEX


def test_setnx(r, k):
    assert r.setnx(k(), "1") is True
    assert r.setnx(k(), "2") is False
    assert r.get(k()) == "1"


def test_setex(r, k):
    assert r.setex(k(), 100, "v") is True
    assert r.get(k()) == "v"
    assert 99 <= r.ttl(k()) <= 100
    for bad in (0, -5):
        with raises_err("ERR invalid expire time in 'setex' command"):
            r.setex(k("b"), bad, "v")
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("SETEX", k("b"), "ten", "v")
    assert r.get(k("b")) is None


def test_psetex(r, k):
    assert r.psetex(k(), 100000, "v") is True
    assert r.get(k()) == "v"
    assert 99000 < r.pttl(k()) <= 100000
    for bad in (0, -5):
        with raises_err("ERR invalid expire time in 'psetex' command"):
            r.psetex(k("b"), bad, "v")
    assert r.get(k("b")) is None


def test_getset(r, k):
    assert r.getset(k(), "a") is None
    assert r.getset(k(), "b") == "a"
    assert r.get(k()) == "b"
    r.set(k(), "c", ex=100)
    assert r.getset(k(), "d") == "c"
    assert r.ttl(k()) == -1  # GETSET drops the TTL like SET


def test_getdel(r, k):
    r.set(k(), "v")
    assert r.getdel(k()) == "v"
    assert r.get(k()) is None
    assert r.exists(k()) == 0
    assert r.getdel(k()) is None


def test_getdel_wrongtype(r, k):
    need_lists(r, k())
    with raises_err("WRONGTYPE Operation against a key holding the wrong kind of value"):
        r.getdel(k())
    assert r.exists(k()) == 1


def test_getex(r, k):
    r.set(k(), "v")
    assert r.getex(k()) == "v"
    assert r.ttl(k()) == -1
    assert r.getex(k(), ex=100) == "v"
    assert 99 <= r.ttl(k()) <= 100
    assert r.getex(k(), px=200000) == "v"
    assert 199000 < r.pttl(k()) <= 200000
    now = int(time.time())
    assert r.getex(k(), exat=now + 300) == "v"
    assert 298 <= r.ttl(k()) <= 300
    assert r.getex(k(), pxat=(now + 400) * 1000) == "v"
    assert 398 <= r.ttl(k()) <= 400
    assert r.getex(k(), persist=True) == "v"
    assert r.ttl(k()) == -1
    assert r.getex(k("missing"), ex=10) is None
    assert r.exists(k("missing")) == 0


def test_getex_past_time_deletes(r, k):
    r.set(k(), "v")
    assert r.getex(k(), exat=int(time.time()) - 10) == "v"
    assert r.exists(k()) == 0


def test_getex_errors(r, k):
    r.set(k(), "v")
    for bad in ("0", "-1"):
        with raises_err("ERR invalid expire time in 'getex' command"):
            r.execute_command("GETEX", k(), "EX", bad)
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("GETEX", k(), "PX", "x")
    for args in (["EX", "10", "PX", "10"], ["PERSIST", "EX", "10"], ["EX"], ["BOGUS"]):
        with raises_err("ERR syntax error"):
            r.execute_command("GETEX", k(), *args)
    assert r.ttl(k()) == -1


# ---------------------------------------------------------------------------------------------
# MGET MSET MSETNX


def test_mget_mset(r, k):
    assert r.mset({k("a"): "1", k("b"): "2", k("c"): "3"}) is True
    assert r.mget(k("a"), k("b"), k("missing"), k("c")) == ["1", "2", None, "3"]
    assert r.mget([k("c")]) == ["3"]
    # Later pairs win.
    r.execute_command("MSET", k("a"), "x", k("a"), "y")
    assert r.get(k("a")) == "y"


def test_mset_drops_ttl(r, k):
    r.set(k(), "v", ex=100)
    r.mset({k(): "w"})
    assert r.ttl(k()) == -1


def test_mget_non_string_is_nil(r, k):
    need_lists(r, k("l"))
    r.set(k("s"), "v")
    assert r.mget(k("s"), k("l")) == ["v", None]


def test_mset_arity(r, k):
    with raises_err("ERR wrong number of arguments for 'mset' command"):
        r.execute_command("MSET", k("a"), "1", k("b"))
    with raises_err("ERR wrong number of arguments for 'mset' command"):
        r.execute_command("MSET", k("a"))
    with raises_err("ERR wrong number of arguments for 'mget' command"):
        r.execute_command("MGET")
    assert r.get(k("a")) is None


def test_msetnx(r, k):
    assert r.msetnx({k("a"): "1", k("b"): "2"}) is True
    assert r.msetnx({k("b"): "x", k("c"): "3"}) is False
    assert r.mget(k("a"), k("b"), k("c")) == ["1", "2", None]
    with raises_err("ERR wrong number of arguments for 'msetnx' command"):
        r.execute_command("MSETNX", k("d"), "1", k("e"))


# ---------------------------------------------------------------------------------------------
# APPEND STRLEN GETRANGE SETRANGE


def test_append_strlen(r, k):
    assert r.strlen(k()) == 0
    assert r.append(k(), "hello") == 5
    assert r.append(k(), " world") == 11
    assert r.get(k()) == "hello world"
    assert r.strlen(k()) == 11
    r.set(k("n"), 12345)
    assert r.append(k("n"), "6") == 6
    assert r.get(k("n")) == "123456"
    assert r.strlen(k("n")) == 6


def test_append_keeps_ttl(r, k):
    r.set(k(), "a", ex=100)
    r.append(k(), "b")
    assert 99 <= r.ttl(k()) <= 100


def test_strlen_append_wrongtype(r, k):
    need_lists(r, k())
    with raises_err("WRONGTYPE Operation against a key holding the wrong kind of value"):
        r.strlen(k())
    with raises_err("WRONGTYPE Operation against a key holding the wrong kind of value"):
        r.append(k(), "x")


def test_getrange(r, k):
    r.set(k(), "This is a string")
    assert r.getrange(k(), 0, 3) == "This"
    assert r.getrange(k(), -3, -1) == "ing"
    assert r.getrange(k(), 0, -1) == "This is a string"
    assert r.getrange(k(), 10, 100) == "string"
    assert r.getrange(k(), 5, 2) == ""
    assert r.getrange(k(), 100, 200) == ""
    assert r.getrange(k(), -100, 3) == "This"
    assert r.getrange(k("missing"), 0, -1) == ""
    r.set(k("n"), 1234)
    assert r.getrange(k("n"), 1, 2) == "23"
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("GETRANGE", k(), "a", "1")


def test_setrange(r, k):
    r.set(k(), "Hello World")
    assert r.setrange(k(), 6, "Redis") == 11
    assert r.get(k()) == "Hello Redis"
    # Padding with zero bytes on a missing key.
    assert r.setrange(k("p"), 5, "x") == 6
    assert r.get(k("p")) == "\x00\x00\x00\x00\x00x"
    # An empty value on a missing key creates nothing.
    assert r.setrange(k("e"), 10, "") == 0
    assert r.exists(k("e")) == 0
    # An empty value on an existing key returns its length, untouched.
    assert r.setrange(k(), 100, "") == 11
    assert r.get(k()) == "Hello Redis"
    r.set(k("n"), 1234)
    assert r.setrange(k("n"), 1, "x") == 4
    assert r.get(k("n")) == "1x34"


def test_setrange_errors(r, k):
    with raises_err("ERR offset is out of range"):
        r.setrange(k(), -1, "x")
    with raises_err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"):
        r.setrange(k(), 512 * 1024 * 1024, "x")
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("SETRANGE", k(), "x", "v")
    assert r.exists(k()) == 0


# ---------------------------------------------------------------------------------------------
# INCR DECR INCRBY DECRBY INCRBYFLOAT


def test_incr_decr(r, k):
    assert r.incr(k()) == 1
    assert r.incr(k()) == 2
    assert r.incr(k(), 10) == 12  # INCRBY
    assert r.incrby(k(), -2) == 10
    assert r.decr(k()) == 9
    assert r.decr(k(), 4) == 5  # DECRBY
    assert r.decrby(k(), 10) == -5
    assert r.get(k()) == "-5"
    assert r.decr(k("new")) == -1


def test_incr_keeps_ttl(r, k):
    r.set(k(), "1", ex=100)
    r.incr(k())
    assert 99 <= r.ttl(k()) <= 100


def test_incr_not_integer(r, k):
    for v in ("abc", "1.5", " 1", "1 ", "", "0x10", "99999999999999999999"):
        r.set(k(), v)
        with raises_err("ERR value is not an integer or out of range"):
            r.incr(k())
        assert r.get(k()) == v
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("INCRBY", k("n"), "x")
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("DECRBY", k("n"), "1.0")
    assert r.exists(k("n")) == 0


def test_incr_overflow(r, k):
    r.set(k(), LLONG_MAX)
    with raises_err("ERR increment or decrement would overflow"):
        r.incr(k())
    r.set(k(), LLONG_MIN)
    with raises_err("ERR increment or decrement would overflow"):
        r.decr(k())
    with raises_err("ERR increment or decrement would overflow"):
        r.incrby(k(), -1)
    assert r.get(k()) == str(LLONG_MIN)
    r.set(k("z"), 0)
    with raises_err("ERR decrement would overflow"):
        r.decrby(k("z"), LLONG_MIN)
    assert r.incrby(k("z"), LLONG_MIN) == LLONG_MIN


def test_incr_wrongtype(r, k):
    need_lists(r, k())
    with raises_err("WRONGTYPE Operation against a key holding the wrong kind of value"):
        r.incr(k())


def test_incrbyfloat(r, k):
    assert r.incrbyfloat(k(), 1.5) == 1.5
    assert r.incrbyfloat(k(), 0.1) == pytest.approx(1.6)
    assert r.get(k()) == "1.6"
    r.set(k("a"), "10.50")
    assert r.incrbyfloat(k("a"), 0.1) == pytest.approx(10.6)
    assert r.get(k("a")) == "10.6"
    r.set(k("e"), "5.0e3")
    assert r.incrbyfloat(k("e"), "2.0e2") == 5200
    assert r.get(k("e")) == "5200"
    r.set(k("i"), 3)
    assert r.incrbyfloat(k("i"), -3) == 0
    assert r.get(k("i")) == "0"
    assert r.incrbyfloat(k("n"), -0.5) == -0.5
    assert r.get(k("n")) == "-0.5"


def test_incrbyfloat_keeps_ttl(r, k):
    r.set(k(), "1", ex=100)
    r.incrbyfloat(k(), 1)
    assert 99 <= r.ttl(k()) <= 100


def test_incrbyfloat_errors(r, k):
    r.set(k(), "abc")
    with raises_err("ERR value is not a valid float"):
        r.incrbyfloat(k(), 1)
    with raises_err("ERR value is not a valid float"):
        r.execute_command("INCRBYFLOAT", k("n"), "x")
    with raises_err("ERR value is not a valid float"):
        r.execute_command("INCRBYFLOAT", k("n"), "nan")
    with raises_err("ERR increment would produce NaN or Infinity"):
        r.execute_command("INCRBYFLOAT", k("n"), "inf")
    with raises_err("ERR increment would produce NaN or Infinity"):
        r.execute_command("INCRBYFLOAT", k("n"), "-inf")
    assert r.exists(k("n")) == 0
    assert r.get(k()) == "abc"


def test_incrbyfloat_precision(r, k):
    # Redis adds in long double and prints with %.17Lg: 0.1 + 0.2 is "0.3", and tiny increments
    # below that precision leave the printed value as it was.
    r.set(k(), "0.1")
    assert r.incrbyfloat(k(), "0.2") == pytest.approx(0.3)
    assert r.get(k()) == "0.3"
    r.set(k("b"), "1.1")
    r.incrbyfloat(k("b"), "1e-20")
    assert r.get(k("b")) == "1.1"
    r.set(k("c"), "3.0")
    r.incrbyfloat(k("c"), "0")
    assert r.get(k("c")) == "3"


def test_incrbyfloat_long_double_range(r, k):
    # 1e308 + 1e308 overflows a double but not Redis's long double: Redis stores the sum.
    r.set(k(), "1e308")
    r.incrbyfloat(k(), "1e308")
    v = r.get(k())
    assert v.startswith("1999999999999999999") and len(v) == 309, v


def test_counter_integers_are_strings(r, k):
    r.set(k(), 10)
    assert r.incr(k()) == 11
    assert r.append(k(), "0") == 3
    assert r.incr(k()) == 111
    assert r.strlen(k()) == 3


def test_substr(r, k):
    r.set(k(), "Hello")
    assert r.execute_command("SUBSTR", k(), 1, 3) == "ell"


def test_long_values(tern, k):
    raw = tern(decode_responses=False)
    big = b"x" * (1 << 20)
    raw.set(k(), big)
    assert raw.get(k()) == big
    assert raw.append(k(), b"y") == (1 << 20) + 1
    assert raw.getrange(k(), -2, -1) == b"xy"
