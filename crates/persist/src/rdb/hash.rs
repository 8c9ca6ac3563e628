//! RDB encoding of hash values, as Redis 7.0's `rdbSaveObject`/`rdbLoadObject` do:
//!
//! - a listpack-encoded hash is `RDB_TYPE_HASH_LISTPACK` (16): the listpack's bytes as one RDB
//!   string (LZF-compressed when that pays), so DUMP payloads are byte-identical to Redis's;
//! - a hashtable-encoded hash is `RDB_TYPE_HASH` (4): the field count, then field and value
//!   strings in table order (which differs from Redis's, as the tables' hash functions do).
//!
//! Loading checks what Redis checks: no empty hash, no duplicate field, a well-formed listpack
//! with an even number of entries. `RDB_TYPE_HASH` payloads load as a listpack when they fit
//! Redis's default thresholds (512 fields, 64-byte fields and values), as a hashtable
//! otherwise; a listpack payload with more than 512 fields converts to a hashtable.
//!
//! The encodings of old files convert as Redis 7.0 converts them: a ziplist hash
//! (`RDB_TYPE_HASH_ZIPLIST`, 13, Redis 2.6 to 6.2) becomes a listpack with the same entries,
//! then a hashtable if it has more than 512 fields; a zipmap hash (`RDB_TYPE_HASH_ZIPMAP`, 9,
//! Redis < 2.6) becomes a listpack, then a hashtable if it has more than 512 fields or a field
//! or value longer than 64 bytes. Both refuse duplicate fields. An empty hash is
//! [`RdbErrorKind::EmptyKey`] (a file loader skips the key).

use std::collections::HashSet;
use std::io::{self, Write};

use tern_keyspace::{EncodingLimits, Hash, Listpack};

use super::ziplist::{decode_ziplist, decode_zipmap, ZlEntry};
use super::{object_type, RdbError, RdbErrorKind, RdbReader, RdbWriter};

/// The RDB object type byte Redis writes for `v` in its current encoding.
pub fn type_of(v: &Hash) -> u8 {
    if v.as_listpack().is_some() {
        object_type::HASH_LISTPACK
    } else {
        object_type::HASH
    }
}

/// Writes `v`'s payload (without the type byte).
pub fn write<W: Write>(w: &mut RdbWriter<W>, v: &Hash) -> io::Result<()> {
    if let Some(lp) = v.as_listpack() {
        return w.write_string(lp.as_bytes());
    }
    w.write_len(v.len() as u64)?;
    let mut res = Ok(());
    v.for_each(|f, val| {
        if res.is_ok() {
            res = f
                .with_bytes(|b| w.write_string(b))
                .and_then(|_| val.with_bytes(|b| w.write_string(b)));
        }
    });
    res
}

/// Reads the payload of a hash object of type `ty` (its type byte already read).
pub fn read(r: &mut RdbReader<'_>, ty: u8) -> Result<Hash, RdbError> {
    let limits = EncodingLimits::default();
    let at = r.position();
    let invalid = |r: &RdbReader<'_>, what| r.error_at(at, RdbErrorKind::Invalid(what));
    match ty {
        object_type::HASH_LISTPACK => {
            let bytes = r.read_string_bytes()?.into_owned();
            let lp = Listpack::from_bytes(bytes).map_err(|e| invalid(r, e.0))?;
            if lp.is_empty() {
                return Err(r.error_at(at, RdbErrorKind::EmptyKey));
            }
            if lp.len() % 2 != 0 {
                return Err(invalid(r, "odd number of hash listpack entries"));
            }
            let mut fields = HashSet::with_capacity(lp.len() / 2);
            let mut it = lp.iter();
            while let (Some(f), Some(_)) = (it.next(), it.next()) {
                if !fields.insert(f.to_vec()) {
                    return Err(invalid(r, "duplicate hash field"));
                }
            }
            let mut h = Hash::from_listpack(lp);
            if h.len() > limits.hash_max_listpack_entries {
                h.convert_to_table();
            }
            Ok(h)
        }
        object_type::HASH => {
            let n = r.read_count(2)?;
            if n == 0 {
                return Err(r.error_at(at, RdbErrorKind::EmptyKey));
            }
            let mut h = if n > limits.hash_max_listpack_entries {
                Hash::new_table()
            } else {
                Hash::new()
            };
            for _ in 0..n {
                let f = r.read_string_bytes()?;
                let v = r.read_string_bytes()?;
                if !h.set(&f, &v, &limits) {
                    return Err(invalid(r, "duplicate hash field"));
                }
            }
            Ok(h)
        }
        object_type::HASH_ZIPLIST => {
            let (blob, base) = r.read_blob()?;
            let entries = decode_ziplist(&blob, base)?;
            if entries.is_empty() {
                return Err(r.error_at(at, RdbErrorKind::EmptyKey));
            }
            if entries.len() % 2 != 0 {
                return Err(invalid(r, "odd number of hash ziplist entries"));
            }
            let mut fields = HashSet::with_capacity(entries.len() / 2);
            let mut lp = Listpack::new();
            for (i, e) in entries.iter().enumerate() {
                if i % 2 == 0 && !fields.insert(e.to_vec()) {
                    return Err(invalid(r, "duplicate hash field"));
                }
                match *e {
                    ZlEntry::Str(s) => lp.push_back(s),
                    ZlEntry::Int(v) => lp.push_back_int(v),
                }
            }
            let mut h = Hash::from_listpack(lp);
            if h.len() > limits.hash_max_listpack_entries {
                h.convert_to_table();
            }
            Ok(h)
        }
        object_type::HASH_ZIPMAP => {
            let (blob, base) = r.read_blob()?;
            let pairs = decode_zipmap(&blob, base)?;
            if pairs.is_empty() {
                return Err(r.error_at(at, RdbErrorKind::EmptyKey));
            }
            let mut fields = HashSet::with_capacity(pairs.len());
            let mut lp = Listpack::new();
            let mut maxlen = 0;
            for (f, v) in pairs {
                if !fields.insert(f) {
                    return Err(invalid(r, "duplicate hash field"));
                }
                maxlen = maxlen.max(f.len()).max(v.len());
                lp.push_back(f);
                lp.push_back(v);
            }
            let mut h = Hash::from_listpack(lp);
            if h.len() > limits.hash_max_listpack_entries || maxlen > limits.hash_max_listpack_value
            {
                h.convert_to_table();
            }
            Ok(h)
        }
        _ => Err(r.error_at(at, RdbErrorKind::UnsupportedType(ty))),
    }
}
