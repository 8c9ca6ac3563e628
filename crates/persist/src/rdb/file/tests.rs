//! Tests of whole-file writing and reading: round trips of every type and encoding with
//! their metadata, the old encodings inside files, truncation at every length, corruption,
//! and random values.

use super::*;
use crate::rdb::ziplist::ZlEntry;
use crate::rdb::ziplist::{
    encode_ziplist as build_ziplist, encode_zipmap as build_zipmap, ziplist_entries as zl_entries,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use tern_keyspace::value::Str;
use tern_keyspace::{EncodingLimits, Hash, List, Set, ZSet};

/// A value's contents, comparable regardless of encoding and internal order.
#[derive(Debug, PartialEq)]
enum Canon {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    ZSet(Vec<(Vec<u8>, u64)>),
}

fn canon(v: &Value) -> Canon {
    match v {
        Value::Str(s) => Canon::Str(s.to_vec()),
        Value::List(l) => Canon::List(l.iter().map(|e| e.to_vec()).collect()),
        Value::Hash(h) => {
            let mut m = BTreeMap::new();
            h.for_each(|f, v| {
                m.insert(f.to_vec(), v.to_vec());
            });
            Canon::Hash(m)
        }
        Value::Set(s) => {
            let mut m = BTreeSet::new();
            s.for_each(|e| {
                m.insert(e.to_vec());
            });
            Canon::Set(m)
        }
        Value::ZSet(z) => {
            let mut m = Vec::new();
            z.for_each(|e, s| m.push((e.to_vec(), s.to_bits())));
            Canon::ZSet(m)
        }
    }
}

fn limits() -> EncodingLimits {
    EncodingLimits::default()
}

fn string(b: &[u8]) -> Value {
    Value::Str(Str::from_bytes(b))
}

fn list(items: &[&[u8]]) -> Value {
    let mut l = List::new(-2);
    for i in items {
        l.push_back(i);
    }
    Value::List(l)
}

fn hash(pairs: &[(&[u8], &[u8])], table: bool) -> Value {
    let mut h = if table {
        Hash::new_table()
    } else {
        Hash::new()
    };
    for (f, v) in pairs {
        h.set(f, v, &limits());
    }
    Value::Hash(h)
}

fn set(members: &[&[u8]], hashtable: bool) -> Value {
    let mut s = if hashtable {
        Set::new_hashtable()
    } else {
        Set::new_intset()
    };
    for m in members {
        s.insert(m, 512);
    }
    Value::Set(s)
}

fn zset(pairs: &[(&[u8], f64)], skiplist: bool) -> Value {
    let mut z = if skiplist {
        ZSet::new_skiplist()
    } else {
        ZSet::new_listpack()
    };
    for (m, s) in pairs {
        z.insert(m, *s, &limits());
    }
    Value::ZSet(z)
}

fn owned(n: usize, prefix: &str) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("{prefix}{i}").into_bytes())
        .collect()
}

/// One value of every type in every encoding Tern writes, keyed by a descriptive name.
fn every_encoding() -> Vec<(&'static str, Value)> {
    let many = owned(1000, "element-");
    let many: Vec<&[u8]> = many.iter().map(|v| v.as_slice()).collect();
    let big_fields = owned(600, "f");
    let big_pairs: Vec<(&[u8], &[u8])> = big_fields
        .iter()
        .map(|f| (f.as_slice(), b"v".as_slice()))
        .collect();
    let ints = owned(600, "");
    let ints: Vec<&[u8]> = ints.iter().map(|v| v.as_slice()).collect();
    let zbig: Vec<(&[u8], f64)> = many.iter().map(|m| (*m, m.len() as f64 * 0.5)).collect();
    let long = b"0123456789".repeat(30);
    vec![
        ("str:int", string(b"12345")),
        ("str:bigint", string(b"-9223372036854775808")),
        ("str:embstr", string(b"hello world")),
        ("str:empty", string(b"")),
        ("str:raw-lzf", string(&long)),
        ("str:binary", string(&[0, 1, 2, 255, 254, b'\n'])),
        (
            "list:small",
            list(&[b"a", b"1", b"-300", b"x".repeat(100).as_slice()]),
        ),
        ("list:big", list(&many)),
        (
            "hash:listpack",
            hash(&[(b"f1", b"v1"), (b"n", b"17")], false),
        ),
        ("hash:long-value", hash(&[(b"f", long.as_slice())], false)),
        ("hash:table", hash(&big_pairs, true)),
        ("set:intset", set(&[b"1", b"-5", b"1000000000000"], false)),
        ("set:hashtable", set(&[b"a", b"b", b"12"], true)),
        ("set:big-intset", set(&ints, false)),
        (
            "zset:listpack",
            zset(&[(b"a", 1.0), (b"b", -2.5), (b"c", f64::INFINITY)], false),
        ),
        ("zset:skiplist", zset(&zbig, true)),
    ]
}

fn write_file(opts: FileOptions, keys: &[(&str, Value, KeyMeta)]) -> Vec<u8> {
    let mut w = RdbFileWriter::new(Vec::new(), opts).unwrap();
    w.standard_aux(&StandardAux {
        redis_ver: "7.0.15",
        redis_bits: 64,
        ctime: 1_700_000_000,
        used_mem: 1_234_567,
        repl: Some(ReplAux {
            stream_db: 0,
            repl_id: "0123456789abcdef0123456789abcdef01234567",
            repl_offset: 42,
        }),
        aof_base: false,
    })
    .unwrap();
    w.function(b"#!lua name=mylib\nredis.register_function('f', function() return 1 end)")
        .unwrap();
    let expires = keys.iter().filter(|k| k.2.expire_ms.is_some()).count() as u64;
    w.select_db(0, keys.len() as u64, expires).unwrap();
    for (k, v, m) in keys {
        w.key(k.as_bytes(), v, *m).unwrap();
    }
    w.select_db(3, 1, 0).unwrap();
    w.key(b"in-db-3", &string(b"x"), KeyMeta::default())
        .unwrap();
    w.finish().unwrap()
}

fn read_all(buf: &[u8]) -> Result<(Vec<RdbItem<'_>>, RdbFileReader<'_>), RdbError> {
    let mut r = RdbFileReader::new(buf)?;
    let mut items = Vec::new();
    while let Some(it) = r.next()? {
        items.push(it);
    }
    Ok((items, r))
}

fn metas() -> [KeyMeta; 4] {
    [
        KeyMeta::default(),
        KeyMeta {
            expire_ms: Some(1_893_456_000_123),
            ..KeyMeta::default()
        },
        KeyMeta {
            lru_idle_secs: Some(70_000),
            ..KeyMeta::default()
        },
        KeyMeta {
            expire_ms: Some(1),
            lru_idle_secs: None,
            lfu_freq: Some(255),
        },
    ]
}

#[test]
fn every_type_and_encoding_round_trips_with_metadata() {
    for opts in [
        FileOptions::default(),
        FileOptions {
            compress: false,
            ..FileOptions::default()
        },
        FileOptions {
            checksum: false,
            version: 11,
            ..FileOptions::default()
        },
    ] {
        let keys: Vec<(&str, Value, KeyMeta)> = every_encoding()
            .into_iter()
            .enumerate()
            .map(|(i, (k, v))| (k, v, metas()[i % 4]))
            .collect();
        let file = write_file(opts, &keys);
        assert_eq!(&file[..9], format!("REDIS{:04}", opts.version).as_bytes());
        let (items, mut r) = read_all(&file).unwrap();
        assert_eq!(r.version(), opts.version);
        assert_eq!(r.position(), file.len());
        if opts.checksum {
            let crc = crc64(&file[..file.len() - 8]);
            assert_eq!(r.checksum_status(), Some(ChecksumStatus::Verified(crc)));
        } else {
            assert_eq!(&file[file.len() - 8..], &[0; 8]);
            assert_eq!(r.checksum_status(), Some(ChecksumStatus::NotComputed));
        }
        let aux: Vec<(String, String)> = items
            .iter()
            .filter_map(|i| match i {
                RdbItem::Aux { key, value } => Some((
                    String::from_utf8_lossy(key).into_owned(),
                    String::from_utf8_lossy(value).into_owned(),
                )),
                _ => None,
            })
            .collect();
        let names: Vec<&str> = aux.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "redis-ver",
                "redis-bits",
                "ctime",
                "used-mem",
                "repl-stream-db",
                "repl-id",
                "repl-offset",
                "aof-base"
            ]
        );
        assert_eq!(aux[2].1, "1700000000");
        assert_eq!(aux[7].1, "0");
        assert!(matches!(&items[8], RdbItem::Function(code) if code.starts_with(b"#!lua")));
        assert_eq!(items[9], RdbItem::SelectDb(0));
        assert_eq!(
            items[10],
            RdbItem::ResizeDb {
                keys: keys.len() as u64,
                expires: 8
            }
        );
        for (i, (k, v, m)) in keys.iter().enumerate() {
            let RdbItem::Key { key, value, meta } = &items[11 + i] else {
                panic!("item {} is not a key: {:?}", 11 + i, items[11 + i]);
            };
            assert_eq!(key.as_ref(), k.as_bytes());
            assert_eq!(meta, m, "{k}");
            assert_eq!(canon(value), canon(v), "{k}");
            assert_eq!(value.encoding(), v.encoding(), "{k}");
        }
        let rest = &items[11 + keys.len()..];
        assert_eq!(rest[0], RdbItem::SelectDb(3));
        assert!(matches!(&rest[2], RdbItem::Key { key, .. } if key.as_ref() == b"in-db-3"));
        assert_eq!(rest.len(), 3);
        assert_eq!(r.next().unwrap(), None);
    }
}

#[test]
fn key_records_match_what_the_writer_writes() {
    for (i, (k, v)) in every_encoding().into_iter().enumerate() {
        for compress in [true, false] {
            let meta = metas()[i % 4];
            let mut rec = Vec::new();
            encode_key_record(&mut rec, k.as_bytes(), &v, meta, compress);
            let opts = FileOptions {
                compress,
                ..FileOptions::default()
            };
            let mut a = RdbFileWriter::new(Vec::new(), opts).unwrap();
            a.key(k.as_bytes(), &v, meta).unwrap();
            let mut b = RdbFileWriter::new(Vec::new(), opts).unwrap();
            b.raw(&rec).unwrap();
            assert_eq!(a.finish().unwrap(), b.finish().unwrap(), "{k}");
        }
    }
}

#[test]
fn known_bytes_of_a_small_file() {
    let mut w = RdbFileWriter::new(Vec::new(), FileOptions::default()).unwrap();
    w.aux_int(b"ctime", 5).unwrap();
    w.aux_int(b"used-mem", 4_000_000_000).unwrap();
    w.select_db(0, 1, 1).unwrap();
    w.key(
        b"k",
        &string(b"v"),
        KeyMeta {
            expire_ms: Some(0x0102),
            lru_idle_secs: Some(3),
            lfu_freq: Some(9),
        },
    )
    .unwrap();
    let f = w.finish().unwrap();
    let mut expect = b"REDIS0010".to_vec();
    expect.extend_from_slice(b"\xfa\x05ctime\xc0\x05");
    expect.extend_from_slice(b"\xfa\x08used-mem\x0a4000000000");
    expect.extend_from_slice(b"\xfe\x00\xfb\x01\x01");
    expect.extend_from_slice(b"\xfc\x02\x01\x00\x00\x00\x00\x00\x00\xf8\x03\xf9\x09");
    expect.extend_from_slice(b"\x00\x01k\x01v\xff");
    let crc = crc64(&expect);
    expect.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(f, expect);
}

#[test]
fn every_truncation_is_reported_as_truncation_at_or_before_the_cut() {
    let keys: Vec<(&str, Value, KeyMeta)> = every_encoding()
        .into_iter()
        .filter(|(k, _)| !k.contains("big") && !k.contains("table") && !k.contains("skip"))
        .enumerate()
        .map(|(i, (k, v))| (k, v, metas()[i % 4]))
        .collect();
    let file = write_file(FileOptions::default(), &keys);
    let (all, _) = read_all(&file).unwrap();
    for cut in 0..file.len() {
        let prefix = &file[..cut];
        let mut n = 0;
        let err = match RdbFileReader::new(prefix) {
            Err(e) => e,
            Ok(mut r) => loop {
                match r.next() {
                    Ok(Some(item)) => {
                        // Everything read before the cut is what the whole file holds.
                        assert_eq!(item, all[n], "cut {cut}");
                        n += 1;
                    }
                    Ok(None) => panic!("a file cut at {cut} read to its end"),
                    Err(e) => break e,
                }
            },
        };
        assert!(err.is_truncation(), "cut {cut}: {err}");
        assert_eq!(err.class(), ErrorClass::Truncated);
        assert!(err.offset <= cut, "cut {cut}: {err}");
    }
}

#[test]
fn every_flipped_byte_is_an_error() {
    let keys: Vec<(&str, Value, KeyMeta)> = every_encoding()
        .into_iter()
        .filter(|(k, _)| !k.contains("big") && !k.contains("table") && !k.contains("skip"))
        .map(|(k, v)| (k, v, metas()[1]))
        .collect();
    let file = write_file(FileOptions::default(), &keys);
    let mut classes = BTreeSet::new();
    for i in 0..file.len() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut bad = file.clone();
            bad[i] ^= x;
            let err = read_all(&bad)
                .err()
                .unwrap_or_else(|| panic!("flipping byte {i} by {x:#x} went unnoticed"));
            assert!(err.offset <= file.len());
            classes.insert(format!("{:?}", err.class()));
        }
    }
    // Both kinds show up: bytes that still parse are caught by the checksum.
    assert!(
        classes.contains("Checksum") && classes.contains("Corrupt"),
        "{classes:?}"
    );
}

#[test]
fn the_last_byte_of_the_checksum_is_checked() {
    let file = write_file(FileOptions::default(), &[]);
    let mut bad = file.clone();
    *bad.last_mut().unwrap() ^= 1;
    let err = read_all(&bad).err().unwrap();
    assert_eq!(err.offset, file.len() - 8);
    assert!(matches!(err.kind, RdbErrorKind::ChecksumMismatch { .. }));
    assert_eq!(err.class(), ErrorClass::Checksum);
    // A zero checksum means "not computed" and is accepted.
    let mut zero = file.clone();
    let n = zero.len();
    zero[n - 8..].fill(0);
    let (_, r) = read_all(&zero).unwrap();
    assert_eq!(r.checksum_status(), Some(ChecksumStatus::NotComputed));
}

#[test]
fn headers_are_checked() {
    let err = |b: &[u8]| RdbFileReader::new(b).err().unwrap();
    assert_eq!(err(b"REDIS0013").kind, RdbErrorKind::UnsupportedVersion(13));
    assert_eq!(err(b"REDIS0013").class(), ErrorClass::Unsupported);
    assert_eq!(err(b"REDIS0000").kind, RdbErrorKind::UnsupportedVersion(0));
    assert!(err(b"REDIS0013").to_string().contains("version 13"));
    assert_eq!(err(b"RODIS0010").kind, RdbErrorKind::BadMagic);
    assert_eq!(err(b"REDIS00x0").kind, RdbErrorKind::BadMagic);
    assert_eq!(err(b"hello").kind, RdbErrorKind::BadMagic);
    assert!(err(b"REDIS00").is_truncation());
    assert!(err(b"").is_truncation());
    for v in 1..=12u16 {
        let f = format!("REDIS{v:04}");
        assert_eq!(RdbFileReader::new(f.as_bytes()).unwrap().version(), v);
    }
}

/// Appends a key record with raw type and payload bytes.
fn raw_key(out: &mut Vec<u8>, ty: u8, key: &[u8], payload: &[u8]) {
    out.push(ty);
    let mut w = RdbWriter::new(&mut *out);
    w.write_string(key).unwrap();
    out.extend_from_slice(payload);
}

fn string_payload(s: &[u8]) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new());
    w.write_string(s).unwrap();
    w.into_inner()
}

/// A file of `version` from raw body bytes, with a checksum when the version has one.
fn raw_file(version: u16, body: &[u8]) -> Vec<u8> {
    let mut f = format!("REDIS{version:04}").into_bytes();
    f.extend_from_slice(body);
    f.push(opcode::EOF);
    if version >= FIRST_CHECKSUM_VERSION {
        let crc = crc64(&f);
        f.extend_from_slice(&crc.to_le_bytes());
    }
    f
}

fn keys_of(file: &[u8]) -> BTreeMap<Vec<u8>, (Canon, &'static str, KeyMeta)> {
    let (items, _) = read_all(file).unwrap();
    items
        .into_iter()
        .filter_map(|i| match i {
            RdbItem::Key { key, value, meta } => {
                Some((key.to_vec(), (canon(&value), value.encoding(), meta)))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn old_encodings_load_and_convert() {
    let mut body = Vec::new();
    // EXPIRETIME in seconds (RDB < 3), then a type-1 list.
    body.push(opcode::EXPIRETIME);
    body.extend_from_slice(&1_000_000i32.to_le_bytes());
    let mut p = vec![3];
    for e in [&b"a"[..], b"22", b"ccc"] {
        p.extend_from_slice(&string_payload(e));
    }
    raw_key(&mut body, object_type::LIST, b"list1", &p);
    // A ziplist list (type 10).
    let zl = build_ziplist(&zl_entries(&[b"x", b"-7", b"9999999999"]));
    raw_key(
        &mut body,
        object_type::LIST_ZIPLIST,
        b"list10",
        &string_payload(&zl),
    );
    // A quicklist of ziplists (type 14), with an empty node that is skipped.
    let mut p = vec![3];
    p.extend_from_slice(&string_payload(&build_ziplist(&zl_entries(&[b"1", b"2"]))));
    p.extend_from_slice(&string_payload(&build_ziplist(&[])));
    p.extend_from_slice(&string_payload(&build_ziplist(&zl_entries(&[b"three"]))));
    raw_key(&mut body, object_type::LIST_QUICKLIST, b"list14", &p);
    // A zipmap hash (type 9), small and with a value over 64 bytes.
    let zm = build_zipmap(&[(b"f1", b"v1"), (b"f2", b"v2")], 2);
    raw_key(
        &mut body,
        object_type::HASH_ZIPMAP,
        b"hash9",
        &string_payload(&zm),
    );
    let long = [b'L'; 65];
    let zm = build_zipmap(&[(b"f", &long)], 0);
    raw_key(
        &mut body,
        object_type::HASH_ZIPMAP,
        b"hash9big",
        &string_payload(&zm),
    );
    // A ziplist hash (type 13).
    let zl = build_ziplist(&zl_entries(&[b"name", b"tern", b"n", b"5"]));
    raw_key(
        &mut body,
        object_type::HASH_ZIPLIST,
        b"hash13",
        &string_payload(&zl),
    );
    // A ziplist zset (type 12) and a zset with string scores (type 3).
    let zl = build_ziplist(&zl_entries(&[b"a", b"1", b"b", b"2.5"]));
    raw_key(
        &mut body,
        object_type::ZSET_ZIPLIST,
        b"zset12",
        &string_payload(&zl),
    );
    let mut p = vec![2];
    p.extend_from_slice(&string_payload(b"m1"));
    p.extend_from_slice(b"\x031.5");
    p.extend_from_slice(&string_payload(b"m2"));
    p.push(255);
    raw_key(&mut body, object_type::ZSET, b"zset3", &p);
    // An empty set is skipped, as Redis skips it.
    raw_key(&mut body, object_type::SET, b"empty", &[0]);
    for version in [3u16, 6, 9] {
        let file = raw_file(version, &body);
        let keys = keys_of(&file);
        let get = |k: &[u8]| keys.get(k).unwrap_or_else(|| panic!("{k:?} missing"));
        let b = |s: &str| s.as_bytes().to_vec();
        assert_eq!(
            get(b"list1").0,
            Canon::List(vec![b("a"), b("22"), b("ccc")])
        );
        assert_eq!(get(b"list1").2.expire_ms, Some(1_000_000_000));
        assert_eq!(get(b"list1").1, "quicklist");
        assert_eq!(
            get(b"list10").0,
            Canon::List(vec![b("x"), b("-7"), b("9999999999")])
        );
        assert_eq!(
            get(b"list14").0,
            Canon::List(vec![b("1"), b("2"), b("three")])
        );
        let h: BTreeMap<_, _> = [(b("f1"), b("v1")), (b("f2"), b("v2"))].into();
        assert_eq!(get(b"hash9").0, Canon::Hash(h));
        assert_eq!(get(b"hash9").1, "listpack");
        assert_eq!(get(b"hash9big").1, "hashtable");
        let h: BTreeMap<_, _> = [(b("name"), b("tern")), (b("n"), b("5"))].into();
        assert_eq!(get(b"hash13").0, Canon::Hash(h));
        assert_eq!(get(b"hash13").1, "listpack");
        assert_eq!(
            get(b"zset12").0,
            Canon::ZSet(vec![(b("a"), 1f64.to_bits()), (b("b"), 2.5f64.to_bits())])
        );
        assert_eq!(get(b"zset12").1, "listpack");
        assert_eq!(
            get(b"zset3").0,
            Canon::ZSet(vec![
                (b("m2"), f64::NEG_INFINITY.to_bits()),
                (b("m1"), 1.5f64.to_bits())
            ])
        );
        assert!(!keys.contains_key(&b"empty"[..]));
        let (_, r) = read_all(&file).unwrap();
        assert_eq!(r.empty_keys_skipped(), 1);
        let expect = if version >= 5 {
            Some(ChecksumStatus::Verified(crc64(&file[..file.len() - 8])))
        } else {
            Some(ChecksumStatus::Absent)
        };
        assert_eq!(r.checksum_status(), expect);
    }
}

#[test]
fn big_old_encodings_convert_to_the_big_encodings() {
    let fields = owned(600, "field");
    let items: Vec<&[u8]> = fields
        .iter()
        .flat_map(|f| [f.as_slice(), b"v".as_slice()])
        .collect();
    let mut body = Vec::new();
    let zl = build_ziplist(&zl_entries(&items));
    raw_key(
        &mut body,
        object_type::HASH_ZIPLIST,
        b"h",
        &string_payload(&zl),
    );
    let zitems: Vec<&[u8]> = fields
        .iter()
        .take(200)
        .flat_map(|f| [f.as_slice(), b"3".as_slice()])
        .collect();
    let zl = build_ziplist(&zl_entries(&zitems));
    raw_key(
        &mut body,
        object_type::ZSET_ZIPLIST,
        b"z",
        &string_payload(&zl),
    );
    let keys = keys_of(&raw_file(9, &body));
    assert_eq!(keys[&b"h"[..]].1, "hashtable");
    assert_eq!(keys[&b"z"[..]].1, "skiplist");
    let Canon::Hash(h) = &keys[&b"h"[..]].0 else {
        panic!()
    };
    assert_eq!(h.len(), 600);
}

#[test]
fn corrupt_old_encodings_are_errors_at_their_offsets() {
    // A hash ziplist with a duplicate field, and one with an odd count.
    for entries in [&[&b"f"[..], b"1", b"f", b"2"][..], &[b"f", b"1", b"g"]] {
        let mut body = Vec::new();
        let zl = build_ziplist(&zl_entries(entries));
        raw_key(
            &mut body,
            object_type::HASH_ZIPLIST,
            b"h",
            &string_payload(&zl),
        );
        let e = read_all(&raw_file(9, &body)).err().unwrap();
        assert_eq!(e.class(), ErrorClass::Corrupt, "{e}");
        assert_eq!(e.offset, 9 + 3, "{e}");
    }
    // A zipmap with a duplicate field.
    let mut body = Vec::new();
    let zm = build_zipmap(&[(b"f", b"1"), (b"f", b"2")], 0);
    raw_key(
        &mut body,
        object_type::HASH_ZIPMAP,
        b"h",
        &string_payload(&zm),
    );
    assert_eq!(
        read_all(&raw_file(9, &body)).err().unwrap().class(),
        ErrorClass::Corrupt
    );
    // A broken ziplist inside a quicklist: the offset is inside the file.
    let mut body = Vec::new();
    let mut zl = build_ziplist(&[ZlEntry::Str(b"abc")]);
    zl[10] = 7; // prevlen of the first entry must be 0
    let mut p = vec![1];
    p.extend_from_slice(&string_payload(&zl));
    raw_key(&mut body, object_type::LIST_QUICKLIST, b"l", &p);
    let e = read_all(&raw_file(9, &body)).err().unwrap();
    assert_eq!(e.class(), ErrorClass::Corrupt);
    // type, key (2 bytes), node count, string length byte, then the ziplist's entry at 10.
    assert_eq!(e.offset, 9 + 1 + 2 + 1 + 1 + 10, "{e}");
}

#[test]
fn unsupported_types_name_the_record_offset() {
    for ty in [
        object_type::STREAM_LISTPACKS,
        object_type::STREAM_LISTPACKS_3,
        object_type::HASH_LISTPACK_EX,
        object_type::HASH_METADATA,
        object_type::MODULE_2,
    ] {
        let mut body = Vec::new();
        raw_key(&mut body, object_type::STRING, b"ok", &string_payload(b"1"));
        let at = 9 + body.len();
        raw_key(&mut body, ty, b"bad", &[0, 0, 0, 0]);
        let file = raw_file(12, &body);
        let mut r = RdbFileReader::new(&file).unwrap();
        assert!(matches!(r.next().unwrap(), Some(RdbItem::Key { .. })));
        let e = r.next().unwrap_err();
        assert_eq!(e.offset, at, "type {ty}");
        assert_eq!(e.class(), ErrorClass::Unsupported, "type {ty}: {e}");
        let msg = e.to_string();
        let what = if ty == object_type::MODULE_2 {
            "module"
        } else if ty >= object_type::HASH_METADATA_PRE_GA {
            "hash with field expiration"
        } else {
            "stream"
        };
        assert!(msg.contains(what), "{msg}");
        assert!(msg.contains(&format!("offset {at}")), "{msg}");
    }
    let file = raw_file(10, &[opcode::MODULE_AUX, 1, 2, 3]);
    let e = read_all(&file).err().unwrap();
    assert_eq!(
        (e.offset, e.kind),
        (9, RdbErrorKind::ModuleUnsupported(opcode::MODULE_AUX))
    );
    let e = read_all(&raw_file(10, &[8, 1, b'k'])).err().unwrap();
    assert_eq!((e.offset, e.kind), (9, RdbErrorKind::UnknownType(8)));
}

#[test]
fn metadata_stays_pending_across_other_items_until_its_key() {
    let mut body = vec![opcode::EXPIRETIME_MS];
    body.extend_from_slice(&77i64.to_le_bytes());
    body.extend_from_slice(&[opcode::FREQ, 3]);
    body.push(opcode::AUX);
    body.extend_from_slice(&string_payload(b"lua"));
    body.extend_from_slice(&string_payload(b"return 1"));
    raw_key(&mut body, object_type::STRING, b"a", &string_payload(b"v"));
    raw_key(&mut body, object_type::STRING, b"b", &string_payload(b"v"));
    let file = raw_file(9, &body);
    let (items, _) = read_all(&file).unwrap();
    assert!(matches!(&items[0], RdbItem::Aux { key, .. } if key.as_ref() == b"lua"));
    let meta = |i: usize| match &items[i] {
        RdbItem::Key { meta, .. } => *meta,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        meta(1),
        KeyMeta {
            expire_ms: Some(77),
            lru_idle_secs: None,
            lfu_freq: Some(3)
        }
    );
    assert_eq!(meta(2), KeyMeta::default());
}

#[test]
fn slot_info_and_expired_keys_are_returned() {
    let mut body = vec![opcode::SLOT_INFO, 0x41, 0x00, 5, 2];
    body.push(opcode::EXPIRETIME_MS);
    body.extend_from_slice(&1i64.to_le_bytes());
    raw_key(
        &mut body,
        object_type::STRING,
        b"old",
        &string_payload(b"v"),
    );
    let file = raw_file(12, &body);
    let (items, _) = read_all(&file).unwrap();
    assert_eq!(
        items[0],
        RdbItem::SlotInfo {
            slot: 256,
            keys: 5,
            expires: 2
        }
    );
    assert!(matches!(&items[1], RdbItem::Key { meta, .. } if meta.expire_ms == Some(1)));
}

fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..12),
        prop::collection::vec(b'a'..b'e', 50..200),
        any::<i64>().prop_map(|v| v.to_string().into_bytes()),
        (0u16..1000).prop_map(|v| v.to_string().into_bytes()),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_bytes().prop_map(|b| string(&b)),
        prop::collection::vec(arb_bytes(), 1..300).prop_map(|items| {
            let r: Vec<&[u8]> = items.iter().map(|v| v.as_slice()).collect();
            list(&r)
        }),
        prop::collection::btree_map(arb_bytes(), arb_bytes(), 1..700).prop_map(|m| {
            let mut h = Hash::new();
            for (f, v) in &m {
                h.set(f, v, &limits());
            }
            Value::Hash(h)
        }),
        prop::collection::btree_set(arb_bytes(), 1..700).prop_map(|m| {
            let mut s = Set::new_intset();
            for e in &m {
                s.insert(e, 512);
            }
            Value::Set(s)
        }),
        prop::collection::btree_map(arb_bytes(), -1e9f64..1e9, 1..300).prop_map(|m| {
            let mut z = ZSet::new_listpack();
            for (e, s) in &m {
                z.insert(e, *s, &limits());
            }
            Value::ZSet(z)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_values_round_trip(
        values in prop::collection::vec(arb_value(), 1..6),
        expire in prop::option::of(any::<i64>()),
        idle in prop::option::of(any::<u64>()),
        freq in prop::option::of(any::<u8>()),
        compress in any::<bool>(),
    ) {
        let meta = KeyMeta { expire_ms: expire, lru_idle_secs: idle, lfu_freq: freq };
        let keys: Vec<(String, Value)> =
            values.into_iter().enumerate().map(|(i, v)| (format!("k{i}"), v)).collect();
        let opts = FileOptions { compress, ..FileOptions::default() };
        let mut w = RdbFileWriter::new(Vec::new(), opts).unwrap();
        w.select_db(0, keys.len() as u64, 0).unwrap();
        for (k, v) in &keys {
            w.key(k.as_bytes(), v, meta).unwrap();
        }
        let file = w.finish().unwrap();
        let (items, _) = read_all(&file).unwrap();
        prop_assert_eq!(items.len(), keys.len() + 2);
        for ((k, v), item) in keys.iter().zip(&items[2..]) {
            let RdbItem::Key { key, value, meta: m } = item else { panic!() };
            prop_assert_eq!(key.as_ref(), k.as_bytes());
            prop_assert_eq!(m, &meta);
            prop_assert_eq!(canon(value), canon(v));
            prop_assert_eq!(value.encoding(), v.encoding());
        }
    }

    #[test]
    fn hostile_files_never_panic(body in prop::collection::vec(any::<u8>(), 0..400), v in 1u16..13) {
        let mut f = format!("REDIS{v:04}").into_bytes();
        f.extend_from_slice(&body);
        let _ = read_all(&f);
    }
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
fn files_larger_than_the_write_buffer_round_trip() {
    let big = noise(200_000);
    let mut w = RdbFileWriter::new(Vec::new(), FileOptions::default()).unwrap();
    w.select_db(0, 3001, 0).unwrap();
    for i in 0..3000 {
        w.key(
            format!("key:{i}").as_bytes(),
            &string(&noise(i % 50)),
            KeyMeta::default(),
        )
        .unwrap();
    }
    w.key(b"big", &string(&big), KeyMeta::default()).unwrap();
    let written = w.bytes_written();
    let file = w.finish().unwrap();
    assert_eq!(written + 1 + 8, file.len() as u64);
    let (items, r) = read_all(&file).unwrap();
    // SELECTDB, RESIZEDB, the keys.
    assert_eq!(items.len(), 2 + 3001);
    assert!(matches!(
        r.checksum_status(),
        Some(ChecksumStatus::Verified(_))
    ));
    let RdbItem::Key { value, .. } = &items[3002] else {
        panic!()
    };
    assert_eq!(canon(value), Canon::Str(big));
}
