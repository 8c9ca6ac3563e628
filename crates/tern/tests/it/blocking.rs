//! Blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP) with
//! many clients: serving order, timeouts, disconnects, CLIENT UNBLOCK, keys that change
//! under a blocked client, and requests pipelined behind a blocked command. Every test also
//! passes against real redis-server (`TERN_IT_SERVER=redis`).

use crate::harness::*;
use std::time::{Duration, Instant};

/// Waits until INFO clients reports `n` blocked clients.
fn wait_blocked(srv: &TestServer, n: i64) {
    let ok = wait_for(
        || {
            let info = text(&srv.must_cmd(&["INFO", "clients"]));
            info_field(&info, "blocked_clients").and_then(|v| v.parse::<i64>().ok()) == Some(n)
        },
        Duration::from_secs(10),
    );
    assert!(ok, "blocked_clients never reached {n}");
}

/// Sends a command on a raw connection without reading the reply.
fn send(c: &mut Raw, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&encode(&a));
}

fn arr(items: &[&str]) -> Resp {
    Resp::Array(Some(items.iter().map(Resp::bulk).collect()))
}

#[test]
fn blpop_returns_at_once_when_data_is_there() {
    let srv = TestServer::start();
    let mut c = srv.client();
    ok(&mut c, &["RPUSH", "b", "x", "y"]);
    let v = ok(&mut c, &["BLPOP", "a", "b", "0"]);
    assert_eq!(sorted_texts(&v).len(), 2);
    assert_eq!(items(&v), vec![bulk("b"), bulk("x")]);
    let v = ok(&mut c, &["BRPOP", "b", "0"]);
    assert_eq!(items(&v), vec![bulk("b"), bulk("y")]);
    assert_eq!(ok(&mut c, &["EXISTS", "b"]), int(0));
    // Wrong type is an error, not a wait.
    ok(&mut c, &["SET", "s", "v"]);
    assert!(err(&mut c, &["BLPOP", "s", "0"]).starts_with("WRONGTYPE"));
}

#[test]
fn blocked_client_is_served_before_the_pushers_next_command() {
    let srv = TestServer::start();
    let mut w = srv.raw_conn();
    send(&mut w, &["BLPOP", "k", "0"]);
    wait_blocked(&srv, 1);
    let mut p = srv.raw_conn();
    // The push and a pop pipelined behind it: the blocked client gets x, the pop gets nil.
    send(&mut p, &["RPUSH", "k", "x"]);
    send(&mut p, &["LPOP", "k"]);
    assert_eq!(p.read_reply(), Resp::Int(1));
    assert_eq!(p.read_reply(), Resp::Bulk(None));
    assert_eq!(w.read_reply(), arr(&["k", "x"]));
    wait_blocked(&srv, 0);
}

#[test]
fn clients_are_served_in_the_order_they_blocked() {
    let srv = TestServer::start();
    let mut waiters = Vec::new();
    for i in 0..5 {
        let mut w = srv.raw_conn();
        send(&mut w, &["BLPOP", "q", "other", "0"]);
        wait_blocked(&srv, i + 1);
        waiters.push(w);
    }
    let mut p = srv.client();
    ok(&mut p, &["RPUSH", "q", "e0", "e1", "e2", "e3", "e4"]);
    for (i, w) in waiters.iter_mut().enumerate() {
        assert_eq!(w.read_reply(), arr(&["q", &format!("e{i}")]));
    }
    assert_eq!(ok(&mut p, &["EXISTS", "q"]), int(0));
}

#[test]
fn many_clients_on_different_keys_each_get_their_own() {
    let srv = TestServer::start();
    let n = 20;
    let mut waiters = Vec::new();
    for i in 0..n {
        let mut w = srv.raw_conn();
        send(&mut w, &["BRPOP", &format!("key:{i}"), "shared", "5"]);
        waiters.push(w);
    }
    wait_blocked(&srv, n);
    let mut p = srv.client();
    for i in (0..n).rev() {
        ok(&mut p, &["LPUSH", &format!("key:{i}"), &format!("v{i}")]);
    }
    for (i, w) in waiters.iter_mut().enumerate() {
        assert_eq!(
            w.read_reply(),
            arr(&[&format!("key:{i}"), &format!("v{i}")])
        );
    }
    wait_blocked(&srv, 0);
}

#[test]
fn timeouts_have_sub_second_precision_and_reply_null() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    let t = Instant::now();
    assert_eq!(c.cmd(&["BLPOP", "none", "0.2"]), Resp::Array(None));
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(190), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(
        c.cmd(&["BLMOVE", "none", "d", "LEFT", "RIGHT", "0.05"]),
        Resp::Array(None)
    );
    assert_eq!(
        c.cmd(&["BRPOPLPUSH", "none", "d", "0.05"]),
        Resp::Array(None)
    );
    assert_eq!(c.cmd(&["BZPOPMIN", "none", "0.05"]), Resp::Array(None));
    assert_eq!(
        c.cmd(&["BLMPOP", "0.05", "1", "none", "LEFT"]),
        Resp::Array(None)
    );
    assert_eq!(
        c.cmd(&["BZMPOP", "0.05", "1", "none", "MAX"]),
        Resp::Array(None)
    );
    // RESP3: null.
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["BLPOP", "none", "0.05"]), Resp::Null);
    // Errors in the timeout argument, as Redis 7.0 words them.
    assert_eq!(
        c.cmd(&["BLPOP", "k", "abc"]),
        Resp::Error("ERR timeout is not a float or out of range".into())
    );
    assert_eq!(
        c.cmd(&["BLPOP", "k", "-1"]),
        Resp::Error("ERR timeout is negative".into())
    );
    assert_eq!(
        c.cmd(&["BLPOP", "k", "inf"]),
        Resp::Error("ERR timeout is negative".into())
    );
    wait_blocked(&srv, 0);
}

#[test]
fn requests_pipelined_behind_a_blocked_command_wait_for_it() {
    let srv = TestServer::start();
    let mut w = srv.raw_conn();
    let mut bytes = encode(&[b"BLPOP", b"k", b"0"]);
    bytes.extend(encode(&[b"PING"]));
    bytes.extend(encode(&[b"LLEN", b"k"]));
    w.send(&bytes);
    wait_blocked(&srv, 1);
    let mut p = srv.client();
    ok(&mut p, &["RPUSH", "k", "a", "b"]);
    assert_eq!(w.read_reply(), arr(&["k", "a"]));
    assert_eq!(w.read_reply(), Resp::Simple("PONG".into()));
    assert_eq!(w.read_reply(), Resp::Int(1));
}

#[test]
fn a_client_that_disconnects_while_blocked_takes_nothing() {
    let srv = TestServer::start();
    {
        let mut w = srv.raw_conn();
        send(&mut w, &["BLPOP", "k", "0"]);
        wait_blocked(&srv, 1);
    }
    wait_blocked(&srv, 0);
    let mut p = srv.client();
    ok(&mut p, &["RPUSH", "k", "kept"]);
    assert_eq!(
        ok(&mut p, &["LRANGE", "k", "0", "-1"]),
        redis::Value::Array(vec![bulk("kept")])
    );
}

#[test]
fn client_unblock_ends_the_wait_as_a_timeout_or_an_error() {
    let srv = TestServer::start();
    let mut w = srv.raw_conn();
    let id = match w.cmd(&["CLIENT", "ID"]) {
        Resp::Int(i) => i.to_string(),
        other => panic!("{other:?}"),
    };
    let mut p = srv.client();
    send(&mut w, &["BLPOP", "k", "0"]);
    wait_blocked(&srv, 1);
    assert_eq!(ok(&mut p, &["CLIENT", "UNBLOCK", &id]), int(1));
    assert_eq!(w.read_reply(), Resp::Array(None));
    send(&mut w, &["BZPOPMAX", "z", "0"]);
    wait_blocked(&srv, 1);
    assert_eq!(ok(&mut p, &["CLIENT", "UNBLOCK", &id, "ERROR"]), int(1));
    assert_eq!(
        w.read_reply(),
        Resp::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
    );
    assert_eq!(ok(&mut p, &["CLIENT", "UNBLOCK", &id]), int(0));
    assert_eq!(
        err(&mut p, &["CLIENT", "UNBLOCK", &id, "MAYBE"]),
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    );
}

#[test]
fn blmove_chains_wake_the_next_waiter() {
    let srv = TestServer::start();
    let mut a = srv.raw_conn();
    send(&mut a, &["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]);
    wait_blocked(&srv, 1);
    let mut b = srv.raw_conn();
    send(&mut b, &["BLPOP", "dst", "0"]);
    wait_blocked(&srv, 2);
    let mut p = srv.client();
    ok(&mut p, &["LPUSH", "src", "x"]);
    assert_eq!(a.read_reply(), Resp::bulk("x"));
    assert_eq!(b.read_reply(), arr(&["dst", "x"]));
    assert_eq!(ok(&mut p, &["EXISTS", "src", "dst"]), int(0));
    // BRPOPLPUSH with data: at once.
    ok(&mut p, &["RPUSH", "s2", "1", "2"]);
    assert_eq!(ok(&mut p, &["BRPOPLPUSH", "s2", "d2", "0"]), bulk("2"));
    assert_eq!(
        ok(&mut p, &["LRANGE", "d2", "0", "-1"]),
        redis::Value::Array(vec![bulk("2")])
    );
}

#[test]
fn keys_that_change_under_a_blocked_client() {
    let srv = TestServer::start();
    let mut w = srv.raw_conn();
    send(&mut w, &["BLPOP", "k", "0"]);
    wait_blocked(&srv, 1);
    let mut p = srv.client();
    // Another type appears and goes: the client stays blocked.
    ok(&mut p, &["SET", "k", "string"]);
    ok(&mut p, &["DEL", "k"]);
    // A list renamed onto the key serves it.
    ok(&mut p, &["RPUSH", "tmp", "renamed"]);
    ok(&mut p, &["RENAME", "tmp", "k"]);
    assert_eq!(w.read_reply(), arr(&["k", "renamed"]));
    // A key that expires: a string with a TTL refuses BLPOP; once expired, BLPOP waits.
    ok(&mut p, &["SET", "e", "v", "PX", "50"]);
    assert!(matches!(w.cmd(&["BLPOP", "e", "0"]), Resp::Error(e) if e.starts_with("WRONGTYPE")));
    std::thread::sleep(Duration::from_millis(100));
    send(&mut w, &["BLPOP", "e", "0"]);
    wait_blocked(&srv, 1);
    ok(&mut p, &["LPUSH", "e", "fresh"]);
    assert_eq!(w.read_reply(), arr(&["e", "fresh"]));
}

#[test]
fn sorted_set_and_mpop_waiters_get_their_reply_shapes() {
    let srv = TestServer::start();
    let mut a = srv.raw_conn();
    send(&mut a, &["BZPOPMIN", "z", "0"]);
    wait_blocked(&srv, 1);
    let mut b = srv.raw_conn();
    send(&mut b, &["BZMPOP", "0", "2", "y", "z", "MAX", "COUNT", "5"]);
    wait_blocked(&srv, 2);
    let mut c = srv.raw_conn();
    send(&mut c, &["BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "2"]);
    wait_blocked(&srv, 3);
    let mut p = srv.client();
    ok(&mut p, &["ZADD", "z", "1", "one", "2", "two", "3", "three"]);
    assert_eq!(
        a.read_reply(),
        Resp::Array(Some(vec![
            Resp::bulk("z"),
            Resp::bulk("one"),
            Resp::bulk("1")
        ]))
    );
    assert_eq!(
        b.read_reply(),
        Resp::Array(Some(vec![
            Resp::bulk("z"),
            Resp::Array(Some(vec![
                Resp::Array(Some(vec![Resp::bulk("three"), Resp::bulk("3")])),
                Resp::Array(Some(vec![Resp::bulk("two"), Resp::bulk("2")])),
            ])),
        ]))
    );
    ok(&mut p, &["RPUSH", "l", "a", "b", "c"]);
    assert_eq!(
        c.read_reply(),
        Resp::Array(Some(vec![Resp::bulk("l"), arr(&["c", "b"])]))
    );
    // Argument errors, checked before blocking.
    assert_eq!(
        err(&mut p, &["BLMPOP", "0", "0", "l", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        err(&mut p, &["BZMPOP", "0", "1", "z", "LEFT"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut p, &["BLMOVE", "a", "b", "UP", "LEFT", "0"]),
        "ERR syntax error"
    );
}

#[test]
fn pushes_inside_multi_exec_and_scripts_wake_blocked_clients_after_they_finish() {
    let srv = TestServer::start();
    let mut w = srv.raw_conn();
    send(&mut w, &["BLPOP", "q", "0"]);
    wait_blocked(&srv, 1);
    let mut p = srv.raw_conn();
    // Inside the transaction the element is pushed and popped again: nothing is left to serve
    // when EXEC ends, so the client stays blocked.
    assert_eq!(p.cmd(&["MULTI"]), Resp::Simple("OK".into()));
    p.cmd(&["RPUSH", "q", "gone"]);
    p.cmd(&["LPOP", "q"]);
    assert_eq!(
        p.cmd(&["EXEC"]),
        Resp::Array(Some(vec![Resp::Int(1), Resp::bulk("gone")]))
    );
    p.cmd(&["MULTI"]);
    p.cmd(&["RPUSH", "q", "m1", "m2"]);
    p.cmd(&["LLEN", "q"]);
    assert_eq!(
        p.cmd(&["EXEC"]),
        Resp::Array(Some(vec![Resp::Int(2), Resp::Int(2)]))
    );
    assert_eq!(w.read_reply(), arr(&["q", "m1"]));
    assert_eq!(p.cmd(&["LRANGE", "q", "0", "-1"]), arr(&["m2"]));
    // A push by a script wakes a blocked client once the script ends.
    send(&mut w, &["BLPOP", "q2", "0"]);
    wait_blocked(&srv, 1);
    assert_eq!(
        p.cmd(&[
            "EVAL",
            "redis.call('RPUSH', KEYS[1], 'from-lua'); return 1",
            "1",
            "q2"
        ]),
        Resp::Int(1)
    );
    assert_eq!(w.read_reply(), arr(&["q2", "from-lua"]));
    // A blocking command inside MULTI does not block: it times out at once.
    p.cmd(&["MULTI"]);
    p.cmd(&["BLPOP", "empty", "0"]);
    assert_eq!(p.cmd(&["EXEC"]), Resp::Array(Some(vec![Resp::Array(None)])));
}
