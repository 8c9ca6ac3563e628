"""HyperLogLog commands through redis-py's API (pfadd, pfcount, pfmerge, PFDEBUG), and values
that are byte-identical to redis-server's."""

import pytest
import redis

from conftest import raises_err

NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."


def test_pfadd_pfcount_pfmerge(r, k):
    assert r.pfadd(k("a"), "x", "y", "z") == 1
    assert r.pfadd(k("a"), "x") == 0
    assert r.pfcount(k("a")) == 3
    assert r.pfadd(k("b"), "z", "w") == 1
    assert r.pfcount(k("a"), k("b")) == 4
    assert r.pfmerge(k("m"), k("a"), k("b")) is True
    assert r.pfcount(k("m")) == 4
    assert r.pfcount(k("missing")) == 0
    assert r.execute_command("PFDEBUG", "ENCODING", k("m")) == "sparse"


def test_not_an_hll(r, k):
    r.set(k(), "just a string")
    with raises_err(NOT_HLL):
        r.pfadd(k(), "x")
    with raises_err(NOT_HLL):
        r.pfcount(k())
    with raises_err(NOT_HLL):
        r.pfmerge(k("m"), k())


def test_large_cardinality_promotes_to_dense(r, k):
    r.pfadd(k(), *[f"e{i}" for i in range(5000)])
    assert r.execute_command("PFDEBUG", "ENCODING", k()) == "dense"
    assert abs(r.pfcount(k()) - 5000) < 5000 * 0.03
    assert r.strlen(k()) == 12304


@pytest.mark.parametrize("n", [1, 10, 300, 3000])
def test_bytes_identical_to_redis(tern, redis_server, k, n):
    t, s = tern(decode_responses=False), redis_server(decode_responses=False)
    els = [f"member:{i}".encode() for i in range(n)]
    for c in (t, s):
        for i in range(0, n, 97):
            c.pfadd(k(), *els[i:i + 97])
    assert t.get(k()) == s.get(k())
    assert t.pfcount(k()) == s.pfcount(k())
    assert t.get(k()) == s.get(k())
    # A value built by redis-server counts the same on tern, and vice versa.
    t.set(k("copy"), s.get(k()))
    s.set(k("copy"), t.get(k()))
    assert t.pfcount(k("copy")) == s.pfcount(k("copy")) == s.pfcount(k())
