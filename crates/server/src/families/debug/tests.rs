//! Tests for DEBUG.

use super::*;
use crate::families::command::test_support::*;
use crate::testkit::frames::*;
use crate::testkit::TestDb;
use tern_resp::Frame;

const ZEROS: &str = "0000000000000000000000000000000000000000";

fn simples(v: &[&str]) -> Frame {
    Frame::Array(v.iter().map(|s| Frame::Simple(s.to_string())).collect())
}

#[test]
fn digest_value_matches_redis_and_is_stable() {
    let mut t = TestDb::new();
    t.run(&["SET", "a", "b"]);
    // Redis 7.0.15 gives these digests for "b" and for a missing key.
    let expected = simples(&["b78559cd22bce6e6df712eb99ce7f3b08e8f8f1f", ZEROS]);
    assert_eq!(t.run(&["DEBUG", "DIGEST-VALUE", "a", "nosuch"]), expected);
    assert_eq!(t.run(&["DEBUG", "DIGEST-VALUE", "a", "nosuch"]), expected);
    // An int-encoded "123" digests like the string "123".
    t.run(&["SET", "n", "123"]);
    assert_eq!(
        t.run(&["DEBUG", "DIGEST-VALUE", "n"]),
        simples(&["89f7f51b707418f666d5b45e053bd5bbbf82ac2b"])
    );
    assert_eq!(t.run(&["DEBUG", "DIGEST-VALUE"]), Frame::Array(vec![]));
}

#[test]
fn dataset_digest_matches_redis() {
    let mut t = TestDb::new();
    t.run(&["SET", "a", "b"]);
    t.run(&["SET", "n", "123"]);
    t.run(&["SET", "t", "v", "PXAT", "99999999999999"]);
    t.run(&["SELECT", "3"]);
    t.run(&["SET", "z", "1"]);
    // What Redis 7.0.15 answers for the same dataset.
    assert_eq!(
        t.run(&["DEBUG", "DIGEST"]),
        Frame::Simple("9aa5c725f779c1a0edcac00afb1b83d28000c9f6".into())
    );
}

#[test]
fn dataset_digest_ignores_order_and_sees_ttls() {
    let mut a = TestDb::with_workers(4);
    let mut b = TestDb::new();
    assert_eq!(a.run(&["DEBUG", "DIGEST"]), Frame::Simple(ZEROS.into()));
    for i in 0..50 {
        a.run(&["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    for i in (0..50).rev() {
        b.run(&["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    let da = a.run(&["DEBUG", "DIGEST"]);
    assert_eq!(da, b.run(&["DEBUG", "DIGEST"]));
    assert_ne!(da, Frame::Simple(ZEROS.into()));
    b.run(&["SET", "k1", "v1", "EX", "100"]);
    assert_ne!(da, b.run(&["DEBUG", "DIGEST"]));
    // The same data in another database is another dataset.
    a.run(&["SELECT", "1"]);
    a.run(&["SET", "x", "1"]);
    b.run(&["SET", "x", "1"]);
    assert_ne!(a.run(&["DEBUG", "DIGEST"]), b.run(&["DEBUG", "DIGEST"]));
}

#[test]
fn object_reports_encoding_and_length() {
    let mut t = TestDb::new();
    t.run(&["SET", "a", "b"]);
    t.run(&["SET", "n", "123"]);
    let s = must_str(t.run(&["DEBUG", "OBJECT", "a"]));
    assert!(s.starts_with("Value at:0x"), "{s}");
    assert!(s.contains(" refcount:1 encoding:embstr serializedlength:2 lru:"));
    assert!(s.contains(" lru_seconds_idle:"));
    let s = must_str(t.run(&["DEBUG", "OBJECT", "n"]));
    assert!(s.contains(" refcount:2147483647 encoding:int serializedlength:2 "));
    assert_eq!(
        must_err(t.run(&["DEBUG", "OBJECT", "zz"])),
        "ERR no such key"
    );
    assert_eq!(
        must_err(t.run(&["DEBUG", "OBJECT"])),
        "ERR unknown subcommand or wrong number of arguments for 'OBJECT'. Try DEBUG HELP."
    );
}

#[test]
fn misc_subcommands() {
    let mut t = TestDb::new();
    assert_eq!(t.run(&["DEBUG", "SLEEP", "0"]), ok());
    assert_eq!(t.run(&["DEBUG", "SLEEP", "0.01"]), ok());
    assert_eq!(t.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    assert!(!t.srv.hot.active_expire.load(Relaxed));
    assert_eq!(t.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
    assert!(t.srv.hot.active_expire.load(Relaxed));
    let before = t.srv.replid.read().clone();
    assert_eq!(t.run(&["DEBUG", "CHANGE-REPL-ID"]), ok());
    assert_ne!(*t.srv.replid.read(), before);
    assert_eq!(t.run(&["DEBUG", "LOG", "hello"]), ok());
    assert_eq!(t.run(&["DEBUG", "ERROR", "FOO bar"]), err("FOO bar"));
    assert_eq!(t.run(&["DEBUG", "POPULATE", "3"]), ok());
    assert_eq!(t.run(&["GET", "key:2"]), bulk("value:2"));
    assert_eq!(t.run(&["DEBUG", "POPULATE", "2", "p", "3"]), ok());
    assert_eq!(t.run(&["GET", "p:1"]), bulk("val"));
    assert_eq!(
        must_err(t.run(&["DEBUG", "POPULATE", "-1"])),
        "ERR value is out of range, must be positive"
    );
    let help = must_strings(t.run(&["DEBUG", "HELP"]));
    assert!(help[0].starts_with("DEBUG <subcommand>"));
}

#[test]
fn disallowed_debug_has_redis_error() {
    let mut config = tern_config::Config::default();
    config.load_str("enable-debug-command no", "test").unwrap();
    let mut t = TestDb::with_config(config, 1);
    assert_eq!(must_err(t.run(&["DEBUG", "HELP"])), NOT_ALLOWED);
}
