//! Redis's intset: a sorted array of distinct integers in one allocation, with exactly Redis's
//! byte layout so that a DUMP of an intset-encoded set is a copy of these bytes.
//!
//! Layout (all little-endian): `encoding: u32` (the width of every element in bytes: 2, 4 or
//! 8), `length: u32`, then `length` elements of `encoding` bytes each, ascending. The width is
//! the smallest that holds every value ever added: adding a value that needs a wider type
//! *upgrades* the whole array, and removing values never downgrades it (as in Redis, which is
//! why two intsets with the same members can have different bytes).
//!
//! Lookups are binary searches (O(log n)); inserts and removals shift the tail (O(n)), which
//! is fine because intsets stay small (`set-max-intset-entries`, 512 by default).

use rand::Rng;

/// Size of the header (encoding and length).
const HEADER: usize = 8;

/// The narrowest width (2, 4 or 8 bytes) that holds `v`.
#[inline]
fn width_of(v: i64) -> usize {
    if v < i32::MIN as i64 || v > i32::MAX as i64 {
        8
    } else if v < i16::MIN as i64 || v > i16::MAX as i64 {
        4
    } else {
        2
    }
}

/// A sorted set of distinct `i64`s in Redis's intset format.
#[derive(Clone, PartialEq, Eq)]
pub struct Intset {
    /// The whole intset, header included; always at least [`HEADER`] bytes.
    buf: Vec<u8>,
}

impl Default for Intset {
    fn default() -> Self {
        Intset::new()
    }
}

impl std::fmt::Debug for Intset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intset")
            .field("width", &self.width())
            .field("values", &self.iter().collect::<Vec<_>>())
            .finish()
    }
}

impl Intset {
    /// An empty intset of 2-byte width (what `intsetNew` creates).
    pub fn new() -> Intset {
        let mut buf = Vec::with_capacity(HEADER);
        buf.extend_from_slice(&2u32.to_le_bytes());
        buf.extend_from_slice(&0u32.to_le_bytes());
        Intset { buf }
    }

    /// Parses Redis intset bytes (as found in an RDB `SET_INTSET` payload), checking what
    /// Redis's `intsetValidateIntegrity` checks: a known width, a length that matches the size,
    /// and strictly ascending elements. Returns None if the bytes are not a valid intset.
    pub fn from_bytes(b: &[u8]) -> Option<Intset> {
        if b.len() < HEADER {
            return None;
        }
        let width = u32::from_le_bytes(b[0..4].try_into().ok()?) as usize;
        if !matches!(width, 2 | 4 | 8) {
            return None;
        }
        let len = u32::from_le_bytes(b[4..8].try_into().ok()?) as usize;
        if len.checked_mul(width)?.checked_add(HEADER)? != b.len() {
            return None;
        }
        let s = Intset { buf: b.to_vec() };
        let mut prev: Option<i64> = None;
        for v in s.iter() {
            if prev.is_some_and(|p| p >= v) {
                return None;
            }
            prev = Some(v);
        }
        Some(s)
    }

    /// The intset's bytes, exactly as Redis holds (and DUMPs) them.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Element width in bytes (2, 4 or 8).
    #[inline]
    pub fn width(&self) -> usize {
        u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        u32::from_le_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize
    }

    /// True when there are no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn set_len(&mut self, n: usize) {
        self.buf[4..8].copy_from_slice(&(n as u32).to_le_bytes());
    }

    /// Element `i` (which must be `< len`).
    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        let w = self.width();
        let at = HEADER + i * w;
        let b = &self.buf[at..at + w];
        match w {
            2 => i16::from_le_bytes([b[0], b[1]]) as i64,
            4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            _ => i64::from_le_bytes(b.try_into().expect("8 bytes")),
        }
    }

    /// Writes `v` at index `i` in width `w` (the buffer must be big enough).
    #[inline]
    fn put(buf: &mut [u8], w: usize, i: usize, v: i64) {
        let at = HEADER + i * w;
        match w {
            2 => buf[at..at + 2].copy_from_slice(&(v as i16).to_le_bytes()),
            4 => buf[at..at + 4].copy_from_slice(&(v as i32).to_le_bytes()),
            _ => buf[at..at + 8].copy_from_slice(&v.to_le_bytes()),
        }
    }

    /// Binary search: `Ok(index)` if present, else `Err(insertion index)`.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let n = self.len();
        if n == 0 {
            return Err(0);
        }
        // Fast paths for appends and prepends, as Redis's intsetSearch has.
        if v > self.get(n - 1) {
            return Err(n);
        }
        if v < self.get(0) {
            return Err(0);
        }
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let m = self.get(mid);
            if m == v {
                return Ok(mid);
            }
            if m < v {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Err(lo)
    }

    /// True if `v` is an element.
    #[inline]
    pub fn contains(&self, v: i64) -> bool {
        width_of(v) <= self.width() && self.search(v).is_ok()
    }

    /// Adds `v`; returns false if it was already present.
    pub fn insert(&mut self, v: i64) -> bool {
        let w = self.width();
        let nw = width_of(v);
        let n = self.len();
        if nw > w {
            // Upgrade: v is out of the old range, so it goes first (negative) or last.
            let mut buf = vec![0u8; HEADER + (n + 1) * nw];
            buf[0..4].copy_from_slice(&(nw as u32).to_le_bytes());
            let off = usize::from(v < 0);
            for i in 0..n {
                Self::put(&mut buf, nw, i + off, self.get(i));
            }
            Self::put(&mut buf, nw, if v < 0 { 0 } else { n }, v);
            self.buf = buf;
            self.set_len(n + 1);
            return true;
        }
        match self.search(v) {
            Ok(_) => false,
            Err(pos) => {
                let at = HEADER + pos * w;
                self.buf.reserve_exact(w);
                self.buf.splice(at..at, [0u8; 8][..w].iter().copied());
                Self::put(&mut self.buf, w, pos, v);
                self.set_len(n + 1);
                true
            }
        }
    }

    /// Removes `v`; returns false if it was absent. Never narrows the width.
    pub fn remove(&mut self, v: i64) -> bool {
        if width_of(v) > self.width() {
            return false;
        }
        match self.search(v) {
            Ok(pos) => {
                let w = self.width();
                let at = HEADER + pos * w;
                self.buf.drain(at..at + w);
                let n = self.len();
                self.set_len(n - 1);
                true
            }
            Err(_) => false,
        }
    }

    /// A uniformly random element (`intsetRandom`); the intset must not be empty.
    pub fn random(&self, rng: &mut impl Rng) -> i64 {
        self.get(rng.gen_range(0..self.len()))
    }

    /// The elements in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Bytes allocated.
    pub fn allocated_bytes(&self) -> usize {
        self.buf.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn layout_matches_redis() {
        let mut s = Intset::new();
        assert_eq!(s.as_bytes(), &[2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(s.insert(5));
        assert!(s.insert(-3));
        assert!(!s.insert(5));
        assert_eq!(s.as_bytes(), &[2, 0, 0, 0, 2, 0, 0, 0, 0xfd, 0xff, 5, 0]);
        assert!(s.insert(70000));
        assert_eq!(s.width(), 4);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-3, 5, 70000]);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.width(), 8);
        assert_eq!(s.get(0), i64::MIN);
        assert!(s.remove(i64::MIN));
        assert!(s.remove(70000));
        // Removing never narrows the width, as in Redis.
        assert_eq!(s.width(), 8);
        assert_eq!(s.len(), 2);
        assert_eq!(s.as_bytes().len(), 8 + 2 * 8);
        assert!(!s.remove(i64::MAX));
        assert!(!s.contains(i64::MAX));
    }

    #[test]
    fn from_bytes_validates() {
        let mut s = Intset::new();
        for v in [1, 2, 300000] {
            s.insert(v);
        }
        assert_eq!(Intset::from_bytes(s.as_bytes()), Some(s.clone()));
        assert_eq!(Intset::from_bytes(&[3, 0, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(Intset::from_bytes(&[2, 0, 0, 0, 1, 0, 0, 0]), None);
        // Not ascending.
        assert_eq!(
            Intset::from_bytes(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0]),
            None
        );
        assert_eq!(
            Intset::from_bytes(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 5, 0]),
            None
        );
    }

    fn value() -> impl Strategy<Value = i64> {
        prop_oneof![
            -200i64..200,
            any::<i16>().prop_map(i64::from),
            any::<i32>().prop_map(i64::from),
            any::<i64>(),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(ops in proptest::collection::vec((any::<bool>(), value()), 0..200)) {
            let mut s = Intset::new();
            let mut m = BTreeSet::new();
            let mut max_width = 2;
            for (add, v) in ops {
                if add {
                    prop_assert_eq!(s.insert(v), m.insert(v));
                    max_width = max_width.max(width_of(v));
                } else {
                    prop_assert_eq!(s.remove(v), m.remove(&v));
                }
                prop_assert_eq!(s.len(), m.len());
                prop_assert_eq!(s.width(), max_width);
                prop_assert_eq!(s.as_bytes().len(), 8 + m.len() * max_width);
            }
            prop_assert_eq!(s.iter().collect::<Vec<_>>(), m.iter().copied().collect::<Vec<_>>());
            for v in m.iter() {
                prop_assert!(s.contains(*v));
            }
            prop_assert_eq!(Intset::from_bytes(s.as_bytes()), Some(s.clone()));
        }
    }
}
