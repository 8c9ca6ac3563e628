"""redis-py's client-side cache (``cache_config=CacheConfig()``: RESP3, CLIENT TRACKING and
invalidation pushes) against tern and against Debian's redis-server, side by side.

redis-py turns its cache on only for servers that report Redis 7.4 or later, a policy of the
client (the tracking protocol it uses is Redis 6's). tern and Debian's redis-server both report
7.0, so these tests lower that version gate for their duration; everything else is redis-py's
own code talking to the real servers.
"""

from __future__ import annotations

import time

import pytest
from redis.cache import CacheConfig
from redis.connection import CacheProxyConnection


@pytest.fixture
def cache_allowed(monkeypatch):
    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.0.0")


@pytest.fixture(params=["tern", "redis"])
def server(request, tern, redis_server):
    return tern if request.param == "tern" else redis_server


def read_until(client, key, want, timeout=5.0):
    """Reads `key` through the cache until it returns `want`: an invalidation travels on its
    own connection, so the first read after a write may still be served from the cache."""
    deadline = time.time() + timeout
    while True:
        got = client.get(key)
        if got == want or time.time() > deadline:
            return got
        time.sleep(0.01)


def test_reads_are_cached_and_invalidated_by_other_clients_writes(cache_allowed, server, k):
    cached = server(protocol=3, decode_responses=True, cache_config=CacheConfig())
    other = server(decode_responses=True)
    key, untouched = k("a"), k("b")
    other.set(key, "v1")
    other.set(untouched, "u")
    assert cached.get(key) == "v1"
    assert cached.get(untouched) == "u"
    cache = cached.get_cache()
    assert cache.size == 2
    # A second read is answered from the cache: the server sees no new command from it.
    calls = int(other.info("commandstats")["cmdstat_get"]["calls"])
    assert cached.get(key) == "v1"
    assert int(other.info("commandstats")["cmdstat_get"]["calls"]) == calls
    # Another client's write invalidates the entry (and only that one).
    other.set(key, "v2")
    assert read_until(cached, key, "v2") == "v2"
    assert cached.get(untouched) == "u"
    # Expiry and deletion invalidate too; FLUSHALL empties the cache.
    other.delete(key)
    assert read_until(cached, key, None) is None
    other.flushall()
    assert read_until(cached, untouched, None) is None
    cached.close()
    other.close()


def test_the_clients_own_writes_invalidate_its_cache(cache_allowed, server, k):
    cached = server(protocol=3, decode_responses=True, cache_config=CacheConfig())
    key = k()
    cached.set(key, "1")
    assert cached.get(key) == "1"
    cached.incr(key)
    assert read_until(cached, key, "2") == "2"
    cached.close()
