//! Tests of the HyperLogLog representation (sparse against a plain register array, sparse
//! against dense) and of the commands through the socket-free harness, with propagated forms.

use super::*;
use crate::testkit::frames::{bulk, err, int, ok};
use crate::testkit::TestDb;
use proptest::prelude::*;
use tern_resp::Frame;

/// Decodes either encoding into one byte per register.
fn registers(b: &[u8]) -> Vec<u8> {
    let d = if b[4] == DENSE {
        b.to_vec()
    } else {
        sparse_to_dense(b).expect("valid sparse HLL")
    };
    (0..REGISTERS).map(|i| dense_get(&d[HDR..], i)).collect()
}

fn log(items: &[&[&str]]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[test]
fn murmur_hash_and_pattern_match_known_values() {
    // Empty input with seed 0 is the finalizer applied to 0.
    assert_eq!(murmur64a(b"", 0), 0);
    // The register/pattern of a known element agrees with redis-server's PFDEBUG GETREG
    // (checked by the integration tests); here: deterministic and within range.
    let (i, c) = pat_len(b"hello");
    assert!(i < REGISTERS && (1..=51).contains(&c));
    assert_eq!(pat_len(b"hello"), (i, c));
}

#[test]
fn a_new_hll_is_sparse_and_counts_zero() {
    let h = new_hll();
    assert_eq!(h.len(), 18);
    assert!(is_hll(&h));
    assert_eq!(&h[16..], &[0x7f, 0xff]);
    assert_eq!(estimate(&histogram(&h).unwrap()), 0);
    assert_eq!(cached_card(&h), Some(0));
}

#[test]
fn foreign_strings_are_not_hlls() {
    assert!(!is_hll(b"HYLL"));
    assert!(!is_hll(b"hello world, not an HLL"));
    let mut h = new_hll();
    h[4] = 2;
    assert!(!is_hll(&h));
    h[4] = DENSE;
    assert!(!is_hll(&h), "a dense HLL must be exactly DENSE_SIZE long");
}

proptest! {
    #[test]
    fn sparse_updates_match_a_register_array_and_promote_like_redis(
        sets in prop::collection::vec((0usize..REGISTERS, 1u8..40), 0..300),
        limit in prop_oneof![Just(3000usize), Just(60usize), Just(300usize)],
    ) {
        let mut h = new_hll();
        let mut model = vec![0u8; REGISTERS];
        for (i, c) in sets {
            let changed = set_register(&mut h, i, c, limit).unwrap();
            prop_assert_eq!(changed, c > model[i]);
            model[i] = model[i].max(c);
            prop_assert!(is_hll(&h));
            if h[4] == SPARSE {
                prop_assert!(h.len() <= limit.max(18));
            }
        }
        prop_assert_eq!(registers(&h), model.clone());
        // Histograms (and so counts) agree between the encodings.
        let dense = if h[4] == SPARSE { sparse_to_dense(&h).unwrap() } else { h.clone() };
        prop_assert_eq!(histogram(&h).unwrap(), histogram(&dense).unwrap());
        let mut max = Box::new([0u8; REGISTERS]);
        merge_into(&mut max, &h).unwrap();
        prop_assert_eq!(&max[..], &model[..]);
        prop_assert_eq!(raw_histogram(&max), histogram(&dense).unwrap());
    }

    #[test]
    fn sparse_opcodes_are_canonical_runs(
        sets in prop::collection::vec((0usize..64, 1u8..33), 0..100),
    ) {
        // Adjacent equal VAL opcodes that fit in one are merged, so a run of equal registers
        // never shows as two short VALs next to each other with room to spare.
        let mut h = new_hll();
        for (i, c) in sets {
            set_register(&mut h, i, c, 3000).unwrap();
        }
        prop_assert_eq!(h[4], SPARSE);
        let mut p = HDR;
        let mut covered = 0;
        while p < h.len() {
            let (run, _, n) = sparse_op(&h, p);
            covered += run;
            p += n;
        }
        prop_assert_eq!(covered, REGISTERS);
    }
}

#[test]
fn counts_are_close_to_the_truth() {
    let mut h = new_hll();
    for n in 0..20_000u32 {
        add(&mut h, n.to_string().as_bytes(), 3000).unwrap();
    }
    assert_eq!(h[4], DENSE);
    assert_eq!(h.len(), DENSE_SIZE);
    let c = estimate(&histogram(&h).unwrap()) as f64;
    assert!((c - 20_000.0).abs() / 20_000.0 < 0.05, "{c}");
}

#[test]
fn corrupt_sparse_hlls_are_detected() {
    let mut h = new_hll();
    h.truncate(17); // an XZERO cut in half, covering fewer registers
    h[16] = 0x00; // ZERO:1
    assert!(histogram(&h).is_err());
    assert!(sparse_to_dense(&h).is_none());
    assert!(set_register(&mut h, 100, 3, 3000).is_err());
}

#[test]
fn an_opcode_past_the_last_register_is_corrupt_even_when_the_total_is_reached_first() {
    // XZERO:16384 then VAL:1,1: the first opcode alone covers every register.
    let mut h = new_hll();
    h.push(0x80);
    assert!(histogram(&h).is_err());
    assert!(sparse_to_dense(&h).is_none());
    assert!(merge_into(&mut Box::new([0u8; REGISTERS]), &h).is_err());
    // Without the extra opcode it is the empty HLL.
    h.pop();
    assert!(merge_into(&mut Box::new([0u8; REGISTERS]), &h).is_ok());
}

#[test]
fn pfadd_pfcount_pfmerge_replies() {
    let mut t = TestDb::new();
    assert_eq!(t.run(&["PFADD", "h", "a", "b", "c"]), int(1));
    assert_eq!(t.run(&["PFADD", "h", "a"]), int(0));
    assert_eq!(t.run(&["PFADD", "h"]), int(0));
    assert_eq!(t.run(&["PFADD", "e"]), int(1));
    assert_eq!(t.run(&["PFCOUNT", "h"]), int(3));
    assert_eq!(t.run(&["PFCOUNT", "e"]), int(0));
    assert_eq!(t.run(&["PFCOUNT", "missing"]), int(0));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "h"]), bulk("raw"));
    t.run(&["PFADD", "g", "c", "d"]);
    assert_eq!(t.run(&["PFCOUNT", "h", "g", "missing"]), int(4));
    assert_eq!(t.run(&["PFMERGE", "m", "h", "g"]), ok());
    assert_eq!(t.run(&["PFCOUNT", "m"]), int(4));
    assert_eq!(
        t.run(&["PFDEBUG", "ENCODING", "m"]),
        Frame::Simple("sparse".into())
    );
    assert_eq!(t.run(&["PFDEBUG", "DECODE", "e"]), bulk("Z:16384"));
    assert_eq!(t.run(&["PFDEBUG", "TODENSE", "m"]), int(1));
    assert_eq!(t.run(&["PFDEBUG", "TODENSE", "m"]), int(0));
    assert_eq!(t.run(&["PFCOUNT", "m"]), int(4));
    assert_eq!(t.run(&["STRLEN", "m"]), int(DENSE_SIZE as i64));
    assert_eq!(
        t.run(&["PFDEBUG", "DECODE", "m"]),
        err("ERR HLL encoding is not sparse")
    );
    assert_eq!(
        t.run(&["PFDEBUG", "GETREG", "missing"]),
        err("ERR The specified key does not exist")
    );
    assert_eq!(
        t.run(&["PFDEBUG", "NOPE", "m"]),
        err("ERR Unknown PFDEBUG subcommand 'NOPE'")
    );
    let Frame::Array(regs) = t.run(&["PFDEBUG", "GETREG", "h"]) else {
        panic!("GETREG replies with an array")
    };
    assert_eq!(regs.len(), REGISTERS);
    assert_eq!(regs.iter().filter(|r| **r != int(0)).count(), 3);
    t.run(&["SET", "s", "not an hll at all"]);
    for cmd in [
        &["PFADD", "s", "x"][..],
        &["PFCOUNT", "s"],
        &["PFCOUNT", "s", "h"],
        &["PFMERGE", "h", "s"],
    ] {
        assert_eq!(t.run(cmd), err(NOT_HLL), "{cmd:?}");
    }
    t.run(&["SET", "i", "12345678901234567"]);
    assert_eq!(t.run(&["PFADD", "i", "x"]), err(NOT_HLL));
}

#[test]
fn pfcount_caches_the_cardinality_in_the_header() {
    let mut t = TestDb::new();
    t.run(&["PFADD", "h", "a", "b"]);
    let Frame::Bulk(before) = t.run(&["GET", "h"]) else {
        panic!()
    };
    assert_eq!(cached_card(&before), None);
    t.run(&["PFCOUNT", "h"]);
    let Frame::Bulk(after) = t.run(&["GET", "h"]) else {
        panic!()
    };
    assert_eq!(cached_card(&after), Some(2));
    assert_eq!(before[16..], after[16..]);
}

#[test]
fn corrupt_values_reply_invalidobj() {
    let mut t = TestDb::new();
    let mut h = new_hll();
    h.truncate(HDR);
    h.push(0x00); // ZERO:1, and nothing for the other 16383 registers
    invalidate_cache(&mut h);
    assert_eq!(t.run(&[b"SET".to_vec(), b"c".to_vec(), h]), ok());
    assert_eq!(t.run(&["PFCOUNT", "c"]), err(INVALID_HLL));
    assert_eq!(t.run(&["PFCOUNT", "c", "c"]), err(INVALID_HLL));
    assert_eq!(t.run(&["PFMERGE", "d", "c"]), err(INVALID_HLL));
}

#[test]
fn propagated_forms() {
    let mut t = TestDb::new();
    let mut run = |cmd: &[&str]| {
        let off = t.log_offset();
        t.run(cmd);
        t.writes_since(off)
    };
    assert_eq!(run(&["PFADD", "h", "a"]), log(&[&["PFADD", "h", "a"]]));
    assert_eq!(run(&["PFADD", "h", "a"]), log(&[]));
    // PFCOUNT rewrites the cached cardinality, so it propagates; a cache hit does not.
    assert_eq!(run(&["PFCOUNT", "h"]), log(&[&["PFCOUNT", "h"]]));
    assert_eq!(run(&["PFCOUNT", "h"]), log(&[]));
    assert_eq!(run(&["PFCOUNT", "h", "x"]), log(&[]));
    assert_eq!(run(&["PFMERGE", "m", "h"]), log(&[&["PFMERGE", "m", "h"]]));
    assert_eq!(
        run(&["PFDEBUG", "TODENSE", "m"]),
        log(&[&["PFDEBUG", "TODENSE", "m"]])
    );
    assert_eq!(run(&["PFDEBUG", "TODENSE", "m"]), log(&[]));
}

#[test]
fn low_sparse_limit_promotes_early() {
    let mut t = TestDb::new();
    assert_eq!(
        t.run(&["CONFIG", "SET", "hll-sparse-max-bytes", "30"]),
        ok()
    );
    t.run(&["PFADD", "h", "a", "b", "c", "d", "e", "f", "g", "h"]);
    assert_eq!(
        t.run(&["PFDEBUG", "ENCODING", "h"]),
        Frame::Simple("dense".into())
    );
    assert_eq!(t.run(&["PFCOUNT", "h"]), int(8));
}

#[test]
fn selftest_passes() {
    let mut t = TestDb::new();
    assert_eq!(t.run(&["PFSELFTEST"]), ok());
}
