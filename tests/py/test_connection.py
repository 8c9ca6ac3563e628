"""Connection commands, RESP3, AUTH, CLIENT and pipelines through redis-py."""

import pytest
import redis

from conftest import Resp, raises_err, raw_cmd

# ---------------------------------------------------------------------------------------------
# PING ECHO SELECT


def test_ping(r):
    assert r.ping() is True
    assert raw_cmd(r, "PING") == "PONG"
    assert raw_cmd(r, "PING", "hello") == "hello"
    with raises_err("ERR wrong number of arguments for 'ping' command"):
        r.execute_command("PING", "a", "b")


def test_echo(r):
    assert r.echo("hi there") == "hi there"
    assert r.echo("") == ""
    with raises_err("ERR wrong number of arguments for 'echo' command"):
        r.execute_command("ECHO")
    with raises_err("ERR wrong number of arguments for 'echo' command"):
        r.execute_command("ECHO", "a", "b")


def test_echo_binary(tern):
    raw = tern(decode_responses=False)
    assert raw.echo(b"\x00\r\n\xff") == b"\x00\r\n\xff"


def test_unknown_command(r):
    with raises_err("ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' "):
        r.execute_command("NOSUCHCMD", "a", "b")
    with raises_err("ERR unknown command 'nosuchcmd', with args beginning with: "):
        r.execute_command("nosuchcmd")


def test_select(tern, k):
    c = tern(single_connection_client=True, decode_responses=True)
    assert c.execute_command("SELECT", 1) is True
    c.set(k(), "in-db1")
    assert c.execute_command("SELECT", 0) is True
    assert c.get(k()) is None
    assert c.execute_command("SELECT", 15) is True
    assert c.get(k()) is None
    c.execute_command("SELECT", 1)
    assert c.get(k()) == "in-db1"
    # db= on the client selects on connect.
    assert tern(db=1, decode_responses=True).get(k()) == "in-db1"


def test_select_errors(r):
    with raises_err("ERR DB index is out of range"):
        r.execute_command("SELECT", 16)
    with raises_err("ERR DB index is out of range"):
        r.execute_command("SELECT", -1)
    with raises_err("ERR value is not an integer or out of range"):
        r.execute_command("SELECT", "x")
    with raises_err("ERR wrong number of arguments for 'select' command"):
        r.execute_command("SELECT")


# ---------------------------------------------------------------------------------------------
# HELLO and RESP3


def test_hello_resp3_dict(tern):
    c = tern(protocol=3, decode_responses=True)
    h = c.execute_command("HELLO")
    assert isinstance(h, dict), h
    assert h["proto"] == 3
    assert h["server"] == "redis"
    assert h["version"].startswith("7.")
    assert isinstance(h["id"], int) and h["id"] > 0
    assert h["mode"] == "standalone"
    assert h["role"] == "master"
    assert h["modules"] == []
    # The handshake redis-py made on connect got the same map.
    conn = c.connection_pool.get_connection()
    try:
        meta = conn.handshake_metadata
        assert meta is not None
        assert (meta.get(b"proto") or meta.get("proto")) == 3
    finally:
        c.connection_pool.release(conn)


def test_hello_setname(tern):
    c = tern(protocol=3, decode_responses=True, single_connection_client=True)
    h = c.execute_command("HELLO", 3, "SETNAME", "hello-name")
    assert h["proto"] == 3
    assert c.client_getname() == "hello-name"


def test_hello_resp2_reply_is_flat(tern):
    c = tern(protocol=2, decode_responses=True, single_connection_client=True)
    h = c.execute_command("HELLO", 2)
    if isinstance(h, dict):  # redis-py may turn the flat list into a dict
        d = h
    else:
        assert isinstance(h, list) and len(h) % 2 == 0
        d = dict(zip(h[::2], h[1::2]))
    assert int(d["proto"]) == 2
    assert d["server"] == "redis"


def test_hello_errors(tern):
    c = tern(protocol=2, decode_responses=True, single_connection_client=True)
    with raises_err("NOPROTO unsupported protocol version"):
        c.execute_command("HELLO", 4)
    with raises_err("NOPROTO unsupported protocol version"):
        c.execute_command("HELLO", 1)
    with raises_err("ERR Protocol version is not an integer or out of range"):
        c.execute_command("HELLO", "x")
    with raises_err("ERR Syntax error in HELLO option 'BOGUS'"):
        c.execute_command("HELLO", 3, "BOGUS")


def test_resp3_types(tern, k):
    c = tern(protocol=3, decode_responses=True)
    c.set(k(), "1")
    assert c.get(k()) == "1"
    assert c.get(k("missing")) is None  # RESP3 null
    assert c.incr(k()) == 2
    assert c.mget(k(), k("missing")) == ["2", None]


# ---------------------------------------------------------------------------------------------
# AUTH


def test_auth_required(tern_auth):
    c = tern_auth(protocol=2, decode_responses=True)
    with raises_err("NOAUTH Authentication required.", exc=redis.AuthenticationError):
        c.ping()
    with raises_err("NOAUTH Authentication required.", exc=redis.AuthenticationError):
        c.get("x")


def test_auth_wrong_password(tern_auth):
    c = tern_auth(protocol=2, decode_responses=True, single_connection_client=True)
    with raises_err("WRONGPASS invalid username-password pair or user is disabled.", exc=redis.AuthenticationError):
        c.execute_command("AUTH", "wrong")
    with raises_err("WRONGPASS invalid username-password pair or user is disabled.", exc=redis.AuthenticationError):
        c.execute_command("AUTH", "nosuchuser", "s3cret")
    with raises_err("ERR syntax error"):
        c.execute_command("AUTH", "a", "b", "c")


def test_auth_ok(tern_auth):
    c = tern_auth(protocol=2, decode_responses=True, single_connection_client=True)
    assert c.execute_command("AUTH", "s3cret") is True
    assert c.ping() is True
    assert c.execute_command("AUTH", "default", "s3cret") is True
    # redis-py's own AUTH on connect, RESP2 and RESP3 (HELLO 3 AUTH default ...).
    assert tern_auth(password="s3cret", protocol=2).ping() is True
    assert tern_auth(password="s3cret", protocol=3).ping() is True
    assert tern_auth(username="default", password="s3cret", protocol=3).ping() is True


def test_auth_bad_password_on_connect(tern_auth):
    with pytest.raises(redis.AuthenticationError):
        tern_auth(password="nope", protocol=2).ping()
    with pytest.raises(redis.AuthenticationError):
        tern_auth(password="nope", protocol=3).ping()


def test_hello_needs_auth(tern_auth):
    c = tern_auth(protocol=2, decode_responses=True, single_connection_client=True)
    with pytest.raises(redis.AuthenticationError, match="HELLO must be called with the client already authenticated"):
        c.execute_command("HELLO", 3)
    # HELLO 2 AUTH: a RESP2 connection cannot parse HELLO 3's map.
    h = c.execute_command("HELLO", 2, "AUTH", "default", "s3cret")
    assert h
    assert c.ping() is True


def test_auth_without_password_configured(r):
    with raises_err(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?",
        exc=redis.AuthenticationError,
    ):
        r.execute_command("AUTH", "x")


# ---------------------------------------------------------------------------------------------
# CLIENT


def test_client_setname_getname(tern):
    c = tern(single_connection_client=True, decode_responses=True)
    assert c.client_getname() is None
    assert c.client_setname("py-test") is True
    assert c.client_getname() == "py-test"
    assert c.client_setname("") is True  # clears the name
    assert c.client_getname() is None
    with raises_err("ERR Client names cannot contain spaces, newlines or special characters."):
        c.client_setname("has space")


def test_client_name_on_connect(tern):
    c = tern(client_name="from-ctor", decode_responses=True)
    assert c.client_getname() == "from-ctor"


def test_client_id_list_info(tern):
    c = tern(single_connection_client=True, decode_responses=True)
    c.client_setname("lister")
    cid = c.client_id()
    assert isinstance(cid, int) and cid > 0
    other = tern(single_connection_client=True, decode_responses=True)
    assert other.client_id() != cid

    clients = c.client_list()
    mine = [e for e in clients if int(e["id"]) == cid]
    assert len(mine) == 1, clients
    e = mine[0]
    assert e["name"] == "lister"
    assert e["addr"].startswith("127.0.0.1:")
    assert e["cmd"] == "client|list"
    assert int(e["db"]) == 0
    for field in ("laddr", "fd", "age", "idle", "flags", "sub", "psub", "multi", "qbuf", "omem", "events", "user", "resp"):
        assert field in e, field
    assert any(int(x["id"]) == other.client_id() for x in c.client_list())

    info = c.client_info()
    assert int(info["id"]) == cid
    assert info["name"] == "lister"
    assert info["cmd"] == "client|info"

    by_id = c.client_list(client_id=[cid])
    assert [int(x["id"]) for x in by_id] == [cid]


def test_client_errors(r):
    with raises_err("ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP."):
        r.execute_command("CLIENT", "NOSUCH")
    with raises_err("ERR wrong number of arguments for 'client|setname' command"):
        r.execute_command("CLIENT", "SETNAME")


# ---------------------------------------------------------------------------------------------
# Pipelines


def test_pipeline_1000_commands_no_transaction(r, k):
    p = r.pipeline(transaction=False)
    for i in range(500):
        p.set(k(str(i)), i)
    for i in range(500):
        p.get(k(str(i)))
    res = p.execute()
    assert len(res) == 1000
    assert res[:500] == [True] * 500
    assert res[500:] == [str(i) for i in range(500)]


def test_pipeline_errors_in_place(r, k):
    r.set(k("s"), "notanumber")
    p = r.pipeline(transaction=False)
    p.set(k("a"), 1)
    p.incr(k("s"))
    p.get(k("a"))
    p.execute_command("NOSUCHCMD")
    p.echo("last")
    res = p.execute(raise_on_error=False)
    assert res[0] is True
    assert isinstance(res[1], redis.ResponseError)
    assert str(res[1]) == "value is not an integer or out of range"
    assert res[2] == "1"
    assert isinstance(res[3], redis.ResponseError)
    assert res[4] == "last"
    p = r.pipeline(transaction=False)
    p.incr(k("s"))
    p.get(k("a"))
    with pytest.raises(redis.ResponseError):
        p.execute()


def test_big_pipeline_raw(tern, k):
    raw = tern(decode_responses=False, protocol=2)
    p = raw.pipeline(transaction=False)
    v = b"x" * 1000
    for i in range(1000):
        p.set(k(str(i)), v)
    assert p.execute() == [True] * 1000
    p = raw.pipeline(transaction=False)
    for i in range(1000):
        p.get(k(str(i)))
    assert p.execute() == [v] * 1000


def test_unauthenticated_command_checks_come_before_noauth(tern_auth):
    # Redis looks the command up and checks its arity before it checks authentication, so an
    # unauthenticated client gets "unknown command"/arity errors, not NOAUTH. (redis-py 8 sends
    # CLIENT SETINFO on connect and ignores only a ResponseError: Redis 7.0 answers "unknown
    # subcommand", so a client made without a password can connect and AUTH later, as
    # test_auth_wrong_password and test_auth_ok do; a NOAUTH there fails the connection.)
    c = Resp(tern_auth.port)
    try:
        assert c.call("NOSUCHCMD", "x") == ("-", b"ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' ")
        assert c.call("CLIENT", "NOSUCHSUB") == ("-", b"ERR unknown subcommand 'NOSUCHSUB'. Try CLIENT HELP.")
        assert c.call("GET") == ("-", b"ERR wrong number of arguments for 'get' command")
        assert c.call("GET", "x") == ("-", b"NOAUTH Authentication required.")
        assert c.call("AUTH", "s3cret") == ("+", b"OK")
        assert c.call("GET", "x") == ("$", None)
    finally:
        c.close()
