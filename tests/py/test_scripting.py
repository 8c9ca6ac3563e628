"""Lua scripting through redis-py: eval, register_script (EVALSHA with EVAL fallback),
script_load / script_exists / script_flush, pipelines of scripts, and error texts."""

from __future__ import annotations

import hashlib
import re

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


def _lib(name: str) -> str:
    return f"""#!lua name={name}
redis.register_function('{name}_incr', function(keys, args)
  return redis.call('incrby', keys[1], args[1])
end)
redis.register_function{{function_name='{name}_get', callback=function(keys) return redis.call('get', keys[1]) end,
  flags={{'no-writes'}}, description='reads one key'}}
"""


def _libname(k) -> str:
    # Library and function names allow only letters, digits and underscores.
    return "l" + re.sub(r"[^A-Za-z0-9_]", "_", k("lib").split(":")[0])


def test_function_load_fcall_and_list(r, k):
    name = _libname(k)
    code = _lib(name)
    assert r.function_load(code) == name
    with pytest.raises(redis.ResponseError, match=f"^Library '{name}' already exists$"):
        r.function_load(code)
    assert r.function_load(code, replace=True) == name
    key = k("n")
    assert r.fcall(f"{name}_incr", 1, key, 5) == 5
    assert r.fcall(f"{name.upper()}_INCR", 1, key, 2) == 7
    assert r.fcall_ro(f"{name}_get", 1, key) == "7"
    with pytest.raises(redis.ResponseError, match=r"^Can not execute a script with write flag using \*_ro command.$"):
        r.fcall_ro(f"{name}_incr", 1, key, 1)
    listed = r.function_list(library=name, withcode=True)
    assert len(listed) == 1
    lib = listed[0]
    if isinstance(lib, list):  # RESP2: a flat list of field, value, ...
        lib = dict(zip(lib[::2], lib[1::2]))
    assert lib["library_name"] == name
    assert lib["engine"] == "LUA"
    assert lib["library_code"] == code
    funcs = []
    for f in lib["functions"]:
        if isinstance(f, list):
            f = dict(zip(f[::2], f[1::2]))
        funcs.append(f)
    by_name = {f["name"]: f for f in funcs}
    assert by_name[f"{name}_get"]["description"] == "reads one key"
    assert list(by_name[f"{name}_get"]["flags"]) == ["no-writes"]
    assert by_name[f"{name}_incr"]["description"] is None
    assert r.function_delete(name) in (True, "OK")
    with pytest.raises(redis.ResponseError, match="^Function not found$"):
        r.fcall(f"{name}_incr", 1, key, 1)


def test_function_dump_restore_in_a_pipeline(r, k):
    name = _libname(k)
    r.function_load(_lib(name))
    payload = r.function_dump()
    assert isinstance(payload, bytes) and payload[0] == 245
    with pytest.raises(redis.ResponseError, match=f"^Library {name} already exists$"):
        r.function_restore(payload)
    assert r.function_restore(payload, "REPLACE") in (True, "OK")
    with r.pipeline() as p:
        p.fcall(f"{name}_incr", 1, k("p"), 3)
        p.fcall_ro(f"{name}_get", 1, k("p"))
        assert p.execute() == [3, "3"]
    with pytest.raises(redis.ResponseError, match="^DUMP payload version or checksum are wrong$"):
        r.function_restore(b"bad payload")
    stats = r.function_stats()
    if isinstance(stats, list):
        stats = dict(zip(stats[::2], stats[1::2]))
    assert stats["running_script"] is None
    r.function_delete(name)
