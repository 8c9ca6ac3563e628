//! Bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO) through the
//! `redis` crate (RESP2 and RESP3) and redis-cli, every option and error with Redis 7.0's exact
//! texts, and a differential proptest against the real redis-server.

use crate::differential::{differential_with, key, op, pick, with, Op};
use crate::harness::*;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use std::process::Command;

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";
const BIT_ERR: &str = "ERR bit is not an integer or out of range";
const TYPE_ERR: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";

fn arr(v: Vec<Value>) -> Value {
    Value::Array(v)
}

/// Creates a key of a non-string type and returns its name, or None while this build has no
/// collection type yet (the types land in parallel branches; once merged, the WRONGTYPE
/// assertions run everywhere).
pub(crate) fn other_type_key(c: &mut redis::Connection) -> Option<&'static str> {
    for (k, args) in [
        ("otherlist", &["RPUSH", "otherlist", "a"][..]),
        ("otherset", &["SADD", "otherset", "a"]),
        ("otherhash", &["HSET", "otherhash", "f", "v"]),
        ("otherzset", &["ZADD", "otherzset", "1", "a"]),
    ] {
        if q(c, args).is_ok() {
            return Some(k);
        }
    }
    None
}

/// redis-cli one-shot, stdout trimmed.
fn cli(s: &TestServer, args: &[&str]) -> String {
    let out = Command::new(require_tool(REDIS_CLI))
        .arg("-p")
        .arg(s.port().to_string())
        .args(args)
        .output()
        .expect("run redis-cli");
    assert!(out.status.success(), "redis-cli {args:?} failed");
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

#[test]
fn setbit_and_getbit_grow_the_string_and_return_old_bits() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["SETBIT", "k", "7", "1"]), int(0));
    assert_eq!(ok(&mut c, &["SETBIT", "k", "7", "1"]), int(1));
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk([1u8]));
    assert_eq!(ok(&mut c, &["SETBIT", "k", "7", "0"]), int(1));
    assert_eq!(ok(&mut c, &["SETBIT", "k", "100", "1"]), int(0));
    assert_eq!(ok(&mut c, &["STRLEN", "k"]), int(13));
    assert_eq!(ok(&mut c, &["GETBIT", "k", "100"]), int(1));
    assert_eq!(ok(&mut c, &["GETBIT", "k", "99"]), int(0));
    assert_eq!(ok(&mut c, &["GETBIT", "k", "100000"]), int(0));
    assert_eq!(ok(&mut c, &["GETBIT", "missing", "3"]), int(0));
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "k"]), bulk("raw"));
    // Strings of any encoding are bitmaps: "12" is 0x31 0x32.
    ok(&mut c, &["SET", "n", "12"]);
    assert_eq!(ok(&mut c, &["GETBIT", "n", "2"]), int(1));
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "n"]), bulk("int"));
    assert_eq!(ok(&mut c, &["SETBIT", "n", "6", "1"]), int(0));
    assert_eq!(ok(&mut c, &["GET", "n"]), bulk("32"));
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "n"]), bulk("raw"));
}

#[test]
fn setbit_and_getbit_errors() {
    let s = TestServer::start();
    let mut c = s.client();
    for off in ["-1", "abc", "1.5", "", "4294967296"] {
        assert_eq!(err(&mut c, &["SETBIT", "k", off, "1"]), OFFSET_ERR, "{off}");
        assert_eq!(err(&mut c, &["GETBIT", "k", off]), OFFSET_ERR, "{off}");
    }
    for v in ["2", "-1", "x", ""] {
        assert_eq!(err(&mut c, &["SETBIT", "k", "1", v]), BIT_ERR, "{v}");
    }
    // The offset limit is proto-max-bulk-len (in bytes) and follows CONFIG SET.
    ok(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
    assert_eq!(err(&mut c, &["SETBIT", "k", "8388608", "1"]), OFFSET_ERR);
    assert_eq!(ok(&mut c, &["SETBIT", "k", "8388607", "1"]), int(0));
    assert_eq!(ok(&mut c, &["STRLEN", "k"]), int(1 << 20));
    if let Some(l) = other_type_key(&mut c) {
        assert_eq!(err(&mut c, &["SETBIT", l, "1", "1"]), WRONGTYPE);
        assert_eq!(err(&mut c, &["GETBIT", l, "1"]), WRONGTYPE);
    }
    assert_eq!(
        err(&mut c, &["SETBIT", "k", "1"]),
        "ERR wrong number of arguments for 'setbit' command"
    );
    assert_eq!(
        err(&mut c, &["GETBIT", "k"]),
        "ERR wrong number of arguments for 'getbit' command"
    );
}

#[test]
fn bitcount_counts_whole_strings_and_byte_or_bit_ranges() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "s", "foobar"]);
    assert_eq!(ok(&mut c, &["BITCOUNT", "s"]), int(26));
    assert_eq!(ok(&mut c, &["BITCOUNT", "s", "0", "0"]), int(4));
    assert_eq!(ok(&mut c, &["BITCOUNT", "s", "1", "1"]), int(6));
    assert_eq!(ok(&mut c, &["BITCOUNT", "s", "1", "1", "BYTE"]), int(6));
    assert_eq!(ok(&mut c, &["BITCOUNT", "s", "5", "30", "BIT"]), int(17));
    assert_eq!(ok(&mut c, &["BITCOUNT", "s", "-2", "-1"]), int(7));
    assert_eq!(ok(&mut c, &["BITCOUNT", "s", "-5", "-1", "bit"]), int(2));
    assert_eq!(ok(&mut c, &["BITCOUNT", "s", "-1", "-2"]), int(0));
    assert_eq!(ok(&mut c, &["BITCOUNT", "s", "4", "2"]), int(0));
    assert_eq!(ok(&mut c, &["BITCOUNT", "s", "0", "1000"]), int(26));
    assert_eq!(ok(&mut c, &["BITCOUNT", "missing"]), int(0));
    // Redis 7.0 answers 0 for a missing key before it looks at the range.
    assert_eq!(ok(&mut c, &["BITCOUNT", "missing", "a", "b"]), int(0));
    assert_eq!(err(&mut c, &["BITCOUNT", "s", "0"]), SYNTAX);
    assert_eq!(
        err(&mut c, &["BITCOUNT", "s", "0", "1", "BIT", "x"]),
        SYNTAX
    );
    assert_eq!(err(&mut c, &["BITCOUNT", "s", "0", "1", "bits"]), SYNTAX);
    assert_eq!(err(&mut c, &["BITCOUNT", "s", "a", "1"]), NOT_INT);
    // A reversed negative range answers 0 before the unit is checked.
    assert_eq!(ok(&mut c, &["BITCOUNT", "s", "-1", "-2", "bogus"]), int(0));
    if let Some(l) = other_type_key(&mut c) {
        assert_eq!(err(&mut c, &["BITCOUNT", l]), WRONGTYPE);
    }
    // A big bitmap: the word-at-a-time count agrees with SETBIT's.
    for i in (0..100_000).step_by(7) {
        let _: Value = cmd(&["SETBIT", "big", &i.to_string(), "1"])
            .query(&mut c)
            .unwrap();
    }
    assert_eq!(ok(&mut c, &["BITCOUNT", "big"]), int(14286));
    assert_eq!(ok(&mut c, &["BITCOUNT", "big", "7", "69", "BIT"]), int(9));
}

#[test]
fn bitpos_finds_first_set_or_clear_bits() {
    let s = TestServer::start();
    let mut c = s.client();
    let set = |c: &mut redis::Connection, k: &str, v: &[u8]| {
        let _: () = redis::cmd("SET").arg(k).arg(v).query(c).unwrap();
    };
    set(&mut c, "ff", b"\xff\xf0\x00");
    assert_eq!(ok(&mut c, &["BITPOS", "ff", "0"]), int(12));
    assert_eq!(ok(&mut c, &["BITPOS", "ff", "1", "2"]), int(-1));
    assert_eq!(ok(&mut c, &["BITPOS", "ff", "1", "1"]), int(8));
    assert_eq!(
        ok(&mut c, &["BITPOS", "ff", "0", "2", "-1", "BYTE"]),
        int(16)
    );
    assert_eq!(ok(&mut c, &["BITPOS", "ff", "1", "7", "15", "BIT"]), int(7));
    assert_eq!(
        ok(&mut c, &["BITPOS", "ff", "0", "7", "11", "bit"]),
        int(-1)
    );
    set(&mut c, "all", b"\xff\xff");
    // Without an end the string counts as zero-padded; with one it does not.
    assert_eq!(ok(&mut c, &["BITPOS", "all", "0"]), int(16));
    assert_eq!(ok(&mut c, &["BITPOS", "all", "0", "0"]), int(16));
    assert_eq!(ok(&mut c, &["BITPOS", "all", "0", "0", "-1"]), int(-1));
    assert_eq!(ok(&mut c, &["BITPOS", "missing", "1"]), int(-1));
    assert_eq!(ok(&mut c, &["BITPOS", "missing", "0"]), int(0));
    assert_eq!(ok(&mut c, &["BITPOS", "all", "1", "2", "1"]), int(-1));
    assert_eq!(
        err(&mut c, &["BITPOS", "all", "2"]),
        "ERR The bit argument must be 1 or 0."
    );
    assert_eq!(err(&mut c, &["BITPOS", "all", "x"]), NOT_INT);
    assert_eq!(err(&mut c, &["BITPOS", "all", "1", "x"]), NOT_INT);
    assert_eq!(
        err(&mut c, &["BITPOS", "all", "1", "0", "1", "bits"]),
        SYNTAX
    );
    // The unit is checked before the end index.
    assert_eq!(
        err(&mut c, &["BITPOS", "all", "1", "0", "x", "bits"]),
        SYNTAX
    );
    assert_eq!(
        err(&mut c, &["BITPOS", "all", "1", "0", "1", "BIT", "x"]),
        SYNTAX
    );
    if let Some(l) = other_type_key(&mut c) {
        assert_eq!(err(&mut c, &["BITPOS", l, "1"]), WRONGTYPE);
    }
}

#[test]
fn bitop_and_or_xor_not_store_results() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "a", "abc"]);
    ok(&mut c, &["SET", "b", "ab"]);
    assert_eq!(ok(&mut c, &["BITOP", "AND", "d", "a", "b"]), int(3));
    assert_eq!(ok(&mut c, &["GET", "d"]), bulk(b"ab\0"));
    assert_eq!(
        ok(&mut c, &["BITOP", "or", "d", "a", "b", "missing"]),
        int(3)
    );
    assert_eq!(ok(&mut c, &["GET", "d"]), bulk("abc"));
    assert_eq!(ok(&mut c, &["BITOP", "XOR", "d", "a", "b"]), int(3));
    assert_eq!(ok(&mut c, &["GET", "d"]), bulk(b"\0\0c"));
    assert_eq!(ok(&mut c, &["BITOP", "NOT", "d", "b"]), int(2));
    assert_eq!(ok(&mut c, &["GET", "d"]), bulk([!b'a', !b'b']));
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "d"]), bulk("raw"));
    // The destination may be a source.
    assert_eq!(ok(&mut c, &["BITOP", "AND", "a", "a", "b"]), int(3));
    assert_eq!(ok(&mut c, &["GET", "a"]), bulk(b"ab\0"));
    // Only missing (empty) sources: the destination is deleted.
    ok(&mut c, &["SET", "d", "x", "EX", "100"]);
    assert_eq!(ok(&mut c, &["BITOP", "OR", "d", "none1", "none2"]), int(0));
    assert_eq!(ok(&mut c, &["EXISTS", "d"]), int(0));
    // A stored result has no TTL.
    ok(&mut c, &["SET", "d", "x", "EX", "100"]);
    ok(&mut c, &["BITOP", "OR", "d", "b"]);
    assert_eq!(ok(&mut c, &["TTL", "d"]), int(-1));
    assert_eq!(
        err(&mut c, &["BITOP", "NOT", "d", "a", "b"]),
        "ERR BITOP NOT must be called with a single source key."
    );
    assert_eq!(err(&mut c, &["BITOP", "NAND", "d", "a"]), SYNTAX);
    if let Some(l) = other_type_key(&mut c) {
        assert_eq!(err(&mut c, &["BITOP", "AND", "d", "a", l]), WRONGTYPE);
    }
    assert_eq!(
        err(&mut c, &["BITOP", "AND", "d"]),
        "ERR wrong number of arguments for 'bitop' command"
    );
    // Long inputs take the word-at-a-time path.
    let long_a = "x".repeat(1000);
    let long_b = "y".repeat(700);
    ok(&mut c, &["SET", "la", &long_a]);
    ok(&mut c, &["SET", "lb", &long_b]);
    assert_eq!(ok(&mut c, &["BITOP", "AND", "ld", "la", "lb"]), int(1000));
    let mut expect = vec![b'x' & b'y'; 700];
    expect.extend(vec![0u8; 300]);
    assert_eq!(ok(&mut c, &["GET", "ld"]), bulk(expect));
}

#[test]
fn bitfield_get_set_incrby_with_every_overflow_mode() {
    let s = TestServer::start();
    let mut c = s.client();
    let nil = Value::Nil;
    assert_eq!(
        ok(
            &mut c,
            &["BITFIELD", "k", "SET", "u8", "0", "255", "GET", "u8", "0"]
        ),
        arr(vec![int(0), int(255)])
    );
    assert_eq!(
        ok(&mut c, &["BITFIELD", "k", "INCRBY", "u8", "0", "10"]),
        arr(vec![int(9)])
    );
    assert_eq!(
        ok(
            &mut c,
            &["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300"]
        ),
        arr(vec![int(255)])
    );
    assert_eq!(
        ok(
            &mut c,
            &["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1"]
        ),
        arr(vec![nil.clone()])
    );
    assert_eq!(
        ok(
            &mut c,
            &["BITFIELD", "k", "overflow", "wrap", "incrby", "i8", "0", "1"]
        ),
        arr(vec![int(0)])
    );
    assert_eq!(
        ok(
            &mut c,
            &["BITFIELD", "k", "SET", "i64", "0", "-1", "GET", "u63", "1"]
        ),
        arr(vec![int(0), int(i64::MAX)])
    );
    assert_eq!(
        ok(
            &mut c,
            &[
                "BITFIELD",
                "k",
                "SET",
                "i64",
                "0",
                "9223372036854775807",
                "INCRBY",
                "i64",
                "0",
                "1"
            ]
        ),
        arr(vec![int(-1), int(i64::MIN)])
    );
    assert_eq!(
        ok(
            &mut c,
            &["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1"]
        ),
        arr(vec![int(i64::MIN)])
    );
    assert_eq!(
        ok(
            &mut c,
            &[
                "BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u2", "0", "4", "SET", "i3", "5", "-5",
                "SET", "i3", "5", "3"
            ]
        ),
        arr(vec![nil.clone(), nil, int(0)])
    );
    // #N offsets are multiples of the type width.
    assert_eq!(
        ok(
            &mut c,
            &["BITFIELD", "h", "SET", "u4", "#1", "15", "GET", "u8", "0", "GET", "u4", "#1"]
        ),
        arr(vec![int(0), int(15), int(15)])
    );
    // Reads past the end are zero; GET alone does not create the key.
    assert_eq!(
        ok(&mut c, &["BITFIELD", "nokey", "GET", "i16", "100"]),
        arr(vec![int(0)])
    );
    assert_eq!(ok(&mut c, &["EXISTS", "nokey"]), int(0));
    assert_eq!(ok(&mut c, &["BITFIELD", "k"]), arr(vec![]));
    // Writes grow the string up to the last bit written.
    assert_eq!(
        ok(&mut c, &["BITFIELD", "g", "SET", "u8", "100", "1"]),
        arr(vec![int(0)])
    );
    assert_eq!(ok(&mut c, &["STRLEN", "g"]), int(14));
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "g"]), bulk("raw"));
    assert_eq!(
        ok(
            &mut c,
            &["BITFIELD_RO", "g", "GET", "u8", "100", "GET", "i4", "#25"]
        ),
        arr(vec![int(1), int(0)])
    );
}

#[test]
fn bitfield_errors() {
    let s = TestServer::start();
    let mut c = s.client();
    for t in ["u64", "i65", "i0", "u0", "x8", "8", "", "u", "i-1"] {
        assert_eq!(
            err(&mut c, &["BITFIELD", "k", "GET", t, "0"]),
            TYPE_ERR,
            "{t}"
        );
    }
    for off in ["-1", "#-1", "x", "4294967296", "#536870912"] {
        assert_eq!(
            err(&mut c, &["BITFIELD", "k", "GET", "u8", off]),
            OFFSET_ERR,
            "{off}"
        );
    }
    assert_eq!(
        err(&mut c, &["BITFIELD", "k", "SET", "u8", "0", "x"]),
        NOT_INT
    );
    assert_eq!(
        err(&mut c, &["BITFIELD", "k", "INCRBY", "u8", "0", "1.5"]),
        NOT_INT
    );
    assert_eq!(err(&mut c, &["BITFIELD", "k", "GET", "u8"]), SYNTAX);
    assert_eq!(err(&mut c, &["BITFIELD", "k", "SET", "u8", "0"]), SYNTAX);
    assert_eq!(err(&mut c, &["BITFIELD", "k", "FOO"]), SYNTAX);
    assert_eq!(err(&mut c, &["BITFIELD", "k", "OVERFLOW"]), SYNTAX);
    assert_eq!(
        err(
            &mut c,
            &["BITFIELD", "k", "OVERFLOW", "MAYBE", "GET", "u8", "0"]
        ),
        "ERR Invalid OVERFLOW type specified"
    );
    assert_eq!(
        err(
            &mut c,
            &["BITFIELD_RO", "k", "GET", "u8", "0", "SET", "u8", "0", "1"]
        ),
        "ERR BITFIELD_RO only supports the GET subcommand"
    );
    // Arguments are parsed before the key's type is checked.
    if let Some(l) = other_type_key(&mut c) {
        assert_eq!(err(&mut c, &["BITFIELD", l, "GET", "u99", "0"]), TYPE_ERR);
        assert_eq!(err(&mut c, &["BITFIELD", l, "GET", "u8", "0"]), WRONGTYPE);
        assert_eq!(
            err(&mut c, &["BITFIELD", l, "SET", "u8", "0", "1"]),
            WRONGTYPE
        );
        assert_eq!(
            err(&mut c, &["BITFIELD_RO", l, "GET", "u8", "0"]),
            WRONGTYPE
        );
    }
    assert_eq!(
        err(&mut c, &["BITFIELD"]),
        "ERR wrong number of arguments for 'bitfield' command"
    );
}

#[test]
fn bitmap_replies_over_resp3() {
    let s = TestServer::start();
    let mut c = s.client_resp3();
    assert_eq!(ok(&mut c, &["SETBIT", "k", "3", "1"]), int(0));
    assert_eq!(ok(&mut c, &["BITCOUNT", "k"]), int(1));
    assert_eq!(ok(&mut c, &["BITPOS", "k", "1"]), int(3));
    assert_eq!(
        ok(
            &mut c,
            &["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u4", "0", "100", "GET", "u4", "0"]
        ),
        arr(vec![Value::Nil, int(1)])
    );
    assert_eq!(ok(&mut c, &["BITOP", "NOT", "d", "k"]), int(1));
}

#[test]
fn redis_cli_drives_bitmaps() {
    let s = TestServer::start();
    assert_eq!(cli(&s, &["SETBIT", "k", "10", "1"]), "0");
    assert_eq!(cli(&s, &["GETBIT", "k", "10"]), "1");
    assert_eq!(cli(&s, &["BITCOUNT", "k"]), "1");
    assert_eq!(
        cli(
            &s,
            &["BITFIELD", "k", "GET", "u16", "0", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"]
        ),
        "32"
    );
    assert_eq!(
        cli(&s, &["--no-raw", "BITFIELD", "k", "GET", "u16", "0"]),
        "1) (integer) 32"
    );
    assert_eq!(
        cli(&s, &["SETBIT", "k", "-1", "1"]),
        "ERR bit offset is not an integer or out of range"
    );
}

// ---------------------------------------------------------------------------------------------
// Differential proptest against redis-server.
// ---------------------------------------------------------------------------------------------

fn bit_offset() -> BoxedStrategy<String> {
    pick(&[
        "0", "1", "7", "8", "13", "31", "63", "64", "100", "257", "-1", "x", "#0", "#3",
    ])
}

fn index() -> BoxedStrategy<String> {
    pick(&["0", "1", "2", "-1", "-2", "-5", "3", "10", "100", "x"])
}

fn unit() -> BoxedStrategy<Vec<String>> {
    prop_oneof![
        Just(vec![]),
        Just(vec!["BIT".to_string()]),
        Just(vec!["byte".to_string()]),
        Just(vec!["bogus".to_string()]),
    ]
    .boxed()
}

fn bf_type() -> BoxedStrategy<String> {
    pick(&[
        "u1", "u3", "u8", "u16", "u63", "i1", "i5", "i8", "i32", "i64", "u64", "i65", "x8",
    ])
}

fn bf_value() -> BoxedStrategy<String> {
    pick(&[
        "0",
        "1",
        "-1",
        "7",
        "100",
        "255",
        "-128",
        "1000",
        "9223372036854775807",
        "-9223372036854775808",
        "x",
    ])
}

fn bf_op() -> BoxedStrategy<Vec<String>> {
    prop_oneof![
        (bf_type(), bit_offset()).prop_map(|(t, o)| vec!["GET".into(), t, o]),
        (bf_type(), bit_offset(), bf_value()).prop_map(|(t, o, v)| vec!["SET".into(), t, o, v]),
        (bf_type(), bit_offset(), bf_value()).prop_map(|(t, o, v)| vec!["INCRBY".into(), t, o, v]),
        pick(&["WRAP", "SAT", "FAIL", "sat"]).prop_map(|w| vec!["OVERFLOW".into(), w]),
    ]
    .boxed()
}

fn string_value() -> BoxedStrategy<String> {
    pick(&[
        "",
        "a",
        "foobar",
        "\u{ff}\u{ff}",
        "123",
        "\0\0\0",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ])
}

pub(crate) fn bitmap_ops() -> Vec<BoxedStrategy<Op>> {
    vec![
        op((key(), bit_offset(), pick(&["0", "1", "1", "2"]))
            .prop_map(|(k, o, v)| with("SETBIT", vec![k, o, v]))),
        op((key(), bit_offset()).prop_map(|(k, o)| with("GETBIT", vec![k, o]))),
        op(
            (key(), prop::option::of((index(), index())), unit()).prop_map(|(k, r, u)| {
                let mut v = vec![k];
                if let Some((a, b)) = r {
                    v.push(a);
                    v.push(b);
                    v.extend(u);
                }
                with("BITCOUNT", v)
            }),
        ),
        op((
            key(),
            pick(&["0", "1", "2"]),
            prop::collection::vec(index(), 0..3),
            unit(),
        )
            .prop_map(|(k, b, r, u)| {
                let n = r.len();
                let mut v = vec![k, b];
                v.extend(r);
                if n == 2 {
                    v.extend(u);
                }
                with("BITPOS", v)
            })),
        op((
            pick(&["AND", "OR", "XOR", "NOT", "nand"]),
            key(),
            prop::collection::vec(key(), 1..4),
        )
            .prop_map(|(o, d, s)| {
                let mut v = vec![o, d];
                v.extend(s);
                with("BITOP", v)
            })),
        op(
            (key(), prop::collection::vec(bf_op(), 0..4)).prop_map(|(k, ops)| {
                let mut v = vec![k];
                v.extend(ops.concat());
                with("BITFIELD", v)
            }),
        ),
        op(
            (key(), prop::collection::vec(bf_op(), 0..3)).prop_map(|(k, ops)| {
                let mut v = vec![k];
                v.extend(ops.concat());
                with("BITFIELD_RO", v)
            }),
        ),
        op((key(), string_value()).prop_map(|(k, v)| with("SET", vec![k, v]))),
        op(key().prop_map(|k| with("GET", vec![k]))),
        op(key().prop_map(|k| with("STRLEN", vec![k]))),
        op(key().prop_map(|k| with("OBJECT", vec!["ENCODING".into(), k]))),
        op(key().prop_map(|k| with("TYPE", vec![k]))),
        op(key().prop_map(|k| with("DEL", vec![k]))),
        op(key().prop_map(|k| with("EXPIRE", vec![k, "1000".into()]))),
    ]
}

#[test]
fn bitmap_commands_reply_exactly_like_redis() {
    differential_with(bitmap_ops(), false, 96, |_, v| v);
}

#[test]
fn bitmap_commands_reply_exactly_like_redis_over_resp3() {
    differential_with(bitmap_ops(), true, 32, |_, v| v);
}
