//! Tests of DBSIZE FLUSHDB FLUSHALL SWAPDB.

use crate::testkit::frames::{bulk, err, int, ok};
use crate::testkit::TestDb;
use tern_resp::Frame;

fn log(items: &[&[&str]]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

/// Fills database `db` with `n` keys named `prefix:i`.
fn fill(t: &mut TestDb, db: usize, prefix: &str, n: usize) {
    t.run(&["SELECT", &db.to_string()]);
    for i in 0..n {
        t.run(&["SET", &format!("{prefix}:{i}"), "v"]);
    }
    t.run(&["SELECT", "0"]);
}

fn dbsize(t: &mut TestDb, db: usize) -> i64 {
    let old = t.cl.db;
    t.cl.db = db;
    let n = match t.run(&["DBSIZE"]) {
        Frame::Integer(n) => n,
        f => panic!("{f:?}"),
    };
    t.cl.db = old;
    n
}

#[test]
fn dbsize_counts_every_shard() {
    let mut t = TestDb::with_workers(4);
    assert_eq!(t.run(&["DBSIZE"]), int(0));
    fill(&mut t, 0, "a", 300);
    fill(&mut t, 5, "b", 7);
    assert_eq!(dbsize(&mut t, 0), 300);
    assert_eq!(dbsize(&mut t, 5), 7);
    assert_eq!(
        t.run(&["DBSIZE", "x"]),
        err("ERR wrong number of arguments for 'dbsize' command")
    );
}

#[test]
fn flushdb_empties_only_the_current_database() {
    for mode in [None, Some("SYNC"), Some("async"), Some("ASYNC")] {
        let mut t = TestDb::with_workers(4);
        fill(&mut t, 0, "a", 100);
        fill(&mut t, 1, "b", 50);
        t.cl.db = 1;
        let off = t.log_offset();
        let mut cmd = vec!["FLUSHDB"];
        cmd.extend(mode);
        assert_eq!(t.run(&cmd), ok());
        assert_eq!(dbsize(&mut t, 1), 0);
        assert_eq!(dbsize(&mut t, 0), 100);
        let c: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        assert_eq!(t.writes_since(off), vec![c]);
        // The emptied database works as before.
        t.run(&["SET", "b:1", "x"]);
        assert_eq!(t.run(&["GET", "b:1"]), bulk("x"));
    }
}

#[test]
fn flushall_empties_every_database_and_always_propagates() {
    for mode in [None, Some("sync"), Some("ASYNC")] {
        let mut t = TestDb::with_workers(4);
        fill(&mut t, 0, "a", 100);
        fill(&mut t, 15, "b", 50);
        let off = t.log_offset();
        let mut cmd = vec!["FLUSHALL"];
        cmd.extend(mode);
        assert_eq!(t.run(&cmd), ok());
        assert_eq!(dbsize(&mut t, 0), 0);
        assert_eq!(dbsize(&mut t, 15), 0);
        // Even on empty databases.
        assert_eq!(t.run(&cmd), ok());
        let c: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        assert_eq!(t.writes_since(off), vec![c.clone(), c]);
    }
}

#[test]
fn flushdb_is_logged_for_the_current_database() {
    let mut t = TestDb::new();
    t.run(&["SET", "a", "1"]);
    t.run(&["SELECT", "4"]);
    let off = t.log_offset();
    t.run(&["FLUSHDB"]);
    assert_eq!(t.log_since(off), log(&[&["SELECT", "4"], &["FLUSHDB"]]));
}

#[test]
fn flush_syntax_errors() {
    let mut t = TestDb::new();
    for cmd in ["FLUSHDB", "FLUSHALL"] {
        assert_eq!(t.run(&[cmd, "x"]), err("ERR syntax error"));
        assert_eq!(t.run(&[cmd, "ASYNC", "SYNC"]), err("ERR syntax error"));
    }
}

#[test]
fn flushes_propagate_pending_expiry_dels_first() {
    let mut t = TestDb::with_workers(4);
    t.clock = Some(1_000_000);
    t.run(&["SET", "k", "v", "PX", "10"]);
    t.clock = Some(1_000_010);
    // MGET notices the expired key; the DEL goes out when MGET releases the lock.
    t.run(&["MGET", "k"]);
    let off = t.log_offset();
    t.run(&["FLUSHALL"]);
    assert_eq!(t.writes_since(off), log(&[&["FLUSHALL"]]));
}

#[test]
fn swapdb_swaps_contents_and_propagates_as_sent() {
    let mut t = TestDb::with_workers(4);
    t.clock = Some(1_000_000);
    fill(&mut t, 0, "a", 40);
    fill(&mut t, 3, "b", 10);
    t.run(&["SET", "ttl", "v", "PX", "5000"]);
    let off = t.log_offset();
    assert_eq!(t.run(&["SWAPDB", "0", "3"]), ok());
    assert_eq!(dbsize(&mut t, 0), 10);
    assert_eq!(dbsize(&mut t, 3), 41);
    assert_eq!(t.run(&["GET", "b:1"]), bulk("v"));
    t.cl.db = 3;
    assert_eq!(t.run(&["PTTL", "ttl"]), int(5000));
    t.cl.db = 0;
    assert_eq!(t.run(&["SWAPDB", "2", "2"]), ok());
    assert_eq!(
        t.writes_since(off),
        log(&[&["SWAPDB", "0", "3"], &["SWAPDB", "2", "2"]])
    );
}

#[test]
fn swapdb_errors() {
    let mut t = TestDb::new();
    assert_eq!(
        t.run(&["SWAPDB", "a", "1"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(
        t.run(&["SWAPDB", "1", "a"]),
        err("ERR invalid second DB index")
    );
    assert_eq!(
        t.run(&["SWAPDB", "1", "99999999999"]),
        err("ERR invalid second DB index")
    );
    assert_eq!(
        t.run(&["SWAPDB", "0", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        t.run(&["SWAPDB", "-1", "0"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        t.run(&["SWAPDB", "0"]),
        err("ERR wrong number of arguments for 'swapdb' command")
    );
}
