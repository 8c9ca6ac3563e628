//! DUMP and RESTORE payloads.
//!
//! A payload is the object's RDB type byte and serialized form, then a 10-byte footer: the
//! RDB version as 2 bytes little-endian and the CRC-64 of everything before the CRC (body and
//! version), 8 bytes little-endian.
//!
//! [`dump`] writes version 10, what Redis 7.0 writes and the highest it accepts (Redis 7.2
//! writes 11, 7.4 writes 12). [`restore`] accepts versions up to 12 and, like Redis, always
//! checks the CRC (a zero CRC is not special in DUMP payloads, unlike RDB files). Unlike
//! Redis, it also requires the object to end exactly where the footer starts: Redis lets the
//! object's reads run into the footer and ignores bytes left before it, which no payload that
//! DUMP produced can need.

use tern_keyspace::value::Value;
use thiserror::Error;

use crate::crc64::crc64;
use crate::rdb::{object, RdbError, RdbErrorKind, RdbReader, RdbWriter, RDB_VERSION_7_0};

/// The RDB version [`dump`] writes into the footer.
pub const DUMP_RDB_VERSION: u16 = RDB_VERSION_7_0;

/// The highest footer RDB version [`restore`] accepts (Redis 7.4's).
pub const MAX_RESTORE_RDB_VERSION: u16 = 12;

/// Length of the footer: 2 bytes of version, 8 of CRC-64.
pub const FOOTER_LEN: usize = 10;

/// Redis's reply to RESTORE when the footer is missing or wrong.
pub const BAD_FOOTER_MESSAGE: &str = "ERR DUMP payload version or checksum are wrong";

/// Redis's reply to RESTORE when the footer is right but the object cannot be decoded.
pub const BAD_DATA_MESSAGE: &str = "ERR Bad data format";

/// Why a payload was refused. `Display` gives Redis's exact RESTORE error reply (without the
/// leading `-`): [`BAD_FOOTER_MESSAGE`] for the first three variants, [`BAD_DATA_MESSAGE`]
/// for the others.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DumpError {
    /// Shorter than the 10-byte footer.
    #[error("{}", BAD_FOOTER_MESSAGE)]
    TooShort,
    /// The footer's RDB version is newer than [`MAX_RESTORE_RDB_VERSION`].
    #[error("{}", BAD_FOOTER_MESSAGE)]
    BadVersion(u16),
    /// The footer's CRC-64 does not match the payload.
    #[error("{}", BAD_FOOTER_MESSAGE)]
    BadChecksum {
        /// The CRC stored in the footer.
        stored: u64,
        /// The CRC of the payload.
        computed: u64,
    },
    /// The object is malformed (offsets are from the start of the payload).
    #[error("{}", BAD_DATA_MESSAGE)]
    BadData(RdbError),
    /// A valid object type this implementation cannot restore yet.
    #[error("{}", BAD_DATA_MESSAGE)]
    Unsupported {
        /// The payload's object type byte.
        object_type: u8,
    },
}

impl DumpError {
    /// True when the footer (length, version or checksum) was at fault.
    pub fn is_footer_error(&self) -> bool {
        matches!(
            self,
            DumpError::TooShort | DumpError::BadVersion(_) | DumpError::BadChecksum { .. }
        )
    }
}

/// Serializes `value` as Redis's DUMP does with `rdbcompression yes` (the default).
pub fn dump(value: &Value) -> Vec<u8> {
    dump_with(value, true)
}

/// Serializes `value` as Redis's DUMP does, compressing long strings only if `compress`
/// (Redis's `rdbcompression` setting).
pub fn dump_with(value: &Value, compress: bool) -> Vec<u8> {
    let mut w = RdbWriter::with_compression(Vec::new(), compress);
    object::write_typed_object(&mut w, value).expect("writing to a Vec cannot fail");
    let mut out = w.into_inner();
    out.extend_from_slice(&DUMP_RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks a payload's footer and returns its RDB version and body (type byte and object).
pub fn verify_payload(payload: &[u8]) -> Result<(u16, &[u8]), DumpError> {
    if payload.len() < FOOTER_LEN {
        return Err(DumpError::TooShort);
    }
    let body_len = payload.len() - FOOTER_LEN;
    let version = u16::from_le_bytes([payload[body_len], payload[body_len + 1]]);
    if version > MAX_RESTORE_RDB_VERSION {
        return Err(DumpError::BadVersion(version));
    }
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&payload[body_len + 2..]);
    let stored = u64::from_le_bytes(stored);
    let computed = crc64(&payload[..body_len + 2]);
    if stored != computed {
        return Err(DumpError::BadChecksum { stored, computed });
    }
    Ok((version, &payload[..body_len]))
}

/// Decodes a DUMP payload back into a value, as RESTORE does: footer first, then the object.
/// A restored string gets the encoding `Str::from_bytes` gives it.
pub fn restore(payload: &[u8]) -> Result<Value, DumpError> {
    let (_version, body) = verify_payload(payload)?;
    let mut r = RdbReader::new(body);
    let value = object::read_typed_object(&mut r).map_err(|e| match e.kind {
        RdbErrorKind::UnsupportedType(t) => DumpError::Unsupported { object_type: t },
        _ => DumpError::BadData(e),
    })?;
    r.expect_end().map_err(DumpError::BadData)?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_keyspace::value::Str;

    fn s(b: &[u8]) -> Value {
        Value::Str(Str::from_bytes(b))
    }

    fn with_footer(body: &[u8], version: u16) -> Vec<u8> {
        let mut p = body.to_vec();
        p.extend_from_slice(&version.to_le_bytes());
        let crc = crc64(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    }

    #[test]
    fn known_payload_from_redis_7_0() {
        // DUMP of "hello" from redis-server 7.0.15.
        let p = b"\x00\x05hello\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a";
        assert_eq!(dump(&s(b"hello")), p);
        assert_eq!(restore(p).unwrap(), s(b"hello"));
    }

    #[test]
    fn round_trips() {
        for v in [
            s(b""),
            s(b"0"),
            s(b"-1"),
            s(b"2147483648"),
            s(b"-9223372036854775808"),
            s(b"hello"),
            s(&[b'x'; 45]),
            s(&b"abcdefghij".repeat(50)),
            Value::Str(Str::raw(tern_keyspace::value::SmallBytes::new(b"12"))),
        ] {
            let p = dump(&v);
            let back = restore(&p).unwrap();
            let Value::Str(orig) = &v else { unreachable!() };
            let Value::Str(got) = &back else {
                panic!("not a string")
            };
            assert_eq!(orig.to_vec(), got.to_vec());
            assert_eq!(got, &Str::from_bytes(&orig.to_vec()));
            assert_eq!(restore(&dump_with(&v, false)).unwrap(), back);
        }
    }

    #[test]
    fn footer_errors() {
        let good = dump(&s(b"hello"));
        for bad in [&b""[..], b"123", &good[..9]] {
            assert_eq!(restore(bad), Err(DumpError::TooShort));
        }
        let mut bad_crc = good.clone();
        *bad_crc.last_mut().unwrap() ^= 1;
        assert!(matches!(
            restore(&bad_crc),
            Err(DumpError::BadChecksum { .. })
        ));
        let mut zero_crc = good.clone();
        let n = zero_crc.len();
        zero_crc[n - 8..].fill(0);
        assert!(matches!(
            restore(&zero_crc),
            Err(DumpError::BadChecksum { stored: 0, .. })
        ));
        let mut flipped = good.clone();
        flipped[3] ^= 0x20;
        assert!(matches!(
            restore(&flipped),
            Err(DumpError::BadChecksum { .. })
        ));
        assert_eq!(
            restore(&with_footer(b"\x00\x05hello", 13)),
            Err(DumpError::BadVersion(13))
        );
        for v in [0, 9, 10, 11, 12] {
            assert_eq!(restore(&with_footer(b"\x00\x05hello", v)), Ok(s(b"hello")));
        }
        let mut appended = good.clone();
        appended.push(b'x');
        assert_eq!(
            restore(&appended).unwrap_err().to_string(),
            BAD_FOOTER_MESSAGE
        );
        for e in [DumpError::TooShort, DumpError::BadVersion(13)] {
            assert_eq!(
                e.to_string(),
                "ERR DUMP payload version or checksum are wrong"
            );
            assert!(e.is_footer_error());
        }
    }

    #[test]
    fn body_errors() {
        let data_err = |body: &[u8]| {
            let e = restore(&with_footer(body, 10)).unwrap_err();
            assert_eq!(e.to_string(), "ERR Bad data format", "{body:?}");
            assert!(!e.is_footer_error());
            e
        };
        // Empty body, truncated string, trailing bytes after the object.
        let DumpError::BadData(e) = data_err(b"") else {
            panic!()
        };
        assert_eq!(e.offset, 0);
        let DumpError::BadData(e) = data_err(b"\x00\x05hel") else {
            panic!()
        };
        assert_eq!(
            e,
            RdbError {
                offset: 1,
                kind: RdbErrorKind::UnexpectedEof {
                    needed: 5,
                    available: 3
                }
            }
        );
        let DumpError::BadData(e) = data_err(b"\x00\x05helloXYZ") else {
            panic!()
        };
        assert_eq!(
            e,
            RdbError {
                offset: 7,
                kind: RdbErrorKind::TrailingBytes(3)
            }
        );
        // Unknown type bytes, bad encodings, bad LZF, absurd lengths.
        assert!(matches!(data_err(b"\x08\x05hello"), DumpError::BadData(_)));
        assert!(matches!(data_err(b"\x1e\x05hello"), DumpError::BadData(_)));
        data_err(b"\x00\x85");
        data_err(b"\x00\xc5");
        data_err(b"\x00\xc3\x02\x05\x00a");
        data_err(b"\x00\xc3\x02\x00\x00a");
        data_err(b"\x00\x81\xff\xff\xff\xff\xff\xff\xff\xff");
        data_err(b"\x00\xc3\x02\x81\xff\xff\xff\xff\xff\xff\xff\xff\x00a");
        // Known types that are not supported (streams, modules).
        assert_eq!(
            data_err(b"\x0f\x01\x01a"),
            DumpError::Unsupported { object_type: 15 }
        );
        assert_eq!(
            data_err(b"\x07\x01\x01a"),
            DumpError::Unsupported { object_type: 7 }
        );
        // The old list type (1) loads, as Redis 7.0's RESTORE loads it; empty it is bad data.
        let Value::List(l) = restore(&with_footer(b"\x01\x01\x01a", 10)).unwrap() else {
            panic!("not a list")
        };
        assert_eq!(l.iter().map(|v| v.to_vec()).collect::<Vec<_>>(), [b"a"]);
        data_err(b"\x01\x00");
        assert_eq!(
            data_err(b"\x15\x00"),
            DumpError::Unsupported { object_type: 21 }
        );
    }

    proptest::proptest! {
        #[test]
        fn hostile_payloads_never_panic(
            ty in 0u8..4,
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            version in 0u16..14,
        ) {
            let mut b = vec![ty];
            b.extend_from_slice(&body);
            let _ = restore(&with_footer(&b, version));
            let _ = restore(&body);
        }
    }
}
