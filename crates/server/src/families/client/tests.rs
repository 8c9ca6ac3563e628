//! Tests for CLIENT.

use super::*;
use crate::families::command::test_support::*;
use crate::testkit::frames::*;
use crate::testkit::TestDb;
use tern_resp::Frame;

fn fields(line: &str) -> Vec<(String, String)> {
    line.split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn client_list_line_has_redis_7_2_fields() {
    let mut t = TestDb::new();
    t.run(&["CLIENT", "SETNAME", "me"]);
    t.run(&["SELECT", "3"]);
    let text = must_str(t.run(&["CLIENT", "LIST"]));
    assert!(text.ends_with('\n'));
    let line = text.lines().next().unwrap();
    let f = fields(line);
    let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp",
            "lib-name",
            "lib-ver"
        ]
    );
    let get = |k: &str| f.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(get("id"), t.cl.info.id.to_string());
    assert_eq!(get("name"), "me");
    assert_eq!(get("flags"), "N");
    assert_eq!(get("db"), "3");
    assert_eq!(get("cmd"), "client|list");
    assert_eq!(get("resp"), "2");
    assert_eq!(get("argv-mem"), "10");
}

#[test]
fn other_clients_show_their_last_command() {
    let mut a = TestDb::new();
    let mut b = TestDb::connect(a.srv.clone());
    b.run(&["GET", "x"]);
    b.run(&["CLIENT", "SETINFO", "LIB-NAME", "redis-py"]);
    b.run(&["CLIENT", "SETINFO", "lib-ver", "5.0"]);
    let c = TestDb::connect(a.srv.clone());
    let id = b.cl.info.id.to_string();
    let text = must_str(a.run(&["CLIENT", "LIST", "ID", &id]));
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains(" cmd=client|setinfo "), "{text}");
    assert!(text.ends_with(" lib-name=redis-py lib-ver=5.0\n"));
    let cid = c.cl.info.id.to_string();
    let text = must_str(a.run(&["CLIENT", "LIST", "ID", &cid]));
    assert!(text.contains(" cmd=NULL "));
    let all = must_str(a.run(&["CLIENT", "LIST", "TYPE", "normal"]));
    assert_eq!(all.lines().count(), 3);
    assert_eq!(a.run(&["CLIENT", "LIST", "TYPE", "pubsub"]), bulk(""));
    assert_eq!(
        must_err(a.run(&["CLIENT", "LIST", "TYPE", "foo"])),
        "ERR Unknown client type 'foo'"
    );
    assert_eq!(
        must_err(a.run(&["CLIENT", "LIST", "ID", "1", "abc"])),
        "ERR Invalid client ID"
    );
    assert_eq!(
        must_err(a.run(&["CLIENT", "LIST", "ID"])),
        "ERR syntax error"
    );
}

#[test]
fn names_ids_and_setinfo_errors() {
    let mut t = TestDb::new();
    assert_eq!(t.run(&["CLIENT", "GETNAME"]), Frame::Null);
    assert_eq!(t.run(&["CLIENT", "SETNAME", "x"]), ok());
    assert_eq!(t.run(&["CLIENT", "GETNAME"]), bulk("x"));
    assert_eq!(t.run(&["CLIENT", "SETNAME", ""]), ok());
    assert_eq!(t.run(&["CLIENT", "GETNAME"]), Frame::Null);
    assert_eq!(
        must_err(t.run(&["CLIENT", "SETNAME", "a b"])),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(t.run(&["CLIENT", "ID"]), int(t.cl.info.id as i64));
    assert_eq!(
        must_err(t.run(&["CLIENT", "SETINFO", "foo", "x"])),
        "ERR Unrecognized option 'foo'"
    );
    assert_eq!(
        must_err(t.run(&["CLIENT", "SETINFO", "LIB-NAME", "a b"])),
        "ERR LIB-NAME cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        must_err(t.run(&["CLIENT", "NOSUCH"])),
        "ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP."
    );
    assert_eq!(t.run(&["CLIENT", "NO-EVICT", "on"]), ok());
    assert_eq!(t.run(&["CLIENT", "NO-TOUCH", "on"]), ok());
    assert!(must_str(t.run(&["CLIENT", "INFO"])).contains(" flags=eT "));
    assert_eq!(
        must_err(t.run(&["CLIENT", "NO-EVICT", "maybe"])),
        "ERR syntax error"
    );
    assert_eq!(t.run(&["CLIENT", "GETREDIR"]), int(-1));
    let help = must_strings(t.run(&["CLIENT", "HELP"]));
    assert!(help[0].starts_with("CLIENT <subcommand>"));
}

#[test]
fn reply_off_and_skip_suppress_replies() {
    let mut t = TestDb::new();
    assert_eq!(run_quiet(&mut t, &["CLIENT", "REPLY", "OFF"]), None);
    assert_eq!(run_quiet(&mut t, &["SET", "a", "1"]), None);
    assert_eq!(run_quiet(&mut t, &["GET", "a"]), None);
    assert_eq!(run_quiet(&mut t, &["CLIENT", "REPLY", "ON"]), Some(ok()));
    assert_eq!(run_quiet(&mut t, &["GET", "a"]), Some(bulk("1")));
    assert_eq!(run_quiet(&mut t, &["CLIENT", "REPLY", "SKIP"]), None);
    assert_eq!(run_quiet(&mut t, &["GET", "a"]), None);
    assert_eq!(run_quiet(&mut t, &["GET", "a"]), Some(bulk("1")));
    assert_eq!(
        run_quiet(&mut t, &["CLIENT", "REPLY", "foo"]),
        Some(err("ERR syntax error"))
    );
}

#[test]
fn kill_by_filters_and_self() {
    let mut a = TestDb::new();
    let b = TestDb::connect(a.srv.clone());
    let bid = b.cl.info.id.to_string();
    assert_eq!(a.run(&["CLIENT", "KILL", "ID", "999"]), int(0));
    assert_eq!(a.run(&["CLIENT", "KILL", "ID", &bid]), int(1));
    assert!(b.cl.info.killed.load(Relaxed));
    let e = |a: &mut TestDb, args: &[&str]| must_err(a.run(args));
    assert_eq!(
        e(&mut a, &["CLIENT", "KILL", "ID", "0"]),
        "ERR client-id should be greater than 0"
    );
    assert_eq!(
        e(&mut a, &["CLIENT", "KILL", "TYPE", "foo"]),
        "ERR Unknown client type 'foo'"
    );
    assert_eq!(
        e(&mut a, &["CLIENT", "KILL", "USER", "bob"]),
        "ERR No such user 'bob'"
    );
    assert_eq!(
        e(&mut a, &["CLIENT", "KILL", "SKIPME", "maybe"]),
        "ERR syntax error"
    );
    assert_eq!(
        e(&mut a, &["CLIENT", "KILL", "foo", "bar"]),
        "ERR syntax error"
    );
    assert_eq!(
        e(&mut a, &["CLIENT", "KILL", "ID", "1", "TYPE"]),
        "ERR syntax error"
    );
    assert_eq!(
        e(&mut a, &["CLIENT", "KILL", "1.2.3.4:5"]),
        "ERR No such client"
    );
    // SKIPME defaults to yes: the caller survives a kill that matches it. `b`, killed above,
    // is gone even though (in this harness) nothing unregistered it, so nobody else matches.
    assert_eq!(a.run(&["CLIENT", "KILL", "TYPE", "normal"]), int(0));
    let c = TestDb::connect(a.srv.clone());
    assert_eq!(a.run(&["CLIENT", "KILL", "TYPE", "normal"]), int(1));
    assert!(c.cl.info.killed.load(Relaxed));
    assert!(!a.cl.close_after_reply);
    let me = a.cl.info.id.to_string();
    assert_eq!(
        a.run(&["CLIENT", "KILL", "ID", &me, "SKIPME", "no"]),
        int(1)
    );
    assert!(a.cl.close_after_reply && !a.cl.info.killed.load(Relaxed));
}

#[test]
fn pause_and_unpause() {
    let mut t = TestDb::new();
    assert_eq!(
        must_err(t.run(&["CLIENT", "PAUSE", "abc"])),
        "ERR timeout is not an integer or out of range"
    );
    assert_eq!(
        must_err(t.run(&["CLIENT", "PAUSE", "-1"])),
        "ERR timeout is negative"
    );
    assert_eq!(
        must_err(t.run(&["CLIENT", "PAUSE", "10", "foo"])),
        "ERR CLIENT PAUSE mode must be WRITE or ALL"
    );
    assert_eq!(t.run(&["CLIENT", "PAUSE", "100000", "WRITE"]), ok());
    assert!(t.srv.pause.must_wait(true, t.now()));
    assert!(!t.srv.pause.must_wait(false, t.now()));
    assert_eq!(t.run(&["GET", "a"]), Frame::Null);
    assert_eq!(t.run(&["CLIENT", "UNPAUSE"]), ok());
    assert!(!t.srv.pause.must_wait(true, t.now()));
    assert_eq!(t.run(&["SET", "a", "1"]), ok());
}

#[test]
fn locality() {
    assert!(is_local("127.0.0.1:5000"));
    assert!(is_local("[::1]:5000"));
    assert!(!is_local("10.0.0.1:5000"));
    assert!(is_local("/tmp/redis.sock"));
}
