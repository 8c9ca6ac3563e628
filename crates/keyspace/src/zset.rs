//! The sorted set type (Redis's t_zset.c data side): members with f64 scores, ordered by
//! score then member bytes.
//!
//! Two encodings, as in Redis 7.0, with the same conversion rules (one way, small to big):
//! - `listpack`: a [`Listpack`] of `member, score` pairs in order, byte-identical to Redis's
//!   (scores written as Redis's `d2string` does, so integral scores are stored as integers).
//!   Used while the set has at most `zset-max-listpack-entries` members of at most
//!   `zset-max-listpack-value` bytes. Operations scan it (it is small).
//! - `skiplist`: a [`Dict`] from member to score (O(1) ZSCORE, Redis's SCAN cursor for ZSCAN)
//!   plus an order-statistic B+tree of `(score, member)` ([`tree::Tree`]): O(log n) insert,
//!   delete, rank, select and range boundaries, like Redis's skiplist with spans.
//!
//! Callers (the ZSet command family, RDB/DUMP) see encoding-independent operations.

mod tree;

use std::cmp::Ordering;
use std::fmt;

use crate::dict::{hash_bytes, Dict};
use crate::limits::EncodingLimits;
use crate::listpack::{Listpack, LpValue};
use crate::value::SmallBytes;

pub use tree::cmp;

/// Formats a score as Redis's `d2string` does when it stores one in a listpack: integral
/// values in (-2^52, 2^52) as integers (so `-0` becomes `0`), others as `%.17g`.
pub fn d2string(v: f64) -> String {
    if v.is_finite() && v > -4503599627370495.0 && v < 4503599627370496.0 && v == v.trunc() {
        let mut b = itoa::Buffer::new();
        b.format(v as i64).to_owned()
    } else {
        tern_resp::reply::format_double(v)
    }
}

/// Reads a score stored in a listpack entry (Redis's `zzlGetScore`).
fn lp_score(v: LpValue<'_>) -> f64 {
    match v {
        LpValue::Int(i) => i as f64,
        LpValue::Str(s) => std::str::from_utf8(s)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0),
    }
}

/// The big encoding: member -> score, plus the order.
#[derive(Clone, Debug, Default)]
pub struct Big {
    dict: Dict<SmallBytes, f64>,
    tree: tree::Tree,
}

#[derive(Clone)]
enum Repr {
    Listpack(Listpack),
    Skiplist(Box<Big>),
}

/// A sorted set value.
#[derive(Clone)]
pub struct ZSet {
    repr: Repr,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new_listpack()
    }
}

impl fmt::Debug for ZSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        self.for_each(|m, s| {
            l.entry(&(String::from_utf8_lossy(m), s));
        });
        l.finish()
    }
}

impl PartialEq for ZSet {
    /// Same members with the same scores (whatever the encodings).
    fn eq(&self, other: &ZSet) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let mut a = Vec::with_capacity(self.len());
        self.for_each(|m, s| a.push((m.to_vec(), s)));
        let mut i = 0;
        let mut eq = true;
        other.for_each(|m, s| {
            if eq {
                let (am, asc) = &a[i];
                eq = am.as_slice() == m && (*asc == s);
                i += 1;
            }
        });
        eq
    }
}

/// What [`ZSet::scan`] hands out for a score: the listpack's stored form or the double.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScanScore<'a> {
    /// The score as the listpack stores it (an integer or `d2string` text).
    Stored(LpValue<'a>),
    /// The score of a skiplist element.
    Double(f64),
}

impl ZSet {
    /// An empty listpack-encoded set.
    pub fn new_listpack() -> ZSet {
        ZSet {
            repr: Repr::Listpack(Listpack::new()),
        }
    }

    /// An empty skiplist-encoded set.
    pub fn new_skiplist() -> ZSet {
        ZSet {
            repr: Repr::Skiplist(Box::default()),
        }
    }

    /// The encoding ZADD gives a new key, from its first member's length (Redis 7.0's
    /// `zaddGenericCommand`: skiplist if entries is 0 or the member is too long).
    pub fn for_new_key(first_member_len: usize, limits: &EncodingLimits) -> ZSet {
        if limits.zset_max_listpack_entries == 0
            || first_member_len > limits.zset_max_listpack_value
        {
            ZSet::new_skiplist()
        } else {
            ZSet::new_listpack()
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.len() / 2,
            Repr::Skiplist(b) => b.tree.len(),
        }
    }

    /// True when empty (an empty collection is never stored: the key is deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Skiplist(_) => "skiplist",
        }
    }

    /// The listpack, when listpack-encoded (DUMP writes its bytes).
    pub fn listpack(&self) -> Option<&Listpack> {
        match &self.repr {
            Repr::Listpack(lp) => Some(lp),
            Repr::Skiplist(_) => None,
        }
    }

    /// Adopts a listpack of `member, score` pairs (RESTORE), checking that it has pairs, that
    /// the scores are numbers and that no member repeats. The pairs must be in order.
    pub fn from_listpack(lp: Listpack) -> Result<ZSet, &'static str> {
        if !lp.len().is_multiple_of(2) {
            return Err("odd number of listpack entries");
        }
        let mut seen = std::collections::HashSet::new();
        let mut it = lp.iter();
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            if let LpValue::Str(t) = s {
                let ok = std::str::from_utf8(t)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .is_some_and(|v| !v.is_nan());
                if !ok {
                    return Err("bad score");
                }
            }
            if !seen.insert(m.to_vec()) {
                return Err("duplicate member");
            }
        }
        Ok(ZSet {
            repr: Repr::Listpack(lp),
        })
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Listpack(lp) => {
                let p = lp.find(lp.first()?, member, 1)?;
                Some(lp_score(lp.get(lp.next(p)?)))
            }
            Repr::Skiplist(b) => b.dict.get(hash_bytes(member), member).map(|(_, s)| *s),
        }
    }

    /// Converts to the skiplist encoding (no-op if already).
    pub fn convert_to_skiplist(&mut self) {
        let Repr::Listpack(lp) = &self.repr else {
            return;
        };
        let mut big = Big::default();
        let mut it = lp.iter();
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            let score = lp_score(s);
            let member = m.with_bytes(SmallBytes::new);
            big.dict.insert(hash_bytes(&member), member.clone(), score);
            big.tree.insert(score, member);
        }
        self.repr = Repr::Skiplist(Box::new(big));
    }

    /// Converts a skiplist to a listpack if it fits the limits (Redis's
    /// `zsetConvertToListpackIfNeeded`, used by the *STORE commands and loading).
    pub fn shrink_if_fits(&mut self, limits: &EncodingLimits) {
        let Repr::Skiplist(b) = &self.repr else {
            return;
        };
        if b.tree.len() > limits.zset_max_listpack_entries {
            return;
        }
        let mut fits = true;
        b.dict.iter().for_each(|(m, _)| {
            if m.len() > limits.zset_max_listpack_value {
                fits = false;
            }
        });
        if !fits {
            return;
        }
        let mut lp = Listpack::new();
        b.tree.for_range(0, b.tree.len(), false, &mut |e| {
            lp.push_back(&e.member);
            lp.push_back(d2string(e.score).as_bytes());
        });
        self.repr = Repr::Listpack(lp);
    }

    /// Sets `member`'s score, adding it if new (converting to skiplist first if the listpack
    /// would outgrow `limits`). Returns the previous score.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: &EncodingLimits) -> Option<f64> {
        debug_assert!(!score.is_nan());
        if let Repr::Listpack(lp) = &mut self.repr {
            let old = match lp.first() {
                Some(f) => lp.find(f, member, 1),
                None => None,
            };
            if let Some(p) = old {
                let sp = lp.next(p).expect("member has a score");
                let cur = lp_score(lp.get(sp));
                if cur != score {
                    lp.delete_range(p, 2);
                    lp_insert(lp, member, score);
                }
                return Some(cur);
            }
            if self.len() < limits.zset_max_listpack_entries
                && member.len() <= limits.zset_max_listpack_value
            {
                let Repr::Listpack(lp) = &mut self.repr else {
                    unreachable!()
                };
                lp_insert(lp, member, score);
                return None;
            }
            self.convert_to_skiplist();
        }
        let Repr::Skiplist(b) = &mut self.repr else {
            unreachable!("converted above")
        };
        let h = hash_bytes(member);
        if let Some(cur) = b.dict.get_mut(h, member) {
            let old = *cur;
            if old != score {
                *cur = score;
                b.tree.remove(old, member);
                b.tree.insert(score, SmallBytes::new(member));
            }
            return Some(old);
        }
        b.dict.insert(h, SmallBytes::new(member), score);
        b.tree.insert(score, SmallBytes::new(member));
        None
    }

    /// Removes `member`; returns its score if it was present.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let p = lp.find(lp.first()?, member, 1)?;
                let s = lp_score(lp.get(lp.next(p)?));
                lp.delete_range(p, 2);
                Some(s)
            }
            Repr::Skiplist(b) => {
                let (_, s) = b.dict.remove(hash_bytes(member), member)?;
                b.tree.remove(s, member);
                Some(s)
            }
        }
    }

    /// The 0-based ascending rank of `member` and its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.repr {
            Repr::Listpack(lp) => {
                let mut it = lp.iter();
                let mut r = 0;
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    if m.eq_bytes(member) {
                        return Some((r, lp_score(s)));
                    }
                    r += 1;
                }
                None
            }
            Repr::Skiplist(b) => {
                let s = *b.dict.get(hash_bytes(member), member)?.1;
                Some((b.tree.rank(s, member).expect("dict and tree agree"), s))
            }
        }
    }

    /// Number of elements for which `f(score, member)` holds, where `f` holds on a prefix of
    /// the order (e.g. "score < min"): the rank where a range starts.
    pub fn partition_point(&self, f: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => {
                let mut it = lp.iter();
                let mut n = 0;
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    let t = m.with_bytes(|m| f(lp_score(s), m));
                    if !t {
                        break;
                    }
                    n += 1;
                }
                n
            }
            Repr::Skiplist(b) => b.tree.partition_point(f),
        }
    }

    /// Calls `f(member, score)` for ranks `start..end` in ascending order, or (with `rev`)
    /// from `end - 1` down to `start`.
    pub fn range(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        match &self.repr {
            Repr::Listpack(lp) => {
                if rev {
                    let mut p = lp.seek(2 * (end as i64 - 1));
                    for _ in start..end {
                        let mp = p.expect("in range");
                        let sp = lp.next(mp).expect("member has a score");
                        lp.get(mp).with_bytes(|m| f(m, lp_score(lp.get(sp))));
                        p = lp.prev(mp).and_then(|x| lp.prev(x));
                    }
                } else {
                    let mut p = lp.seek(2 * start as i64);
                    for _ in start..end {
                        let mp = p.expect("in range");
                        let sp = lp.next(mp).expect("member has a score");
                        lp.get(mp).with_bytes(|m| f(m, lp_score(lp.get(sp))));
                        p = lp.next(sp);
                    }
                }
            }
            Repr::Skiplist(b) => b
                .tree
                .for_range(start, end, rev, &mut |e| f(&e.member, e.score)),
        }
    }

    /// The element at rank `r` (ascending).
    pub fn get_by_rank(&self, r: usize) -> Option<(Vec<u8>, f64)> {
        match &self.repr {
            Repr::Listpack(lp) => {
                let p = lp.seek(2 * r as i64)?;
                Some((lp.get(p).to_vec(), lp_score(lp.get(lp.next(p)?))))
            }
            Repr::Skiplist(b) => b.tree.get(r).map(|e| (e.member.to_vec(), e.score)),
        }
    }

    /// Calls `f` with each member and its score, in rank order (used by SORT and others).
    pub fn for_each(&self, f: impl FnMut(&[u8], f64)) {
        self.range(0, self.len(), false, f);
    }

    /// One ZSCAN step: a listpack returns everything at once (cursor 0 next); a skiplist walks
    /// its dict with Redis's reverse-binary cursor. Returns the next cursor.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], ScanScore<'_>)) -> u64 {
        match &self.repr {
            Repr::Listpack(lp) => {
                let mut it = lp.iter();
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    m.with_bytes(|m| f(m, ScanScore::Stored(s)));
                }
                0
            }
            Repr::Skiplist(b) => b.dict.scan(cursor, |m, s| f(m, ScanScore::Double(*s))),
        }
    }

    /// Approximate heap bytes used (MEMORY USAGE style estimates).
    pub fn allocated_bytes(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.bytes_len(),
            Repr::Skiplist(b) => b.dict.allocated_bytes() + b.tree.len() * 40,
        }
    }
}

/// Inserts a new `member, score` pair at its place in a listpack (Redis's `zzlInsert`).
fn lp_insert(lp: &mut Listpack, member: &[u8], score: f64) {
    let mut p = lp.first();
    while let Some(mp) = p {
        let sp = lp.next(mp).expect("member has a score");
        let s = lp_score(lp.get(sp));
        let after = lp
            .get(mp)
            .with_bytes(|m| cmp(s, m, score, member) == Ordering::Greater);
        if after {
            break;
        }
        p = lp.next(sp);
    }
    let at = p.unwrap_or_else(|| lp.end());
    let mp = lp.insert_before(at, member);
    let sp = lp.next(mp).unwrap_or_else(|| lp.end());
    lp.insert_before(sp, d2string(score).as_bytes());
}

#[cfg(test)]
mod tests;
