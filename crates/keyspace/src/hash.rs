//! The hash type (Redis's `t_hash.c` data side): a map of fields to values in one of two
//! encodings, as in Redis 7.0.
//!
//! - **listpack** (`OBJECT ENCODING listpack`): while the hash has at most
//!   `hash-max-listpack-entries` fields and every field and value is at most
//!   `hash-max-listpack-value` bytes, it is one [`Listpack`] holding `field, value, field,
//!   value, ...` in insertion order, byte-identical to Redis's, so DUMP copies the bytes.
//!   Lookups are linear scans over a few cache lines, which is what Redis does too.
//! - **hashtable** (`OBJECT ENCODING hashtable`): past either threshold it converts, once and
//!   for good, to a [`Dict`] of [`SmallBytes`] to [`SmallBytes`]: O(1) lookups, incremental
//!   rehash, Redis's reverse-binary SCAN cursor. Fields and values of up to 23 bytes live
//!   inside the dict node (one 56-byte allocation per field, plus a bucket pointer).
//!
//! The struct is 24 bytes (a listpack's `Vec`, or a boxed dict) so that it does not grow
//! `Value`.

use rand::seq::index::sample;
use rand::Rng;

use crate::dict::{hash_bytes, Dict};
use crate::limits::EncodingLimits;
use crate::listpack::{Listpack, LpValue};
use crate::value::SmallBytes;

/// The big encoding's table.
pub type HashTable = Dict<SmallBytes, SmallBytes>;

/// A hash value.
#[derive(Clone, Debug)]
pub struct Hash {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    /// field, value, field, value... in insertion order.
    Lp(Listpack),
    /// The big encoding.
    Ht(Box<HashTable>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

/// Two hashes are equal when they hold the same fields with the same values, whatever their
/// encodings and orders.
impl PartialEq for Hash {
    fn eq(&self, other: &Hash) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let mut same = true;
        self.for_each(|f, v| {
            if same {
                same = f
                    .with_bytes(|f| other.get(f))
                    .is_some_and(|ov| v.with_bytes(|a| ov.with_bytes(|b| a == b)));
            }
        });
        same
    }
}

impl Hash {
    /// An empty listpack-encoded hash.
    pub fn new() -> Hash {
        Hash {
            repr: Repr::Lp(Listpack::new()),
        }
    }

    /// Adopts a listpack of field/value pairs (from an RDB or DUMP payload); the caller has
    /// validated it (even length, no duplicate fields).
    pub fn from_listpack(lp: Listpack) -> Hash {
        Hash { repr: Repr::Lp(lp) }
    }

    /// An empty hashtable-encoded hash.
    pub fn new_table() -> Hash {
        Hash {
            repr: Repr::Ht(Box::default()),
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Lp(lp) => lp.len() / 2,
            Repr::Ht(d) => d.len(),
        }
    }

    /// True when empty (an empty collection is never stored: the key is deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Lp(_) => "listpack",
            Repr::Ht(_) => "hashtable",
        }
    }

    /// The listpack, if the hash is listpack-encoded.
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match &self.repr {
            Repr::Lp(lp) => Some(lp),
            Repr::Ht(_) => None,
        }
    }

    /// The hashtable, if the hash is hashtable-encoded.
    pub fn as_table(&self) -> Option<&HashTable> {
        match &self.repr {
            Repr::Lp(_) => None,
            Repr::Ht(d) => Some(d),
        }
    }

    /// The value of `field`, if present.
    pub fn get(&self, field: &[u8]) -> Option<LpValue<'_>> {
        match &self.repr {
            Repr::Lp(lp) => {
                let p = lp.find(lp.first()?, field, 1)?;
                Some(lp.get(lp.next(p).expect("a listpack field has a value")))
            }
            Repr::Ht(d) => d
                .get(hash_bytes(field), field)
                .map(|(_, v)| LpValue::Str(v.as_slice())),
        }
    }

    /// The value of `field`, if present (used by SORT BY/GET hash-field patterns).
    pub fn get_field(&self, field: &[u8]) -> Option<Vec<u8>> {
        self.get(field).map(|v| v.to_vec())
    }

    /// True if `field` is present.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to the hashtable encoding before a write of `field`/`value` if either is longer
    /// than `hash-max-listpack-value` (Redis's `hashTypeTryConversion` and the check at the top
    /// of `hashTypeSet`).
    pub fn convert_for(&mut self, lens: impl IntoIterator<Item = usize>, limits: &EncodingLimits) {
        if matches!(self.repr, Repr::Lp(_))
            && lens.into_iter().any(|l| l > limits.hash_max_listpack_value)
        {
            self.convert_to_table();
        }
    }

    /// Sets `field` to `value`; returns true if the field is new. Converts to the hashtable
    /// encoding when a field or value is too long for the listpack, or when the listpack has
    /// grown past `hash-max-listpack-entries`.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &EncodingLimits) -> bool {
        self.convert_for([field.len(), value.len()], limits);
        match &mut self.repr {
            Repr::Lp(lp) => {
                if let Some(p) = lp.first().and_then(|p0| lp.find(p0, field, 1)) {
                    let vp = lp.next(p).expect("a listpack field has a value");
                    lp.replace(vp, value);
                    return false;
                }
                lp.push_back(field);
                lp.push_back(value);
                if lp.len() / 2 > limits.hash_max_listpack_entries {
                    self.convert_to_table();
                }
                true
            }
            Repr::Ht(d) => {
                let h = hash_bytes(field);
                if let Some(v) = d.get_mut(h, field) {
                    *v = SmallBytes::new(value);
                    false
                } else {
                    d.insert(h, SmallBytes::new(field), SmallBytes::new(value));
                    true
                }
            }
        }
    }

    /// Removes `field`; returns true if it was present.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Lp(lp) => match lp.first().and_then(|p0| lp.find(p0, field, 1)) {
                Some(p) => {
                    lp.delete_range(p, 2);
                    true
                }
                None => false,
            },
            Repr::Ht(d) => d.remove(hash_bytes(field), field).is_some(),
        }
    }

    /// Converts a listpack-encoded hash to the hashtable encoding (never the other way).
    pub fn convert_to_table(&mut self) {
        let Repr::Lp(lp) = &self.repr else {
            return;
        };
        let mut d = HashTable::new();
        let mut it = lp.iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            let f = f.to_vec();
            d.insert(
                hash_bytes(&f),
                SmallBytes::new(&f),
                SmallBytes::new(&v.to_vec()),
            );
        }
        self.repr = Repr::Ht(Box::new(d));
    }

    /// Calls `f` with every field and value, in the encoding's order (insertion order for a
    /// listpack, bucket order for a hashtable).
    pub fn for_each<'a>(&'a self, mut f: impl FnMut(LpValue<'a>, LpValue<'a>)) {
        match &self.repr {
            Repr::Lp(lp) => {
                let mut it = lp.iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    f(k, v);
                }
            }
            Repr::Ht(d) => {
                for (k, v) in d.iter() {
                    f(LpValue::Str(k.as_slice()), LpValue::Str(v.as_slice()));
                }
            }
        }
    }

    /// One HSCAN step: calls `f` for the pairs visited and returns the next cursor (0 when
    /// done). A listpack is returned whole in one call with cursor 0, as Redis does; a
    /// hashtable is scanned with the dict's cursor until `count` *items* were gathered (a pair
    /// counts as two, as in Redis's `scanGenericCommand`) or after `10 * count` bucket steps.
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        mut f: impl FnMut(LpValue<'_>, LpValue<'_>),
    ) -> u64 {
        match &self.repr {
            Repr::Lp(_) => {
                self.for_each(f);
                0
            }
            Repr::Ht(d) => {
                let mut cursor = cursor;
                let mut steps = count.saturating_mul(10);
                let mut got = 0usize;
                loop {
                    cursor = d.scan(cursor, |k, v| {
                        got += 2;
                        f(LpValue::Str(k.as_slice()), LpValue::Str(v.as_slice()));
                    });
                    steps = steps.saturating_sub(1);
                    if cursor == 0 || steps == 0 || got >= count {
                        break cursor;
                    }
                }
            }
        }
    }

    /// One random pair (HRANDFIELD without a count); None if empty.
    pub fn random_pair(&self, rng: &mut impl Rng) -> Option<(LpValue<'_>, LpValue<'_>)> {
        match &self.repr {
            Repr::Lp(lp) => {
                let n = lp.len() / 2;
                if n == 0 {
                    return None;
                }
                let p = lp.seek(2 * rng.gen_range(0..n) as i64)?;
                Some((lp.get(p), lp.get(lp.next(p)?)))
            }
            Repr::Ht(d) => d
                .random_entry(rng)
                .map(|(k, v)| (LpValue::Str(k.as_slice()), LpValue::Str(v.as_slice()))),
        }
    }

    /// `count` distinct pairs picked at random (HRANDFIELD with a positive count smaller
    /// than the hash), in no particular order.
    pub fn random_distinct<'a>(
        &'a self,
        rng: &mut impl Rng,
        count: usize,
        mut f: impl FnMut(LpValue<'a>, LpValue<'a>),
    ) {
        let n = self.len();
        let count = count.min(n);
        match &self.repr {
            Repr::Lp(lp) => {
                // Like Redis's lpRandomPairsUnique: the picked pairs come out in listpack order.
                let mut idx = sample(rng, n, count).into_vec();
                idx.sort_unstable();
                let mut want = idx.into_iter().peekable();
                let mut it = lp.iter();
                let mut i = 0;
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    if want.peek() == Some(&i) {
                        want.next();
                        f(k, v);
                    }
                    i += 1;
                }
            }
            Repr::Ht(d) => {
                if count * 3 > n {
                    // Many of the fields: pick indexes over a snapshot of the entries.
                    let all: Vec<_> = d.iter().collect();
                    for i in sample(rng, n, count) {
                        let (k, v) = all[i];
                        f(LpValue::Str(k.as_slice()), LpValue::Str(v.as_slice()));
                    }
                } else {
                    // Few of the fields: random entries until `count` distinct ones are seen.
                    let mut seen = std::collections::HashSet::with_capacity(count);
                    while seen.len() < count {
                        let Some((k, v)) = d.random_entry(rng) else {
                            break;
                        };
                        if seen.insert(k.as_slice()) {
                            f(LpValue::Str(k.as_slice()), LpValue::Str(v.as_slice()));
                        }
                    }
                }
            }
        }
    }

    /// Bytes allocated for the hash's own structures (for MEMORY USAGE-like estimates).
    pub fn allocated_bytes(&self) -> usize {
        match &self.repr {
            Repr::Lp(lp) => lp.bytes_len(),
            Repr::Ht(d) => d.allocated_bytes(),
        }
    }
}

#[cfg(test)]
mod tests;
