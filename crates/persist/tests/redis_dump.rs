//! Interoperability with a real `redis-server`: DUMP payloads made here must be byte-identical
//! to what Redis 7.0 makes, Redis must RESTORE ours, and our RESTORE errors must read like its.
//!
//! The server is started on a free loopback port for each test and killed afterwards. The
//! binary is `$REDIS_SERVER` if set, else `redis-server` from `PATH`, else
//! `/usr/bin/redis-server`. If none runs, these tests fail (they do not skip): CI installs it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tern_keyspace::value::{Str, Value};
use tern_persist::dump::{dump, dump_with, restore, DumpError};

/// A RESP reply, as much of it as these tests need.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

/// A `redis-server` child process and a connection to it; killed on drop.
struct Redis {
    child: Child,
    conn: BufReader<TcpStream>,
}

fn redis_binary() -> String {
    if let Ok(p) = std::env::var("REDIS_SERVER") {
        return p;
    }
    let in_path = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if in_path {
        "redis-server".to_string()
    } else {
        "/usr/bin/redis-server".to_string()
    }
}

impl Redis {
    fn start() -> Redis {
        let bin = redis_binary();
        match Command::new(&bin).arg("--version").output() {
            Ok(o) if o.status.success() => {}
            other => panic!(
                "redis-server is required for this test and could not be run as {bin:?} \
                 ({other:?}). Install it (e.g. `apt-get install redis-server`) or set \
                 REDIS_SERVER to its path. This test does not skip."
            ),
        }
        let dir = std::env::temp_dir();
        let mut last_err = String::new();
        for _attempt in 0..5 {
            let port = {
                let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
                l.local_addr().unwrap().port()
            };
            let mut child = Command::new(&bin)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--protected-mode", "no", "--loglevel", "warning"])
                .arg("--dir")
                .arg(&dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("could not start {bin:?}: {e}"));
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = e.read_to_string(&mut err);
                    }
                    last_err = format!("redis-server exited with {status}: {err}");
                    break;
                }
                if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    let mut r = Redis {
                        child,
                        conn: BufReader::new(s),
                    };
                    // The port, free when picked, may have gone to another test's server before
                    // ours bound it (ours then exits): only a server that is our child will do.
                    let pid = format!("process_id:{}\r\n", r.child.id());
                    match r.cmd(&[b"INFO", b"server"]) {
                        Reply::Bulk(Some(info))
                            if String::from_utf8_lossy(&info).contains(&pid) =>
                        {
                            return r
                        }
                        other => {
                            last_err = format!("not our redis-server on port {port}: {other:?}")
                        }
                    }
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_err = format!("redis-server did not listen on port {port} in time");
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("could not start redis-server: {last_err}");
    }

    fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.conn.get_mut().write_all(&out).expect("send to redis");
        self.read_reply()
    }

    fn read_reply(&mut self) -> Reply {
        let mut line = Vec::new();
        self.conn
            .read_until(b'\n', &mut line)
            .expect("read from redis");
        assert!(line.ends_with(b"\r\n"), "bad reply line {line:?}");
        let body = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
        match line[0] {
            b'+' => Reply::Simple(body),
            b'-' => Reply::Error(body),
            b':' => Reply::Int(body.parse().unwrap()),
            b'$' => {
                let n: i64 = body.parse().unwrap();
                if n < 0 {
                    return Reply::Bulk(None);
                }
                let mut buf = vec![0u8; n as usize + 2];
                self.conn.read_exact(&mut buf).expect("read bulk");
                buf.truncate(n as usize);
                Reply::Bulk(Some(buf))
            }
            b'*' => {
                let n: i64 = body.parse().unwrap();
                Reply::Array((0..n.max(0)).map(|_| self.read_reply()).collect())
            }
            other => panic!("unexpected reply type {other}"),
        }
    }

    fn ok(&mut self, args: &[&[u8]]) {
        assert_eq!(
            self.cmd(args),
            Reply::Simple("OK".into()),
            "{:?}",
            printable(args)
        );
    }

    fn bulk(&mut self, args: &[&[u8]]) -> Vec<u8> {
        match self.cmd(args) {
            Reply::Bulk(Some(b)) => b,
            other => panic!(
                "{:?}: expected a bulk reply, got {other:?}",
                printable(args)
            ),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn printable(args: &[&[u8]]) -> Vec<String> {
    args.iter()
        .map(|a| String::from_utf8_lossy(&a[..a.len().min(40)]).into_owned())
        .collect()
}

/// Deterministic incompressible bytes (xorshift64).
fn noise(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The string values compared with Redis, with names for failure messages.
fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let mut v: Vec<(&'static str, Vec<u8>)> = vec![
        ("small int", b"7".to_vec()),
        ("zero", b"0".to_vec()),
        ("negative int", b"-42".to_vec()),
        ("int8 max", b"127".to_vec()),
        ("int8 min", b"-128".to_vec()),
        ("int16 low", b"128".to_vec()),
        ("int16 below", b"-129".to_vec()),
        ("int16 max", b"32767".to_vec()),
        ("int32 low", b"32768".to_vec()),
        ("int32 max", b"2147483647".to_vec()),
        ("int32 min", b"-2147483648".to_vec()),
        ("2^31", b"2147483648".to_vec()),
        ("-2^31-1", b"-2147483649".to_vec()),
        ("2^40", b"1099511627776".to_vec()),
        ("i64 max", b"9223372036854775807".to_vec()),
        ("i64 min", b"-9223372036854775808".to_vec()),
        ("beyond i64", b"9223372036854775808".to_vec()),
        ("leading zero", b"007".to_vec()),
        ("minus zero", b"-0".to_vec()),
        ("short string", b"hello".to_vec()),
        ("empty string", Vec::new()),
        ("20 x a", vec![b'a'; 20]),
        ("21 x a", vec![b'a'; 21]),
        ("44 bytes", vec![b'q'; 44]),
        ("45 bytes", vec![b'q'; 45]),
        ("100-byte compressible", b"0123456789".repeat(10)),
        ("100-byte text", b"The quick brown fox jumps over the lazy dog; the quick brown fox jumps over the lazy cat again!!".to_vec()),
        ("100-byte random", noise(100, 0x9e37_79b9_7f4a_7c15)),
        ("21-byte random", noise(21, 7)),
        ("10 KiB text", (0..1000).flat_map(|i| format!("k{:05}:v;", i * 7919 % 100_000).into_bytes()).collect()),
        ("20 KiB random", noise(20_000, 99)),
        ("70 KiB runs", (0..70_000u32).map(|i| b"abcdefgh"[(i / 300 % 8) as usize]).collect()),
    ];
    // Nearly incompressible strings around the 4-bytes-saved threshold.
    let mut edge = noise(60, 3);
    edge.extend_from_slice(&[b'z'; 8]);
    v.push(("random + short run", edge));
    v
}

fn value_of(bytes: &[u8]) -> Value {
    Value::Str(Str::from_bytes(bytes))
}

const FOOTER: usize = 10;

#[test]
fn dump_payloads_are_byte_identical_to_redis() {
    let mut r = Redis::start();
    let info = r.bulk(&[b"INFO", b"server"]);
    let version_line = String::from_utf8_lossy(&info)
        .lines()
        .find(|l| l.starts_with("redis_version:"))
        .unwrap_or("redis_version:?")
        .to_string();
    eprintln!("comparing with {version_line}");

    for compress in [true, false] {
        r.ok(&[
            b"CONFIG",
            b"SET",
            b"rdbcompression",
            if compress { b"yes" } else { b"no" },
        ]);
        for (name, bytes) in fixtures() {
            r.ok(&[b"SET", b"k", &bytes]);
            let theirs = r.bulk(&[b"DUMP", b"k"]);
            let ours = dump_with(&value_of(&bytes), compress);
            let their_version = u16::from_le_bytes([
                theirs[theirs.len() - FOOTER],
                theirs[theirs.len() - FOOTER + 1],
            ]);
            assert_eq!(
                ours[..ours.len() - FOOTER],
                theirs[..theirs.len() - FOOTER],
                "{name} (compression {compress}): object bytes differ from {version_line}"
            );
            if their_version == 10 {
                assert_eq!(
                    ours, theirs,
                    "{name} (compression {compress}): footer differs"
                );
            }
            if compress {
                assert_eq!(ours, dump(&value_of(&bytes)));
            }
            // Redis's payload restores here to what SET made.
            let back = restore(&theirs).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(back, value_of(&bytes), "{name}: restoring Redis's payload");
            let Value::Str(s) = &back else {
                panic!("not a string")
            };
            let enc = r.bulk(&[b"OBJECT", b"ENCODING", b"k"]);
            assert_eq!(
                s.encoding().as_bytes(),
                &enc[..],
                "{name}: encoding after restore"
            );
        }
    }

    // A string grown by APPEND is "raw" in Redis but still dumps as an integer if it is one.
    r.ok(&[b"SET", b"a", b"1"]);
    assert_eq!(r.cmd(&[b"APPEND", b"a", b"2"]), Reply::Int(2));
    assert_eq!(r.bulk(&[b"OBJECT", b"ENCODING", b"a"]), b"raw");
    let appended = Value::Str(Str::raw(tern_keyspace::value::SmallBytes::new(b"12")));
    assert_eq!(dump(&appended), r.bulk(&[b"DUMP", b"a"]));
}

#[test]
fn redis_restores_tern_payloads() {
    let mut r = Redis::start();
    for (i, (name, bytes)) in fixtures().into_iter().enumerate() {
        let key = format!("restored:{i}");
        let payload = dump(&value_of(&bytes));
        assert_eq!(
            r.cmd(&[b"RESTORE", key.as_bytes(), b"0", &payload]),
            Reply::Simple("OK".into()),
            "{name}: Redis refused our payload"
        );
        assert_eq!(
            r.bulk(&[b"GET", key.as_bytes()]),
            bytes,
            "{name}: value after RESTORE"
        );
        let enc = r.bulk(&[b"OBJECT", b"ENCODING", key.as_bytes()]);
        assert_eq!(
            value_of(&bytes).encoding().as_bytes(),
            &enc[..],
            "{name}: encoding"
        );

        let plain = dump_with(&value_of(&bytes), false);
        let key2 = format!("plain:{i}");
        assert_eq!(
            r.cmd(&[b"RESTORE", key2.as_bytes(), b"0", &plain]),
            Reply::Simple("OK".into()),
            "{name}: Redis refused our uncompressed payload"
        );
        assert_eq!(r.bulk(&[b"GET", key2.as_bytes()]), bytes);
    }
}

#[test]
fn restore_errors_read_like_redis() {
    let mut r = Redis::start();
    let good = dump(&value_of(b"hello"));
    let with_footer = |body: &[u8], version: u16| {
        let mut p = body.to_vec();
        p.extend_from_slice(&version.to_le_bytes());
        let crc = tern_persist::crc64::crc64(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    };
    let mut bad_crc = good.clone();
    *bad_crc.last_mut().unwrap() ^= 0x55;
    let mut zero_crc = good.clone();
    let n = zero_crc.len();
    zero_crc[n - 8..].fill(0);
    let mut appended = good.clone();
    appended.push(0);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("too short", good[..9].to_vec()),
        ("bad crc", bad_crc),
        ("zero crc", zero_crc),
        ("byte after footer", appended),
        ("version 13", with_footer(b"\x00\x05hello", 13)),
        ("version 65535", with_footer(b"\x00\x05hello", 0xffff)),
        ("no object", with_footer(b"", 10)),
        ("type 8", with_footer(b"\x08\x05hello", 10)),
        ("type 30", with_footer(b"\x1e\x05hello", 10)),
        ("bad length byte", with_footer(b"\x00\x85", 10)),
        ("string encoding 5", with_footer(b"\x00\xc5", 10)),
        ("lzf too short", with_footer(b"\x00\xc3\x02\x05\x00a", 10)),
        (
            "lzf longer than said",
            with_footer(b"\x00\xc3\x02\x03\x00a", 10),
        ),
        (
            "huge length",
            with_footer(b"\x00\x81\xff\xff\xff\xff\xff\xff\xff\xff", 10),
        ),
    ];
    for (i, (name, payload)) in cases.into_iter().enumerate() {
        let key = format!("bad:{i}");
        let theirs = match r.cmd(&[b"RESTORE", key.as_bytes(), b"0", &payload]) {
            Reply::Error(e) => e,
            other => panic!("{name}: Redis accepted the payload ({other:?})"),
        };
        let ours: DumpError = restore(&payload).expect_err(name);
        assert_eq!(ours.to_string(), theirs, "{name}: error text");
    }
}

/// A DUMP payload of an object in an old encoding: type byte, body, version-9 footer.
fn old_payload(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![ty];
    p.extend_from_slice(body);
    p.extend_from_slice(&9u16.to_le_bytes());
    let crc = tern_persist::crc64::crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// An RDB string holding `s`.
fn rdb_string(s: &[u8]) -> Vec<u8> {
    let mut w = tern_persist::rdb::RdbWriter::new(Vec::new());
    w.write_string(s).unwrap();
    w.into_inner()
}

/// Elements (with a value or score, else empty) as a comparison lists them.
type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// A value's contents as Redis replies list them: list elements in order, hash pairs and
/// zset members with their scores sorted, with the encoding.
fn contents_of(v: &Value) -> (Pairs, &'static str) {
    let mut out = Vec::new();
    match v {
        Value::List(l) => l.for_each(|e| out.push((e.to_vec(), Vec::new()))),
        Value::Hash(h) => h.for_each(|f, v| out.push((f.to_vec(), v.to_vec()))),
        Value::ZSet(z) => z.for_each(|m, s| out.push((m.to_vec(), s.to_string().into_bytes()))),
        other => panic!("unexpected {other:?}"),
    }
    if !matches!(v, Value::List(_)) {
        out.sort();
    }
    (out, v.encoding())
}

fn redis_contents(r: &mut Redis, key: &[u8]) -> (Pairs, String) {
    let bulks = |reply: Reply| -> Vec<Vec<u8>> {
        match reply {
            Reply::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    Reply::Bulk(Some(b)) => b,
                    other => panic!("not a bulk: {other:?}"),
                })
                .collect(),
            other => panic!("not an array: {other:?}"),
        }
    };
    let Reply::Simple(ty) = r.cmd(&[b"TYPE", key]) else {
        panic!("TYPE failed")
    };
    let mut out: Pairs = match ty.as_str() {
        "list" => bulks(r.cmd(&[b"LRANGE", key, b"0", b"-1"]))
            .into_iter()
            .map(|e| (e, Vec::new()))
            .collect(),
        "hash" => bulks(r.cmd(&[b"HGETALL", key]))
            .chunks(2)
            .map(|c| (c[0].clone(), c[1].clone()))
            .collect(),
        "zset" => bulks(r.cmd(&[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]))
            .chunks(2)
            .map(|c| {
                let s: f64 = String::from_utf8_lossy(&c[1]).parse().unwrap();
                (c[0].clone(), s.to_string().into_bytes())
            })
            .collect(),
        other => panic!("unexpected type {other}"),
    };
    if ty != "list" {
        out.sort();
    }
    let enc = String::from_utf8(r.bulk(&[b"OBJECT", b"ENCODING", key])).unwrap();
    (out, enc)
}

#[test]
fn old_encodings_restore_as_in_redis() {
    use tern_persist::rdb::object_type as t;
    use tern_persist::rdb::ziplist::{encode_ziplist, encode_zipmap, ziplist_entries};
    let mut r = Redis::start();
    r.ok(&[b"CONFIG", b"SET", b"sanitize-dump-payload", b"yes"]);
    let zl = |items: &[&[u8]]| rdb_string(&encode_ziplist(&ziplist_entries(items)));
    let long = vec![b'q'; 100];
    let fields: Vec<Vec<u8>> = (0..600).map(|i| format!("field{i}").into_bytes()).collect();
    let many_pairs: Vec<&[u8]> = fields
        .iter()
        .flat_map(|f| [f.as_slice(), b"v".as_slice()])
        .collect();
    let many_members: Vec<&[u8]> = fields
        .iter()
        .take(200)
        .enumerate()
        .flat_map(|(i, f)| [f.as_slice(), if i % 2 == 0 { b"1.5" } else { b"-7" }])
        .collect();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut plain_list = vec![3u8];
    for e in [&b"a"[..], b"22", &long] {
        plain_list.extend_from_slice(&rdb_string(e));
    }
    cases.push(("list (1)", old_payload(t::LIST, &plain_list)));
    cases.push((
        "ziplist list (10)",
        old_payload(
            t::LIST_ZIPLIST,
            &zl(&[b"x", b"-7", b"9999999999", &long, b"12"]),
        ),
    ));
    let mut ql = vec![2u8];
    ql.extend_from_slice(&zl(&[b"1", b"2", b"-300000"]));
    ql.extend_from_slice(&zl(&[b"three", &long]));
    cases.push(("quicklist (14)", old_payload(t::LIST_QUICKLIST, &ql)));
    let zm = encode_zipmap(&[(b"f1", b"v1"), (b"f2", b"v2"), (b"n", b"12")], 2);
    cases.push(("zipmap (9)", old_payload(t::HASH_ZIPMAP, &rdb_string(&zm))));
    let big = [b'B'; 65];
    let zm = encode_zipmap(&[(b"f", &big), (b"g", b"h")], 0);
    cases.push((
        "zipmap, long value",
        old_payload(t::HASH_ZIPMAP, &rdb_string(&zm)),
    ));
    cases.push((
        "ziplist hash (13)",
        old_payload(t::HASH_ZIPLIST, &zl(&[b"name", b"tern", b"n", b"5"])),
    ));
    cases.push((
        "ziplist hash, 600 fields",
        old_payload(t::HASH_ZIPLIST, &zl(&many_pairs)),
    ));
    cases.push((
        "ziplist zset (12)",
        old_payload(
            t::ZSET_ZIPLIST,
            &zl(&[b"a", b"1", b"b", b"2.5", b"c", b"-3"]),
        ),
    ));
    cases.push((
        "ziplist zset, 200 members",
        old_payload(t::ZSET_ZIPLIST, &zl(&many_members)),
    ));
    let long_member = [b'M'; 80];
    cases.push((
        "ziplist hash, long value",
        old_payload(t::HASH_ZIPLIST, &zl(&[b"f", &long_member, b"g", b"1"])),
    ));
    cases.push((
        "ziplist zset, long member",
        old_payload(t::ZSET_ZIPLIST, &zl(&[&long_member, b"1", b"b", b"2"])),
    ));
    let mut ql_gap = vec![3u8];
    ql_gap.extend_from_slice(&zl(&[b"1"]));
    ql_gap.extend_from_slice(&zl(&[]));
    ql_gap.extend_from_slice(&zl(&[b"2"]));
    cases.push((
        "quicklist with an empty node",
        old_payload(t::LIST_QUICKLIST, &ql_gap),
    ));
    let mut z3 = vec![2u8];
    z3.extend_from_slice(&rdb_string(b"m1"));
    z3.extend_from_slice(b"\x031.5");
    z3.extend_from_slice(&rdb_string(b"m2"));
    z3.push(255);
    cases.push(("zset with string scores (3)", old_payload(t::ZSET, &z3)));
    for (i, (name, payload)) in cases.iter().enumerate() {
        let key = format!("old:{i}");
        assert_eq!(
            r.cmd(&[b"RESTORE", key.as_bytes(), b"0", payload]),
            Reply::Simple("OK".into()),
            "{name}: Redis refused the payload"
        );
        let ours = restore(payload).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let (theirs, enc) = redis_contents(&mut r, key.as_bytes());
        let (mine, my_enc) = contents_of(&ours);
        assert_eq!(mine, theirs, "{name}: contents");
        assert_eq!(my_enc, enc, "{name}: encoding");
    }

    // Payloads both refuse: a duplicate field, an odd count, a broken entry, an empty ziplist.
    let mut bad_prevlen = encode_ziplist(&ziplist_entries(&[b"a", b"b"]));
    bad_prevlen[13] = 9;
    let bad = [
        (
            "duplicate field",
            old_payload(t::HASH_ZIPLIST, &zl(&[b"f", b"1", b"f", b"2"])),
        ),
        (
            "odd count",
            old_payload(t::HASH_ZIPLIST, &zl(&[b"f", b"1", b"g"])),
        ),
        (
            "duplicate zipmap field",
            old_payload(
                t::HASH_ZIPMAP,
                &rdb_string(&encode_zipmap(&[(b"f", b"1"), (b"f", b"2")], 0)),
            ),
        ),
        (
            "bad prevlen",
            old_payload(t::LIST_ZIPLIST, &rdb_string(&bad_prevlen)),
        ),
        ("empty ziplist", old_payload(t::LIST_ZIPLIST, &zl(&[]))),
        ("empty hash ziplist", old_payload(t::HASH_ZIPLIST, &zl(&[]))),
        ("empty zset ziplist", old_payload(t::ZSET_ZIPLIST, &zl(&[]))),
        (
            "empty zipmap",
            old_payload(t::HASH_ZIPMAP, &rdb_string(&encode_zipmap(&[], 0))),
        ),
        ("empty plain list", old_payload(t::LIST, &[0])),
        ("quicklist of empty nodes", {
            let mut q = vec![2u8];
            q.extend_from_slice(&zl(&[]));
            q.extend_from_slice(&zl(&[]));
            old_payload(t::LIST_QUICKLIST, &q)
        }),
        (
            "zipmap count mismatch",
            old_payload(t::HASH_ZIPMAP, &rdb_string(b"\x03\x01a\x01\x00b\xff")),
        ),
    ];
    for (i, (name, payload)) in bad.iter().enumerate() {
        let key = format!("bad-old:{i}");
        let theirs = match r.cmd(&[b"RESTORE", key.as_bytes(), b"0", payload]) {
            Reply::Error(e) => e,
            other => panic!("{name}: Redis accepted the payload ({other:?})"),
        };
        let ours = restore(payload).expect_err(name);
        assert_eq!(ours.to_string(), theirs, "{name}: error text");
    }
}
