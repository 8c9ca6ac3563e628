"""ACL through redis-py's acl_* helpers: users, rules, NOPERM errors, the ACL log, DRYRUN."""

import pytest
import redis

from conftest import start_tern


@pytest.fixture(scope="module")
def srv():
    s = start_tern()
    yield s
    s.stop()


@pytest.fixture
def admin(srv):
    c = srv(decode_responses=True)
    yield c
    for u in c.acl_users():
        if u != "default":
            c.acl_deluser(u)
    c.acl_log_reset()


def test_setuser_getuser_list_users_whoami(srv, admin):
    assert admin.acl_whoami() == "default"
    assert admin.acl_setuser(
        "alice", enabled=True, passwords=["+pa"], commands=["+get", "+set", "+@hash", "-hdel", "+acl|whoami", "+publish"],
        keys=["a*"], channels=["news.*"],
    )
    u = admin.acl_getuser("alice")
    assert "on" in u["flags"]
    assert len(u["passwords"]) == 1
    assert u["keys"] == ["~a*"] or u["keys"] == "~a*"
    assert "alice" in admin.acl_users()
    assert any(line.startswith("user alice on #") for line in admin.acl_list())
    alice = srv(decode_responses=True, username="alice", password="pa")
    assert alice.acl_whoami() == "alice"
    assert alice.set("a1", "v")
    assert alice.get("a1") == "v"
    with pytest.raises(redis.exceptions.NoPermissionError, match="no permissions to run the 'hdel' command"):
        alice.hdel("a1", "f")
    with pytest.raises(redis.exceptions.NoPermissionError, match="one of the keys"):
        alice.get("x")
    with pytest.raises(redis.exceptions.NoPermissionError, match="one of the channels"):
        alice.execute_command("PUBLISH", "sports", "m")


def test_wrong_password_and_disabled_user(srv, admin):
    admin.acl_setuser("bob", enabled=True, passwords=["+pb"], commands=["+@all"], keys=["*"])
    with pytest.raises(redis.exceptions.AuthenticationError):
        srv(username="bob", password="nope").ping()
    admin.acl_setuser("bob", enabled=False)
    with pytest.raises(redis.exceptions.AuthenticationError):
        srv(username="bob", password="pb").ping()
    log = admin.acl_log()
    assert log[0]["reason"] == "auth"
    assert log[0]["username"] == "bob"
    assert log[0]["count"] == 2
    assert {"count", "reason", "context", "object", "username", "age-seconds", "client-info"} <= set(log[0])


def test_acl_log_entries_for_commands_and_keys(srv, admin):
    admin.acl_setuser("carol", enabled=True, passwords=["+pc"], commands=["+get"], keys=["k*"])
    carol = srv(decode_responses=True, username="carol", password="pc")
    with pytest.raises(redis.exceptions.NoPermissionError):
        carol.set("k1", "v")
    with pytest.raises(redis.exceptions.NoPermissionError):
        carol.get("x")
    log = admin.acl_log(count=2)
    assert [(e["reason"], e["context"], e["object"], e["username"]) for e in log] == [
        ("key", "toplevel", "x", "carol"),
        ("command", "toplevel", "set", "carol"),
    ]
    assert log[0]["client-info"]["user"] == "carol"
    assert admin.acl_log_reset()
    assert admin.acl_log() == []


def test_dryrun_cat_genpass_and_deluser(srv, admin):
    admin.acl_setuser("dave", enabled=True, nopass=True, commands=["+get"], keys=["%R~r*"])
    assert admin.acl_dryrun("dave", "get", "r1") == "OK"
    assert admin.acl_dryrun("dave", "get", "x") == "This user has no permissions to access the 'x' key"
    assert admin.acl_dryrun("dave", "set", "r1", "v") == "This user has no permissions to run the 'set' command"
    assert "hash" in admin.acl_cat()
    assert "hset" in admin.acl_cat("hash")
    p = admin.acl_genpass()
    assert len(p) == 64 and int(p, 16) >= 0
    assert len(admin.acl_genpass(128)) == 32
    assert admin.acl_deluser("dave", "nosuch") == 1
    assert admin.acl_getuser("dave") is None
