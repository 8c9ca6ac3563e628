//! Differential tests: random command sequences run against tern and Debian's real
//! redis-server side by side; every reply must be equal (errors by their full text).
//!
//! The key space is tiny (a..e) so commands collide; TTLs are large so timing cannot change a
//! result, and TTL-like replies are compared with a small tolerance. Non-deterministic commands
//! (RANDOMKEY, OBJECT IDLETIME) are left out; KEYS and SCAN replies are compared as sets.

use crate::harness::*;
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::RefCell;
use std::time::{Duration, Instant};

/// One command, as its arguments.
pub(crate) type Op = Vec<String>;

pub(crate) fn pick(items: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(items)
        .prop_map(|s| s.to_string())
        .boxed()
}

pub(crate) fn key() -> BoxedStrategy<String> {
    pick(&["a", "b", "c", "d", "e"])
}

pub(crate) fn value() -> BoxedStrategy<String> {
    prop_oneof![
        pick(&[
            "",
            "x",
            "hello",
            "0",
            "1",
            "-5",
            "10",
            "007",
            "3.5",
            "-0.25",
            "abc",
            "9223372036854775807",
            "-9223372036854775808",
            " 1",
            "1e3",
            "a\0b",
            "héllo",
        ]),
        // Long enough for the raw encoding (over 44 bytes).
        (45usize..60).prop_map(|n| "y".repeat(n)),
    ]
    .boxed()
}

pub(crate) fn int_arg() -> BoxedStrategy<String> {
    pick(&[
        "-3",
        "-1",
        "0",
        "1",
        "2",
        "3",
        "100",
        "abc",
        "1.5",
        "",
        "9223372036854775807",
        "-9223372036854775808",
    ])
}

pub(crate) fn float_arg() -> BoxedStrategy<String> {
    pick(&[
        "0.1", "1.5", "-2.25", "10", "1e2", "5.0e3", "-0.5", "0", "abc", "inf", "-inf", "nan", "",
    ])
}

/// Relative seconds: large, or invalid.
pub(crate) fn secs() -> BoxedStrategy<String> {
    pick(&["1000", "5000", "100000", "0", "-1", "abc"])
}

/// Relative milliseconds: large, or invalid.
pub(crate) fn millis() -> BoxedStrategy<String> {
    pick(&["1000000", "5000000", "0", "-10"])
}

/// Absolute unix seconds (year 2100, or long past).
pub(crate) fn unix_secs() -> BoxedStrategy<String> {
    pick(&["4102444800", "4102444900", "1", "0"])
}

pub(crate) fn unix_millis() -> BoxedStrategy<String> {
    pick(&["4102444800000", "4102444800500", "1", "-1"])
}

pub(crate) fn offset() -> BoxedStrategy<String> {
    pick(&[
        "0", "1", "2", "3", "5", "10", "-1", "-2", "-5", "100", "abc",
    ])
}

fn set_range_offset() -> BoxedStrategy<String> {
    pick(&["0", "1", "3", "7", "-1", "abc"])
}

pub(crate) fn op<S: Strategy<Value = Op> + 'static>(s: S) -> BoxedStrategy<Op> {
    s.boxed()
}

pub(crate) fn keys(max: usize) -> BoxedStrategy<Vec<String>> {
    prop::collection::vec(key(), 1..=max).boxed()
}

/// SET's option words, in any order and combination (valid or not).
fn set_options() -> BoxedStrategy<Vec<String>> {
    let piece = prop_oneof![
        Just(vec!["NX".to_string()]),
        Just(vec!["XX".to_string()]),
        Just(vec!["GET".to_string()]),
        Just(vec!["KEEPTTL".to_string()]),
        secs().prop_map(|v| vec!["EX".to_string(), v]),
        millis().prop_map(|v| vec!["PX".to_string(), v]),
        unix_secs().prop_map(|v| vec!["EXAT".to_string(), v]),
        unix_millis().prop_map(|v| vec!["PXAT".to_string(), v]),
        Just(vec!["BOGUS".to_string()]),
    ];
    prop::collection::vec(piece, 0..3)
        .prop_map(|v| v.concat())
        .boxed()
}

fn getex_options() -> BoxedStrategy<Vec<String>> {
    let piece = prop_oneof![
        Just(vec!["PERSIST".to_string()]),
        secs().prop_map(|v| vec!["EX".to_string(), v]),
        millis().prop_map(|v| vec!["PX".to_string(), v]),
        unix_secs().prop_map(|v| vec!["EXAT".to_string(), v]),
        unix_millis().prop_map(|v| vec!["PXAT".to_string(), v]),
    ];
    prop::collection::vec(piece, 0..3)
        .prop_map(|v| v.concat())
        .boxed()
}

pub(crate) fn with(name: &str, rest: Vec<String>) -> Op {
    let mut v = vec![name.to_string()];
    v.extend(rest);
    v
}

/// String commands, PING, ECHO, DEL, EXISTS, and argument errors.
pub(crate) fn string_ops() -> Vec<BoxedStrategy<Op>> {
    vec![
        op(key().prop_map(|k| with("GET", vec![k]))),
        op((key(), value(), set_options()).prop_map(|(k, v, o)| {
            let mut a = vec![k, v];
            a.extend(o);
            with("SET", a)
        })),
        op((key(), value()).prop_map(|(k, v)| with("SETNX", vec![k, v]))),
        op((key(), secs(), value()).prop_map(|(k, t, v)| with("SETEX", vec![k, t, v]))),
        op((key(), millis(), value()).prop_map(|(k, t, v)| with("PSETEX", vec![k, t, v]))),
        op((key(), value()).prop_map(|(k, v)| with("GETSET", vec![k, v]))),
        op(key().prop_map(|k| with("GETDEL", vec![k]))),
        op((key(), getex_options()).prop_map(|(k, o)| {
            let mut a = vec![k];
            a.extend(o);
            with("GETEX", a)
        })),
        op(keys(4).prop_map(|ks| with("MGET", ks))),
        op(prop::collection::vec((key(), value()), 1..4)
            .prop_map(|kv| with("MSET", kv.into_iter().flat_map(|(k, v)| [k, v]).collect()))),
        op(prop::collection::vec((key(), value()), 1..3)
            .prop_map(|kv| with("MSETNX", kv.into_iter().flat_map(|(k, v)| [k, v]).collect()))),
        op((key(), value()).prop_map(|(k, v)| with("APPEND", vec![k, v]))),
        op(key().prop_map(|k| with("STRLEN", vec![k]))),
        op((key(), offset(), offset()).prop_map(|(k, a, b)| with("GETRANGE", vec![k, a, b]))),
        op((key(), offset(), offset()).prop_map(|(k, a, b)| with("SUBSTR", vec![k, a, b]))),
        op((key(), set_range_offset(), value())
            .prop_map(|(k, o, v)| with("SETRANGE", vec![k, o, v]))),
        op(key().prop_map(|k| with("INCR", vec![k]))),
        op(key().prop_map(|k| with("DECR", vec![k]))),
        op((key(), int_arg()).prop_map(|(k, n)| with("INCRBY", vec![k, n]))),
        op((key(), int_arg()).prop_map(|(k, n)| with("DECRBY", vec![k, n]))),
        op((key(), float_arg()).prop_map(|(k, n)| with("INCRBYFLOAT", vec![k, n]))),
        op(key().prop_map(|k| with("OBJECT", vec!["ENCODING".into(), k]))),
        op(prop::option::of(value()).prop_map(|m| with("PING", m.into_iter().collect()))),
        op(value().prop_map(|m| with("ECHO", vec![m]))),
        op(keys(3).prop_map(|ks| with("DEL", ks))),
        op(keys(3).prop_map(|ks| with("EXISTS", ks))),
        // Argument-count errors and unknown commands.
        op(pick(&[
            "GET", "SET", "INCR", "MGET", "APPEND", "GETRANGE", "ECHO", "DEL",
        ])
        .prop_map(|c| vec![c])),
        op(key().prop_map(|k| with("SET", vec![k]))),
        op((key(), key()).prop_map(|(a, b)| with("INCR", vec![a, b]))),
        op((key(), value(), key()).prop_map(|(a, v, b)| with("MSET", vec![a, v, b]))),
        op(key().prop_map(|k| with("NOSUCHCMD", vec![k]))),
    ]
}

/// Key-space commands (generic family).
pub(crate) fn key_ops() -> Vec<BoxedStrategy<Op>> {
    let expire_flag = prop::option::of(pick(&["NX", "XX", "GT", "LT"]));
    vec![
        op(key().prop_map(|k| with("TYPE", vec![k]))),
        op((key(), key()).prop_map(|(a, b)| with("RENAME", vec![a, b]))),
        op((key(), key()).prop_map(|(a, b)| with("RENAMENX", vec![a, b]))),
        op((key(), key(), any::<bool>()).prop_map(|(a, b, r)| {
            let mut v = vec![a, b];
            if r {
                v.push("REPLACE".into());
            }
            with("COPY", v)
        })),
        op(key().prop_map(|k| with("PERSIST", vec![k]))),
        op(key().prop_map(|k| with("TTL", vec![k]))),
        op(key().prop_map(|k| with("PTTL", vec![k]))),
        op(key().prop_map(|k| with("EXPIRETIME", vec![k]))),
        op(key().prop_map(|k| with("PEXPIRETIME", vec![k]))),
        op((key(), secs(), expire_flag.clone()).prop_map(|(k, t, f)| {
            let mut v = vec![k, t];
            v.extend(f);
            with("EXPIRE", v)
        })),
        op(
            (key(), millis(), expire_flag.clone()).prop_map(|(k, t, f)| {
                let mut v = vec![k, t];
                v.extend(f);
                with("PEXPIRE", v)
            }),
        ),
        op((key(), unix_secs(), expire_flag).prop_map(|(k, t, f)| {
            let mut v = vec![k, t];
            v.extend(f);
            with("EXPIREAT", v)
        })),
        op((key(), unix_millis()).prop_map(|(k, t)| with("PEXPIREAT", vec![k, t]))),
        op(keys(3).prop_map(|ks| with("TOUCH", ks))),
        op(keys(3).prop_map(|ks| with("UNLINK", ks))),
        op(Just(vec!["DBSIZE".to_string()])),
        op(pick(&["*", "a*", "[a-c]", "?", "[^a]*", "e"]).prop_map(|p| with("KEYS", vec![p]))),
        op(pick(&["*", "[bd]"]).prop_map(|p| {
            with(
                "SCAN",
                vec!["0".into(), "MATCH".into(), p, "COUNT".into(), "1000".into()],
            )
        })),
        op(key().prop_map(|k| with("MOVE", vec![k, "1".into()]))),
        op(Just(vec!["SWAPDB".into(), "0".into(), "1".into()])),
    ]
}

/// Replies whose values are times and may differ by the few ms between the two servers.
fn tolerance(op: &Op) -> Option<i64> {
    match op[0].to_ascii_uppercase().as_str() {
        "TTL" | "EXPIRETIME" => Some(1),
        "PTTL" | "PEXPIRETIME" => Some(1000),
        _ => None,
    }
}

/// Sorts the key lists of KEYS and SCAN replies.
fn normalize(op: &Op, v: Result<Value, String>) -> Result<Value, String> {
    let sort = |mut items: Vec<Value>| {
        items.sort_by_key(|v| format!("{v:?}"));
        Value::Array(items)
    };
    match (op[0].as_str(), v) {
        ("KEYS", Ok(Value::Array(a))) => Ok(sort(a)),
        ("SCAN", Ok(Value::Array(mut a))) if a.len() == 2 => {
            if let Value::Array(keys) = a.pop().unwrap() {
                a.push(sort(keys));
            }
            Ok(Value::Array(a))
        }
        (_, v) => v,
    }
}

fn same(op: &Op, a: &Result<Value, String>, b: &Result<Value, String>) -> bool {
    if a == b {
        return true;
    }
    match (tolerance(op), a, b) {
        (Some(tol), Ok(Value::Int(x)), Ok(Value::Int(y))) => {
            *x >= 0 && *y >= 0 && (x - y).abs() <= tol
        }
        _ => false,
    }
}

/// A per-family reply normalizer (for example sorting the members of an unordered set reply).
pub(crate) type Normalize = fn(&Op, Result<Value, String>) -> Result<Value, String>;

fn run_cmd(con: &mut redis::Connection, op: &Op, extra: Normalize) -> Result<Value, String> {
    let args: Vec<Vec<u8>> = op.iter().map(|s| s.as_bytes().to_vec()).collect();
    extra(op, normalize(op, query(con, &cmd_bytes(&args))))
}

fn reset(con: &mut redis::Connection) {
    if q(con, &["FLUSHALL"]).is_err() {
        // FLUSHALL missing: delete the key space by hand.
        ok(con, &["DEL", "a", "b", "c", "d", "e"]);
    }
}

/// Runs `cases` random sequences of `ops` on tern and redis and compares every reply.
pub(crate) fn differential(ops: Vec<BoxedStrategy<Op>>, resp3: bool, cases: u32) {
    differential_with(ops, resp3, cases, |_, v| v)
}

/// [`differential`] with an extra normalizer applied to both servers' replies.
pub(crate) fn differential_with(
    ops: Vec<BoxedStrategy<Op>>,
    resp3: bool,
    cases: u32,
    extra: Normalize,
) {
    let tern = TestServer::start();
    let redis = RedisServer::start();
    let connect = |s: &TestServer| {
        if resp3 {
            s.client_resp3()
        } else {
            s.client()
        }
    };
    let t = RefCell::new(connect(&tern));
    let r = RefCell::new(connect(&redis));
    let seqs = prop::collection::vec(Union::new(ops), 1..40);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 400,
        ..Config::default()
    });
    // A bound on the whole run, shrinking included: past it, cases pass without running.
    let deadline = Instant::now() + Duration::from_secs(60);
    let result = runner.run(&seqs, |seq| {
        if Instant::now() > deadline {
            return Ok(());
        }
        let (mut t, mut r) = (t.borrow_mut(), r.borrow_mut());
        reset(&mut t);
        reset(&mut r);
        for (i, op) in seq.iter().enumerate() {
            let a = run_cmd(&mut t, op, extra);
            let b = run_cmd(&mut r, op, extra);
            if !same(op, &a, &b) {
                let history: Vec<String> = seq[..i].iter().map(|o| format!("{o:?}")).collect();
                return Err(TestCaseError::fail(format!(
                    "command #{i} {op:?} differs\n  tern:  {a:?}\n  redis: {b:?}\n  after: [{}]",
                    history.join(", ")
                )));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("tern and redis-server disagree (resp3: {resp3}): {e}");
    }
}

#[test]
fn string_commands_reply_exactly_like_redis() {
    differential(string_ops(), false, 64);
}

#[test]
fn string_commands_reply_exactly_like_redis_over_resp3() {
    differential(string_ops(), true, 32);
}

#[test]
fn string_and_keyspace_commands_together_reply_exactly_like_redis() {
    let mut ops = string_ops();
    ops.extend(key_ops());
    differential(ops, false, 64);
}
