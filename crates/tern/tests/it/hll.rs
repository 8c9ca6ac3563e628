//! HyperLogLog commands (PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST) through the `redis` crate
//! and redis-cli, and interchange with the real redis-server: after the same PFADDs the stored
//! bytes are identical, and values built by one server count the same on the other.

use crate::bitmaps::other_type_key;
use crate::differential::{differential_with, key, op, pick, with, Op};
use crate::harness::*;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const INVALID: &str = "INVALIDOBJ Corrupted HLL object detected";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn get_bytes(c: &mut redis::Connection, k: &str) -> Vec<u8> {
    match ok(c, &["GET", k]) {
        Value::BulkString(b) => b,
        v => panic!("GET {k}: {v:?}"),
    }
}

fn set_bytes(c: &mut redis::Connection, k: &str, v: &[u8]) {
    let _: () = redis::cmd("SET").arg(k).arg(v).query(c).unwrap();
}

fn pfadd(c: &mut redis::Connection, k: &str, els: &[String]) -> Value {
    redis::cmd("PFADD").arg(k).arg(els).query(c).unwrap()
}

#[test]
fn pfadd_pfcount_and_pfmerge_basics() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["PFADD", "h", "a", "b", "c"]), int(1));
    assert_eq!(ok(&mut c, &["PFADD", "h", "a", "b"]), int(0));
    assert_eq!(ok(&mut c, &["PFADD", "h"]), int(0));
    assert_eq!(ok(&mut c, &["PFADD", "empty"]), int(1));
    assert_eq!(ok(&mut c, &["PFCOUNT", "h"]), int(3));
    assert_eq!(ok(&mut c, &["PFCOUNT", "empty"]), int(0));
    assert_eq!(ok(&mut c, &["PFCOUNT", "missing"]), int(0));
    assert_eq!(
        ok(&mut c, &["TYPE", "h"]),
        Value::SimpleString("string".into())
    );
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "h"]), bulk("raw"));
    ok(&mut c, &["PFADD", "g", "c", "d", "e"]);
    assert_eq!(ok(&mut c, &["PFCOUNT", "h", "g"]), int(5));
    assert_eq!(ok(&mut c, &["PFCOUNT", "h", "g", "missing"]), int(5));
    assert_eq!(ok(&mut c, &["PFMERGE", "m", "h", "g"]), Value::Okay);
    assert_eq!(ok(&mut c, &["PFCOUNT", "m"]), int(5));
    assert_eq!(ok(&mut c, &["PFMERGE", "m"]), Value::Okay);
    assert_eq!(ok(&mut c, &["PFCOUNT", "m"]), int(5));
    assert_eq!(ok(&mut c, &["PFMERGE", "fresh"]), Value::Okay);
    assert_eq!(ok(&mut c, &["PFCOUNT", "fresh"]), int(0));
    assert_eq!(
        err(&mut c, &["PFADD"]),
        "ERR wrong number of arguments for 'pfadd' command"
    );
    assert_eq!(
        err(&mut c, &["PFCOUNT"]),
        "ERR wrong number of arguments for 'pfcount' command"
    );
    assert_eq!(
        err(&mut c, &["PFMERGE"]),
        "ERR wrong number of arguments for 'pfmerge' command"
    );
}

#[test]
fn non_hll_values_are_refused() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "s", "hello, definitely not an HLL"]);
    ok(&mut c, &["SET", "n", "1234567890123456789"]);
    ok(&mut c, &["SET", "short", "HYLL"]);
    ok(&mut c, &["PFADD", "h", "a"]);
    for k in ["s", "n", "short"] {
        assert_eq!(err(&mut c, &["PFADD", k, "x"]), NOT_HLL, "{k}");
        assert_eq!(err(&mut c, &["PFCOUNT", k]), NOT_HLL, "{k}");
        assert_eq!(err(&mut c, &["PFCOUNT", "h", k]), NOT_HLL, "{k}");
        assert_eq!(err(&mut c, &["PFMERGE", "h", k]), NOT_HLL, "{k}");
        assert_eq!(err(&mut c, &["PFMERGE", k, "h"]), NOT_HLL, "{k}");
        assert_eq!(err(&mut c, &["PFDEBUG", "ENCODING", k]), NOT_HLL, "{k}");
    }
    // A dense header with the wrong length is not an HLL either.
    let mut bad = get_bytes(&mut c, "h");
    bad[4] = 0;
    set_bytes(&mut c, "bad", &bad);
    assert_eq!(err(&mut c, &["PFCOUNT", "bad"]), NOT_HLL);
    // A sparse HLL whose opcodes do not cover 16384 registers is corrupt.
    let mut corrupt = bad[..16].to_vec();
    corrupt[4] = 1;
    corrupt[15] |= 0x80;
    corrupt.push(0x00);
    set_bytes(&mut c, "corrupt", &corrupt);
    assert_eq!(err(&mut c, &["PFCOUNT", "corrupt"]), INVALID);
    assert_eq!(err(&mut c, &["PFCOUNT", "corrupt", "h"]), INVALID);
    assert_eq!(err(&mut c, &["PFMERGE", "x", "corrupt"]), INVALID);
    assert_eq!(err(&mut c, &["PFADD", "corrupt", "a", "b", "c"]), INVALID);
    if let Some(l) = other_type_key(&mut c) {
        assert_eq!(err(&mut c, &["PFADD", l, "x"]), WRONGTYPE);
        assert_eq!(err(&mut c, &["PFCOUNT", l]), WRONGTYPE);
        assert_eq!(err(&mut c, &["PFMERGE", "h", l]), WRONGTYPE);
    }
}

#[test]
fn pfdebug_subcommands() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["PFADD", "h", "a", "b", "c"]);
    ok(&mut c, &["PFADD", "e"]);
    assert_eq!(
        ok(&mut c, &["PFDEBUG", "ENCODING", "h"]),
        Value::SimpleString("sparse".into())
    );
    assert_eq!(ok(&mut c, &["PFDEBUG", "DECODE", "e"]), bulk("Z:16384"));
    let regs = items(&ok(&mut c, &["PFDEBUG", "GETREG", "h"]));
    assert_eq!(regs.len(), 16384);
    assert_eq!(regs.iter().filter(|r| **r != int(0)).count(), 3);
    // GETREG converted the value to dense.
    assert_eq!(
        ok(&mut c, &["PFDEBUG", "ENCODING", "h"]),
        Value::SimpleString("dense".into())
    );
    assert_eq!(ok(&mut c, &["STRLEN", "h"]), int(12304));
    assert_eq!(ok(&mut c, &["PFDEBUG", "TODENSE", "h"]), int(0));
    assert_eq!(ok(&mut c, &["PFDEBUG", "TODENSE", "e"]), int(1));
    assert_eq!(ok(&mut c, &["PFCOUNT", "h"]), int(3));
    assert_eq!(
        err(&mut c, &["PFDEBUG", "DECODE", "h"]),
        "ERR HLL encoding is not sparse"
    );
    assert_eq!(
        err(&mut c, &["PFDEBUG", "GETREG", "missing"]),
        "ERR The specified key does not exist"
    );
    assert_eq!(
        err(&mut c, &["PFDEBUG", "Nope", "h"]),
        "ERR Unknown PFDEBUG subcommand 'Nope'"
    );
    assert_eq!(
        err(&mut c, &["PFDEBUG", "GETREG", "h", "x"]),
        "ERR wrong number of arguments for 'pfdebug' command"
    );
    assert_eq!(ok(&mut c, &["PFSELFTEST"]), Value::Okay);
}

#[test]
fn hll_bytes_are_identical_to_redis_and_interchangeable() {
    let tern = TestServer::start();
    let redis = RedisServer::start();
    let (mut t, mut r) = (tern.client(), redis.client());
    for limit in ["3000", "120"] {
        for c in [&mut t, &mut r] {
            ok(c, &["CONFIG", "SET", "hll-sparse-max-bytes", limit]);
        }
        let k = format!("h{limit}");
        let mut n = 0u64;
        // Grow past the sparse limit in uneven steps, comparing bytes after each step.
        for step in 0..40u64 {
            let els: Vec<String> = (0..(step % 5) * 13 + 1)
                .map(|i| {
                    n += 1;
                    format!("el:{}:{}", n, i * 7919)
                })
                .collect();
            assert_eq!(
                pfadd(&mut t, &k, &els),
                pfadd(&mut r, &k, &els),
                "step {step}"
            );
            if step % 3 == 0 {
                assert_eq!(ok(&mut t, &["PFCOUNT", &k]), ok(&mut r, &["PFCOUNT", &k]));
            }
            assert_eq!(
                get_bytes(&mut t, &k),
                get_bytes(&mut r, &k),
                "limit {limit} step {step}"
            );
        }
        assert_eq!(
            ok(&mut t, &["PFDEBUG", "ENCODING", &k]),
            ok(&mut r, &["PFDEBUG", "ENCODING", &k])
        );
    }
    // A big (dense) HLL, then a merge of sparse and dense.
    let els: Vec<String> = (0..50_000).map(|i| i.to_string()).collect();
    assert_eq!(pfadd(&mut t, "big", &els), pfadd(&mut r, "big", &els));
    assert_eq!(
        ok(&mut t, &["PFCOUNT", "big"]),
        ok(&mut r, &["PFCOUNT", "big"])
    );
    assert_eq!(get_bytes(&mut t, "big"), get_bytes(&mut r, "big"));
    for c in [&mut t, &mut r] {
        ok(c, &["PFADD", "small", "x", "y"]);
        ok(c, &["PFMERGE", "m", "small", "h120", "h3000"]);
        ok(c, &["PFMERGE", "m2", "small", "big"]);
    }
    assert_eq!(get_bytes(&mut t, "m"), get_bytes(&mut r, "m"));
    assert_eq!(get_bytes(&mut t, "m2"), get_bytes(&mut r, "m2"));
    assert_eq!(
        ok(&mut t, &["PFCOUNT", "small", "big", "h3000"]),
        ok(&mut r, &["PFCOUNT", "small", "big", "h3000"])
    );
    // Values move both ways with GET/SET and DUMP/RESTORE.
    for k in ["h3000", "h120", "big", "m"] {
        let from_redis = get_bytes(&mut r, k);
        set_bytes(&mut t, "copy", &from_redis);
        let from_tern = get_bytes(&mut t, k);
        set_bytes(&mut r, "copy", &from_tern);
        assert_eq!(
            ok(&mut t, &["PFCOUNT", "copy"]),
            ok(&mut r, &["PFCOUNT", k])
        );
        assert_eq!(
            ok(&mut r, &["PFCOUNT", "copy"]),
            ok(&mut t, &["PFCOUNT", k])
        );
        let dump = ok(&mut r, &["DUMP", k]);
        let Value::BulkString(payload) = dump else {
            panic!("DUMP {k}")
        };
        let _: () = redis::cmd("RESTORE")
            .arg("restored")
            .arg(0)
            .arg(&payload)
            .arg("REPLACE")
            .query(&mut t)
            .unwrap();
        assert_eq!(
            ok(&mut t, &["PFCOUNT", "restored"]),
            ok(&mut r, &["PFCOUNT", k])
        );
    }
}

/// Sparse HLLs whose last opcode runs past register 16383, though earlier runs end exactly at
/// it (the differential test found one: a SETRANGE that lengthened a ZERO run by one): every
/// command reads them as Redis does since the CVE-2025-32023 fix, corrupt.
#[test]
fn a_sparse_hll_with_an_opcode_past_the_last_register_is_corrupt_as_in_redis() {
    let tern = TestServer::start();
    let redis = RedisServer::start();
    let (mut t, mut r) = (tern.client(), redis.client());
    // Header (sparse, cache invalid), XZERO:16383, then VAL:1,1 twice: 16385 registers.
    let header = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    let xzero_16383 = [0x40 | (16382 >> 8) as u8, (16382 & 0xff) as u8];
    let mut past_the_end = header.clone();
    past_the_end.extend(xzero_16383);
    past_the_end.extend([0x80, 0x80]);
    // The same with a ZERO:2 last (the total alone tells this one).
    let mut zero_past_the_end = header;
    zero_past_the_end.extend(xzero_16383);
    zero_past_the_end.push(0x01);
    for c in [&mut t, &mut r] {
        ok(c, &["PFADD", "ok", "a", "b"]);
    }
    for (name, bytes) in [
        ("past_the_end", &past_the_end),
        ("zero_past_the_end", &zero_past_the_end),
    ] {
        for args in [
            vec!["PFCOUNT", name],
            vec!["PFCOUNT", name, "ok"],
            vec!["PFMERGE", "dst", name],
            vec!["PFMERGE", "dst", "ok", name],
            vec!["PFADD", name, "a", "b", "c"],
            vec!["PFDEBUG", "GETREG", name],
            vec!["PFDEBUG", "TODENSE", name],
        ] {
            for c in [&mut t, &mut r] {
                set_bytes(c, name, bytes);
            }
            let (a, b) = (q(&mut t, &args), q(&mut r, &args));
            assert_eq!(a, b, "{args:?}");
        }
    }
    // Not two wrong answers that agree: both call the first one corrupt.
    for c in [&mut t, &mut r] {
        set_bytes(c, "x", &past_the_end);
        assert_eq!(err(c, &["PFCOUNT", "x", "ok"]), INVALID);
    }
}

#[test]
fn hll_replies_over_resp3_and_redis_cli() {
    let s = TestServer::start();
    let mut c = s.client_resp3();
    assert_eq!(ok(&mut c, &["PFADD", "h", "a", "b"]), int(1));
    assert_eq!(ok(&mut c, &["PFCOUNT", "h"]), int(2));
    assert_eq!(ok(&mut c, &["PFMERGE", "m", "h"]), Value::Okay);
    assert_eq!(
        ok(&mut c, &["PFDEBUG", "ENCODING", "m"]),
        Value::SimpleString("sparse".into())
    );
    let out = std::process::Command::new(require_tool(REDIS_CLI))
        .args(["-p", &s.port().to_string(), "PFCOUNT", "h", "m"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
}

// ---------------------------------------------------------------------------------------------
// Differential proptest against redis-server.
// ---------------------------------------------------------------------------------------------

fn element() -> BoxedStrategy<String> {
    prop_oneof![
        pick(&["a", "b", "c", "foo", "bar", "", "1", "héllo"]),
        (0u32..3000).prop_map(|i| format!("e{i}")),
    ]
    .boxed()
}

fn hll_ops() -> Vec<BoxedStrategy<Op>> {
    vec![
        op(
            (key(), prop::collection::vec(element(), 0..8)).prop_map(|(k, e)| {
                let mut v = vec![k];
                v.extend(e);
                with("PFADD", v)
            }),
        ),
        // Many elements at once, so keys cross the sparse limit (lowered below).
        op((key(), 0u32..40).prop_map(|(k, seed)| {
            let mut v = vec![k];
            v.extend((0..150).map(|i| format!("bulk{seed}:{i}")));
            with("PFADD", v)
        })),
        op(prop::collection::vec(key(), 1..4).prop_map(|ks| with("PFCOUNT", ks))),
        op(prop::collection::vec(key(), 1..4).prop_map(|ks| with("PFMERGE", ks))),
        op((pick(&["ENCODING", "DECODE", "TODENSE"]), key())
            .prop_map(|(s, k)| with("PFDEBUG", vec![s, k]))),
        op(key().prop_map(|k| with("GET", vec![k]))),
        op((key(), pick(&["plain", "HYLL", "123"])).prop_map(|(k, v)| with("SET", vec![k, v]))),
        op((key(), pick(&["0", "5", "17"]), pick(&["x", "\u{1}"]))
            .prop_map(|(k, o, v)| with("SETRANGE", vec![k, o, v]))),
        op(key().prop_map(|k| with("OBJECT", vec!["ENCODING".into(), k]))),
        op(key().prop_map(|k| with("DEL", vec![k]))),
        op(key().prop_map(|k| with("STRLEN", vec![k]))),
        op(pick(&["100", "300", "3000"]).prop_map(|n| {
            with(
                "CONFIG",
                vec!["SET".into(), "hll-sparse-max-bytes".into(), n],
            )
        })),
    ]
}

#[test]
fn hll_commands_reply_exactly_like_redis() {
    differential_with(hll_ops(), false, 64, |_, v| v);
}

#[test]
fn hll_and_bitmap_commands_together_reply_exactly_like_redis() {
    let mut ops = hll_ops();
    ops.extend(crate::bitmaps::bitmap_ops());
    differential_with(ops, true, 32, |_, v| v);
}

#[test]
fn debug_digest_of_bitmaps_and_hlls_matches_redis() {
    let tern = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let redis = TestServer::start_redis(None, &["--enable-debug-command", "yes"]);
    let (mut t, mut r) = (tern.client(), redis.client());
    for c in [&mut t, &mut r] {
        ok(c, &["SETBIT", "bits", "1000", "1"]);
        ok(c, &["BITFIELD", "bits", "SET", "i16", "#3", "-300"]);
        ok(c, &["PFADD", "sparse", "a", "b", "c"]);
        ok(c, &["PFCOUNT", "sparse"]);
        let els: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
        let _: Value = redis::cmd("PFADD").arg("dense").arg(&els).query(c).unwrap();
    }
    for k in ["bits", "sparse", "dense"] {
        assert_eq!(
            ok(&mut t, &["DEBUG", "DIGEST-VALUE", k]),
            ok(&mut r, &["DEBUG", "DIGEST-VALUE", k]),
            "{k}"
        );
    }
    assert_eq!(
        ok(&mut t, &["DEBUG", "DIGEST"]),
        ok(&mut r, &["DEBUG", "DIGEST"])
    );
}
