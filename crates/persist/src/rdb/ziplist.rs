//! Decoders for the two compact encodings of old RDB files that Tern never writes: the
//! ziplist (Redis 2.6 to 6.2: list nodes, small hashes and sorted sets) and the zipmap (small
//! hashes before Redis 2.6). Redis 7.0 still loads both and converts them to listpacks on the
//! way in; so does Tern (see the `list`, `hash` and `zset` modules).
//!
//! Both decoders check the whole structure before returning anything, never panic on hostile
//! input, and report problems with the offset (inside the blob) of the entry at fault. The
//! blob is always a complete RDB string, so running out of bytes inside it is corruption, not
//! a truncated file: every error here is [`RdbErrorKind::Invalid`].
//!
//! [`encode_ziplist`] and [`encode_zipmap`] build both formats (Tern never writes them): the
//! tests use them to make old-format payloads, which they check against redis-server 7.0.
//!
//! # Ziplist layout
//!
//! ```text
//! <zlbytes u32 LE> <zltail u32 LE> <zllen u16 LE> <entry> ... <0xff>
//! entry = <prevlen> <encoding> <data>
//! prevlen  = 1 byte if < 254, else 0xfe and a u32 LE
//! encoding = 00pppppp                       string of up to 63 bytes
//!            01pppppp qqqqqqqq              string, 14-bit big-endian length
//!            10000000 + u32 BE              string, 32-bit length
//!            11000000 / 11010000 / 11100000 i16 / i32 / i64, LE
//!            11110000                       24-bit signed integer, LE
//!            11111110                       i8
//!            1111xxxx (xxxx in 1..=13)      the integer xxxx - 1, no data
//! ```
//! `zllen` = 65535 means "count too large to store: walk the entries".
//!
//! # Zipmap layout
//!
//! ```text
//! <zmlen u8> (<len> field <len> <free u8> value <free bytes>)* <0xff>
//! len = 1 byte if < 254, else 254 and a u32 (host order, little-endian on every platform
//!       Redis ran on)
//! ```
//! `zmlen` >= 254 means "count unknown: walk the entries".

use super::{RdbError, RdbErrorKind};

/// A zipmap's (field, value) pairs, borrowed from the blob.
pub type ZipmapPairs<'a> = Vec<(&'a [u8], &'a [u8])>;

/// One decoded ziplist entry: bytes borrowed from the blob, or an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZlEntry<'a> {
    /// A string entry.
    Str(&'a [u8]),
    /// An integer entry (any of the integer encodings).
    Int(i64),
}

impl ZlEntry<'_> {
    /// The entry's bytes (integers in decimal), as Redis's `ziplistGet` + `sdsfromlonglong`.
    pub fn to_vec(&self) -> Vec<u8> {
        match *self {
            ZlEntry::Str(s) => s.to_vec(),
            ZlEntry::Int(v) => itoa::Buffer::new().format(v).as_bytes().to_vec(),
        }
    }

    /// The length of the entry's bytes.
    pub fn byte_len(&self) -> usize {
        match *self {
            ZlEntry::Str(s) => s.len(),
            ZlEntry::Int(v) => itoa::Buffer::new().format(v).len(),
        }
    }
}

const ZIP_END: u8 = 0xff;
const ZIP_BIG_PREVLEN: u8 = 0xfe;
const ZL_HEADER: usize = 10;
const ZIPMAP_BIGLEN: u8 = 254;

/// An [`RdbErrorKind::Invalid`] error at `base + at`.
fn invalid(base: usize, at: usize, what: &'static str) -> RdbError {
    RdbError {
        offset: base + at,
        kind: RdbErrorKind::Invalid(what),
    }
}

/// `n` bytes of `b` at `at`, or `None` past the end.
fn slice(b: &[u8], at: usize, n: usize) -> Option<&[u8]> {
    b.get(at..at.checked_add(n)?)
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    slice(b, at, 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Decodes a whole ziplist, checking it as Redis's deep `ziplistValidateIntegrity` does:
/// header sizes, every entry inside the blob, each `prevlen` equal to the previous entry's
/// size, `zltail` pointing at the last entry, the count matching `zllen`, the end marker last.
/// Error offsets are `base` plus the offset inside `blob` (pass the blob's position in the
/// file to get file offsets, or 0).
pub fn decode_ziplist(blob: &[u8], base: usize) -> Result<Vec<ZlEntry<'_>>, RdbError> {
    if blob.len() < ZL_HEADER + 1 {
        return Err(invalid(base, 0, "ziplist shorter than its header"));
    }
    let zlbytes = le_u32(blob, 0).unwrap_or(0) as usize;
    if zlbytes != blob.len() {
        return Err(invalid(base, 0, "ziplist size does not match its header"));
    }
    let zltail = le_u32(blob, 4).unwrap_or(0) as usize;
    let zllen = u16::from_le_bytes([blob[8], blob[9]]);
    if blob[blob.len() - 1] != ZIP_END {
        return Err(invalid(
            base,
            blob.len() - 1,
            "ziplist lacks its end marker",
        ));
    }
    let end = blob.len() - 1;
    let mut entries = Vec::with_capacity(if zllen == u16::MAX {
        0
    } else {
        (zllen as usize).min(end / 2)
    });
    let mut p = ZL_HEADER;
    let mut prev_size = 0usize;
    let mut last = ZL_HEADER;
    while p < end {
        let start = p;
        // prevlen
        let (prevlen, n) = if blob[p] == ZIP_BIG_PREVLEN {
            let v =
                le_u32(blob, p + 1).ok_or_else(|| invalid(base, p, "ziplist entry overflows"))?;
            (v as usize, 5)
        } else {
            (blob[p] as usize, 1)
        };
        if prevlen != prev_size {
            return Err(invalid(base, start, "ziplist prevlen mismatch"));
        }
        p += n;
        if p >= end {
            return Err(invalid(base, start, "ziplist entry overflows"));
        }
        let enc = blob[p];
        let entry = match enc >> 6 {
            0..=2 => {
                let (len, hdr) = match enc >> 6 {
                    0 => ((enc & 0x3f) as usize, 1),
                    1 => {
                        let lo = *blob
                            .get(p + 1)
                            .ok_or_else(|| invalid(base, start, "ziplist entry overflows"))?;
                        ((((enc & 0x3f) as usize) << 8) | lo as usize, 2)
                    }
                    _ => {
                        // Redis masks a string encoding's low six bits away when its top
                        // bits are 10, so it reads 0x81..=0xbf as 0x80 too.
                        let s = slice(blob, p + 1, 4)
                            .ok_or_else(|| invalid(base, start, "ziplist entry overflows"))?;
                        (u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize, 5)
                    }
                };
                let data = slice(blob, p + hdr, len)
                    .ok_or_else(|| invalid(base, start, "ziplist entry overflows"))?;
                p += hdr + len;
                ZlEntry::Str(data)
            }
            _ => {
                let (v, n) = match enc {
                    0xc0 => (
                        slice(blob, p + 1, 2).map(|s| i16::from_le_bytes([s[0], s[1]]) as i64),
                        2,
                    ),
                    0xd0 => (
                        slice(blob, p + 1, 4)
                            .map(|s| i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as i64),
                        4,
                    ),
                    0xe0 => (
                        slice(blob, p + 1, 8).map(|s| {
                            let mut a = [0u8; 8];
                            a.copy_from_slice(s);
                            i64::from_le_bytes(a)
                        }),
                        8,
                    ),
                    0xf0 => (
                        // Sign-extends the 24-bit value through the top byte of an i32.
                        slice(blob, p + 1, 3)
                            .map(|s| (i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) as i64),
                        3,
                    ),
                    0xfe => (slice(blob, p + 1, 1).map(|s| s[0] as i8 as i64), 1),
                    0xf1..=0xfd => (Some((enc & 0x0f) as i64 - 1), 0),
                    _ => return Err(invalid(base, start, "bad ziplist integer encoding")),
                };
                let v = v.ok_or_else(|| invalid(base, start, "ziplist entry overflows"))?;
                p += 1 + n;
                ZlEntry::Int(v)
            }
        };
        if p > end {
            return Err(invalid(base, start, "ziplist entry overflows"));
        }
        prev_size = p - start;
        last = start;
        entries.push(entry);
    }
    if zltail != last {
        return Err(invalid(base, 4, "ziplist tail offset is wrong"));
    }
    if zllen != u16::MAX && zllen as usize != entries.len() {
        return Err(invalid(base, 8, "ziplist count does not match its entries"));
    }
    Ok(entries)
}

/// Decodes a whole zipmap into (field, value) pairs, checking it as Redis's
/// `zipmapValidateIntegrity` does: every length and free count inside the blob, the count
/// matching `zmlen` when that is below 254, the end marker last. Duplicate fields are left for
/// the caller to check (Redis does it while converting). Error offsets are `base` plus the
/// offset inside `blob`.
pub fn decode_zipmap(blob: &[u8], base: usize) -> Result<ZipmapPairs<'_>, RdbError> {
    let Some(&zmlen) = blob.first() else {
        return Err(invalid(base, 0, "empty zipmap"));
    };
    let overflow = |at| invalid(base, at, "zipmap entry overflows");
    // A zipmap length: one byte below 254, or 254 and four bytes; 255 (the end) is not one.
    let read_len = |p: usize| -> Result<(usize, usize), RdbError> {
        match blob.get(p) {
            None => Err(overflow(p)),
            Some(&ZIP_END) => Err(invalid(base, p, "zipmap ends inside an entry")),
            Some(&ZIPMAP_BIGLEN) => le_u32(blob, p + 1)
                .map(|v| (v as usize, 5))
                .ok_or_else(|| overflow(p)),
            Some(&b) => Ok((b as usize, 1)),
        }
    };
    let mut pairs = Vec::new();
    let mut p = 1;
    loop {
        match blob.get(p) {
            None => return Err(invalid(base, p, "zipmap lacks its end marker")),
            Some(&ZIP_END) => break,
            Some(_) => {}
        }
        let start = p;
        let (flen, n) = read_len(p)?;
        p += n;
        let field = slice(blob, p, flen).ok_or_else(|| overflow(start))?;
        p += flen;
        let (vlen, n) = read_len(p)?;
        p += n;
        let free = *blob.get(p).ok_or_else(|| overflow(start))? as usize;
        p += 1;
        let value = slice(blob, p, vlen).ok_or_else(|| overflow(start))?;
        p += vlen;
        if slice(blob, p, free).is_none() {
            return Err(overflow(start));
        }
        p += free;
        pairs.push((field, value));
    }
    if p != blob.len() - 1 {
        return Err(invalid(base, p + 1, "bytes after the zipmap end marker"));
    }
    if zmlen < ZIPMAP_BIGLEN && zmlen as usize != pairs.len() {
        return Err(invalid(base, 0, "zipmap count does not match its entries"));
    }
    Ok(pairs)
}

/// Encodes one ziplist entry's encoding header and data the way Redis's `ziplistPush` does
/// (integers in the smallest integer encoding).
fn entry_body(e: &ZlEntry<'_>) -> Vec<u8> {
    let mut b = Vec::new();
    match *e {
        ZlEntry::Str(s) => {
            if s.len() < 64 {
                b.push(s.len() as u8);
            } else if s.len() < 1 << 14 {
                b.push(0x40 | (s.len() >> 8) as u8);
                b.push(s.len() as u8);
            } else {
                b.push(0x80);
                b.extend_from_slice(&(s.len() as u32).to_be_bytes());
            }
            b.extend_from_slice(s);
        }
        ZlEntry::Int(v) => {
            if (0..=12).contains(&v) {
                b.push(0xf1 + v as u8);
            } else if let Ok(x) = i8::try_from(v) {
                b.push(0xfe);
                b.push(x as u8);
            } else if let Ok(x) = i16::try_from(v) {
                b.push(0xc0);
                b.extend_from_slice(&x.to_le_bytes());
            } else if (-(1 << 23)..(1 << 23)).contains(&v) {
                b.push(0xf0);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            } else if let Ok(x) = i32::try_from(v) {
                b.push(0xd0);
                b.extend_from_slice(&x.to_le_bytes());
            } else {
                b.push(0xe0);
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    b
}

/// A well-formed ziplist holding `entries`, as Redis 6.2's `ziplistPush` would lay it out.
/// Tern never writes ziplists; this exists for tests and tools that need old-format data.
pub fn encode_ziplist(entries: &[ZlEntry<'_>]) -> Vec<u8> {
    let mut zl = vec![0u8; ZL_HEADER];
    let mut prev = 0usize;
    let mut tail = ZL_HEADER;
    for e in entries {
        let start = zl.len();
        if prev < 254 {
            zl.push(prev as u8);
        } else {
            zl.push(0xfe);
            zl.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        zl.extend_from_slice(&entry_body(e));
        prev = zl.len() - start;
        tail = start;
    }
    zl.push(ZIP_END);
    let n = zl.len() as u32;
    zl[0..4].copy_from_slice(&n.to_le_bytes());
    zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
    let count = u16::try_from(entries.len()).unwrap_or(u16::MAX);
    zl[8..10].copy_from_slice(&count.to_le_bytes());
    zl
}

/// Ziplist entries for byte strings, canonical integers as integers (as `zipTryEncoding`).
pub fn ziplist_entries<'a>(items: &[&'a [u8]]) -> Vec<ZlEntry<'a>> {
    items
        .iter()
        .map(|s| match tern_keyspace::value::parse_canonical_i64(s) {
            Some(v) if s.len() <= 20 => ZlEntry::Int(v),
            _ => ZlEntry::Str(s),
        })
        .collect()
}

fn zipmap_len(out: &mut Vec<u8>, n: usize) {
    if n < 254 {
        out.push(n as u8);
    } else {
        out.push(ZIPMAP_BIGLEN);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
}

/// A well-formed zipmap holding `pairs`, each value followed by `free` unused bytes (as
/// Redis 2.4 left after shrinking a value). For tests and tools, like [`encode_ziplist`].
pub fn encode_zipmap(pairs: &[(&[u8], &[u8])], free: u8) -> Vec<u8> {
    let mut zm = vec![pairs.len().min(254) as u8];
    for (f, v) in pairs {
        zipmap_len(&mut zm, f.len());
        zm.extend_from_slice(f);
        zipmap_len(&mut zm, v.len());
        zm.push(free);
        zm.extend_from_slice(v);
        zm.extend(std::iter::repeat_n(0xaa, free as usize));
    }
    zm.push(ZIP_END);
    zm
}

#[cfg(test)]
mod tests;
