//! Tests of the RDB primitives: lengths, string encodings, reader errors.

use super::*;
use proptest::prelude::*;

fn len_bytes(len: u64) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new());
    w.write_len(len).unwrap();
    w.into_inner()
}

fn string_bytes(s: &[u8], compress: bool) -> Vec<u8> {
    let mut w = RdbWriter::with_compression(Vec::new(), compress);
    w.write_string(s).unwrap();
    w.into_inner()
}

/// Deterministic incompressible bytes (xorshift64).
fn noise(n: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn length_encoding_at_boundaries() {
    let cases: &[(u64, &[u8])] = &[
        (0, &[0x00]),
        (1, &[0x01]),
        (63, &[0x3f]),
        (64, &[0x40, 0x40]),
        (300, &[0x41, 0x2c]),
        (16383, &[0x7f, 0xff]),
        (16384, &[0x80, 0x00, 0x00, 0x40, 0x00]),
        (u32::MAX as u64, &[0x80, 0xff, 0xff, 0xff, 0xff]),
        (1 << 32, &[0x81, 0, 0, 0, 1, 0, 0, 0, 0]),
        (
            u64::MAX,
            &[0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
    ];
    for &(len, bytes) in cases {
        assert_eq!(len_bytes(len), bytes, "encoding {len}");
        let mut r = RdbReader::new(bytes);
        assert_eq!(r.read_len().unwrap(), len, "decoding {len}");
        assert!(r.is_at_end());
    }
}

#[test]
fn non_minimal_lengths_are_accepted() {
    // Redis does not insist on the shortest form when reading.
    assert_eq!(RdbReader::new(&[0x40, 0x05]).read_len().unwrap(), 5);
    assert_eq!(RdbReader::new(&[0x80, 0, 0, 0, 5]).read_len().unwrap(), 5);
    assert_eq!(
        RdbReader::new(&[0x81, 0, 0, 0, 0, 0, 0, 0, 5])
            .read_len()
            .unwrap(),
        5
    );
}

#[test]
fn length_errors_name_their_offset() {
    for b in 0x82..=0xbfu8 {
        let input = [0x00, b, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut r = RdbReader::new(&input);
        r.read_len().unwrap();
        assert_eq!(
            r.read_len(),
            Err(RdbError {
                offset: 1,
                kind: RdbErrorKind::BadLengthEncoding(b)
            })
        );
    }
    let mut r = RdbReader::new(&[0x05, 0x80, 0x00, 0x01]);
    r.read_len().unwrap();
    assert_eq!(
        r.read_len(),
        Err(RdbError {
            offset: 1,
            kind: RdbErrorKind::UnexpectedEof {
                needed: 4,
                available: 2
            }
        })
    );
    assert_eq!(
        RdbReader::new(&[0x41]).read_len(),
        Err(RdbError {
            offset: 0,
            kind: RdbErrorKind::UnexpectedEof {
                needed: 1,
                available: 0
            }
        })
    );
    assert_eq!(
        RdbReader::new(&[0xc0, 0x01]).read_len(),
        Err(RdbError {
            offset: 0,
            kind: RdbErrorKind::UnexpectedEncoding(ENC_INT8)
        })
    );
    assert_eq!(
        RdbReader::new(&[]).read_len(),
        Err(RdbError {
            offset: 0,
            kind: RdbErrorKind::UnexpectedEof {
                needed: 1,
                available: 0
            }
        })
    );
}

#[test]
fn integer_string_encodings_at_boundaries() {
    let cases: &[(&str, &[u8])] = &[
        ("0", &[0xc0, 0x00]),
        ("1", &[0xc0, 0x01]),
        ("-1", &[0xc0, 0xff]),
        ("127", &[0xc0, 0x7f]),
        ("-128", &[0xc0, 0x80]),
        ("128", &[0xc1, 0x80, 0x00]),
        ("-129", &[0xc1, 0x7f, 0xff]),
        ("32767", &[0xc1, 0xff, 0x7f]),
        ("-32768", &[0xc1, 0x00, 0x80]),
        ("32768", &[0xc2, 0x00, 0x80, 0x00, 0x00]),
        ("-32769", &[0xc2, 0xff, 0x7f, 0xff, 0xff]),
        ("2147483647", &[0xc2, 0xff, 0xff, 0xff, 0x7f]),
        ("-2147483648", &[0xc2, 0x00, 0x00, 0x00, 0x80]),
        ("2147483648", b"\x0a2147483648"),
        ("-2147483649", b"\x0b-2147483649"),
        ("1099511627776", b"\x0d1099511627776"),
        ("-9223372036854775808", b"\x14-9223372036854775808"),
        // Not canonical: stored as plain strings.
        ("007", b"\x03007"),
        ("-0", b"\x02-0"),
        ("+1", b"\x02+1"),
        (" 1", b"\x02 1"),
        ("1 ", b"\x021 "),
        ("", b"\x00"),
    ];
    for &(s, bytes) in cases {
        assert_eq!(string_bytes(s.as_bytes(), true), bytes, "writing {s:?}");
        let mut r = RdbReader::new(bytes);
        assert_eq!(
            r.read_string_bytes().unwrap().as_ref(),
            s.as_bytes(),
            "reading {s:?}"
        );
        assert!(r.is_at_end());
        // The same value held as an integer writes identically.
        if let Some(v) = tern_keyspace::value::parse_canonical_i64(s.as_bytes()) {
            let mut w = RdbWriter::new(Vec::new());
            w.write_int_string(v).unwrap();
            assert_eq!(w.into_inner(), bytes, "writing int {v}");
        }
    }
}

#[test]
fn integer_encodings_read_back_as_integers() {
    assert_eq!(
        RdbReader::new(&[0xc0, 0x80]).read_string().unwrap(),
        RdbString::Int(-128)
    );
    assert_eq!(
        RdbReader::new(&[0xc1, 0x00, 0x80]).read_string().unwrap(),
        RdbString::Int(-32768)
    );
    assert_eq!(
        RdbReader::new(&[0xc2, 0xff, 0xff, 0xff, 0x7f])
            .read_string()
            .unwrap(),
        RdbString::Int(i32::MAX as i64)
    );
}

#[test]
fn lzf_used_only_when_long_and_worthwhile() {
    // 20 bytes: never compressed; 21: compressed.
    let twenty = [b'a'; 20];
    assert_eq!(string_bytes(&twenty, true)[0], 20);
    let long = [b'a'; 21];
    let enc = string_bytes(&long, true);
    assert_eq!(enc, [0xc3, 0x06, 0x15, 0x01, b'a', b'a', 0xe0, 0x0a, 0x00]);
    assert_eq!(
        RdbReader::new(&enc).read_string_bytes().unwrap().as_ref(),
        &long
    );
    // Compression off: plain.
    assert_eq!(string_bytes(&long, false)[0], 21);
    // Incompressible: plain even when long.
    let noise = noise(100);
    let enc = string_bytes(&noise, true);
    assert_eq!(enc[..2], [0x40, 100]);
    assert_eq!(&enc[2..], &noise[..]);
    // A long, compressible string: LZF with both lengths, decoding back.
    let text = b"0123456789".repeat(100);
    let enc = string_bytes(&text, true);
    assert_eq!(enc[0], 0xc3);
    let mut r = RdbReader::new(&enc);
    assert_eq!(r.read_string_bytes().unwrap().as_ref(), &text[..]);
    assert!(r.is_at_end());
    assert!(enc.len() < 40, "{}", enc.len());
}

#[test]
fn lzf_needs_four_bytes_of_savings() {
    // Find strings whose compressed form saves fewer than 4 bytes: they must be stored plain.
    let mut plain_seen = false;
    for n in 21..200usize {
        let s: Vec<u8> = (0..n)
            .map(|i| {
                if i % 7 == 0 {
                    b'x'
                } else {
                    (i * 37 % 251) as u8
                }
            })
            .collect();
        let full = crate::lzf::compress(&s, s.len() * 2);
        let enc = string_bytes(&s, true);
        match full {
            Some(c) if c.len() <= n - 4 => assert_eq!(enc[0], 0xc3, "n={n}"),
            _ => {
                plain_seen = true;
                assert_ne!(enc[0], 0xc3, "n={n}");
            }
        }
    }
    assert!(plain_seen);
}

#[test]
fn string_reader_errors() {
    // Unknown special encoding.
    assert_eq!(
        RdbReader::new(&[0xc4]).read_string(),
        Err(RdbError {
            offset: 0,
            kind: RdbErrorKind::UnknownStringEncoding(4)
        })
    );
    // Truncated integers and strings point at the start of the string.
    for bytes in [
        &[0xc0][..],
        &[0xc1, 0x00],
        &[0xc2, 0, 0, 0],
        &[0x05, b'a', b'b'],
    ] {
        let e = RdbReader::new(bytes).read_string().unwrap_err();
        assert_eq!(e.offset, 0, "{bytes:?}");
        assert!(
            matches!(e.kind, RdbErrorKind::UnexpectedEof { .. }),
            "{bytes:?}"
        );
    }
    // A 2^64-1 byte string in a 9-byte input: refused without allocating.
    let e = RdbReader::new(&[0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        .read_string()
        .unwrap_err();
    assert_eq!(e.offset, 0);
    // LZF claiming a huge plain length, or a compressed length past the end.
    let e = RdbReader::new(&[0xc3, 0x02, 0x80, 0x7f, 0xff, 0xff, 0xff, 0x00, b'a'])
        .read_string()
        .unwrap_err();
    assert!(
        matches!(e.kind, RdbErrorKind::Lzf(LzfError::ImpossibleLength { .. })),
        "{e}"
    );
    let e = RdbReader::new(&[0xc3, 0x09, 0x01, 0x00, b'a'])
        .read_string()
        .unwrap_err();
    assert!(
        matches!(
            e.kind,
            RdbErrorKind::UnexpectedEof {
                needed: 9,
                available: 2
            }
        ),
        "{e}"
    );
    // LZF decoding to a different length than announced.
    let e = RdbReader::new(&[0xc3, 0x02, 0x02, 0x00, b'a'])
        .read_string()
        .unwrap_err();
    assert_eq!(
        e,
        RdbError {
            offset: 0,
            kind: RdbErrorKind::Lzf(LzfError::LengthMismatch {
                expected: 2,
                actual: 1
            })
        }
    );
    assert!(e.to_string().contains("at byte offset 0"), "{e}");
}

#[test]
fn counts_are_capped_by_remaining_input() {
    let mut r = RdbReader::new(&[0x03, 1, 2, 3, 4, 5, 6]);
    assert_eq!(r.read_count(2).unwrap(), 3);
    let mut r = RdbReader::new(&[0x04, 1, 2, 3, 4, 5, 6]);
    assert_eq!(
        r.read_count(2),
        Err(RdbError {
            offset: 0,
            kind: RdbErrorKind::LengthTooLarge(4)
        })
    );
    let mut r = RdbReader::new(&[0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert!(r.read_count(1).is_err());
}

#[test]
fn fixed_width_values() {
    let mut w = RdbWriter::new(Vec::new());
    w.write_millis(1_700_000_000_123).unwrap();
    w.write_binary_double(1.5).unwrap();
    w.write_raw(&(-5i32).to_le_bytes()).unwrap();
    let buf = w.into_inner();
    let mut r = RdbReader::new(&buf);
    assert_eq!(r.read_millis().unwrap(), 1_700_000_000_123);
    assert_eq!(r.read_binary_double().unwrap(), 1.5);
    assert_eq!(r.read_seconds().unwrap(), -5);
    assert!(r.read_u8().is_err());
}

#[test]
fn object_type_tables() {
    use object_type::*;
    for t in [
        STRING,
        LIST,
        SET,
        ZSET,
        HASH,
        ZSET_2,
        MODULE_PRE_GA,
        MODULE_2,
    ] {
        assert!(is_object_type(t));
    }
    assert!(!is_object_type(8));
    assert!(is_object_type(STREAM_LISTPACKS_3));
    assert!(!is_object_type(22));
    assert_eq!(data_type(SET_LISTPACK), Some("set"));
    assert_eq!(data_type(LIST_QUICKLIST_2), Some("list"));
    assert_eq!(data_type(8), None);
    assert_eq!(opcode::EOF, 255);
    assert_eq!(opcode::FUNCTION2, 245);
}

proptest! {
    #[test]
    fn any_length_round_trips(len in any::<u64>()) {
        let b = len_bytes(len);
        let mut r = RdbReader::new(&b);
        prop_assert_eq!(r.read_len().unwrap(), len);
        prop_assert!(r.is_at_end());
    }

    #[test]
    fn any_string_round_trips(s in proptest::collection::vec(any::<u8>(), 0..400), compress: bool) {
        let b = string_bytes(&s, compress);
        let mut r = RdbReader::new(&b);
        let got = r.read_string_bytes().unwrap();
        prop_assert_eq!(got.as_ref(), &s[..]);
        prop_assert!(r.is_at_end());
    }

    #[test]
    fn repetitive_strings_round_trip(unit in proptest::collection::vec(any::<u8>(), 1..8), n in 1usize..200) {
        let s = unit.repeat(n);
        let b = string_bytes(&s, true);
        let mut r = RdbReader::new(&b);
        let got = r.read_string_bytes().unwrap();
        prop_assert_eq!(got.as_ref(), &s[..]);
    }

    #[test]
    fn hostile_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut r = RdbReader::new(&b);
        while r.read_string().is_ok() && !r.is_at_end() {}
        let mut r = RdbReader::new(&b);
        let _ = object::read_typed_object(&mut r);
        let mut r = RdbReader::new(&b);
        let _ = r.read_count(1);
    }
}
