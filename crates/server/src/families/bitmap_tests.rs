//! Tests of the bitmap helpers (against a bit-vector model) and of the commands through the
//! socket-free harness, including their propagated forms.

use super::*;
use crate::testkit::frames::{bulk, err, int, ok};
use crate::testkit::TestDb;
use proptest::prelude::*;
use tern_resp::Frame;

/// The model: one bool per bit, bit 0 = MSB of byte 0.
fn bits_of(b: &[u8]) -> Vec<bool> {
    (0..b.len() * 8)
        .map(|i| b[i / 8] & (0x80 >> (i % 8)) != 0)
        .collect()
}

fn model_get(bits: &[bool], off: u64, n: u32) -> u64 {
    (0..n as u64).fold(0, |v, j| {
        (v << 1) | *bits.get((off + j) as usize).unwrap_or(&false) as u64
    })
}

/// Redis's index normalisation for BITCOUNT/BITPOS ranges in the model's units.
fn norm(start: i64, end: i64, len: i64) -> Option<(i64, i64)> {
    let s = if start < 0 {
        (start + len).max(0)
    } else {
        start
    };
    let mut e = if end < 0 { (end + len).max(0) } else { end };
    if e >= len {
        e = len - 1;
    }
    (s <= e).then_some((s, e))
}

fn log(items: &[&[&str]]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

fn propagated(t: &mut TestDb, cmd: &[&str]) -> Vec<Vec<String>> {
    let off = t.log_offset();
    t.run(cmd);
    t.writes_since(off)
}

proptest! {
    #[test]
    fn get_and_set_bitfields_match_the_model(
        data in prop::collection::vec(any::<u8>(), 0..24),
        off in 0u64..200,
        n in 1u32..=64,
        v in any::<u64>(),
    ) {
        let bits = bits_of(&data);
        prop_assert_eq!(get_unsigned(&data, off, n), model_get(&bits, off, n));
        let s = get_signed(&data, off, n);
        let u = model_get(&bits, off, n);
        let expect = if n < 64 && u >> (n - 1) & 1 == 1 { (u | (u64::MAX << n)) as i64 } else { u as i64 };
        prop_assert_eq!(s, expect);
        let mut buf = data.clone();
        buf.resize(buf.len().max(((off + n as u64) as usize).div_ceil(8)), 0);
        set_unsigned(&mut buf, off, n, v);
        let mut m = bits_of(&buf);
        let after = bits.clone();
        for j in 0..n as u64 {
            m[(off + j) as usize] = v >> (n as u64 - 1 - j) & 1 == 1;
        }
        prop_assert_eq!(bits_of(&buf), m.clone());
        // Bits outside the field are unchanged.
        for (i, b) in after.iter().enumerate() {
            if (i as u64) < off || i as u64 >= off + n as u64 {
                prop_assert_eq!(m[i], *b);
            }
        }
    }

    #[test]
    fn popcount_and_bitcount_ranges_match_the_model(
        data in prop::collection::vec(any::<u8>(), 0..40),
        start in -50i64..50,
        end in -50i64..50,
        isbit in any::<bool>(),
    ) {
        let bits = bits_of(&data);
        prop_assert_eq!(popcount(&data), bits.iter().filter(|b| **b).count() as u64);
        let expect = if start < 0 && end < 0 && start > end {
            0
        } else if isbit {
            norm(start, end, bits.len() as i64)
                .map_or(0, |(s, e)| bits[s as usize..=e as usize].iter().filter(|b| **b).count())
        } else {
            norm(start, end, data.len() as i64).map_or(0, |(s, e)| {
                bits[s as usize * 8..(e as usize + 1) * 8].iter().filter(|b| **b).count()
            })
        };
        prop_assert_eq!(count_range(&data, Some((start, end, isbit))), expect as i64);
    }

    #[test]
    fn bitpos_matches_the_model(
        data in prop::collection::vec(prop_oneof![Just(0u8), Just(0xffu8), any::<u8>()], 0..40),
        bit in any::<bool>(),
        start in prop::option::of(-50i64..50),
        end in prop::option::of(-50i64..50),
        isbit in any::<bool>(),
    ) {
        let bits = bits_of(&data);
        let end = start.and(end);
        let isbit = isbit && end.is_some();
        let got = pos_range(&data, bit, start, end, isbit);
        let expect = match start {
            // An empty string is an empty range: -1 even for a 0 bit.
            None if data.is_empty() => -1,
            None => bits.iter().position(|b| *b == bit).map_or(
                if bit { -1 } else { bits.len() as i64 }, |p| p as i64),
            Some(s) => {
                let unit = if isbit { 1 } else { 8 };
                let len = (bits.len() / unit) as i64;
                let e = end.unwrap_or(len - 1);
                match norm(s, e, len) {
                    None => -1,
                    Some((s, e)) => {
                        let (lo, hi) = (s as usize * unit, (e as usize + 1) * unit);
                        match bits[lo..hi].iter().position(|b| *b == bit) {
                            Some(p) => (lo + p) as i64,
                            None if !bit && end.is_none() => hi as i64,
                            None => -1,
                        }
                    }
                }
            }
        };
        prop_assert_eq!(got, expect);
    }

    #[test]
    fn bitfield_incrby_wraps_saturates_and_fails_like_wide_arithmetic(
        n in 1u32..=64,
        signed in any::<bool>(),
        value in any::<i64>(),
        incr in any::<i64>(),
    ) {
        // Reference: the exact sum in i128, then wrapped or clamped to the type's range.
        let (min, max): (i128, i128) = if signed {
            (-(1i128 << (n - 1)), (1i128 << (n - 1)) - 1)
        } else {
            (0, (1i128 << n.min(63)) - 1)
        };
        if !signed && n == 64 {
            return Ok(());
        }
        let v = (value as i128).clamp(min, max);
        let sum = v + incr as i128;
        let width = 1i128 << n;
        let wrapped = {
            let mut w = (sum - min).rem_euclid(width) + min;
            if !signed { w = sum.rem_euclid(width); }
            w
        };
        let in_range = sum >= min && sum <= max;
        if signed {
            let got = signed_overflow(v as i64, incr, n, Overflow::Wrap);
            prop_assert_eq!(got.is_none(), in_range);
            prop_assert_eq!(got.unwrap_or(sum as i64) as i128, if in_range { sum } else { wrapped });
            let sat = signed_overflow(v as i64, incr, n, Overflow::Sat);
            prop_assert_eq!(sat.unwrap_or(sum as i64) as i128, sum.clamp(min, max));
        } else {
            let got = unsigned_overflow(v as u64, incr, n, Overflow::Wrap);
            prop_assert_eq!(got.is_none(), in_range);
            prop_assert_eq!(got.unwrap_or(sum as u64) as i128, if in_range { sum } else { wrapped });
            let sat = unsigned_overflow(v as u64, incr, n, Overflow::Sat);
            prop_assert_eq!(sat.unwrap_or(sum as u64) as i128, sum.clamp(min, max));
        }
    }

    #[test]
    fn bitop_matches_bytewise_model(
        a in prop::collection::vec(any::<u8>(), 0..40),
        b in prop::collection::vec(any::<u8>(), 0..40),
        c in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let n = a.len().max(b.len()).max(c.len());
        let at = |v: &Vec<u8>, i: usize| *v.get(i).unwrap_or(&0);
        let and: Vec<u8> = (0..n).map(|i| at(&a, i) & at(&b, i) & at(&c, i)).collect();
        let or: Vec<u8> = (0..n).map(|i| at(&a, i) | at(&b, i) | at(&c, i)).collect();
        let xor: Vec<u8> = (0..n).map(|i| at(&a, i) ^ at(&b, i) ^ at(&c, i)).collect();
        let not: Vec<u8> = a.iter().map(|x| !x).collect();
        prop_assert_eq!(bitop_compute(BitOp::And, &[&a, &b, &c]), and);
        prop_assert_eq!(bitop_compute(BitOp::Or, &[&a, &b, &c]), or);
        prop_assert_eq!(bitop_compute(BitOp::Xor, &[&a, &b, &c]), xor);
        prop_assert_eq!(bitop_compute(BitOp::Not, &[&a]), not);
    }
}

#[test]
fn setbit_grows_the_string_and_returns_the_old_bit() {
    let mut t = TestDb::new();
    assert_eq!(t.run(&["SETBIT", "k", "7", "1"]), int(0));
    assert_eq!(t.run(&["GET", "k"]), bulk([1u8]));
    assert_eq!(t.run(&["SETBIT", "k", "7", "0"]), int(1));
    assert_eq!(t.run(&["SETBIT", "k", "100", "1"]), int(0));
    assert_eq!(t.run(&["STRLEN", "k"]), int(13));
    assert_eq!(t.run(&["GETBIT", "k", "100"]), int(1));
    assert_eq!(t.run(&["GETBIT", "k", "10000"]), int(0));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "k"]), bulk("raw"));
    assert_eq!(t.run(&["SETBIT", "k", "-1", "1"]), err(BIT_OFFSET));
    assert_eq!(t.run(&["SETBIT", "k", "1", "2"]), err(BIT_VALUE));
    assert_eq!(t.run(&["SETBIT", "k", "1", "x"]), err(BIT_VALUE));
    // The offset limit follows proto-max-bulk-len.
    t.run(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
    assert_eq!(t.run(&["SETBIT", "k", "8388608", "1"]), err(BIT_OFFSET));
    assert_eq!(t.run(&["SETBIT", "k", "8388607", "1"]), int(0));
}

#[test]
fn int_encoded_strings_are_read_as_their_digits_and_become_raw_on_write() {
    let mut t = TestDb::new();
    t.run(&["SET", "n", "12"]);
    // '1' is 0x31 = 00110001.
    assert_eq!(t.run(&["GETBIT", "n", "2"]), int(1));
    assert_eq!(t.run(&["BITCOUNT", "n"]), int(3 + 3));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "n"]), bulk("int"));
    assert_eq!(t.run(&["SETBIT", "n", "7", "0"]), int(1));
    assert_eq!(t.run(&["GET", "n"]), bulk("02"));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "n"]), bulk("raw"));
}

#[test]
fn bitfield_replies_and_overflow_modes() {
    let mut t = TestDb::new();
    let arr = |v: Vec<Frame>| Frame::Array(v);
    assert_eq!(
        t.run(&["BITFIELD", "k", "SET", "u8", "0", "255", "GET", "u8", "0"]),
        arr(vec![int(0), int(255)])
    );
    assert_eq!(
        t.run(&["BITFIELD", "k", "INCRBY", "u8", "0", "10"]),
        arr(vec![int(9)])
    );
    assert_eq!(
        t.run(&["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300"]),
        arr(vec![int(255)])
    );
    assert_eq!(
        t.run(&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1"]),
        arr(vec![Frame::Null])
    );
    assert_eq!(
        t.run(&["BITFIELD", "k", "SET", "i8", "#1", "-1", "GET", "i8", "8"]),
        arr(vec![int(0), int(-1)])
    );
    assert_eq!(
        t.run(&["BITFIELD", "k", "GET", "u64", "0"]),
        err(BITFIELD_TYPE)
    );
    assert_eq!(
        t.run(&["BITFIELD", "k", "GET", "i65", "0"]),
        err(BITFIELD_TYPE)
    );
    assert_eq!(
        t.run(&["BITFIELD", "k", "OVERFLOW", "X"]),
        err("ERR Invalid OVERFLOW type specified")
    );
    assert_eq!(
        t.run(&["BITFIELD", "k", "GET", "u8"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.run(&["BITFIELD_RO", "k", "SET", "u8", "0", "1"]),
        err("ERR BITFIELD_RO only supports the GET subcommand")
    );
    assert_eq!(t.run(&["BITFIELD", "k"]), arr(vec![]));
}

#[test]
fn bitop_stores_raw_results_and_deletes_on_empty_inputs() {
    let mut t = TestDb::new();
    t.run(&["SET", "a", "abc"]);
    t.run(&["SET", "b", "ab"]);
    assert_eq!(t.run(&["BITOP", "AND", "d", "a", "b"]), int(3));
    assert_eq!(t.run(&["GET", "d"]), bulk(b"ab\0"));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "d"]), bulk("raw"));
    assert_eq!(
        t.run(&["BITOP", "NOT", "d", "a", "b"]),
        err("ERR BITOP NOT must be called with a single source key.")
    );
    assert_eq!(t.run(&["BITOP", "NAND", "d", "a"]), err("ERR syntax error"));
    assert_eq!(t.run(&["BITOP", "OR", "d", "x", "y"]), int(0));
    assert_eq!(t.run(&["EXISTS", "d"]), int(0));
    t.run(&["SET", "d", "v", "EX", "100"]);
    assert_eq!(t.run(&["BITOP", "XOR", "d", "a"]), int(3));
    assert_eq!(t.run(&["TTL", "d"]), int(-1));
    assert_eq!(t.run(&["SET", "x", "1"]), ok());
}

#[test]
fn writes_propagate_only_when_they_change_something() {
    let mut t = TestDb::new();
    assert_eq!(
        propagated(&mut t, &["SETBIT", "k", "7", "1"]),
        log(&[&["SETBIT", "k", "7", "1"]])
    );
    assert_eq!(propagated(&mut t, &["SETBIT", "k", "7", "1"]), log(&[]));
    // Growing the string propagates even when the bit stays 0.
    assert_eq!(
        propagated(&mut t, &["SETBIT", "k", "64", "0"]),
        log(&[&["SETBIT", "k", "64", "0"]])
    );
    assert_eq!(
        propagated(&mut t, &["BITFIELD", "k", "SET", "u8", "0", "1"]),
        log(&[])
    );
    assert_eq!(
        propagated(&mut t, &["BITFIELD", "k", "SET", "u8", "0", "2"]),
        log(&[&["BITFIELD", "k", "SET", "u8", "0", "2"]])
    );
    assert_eq!(
        propagated(&mut t, &["BITFIELD", "k", "GET", "u8", "0"]),
        log(&[])
    );
    // A FAIL-refused write on a new key creates it without propagating, as Redis 7.0 does.
    assert_eq!(
        propagated(
            &mut t,
            &["BITFIELD", "n", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"]
        ),
        log(&[])
    );
    assert_eq!(t.run(&["EXISTS", "n"]), int(1));
    assert_eq!(
        propagated(&mut t, &["BITOP", "OR", "d", "k"]),
        log(&[&["BITOP", "OR", "d", "k"]])
    );
    assert_eq!(propagated(&mut t, &["BITOP", "OR", "none", "x"]), log(&[]));
    assert_eq!(
        propagated(&mut t, &["BITOP", "OR", "d", "x"]),
        log(&[&["BITOP", "OR", "d", "x"]])
    );
}

#[test]
fn multi_key_bitop_works_across_shards() {
    let mut t = TestDb::with_workers(4);
    for i in 0..20 {
        t.run(&["SETBIT", &format!("k{i}"), &i.to_string(), "1"]);
    }
    let mut cmd: Vec<String> = vec!["BITOP".into(), "OR".into(), "dest".into()];
    cmd.extend((0..20).map(|i| format!("k{i}")));
    assert_eq!(t.run(&cmd), int(3));
    assert_eq!(t.run(&["BITCOUNT", "dest"]), int(20));
    assert_eq!(t.run(&["BITPOS", "dest", "0"]), int(20));
}
