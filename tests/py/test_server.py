"""Server commands through redis-py: INFO CONFIG COMMAND TIME SLOWLOG MONITOR."""

import re
import threading
import time

import pytest

from conftest import raises_err, raw_cmd

# ---------------------------------------------------------------------------------------------
# INFO


def test_info_default_sections(tern):
    text = raw_cmd(tern(decode_responses=True, protocol=2), "INFO")  # the text, unparsed
    assert isinstance(text, str)
    sections = re.findall(r"^# (\w+)\r?$", text, flags=re.M)
    for s in ("Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Keyspace"):
        assert s in sections, (s, sections)
    assert "\r\n" in text  # Redis separates lines with CRLF


def test_info_server(tern):
    c = tern(decode_responses=True)
    info = c.info("server")
    assert re.fullmatch(r"7\.\d+\.\d+", info["redis_version"]), info["redis_version"]
    assert info["redis_mode"] == "standalone"
    assert isinstance(info["process_id"], int) and info["process_id"] > 0
    assert info["tcp_port"] == c.connection_pool.connection_kwargs["port"]
    assert isinstance(info["uptime_in_seconds"], int)
    assert "run_id" in info and len(str(info["run_id"])) == 40
    # Only the asked-for section.
    assert "used_memory" not in info


@pytest.mark.tern_only
def test_info_tern_version(tern):
    info = tern(decode_responses=True).info("server")
    assert "tern_version" in info, sorted(info)
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", str(info["tern_version"])), info["tern_version"]


def test_info_memory(tern):
    info = tern(decode_responses=True).info("memory")
    assert isinstance(info["used_memory"], int) and info["used_memory"] > 0
    for f in ("used_memory_human", "used_memory_rss", "used_memory_peak", "maxmemory", "maxmemory_policy",
              "mem_fragmentation_ratio", "mem_allocator"):
        assert f in info, f


def test_info_memory_grows(tern, k):
    c = tern(decode_responses=True)
    before = c.info("memory")["used_memory"]
    p = c.pipeline(transaction=False)
    for i in range(2000):
        p.set(k(str(i)), "x" * 100)
    p.execute()
    after = c.info("memory")["used_memory"]
    assert after - before > 2000 * 100, (before, after)


def test_info_keyspace(tern, k):
    c = tern(db=6, decode_responses=True)
    c.flushdb()
    c.mset({k("a"): 1, k("b"): 2})
    c.set(k("t"), 1, ex=1000)
    ks = c.info("keyspace")
    assert ks["db6"]["keys"] == 3
    assert ks["db6"]["expires"] == 1
    assert "avg_ttl" in ks["db6"]
    c.flushdb()
    assert "db6" not in c.info("keyspace")


def test_info_stats_and_clients(tern):
    c = tern(decode_responses=True)
    st = c.info("stats")
    for f in ("total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec",
              "keyspace_hits", "keyspace_misses", "expired_keys", "evicted_keys"):
        assert f in st, f
    cl = c.info("clients")
    assert cl["connected_clients"] >= 1


def test_info_multiple_and_all(tern):
    c = tern(decode_responses=True)
    both = c.execute_command("INFO", "server", "memory")
    assert "redis_version" in both and "used_memory" in both
    everything = c.info("everything")
    assert "redis_version" in everything and "used_memory" in everything
    assert "cmdstat_info" in c.info("commandstats")
    assert c.info("nosuchsection") == {}


# ---------------------------------------------------------------------------------------------
# CONFIG


def test_config_get(r):
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    got = r.config_get("maxmemory*")
    assert {"maxmemory", "maxmemory-policy", "maxmemory-samples"} <= set(got)
    assert r.config_get("nosuchparameter") == {}
    # Several patterns at once (7.0).
    got = r.config_get("maxmemory", "hz")
    assert set(got) == {"maxmemory", "hz"}


def test_config_get_port_matches_info(tern):
    # In Redis CONFIG GET port and INFO's tcp_port are the port it listens on. (The suite starts
    # tern with --port 0, which tern takes as "any free port".)
    c = tern(decode_responses=True)
    port = c.connection_pool.connection_kwargs["port"]
    assert c.info("server")["tcp_port"] == port
    assert c.config_get("port") == {"port": str(port)}


def test_config_set(r):
    old = r.config_get("maxmemory-samples")["maxmemory-samples"]
    try:
        assert r.config_set("maxmemory-samples", 7) is True
        assert r.config_get("maxmemory-samples") == {"maxmemory-samples": "7"}
        assert r.config_set("maxmemory", "10mb") is True
        assert r.config_get("maxmemory") == {"maxmemory": "10485760"}
        # Several at once (7.0).
        assert r.config_set("maxmemory-samples", "9", "maxmemory", "0") is True
        assert r.config_get("maxmemory-samples") == {"maxmemory-samples": "9"}
        assert r.config_get("maxmemory") == {"maxmemory": "0"}
    finally:
        r.config_set("maxmemory-samples", old)
        r.config_set("maxmemory", 0)


def test_config_set_errors(r):
    with raises_err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuchparameter'"):
        r.config_set("nosuchparameter", "1")
    with raises_err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - argument couldn't be parsed into an integer"):
        r.config_set("maxmemory-samples", "abc")
    with raises_err("ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"):
        r.config_set("dir", "/tmp")
    with raises_err("ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP."):
        r.execute_command("CONFIG", "NOSUCH")
    with raises_err("ERR wrong number of arguments for 'config|set' command"):
        r.execute_command("CONFIG", "SET", "maxmemory")


def test_config_set_immutable(r):
    with raises_err("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"):
        r.execute_command("CONFIG", "SET", "daemonize", "yes")


def test_config_resetstat(tern, k):
    c = tern(decode_responses=True, single_connection_client=True)
    for _ in range(5):
        c.get(k())
    assert c.info("stats")["keyspace_misses"] >= 5
    assert c.config_resetstat() is True
    st = c.info("stats")
    assert st["keyspace_misses"] == 0
    assert st["keyspace_hits"] == 0
    assert st["total_commands_processed"] <= 2  # CONFIG RESETSTAT itself, at most, and INFO
    assert "cmdstat_get" not in c.info("commandstats")


# ---------------------------------------------------------------------------------------------
# COMMAND TIME


def test_command_count(r):
    n = r.command_count()
    assert isinstance(n, int) and n > 20
    cmds = r.command()
    assert len(cmds) == n
    assert "get" in cmds and "set" in cmds
    get = cmds["get"]
    assert get["arity"] == 2
    assert "readonly" in get["flags"] and "fast" in get["flags"]
    assert (get["first_key_pos"], get["last_key_pos"], get["step_count"]) == (1, 1, 1)


def test_command_info(tern):
    info = raw_cmd(tern(decode_responses=True, protocol=2), "COMMAND", "INFO", "get", "nosuchcommand")
    assert len(info) == 2
    assert info[0][:6] == ["get", 2, ["readonly", "fast"], 1, 1, 1]
    assert info[1] is None


def test_time(r):
    sec, usec = r.time()
    assert abs(sec + usec / 1e6 - time.time()) < 2
    assert 0 <= usec < 1_000_000


# ---------------------------------------------------------------------------------------------
# SLOWLOG


def test_slowlog(tern, k):
    c = tern(decode_responses=True, single_connection_client=True)
    old = c.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"]
    try:
        assert c.config_set("slowlog-log-slower-than", 0) is True
        assert c.slowlog_reset() is True
        c.client_setname("slowpoke")
        c.set(k(), "slowvalue")
        assert c.slowlog_len() >= 1
        entries = c.slowlog_get(100)
        assert entries, entries
        mine = [e for e in entries if k() in (e["command"] if isinstance(e["command"], str) else e["command"].decode())]
        assert mine, entries
        e = mine[0]
        cmd = e["command"] if isinstance(e["command"], str) else e["command"].decode()
        assert cmd == f"SET {k()} slowvalue"
        assert isinstance(e["id"], int)
        assert abs(e["start_time"] - time.time()) < 10
        assert e["duration"] >= 0
        text = lambda v: v.decode() if isinstance(v, bytes) else v  # noqa: E731
        assert text(e["client_address"]).startswith("127.0.0.1:")
        assert text(e["client_name"]) == "slowpoke"
        # Newest first.
        ids = [x["id"] for x in entries]
        assert ids == sorted(ids, reverse=True)
        assert len(c.slowlog_get(1)) == 1
        assert c.slowlog_reset() is True
        assert c.slowlog_len() <= 1  # SLOWLOG RESET itself may be logged
    finally:
        c.config_set("slowlog-log-slower-than", old)
        c.slowlog_reset()


# ---------------------------------------------------------------------------------------------
# MONITOR


def test_monitor(tern, k):
    watcher = tern(decode_responses=True)
    other = tern(decode_responses=True, db=4)
    with watcher.monitor() as m:
        # MONITOR starts feeding after its OK; send from another client a little later.
        timer = threading.Timer(0.2, lambda: other.set(k(), 'va"lue'))
        timer.start()
        try:
            deadline = time.monotonic() + 10
            got = None
            while time.monotonic() < deadline:
                cmd = m.next_command()
                if k() in cmd["command"]:
                    got = cmd
                    break
        finally:
            timer.join()
    assert got is not None
    assert got["command"] == f'SET {k()} va"lue'
    assert got["db"] == 4
    assert got["client_type"] == "tcp"
    assert got["client_address"] == "127.0.0.1"
    assert abs(got["time"] - time.time()) < 10
