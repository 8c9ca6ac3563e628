"""redis-py's client-side caching (RESP3 + CLIENT TRACKING): cached reads, invalidation pushes."""

from __future__ import annotations

import time

from redis.cache import CacheConfig


def test_cached_reads_are_invalidated_by_other_writers(tern, k):
    cached = tern(protocol=3, decode_responses=True, cache_config=CacheConfig())
    other = tern(decode_responses=True)
    key = k("user")
    other.set(key, "v1")
    assert cached.get(key) == "v1"
    cache = cached.get_cache()
    assert cache.size >= 1  # the reply is now held client-side
    assert cached.get(key) == "v1"
    other.set(key, "v2")
    # The invalidation push arrives on the cached connection; the next read refetches.
    deadline = time.time() + 5
    while time.time() < deadline:
        if cached.get(key) == "v2":
            break
        time.sleep(0.01)
    assert cached.get(key) == "v2"
    cached.close()
