//! RDB encoding of set values, as Redis 7.0's `rdbSaveObject` / `rdbLoadObject` do them:
//!
//! - an intset-encoded set is `RDB_TYPE_SET_INTSET` (11): the intset's bytes as one RDB string
//!   (LZF-compressed when long enough, as any string), so DUMP payloads are byte-identical;
//! - a hashtable set is `RDB_TYPE_SET` (2): the count, then each member as a string;
//! - `RDB_TYPE_SET_LISTPACK` (20, Redis 7.2) is accepted and converted, as Redis 7.0 has no
//!   listpack sets.
//!
//! Loading picks the encoding Redis 7.0 would: a type-2 set of at most `set-max-intset-entries`
//! canonical integers becomes an intset; an intset longer than that becomes a hashtable. The
//! reader has no access to the running configuration, so it uses Redis's default threshold.

use std::io::{self, Write};

use tern_keyspace::intset::Intset;
use tern_keyspace::{EncodingLimits, Listpack, Set};

use super::{object_type, RdbError, RdbErrorKind, RdbReader, RdbWriter};

/// The RDB object type byte Redis writes for `v` in its current encoding.
pub fn type_of(v: &Set) -> u8 {
    if v.is_intset() {
        object_type::SET_INTSET
    } else {
        object_type::SET
    }
}

/// Writes `v`'s payload (without the type byte).
pub fn write<W: Write>(w: &mut RdbWriter<W>, v: &Set) -> io::Result<()> {
    if let Some(is) = v.as_intset() {
        return w.write_string(is.as_bytes());
    }
    w.write_len(v.len() as u64)?;
    let mut res = Ok(());
    v.for_each(|m| {
        if res.is_ok() {
            res = w.write_string(m);
        }
    });
    res
}

fn max_intset() -> usize {
    EncodingLimits::default().set_max_intset_entries
}

/// Reads the payload of a set object of type `ty` (its type byte already read).
pub fn read(r: &mut RdbReader<'_>, ty: u8) -> Result<Set, RdbError> {
    let at = r.position();
    let invalid = |r: &RdbReader<'_>, what| r.error_at(at, RdbErrorKind::Invalid(what));
    let max = max_intset();
    match ty {
        object_type::SET => {
            // Each member takes at least one byte (its length).
            let n = r.read_count(1)?;
            if n == 0 {
                return Err(r.error_at(at, RdbErrorKind::EmptyKey));
            }
            let mut s = if n > max {
                Set::new_hashtable()
            } else {
                Set::new_intset()
            };
            for _ in 0..n {
                let m = r.read_string_bytes()?;
                // The count is within the threshold here when the set is still an intset.
                if !s.insert(&m, usize::MAX) {
                    return Err(invalid(r, "duplicate set member"));
                }
            }
            Ok(s)
        }
        object_type::SET_INTSET => {
            let b = r.read_string_bytes()?;
            let is = Intset::from_bytes(&b).ok_or_else(|| invalid(r, "bad intset"))?;
            if is.is_empty() {
                return Err(r.error_at(at, RdbErrorKind::EmptyKey));
            }
            let mut s = Set::from_intset(is);
            if s.len() > max {
                s.convert_to_hashtable();
            }
            Ok(s)
        }
        object_type::SET_LISTPACK => {
            let b = r.read_string_bytes()?;
            let lp =
                Listpack::from_bytes(b.into_owned()).map_err(|_| invalid(r, "bad listpack"))?;
            if lp.is_empty() {
                return Err(r.error_at(at, RdbErrorKind::EmptyKey));
            }
            let mut s = Set::new_intset();
            for v in lp.iter() {
                if !v.with_bytes(|m| s.insert(m, max)) {
                    return Err(invalid(r, "duplicate set member"));
                }
            }
            Ok(s)
        }
        _ => Err(r.error_at(at, RdbErrorKind::UnsupportedType(ty))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &Set) -> (Vec<u8>, Set) {
        let mut w = RdbWriter::new(Vec::new());
        write(&mut w, s).unwrap();
        let bytes = w.into_inner();
        let mut r = RdbReader::new(&bytes);
        let back = read(&mut r, type_of(s)).unwrap();
        assert!(r.is_at_end());
        (bytes, back)
    }

    #[test]
    fn intsets_dump_as_their_bytes_and_round_trip() {
        let mut s = Set::new_intset();
        for m in [b"1".as_slice(), b"2", b"3"] {
            s.insert(m, 512);
        }
        assert_eq!(type_of(&s), object_type::SET_INTSET);
        let (bytes, back) = round_trip(&s);
        // Redis 7.0: DUMP of SADD k 1 2 3 starts with these bytes after the type byte.
        assert_eq!(
            bytes,
            [14, 2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 3, 0].to_vec()
        );
        assert_eq!(back, s);
    }

    #[test]
    fn hashtables_round_trip_and_small_integer_sets_load_as_intsets() {
        let mut s = Set::new_hashtable();
        for m in [
            b"a".as_slice(),
            b"12",
            b"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
        ] {
            s.insert(m, 512);
        }
        assert_eq!(type_of(&s), object_type::SET);
        let (_, back) = round_trip(&s);
        assert_eq!(back, s);

        let mut s = Set::new_hashtable();
        s.insert(b"7", 512);
        s.insert(b"-7", 512);
        let (_, back) = round_trip(&s);
        assert_eq!(back.encoding(), "intset");
        assert!(back.contains(b"-7") && back.contains(b"7"));
    }

    #[test]
    fn listpack_sets_from_redis_7_2_convert() {
        let mut lp = Listpack::new();
        lp.push_back(b"5");
        lp.push_back(b"6");
        let mut w = RdbWriter::new(Vec::new());
        w.write_string(lp.as_bytes()).unwrap();
        let bytes = w.into_inner();
        let s = read(&mut RdbReader::new(&bytes), object_type::SET_LISTPACK).unwrap();
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.len(), 2);
        lp.push_back(b"x");
        let mut w = RdbWriter::new(Vec::new());
        w.write_string(lp.as_bytes()).unwrap();
        let bytes = w.into_inner();
        let s = read(&mut RdbReader::new(&bytes), object_type::SET_LISTPACK).unwrap();
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn corrupt_payloads_are_errors() {
        // Duplicate members.
        let mut w = RdbWriter::new(Vec::new());
        w.write_len(2).unwrap();
        w.write_string(b"a").unwrap();
        w.write_string(b"a").unwrap();
        let bytes = w.into_inner();
        assert!(read(&mut RdbReader::new(&bytes), object_type::SET).is_err());
        // An intset with a bad width, and an empty one.
        for blob in [&[3u8, 0, 0, 0, 0, 0, 0, 0][..], &[2, 0, 0, 0, 0, 0, 0, 0]] {
            let mut w = RdbWriter::new(Vec::new());
            w.write_string(blob).unwrap();
            let bytes = w.into_inner();
            assert!(read(&mut RdbReader::new(&bytes), object_type::SET_INTSET).is_err());
        }
        // A count larger than the input.
        let bytes = [0x40, 0xff];
        assert!(read(&mut RdbReader::new(&bytes), object_type::SET).is_err());
    }
}
