"""Lua scripting through redis-py: eval, register_script (EVALSHA with EVAL fallback),
script_load / script_exists / script_flush, pipelines of scripts, and error texts."""

from __future__ import annotations

import hashlib

import pytest
import redis


def test_eval_passes_keys_and_args_and_converts_replies(r, k):
    a = k("a")
    assert r.eval("return {KEYS[1], ARGV[1], 3.7, true, false}", 1, a, "x") == [a, "x", 3, 1, None]
    assert r.eval("return redis.call('set', KEYS[1], ARGV[1])", 1, a, "v") in (True, "OK")
    assert r.get(a) == "v"
    assert r.eval("return redis.status_reply('FINE')", 0) in ("FINE", True)
    assert r.eval("return cjson.encode({n = 1, s = 'x'})", 0) in ('{"n":1,"s":"x"}', '{"s":"x","n":1}')


def test_register_script_loads_on_noscript(r, k):
    r.script_flush()
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    key = k("counter")
    assert incr_by(keys=[key], args=[5]) == 5
    assert r.script_exists(incr_by.sha) == [True]
    assert incr_by(keys=[key], args=[2]) == 7
    assert incr_by.sha == hashlib.sha1(incr_by.script.encode()).hexdigest()


def test_script_load_exists_and_flush(r):
    sha = r.script_load("return 'hello'")
    assert sha == hashlib.sha1(b"return 'hello'").hexdigest()
    assert r.evalsha(sha, 0) == "hello"
    assert r.script_exists(sha, "0" * 40) == [True, False]
    assert r.script_flush() is True
    assert r.script_exists(sha) == [False]
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(sha, 0)
    assert r.script_flush("ASYNC") is True


def test_scripts_in_a_pipeline(r, k):
    a = k("a")
    script = r.register_script("return redis.call('incr', KEYS[1])")
    with r.pipeline() as p:
        script(keys=[a], client=p)
        script(keys=[a], client=p)
        p.get(a)
        assert p.execute() == [1, 2, "2"]


def test_script_errors_have_redis_texts(r, k):
    body = "return redis.call('nosuch')"
    sha = hashlib.sha1(body.encode()).hexdigest()
    with pytest.raises(redis.ResponseError) as e:
        r.eval(body, 0)
    assert str(e.value) == f"Unknown Redis command called from script script: {sha}, on @user_script:1."
    with pytest.raises(redis.ResponseError, match="Error compiling script"):
        r.eval("return +", 0)
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed from read-only scripts"):
        r.eval_ro("return redis.call('set', KEYS[1], 'v')", 1, k("ro"))
    with pytest.raises(redis.ResponseError, match="NOTBUSY"):
        r.script_kill()
