//! Tests for COMMAND.

use super::test_support::*;
use crate::testkit::TestDb;
use tern_resp::Frame;

#[test]
fn command_info_get_has_redis_shape() {
    let mut t = TestDb::new();
    let Frame::Array(v) = t.run(&["COMMAND", "INFO", "get", "nosuch"]) else {
        panic!()
    };
    assert_eq!(v.len(), 2);
    assert_eq!(v[1], Frame::Null);
    let Frame::Array(e) = &v[0] else { panic!() };
    assert_eq!(e.len(), 10);
    assert_eq!(e[0], Frame::Bulk(b"get".to_vec()));
    assert_eq!(e[1], Frame::Integer(2));
    assert_eq!(must_strings(e[2].clone()), ["readonly", "fast"]);
    assert_eq!(
        &e[3..6],
        &[Frame::Integer(1), Frame::Integer(1), Frame::Integer(1)]
    );
    assert_eq!(must_strings(e[6].clone()), ["@read", "@string", "@fast"]);
    assert_eq!(e[7], Frame::Array(vec![]));
    let Frame::Array(specs) = &e[8] else { panic!() };
    assert_eq!(specs.len(), 1);
    assert_eq!(e[9], Frame::Array(vec![]));
}

#[test]
fn command_info_set_and_config_get() {
    let mut t = TestDb::new();
    t.run(&["HELLO", "3"]);
    let Frame::Array(v) = t.run(&["COMMAND", "INFO", "SET", "config|get"]) else {
        panic!()
    };
    let Frame::Array(set) = &v[0] else { panic!() };
    assert_eq!(set[1], Frame::Integer(-3));
    assert_eq!(must_strings(set[2].clone()), ["write", "denyoom"]);
    assert_eq!(must_strings(set[6].clone()), ["@write", "@string", "@slow"]);
    let Frame::Set(specs) = &set[8] else { panic!() };
    let Frame::Map(ks) = &specs[0] else { panic!() };
    assert_eq!(ks[0].0, Frame::Bulk(b"flags".to_vec()));
    let Frame::Array(cg) = &v[1] else { panic!() };
    assert_eq!(cg[0], Frame::Bulk(b"config|get".to_vec()));
    assert_eq!(cg[1], Frame::Integer(-3));
    assert_eq!(
        must_strings(cg[2].clone()),
        ["admin", "noscript", "loading", "stale"]
    );
    assert_eq!(
        &cg[3..6],
        &[Frame::Integer(0), Frame::Integer(0), Frame::Integer(0)]
    );
    assert_eq!(
        must_strings(cg[6].clone()),
        ["@admin", "@slow", "@dangerous"]
    );
    assert_eq!(cg[8], Frame::Set(vec![]));
}

#[test]
fn getkeys_finds_keys_and_reports_redis_errors() {
    let mut t = TestDb::new();
    let keys = must_strings(t.run(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]));
    assert_eq!(keys, ["a", "b"]);
    let e = |t: &mut TestDb, a: &[&str]| must_err(t.run(a));
    assert_eq!(
        e(&mut t, &["COMMAND", "GETKEYS", "nosuch", "a"]),
        "ERR Invalid command specified"
    );
    assert_eq!(
        e(&mut t, &["COMMAND", "GETKEYS", "ping", "x"]),
        "ERR The command has no key arguments"
    );
    assert_eq!(
        e(&mut t, &["COMMAND", "GETKEYS", "get", "a", "b"]),
        "ERR Invalid number of arguments specified for command"
    );
    assert_eq!(
        e(&mut t, &["COMMAND", "GETKEYS", "config", "get", "x"]),
        "ERR The command has no key arguments"
    );
    assert_eq!(
        e(&mut t, &["COMMAND", "GETKEYS", "get"]),
        "ERR wrong number of arguments for 'command|getkeys' command"
    );
    let Frame::Array(v) = t.run(&["COMMAND", "GETKEYSANDFLAGS", "get", "k"]) else {
        panic!()
    };
    assert_eq!(
        v,
        [Frame::Array(vec![
            Frame::Bulk(b"k".to_vec()),
            Frame::Array(vec![
                Frame::Simple("RO".into()),
                Frame::Simple("access".into())
            ])
        ])]
    );
}

#[test]
fn docs_count_list_and_help() {
    let mut t = TestDb::new();
    let Frame::Integer(n) = t.run(&["COMMAND", "COUNT"]) else {
        panic!()
    };
    assert_eq!(n as usize, t.srv.table.len());
    t.run(&["HELLO", "3"]);
    let Frame::Map(m) = t.run(&["COMMAND", "DOCS", "get", "nosuch", "config"]) else {
        panic!()
    };
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].0, Frame::Bulk(b"get".to_vec()));
    let Frame::Map(get) = &m[0].1 else { panic!() };
    let keys: Vec<String> = get.iter().map(|(k, _)| must_str(k.clone())).collect();
    assert_eq!(keys, ["summary", "since", "group"]);
    assert_eq!(get[2].1, Frame::Bulk(b"string".to_vec()));
    let Frame::Map(config) = &m[1].1 else {
        panic!()
    };
    let (k, Frame::Map(subs)) = config.last().unwrap() else {
        panic!()
    };
    assert_eq!(must_str(k.clone()), "subcommands");
    assert!(subs
        .iter()
        .any(|(k, _)| *k == Frame::Bulk(b"config|get".to_vec())));

    let all = must_strings(t.run(&["COMMAND", "LIST"]));
    assert!(all.contains(&"get".to_string()) && all.contains(&"config|set".to_string()));
    let mut cfg = must_strings(t.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG*"]));
    cfg.sort();
    assert_eq!(
        cfg,
        [
            "config",
            "config|get",
            "config|help",
            "config|resetstat",
            "config|rewrite",
            "config|set"
        ]
    );
    let admin = must_strings(t.run(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "admin"]));
    assert!(admin.contains(&"config|get".to_string()) && !admin.contains(&"get".to_string()));
    assert_eq!(
        t.run(&["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]),
        Frame::Array(vec![])
    );
    assert_eq!(
        must_err(t.run(&["COMMAND", "LIST", "foo"])),
        "ERR syntax error"
    );
    assert_eq!(
        must_err(t.run(&["COMMAND", "FOO"])),
        "ERR unknown subcommand 'FOO'. Try COMMAND HELP."
    );
    let help = must_strings(t.run(&["COMMAND", "HELP"]));
    assert!(help[0].starts_with("COMMAND <subcommand>"));
    assert_eq!(help.last().unwrap(), "    Prints this help.");
}

#[test]
fn every_command_info_entry_decodes() {
    let mut t = TestDb::new();
    let Frame::Array(v) = t.run(&["COMMAND"]) else {
        panic!()
    };
    assert_eq!(v.len(), t.srv.table.len());
    t.run(&["HELLO", "3"]);
    let Frame::Map(m) = t.run(&["COMMAND", "DOCS"]) else {
        panic!()
    };
    assert_eq!(m.len(), t.srv.table.len());
}
