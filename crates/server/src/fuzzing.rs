//! Entry points shared by the cargo-fuzz targets (`fuzz/`, libFuzzer, nightly) and by the
//! corpus replay test (`tests/fuzz_corpus.rs`, stable): each takes the raw bytes of one input
//! and must never panic, hang or allocate without bound, whatever the bytes are. A fuzz target
//! is one line calling one of these, so a crash found by the fuzzer replays in `cargo test`
//! from the corpus file it was minimized into.
//!
//! The targets:
//! - [`resp_request`]: the server's request parser (multibulk and inline) under arbitrary
//!   limits, fed whole and split at arbitrary points (both must agree), plus the client-side
//!   frame decoder;
//! - [`commands`]: arbitrary argument vectors (decoded with `arbitrary` from a vocabulary of
//!   command names, keys and option words) run through dispatch on a small keyspace;
//! - [`rdb_load`]: bytes loaded as an RDB file into a keyspace (with the trailing CRC-64
//!   recomputed by the harness on request, so the fuzzer gets past the checksum);
//! - [`scripts`]: the same commands run from Lua scripts through `redis.call`/`redis.pcall`,
//!   their replies converted to Lua and back in RESP2 and RESP3;
//! - [`restore`]: bytes as a RESTORE payload (footer and CRC computed by the harness on
//!   request), then the restored key read and changed by the commands of its type;
//! - [`replica_stream`]: bytes as what a primary sends a replica after PSYNC (the reply line,
//!   the RDB payload framed by length or by an EOF mark, then the command stream), through
//!   the replica's parser and the `tern tail` decoder.

use crate::ctx::Client;
use crate::dispatch;
use crate::server::Server;
use arbitrary::{Arbitrary, Unstructured};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tern_config::Config;
use tern_resp::request::Parsed;
use tern_resp::{ReplyWriter, RequestLimits, RequestParser};

/// A fixed clock for every target, so runs are deterministic (2026-01-01T00:00:00Z).
const NOW_MS: i64 = 1_767_225_600_000;

/// A small server for one input: one shard, 16 databases, a small backlog, the default
/// `proto-max-bulk-len` lowered so SETRANGE/SETBIT cannot ask for 512 MB.
fn small_server() -> Arc<Server> {
    let mut c = Config::default();
    for (k, v) in [
        ("repl-backlog-size", "65536"),
        ("repl-backlog-memory", "65536"),
        ("proto-max-bulk-len", "1mb"),
    ] {
        let _ = c.set(&[(k.as_bytes(), v.as_bytes())]);
    }
    let srv = Server::new(c, 1);
    srv.scripts.inline.store(true, Relaxed);
    srv
}

fn client(srv: &Server) -> Client {
    let info = srv.clients.register("fuzz".into(), "fuzz".into(), -1);
    let stats = srv.stats.new_worker(srv.table.ids());
    Client::new(info, stats, true)
}

/// Runs one command as `cl` and settles what a connection would wait for (a blocked command
/// is cancelled at once, WAIT is dropped), so nothing waits.
fn run(srv: &Server, cl: &mut Client, out: &mut ReplyWriter, args: &[&[u8]]) {
    if args.is_empty() {
        return;
    }
    out.buf.clear();
    let _ = dispatch::execute(srv, cl, out, args, NOW_MS);
    if cl.blocked.take().is_some() {
        srv.blocking.cancel(cl.info.id);
    }
    cl.wait_repl = None;
    cl.handoff = None;
}

// ---------------------------------------------------------------------------------------------
// RESP

/// The request parser: the first bytes choose the limits and a split point; the rest is the
/// query buffer. Parsing it in one piece and arriving in two pieces must give the same
/// requests and the same error.
pub fn resp_request(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let limits = RequestLimits {
        max_bulk_len: match data[0] & 3 {
            0 => 16,
            1 => 1024,
            2 => 512 * 1024 * 1024,
            _ => u64::MAX,
        },
        unauthenticated: data[0] & 4 != 0,
    };
    let split = u16::from_le_bytes([data[1], data[2]]) as usize;
    let buf = &data[3..];
    let whole = parse_all(buf, buf.len(), &limits);
    let split = split.min(buf.len());
    let parts = parse_all(buf, split, &limits);
    // What was complete after the first part is a prefix of what the whole gives.
    assert!(parts.0.len() <= whole.0.len());
    assert_eq!(&whole.0[..parts.0.len()], &parts.0[..]);
    // A prefix's error is the whole's, except the "too big" ones, which depend on how much
    // has arrived without a newline (as in Redis).
    if parts.1.is_some() && buf.len() <= tern_resp::request::INLINE_MAX_SIZE {
        assert_eq!(parts.1, whole.1);
    }
    // The client-side frame decoder: any prefix decodes or says "incomplete", never panics.
    let mut rest = buf;
    while let Ok((_, used)) = tern_resp::Frame::decode(rest) {
        if used == 0 {
            break;
        }
        rest = &rest[used..];
    }
}

type ParsedAll = (Vec<Vec<Vec<u8>>>, Option<String>);

/// Parses the requests complete within `buf[..avail]`, as a connection would: requests and
/// the protocol error that stopped it, if any.
fn parse_all(buf: &[u8], avail: usize, limits: &RequestLimits) -> ParsedAll {
    let mut p = RequestParser::new();
    let mut pos = 0;
    let mut reqs = Vec::new();
    let data = &buf[..avail];
    loop {
        match p.parse(&data[pos..], limits) {
            Ok(Parsed::Complete(used)) => {
                assert!(used > 0 && pos + used <= data.len());
                let base = &data[pos..];
                reqs.push(
                    (0..p.request.len())
                        .map(|i| p.request.arg(base, i).to_vec())
                        .collect(),
                );
                pos += used;
            }
            Ok(Parsed::Incomplete { .. }) => return (reqs, None),
            Err(e) => return (reqs, Some(e.to_string())),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Commands

/// Commands that would make a run slow, nondeterministic or touch the world (disk, network,
/// threads, the process): never sent. The names are the table's (lowercase).
const EXCLUDED: &[&str] = &[
    "shutdown",
    "save",
    "bgsave",
    "bgrewriteaof",
    "replicaof",
    "slaveof",
    "failover",
    "sync",
    "psync",
    "monitor",
    "eval",
    "evalsha",
    "eval_ro",
    "evalsha_ro",
    "fcall",
    "fcall_ro",
    "function",
    "script",
    "pfselftest",
    "wait",
    "waitaof",
    "debug",
];

/// Words the argument generator picks from: keys, numbers at the edges, option names.
const WORDS: &[&str] = &[
    "k",
    "k2",
    "{k}3",
    "dst",
    "0",
    "1",
    "-1",
    "2",
    "3",
    "10",
    "100",
    "-100",
    "512",
    "65",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "1.5",
    "-0.5",
    "inf",
    "+inf",
    "-inf",
    "nan",
    "(1",
    "[a",
    "(a",
    "-",
    "+",
    "*",
    "a",
    "b",
    "c",
    "x",
    "",
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "KEEPTTL",
    "GET",
    "PERSIST",
    "WITHSCORES",
    "WITHSCORE",
    "WITHVALUES",
    "LIMIT",
    "COUNT",
    "MATCH",
    "TYPE",
    "BYSCORE",
    "BYLEX",
    "REV",
    "STORE",
    "WEIGHTS",
    "AGGREGATE",
    "SUM",
    "MIN",
    "MAX",
    "LEFT",
    "RIGHT",
    "BEFORE",
    "AFTER",
    "RANK",
    "MAXLEN",
    "ALPHA",
    "ASC",
    "DESC",
    "BY",
    "#",
    "k->f",
    "REPLACE",
    "ABSTTL",
    "IDLETIME",
    "FREQ",
    "DB",
    "OVERFLOW",
    "WRAP",
    "SAT",
    "FAIL",
    "INCRBY",
    "SET",
    "i8",
    "u63",
    "i64",
    "#1",
    "BIT",
    "BYTE",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "ENCODING",
    "NOW",
    "SYNC",
    "ASYNC",
    "LEN",
    "IDX",
    "MINMATCHLEN",
    "SCHEDULE",
    "FIELDS",
    "ON",
    "OFF",
    "YES",
    "NO",
    "h*",
    "k?",
    "[a-z]*",
];

/// CONFIG SET parameters the generator may change: the encoding thresholds and events, all
/// pure in-memory settings.
const CONFIG_PARAMS: &[&str] = &[
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "set-max-intset-entries",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
    "list-max-listpack-size",
    "notify-keyspace-events",
    "hll-sparse-max-bytes",
];

/// One argument as the fuzzer builds it.
#[derive(Arbitrary, Debug)]
enum Arg {
    Word(u8),
    Int(i64),
    Small(u8),
    Bytes(Vec<u8>),
}

/// One command: an index into the command table (subcommands included) and its arguments.
#[derive(Arbitrary, Debug)]
struct Cmd {
    name: u16,
    args: Vec<Arg>,
}

/// Runs arbitrary commands (decoded from `data` with `arbitrary`) against a fresh server,
/// one client, fixed clock.
pub fn commands(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(cmds) = Vec::<Cmd>::arbitrary(&mut u) else {
        return;
    };
    let srv = small_server();
    let mut cl = client(&srv);
    let mut out = ReplyWriter::new();
    let names = command_names(&srv);
    for (n, c) in cmds.iter().take(64).enumerate() {
        let argv = build_argv(&names, c);
        let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        run(&srv, &mut cl, &mut out, &args);
        // Every few commands, read the whole dataset back (DEBUG DIGEST walks every value)
        // and save it, so corrupt internals show up as panics here rather than later.
        if n % 16 == 15 {
            check_dataset(&srv);
        }
    }
    check_dataset(&srv);
}

/// Every command and subcommand the generator may send, as (name words), sorted.
fn command_names(srv: &Server) -> Vec<Vec<String>> {
    let mut names: Vec<Vec<String>> = Vec::new();
    for s in srv.table.iter() {
        if EXCLUDED.contains(&s.name.as_str()) {
            continue;
        }
        if s.subcommands.is_empty() {
            names.push(vec![s.name.clone()]);
        }
        for sub in &s.subcommands {
            let (parent, child) = sub.name.split_once('|').unwrap_or((&s.name, &sub.name));
            if matches!(
                (parent, child),
                ("client", "pause") | ("config", "rewrite") | ("config", "set")
            ) {
                continue;
            }
            names.push(vec![parent.to_string(), child.to_string()]);
        }
    }
    names.push(vec!["config".into(), "set".into()]);
    names.sort();
    names
}

/// The argument vector of one generated command.
fn build_argv(names: &[Vec<String>], c: &Cmd) -> Vec<Vec<u8>> {
    let base = &names[c.name as usize % names.len()];
    let mut argv: Vec<Vec<u8>> = base.iter().map(|s| s.as_bytes().to_vec()).collect();
    let is_config_set = base[0] == "config" && base.get(1).is_some_and(|s| s == "set");
    for (i, a) in c.args.iter().take(16).enumerate() {
        let b = match a {
            Arg::Word(w) if is_config_set && i % 2 == 0 => CONFIG_PARAMS
                [*w as usize % CONFIG_PARAMS.len()]
            .as_bytes()
            .to_vec(),
            _ if is_config_set && i % 2 == 0 => CONFIG_PARAMS[0].as_bytes().to_vec(),
            Arg::Word(w) => WORDS[*w as usize % WORDS.len()].as_bytes().to_vec(),
            Arg::Int(v) => v.to_string().into_bytes(),
            Arg::Small(v) => (*v as i64 - 64).to_string().into_bytes(),
            Arg::Bytes(b) => b.iter().take(300).copied().collect(),
        };
        argv.push(b);
    }
    argv
}

// ---------------------------------------------------------------------------------------------
// Scripts

/// The scripts [`scripts`] runs commands through: `redis.call` and `redis.pcall` with the
/// command in ARGV, their replies converted to Lua (RESP2 and RESP3) and back, numbers as
/// arguments, errors raised and caught. None loops.
const SCRIPTS: &[&str] = &[
    "return redis.pcall(unpack(ARGV))",
    "return redis.call(unpack(ARGV))",
    "redis.setresp(3) return redis.pcall(unpack(ARGV))",
    "local r = redis.pcall(unpack(ARGV)) return {type(r), r}",
    "redis.setresp(3) local r = redis.pcall(unpack(ARGV)) \
     if type(r) == 'table' then return {r.map and 'map' or '', r.set and 'set' or '', \
     r.double or '', r.big_number or '', r.ok or '', r.err or '', r} end return r",
    "local a = {} for i, v in ipairs(ARGV) do a[i] = tonumber(v) or v end \
     return redis.pcall(unpack(a))",
    "local ok, e = pcall(redis.call, unpack(ARGV)) return {tostring(ok), e}",
    "return cjson.encode({redis.pcall(unpack(ARGV))})",
];

/// One command run through one of [`SCRIPTS`], by a RESP2 or RESP3 caller.
#[derive(Arbitrary, Debug)]
struct ScriptCmd {
    script: u8,
    resp3: bool,
    cmd: Cmd,
}

/// Runs arbitrary commands through scripts (`redis.call` / `redis.pcall` and the reply
/// conversions both ways, on the Lua stack) against a fresh server, then checks the dataset.
pub fn scripts(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(cmds) = Vec::<ScriptCmd>::arbitrary(&mut u) else {
        return;
    };
    let srv = small_server();
    let mut cl = client(&srv);
    let mut out = ReplyWriter::new();
    let names = command_names(&srv);
    for c in cmds.iter().take(32) {
        let script = SCRIPTS[c.script as usize % SCRIPTS.len()];
        let mut argv: Vec<Vec<u8>> =
            vec![b"eval".to_vec(), script.as_bytes().to_vec(), b"0".to_vec()];
        argv.extend(build_argv(&names, &c.cmd));
        let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        out.proto = if c.resp3 {
            tern_resp::Proto::Resp3
        } else {
            tern_resp::Proto::Resp2
        };
        run(&srv, &mut cl, &mut out, &args);
        // The reply is one well-formed frame.
        if !out.buf.is_empty() {
            let (_, used) = tern_resp::Frame::decode(&out.buf).expect("a script's reply decodes");
            assert_eq!(used, out.buf.len(), "one reply per script");
        }
    }
    check_dataset(&srv);
}

/// Serializes every database and reloads it into a second server: exercises every value's
/// encoder and the loader on whatever state the commands left.
fn check_dataset(srv: &Arc<Server>) {
    let Ok(snap) = crate::snapshot::begin_for_replica(srv) else {
        return;
    };
    let sink = SharedBuf::default();
    snap.run_to(srv, Box::new(sink.clone()))
        .expect("writing to memory cannot fail");
    let bytes = std::mem::take(&mut *sink.0.lock());
    let other = small_server();
    crate::loader::load_rdb_bytes(&other, &bytes, false, "fuzz")
        .expect("a saved dataset loads back");
}

/// A `Write` into shared memory (a snapshot writer wants a `'static` sink).
#[derive(Clone, Default)]
struct SharedBuf(Arc<parking_lot::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// RDB files

/// Loads `data[1..]` as an RDB file; bit 0 of `data[0]` makes the harness replace the last 8
/// bytes with the right CRC-64, bit 1 loads truncated files' valid prefix, bit 2 loads aside
/// (as a replica's full sync does) instead.
pub fn rdb_load(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = rest.to_vec();
    if mode & 1 != 0 && bytes.len() >= 9 {
        let n = bytes.len() - 8;
        let crc = tern_persist::crc64::crc64(&bytes[..n]);
        bytes[n..].copy_from_slice(&crc.to_le_bytes());
    }
    let srv = small_server();
    if mode & 4 != 0 {
        let _ = crate::loader::load_rdb_aside(&srv, &bytes, "fuzz");
    } else if crate::loader::load_rdb_bytes(&srv, &bytes, mode & 2 != 0, "fuzz").is_ok() {
        // Whatever loaded must be usable: read every value and save it again.
        check_dataset(&srv);
    }
    let _ = tern_persist::rdb::check::check_file(&bytes, NOW_MS, &mut std::io::sink());
}

// ---------------------------------------------------------------------------------------------
// RESTORE

/// RESTOREs `data[1..]` as a DUMP payload (bit 0 of `data[0]`: the harness appends the
/// version-10 footer with the right CRC-64), then reads and changes the key with commands of
/// every type: a payload that RESTORE accepts must be a value every command can use.
pub fn restore(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut payload = rest.to_vec();
    if mode & 1 != 0 {
        payload.extend_from_slice(&10u16.to_le_bytes());
        let crc = tern_persist::crc64::crc64(&payload);
        payload.extend_from_slice(&crc.to_le_bytes());
    }
    let _ = tern_persist::dump::restore(&payload);
    let srv = small_server();
    let mut cl = client(&srv);
    let mut out = ReplyWriter::new();
    let r = |cl: &mut Client, out: &mut ReplyWriter, args: &[&[u8]]| {
        run(&srv, cl, out, args);
        out.buf.first() != Some(&b'-')
    };
    if !r(&mut cl, &mut out, &[b"RESTORE", b"k", b"0", &payload]) {
        return;
    }
    // Read it every way, then change it every way, then read and save again.
    let reads: &[&[&[u8]]] = &[
        &[b"TYPE", b"k"],
        &[b"OBJECT", b"ENCODING", b"k"],
        &[b"DUMP", b"k"],
        &[b"GET", b"k"],
        &[b"STRLEN", b"k"],
        &[b"GETRANGE", b"k", b"0", b"-1"],
        &[b"LRANGE", b"k", b"0", b"-1"],
        &[b"LLEN", b"k"],
        &[b"LINDEX", b"k", b"-1"],
        &[b"LPOS", b"k", b"a"],
        &[b"HGETALL", b"k"],
        &[b"HLEN", b"k"],
        &[b"HGET", b"k", b"a"],
        &[b"HSCAN", b"k", b"0"],
        &[b"HRANDFIELD", b"k", b"-5", b"WITHVALUES"],
        &[b"SMEMBERS", b"k"],
        &[b"SISMEMBER", b"k", b"1"],
        &[b"SRANDMEMBER", b"k", b"-5"],
        &[b"SSCAN", b"k", b"0"],
        &[b"ZRANGE", b"k", b"0", b"-1", b"WITHSCORES"],
        &[b"ZRANGEBYSCORE", b"k", b"-inf", b"+inf"],
        &[b"ZRANGEBYLEX", b"k", b"-", b"+"],
        &[b"ZRANK", b"k", b"a"],
        &[b"ZSCORE", b"k", b"a"],
        &[b"ZCARD", b"k"],
        &[b"ZRANDMEMBER", b"k", b"-5", b"WITHSCORES"],
        &[b"PFCOUNT", b"k"],
        &[b"BITCOUNT", b"k"],
        &[b"SORT", b"k", b"ALPHA"],
    ];
    let writes: &[&[&[u8]]] = &[
        &[b"APPEND", b"k", b"x"],
        &[b"SETRANGE", b"k", b"3", b"yy"],
        &[b"INCR", b"k"],
        &[b"SETBIT", b"k", b"100", b"1"],
        &[b"PFADD", b"k", b"a", b"b", b"c"],
        &[b"LPUSH", b"k", b"a", b"1"],
        &[b"RPUSH", b"k", b"b"],
        &[b"LINSERT", b"k", b"BEFORE", b"a", b"z"],
        &[b"LSET", b"k", b"0", b"q"],
        &[b"LREM", b"k", b"0", b"b"],
        &[b"LTRIM", b"k", b"1", b"-2"],
        &[b"RPOP", b"k"],
        &[b"HSET", b"k", b"a", b"1", b"b", b"2"],
        &[b"HINCRBY", b"k", b"a", b"5"],
        &[b"HDEL", b"k", b"b"],
        &[b"SADD", b"k", b"1", b"x", b"2"],
        &[b"SREM", b"k", b"1"],
        &[b"SPOP", b"k"],
        &[b"ZADD", b"k", b"1", b"a", b"2", b"b"],
        &[b"ZINCRBY", b"k", b"2", b"a"],
        &[b"ZREM", b"k", b"b"],
        &[b"ZPOPMIN", b"k"],
        &[b"ZREMRANGEBYRANK", b"k", b"0", b"0"],
        &[b"COPY", b"k", b"k2"],
        &[b"RENAME", b"k2", b"k3"],
    ];
    for c in reads {
        r(&mut cl, &mut out, c);
    }
    check_dataset(&srv);
    for c in writes {
        r(&mut cl, &mut out, c);
    }
    for c in reads {
        r(&mut cl, &mut out, c);
    }
    check_dataset(&srv);
}

// ---------------------------------------------------------------------------------------------
// The replica's stream

/// What a primary sends after PSYNC, through the replica's parser (`repl::replica::SyncParser`)
/// into a keyspace, and through `tern tail`'s decoder.
pub fn replica_stream(data: &[u8]) {
    let srv = small_server();
    crate::repl::replica::fuzz_sync_bytes(&srv, data, NOW_MS);
    tern_tail::fuzz_stream(data);
}
