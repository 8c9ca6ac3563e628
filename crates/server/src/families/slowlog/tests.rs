//! Tests for SLOWLOG.

use crate::families::command::test_support::*;
use crate::testkit::frames::*;
use crate::testkit::TestDb;
use tern_resp::Frame;

#[test]
fn logs_every_command_when_threshold_is_zero() {
    let mut t = TestDb::new();
    assert_eq!(t.run(&["SLOWLOG", "LEN"]), int(0));
    t.run(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    t.run(&["CLIENT", "SETNAME", "bob"]);
    t.run(&["SET", "k", "v"]);
    // Dispatch reads the threshold after the handler runs, so CONFIG SET is logged too.
    let Frame::Array(entries) = t.run(&["SLOWLOG", "GET", "2"]) else {
        panic!()
    };
    assert_eq!(entries.len(), 2);
    let Frame::Array(e) = &entries[0] else {
        panic!()
    };
    assert_eq!(e.len(), 6);
    assert_eq!(e[3], bulks(&["SET", "k", "v"]));
    assert!(matches!(e[1], Frame::Integer(t) if t > 1_600_000_000));
    assert_eq!(e[4], bulk("test"));
    assert_eq!(e[5], bulk("bob"));
    let Frame::Array(newer) = &entries[1] else {
        panic!()
    };
    assert!(matches!((&e[0], &newer[0]), (Frame::Integer(a), Frame::Integer(b)) if a > b));
    let Frame::Integer(n) = t.run(&["SLOWLOG", "LEN"]) else {
        panic!()
    };
    assert_eq!(n, 4);
    assert_eq!(t.run(&["SLOWLOG", "GET", "0"]), Frame::Array(vec![]));
    let Frame::Array(all) = t.run(&["SLOWLOG", "GET", "-1"]) else {
        panic!()
    };
    assert_eq!(all.len(), 6);
    assert_eq!(t.run(&["SLOWLOG", "RESET"]), ok());
    // The RESET itself is logged after clearing.
    assert_eq!(t.run(&["SLOWLOG", "LEN"]), int(1));
}

#[test]
fn errors_and_help() {
    let mut t = TestDb::new();
    for bad in ["-2", "abc"] {
        assert_eq!(
            must_err(t.run(&["SLOWLOG", "GET", bad])),
            "ERR count should be greater than or equal to -1"
        );
    }
    assert_eq!(
        must_err(t.run(&["SLOWLOG", "FOO"])),
        "ERR unknown subcommand 'FOO'. Try SLOWLOG HELP."
    );
    let help = must_strings(t.run(&["SLOWLOG", "HELP"]));
    assert_eq!(help.len(), 12);
}
