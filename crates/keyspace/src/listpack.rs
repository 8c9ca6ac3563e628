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

/// Encodes a backlen for an entry of `l` bytes into `buf`, returning its size (1 to 5).
fn encode_backlen(buf: &mut [u8; 5], l: usize) -> usize {
    let l = l as u64;
    if l <= 127 {
        buf[0] = l as u8;
        1
    } else if l < 16383 {
        buf[0] = (l >> 7) as u8;
        buf[1] = (l & 127) as u8 | 128;
        2
    } else if l < 2097151 {
        buf[0] = (l >> 14) as u8;
        buf[1] = ((l >> 7) & 127) as u8 | 128;
        buf[2] = (l & 127) as u8 | 128;
        3
    } else if l < 268435455 {
        buf[0] = (l >> 21) as u8;
        buf[1] = ((l >> 14) & 127) as u8 | 128;
        buf[2] = ((l >> 7) & 127) as u8 | 128;
        buf[3] = (l & 127) as u8 | 128;
        4
    } else {
        buf[0] = (l >> 28) as u8;
        buf[1] = ((l >> 21) & 127) as u8 | 128;
        buf[2] = ((l >> 14) & 127) as u8 | 128;
        buf[3] = ((l >> 7) & 127) as u8 | 128;
        buf[4] = (l & 127) as u8 | 128;
        5
    }
}

/// Bytes a backlen for an entry of `l` bytes takes.
fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// An entry's encoding and data, without the backlen (at most 9 bytes of header).
struct Encoded<'a> {
    head: [u8; 9],
    head_len: usize,
    data: &'a [u8],
}

impl Encoded<'_> {
    fn len(&self) -> usize {
        self.head_len + self.data.len()
    }
}

fn encode_int(v: i64) -> Encoded<'static> {
    let mut head = [0u8; 9];
    let head_len = if (0..=127).contains(&v) {
        head[0] = v as u8;
        1
    } else if (-4096..=4095).contains(&v) {
        let u = if v < 0 { (1i64 << 13) + v } else { v } as u64;
        head[0] = ((u >> 8) as u8) | 0xC0;
        head[1] = u as u8;
        2
    } else if (-32768..=32767).contains(&v) {
        head[0] = 0xF1;
        head[1..3].copy_from_slice(&(v as i16).to_le_bytes());
        3
    } else if (-8388608..=8388607).contains(&v) {
        head[0] = 0xF2;
        head[1..4].copy_from_slice(&(v as i32).to_le_bytes()[..3]);
        4
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
        head[0] = 0xF3;
        head[1..5].copy_from_slice(&(v as i32).to_le_bytes());
        5
    } else {
        head[0] = 0xF4;
        head[1..9].copy_from_slice(&v.to_le_bytes());
        9
    };
    Encoded {
        head,
        head_len,
        data: &[],
    }
}

/// Encodes `v` as Redis does: canonical integers as integers, anything else as a string.
fn encode(v: &[u8]) -> Encoded<'_> {
    if v.len() <= 20 {
        if let Some(i) = tern_resp::request::parse_i64(v) {
            return encode_int(i);
        }
    }
    let mut head = [0u8; 9];
    let n = v.len();
    let head_len = if n < 64 {
        head[0] = 0x80 | n as u8;
        1
    } else if n < 4096 {
        head[0] = 0xE0 | (n >> 8) as u8;
        head[1] = n as u8;
        2
    } else {
        head[0] = 0xF0;
        head[1..5].copy_from_slice(&(n as u32).to_le_bytes());
        5
    };
    Encoded {
        head,
        head_len,
        data: v,
    }
}

/// Decodes the entry at the start of `b`: its value and its length without the backlen.
/// `None` if `b` is too short or the encoding byte is invalid (including EOF).
fn decode(b: &[u8]) -> Option<(LpValue<'_>, usize)> {
    let c = *b.first()?;
    let need = |n: usize| if b.len() >= n { Some(()) } else { None };
    if c & 0x80 == 0 {
        return Some((LpValue::Int(c as i64), 1));
    }
    if c & 0xC0 == 0x80 {
        let n = (c & 0x3F) as usize;
        need(1 + n)?;
        return Some((LpValue::Str(&b[1..1 + n]), 1 + n));
    }
    if c & 0xE0 == 0xC0 {
        need(2)?;
        let u = (((c & 0x1F) as i64) << 8) | b[1] as i64;
        let v = if u >= 1 << 12 { u - (1 << 13) } else { u };
        return Some((LpValue::Int(v), 2));
    }
    if c & 0xF0 == 0xE0 {
        need(2)?;
        let n = (((c & 0x0F) as usize) << 8) | b[1] as usize;
        need(2 + n)?;
        return Some((LpValue::Str(&b[2..2 + n]), 2 + n));
    }
    match c {
        0xF0 => {
            need(5)?;
            let n = u32::from_le_bytes([b[1], b[2], b[3], b[4]]) as usize;
            need(5usize.checked_add(n)?)?;
            Some((LpValue::Str(&b[5..5 + n]), 5 + n))
        }
        0xF1 => {
            need(3)?;
            Some((LpValue::Int(i16::from_le_bytes([b[1], b[2]]) as i64), 3))
        }
        0xF2 => {
            need(4)?;
            // Sign-extend 24 bits.
            let v = i32::from_le_bytes([0, b[1], b[2], b[3]]) >> 8;
            Some((LpValue::Int(v as i64), 4))
        }
        0xF3 => {
            need(5)?;
            Some((
                LpValue::Int(i32::from_le_bytes([b[1], b[2], b[3], b[4]]) as i64),
                5,
            ))
        }
        0xF4 => {
            need(9)?;
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[1..9]);
            Some((LpValue::Int(i64::from_le_bytes(x)), 9))
        }
        _ => None,
    }
}

/// Decodes the backlen that ends just before `end` (exclusive): (entry length, backlen size).
fn decode_backlen(b: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut val: u64 = 0;
    let mut shift = 0;
    let mut i = end;
    loop {
        if i == 0 {
            return None;
        }
        i -= 1;
        let c = b[i];
        val |= ((c & 127) as u64) << shift;
        if c & 128 == 0 {
            break;
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
    }
    Some((val as usize, end - i))
}

impl Listpack {
    /// An empty listpack (7 bytes).
    pub fn new() -> Listpack {
        let mut buf = Vec::with_capacity(HEADER_LEN + 1);
        buf.extend_from_slice(&((HEADER_LEN + 1) as u32).to_le_bytes());
        buf.extend_from_slice(&0u16.to_le_bytes());
        buf.push(EOF);
        Listpack { buf }
    }

    /// Adopts serialized bytes after validating every entry (header, encodings, backlens,
    /// terminator, count).
    pub fn from_bytes(buf: Vec<u8>) -> Result<Listpack, LpError> {
        if buf.len() < HEADER_LEN + 1 {
            return Err(LpError("shorter than its header"));
        }
        let total = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if total != buf.len() {
            return Err(LpError("header length does not match"));
        }
        if buf[buf.len() - 1] != EOF {
            return Err(LpError("missing terminator"));
        }
        let stored = u16::from_le_bytes([buf[4], buf[5]]);
        let mut p = HEADER_LEN;
        let mut count = 0usize;
        let end = buf.len() - 1;
        while p < end {
            let (_, l) = decode(&buf[p..end]).ok_or(LpError("bad entry encoding"))?;
            let bl = backlen_size(l);
            if p + l + bl > end {
                return Err(LpError("entry overflows"));
            }
            match decode_backlen(&buf, p + l + bl) {
                Some((v, n)) if v == l && n == bl => {}
                _ => return Err(LpError("bad backlen")),
            }
            p += l + bl;
            count += 1;
        }
        if stored != COUNT_UNKNOWN && stored as usize != count {
            return Err(LpError("element count does not match"));
        }
        Ok(Listpack { buf })
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
        let stored = u16::from_le_bytes([self.buf[4], self.buf[5]]);
        if stored != COUNT_UNKNOWN {
            return stored as usize;
        }
        let mut n = 0;
        let mut p = self.first();
        while let Some(q) = p {
            n += 1;
            p = self.next(q);
        }
        n
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.buf.len() == HEADER_LEN + 1
    }

    /// Position of the first entry.
    pub fn first(&self) -> Option<usize> {
        if self.is_empty() {
            None
        } else {
            Some(HEADER_LEN)
        }
    }

    /// Position of the last entry.
    pub fn last(&self) -> Option<usize> {
        self.prev(self.end())
    }

    /// Length of the entry at `p` including its backlen.
    fn entry_size(&self, p: usize) -> usize {
        let (_, l) = decode(&self.buf[p..]).expect("valid listpack entry");
        l + backlen_size(l)
    }

    /// Position of the entry after `p`.
    pub fn next(&self, p: usize) -> Option<usize> {
        let q = p + self.entry_size(p);
        if q >= self.end() {
            None
        } else {
            Some(q)
        }
    }

    /// Position of the entry before `p` (`p` may be [`Listpack::end`]).
    pub fn prev(&self, p: usize) -> Option<usize> {
        if p <= HEADER_LEN {
            return None;
        }
        let (l, bl) = decode_backlen(&self.buf, p).expect("valid listpack backlen");
        Some(p - bl - l)
    }

    /// The value of the entry at `p`.
    pub fn get(&self, p: usize) -> LpValue<'_> {
        decode(&self.buf[p..]).expect("valid listpack entry").0
    }

    /// Position of the entry at `index` (negative counts from the end: -1 is the last).
    pub fn seek(&self, index: i64) -> Option<usize> {
        if index >= 0 {
            let mut p = self.first();
            for _ in 0..index {
                p = self.next(p?);
            }
            p
        } else {
            let mut p = self.last();
            for _ in 0..(-(index + 1)) {
                p = self.prev(p?);
            }
            p
        }
    }

    /// Iterates the values front to back.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            lp: self,
            pos: self.first(),
        }
    }

    fn set_header(&mut self, count_delta: isize) {
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let stored = u16::from_le_bytes([self.buf[4], self.buf[5]]);
        let new = if stored == COUNT_UNKNOWN {
            // Recount once small enough to be stored again, as Redis's lpLength does.
            let n = {
                self.buf[4..6].copy_from_slice(&COUNT_UNKNOWN.to_le_bytes());
                self.len()
            };
            if n < COUNT_UNKNOWN as usize {
                n as u16
            } else {
                COUNT_UNKNOWN
            }
        } else {
            let n = stored as isize + count_delta;
            if n >= COUNT_UNKNOWN as isize {
                COUNT_UNKNOWN
            } else {
                n as u16
            }
        };
        self.buf[4..6].copy_from_slice(&new.to_le_bytes());
    }

    /// Writes the encoded entry `e` (with its backlen) over `old_len` bytes at `p`.
    fn splice_entry(&mut self, p: usize, old_len: usize, e: &Encoded<'_>) {
        let mut bl = [0u8; 5];
        let bln = encode_backlen(&mut bl, e.len());
        let new_len = e.len() + bln;
        let len = self.buf.len();
        // Make room (or close the gap) with one memmove of the tail, then copy the three parts
        // in: no per-byte iteration, which matters for every push onto a list node.
        if new_len > old_len {
            let grow = new_len - old_len;
            self.buf.reserve_exact(grow);
            self.buf.resize(len + grow, 0);
            self.buf.copy_within(p + old_len..len, p + new_len);
        } else if new_len < old_len {
            self.buf.copy_within(p + old_len..len, p + new_len);
            self.buf.truncate(len - (old_len - new_len));
        }
        let h = e.head_len;
        let d = e.data.len();
        self.buf[p..p + h].copy_from_slice(&e.head[..h]);
        self.buf[p + h..p + h + d].copy_from_slice(e.data);
        self.buf[p + h + d..p + new_len].copy_from_slice(&bl[..bln]);
    }

    /// Appends `v` (stored as an integer if it is a canonical decimal integer).
    pub fn push_back(&mut self, v: &[u8]) {
        let end = self.end();
        self.insert_before(end, v);
    }

    /// Prepends `v`.
    pub fn push_front(&mut self, v: &[u8]) {
        self.insert_before(HEADER_LEN, v);
    }

    /// Appends an integer.
    pub fn push_back_int(&mut self, v: i64) {
        let end = self.end();
        self.splice_entry(end, 0, &encode_int(v));
        self.set_header(1);
    }

    /// Inserts `v` before the entry at `p` (or at the end if `p` is the terminator's offset,
    /// [`Listpack::end`]). Returns the new entry's position.
    pub fn insert_before(&mut self, p: usize, v: &[u8]) -> usize {
        self.splice_entry(p, 0, &encode(v));
        self.set_header(1);
        p
    }

    /// The terminator's offset (a valid `p` for [`Listpack::insert_before`]: append).
    pub fn end(&self) -> usize {
        self.buf.len() - 1
    }

    /// Replaces the value at `p` with `v`. Returns the (unchanged) position.
    pub fn replace(&mut self, p: usize, v: &[u8]) -> usize {
        let old = self.entry_size(p);
        self.splice_entry(p, old, &encode(v));
        self.set_header(0);
        p
    }

    /// Deletes the entry at `p`; returns the position of the entry that followed it.
    pub fn delete(&mut self, p: usize) -> Option<usize> {
        self.delete_range(p, 1);
        if p >= self.end() {
            None
        } else {
            Some(p)
        }
    }

    /// Deletes up to `count` consecutive entries starting at `p`; returns how many went.
    pub fn delete_range(&mut self, p: usize, count: usize) -> usize {
        let end = self.end();
        let mut q = p;
        let mut n = 0;
        while n < count && q < end {
            q += self.entry_size(q);
            n += 1;
        }
        self.buf.drain(p..q);
        self.set_header(-(n as isize));
        if self.buf.capacity() > self.buf.len() * 2 + 64 {
            self.buf.shrink_to_fit();
        }
        n
    }

    /// Starting at `p`, finds the first entry equal to `v`, comparing only every
    /// `(skip + 1)`-th entry (skip = 1 searches the fields of a field/value listpack).
    pub fn find(&self, p: usize, v: &[u8], skip: usize) -> Option<usize> {
        // Compare integers as integers when `v` is one (no formatting per entry).
        let as_int = if v.len() <= 20 {
            tern_resp::request::parse_i64(v)
        } else {
            None
        };
        let mut cur = Some(p);
        while let Some(q) = cur {
            let hit = match (self.get(q), as_int) {
                (LpValue::Int(i), Some(j)) => i == j,
                (LpValue::Int(_), None) => false,
                (LpValue::Str(s), _) => s == v,
            };
            if hit {
                return Some(q);
            }
            cur = self.next(q);
            for _ in 0..skip {
                cur = cur.and_then(|x| self.next(x));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|v| v.to_vec()).collect()
    }

    #[test]
    fn empty_listpack_is_redis_bytes() {
        let lp = Listpack::new();
        assert_eq!(lp.as_bytes(), &[7, 0, 0, 0, 0, 0, 0xFF]);
        assert_eq!(lp.len(), 0);
        assert!(lp.first().is_none() && lp.last().is_none());
    }

    #[test]
    fn encodings_match_redis() {
        // Values and the exact bytes Redis's listpack.c writes for them (entry + backlen).
        let cases: &[(&[u8], &[u8])] = &[
            (b"0", &[0x00, 1]),
            (b"127", &[0x7F, 1]),
            (b"128", &[0xC0, 0x80, 2]),
            (b"-1", &[0xDF, 0xFF, 2]),
            (b"-4096", &[0xD0, 0x00, 2]),
            (b"4095", &[0xCF, 0xFF, 2]),
            (b"4096", &[0xF1, 0x00, 0x10, 3]),
            (b"-32768", &[0xF1, 0x00, 0x80, 3]),
            (b"32768", &[0xF2, 0x00, 0x80, 0x00, 4]),
            (b"8388608", &[0xF3, 0x00, 0x00, 0x80, 0x00, 5]),
            (b"abc", &[0x83, b'a', b'b', b'c', 4]),
            (b"007", &[0x83, b'0', b'0', b'7', 4]),
            (b"-0", &[0x82, b'-', b'0', 3]),
        ];
        for (v, bytes) in cases {
            let mut lp = Listpack::new();
            lp.push_back(v);
            assert_eq!(&lp.as_bytes()[HEADER_LEN..lp.end()], *bytes, "{:?}", v);
            assert_eq!(lp.get(HEADER_LEN).to_vec(), v.to_vec());
        }
        let mut lp = Listpack::new();
        lp.push_back(b"9223372036854775807");
        assert_eq!(lp.as_bytes()[HEADER_LEN], 0xF4);
        assert_eq!(lp.get(HEADER_LEN), LpValue::Int(i64::MAX));
        // A 64-byte string uses the 12-bit length; a 200-byte entry a 2-byte backlen.
        let mut lp = Listpack::new();
        lp.push_back(&[b'x'; 64]);
        assert_eq!(&lp.as_bytes()[HEADER_LEN..HEADER_LEN + 2], &[0xE0, 64]);
        let mut lp = Listpack::new();
        lp.push_back(&[b'x'; 200]);
        let n = lp.end();
        assert_eq!(&lp.as_bytes()[n - 2..n], &[202 >> 7, (202 & 127) | 128]);
        assert_eq!(lp.prev(lp.end()), Some(HEADER_LEN));
        let mut lp = Listpack::new();
        lp.push_back(&vec![b'y'; 5000]);
        assert_eq!(lp.as_bytes()[HEADER_LEN], 0xF0);
        assert_eq!(lp.get(HEADER_LEN).to_vec().len(), 5000);
    }

    #[test]
    fn from_bytes_rejects_corruption() {
        let mut lp = Listpack::new();
        for v in [&b"a"[..], b"12345", b"hello world"] {
            lp.push_back(v);
        }
        let good = lp.as_bytes().to_vec();
        assert_eq!(Listpack::from_bytes(good.clone()).unwrap(), lp);
        let mut bad = good.clone();
        bad[4] = 9; // count
        assert!(Listpack::from_bytes(bad).is_err());
        let mut bad = good.clone();
        *bad.last_mut().unwrap() = 0;
        assert!(Listpack::from_bytes(bad).is_err());
        let mut bad = good.clone();
        bad[HEADER_LEN + 2] = 77; // backlen of the first entry
        assert!(Listpack::from_bytes(bad).is_err());
        assert!(Listpack::from_bytes(good[..5].to_vec()).is_err());
        let mut bad = good;
        bad.truncate(bad.len() - 2);
        bad.push(EOF);
        assert!(Listpack::from_bytes(bad).is_err());
    }

    #[test]
    fn find_with_skip_searches_fields() {
        let mut lp = Listpack::new();
        for v in [&b"f1"[..], b"v1", b"v1", b"f2", b"10", b"x"] {
            lp.push_back(v);
        }
        let f = lp.find(HEADER_LEN, b"v1", 1).unwrap();
        assert_eq!(lp.get(lp.prev(f).unwrap()).to_vec(), b"v1");
        assert_eq!(
            lp.find(HEADER_LEN, b"10", 1).map(|p| lp.get(p)),
            Some(LpValue::Int(10))
        );
        assert_eq!(lp.find(HEADER_LEN, b"x", 1), None);
    }

    #[derive(Clone, Debug)]
    enum Op {
        PushBack(Vec<u8>),
        PushFront(Vec<u8>),
        Insert(usize, Vec<u8>),
        Replace(usize, Vec<u8>),
        Delete(usize),
        DeleteRange(usize, usize),
    }

    fn val() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            any::<i64>().prop_map(|i| i.to_string().into_bytes()),
            (-5000i64..5000).prop_map(|i| i.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..80),
            (100usize..300).prop_map(|n| vec![b'z'; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            val().prop_map(Op::PushBack),
            val().prop_map(Op::PushFront),
            (any::<usize>(), val()).prop_map(|(i, v)| Op::Insert(i, v)),
            (any::<usize>(), val()).prop_map(|(i, v)| Op::Replace(i, v)),
            any::<usize>().prop_map(Op::Delete),
            (any::<usize>(), 0usize..4).prop_map(|(i, n)| Op::DeleteRange(i, n)),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_vec(ops in prop::collection::vec(op(), 0..60)) {
            let mut lp = Listpack::new();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for op in ops {
                match op {
                    Op::PushBack(v) => { lp.push_back(&v); model.push(v); }
                    Op::PushFront(v) => { lp.push_front(&v); model.insert(0, v); }
                    Op::Insert(i, v) => {
                        let i = i % (model.len() + 1);
                        let p = lp.seek(i as i64).unwrap_or(lp.end());
                        lp.insert_before(p, &v);
                        model.insert(i, v);
                    }
                    Op::Replace(i, v) if !model.is_empty() => {
                        let i = i % model.len();
                        let p = lp.seek(i as i64).unwrap();
                        lp.replace(p, &v);
                        model[i] = v;
                    }
                    Op::Delete(i) if !model.is_empty() => {
                        let i = i % model.len();
                        let p = lp.seek(-(model.len() as i64) + i as i64).unwrap();
                        lp.delete(p);
                        model.remove(i);
                    }
                    Op::DeleteRange(i, n) if !model.is_empty() => {
                        let i = i % model.len();
                        let p = lp.seek(i as i64).unwrap();
                        let gone = lp.delete_range(p, n);
                        let expect = n.min(model.len() - i);
                        prop_assert_eq!(gone, expect);
                        model.drain(i..i + expect);
                    }
                    _ => {}
                }
                prop_assert_eq!(lp.len(), model.len());
                prop_assert_eq!(values(&lp), model.clone());
                // Backwards iteration agrees.
                let mut back = Vec::new();
                let mut p = lp.last();
                while let Some(q) = p { back.push(lp.get(q).to_vec()); p = lp.prev(q); }
                back.reverse();
                prop_assert_eq!(&back, &model);
                // Serialized form validates.
                prop_assert_eq!(Listpack::from_bytes(lp.as_bytes().to_vec()).unwrap(), lp.clone());
            }
        }
    }
}
