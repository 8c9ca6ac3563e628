//! RDB files against Debian's real redis-server 7.0: Tern reads every key, value, TTL, LFU
//! counter and function library of a dump.rdb that Redis wrote; Redis (and redis-check-rdb)
//! accept a file that Tern wrote and report the same keys, values and TTLs; `tern check-rdb`
//! accepts both and names the offset of a truncation.
//!
//! The data set is one table ([`dataset`]) written to Redis with commands under small
//! encoding thresholds (so every encoding appears: int/embstr/raw strings, LZF-compressed
//! strings, multi-node quicklists, listpack and hashtable hashes, intset and hashtable sets,
//! listpack and skiplist sorted sets), and built directly as Tern values for the writer.

use crate::harness::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use tern_keyspace::value::{Str, Value as TValue};
use tern_keyspace::{EncodingLimits, Hash, List, Set, ZSet};
use tern_persist::rdb::file::{
    encode_key_record, ChecksumStatus, FileOptions, KeyMeta, RdbFileReader, RdbFileWriter, RdbItem,
    StandardAux,
};
use tern_persist::rdb::{object, object_type};

/// A value's contents, comparable regardless of encoding and internal order.
#[derive(Clone, Debug, PartialEq)]
enum Canon {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    /// Members in rank order with their scores' bits.
    ZSet(Vec<(Vec<u8>, u64)>),
}

/// One key of the data set.
#[derive(Clone, Debug)]
struct Key {
    db: u64,
    name: String,
    value: Canon,
    expire_ms: Option<i64>,
}

const LIBRARY: &str =
    "#!lua name=rdbtest\nredis.register_function('rdbtest_f', function() return 7 end)";

/// An expire time an hour from now, whole milliseconds.
fn in_an_hour() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    now + 3_600_000
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
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

fn dataset() -> Vec<Key> {
    let exp = Some(in_an_hour());
    let key = |db: u64, name: &str, value: Canon, expire_ms: Option<i64>| Key {
        db,
        name: name.to_string(),
        value,
        expire_ms,
    };
    let zset = |pairs: &[(&str, f64)]| {
        let mut v: Vec<(Vec<u8>, u64)> = pairs.iter().map(|(m, s)| (b(m), s.to_bits())).collect();
        v.sort_by(|x, y| {
            f64::from_bits(x.1)
                .total_cmp(&f64::from_bits(y.1))
                .then(x.0.cmp(&y.0))
        });
        Canon::ZSet(v)
    };
    let hash = |pairs: &[(String, Vec<u8>)]| {
        Canon::Hash(pairs.iter().cloned().map(|(f, v)| (b(&f), v)).collect())
    };
    let set = |ms: &[String]| Canon::Set(ms.iter().map(|m| b(m)).collect());
    let ten: Vec<String> = (0..10).map(|i| format!("{}", i * 7 - 20)).collect();
    let big_zset: Vec<(String, f64)> = (0..10).map(|i| (format!("m{i}"), i as f64 * 0.1)).collect();
    let big_zset: Vec<(&str, f64)> = big_zset.iter().map(|(m, s)| (m.as_str(), *s)).collect();
    vec![
        key(0, "s:int", Canon::Str(b("12345")), None),
        key(0, "s:neg", Canon::Str(b("-42")), None),
        key(0, "s:bigint", Canon::Str(b("12345678901")), None),
        key(0, "s:embstr", Canon::Str(b("hello world")), None),
        key(0, "s:empty", Canon::Str(Vec::new()), None),
        key(0, "s:lzf", Canon::Str(b"abc".repeat(80)), None),
        key(0, "s:binary", Canon::Str(noise(60)), None),
        key(0, "s:ttl", Canon::Str(b("expiring")), exp),
        key(
            0,
            "l:small",
            Canon::List(vec![b("a"), b("1"), b("300")]),
            None,
        ),
        key(
            0,
            "l:big",
            Canon::List((0..30).map(|i| format!("item-{i}").into_bytes()).collect()),
            exp,
        ),
        key(
            0,
            "l:lzf",
            Canon::List(vec![b"xyz".repeat(200), b("z")]),
            None,
        ),
        key(
            0,
            "h:small",
            hash(&[("f1".into(), b("v1")), ("n".into(), b("7"))]),
            None,
        ),
        key(
            0,
            "h:big",
            hash(
                &(0..10)
                    .map(|i| (format!("field{i}"), format!("v{i}").into_bytes()))
                    .collect::<Vec<_>>(),
            ),
            exp,
        ),
        key(0, "h:long", hash(&[("f".into(), b"v".repeat(100))]), None),
        key(
            0,
            "set:ints",
            set(&["1".into(), "2".into(), "-3".into()]),
            None,
        ),
        key(0, "set:bigints", set(&ten), None),
        key(
            0,
            "set:strs",
            set(&["a".into(), "b".into(), "c".into()]),
            exp,
        ),
        key(
            0,
            "z:small",
            zset(&[("a", 1.0), ("b", 2.5), ("c", f64::NEG_INFINITY)]),
            None,
        ),
        key(0, "z:big", zset(&big_zset), exp),
        key(1, "x", Canon::Str(b("1")), None),
        key(7, "y", hash(&[("k".into(), b("v"))]), exp),
    ]
}

/// The thresholds the Redis side runs with, and the Tern values are built with.
const SMALL: usize = 4;

fn to_value(c: &Canon) -> TValue {
    let limits = EncodingLimits {
        hash_max_listpack_entries: SMALL,
        set_max_intset_entries: SMALL,
        zset_max_listpack_entries: SMALL,
        list_max_listpack_size: SMALL as i64,
        ..EncodingLimits::default()
    };
    match c {
        Canon::Str(s) => TValue::Str(Str::from_bytes(s)),
        Canon::List(items) => {
            let mut l = List::new(SMALL as i64);
            for i in items {
                l.push_back(i);
            }
            TValue::List(l)
        }
        Canon::Hash(m) => {
            let mut h = Hash::new();
            for (f, v) in m {
                h.set(f, v, &limits);
            }
            TValue::Hash(h)
        }
        Canon::Set(m) => {
            let mut s = Set::new_intset();
            for e in m {
                s.insert(e, SMALL);
            }
            TValue::Set(s)
        }
        Canon::ZSet(m) => {
            let mut z = ZSet::new_listpack();
            for (e, s) in m {
                z.insert(e, f64::from_bits(*s), &limits);
            }
            TValue::ZSet(z)
        }
    }
}

fn canon_of(v: &TValue) -> Canon {
    match v {
        TValue::Str(s) => Canon::Str(s.to_vec()),
        TValue::List(l) => Canon::List(l.iter().map(|e| e.to_vec()).collect()),
        TValue::Hash(h) => {
            let mut m = BTreeMap::new();
            h.for_each(|f, v| {
                m.insert(f.to_vec(), v.to_vec());
            });
            Canon::Hash(m)
        }
        TValue::Set(s) => {
            let mut m = BTreeSet::new();
            s.for_each(|e| {
                m.insert(e.to_vec());
            });
            Canon::Set(m)
        }
        TValue::ZSet(z) => {
            let mut m = Vec::new();
            z.for_each(|e, s| m.push((e.to_vec(), s.to_bits())));
            Canon::ZSet(m)
        }
    }
}

fn bytes_of(v: &Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b.clone(),
        other => text(other).into_bytes(),
    }
}

/// Writes `k` into a Redis connection (already on the right database).
fn write_to_redis(con: &mut redis::Connection, k: &Key) {
    let name = k.name.as_bytes().to_vec();
    let mut args: Vec<Vec<u8>> = match &k.value {
        Canon::Str(s) => vec![b("SET"), name.clone(), s.clone()],
        Canon::List(items) => [vec![b("RPUSH"), name.clone()], items.clone()].concat(),
        Canon::Hash(m) => {
            let mut a = vec![b("HSET"), name.clone()];
            for (f, v) in m {
                a.push(f.clone());
                a.push(v.clone());
            }
            a
        }
        Canon::Set(m) => [vec![b("SADD"), name.clone()], m.iter().cloned().collect()].concat(),
        Canon::ZSet(m) => {
            let mut a = vec![b("ZADD"), name.clone()];
            for (e, s) in m {
                a.push(f64::from_bits(*s).to_string().into_bytes());
                a.push(e.clone());
            }
            a
        }
    };
    query(con, &cmd_bytes(&args)).unwrap();
    if let Some(ms) = k.expire_ms {
        args = vec![b("PEXPIREAT"), name, ms.to_string().into_bytes()];
        assert_eq!(query(con, &cmd_bytes(&args)).unwrap(), int(1));
    }
}

/// Reads key `name` back from Redis (on the current database).
fn read_from_redis(con: &mut redis::Connection, name: &str) -> Canon {
    let ty = text(&ok(con, &["TYPE", name]));
    let all = |con: &mut redis::Connection, args: &[&str]| -> Vec<Vec<u8>> {
        items(&ok(con, args)).iter().map(bytes_of).collect()
    };
    match ty.as_str() {
        "string" => Canon::Str(bytes_of(&ok(con, &["GET", name]))),
        "list" => Canon::List(all(con, &["LRANGE", name, "0", "-1"])),
        "hash" => Canon::Hash(
            all(con, &["HGETALL", name])
                .chunks(2)
                .map(|c| (c[0].clone(), c[1].clone()))
                .collect(),
        ),
        "set" => Canon::Set(all(con, &["SMEMBERS", name]).into_iter().collect()),
        "zset" => Canon::ZSet(
            all(con, &["ZRANGE", name, "0", "-1", "WITHSCORES"])
                .chunks(2)
                .map(|c| {
                    let s: f64 = String::from_utf8_lossy(&c[1]).parse().unwrap();
                    (c[0].clone(), s.to_bits())
                })
                .collect(),
        ),
        other => panic!("{name}: unexpected type {other}"),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    test_dir(&format!("rdb-{name}"))
}

/// Everything read from a file: aux fields, functions, keys by (db, name).
#[derive(Default)]
struct FileContents {
    aux: BTreeMap<String, String>,
    functions: Vec<Vec<u8>>,
    keys: BTreeMap<(u64, String), (TValue, KeyMeta)>,
    resize: BTreeMap<u64, (u64, u64)>,
    checksum: Option<ChecksumStatus>,
}

fn must_read_file(path: &Path) -> FileContents {
    let buf = std::fs::read(path).unwrap();
    let mut r = RdbFileReader::new(&buf).unwrap();
    let mut out = FileContents::default();
    let mut db = 0;
    while let Some(item) = r
        .next()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        match item {
            RdbItem::Aux { key, value } => {
                out.aux.insert(
                    String::from_utf8_lossy(&key).into_owned(),
                    String::from_utf8_lossy(&value).into_owned(),
                );
            }
            RdbItem::SelectDb(n) => db = n,
            RdbItem::ResizeDb { keys, expires } => {
                out.resize.insert(db, (keys, expires));
            }
            RdbItem::Function(code) => out.functions.push(code.into_owned()),
            RdbItem::Key { key, value, meta } => {
                let name = String::from_utf8(key.into_owned()).unwrap();
                assert!(out.keys.insert((db, name), (value, meta)).is_none());
            }
            RdbItem::SlotInfo { .. } => panic!("no slot info expected"),
        }
    }
    out.checksum = r.checksum_status();
    out
}

/// Checks that a file holds exactly the data set.
fn assert_holds_dataset(f: &FileContents, data: &[Key], what: &str) {
    let names: BTreeSet<(u64, String)> = data.iter().map(|k| (k.db, k.name.clone())).collect();
    let got: BTreeSet<(u64, String)> = f.keys.keys().cloned().collect();
    assert_eq!(got, names, "{what}: the keys");
    for k in data {
        let (v, meta) = &f.keys[&(k.db, k.name.clone())];
        assert_eq!(canon_of(v), k.value, "{what}: {} in db {}", k.name, k.db);
        assert_eq!(meta.expire_ms, k.expire_ms, "{what}: TTL of {}", k.name);
    }
    for (db, (keys, expires)) in &f.resize {
        let n = data.iter().filter(|k| k.db == *db).count() as u64;
        let e = data
            .iter()
            .filter(|k| k.db == *db && k.expire_ms.is_some())
            .count() as u64;
        assert_eq!((*keys, *expires), (n, e), "{what}: RESIZEDB of db {db}");
    }
}

fn select(con: &mut redis::Connection, db: u64) {
    ok(con, &["SELECT", &db.to_string()]);
}

/// Runs `tern check-rdb` on `path`: (success, stdout).
fn tern_check_rdb(path: &Path) -> (bool, String) {
    let out = Command::new(TERN)
        .arg("check-rdb")
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Checks that Redis, started on `dir/file`, reports the data set exactly, with the same
/// encodings Tern's reader gives the keys of `f`.
fn assert_redis_loads(dir: &Path, file: &str, data: &[Key], f: &FileContents) {
    let srv = TestServer::start_redis(
        None,
        &["--dir", dir.to_str().unwrap(), "--dbfilename", file],
    );
    let mut con = srv.client();
    let mut dbs: BTreeMap<u64, i64> = BTreeMap::new();
    for k in data {
        *dbs.entry(k.db).or_default() += 1;
    }
    for (db, n) in &dbs {
        select(&mut con, *db);
        assert_eq!(
            as_int(&ok(&mut con, &["DBSIZE"])),
            *n,
            "{file}: DBSIZE of db {db}"
        );
    }
    for k in data {
        select(&mut con, k.db);
        assert_eq!(
            read_from_redis(&mut con, &k.name),
            k.value,
            "{file}: {}",
            k.name
        );
        let at = as_int(&ok(&mut con, &["PEXPIRETIME", &k.name]));
        assert_eq!(
            at,
            k.expire_ms.unwrap_or(-1),
            "{file}: expire time of {}",
            k.name
        );
        let enc = text(&ok(&mut con, &["OBJECT", "ENCODING", &k.name]));
        let (ours, _) = &f.keys[&(k.db, k.name.clone())];
        assert_eq!(
            ours.encoding(),
            enc,
            "{file}: encoding of {} after load",
            k.name
        );
    }
}

#[test]
fn tern_reads_every_type_encoding_ttl_and_lfu_counter_of_a_redis_dump() {
    let dir = temp_dir("from-redis");
    let srv = TestServer::start_redis(
        None,
        &[
            "--dir",
            dir.to_str().unwrap(),
            "--dbfilename",
            "lru.rdb",
            "--maxmemory-policy",
            "allkeys-lru",
            "--lfu-decay-time",
            "0",
        ],
    );
    let mut con = srv.client();
    for (directive, v) in [
        ("list-max-listpack-size", "4"),
        ("hash-max-listpack-entries", "4"),
        ("set-max-intset-entries", "4"),
        ("zset-max-listpack-entries", "4"),
    ] {
        ok(&mut con, &["CONFIG", "SET", directive, v]);
    }
    let data = dataset();
    for k in &data {
        select(&mut con, k.db);
        write_to_redis(&mut con, k);
    }
    ok(&mut con, &["FUNCTION", "LOAD", LIBRARY]);
    // The encodings on the Redis side: every one Tern writes appears.
    select(&mut con, 0);
    let mut encodings = BTreeSet::new();
    for k in data.iter().filter(|k| k.db == 0) {
        encodings.insert(text(&ok(&mut con, &["OBJECT", "ENCODING", &k.name])));
    }
    let want = [
        "int",
        "embstr",
        "raw",
        "quicklist",
        "listpack",
        "hashtable",
        "intset",
        "skiplist",
    ];
    assert_eq!(encodings, want.iter().map(|s| s.to_string()).collect());
    assert_eq!(
        text(&ok(&mut con, &["OBJECT", "ENCODING", "l:big"])),
        "quicklist"
    );

    // Under an LRU policy Redis writes IDLE before every key.
    ok(&mut con, &["SAVE"]);
    let lru = must_read_file(&dir.join("lru.rdb"));
    assert_holds_dataset(&lru, &data, "lru.rdb");
    for ((_, name), (_, meta)) in &lru.keys {
        let idle = meta
            .lru_idle_secs
            .unwrap_or_else(|| panic!("{name}: no IDLE"));
        assert!(idle < 60, "{name}: idle {idle}");
        assert_eq!(meta.lfu_freq, None);
    }

    // Under an LFU policy, FREQ with the counter OBJECT FREQ reports.
    ok(
        &mut con,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    );
    select(&mut con, 0);
    for _ in 0..50 {
        ok(&mut con, &["GET", "s:int"]);
    }
    // dbfilename is a protected config: the second SAVE overwrites the first file.
    ok(&mut con, &["SAVE"]);
    std::fs::rename(dir.join("lru.rdb"), dir.join("lfu.rdb")).unwrap();
    let lfu = must_read_file(&dir.join("lfu.rdb"));
    assert_holds_dataset(&lfu, &data, "lfu.rdb");
    for ((db, name), (_, meta)) in &lfu.keys {
        select(&mut con, *db);
        let freq = as_int(&ok(&mut con, &["OBJECT", "FREQ", name]));
        assert_eq!(meta.lfu_freq, Some(freq as u8), "{name}: FREQ");
        assert_eq!(meta.lru_idle_secs, None);
    }
    assert!(lfu.keys[&(0, "s:int".to_string())].1.lfu_freq > Some(5));

    // The aux fields and the function library.
    let info = text(&ok(&mut con, &["INFO", "server"]));
    assert_eq!(
        lfu.aux["redis-ver"],
        info_field(&info, "redis_version").unwrap()
    );
    assert_eq!(lfu.aux["redis-bits"], "64");
    assert_eq!(lfu.aux["aof-base"], "0");
    let ctime: i64 = lfu.aux["ctime"].parse().unwrap();
    assert!(
        (ctime - in_an_hour() / 1000 + 3600).abs() < 60,
        "ctime {ctime}"
    );
    assert!(lfu.aux["used-mem"].parse::<u64>().unwrap() > 0);
    assert_eq!(lfu.functions, vec![LIBRARY.as_bytes().to_vec()]);
    assert!(matches!(lfu.checksum, Some(ChecksumStatus::Verified(_))));
    drop(con);
    drop(srv);

    // Byte for byte: re-encoding a key Tern read gives Redis's record (opcodes, type, key,
    // value), for every encoding whose layout does not depend on hash-table order.
    let buf = std::fs::read(dir.join("lfu.rdb")).unwrap();
    let mut r = RdbFileReader::new(&buf).unwrap();
    let mut identical = BTreeSet::new();
    loop {
        let start = r.position();
        let Some(item) = r.next().unwrap() else { break };
        let RdbItem::Key { key, value, meta } = item else {
            continue;
        };
        let record = &buf[start..r.position()];
        let ty = object::type_of(&value);
        let name = String::from_utf8_lossy(&key).into_owned();
        // FREQ (2 bytes) comes first, then the type byte (EXPIRETIME_MS, 9 bytes, before it).
        let ty_at = 2 + if meta.expire_ms.is_some() { 9 } else { 0 };
        if record[ty_at] != ty
            || [object_type::HASH, object_type::SET, object_type::ZSET_2].contains(&ty)
        {
            continue;
        }
        let mut mine = Vec::new();
        encode_key_record(&mut mine, &key, &value, meta, true);
        assert_eq!(mine, record, "{name}: record bytes");
        identical.insert(name);
    }
    for name in [
        "s:int", "s:lzf", "s:binary", "l:big", "l:lzf", "h:small", "set:ints", "z:small",
    ] {
        assert!(
            identical.contains(name),
            "{name} was not compared: {identical:?}"
        );
    }

    // Tern's reader gives every key the encoding Redis gives it when loading the same file
    // with its default thresholds.
    assert_redis_loads(&dir, "lfu.rdb", &data, &lfu);

    let (okay, out) = tern_check_rdb(&dir.join("lfu.rdb"));
    assert!(okay, "{out}");
    assert!(out.contains("RDB looks OK!"), "{out}");
    assert!(
        out.contains(&format!("[info] {} keys read", data.len())),
        "{out}"
    );
}

#[test]
fn redis_loads_every_type_encoding_and_ttl_of_a_tern_file() {
    let dir = temp_dir("from-tern");
    let data = dataset();
    let values: Vec<TValue> = data.iter().map(|k| to_value(&k.value)).collect();
    // Every encoding Tern writes is in the file.
    let encs: BTreeSet<&str> = values.iter().map(|v| v.encoding()).collect();
    let want = [
        "int",
        "embstr",
        "raw",
        "quicklist",
        "listpack",
        "hashtable",
        "intset",
        "skiplist",
    ];
    assert_eq!(encs, want.into_iter().collect());

    for (file, opts) in [
        ("tern.rdb", FileOptions::default()),
        (
            "tern-plain.rdb",
            FileOptions {
                compress: false,
                checksum: false,
                ..FileOptions::default()
            },
        ),
    ] {
        let path = dir.join(file);
        let mut w = RdbFileWriter::new(std::fs::File::create(&path).unwrap(), opts).unwrap();
        w.standard_aux(&StandardAux {
            redis_ver: "7.0.15",
            redis_bits: 64,
            ctime: in_an_hour() / 1000 - 3600,
            used_mem: 1 << 20,
            repl: None,
            aof_base: false,
        })
        .unwrap();
        w.function(LIBRARY.as_bytes()).unwrap();
        let dbs: BTreeSet<u64> = data.iter().map(|k| k.db).collect();
        for db in dbs {
            let keys: Vec<(&Key, &TValue)> = data
                .iter()
                .zip(&values)
                .filter(|(k, _)| k.db == db)
                .collect();
            let expires = keys.iter().filter(|(k, _)| k.expire_ms.is_some()).count();
            w.select_db(db, keys.len() as u64, expires as u64).unwrap();
            for (k, v) in keys {
                let meta = KeyMeta {
                    expire_ms: k.expire_ms,
                    ..KeyMeta::default()
                };
                w.key(k.name.as_bytes(), v, meta).unwrap();
            }
        }
        w.finish().unwrap();

        // redis-check-rdb accepts it.
        let out = Command::new(require_tool("/usr/bin/redis-check-rdb"))
            .arg(&path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{file}: redis-check-rdb: {stdout}");
        assert!(stdout.contains("RDB looks OK!"), "{file}: {stdout}");
        if !opts.checksum {
            assert!(stdout.contains("checksum disabled"), "{stdout}");
        }

        // Tern reads back what it wrote, and Redis loads exactly the data set.
        let f = must_read_file(&path);
        assert_holds_dataset(&f, &data, file);
        assert_eq!(f.functions, vec![LIBRARY.as_bytes().to_vec()]);
        assert_redis_loads(&dir, file, &data, &f);

        let (okay, out) = tern_check_rdb(&path);
        assert!(okay, "{out}");
        assert!(out.contains("RDB looks OK!"), "{out}");
    }

    // The function library works in Redis after the load.
    let srv = TestServer::start_redis(
        None,
        &["--dir", dir.to_str().unwrap(), "--dbfilename", "tern.rdb"],
    );
    let mut con = srv.client();
    assert_eq!(ok(&mut con, &["FCALL", "rdbtest_f", "0"]), int(7));
    drop(con);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_rdb_names_the_offset_of_a_truncation_and_of_a_bad_checksum() {
    let dir = temp_dir("check");
    let data = dataset();
    let path = dir.join("good.rdb");
    let mut w = RdbFileWriter::new(Vec::new(), FileOptions::default()).unwrap();
    let in_db0 = data.iter().filter(|k| k.db == 0).count() as u64;
    w.select_db(0, in_db0, 0).unwrap();
    for k in data.iter().filter(|k| k.db == 0) {
        w.key(k.name.as_bytes(), &to_value(&k.value), KeyMeta::default())
            .unwrap();
    }
    let good = w.finish().unwrap();
    std::fs::write(&path, &good).unwrap();
    let (okay, out) = tern_check_rdb(&path);
    assert!(okay, "{out}");

    let cut = good.len() * 2 / 3;
    let truncated = dir.join("truncated.rdb");
    std::fs::write(&truncated, &good[..cut]).unwrap();
    let (okay, out) = tern_check_rdb(&truncated);
    assert!(!okay, "{out}");
    assert!(out.contains("--- RDB ERROR DETECTED ---"), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("Unexpected EOF"))
        .unwrap_or_else(|| panic!("no EOF line: {out}"));
    let offset: usize = line
        .strip_prefix("[offset ")
        .and_then(|l| l.split(']').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no offset in {line}"));
    assert!(offset <= cut, "{line}");
    // redis-check-rdb refuses the same file.
    let st = Command::new("/usr/bin/redis-check-rdb")
        .arg(&truncated)
        .output()
        .unwrap();
    assert!(!st.status.success());

    let mut flipped = good.clone();
    let n = flipped.len();
    flipped[n - 1] ^= 0x40;
    let bad = dir.join("bad-crc.rdb");
    std::fs::write(&bad, &flipped).unwrap();
    let (okay, out) = tern_check_rdb(&bad);
    assert!(!okay, "{out}");
    assert!(
        out.contains(&format!("[offset {}] RDB CRC error", n - 8)),
        "{out}"
    );

    let (okay, out) = tern_check_rdb(&dir.join("missing.rdb"));
    assert!(!okay, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
