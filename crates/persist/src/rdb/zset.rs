//! RDB encoding of sorted sets, as Redis 7.0 writes and loads them:
//! - a listpack-encoded zset is `RDB_TYPE_ZSET_LISTPACK` (17): the listpack bytes as one string;
//! - a skiplist-encoded zset is `RDB_TYPE_ZSET_2` (5): the count, then each member string and
//!   its score as a little-endian binary double, from the highest score down (Redis walks its
//!   skiplist from the tail so that loading inserts at the head, in O(1));
//! - `RDB_TYPE_ZSET` (3, scores as strings, Redis < 4.0) is read too, and so is
//!   `RDB_TYPE_ZSET_ZIPLIST` (12, Redis 2.6 to 6.2), whose ziplist converts to a listpack with
//!   the same entries (then a skiplist above 128 entries, as Redis 7.0 converts it).
//!
//! An empty sorted set is [`RdbErrorKind::EmptyKey`] (a file loader skips the key).
//!
//! Loading applies Redis's conversions with the default thresholds (128 entries, 64 bytes): a
//! listpack with too many entries becomes a skiplist, a small `ZSET_2` becomes a listpack.

use std::io::{self, Write};

use tern_keyspace::{EncodingLimits, Listpack, ZSet};

use super::ziplist::{decode_ziplist, ZlEntry};
use super::{object_type, RdbError, RdbErrorKind, RdbReader, RdbWriter};

/// The RDB object type byte Redis writes for `v` in its current encoding.
pub fn type_of(v: &ZSet) -> u8 {
    if v.listpack().is_some() {
        object_type::ZSET_LISTPACK
    } else {
        object_type::ZSET_2
    }
}

/// Writes `v`'s payload (without the type byte).
pub fn write<W: Write>(w: &mut RdbWriter<W>, v: &ZSet) -> io::Result<()> {
    if let Some(lp) = v.listpack() {
        return w.write_string(lp.as_bytes());
    }
    let n = v.len();
    w.write_len(n as u64)?;
    let mut res = Ok(());
    v.range(0, n, true, |m, s| {
        if res.is_ok() {
            res = w.write_string(m).and_then(|_| w.write_binary_double(s));
        }
    });
    res
}

/// Reads a score written by `rdbSaveDoubleValue` (RDB_TYPE_ZSET): a length byte, with 253 =
/// NaN, 254 = +inf and 255 = -inf, else that many ASCII bytes.
fn read_string_double(r: &mut RdbReader<'_>) -> Result<f64, RdbError> {
    let at = r.position();
    let n = r.read_u8()?;
    match n {
        253 => Ok(f64::NAN),
        254 => Ok(f64::INFINITY),
        255 => Ok(f64::NEG_INFINITY),
        n => {
            let b = r.read_bytes(n as u64)?;
            std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| r.error_at(at, RdbErrorKind::Invalid("bad zset score")))
        }
    }
}

/// Reads the payload of a zset object of type `ty` (its type byte already read).
pub fn read(r: &mut RdbReader<'_>, ty: u8) -> Result<ZSet, RdbError> {
    let limits = EncodingLimits::default();
    let at = r.position();
    match ty {
        object_type::ZSET_LISTPACK => {
            let bytes = r.read_string_bytes()?.into_owned();
            let lp = Listpack::from_bytes(bytes)
                .map_err(|_| r.error_at(at, RdbErrorKind::Invalid("bad zset listpack")))?;
            let mut z =
                ZSet::from_listpack(lp).map_err(|e| r.error_at(at, RdbErrorKind::Invalid(e)))?;
            if z.is_empty() {
                return Err(r.error_at(at, RdbErrorKind::EmptyKey));
            }
            if z.len() > limits.zset_max_listpack_entries {
                z.convert_to_skiplist();
            }
            Ok(z)
        }
        object_type::ZSET | object_type::ZSET_2 => {
            let n = r.read_count(2)?;
            if n == 0 {
                return Err(r.error_at(at, RdbErrorKind::EmptyKey));
            }
            let mut z = ZSet::new_skiplist();
            for _ in 0..n {
                let m = r.read_string_bytes()?;
                let s = if ty == object_type::ZSET_2 {
                    let b = r.read_bytes(8)?;
                    f64::from_le_bytes(b.try_into().expect("8 bytes"))
                } else {
                    read_string_double(r)?
                };
                if s.is_nan() {
                    return Err(r.error_at(at, RdbErrorKind::Invalid("zset score is NaN")));
                }
                if z.insert(&m, s, &limits).is_some() {
                    return Err(r.error_at(at, RdbErrorKind::Invalid("duplicate zset member")));
                }
            }
            z.shrink_if_fits(&limits);
            Ok(z)
        }
        object_type::ZSET_ZIPLIST => {
            let (blob, base) = r.read_blob()?;
            let mut lp = Listpack::new();
            for e in decode_ziplist(&blob, base)? {
                match e {
                    ZlEntry::Str(s) => lp.push_back(s),
                    ZlEntry::Int(v) => lp.push_back_int(v),
                }
            }
            let mut z =
                ZSet::from_listpack(lp).map_err(|e| r.error_at(at, RdbErrorKind::Invalid(e)))?;
            if z.is_empty() {
                return Err(r.error_at(at, RdbErrorKind::EmptyKey));
            }
            if z.len() > limits.zset_max_listpack_entries {
                z.convert_to_skiplist();
            }
            Ok(z)
        }
        _ => Err(r.error_at(at, RdbErrorKind::UnsupportedType(ty))),
    }
}
