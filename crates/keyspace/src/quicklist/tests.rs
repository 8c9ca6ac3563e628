//! Quicklist tests: a proptest against a `VecDeque` model (with every fill, so nodes split,
//! merge and empty out), and the node layouts Redis 7.0 produces for the same operations.

use super::*;
use proptest::prelude::*;

fn model_of(q: &Quicklist) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    q.for_each(|e| v.push(e.to_vec()));
    v
}

fn check_invariants(q: &Quicklist) {
    let total: usize = q.nodes().map(|n| n.len()).sum();
    assert_eq!(total, q.len());
    assert!(q.nodes().all(|n| !n.is_empty()), "no empty node");
    let fwd: Vec<Vec<u8>> = q.iter().map(|v| v.to_vec()).collect();
    let mut rev: Vec<Vec<u8>> = q.iter_rev().map(|v| v.to_vec()).collect();
    rev.reverse();
    assert_eq!(fwd, rev);
    assert_eq!(fwd, model_of(q));
}

/// Node sizes (element counts), head first.
fn layout(q: &Quicklist) -> Vec<usize> {
    q.nodes().map(|n| n.len()).collect()
}

#[derive(Debug, Clone)]
enum Op {
    Push(bool, Vec<u8>),
    Pop(bool),
    Set(i64, Vec<u8>),
    Insert(Vec<u8>, Vec<u8>, bool),
    Remove(Vec<u8>, usize, bool),
    DelRange(usize, usize),
}

fn elem() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => "[a-c]{1,3}".prop_map(|s| s.into_bytes()),
        3 => (-300i64..300).prop_map(|i| i.to_string().into_bytes()),
        1 => (60usize..200).prop_map(|n| vec![b'x'; n]),
        1 => (3000usize..9000).prop_map(|n| vec![b'y'; n]),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (any::<bool>(), elem()).prop_map(|(h, e)| Op::Push(h, e)),
        2 => any::<bool>().prop_map(Op::Pop),
        2 => (-40i64..40, elem()).prop_map(|(i, e)| Op::Set(i, e)),
        3 => (elem(), elem(), any::<bool>()).prop_map(|(p, e, a)| Op::Insert(p, e, a)),
        1 => (elem(), 0usize..3, any::<bool>()).prop_map(|(e, n, h)| Op::Remove(e, n, h)),
        1 => (0usize..40, 0usize..10).prop_map(|(s, n)| Op::DelRange(s, n)),
    ]
}

fn apply(q: &mut Quicklist, m: &mut VecDeque<Vec<u8>>, op: &Op) {
    match op {
        Op::Push(true, e) => {
            q.push(End::Head, e);
            m.push_front(e.clone());
        }
        Op::Push(false, e) => {
            q.push(End::Tail, e);
            m.push_back(e.clone());
        }
        Op::Pop(head) => {
            let got = q.pop(if *head { End::Head } else { End::Tail });
            let want = if *head { m.pop_front() } else { m.pop_back() };
            assert_eq!(got.map(|b| b.to_vec()), want);
        }
        Op::Set(i, e) => {
            let idx = if *i < 0 { m.len() as i64 + i } else { *i };
            let ok = q.set(*i, e);
            assert_eq!(ok, idx >= 0 && (idx as usize) < m.len());
            if ok {
                m[idx as usize] = e.clone();
            }
        }
        Op::Insert(p, e, after) => {
            let pos = m.iter().position(|x| x == p);
            assert_eq!(q.insert_at_pivot(p, e, *after), pos.is_some());
            if let Some(i) = pos {
                m.insert(if *after { i + 1 } else { i }, e.clone());
            }
        }
        Op::Remove(e, limit, head) => {
            let from = if *head { End::Head } else { End::Tail };
            let n = q.remove(e, *limit, from);
            let mut removed = 0;
            let idxs: Vec<usize> = if *head {
                (0..m.len()).collect()
            } else {
                (0..m.len()).rev().collect()
            };
            let mut del = Vec::new();
            for i in idxs {
                if m[i] == *e && (*limit == 0 || removed < *limit) {
                    del.push(i);
                    removed += 1;
                }
            }
            del.sort_unstable();
            for i in del.into_iter().rev() {
                m.remove(i);
            }
            assert_eq!(n, removed);
        }
        Op::DelRange(s, n) => {
            q.del_range(*s, *n);
            if *s < m.len() {
                let end = (*s + *n).min(m.len());
                m.drain(*s..end);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn quicklist_matches_a_deque(fill in prop_oneof![Just(-2i64), Just(-1), Just(0), Just(1), Just(2), Just(3), Just(5)],
                                 ops in proptest::collection::vec(op(), 1..120)) {
        let mut q = Quicklist::new(fill);
        let mut m = VecDeque::new();
        for o in &ops {
            apply(&mut q, &mut m, o);
            check_invariants(&q);
            prop_assert_eq!(model_of(&q), m.iter().cloned().collect::<Vec<_>>());
            for i in [-1i64, 0, 1, (m.len() / 2) as i64] {
                let want = q.resolve(i).map(|j| m[j].clone());
                prop_assert_eq!(q.get(i).map(|v| v.to_vec()), want);
            }
        }
    }
}

#[test]
fn pushes_open_a_node_when_the_fill_is_reached() {
    let mut q = Quicklist::new(3);
    for i in 0..7 {
        q.push_back(format!("e{i}").as_bytes());
    }
    assert_eq!(layout(&q), [3, 3, 1]);
    q.push_front(b"h");
    assert_eq!(layout(&q), [1, 3, 3, 1]);
}

#[test]
fn byte_fill_limits_nodes_to_8k_by_default() {
    let mut q = Quicklist::new(-2);
    for i in 0..2000 {
        q.push_back(format!("element:{i:06}").as_bytes());
    }
    // 16 bytes per entry: a node takes entries while 7 + 16n + 14 + 8 <= 8192, so 511 fit.
    let l = layout(&q);
    assert_eq!(l[0], 511);
    assert!(q.nodes().all(|n| n.bytes_len() <= 8192));
    // An element larger than the node limit gets a node of its own.
    q.push_back(&[b'z'; 10_000]);
    q.push_back(b"after");
    assert_eq!(&layout(&q)[l.len()..], [1, 1]);
}

#[test]
fn linsert_into_a_full_node_splits_it_and_merges_neighbours() {
    let mut q = Quicklist::new(4);
    for e in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        q.push_back(e.as_bytes());
    }
    assert_eq!(layout(&q), [4, 4]);
    // Inserting after "b" splits [a b c d] into [a b] + [X c d]; then nothing can merge
    // (3 + 4 > 4).
    assert!(q.insert_at_pivot(b"b", b"X", true));
    assert_eq!(layout(&q), [2, 3, 4]);
    // A full node at its tail with room in the next one: the element goes to the next.
    let mut q = Quicklist::new(2);
    for e in ["a", "b", "c"] {
        q.push_back(e.as_bytes());
    }
    assert!(q.insert_at_pivot(b"b", b"X", true));
    assert_eq!(layout(&q), [2, 2]);
    assert_eq!(
        model_of(&q),
        [b"a".to_vec(), b"b".to_vec(), b"X".to_vec(), b"c".to_vec()]
    );
}

#[test]
fn deletions_drop_empty_nodes_without_merging() {
    let mut q = Quicklist::new(2);
    for e in ["a", "b", "c", "d", "e", "f"] {
        q.push_back(e.as_bytes());
    }
    q.del_range(1, 2);
    assert_eq!(layout(&q), [1, 1, 2]);
    assert_eq!(q.remove(b"a", 0, End::Head), 1);
    assert_eq!(layout(&q), [1, 2]);
}
