//! Tests of the ziplist and zipmap decoders, and builders of both formats (as Redis 6.2 and
//! 2.4 wrote them) that the other RDB tests use to make old-format payloads.

use super::*;
use super::{encode_ziplist as build_ziplist, encode_zipmap as build_zipmap};
use proptest::prelude::*;

#[test]
fn ziplist_with_every_encoding_decodes() {
    let long = vec![b'x'; 300];
    let huge = vec![b'y'; 17000];
    let entries = [
        ZlEntry::Str(b""),
        ZlEntry::Str(b"hello"),
        ZlEntry::Str(&long),
        ZlEntry::Str(&huge),
        ZlEntry::Int(0),
        ZlEntry::Int(12),
        ZlEntry::Int(13),
        ZlEntry::Int(-1),
        ZlEntry::Int(-128),
        ZlEntry::Int(1000),
        ZlEntry::Int(-32768),
        ZlEntry::Int(8_000_000),
        ZlEntry::Int(-8_388_608),
        ZlEntry::Int(2_000_000_000),
        ZlEntry::Int(i64::MIN),
        ZlEntry::Int(i64::MAX),
    ];
    let zl = build_ziplist(&entries);
    assert_eq!(decode_ziplist(&zl, 0).unwrap(), entries);
    // An unknown count (65535) is walked.
    let mut unknown = zl.clone();
    unknown[8..10].copy_from_slice(&[0xff, 0xff]);
    assert_eq!(decode_ziplist(&unknown, 0).unwrap(), entries);
    // An empty ziplist is valid (the callers refuse empty keys).
    assert_eq!(decode_ziplist(&build_ziplist(&[]), 0).unwrap(), vec![]);
}

#[test]
fn ziplist_bytes_as_redis_writes_them() {
    // The entries a, 1, 300 assembled by hand from ziplist.c's layout (the integration tests
    // check such payloads against redis-server 7.0 through RESTORE).
    let zl: &[u8] =
        b"\x14\x00\x00\x00\x0f\x00\x00\x00\x03\x00\x00\x01a\x03\xf2\x02\xc0\x2c\x01\xff";
    assert_eq!(
        decode_ziplist(zl, 0).unwrap(),
        [ZlEntry::Str(b"a"), ZlEntry::Int(1), ZlEntry::Int(300)]
    );
    assert_eq!(
        build_ziplist(&[ZlEntry::Str(b"a"), ZlEntry::Int(1), ZlEntry::Int(300)]),
        zl
    );
}

#[test]
fn corrupt_ziplists_are_errors_with_offsets() {
    let good = build_ziplist(&[ZlEntry::Str(b"abc"), ZlEntry::Int(7)]);
    let check = |bytes: &[u8], offset: usize| {
        let e = decode_ziplist(bytes, 100).unwrap_err();
        assert!(matches!(e.kind, RdbErrorKind::Invalid(_)), "{e}");
        assert_eq!(e.offset, 100 + offset, "{e}");
    };
    // Wrong total size.
    let mut b = good.clone();
    b[0] += 1;
    check(&b, 0);
    // Missing end marker.
    let mut b = good.clone();
    *b.last_mut().unwrap() = 0;
    check(&b, good.len() - 1);
    // Wrong prevlen of the second entry (at offset 10 + 5).
    let mut b = good.clone();
    b[15] = 4;
    check(&b, 15);
    // Wrong tail.
    let mut b = good.clone();
    b[4] = 10;
    check(&b, 4);
    // Wrong count.
    let mut b = good.clone();
    b[8] = 3;
    check(&b, 8);
    // A string running past the end.
    let mut b = good.clone();
    b[11] = 30;
    check(&b, 10);
    // An unknown integer encoding.
    let mut b = good.clone();
    b[16] = 0xc4;
    check(&b, 15);
    // Too short for a header.
    check(&[1, 2, 3], 0);
}

#[test]
fn zipmaps_decode_as_redis_2_4_wrote_them() {
    // f1=v1, f2=v2 assembled by hand from zipmap.c's layout (checked against redis-server 7.0
    // through RESTORE in the integration tests).
    let zm: &[u8] = b"\x02\x02f1\x02\x00v1\x02f2\x02\x00v2\xff";
    assert_eq!(
        decode_zipmap(zm, 0).unwrap(),
        vec![(&b"f1"[..], &b"v1"[..]), (&b"f2"[..], &b"v2"[..])]
    );
    assert_eq!(build_zipmap(&[(b"f1", b"v1"), (b"f2", b"v2")], 0), zm);
    // Free bytes after values, long lengths and unknown counts.
    let long = vec![b'z'; 400];
    let pairs: Vec<(&[u8], &[u8])> = vec![(b"a", &long), (&long, b""), (b"c", b"d")];
    let zm = build_zipmap(&pairs, 3);
    assert_eq!(decode_zipmap(&zm, 0).unwrap(), pairs);
    let mut unknown = zm.clone();
    unknown[0] = 254;
    assert_eq!(decode_zipmap(&unknown, 0).unwrap(), pairs);
}

#[test]
fn corrupt_zipmaps_are_errors() {
    let good = build_zipmap(&[(b"f1", b"v1"), (b"f2", b"v2")], 1);
    for bad in [
        &b""[..],
        &good[..good.len() - 1],
        &[&good[..], b"x"].concat(),
        &[&[3u8][..], &good[1..]].concat(),
        b"\x01\x05ab\xff",
        b"\x01\x01a\x01\x09b\xff",
        b"\x01\x01a\xff",
    ] {
        let e = decode_zipmap(bad, 0).unwrap_err();
        assert!(matches!(e.kind, RdbErrorKind::Invalid(_)), "{bad:?}: {e}");
    }
}

proptest! {
    #[test]
    fn ziplists_round_trip(items in prop::collection::vec(
        prop_oneof![
            any::<i64>().prop_map(Err),
            prop::collection::vec(any::<u8>(), 0..100).prop_map(Ok),
        ],
        0..40,
    )) {
        let entries: Vec<ZlEntry<'_>> = items
            .iter()
            .map(|i| match i {
                Ok(s) => ZlEntry::Str(s),
                Err(v) => ZlEntry::Int(*v),
            })
            .collect();
        let zl = build_ziplist(&entries);
        prop_assert_eq!(decode_ziplist(&zl, 0).unwrap(), entries);
    }

    #[test]
    fn hostile_ziplists_and_zipmaps_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..200),
        flip in any::<(usize, u8)>(),
    ) {
        let _ = decode_ziplist(&body, 0);
        let _ = decode_zipmap(&body, 0);
        let mut zl = build_ziplist(&[ZlEntry::Str(b"abcdef"), ZlEntry::Int(-5000), ZlEntry::Int(3)]);
        let i = flip.0 % zl.len();
        zl[i] ^= flip.1;
        let _ = decode_ziplist(&zl, 0);
        let mut zm = build_zipmap(&[(b"abc", b"def"), (b"g", b"")], 2);
        let i = flip.0 % zm.len();
        zm[i] ^= flip.1;
        let _ = decode_zipmap(&zm, 0);
    }
}
