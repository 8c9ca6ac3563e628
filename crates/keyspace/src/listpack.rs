//! Redis's listpack: a compact, contiguous sequence of strings and integers, byte-identical to
//! the `listpack.c` format so that small lists, hashes and sorted sets dump to (and restore
//! from) RDB and DUMP payloads by copying bytes.
//!
//! Layout: a 6-byte header (total bytes as a little-endian u32, element count as a
//! little-endian u16, 65535 meaning "count by scanning"), the entries, and a terminating
//! `0xFF`. Each entry is an encoding byte (with the length or a small integer folded in),
//! its data, and a *backlen* (the entry's length without the backlen, 7 bits per byte) that
//! lets iteration run backwards.
//!
//! | first byte  | entry                                    |
//! |-------------|------------------------------------------|
//! | `0xxxxxxx`  | unsigned 7-bit integer                   |
//! | `10xxxxxx`  | string of up to 63 bytes                 |
//! | `110xxxxx`  | signed 13-bit integer (one more byte)    |
//! | `1110xxxx`  | string of up to 4095 bytes (12-bit len)  |
//! | `11110000`  | string, 32-bit little-endian length      |
//! | `11110001`..`11110100` | signed 16/24/32/64-bit integer |
//! | `11111111`  | end of listpack                          |
//!
//! Strings that are canonical decimal integers (Redis's `string2ll` rules) are stored as
//! integers, as Redis does. Positions handed out by this API are byte offsets of entries
//! (always at least [`HEADER_LEN`]); they stay valid until the next mutation.

use std::fmt;

/// Bytes of the header: total length (u32) and element count (u16).
pub const HEADER_LEN: usize = 6;
/// The terminator byte.
pub const EOF: u8 = 0xFF;
/// The element count stored when the real count must be found by scanning.
const COUNT_UNKNOWN: u16 = u16::MAX;

/// An entry's value: integers are decoded, strings borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpValue<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl LpValue<'_> {
    /// Calls `f` with the value's bytes (formatting an integer on the stack).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match *self {
            LpValue::Int(i) => f(itoa::Buffer::new().format(i).as_bytes()),
            LpValue::Str(s) => f(s),
        }
    }

    /// The value's bytes, owned.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    /// True if the value's bytes equal `b`.
    pub fn eq_bytes(&self, b: &[u8]) -> bool {
        match *self {
            LpValue::Str(s) => s == b,
            LpValue::Int(i) => {
                let mut buf = itoa::Buffer::new();
                buf.format(i).as_bytes() == b
            }
        }
    }
}

/// A malformed listpack (from a DUMP payload or an RDB file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LpError(pub &'static str);

impl fmt::Display for LpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid listpack: {}", self.0)
    }
}

impl std::error::Error for LpError {}

/// An owned listpack.
#[derive(Clone, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
}

impl fmt::Debug for Listpack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for v in self.iter() {
            match v {
                LpValue::Int(i) => l.entry(&i),
                LpValue::Str(s) => l.entry(&String::from_utf8_lossy(s)),
            };
        }
        l.finish()
    }
}

impl Default for Listpack {
    fn default() -> Self {
        Listpack::new()
    }
}

/// Iterates a listpack's values front to back.
pub struct Iter<'a> {
    lp: &'a Listpack,
    pos: Option<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    fn next(&mut self) -> Option<LpValue<'a>> {
        let p = self.pos?;
        self.pos = self.lp.next(p);
        Some(self.lp.get(p))
    }
}

impl Listpack {
    /// An empty listpack (7 bytes).
    pub fn new() -> Listpack {
        todo!()
    }

    /// Adopts serialized bytes after validating every entry (header, encodings, backlens,
    /// terminator, count).
    pub fn from_bytes(buf: Vec<u8>) -> Result<Listpack, LpError> {
        let _ = buf;
        todo!()
    }

    /// The serialized bytes, exactly as Redis stores them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Total bytes (header and terminator included).
    pub fn bytes_len(&self) -> usize {
        self.buf.len()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        todo!()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.buf.len() == HEADER_LEN + 1
    }

    /// Position of the first entry.
    pub fn first(&self) -> Option<usize> {
        todo!()
    }

    /// Position of the last entry.
    pub fn last(&self) -> Option<usize> {
        todo!()
    }

    /// Position of the entry after `p`.
    pub fn next(&self, p: usize) -> Option<usize> {
        let _ = p;
        todo!()
    }

    /// Position of the entry before `p`.
    pub fn prev(&self, p: usize) -> Option<usize> {
        let _ = p;
        todo!()
    }

    /// The value of the entry at `p`.
    pub fn get(&self, p: usize) -> LpValue<'_> {
        let _ = p;
        todo!()
    }

    /// Position of the entry at `index` (negative counts from the end: -1 is the last).
    pub fn seek(&self, index: i64) -> Option<usize> {
        let _ = index;
        todo!()
    }

    /// Iterates the values front to back.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            lp: self,
            pos: self.first(),
        }
    }

    /// Appends `v` (stored as an integer if it is a canonical decimal integer).
    pub fn push_back(&mut self, v: &[u8]) {
        let _ = v;
        todo!()
    }

    /// Prepends `v`.
    pub fn push_front(&mut self, v: &[u8]) {
        let _ = v;
        todo!()
    }

    /// Appends an integer.
    pub fn push_back_int(&mut self, v: i64) {
        let _ = v;
        todo!()
    }

    /// Inserts `v` before the entry at `p` (or at the end if `p` is the terminator's offset,
    /// [`Listpack::end`]). Returns the new entry's position.
    pub fn insert_before(&mut self, p: usize, v: &[u8]) -> usize {
        let _ = (p, v);
        todo!()
    }

    /// The terminator's offset (a valid `p` for [`Listpack::insert_before`]: append).
    pub fn end(&self) -> usize {
        self.buf.len() - 1
    }

    /// Replaces the value at `p` with `v`. Returns the (unchanged) position.
    pub fn replace(&mut self, p: usize, v: &[u8]) -> usize {
        let _ = (p, v);
        todo!()
    }

    /// Deletes the entry at `p`; returns the position of the entry that followed it.
    pub fn delete(&mut self, p: usize) -> Option<usize> {
        let _ = p;
        todo!()
    }

    /// Deletes up to `count` consecutive entries starting at `p`; returns how many went.
    pub fn delete_range(&mut self, p: usize, count: usize) -> usize {
        let _ = (p, count);
        todo!()
    }

    /// Starting at `p`, finds the first entry equal to `v`, comparing only every
    /// `(skip + 1)`-th entry (skip = 1 searches the fields of a field/value listpack).
    pub fn find(&self, p: usize, v: &[u8], skip: usize) -> Option<usize> {
        let _ = (p, v, skip);
        todo!()
    }
}
