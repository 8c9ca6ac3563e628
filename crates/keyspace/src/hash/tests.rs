//! The hash type against a `BTreeMap` model, across the listpack -> hashtable conversion.

use super::*;
use proptest::prelude::*;
use rand::SeedableRng;
use std::collections::{BTreeMap, BTreeSet};

fn limits(entries: usize, value: usize) -> EncodingLimits {
    EncodingLimits {
        hash_max_listpack_entries: entries,
        hash_max_listpack_value: value,
        ..EncodingLimits::default()
    }
}

fn contents(h: &Hash) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut m = BTreeMap::new();
    h.for_each(|f, v| {
        assert!(
            m.insert(f.to_vec(), v.to_vec()).is_none(),
            "duplicate field"
        );
    });
    m
}

#[derive(Clone, Debug)]
enum Op {
    Set(Vec<u8>, Vec<u8>),
    Del(Vec<u8>),
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Small field names that collide often, integers (stored as listpack integers).
        (0u8..12).prop_map(|i| format!("f{i}").into_bytes()),
        (-300i64..300).prop_map(|i| i.to_string().into_bytes()),
        // Long ones that cross hash-max-listpack-value.
        proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (bytes(), bytes()).prop_map(|(f, v)| Op::Set(f, v)),
        1 => bytes().prop_map(Op::Del),
    ]
}

proptest! {
    #[test]
    fn hash_matches_a_btreemap_model(
        ops in proptest::collection::vec(op(), 0..120),
        entries in 1usize..20,
        value in 1usize..32,
    ) {
        let lim = limits(entries, value);
        let mut h = Hash::new();
        let mut m: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut big = false;
        for op in ops {
            match op {
                Op::Set(f, v) => {
                    big |= f.len() > value || v.len() > value;
                    let new = h.set(&f, &v, &lim);
                    prop_assert_eq!(new, m.insert(f, v).is_none());
                    big |= m.len() > entries;
                }
                Op::Del(f) => {
                    prop_assert_eq!(h.remove(&f), m.remove(&f).is_some());
                }
            }
            prop_assert_eq!(h.len(), m.len());
            // Conversion happens exactly when a threshold is crossed and is one-way.
            prop_assert_eq!(h.encoding(), if big { "hashtable" } else { "listpack" });
        }
        prop_assert_eq!(contents(&h), m.clone());
        for (f, v) in &m {
            prop_assert_eq!(h.get_field(f), Some(v.clone()));
            prop_assert!(h.contains(f));
        }
        prop_assert_eq!(h.get_field(b"absent-field-name"), None);
        // A full SCAN returns every pair at least once.
        let mut seen = BTreeMap::new();
        let mut cursor = 0;
        loop {
            cursor = h.scan(cursor, 3, |f, v| { seen.insert(f.to_vec(), v.to_vec()); });
            if cursor == 0 { break; }
        }
        prop_assert_eq!(seen, m.clone());
        // Equality ignores encoding and order.
        let mut other = Hash::new();
        for (f, v) in m.iter().rev() {
            other.set(f, v, &limits(1000, 1000));
        }
        prop_assert_eq!(&other, &h);
        // Random picks are members; distinct picks are distinct and as many as asked.
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        if let Some((f, v)) = h.random_pair(&mut rng) {
            prop_assert_eq!(m.get(&f.to_vec()), Some(&v.to_vec()));
        } else {
            prop_assert!(m.is_empty());
        }
        for count in [1, m.len() / 3, m.len() / 2, m.len()] {
            let mut got = BTreeSet::new();
            let mut n = 0;
            h.random_distinct(&mut rng, count, |f, v| {
                n += 1;
                assert_eq!(m.get(&f.to_vec()), Some(&v.to_vec()));
                got.insert(f.to_vec());
            });
            prop_assert_eq!(n, count.min(m.len()));
            prop_assert_eq!(got.len(), n);
        }
    }
}

#[test]
fn listpack_hash_stores_pairs_in_insertion_order_and_integers_compactly() {
    let lim = EncodingLimits::default();
    let mut h = Hash::new();
    assert!(h.set(b"a", b"1", &lim));
    assert!(h.set(b"b", b"hello", &lim));
    assert!(!h.set(b"a", b"22", &lim));
    let lp = h.as_listpack().unwrap();
    let items: Vec<Vec<u8>> = lp.iter().map(|v| v.to_vec()).collect();
    assert_eq!(
        items,
        [
            b"a".to_vec(),
            b"22".to_vec(),
            b"b".to_vec(),
            b"hello".to_vec()
        ]
    );
    assert_eq!(lp.get(lp.seek(1).unwrap()), LpValue::Int(22));
    assert!(h.remove(b"a"));
    assert!(!h.remove(b"a"));
    assert_eq!(h.len(), 1);
    assert_eq!(h.get(b"b"), Some(LpValue::Str(b"hello")));
}

#[test]
fn conversion_happens_past_the_entry_count_and_on_long_values() {
    let lim = limits(2, 5);
    let mut h = Hash::new();
    h.set(b"a", b"1", &lim);
    h.set(b"b", b"2", &lim);
    assert_eq!(h.encoding(), "listpack");
    h.set(b"c", b"3", &lim);
    assert_eq!(h.encoding(), "hashtable");
    // One-way: deleting back under the threshold keeps the hashtable.
    h.remove(b"c");
    h.remove(b"b");
    assert_eq!(h.encoding(), "hashtable");

    let mut h = Hash::new();
    h.set(b"a", b"12345", &lim);
    assert_eq!(h.encoding(), "listpack");
    h.set(b"a", b"123456", &lim);
    assert_eq!(h.encoding(), "hashtable");
    assert_eq!(h.get_field(b"a"), Some(b"123456".to_vec()));
}

#[test]
fn hash_stays_three_words() {
    assert_eq!(std::mem::size_of::<Hash>(), 24);
}
