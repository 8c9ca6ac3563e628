//! MULTI/EXEC/DISCARD/WATCH/UNWATCH with real clients; all pass against redis-server too
//! (`TERN_IT_SERVER=redis`).

use crate::harness::*;
use std::time::Duration;

fn simple(s: &str) -> Resp {
    Resp::Simple(s.into())
}

#[test]
fn multi_exec_discard_replies_as_redis() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd(&["MULTI"]), simple("OK"));
    assert_eq!(c.cmd(&["SET", "a", "x"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["INCR", "a"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["SET", "b", "2"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["PING"]), simple("QUEUED"));
    assert_eq!(
        c.cmd(&["EXEC"]),
        Resp::Array(Some(vec![
            simple("OK"),
            Resp::Error("ERR value is not an integer or out of range".into()),
            simple("OK"),
            simple("PONG"),
        ]))
    );
    assert_eq!(
        c.cmd(&["EXEC"]),
        Resp::Error("ERR EXEC without MULTI".into())
    );
    assert_eq!(
        c.cmd(&["DISCARD"]),
        Resp::Error("ERR DISCARD without MULTI".into())
    );
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "gone", "1"]);
    assert_eq!(c.cmd(&["DISCARD"]), simple("OK"));
    assert_eq!(c.cmd(&["EXISTS", "gone"]), Resp::Int(0));
    // Queuing errors: EXECABORT, nothing runs.
    c.cmd(&["MULTI"]);
    assert_eq!(
        c.cmd(&["MULTI"]),
        Resp::Error("ERR MULTI calls can not be nested".into())
    );
    assert_eq!(
        c.cmd(&["WATCH", "x"]),
        Resp::Error("ERR WATCH inside MULTI is not allowed".into())
    );
    c.cmd(&["SET", "n", "1"]);
    assert!(
        matches!(c.cmd(&["NOSUCHCOMMAND"]), Resp::Error(e) if e.starts_with("ERR unknown command"))
    );
    assert_eq!(
        c.cmd(&["EXEC"]),
        Resp::Error("EXECABORT Transaction discarded because of previous errors.".into())
    );
    assert_eq!(c.cmd(&["EXISTS", "n"]), Resp::Int(0));
    // RESET ends a transaction.
    c.cmd(&["MULTI"]);
    assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
    assert_eq!(
        c.cmd(&["EXEC"]),
        Resp::Error("ERR EXEC without MULTI".into())
    );
}

#[test]
fn watch_aborts_on_changes_by_others_expiry_and_flushes() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    let mut o = srv.client();
    ok(&mut o, &["SET", "w", "1"]);
    assert_eq!(c.cmd(&["WATCH", "w"]), simple("OK"));
    ok(&mut o, &["INCR", "w"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "w", "mine"]);
    assert_eq!(c.cmd(&["EXEC"]), Resp::Array(None));
    assert_eq!(ok(&mut o, &["GET", "w"]), bulk("2"));
    // Untouched: runs.
    c.cmd(&["WATCH", "w"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "w"]);
    assert_eq!(c.cmd(&["EXEC"]), Resp::Array(Some(vec![Resp::Int(3)])));
    // A watched key that expires before EXEC aborts it.
    ok(&mut o, &["SET", "t", "v", "PX", "100"]);
    c.cmd(&["WATCH", "t"]);
    std::thread::sleep(Duration::from_millis(200));
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["EXEC"]), Resp::Array(None));
    // FLUSHDB and SWAPDB touch watched keys.
    c.cmd(&["WATCH", "w"]);
    ok(&mut o, &["FLUSHDB"]);
    c.cmd(&["MULTI"]);
    assert_eq!(c.cmd(&["EXEC"]), Resp::Array(None));
    ok(&mut o, &["SET", "w", "1"]);
    c.cmd(&["WATCH", "w"]);
    ok(&mut o, &["SWAPDB", "0", "1"]);
    c.cmd(&["MULTI"]);
    assert_eq!(c.cmd(&["EXEC"]), Resp::Array(None));
    // UNWATCH forgets.
    c.cmd(&["WATCH", "w"]);
    ok(&mut o, &["SET", "w", "changed"]);
    c.cmd(&["UNWATCH"]);
    c.cmd(&["MULTI"]);
    assert_eq!(c.cmd(&["EXEC"]), Resp::Array(Some(vec![])));
}

#[test]
fn redis_crate_atomic_pipelines_work() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let (a, b): (i64, i64) = redis::pipe()
        .atomic()
        .cmd("INCR")
        .arg("p")
        .cmd("INCRBY")
        .arg("p")
        .arg(10)
        .query(&mut c)
        .expect("atomic pipeline");
    assert_eq!((a, b), (1, 11));
}

/// EXEC is atomic with respect to every other client on every core: writers increment two
/// keys in one transaction each, a reader checks with MGET that it never sees one without the
/// other.
#[test]
fn exec_is_atomic_across_cores() {
    assert_x_y_never_torn("transaction", 4, 300, |c| {
        let _: () = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg("x")
            .ignore()
            .cmd("INCR")
            .arg("y")
            .ignore()
            .query(c)
            .expect("transaction");
    });
}

/// Random sequences of transaction commands mixed with string commands, run on tern and on
/// redis-server side by side: every reply (QUEUED, EXEC arrays, EXECABORT, nested-MULTI
/// errors, WATCH aborts) must be equal.
#[test]
fn transactions_reply_exactly_like_redis() {
    use crate::differential::{differential_with, key, op, pick, string_ops, with};
    use proptest::prelude::*;
    let mut ops = string_ops();
    for _ in 0..4 {
        ops.push(op(
            pick(&["MULTI", "EXEC", "DISCARD", "UNWATCH"]).prop_map(|c| vec![c])
        ));
    }
    ops.push(op(
        prop::collection::vec(key(), 1..3).prop_map(|k| with("WATCH", k))
    ));
    // Commands that fail while queueing (arity, unknown) doom the transaction.
    ops.push(op(pick(&["SET", "NOSUCHCMD", "GET"]).prop_map(|c| vec![c])));
    differential_with(ops, false, 96, |_, v| v);
}

#[test]
fn a_client_that_disconnects_mid_multi_leaves_nothing_behind() {
    let srv = TestServer::start();
    {
        let mut c = srv.raw_conn();
        c.cmd(&["WATCH", "w"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", "never", "1"]);
        c.cmd(&["INCR", "never2"]);
    }
    let mut o = srv.client();
    // The queued commands never ran, and the server serves everyone else.
    let ok_ = wait_for(
        || {
            let list = text(&ok(&mut o, &["CLIENT", "LIST"]));
            list.lines().count() == 1
        },
        std::time::Duration::from_secs(10),
    );
    assert!(ok_, "the disconnected client is still listed");
    assert_eq!(ok(&mut o, &["EXISTS", "never", "never2"]), int(0));
    ok(&mut o, &["SET", "w", "changed"]);
    assert_eq!(ok(&mut o, &["GET", "w"]), bulk("changed"));
}

/// SORT ... STORE names its destination (Redis's sortGetKeys): a WATCH on it is aborted when
/// another client stores there, and an FCALL that writes a watched key aborts the watcher too.
#[test]
fn watch_sees_sort_store_destinations_and_function_writes() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    let mut o = srv.client();
    ok(&mut o, &["RPUSH", "src", "3", "1", "2"]);
    assert_eq!(c.cmd(&["WATCH", "dst"]), simple("OK"));
    assert_eq!(ok(&mut o, &["SORT", "src", "STORE", "dst"]), Value::Int(3));
    c.cmd(&["MULTI"]);
    c.cmd(&["GET", "x"]);
    assert_eq!(c.cmd(&["EXEC"]), Resp::Array(None));
    let lib = "#!lua name=w\nredis.register_function('setk', function(k, a) return redis.call('set', k[1], a[1]) end)";
    ok(&mut o, &["FUNCTION", "LOAD", "REPLACE", lib]);
    assert_eq!(c.cmd(&["WATCH", "fk"]), simple("OK"));
    ok(&mut o, &["FCALL", "setk", "1", "fk", "v"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["GET", "fk"]);
    assert_eq!(c.cmd(&["EXEC"]), Resp::Array(None));
}

/// FLUSHALL, FLUSHDB and SWAPDB invalidate a WATCH only for keys that existed (Redis's
/// touchAllWatchedKeysInDb), so a WATCH on a missing key survives a FLUSHALL.
#[test]
fn flushes_touch_only_watched_keys_that_existed() {
    let s = TestServer::start();
    let mut c = s.client();
    let mut other = s.client();
    for flush in [
        &["FLUSHALL"][..],
        &["FLUSHDB"][..],
        &["SWAPDB", "0", "1"][..],
    ] {
        ok(&mut other, &["FLUSHALL"]);
        ok(&mut c, &["WATCH", "a"]);
        ok(&mut other, flush);
        ok(&mut c, &["MULTI"]);
        ok(&mut c, &["GET", "b"]);
        assert_eq!(
            ok(&mut c, &["EXEC"]),
            redis::Value::Array(vec![redis::Value::Nil]),
            "{flush:?} with no key 'a'"
        );
        ok(&mut other, &["SET", "a", "1"]);
        ok(&mut c, &["WATCH", "a"]);
        ok(&mut other, flush);
        ok(&mut c, &["MULTI"]);
        ok(&mut c, &["GET", "b"]);
        assert_eq!(
            ok(&mut c, &["EXEC"]),
            redis::Value::Nil,
            "{flush:?} with 'a' present"
        );
    }
}
