//! The sorted set against a simple model (a map of member -> score, sorted on demand), in both
//! encodings and across conversions.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn limits(entries: usize, value: usize) -> EncodingLimits {
    EncodingLimits {
        zset_max_listpack_entries: entries,
        zset_max_listpack_value: value,
        ..Default::default()
    }
}

fn sorted(model: &BTreeMap<Vec<u8>, f64>) -> Vec<(Vec<u8>, f64)> {
    let mut v: Vec<(Vec<u8>, f64)> = model.iter().map(|(m, s)| (m.clone(), *s)).collect();
    v.sort_by(|a, b| cmp(a.1, &a.0, b.1, &b.0));
    v
}

fn contents(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
    let mut v = Vec::new();
    z.for_each(|m, s| v.push((m.to_vec(), s)));
    v
}

fn check(z: &ZSet, model: &BTreeMap<Vec<u8>, f64>) {
    let want = sorted(model);
    assert_eq!(z.len(), want.len());
    assert_eq!(contents(z), want);
    if let Repr::Skiplist(b) = &z.repr {
        b.tree.check();
        assert_eq!(b.dict.len(), b.tree.len());
    }
    for (r, (m, s)) in want.iter().enumerate() {
        assert_eq!(z.score(m), Some(*s));
        assert_eq!(z.rank(m), Some((r, *s)));
        assert_eq!(z.get_by_rank(r), Some((m.clone(), *s)));
    }
}

#[test]
fn d2string_matches_redis() {
    assert_eq!(d2string(1.0), "1");
    assert_eq!(d2string(-0.0), "0");
    assert_eq!(d2string(1.5), "1.5");
    assert_eq!(d2string(1e15), "1000000000000000");
    assert_eq!(d2string(1e17), "1e+17");
    assert_eq!(d2string(f64::INFINITY), "inf");
    assert_eq!(d2string(0.1), "0.10000000000000001");
}

#[test]
fn listpack_layout_is_redis_order_with_integer_scores() {
    let l = limits(128, 64);
    let mut z = ZSet::new_listpack();
    z.insert(b"b", 2.0, &l);
    z.insert(b"a", 1.5, &l);
    z.insert(b"c", 2.0, &l);
    let lp = z.listpack().unwrap();
    let v: Vec<LpValue<'_>> = lp.iter().collect();
    assert_eq!(
        v,
        vec![
            LpValue::Str(b"a"),
            LpValue::Str(b"1.5"),
            LpValue::Str(b"b"),
            LpValue::Int(2),
            LpValue::Str(b"c"),
            LpValue::Int(2),
        ]
    );
}

#[test]
fn converts_at_the_thresholds() {
    let l = limits(3, 4);
    let mut z = ZSet::new_listpack();
    for m in [b"a", b"b", b"c"] {
        z.insert(m, 1.0, &l);
    }
    assert_eq!(z.encoding(), "listpack");
    z.insert(b"a", 5.0, &l);
    assert_eq!(z.encoding(), "listpack");
    z.insert(b"d", 1.0, &l);
    assert_eq!(z.encoding(), "skiplist");
    let mut z = ZSet::new_listpack();
    z.insert(b"abcd", 1.0, &l);
    assert_eq!(z.encoding(), "listpack");
    z.insert(b"abcde", 1.0, &l);
    assert_eq!(z.encoding(), "skiplist");
    z.remove(b"abcde");
    assert_eq!(z.encoding(), "skiplist");
    z.shrink_if_fits(&l);
    assert_eq!(z.encoding(), "listpack");
    assert_eq!(contents(&z), vec![(b"abcd".to_vec(), 1.0)]);
}

#[test]
fn sequential_and_reverse_inserts_keep_leaves_full() {
    let l = limits(0, 0);
    for rev in [false, true] {
        let mut z = ZSet::new_skiplist();
        let mut model = BTreeMap::new();
        for i in 0..5000 {
            let s = if rev { -(i as f64) } else { i as f64 };
            let m = format!("m{i}").into_bytes();
            z.insert(&m, s, &l);
            model.insert(m, s);
        }
        check(&z, &model);
        for i in (0..5000).step_by(3) {
            let m = format!("m{i}").into_bytes();
            assert!(z.remove(&m).is_some());
            model.remove(&m);
        }
        check(&z, &model);
        for i in 0..5000 {
            let m = format!("m{i}").into_bytes();
            assert_eq!(z.remove(&m), model.remove(&m));
            if i % 500 == 0 {
                check(&z, &model);
            }
        }
        check(&z, &model);
        assert!(z.is_empty());
    }
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u8, i8),
    Remove(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u8>(), any::<i8>()).prop_map(|(m, s)| Op::Insert(m, s)),
        2 => any::<u8>().prop_map(Op::Remove),
    ]
}

fn member(m: u8) -> Vec<u8> {
    // Some long members so the value threshold is crossed too.
    if m.is_multiple_of(17) {
        format!("long-member-{m:03}-{}", "x".repeat(20)).into_bytes()
    } else {
        format!("m{m}").into_bytes()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn behaves_like_a_sorted_map(
        ops in proptest::collection::vec(op(), 1..600),
        entries in 0usize..40,
        value in 4usize..40,
    ) {
        let l = limits(entries, value);
        let mut z = ZSet::for_new_key(1, &l);
        let mut model: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
        for o in ops {
            match o {
                Op::Insert(m, s) => {
                    let m = member(m);
                    let s = s as f64 / 4.0;
                    prop_assert_eq!(z.insert(&m, s, &l), model.insert(m, s));
                }
                Op::Remove(m) => {
                    let m = member(m);
                    prop_assert_eq!(z.remove(&m), model.remove(&m));
                }
            }
            if z.encoding() == "listpack" {
                prop_assert!(z.len() <= entries);
            }
        }
        check(&z, &model);
        let want = sorted(&model);
        // Ranges by rank, both directions.
        let n = want.len();
        for (a, b) in [(0, n), (n / 3, n / 2), (1, n.saturating_sub(1))] {
            let mut got = Vec::new();
            z.range(a, b, false, |m, s| got.push((m.to_vec(), s)));
            prop_assert_eq!(&got[..], &want[a.min(b)..b]);
            let mut got = Vec::new();
            z.range(a, b, true, |m, s| got.push((m.to_vec(), s)));
            got.reverse();
            prop_assert_eq!(&got[..], &want[a.min(b)..b]);
        }
        // Partition points by score.
        for t in [-10.0, 0.0, 3.25, 40.0] {
            let p = z.partition_point(|s, _| s < t);
            prop_assert_eq!(p, want.iter().filter(|(_, s)| *s < t).count());
        }
        let mut c = z.clone();
        c.shrink_if_fits(&limits(1000, 1000));
        prop_assert_eq!(c.encoding(), "listpack");
        prop_assert_eq!(&c, &z);
        let mut c = z.clone();
        c.convert_to_skiplist();
        prop_assert_eq!(&c, &z);
    }
}

#[test]
fn a_zset_value_is_three_words() {
    // The Value enum (and so every key's entry) must not grow because of the zset.
    assert_eq!(std::mem::size_of::<ZSet>(), 24);
}
