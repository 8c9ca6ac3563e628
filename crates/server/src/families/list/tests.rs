//! List commands through the socket-free harness: replies (with the exact RESP2/RESP3 null
//! forms), errors, key deletion when a list empties, and propagated forms.

use crate::testkit::frames::{bulk, bulks, err, int, ok};
use crate::testkit::TestDb;
use tern_resp::Frame;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn log(items: &[&[&str]]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

/// Runs `cmd` and returns what it propagated.
fn propagated(t: &mut TestDb, cmd: &[&str]) -> Vec<Vec<String>> {
    let off = t.log_offset();
    t.run(cmd);
    t.writes_since(off)
}

/// Runs `cmd` and returns the raw reply bytes (to tell `$-1` from `*-1`).
fn raw(t: &mut TestDb, cmd: &[&str]) -> String {
    t.run(cmd);
    String::from_utf8_lossy(&t.out.buf).into_owned()
}

fn range(t: &mut TestDb, key: &str) -> Frame {
    t.run(&["LRANGE", key, "0", "-1"])
}

#[test]
fn push_pop_and_length() {
    let mut t = TestDb::new();
    assert_eq!(t.run(&["RPUSH", "l", "a", "b", "c"]), int(3));
    assert_eq!(t.run(&["LPUSH", "l", "x", "y"]), int(5));
    assert_eq!(range(&mut t, "l"), bulks(&["y", "x", "a", "b", "c"]));
    assert_eq!(t.run(&["LLEN", "l"]), int(5));
    assert_eq!(t.run(&["LPOP", "l"]), bulk("y"));
    assert_eq!(t.run(&["RPOP", "l"]), bulk("c"));
    assert_eq!(t.run(&["LPOP", "l", "2"]), bulks(&["x", "a"]));
    assert_eq!(t.run(&["RPOP", "l", "5"]), bulks(&["b"]));
    assert_eq!(t.run(&["EXISTS", "l"]), int(0));
    assert_eq!(t.run(&["LPUSHX", "l", "a"]), int(0));
    assert_eq!(t.run(&["RPUSHX", "l", "a"]), int(0));
    assert_eq!(t.run(&["EXISTS", "l"]), int(0));
    t.run(&["RPUSH", "l", "1"]);
    assert_eq!(t.run(&["RPUSHX", "l", "2", "3"]), int(3));
    assert_eq!(t.run(&["LPUSHX", "l", "0"]), int(4));
    assert_eq!(range(&mut t, "l"), bulks(&["0", "1", "2", "3"]));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "l"]), bulk("quicklist"));
    assert_eq!(t.run(&["TYPE", "l"]), Frame::Simple("list".into()));
    assert_eq!(t.run(&["RPOP", "l", "3"]), bulks(&["3", "2", "1"]));
}

#[test]
fn pop_null_forms_follow_redis() {
    let mut t = TestDb::new();
    assert_eq!(raw(&mut t, &["LPOP", "nokey"]), "$-1\r\n");
    assert_eq!(raw(&mut t, &["LPOP", "nokey", "1"]), "*-1\r\n");
    assert_eq!(raw(&mut t, &["LPOP", "nokey", "0"]), "*-1\r\n");
    t.run(&["RPUSH", "l", "a"]);
    assert_eq!(raw(&mut t, &["RPOP", "l", "0"]), "*0\r\n");
    assert_eq!(raw(&mut t, &["LMPOP", "1", "nokey", "LEFT"]), "*-1\r\n");
    assert_eq!(raw(&mut t, &["LPOS", "l", "zz"]), "$-1\r\n");
    assert_eq!(raw(&mut t, &["LINDEX", "l", "9"]), "$-1\r\n");
    t.run(&["HELLO", "3"]);
    assert_eq!(raw(&mut t, &["LPOP", "nokey"]), "_\r\n");
    assert_eq!(raw(&mut t, &["LPOP", "nokey", "2"]), "_\r\n");
    assert_eq!(raw(&mut t, &["LMPOP", "1", "nokey", "LEFT"]), "_\r\n");
    assert_eq!(raw(&mut t, &["LINDEX", "l", "9"]), "_\r\n");
}

#[test]
fn argument_errors_follow_redis() {
    let mut t = TestDb::new();
    t.run(&["RPUSH", "l", "a", "b", "c"]);
    t.run(&["SET", "s", "v"]);
    let positive = "ERR value is out of range, must be positive";
    let not_int = "ERR value is not an integer or out of range";
    assert_eq!(t.run(&["LPOP", "l", "-1"]), err(positive));
    assert_eq!(t.run(&["LPOP", "l", "abc"]), err(positive));
    assert_eq!(
        t.run(&["LPOP", "l", "1", "2"]),
        err("ERR wrong number of arguments for 'lpop' command")
    );
    assert_eq!(t.run(&["LRANGE", "l", "a", "1"]), err(not_int));
    assert_eq!(t.run(&["LTRIM", "nokey", "a", "1"]), err(not_int));
    assert_eq!(t.run(&["LREM", "nokey", "x", "a"]), err(not_int));
    // LINDEX and LSET look the key up before they parse the index.
    assert_eq!(t.run(&["LINDEX", "nokey", "abc"]), Frame::Null);
    assert_eq!(t.run(&["LINDEX", "l", "abc"]), err(not_int));
    assert_eq!(
        t.run(&["LSET", "nokey", "abc", "x"]),
        err("ERR no such key")
    );
    assert_eq!(
        t.run(&["LSET", "l", "10", "x"]),
        err("ERR index out of range")
    );
    assert_eq!(
        t.run(&["LINSERT", "l", "middle", "a", "b"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.run(&["LMOVE", "l", "d", "up", "left"]),
        err("ERR syntax error")
    );
    assert_eq!(t.run(&["LPOS", "l", "a", "RANK", "0"]), err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
    assert_eq!(
        t.run(&["LPOS", "l", "a", "COUNT", "-1"]),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        t.run(&["LPOS", "l", "a", "MAXLEN", "x"]),
        err("ERR MAXLEN can't be negative")
    );
    assert_eq!(t.run(&["LPOS", "l", "a", "COUNT"]), err("ERR syntax error"));
    assert_eq!(
        t.run(&["LMPOP", "0", "l", "LEFT"]),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        t.run(&["LMPOP", "x", "l", "LEFT"]),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(t.run(&["LMPOP", "5", "l", "LEFT"]), err("ERR syntax error"));
    assert_eq!(t.run(&["LMPOP", "1", "l", "UP"]), err("ERR syntax error"));
    assert_eq!(
        t.run(&["LMPOP", "1", "l", "LEFT", "COUNT", "0"]),
        err("ERR count should be greater than 0")
    );
    assert_eq!(
        t.run(&["LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1"]),
        err("ERR syntax error")
    );
    for cmd in [
        &["LPUSH", "s", "a"][..],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "0"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "1"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "x"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "l", "LEFT", "LEFT"],
        &["LMOVE", "l", "s", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "l"],
        &["LMPOP", "2", "s", "l", "LEFT"],
    ] {
        assert_eq!(t.run(cmd), err(WRONGTYPE), "{cmd:?}");
    }
    // Nothing moved on the WRONGTYPE above; a list before a string is popped first.
    assert_eq!(t.run(&["LLEN", "l"]), int(3));
    assert_eq!(
        t.run(&["LMPOP", "2", "l", "s", "RIGHT"]),
        Frame::Array(vec![bulk("l"), bulks(&["c"])])
    );
}

#[test]
fn index_set_insert_remove_trim() {
    let mut t = TestDb::new();
    t.run(&["RPUSH", "l", "a", "b", "c", "b", "a"]);
    assert_eq!(t.run(&["LINDEX", "l", "-1"]), bulk("a"));
    assert_eq!(t.run(&["LINDEX", "l", "1"]), bulk("b"));
    assert_eq!(t.run(&["LINDEX", "l", "5"]), Frame::Null);
    assert_eq!(t.run(&["LSET", "l", "-2", "B"]), ok());
    assert_eq!(t.run(&["LINSERT", "l", "BEFORE", "c", "x"]), int(6));
    assert_eq!(t.run(&["LINSERT", "l", "after", "c", "y"]), int(7));
    assert_eq!(t.run(&["LINSERT", "l", "after", "zz", "y"]), int(-1));
    assert_eq!(t.run(&["LINSERT", "nokey", "after", "a", "y"]), int(0));
    assert_eq!(
        range(&mut t, "l"),
        bulks(&["a", "b", "x", "c", "y", "B", "a"])
    );
    assert_eq!(t.run(&["LREM", "l", "-1", "a"]), int(1));
    assert_eq!(range(&mut t, "l"), bulks(&["a", "b", "x", "c", "y", "B"]));
    assert_eq!(t.run(&["LREM", "l", "0", "zz"]), int(0));
    assert_eq!(t.run(&["LTRIM", "l", "1", "-2"]), ok());
    assert_eq!(range(&mut t, "l"), bulks(&["b", "x", "c", "y"]));
    assert_eq!(t.run(&["LRANGE", "l", "-100", "1"]), bulks(&["b", "x"]));
    assert_eq!(t.run(&["LRANGE", "l", "2", "100"]), bulks(&["c", "y"]));
    assert_eq!(t.run(&["LRANGE", "l", "3", "1"]), bulks::<&str>(&[]));
    assert_eq!(t.run(&["LTRIM", "l", "5", "10"]), ok());
    assert_eq!(t.run(&["EXISTS", "l"]), int(0));
    t.run(&["RPUSH", "n", "1", "2", "1"]);
    assert_eq!(t.run(&["LREM", "n", "0", "1"]), int(2));
    assert_eq!(t.run(&["LREM", "n", "0", "2"]), int(1));
    assert_eq!(t.run(&["EXISTS", "n"]), int(0));
}

#[test]
fn lpos_options() {
    let mut t = TestDb::new();
    t.run(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    assert_eq!(t.run(&["LPOS", "l", "c"]), int(2));
    assert_eq!(t.run(&["LPOS", "l", "c", "RANK", "2"]), int(6));
    assert_eq!(t.run(&["LPOS", "l", "c", "RANK", "-1"]), int(7));
    assert_eq!(
        t.run(&["LPOS", "l", "c", "COUNT", "0"]),
        Frame::Array(vec![int(2), int(6), int(7)])
    );
    assert_eq!(
        t.run(&["LPOS", "l", "c", "COUNT", "2", "RANK", "-1"]),
        Frame::Array(vec![int(7), int(6)])
    );
    assert_eq!(
        t.run(&["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"]),
        Frame::Array(vec![int(2), int(6)])
    );
    assert_eq!(t.run(&["LPOS", "l", "c", "MAXLEN", "2"]), Frame::Null);
    assert_eq!(t.run(&["LPOS", "l", "2"]), int(4));
    assert_eq!(
        t.run(&["LPOS", "nokey", "2", "COUNT", "1"]),
        Frame::Array(vec![])
    );
    assert_eq!(
        t.run(&["LPOS", "l", "a", "RANK", "-9223372036854775808"]),
        int(0)
    );
}

#[test]
fn lmove_between_and_within_lists() {
    let mut t = TestDb::with_workers(4);
    t.run(&["RPUSH", "src", "a", "b", "c"]);
    assert_eq!(t.run(&["LMOVE", "src", "dst", "LEFT", "RIGHT"]), bulk("a"));
    assert_eq!(t.run(&["RPOPLPUSH", "src", "dst"]), bulk("c"));
    assert_eq!(range(&mut t, "dst"), bulks(&["c", "a"]));
    assert_eq!(t.run(&["LMOVE", "dst", "dst", "LEFT", "RIGHT"]), bulk("c"));
    assert_eq!(range(&mut t, "dst"), bulks(&["a", "c"]));
    assert_eq!(t.run(&["LMOVE", "src", "dst", "RIGHT", "LEFT"]), bulk("b"));
    assert_eq!(t.run(&["EXISTS", "src"]), int(0));
    assert_eq!(
        t.run(&["LMOVE", "src", "dst", "RIGHT", "LEFT"]),
        Frame::Null
    );
    t.run(&["RPUSH", "one", "x"]);
    assert_eq!(t.run(&["RPOPLPUSH", "one", "one"]), bulk("x"));
    assert_eq!(range(&mut t, "one"), bulks(&["x"]));
}

#[test]
fn lmpop_pops_from_the_first_non_empty_list() {
    let mut t = TestDb::with_workers(4);
    t.run(&["RPUSH", "b", "1", "2", "3"]);
    assert_eq!(
        t.run(&["LMPOP", "3", "a", "b", "c", "LEFT", "COUNT", "2"]),
        Frame::Array(vec![bulk("b"), bulks(&["1", "2"])])
    );
    assert_eq!(
        t.run(&["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "10"]),
        Frame::Array(vec![bulk("b"), bulks(&["3"])])
    );
    assert_eq!(t.run(&["EXISTS", "b"]), int(0));
}

#[test]
fn writes_propagate_as_redis_does() {
    let mut t = TestDb::with_workers(4);
    for cmd in [
        &["RPUSH", "l", "a", "b", "c", "d"][..],
        &["LPUSH", "l", "z"],
        &["LPUSHX", "l", "y"],
        &["RPUSHX", "l", "e"],
        &["LPOP", "l"],
        &["RPOP", "l", "1"],
        &["LSET", "l", "0", "Z"],
        &["LINSERT", "l", "BEFORE", "b", "q"],
        &["LREM", "l", "1", "q"],
        &["LTRIM", "l", "0", "2"],
        &["LMOVE", "l", "m", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "l", "m"],
    ] {
        assert_eq!(propagated(&mut t, cmd), log(&[cmd]), "{cmd:?}");
    }
    // LMPOP becomes LPOP/RPOP with the number actually popped.
    assert_eq!(
        propagated(&mut t, &["LMPOP", "2", "none", "m", "RIGHT", "COUNT", "9"]),
        log(&[&["RPOP", "m", "2"]])
    );
    // Commands that change nothing propagate nothing.
    t.run(&["RPUSH", "k", "a", "b"]);
    for cmd in [
        &["LPUSHX", "none", "a"][..],
        &["LPOP", "none"],
        &["LPOP", "k", "0"],
        &["LREM", "k", "0", "zz"],
        &["LTRIM", "k", "0", "-1"],
        &["LINSERT", "k", "BEFORE", "zz", "x"],
        &["LMOVE", "none", "k", "LEFT", "LEFT"],
        &["LMPOP", "1", "none", "LEFT"],
        &["LRANGE", "k", "0", "-1"],
    ] {
        assert_eq!(propagated(&mut t, cmd), log(&[]), "{cmd:?}");
    }
    // Emptying a list by LTRIM or LREM propagates the command itself.
    assert_eq!(
        propagated(&mut t, &["LTRIM", "k", "1", "0"]),
        log(&[&["LTRIM", "k", "1", "0"]])
    );
    assert_eq!(t.run(&["EXISTS", "k"]), int(0));
}

#[test]
fn an_expired_list_is_deleted_before_the_write() {
    let mut t = TestDb::new();
    t.clock = Some(1_700_000_000_000);
    t.run(&["RPUSH", "l", "a"]);
    t.run(&["PEXPIRE", "l", "10"]);
    t.clock = Some(1_700_000_000_020);
    assert_eq!(
        propagated(&mut t, &["RPUSH", "l", "b"]),
        log(&[&["DEL", "l"], &["RPUSH", "l", "b"]])
    );
    assert_eq!(range(&mut t, "l"), bulks(&["b"]));
}

#[test]
fn list_max_listpack_size_applies_to_new_lists() {
    let mut t = TestDb::new();
    t.run(&["CONFIG", "SET", "list-max-listpack-size", "2"]);
    t.run(&["RPUSH", "l", "a", "b", "c", "d", "e"]);
    let db = t.cl.db;
    let key = b"l";
    let h = tern_keyspace::Keyspace::hash(key);
    let i = t.srv.keyspace.shard_of(h);
    let g = t.srv.keyspace.lock(i);
    let Some((_, e)) = g.dbs[db].keys.get(h, key) else {
        panic!("key exists");
    };
    let tern_keyspace::Value::List(l) = &e.value else {
        panic!("a list");
    };
    let sizes: Vec<usize> = l.nodes().map(|n| n.len()).collect();
    assert_eq!(sizes, [2, 2, 1]);
}

#[test]
fn digest_value_mixes_elements_in_order() {
    let mut t = TestDb::new();
    t.run(&["RPUSH", "a", "x", "1", "y"]);
    t.run(&["RPUSH", "b", "1", "x", "y"]);
    let da = t.run(&["DEBUG", "DIGEST-VALUE", "a"]);
    let db = t.run(&["DEBUG", "DIGEST-VALUE", "b"]);
    assert_ne!(da, db);
    t.run(&["LSET", "b", "0", "x"]);
    t.run(&["LSET", "b", "1", "1"]);
    assert_eq!(t.run(&["DEBUG", "DIGEST-VALUE", "b"]), da);
}

#[test]
fn reads_count_keyspace_hits_and_misses_like_lookup_key_read() {
    let mut t = TestDb::new();
    t.run(&["RPUSH", "l", "a"]);
    t.run(&["SET", "s", "v"]);
    let stat = |t: &mut TestDb, name: &str| -> i64 {
        let Frame::Bulk(info) = t.run(&["INFO", "stats"]) else {
            panic!("INFO")
        };
        let info = String::from_utf8(info).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let (h0, m0) = (
        stat(&mut t, "keyspace_hits"),
        stat(&mut t, "keyspace_misses"),
    );
    t.run(&["LLEN", "l"]);
    t.run(&["LRANGE", "l", "0", "-1"]);
    t.run(&["LINDEX", "nokey", "0"]);
    t.run(&["LPOS", "nokey", "a"]);
    assert_eq!(t.run(&["LLEN", "s"]), err(WRONGTYPE));
    // Writes do not count (lookupKeyWrite).
    t.run(&["RPUSH", "l", "b"]);
    t.run(&["LPOP", "nokey"]);
    assert_eq!(stat(&mut t, "keyspace_hits") - h0, 3);
    assert_eq!(stat(&mut t, "keyspace_misses") - m0, 2);
}
