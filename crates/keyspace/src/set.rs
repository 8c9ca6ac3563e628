//! The set type, with Redis 7.0's two encodings:
//!
//! - **intset** ([`Intset`]): while every member is a canonical decimal integer (Redis's
//!   `string2ll` form: no sign on zero, no leading zeros, no spaces) and the set holds at most
//!   `set-max-intset-entries` members. Sorted integers in Redis's exact byte layout: O(log n)
//!   membership, O(n) insert/remove, 2-8 bytes per member, and a DUMP is a copy.
//! - **hashtable**: a [`Dict`] of [`SmallBytes`] members with no values, once a member is not
//!   an integer or the set outgrows the threshold. O(1) add/remove/membership, Redis's SCAN
//!   cursor guarantees (SSCAN), fair random members. A member of up to 23 bytes lives inside
//!   its 32-byte node (one allocation per member, plus an 8-byte bucket pointer).
//!
//! Conversion is one way (intset -> hashtable), as in Redis. Redis 7.0 has no listpack sets.

use crate::dict::{hash_bytes, Dict};
use crate::intset::Intset;
use crate::value::{parse_canonical_i64, SmallBytes};
use rand::Rng;

/// The hashtable encoding: members as keys, no values.
pub type SetTable = Dict<SmallBytes, ()>;

/// A set value.
#[derive(Clone, Debug)]
pub struct Set {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    Intset(Intset),
    /// Boxed so that a set (and so every `Value`) stays small.
    Table(Box<SetTable>),
}

/// One member as a set hands it out: an intset yields integers, a hashtable bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Member<'a> {
    /// A member of an intset.
    Int(i64),
    /// A member of a hashtable.
    Bytes(&'a [u8]),
}

impl Member<'_> {
    /// Calls `f` with the member's bytes (integers formatted in decimal).
    #[inline]
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match *self {
            Member::Int(v) => f(itoa::Buffer::new().format(v).as_bytes()),
            Member::Bytes(b) => f(b),
        }
    }

    /// The member's bytes, owned.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }
}

impl Default for Set {
    /// An empty intset (what `createIntsetObject` makes).
    fn default() -> Self {
        Set::new_intset()
    }
}

impl PartialEq for Set {
    /// Equal when both have the same encoding and the same members.
    fn eq(&self, other: &Set) -> bool {
        match (&self.repr, &other.repr) {
            (Repr::Intset(a), Repr::Intset(b)) => a == b,
            (Repr::Table(a), Repr::Table(b)) => {
                a.len() == b.len() && a.iter().all(|(k, _)| b.contains(hash_bytes(k), k))
            }
            _ => false,
        }
    }
}

impl Set {
    /// An empty intset-encoded set.
    pub fn new_intset() -> Set {
        Set {
            repr: Repr::Intset(Intset::new()),
        }
    }

    /// An empty hashtable-encoded set.
    pub fn new_hashtable() -> Set {
        Set {
            repr: Repr::Table(Box::default()),
        }
    }

    /// The empty set Redis's `setTypeCreate` makes for a first member: an intset if `member` is
    /// a canonical integer, else a hashtable.
    pub fn new_for(member: &[u8]) -> Set {
        if parse_canonical_i64(member).is_some() {
            Set::new_intset()
        } else {
            Set::new_hashtable()
        }
    }

    /// A set holding exactly this intset.
    pub fn from_intset(is: Intset) -> Set {
        Set {
            repr: Repr::Intset(is),
        }
    }

    /// The intset, if that is the encoding.
    pub fn as_intset(&self) -> Option<&Intset> {
        match &self.repr {
            Repr::Intset(i) => Some(i),
            Repr::Table(_) => None,
        }
    }

    /// True when intset-encoded.
    #[inline]
    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Intset(_))
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Intset(i) => i.len(),
            Repr::Table(t) => t.len(),
        }
    }

    /// True when empty (an empty collection is never stored: the key is deleted).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Intset(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Converts to the hashtable encoding (no-op if already there).
    pub fn convert_to_hashtable(&mut self) {
        if let Repr::Intset(is) = &self.repr {
            let mut t = SetTable::new();
            let mut b = itoa::Buffer::new();
            for v in is.iter() {
                let s = b.format(v).as_bytes();
                t.insert(hash_bytes(s), SmallBytes::new(s), ());
            }
            self.repr = Repr::Table(Box::new(t));
        }
    }

    /// Adds `member` (Redis's `setTypeAdd`); returns false if it was already there. An intset
    /// converts to a hashtable when `member` is not an integer or when it would hold more than
    /// `max_intset` members.
    pub fn insert(&mut self, member: &[u8], max_intset: usize) -> bool {
        match &mut self.repr {
            Repr::Intset(is) => match parse_canonical_i64(member) {
                Some(v) => {
                    if !is.insert(v) {
                        return false;
                    }
                    if is.len() > max_intset {
                        self.convert_to_hashtable();
                    }
                    true
                }
                None => {
                    self.convert_to_hashtable();
                    self.insert(member, max_intset)
                }
            },
            Repr::Table(t) => {
                let h = hash_bytes(member);
                let (_, inserted) =
                    t.get_or_insert_with(h, member, || (SmallBytes::new(member), ()));
                inserted
            }
        }
    }

    /// Removes `member`; returns false if it was absent. A hashtable shrinks when it becomes
    /// sparse, as Redis's `setTypeRemove` resizes.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Intset(is) => parse_canonical_i64(member).is_some_and(|v| is.remove(v)),
            Repr::Table(t) => {
                let removed = t.remove(hash_bytes(member), member).is_some();
                if removed {
                    t.shrink_if_sparse();
                }
                removed
            }
        }
    }

    /// Removes the integer `v` (intset fast path; works for both encodings).
    pub fn remove_int(&mut self, v: i64) -> bool {
        match &mut self.repr {
            Repr::Intset(is) => is.remove(v),
            Repr::Table(_) => self.remove(itoa::Buffer::new().format(v).as_bytes()),
        }
    }

    /// True if `member` is in the set.
    #[inline]
    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Intset(is) => parse_canonical_i64(member).is_some_and(|v| is.contains(v)),
            Repr::Table(t) => t.contains(hash_bytes(member), member),
        }
    }

    /// True if `m` is in the set (no formatting when both sides are integers).
    #[inline]
    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match (&self.repr, m) {
            (Repr::Intset(is), Member::Int(v)) => is.contains(v),
            _ => m.with_bytes(|b| self.contains(b)),
        }
    }

    /// Calls `f` with each member, in the set's internal order (used by SORT, ZUNIONSTORE...).
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        self.for_each_member(|m| m.with_bytes(&mut f));
    }

    /// Calls `f` with each member, in the set's internal order (ascending for an intset).
    pub fn for_each_member(&self, mut f: impl FnMut(Member<'_>)) {
        match &self.repr {
            Repr::Intset(is) => is.iter().for_each(|v| f(Member::Int(v))),
            Repr::Table(t) => t.iter().for_each(|(k, _)| f(Member::Bytes(k))),
        }
    }

    /// The members, in internal order.
    pub fn members(&self) -> Vec<Member<'_>> {
        let mut v = Vec::with_capacity(self.len());
        match &self.repr {
            Repr::Intset(is) => v.extend(is.iter().map(Member::Int)),
            Repr::Table(t) => v.extend(t.iter().map(|(k, _)| Member::Bytes(k))),
        }
        v
    }

    /// A random member (Redis's `setTypeRandomElement`: uniform for an intset, "fair" sampling
    /// for a hashtable); None if empty.
    pub fn random(&self, rng: &mut impl Rng) -> Option<Member<'_>> {
        if self.is_empty() {
            return None;
        }
        match &self.repr {
            Repr::Intset(is) => Some(Member::Int(is.random(rng))),
            Repr::Table(t) => t.random_entry(rng).map(|(k, _)| Member::Bytes(k)),
        }
    }

    /// One SSCAN step from `cursor`: calls `f` with the members of the buckets visited and
    /// returns the next cursor (0 when done). An intset is returned whole in one call.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(Member<'_>)) -> u64 {
        match &self.repr {
            Repr::Intset(is) => {
                is.iter().for_each(|v| f(Member::Int(v)));
                0
            }
            Repr::Table(t) => t.scan(cursor, |k, _| f(Member::Bytes(k))),
        }
    }

    /// Bytes allocated for the set's structure (an estimate: excludes allocator overhead and
    /// members longer than 23 bytes).
    pub fn allocated_bytes(&self) -> usize {
        match &self.repr {
            Repr::Intset(is) => is.allocated_bytes(),
            Repr::Table(t) => t.allocated_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn a_set_is_no_bigger_than_a_string_value() {
        assert!(std::mem::size_of::<Set>() <= 24);
    }

    #[test]
    fn encodings_and_conversions_follow_redis() {
        let mut s = Set::new_for(b"1");
        assert_eq!(s.encoding(), "intset");
        assert!(s.insert(b"1", 3));
        assert!(s.insert(b"2", 3));
        assert!(!s.insert(b"2", 3));
        assert!(s.insert(b"3", 3));
        assert_eq!(s.encoding(), "intset");
        assert!(s.insert(b"4", 3));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"4"));
        assert_eq!(s.len(), 4);
        // One way: removing does not convert back.
        for m in [b"1", b"2", b"3"] {
            assert!(s.remove(m));
        }
        assert_eq!(s.encoding(), "hashtable");

        let mut s = Set::new_for(b"01");
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.insert(b"01", 512));
        assert!(!s.contains(b"1"));

        let mut s = Set::new_for(b"-5");
        s.insert(b"-5", 512);
        assert!(!s.contains(b"-05"));
        assert!(!s.remove(b"-05"));
        s.insert(b"x", 512);
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"-5"));
        let mut all = Vec::new();
        s.for_each(|m| all.push(m.to_vec()));
        all.sort();
        assert_eq!(all, vec![b"-5".to_vec(), b"x".to_vec()]);
    }

    #[test]
    fn intset_scan_returns_everything_at_once() {
        let mut s = Set::new_intset();
        for i in 0..100 {
            s.insert(i.to_string().as_bytes(), 512);
        }
        let mut n = 0;
        assert_eq!(s.scan(0, |_| n += 1), 0);
        assert_eq!(n, 100);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add(Vec<u8>),
        Rem(Vec<u8>),
    }

    fn member() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => (-50i64..50).prop_map(|v| v.to_string().into_bytes()),
            1 => any::<i64>().prop_map(|v| v.to_string().into_bytes()),
            1 => "[a-c0]{1,3}".prop_map(String::into_bytes),
            1 => proptest::collection::vec(any::<u8>(), 20..40),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => member().prop_map(Op::Add),
            2 => member().prop_map(Op::Rem),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(
            ops in proptest::collection::vec(op(), 0..300),
            max in 0usize..40,
        ) {
            let mut s = Set::new_intset();
            let mut m: BTreeSet<Vec<u8>> = BTreeSet::new();
            let mut must_be_table = false;
            for op in ops {
                match op {
                    Op::Add(x) => {
                        prop_assert_eq!(s.insert(&x, max), m.insert(x.clone()));
                        if parse_canonical_i64(&x).is_none() || m.len() > max {
                            must_be_table = true;
                        }
                    }
                    Op::Rem(x) => prop_assert_eq!(s.remove(&x), m.remove(&x)),
                }
                prop_assert_eq!(s.len(), m.len());
                prop_assert_eq!(s.encoding(), if must_be_table { "hashtable" } else { "intset" });
            }
            let mut got = Vec::new();
            s.for_each(|b| got.push(b.to_vec()));
            got.sort();
            prop_assert_eq!(got, m.iter().cloned().collect::<Vec<_>>());
            for x in &m {
                prop_assert!(s.contains(x));
            }
            // A full SSCAN sees every member.
            let mut seen = BTreeSet::new();
            let mut c = 0;
            loop {
                c = s.scan(c, |mm| { seen.insert(mm.to_vec()); });
                if c == 0 { break; }
            }
            prop_assert_eq!(seen, m.clone());
            let mut rng = rand::thread_rng();
            if let Some(r) = s.random(&mut rng) {
                prop_assert!(m.contains(&r.to_vec()));
            } else {
                prop_assert!(m.is_empty());
            }
            prop_assert_eq!(s.clone(), s);
        }
    }
}
