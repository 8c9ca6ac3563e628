//! Functions (FUNCTION LOAD / FCALL, Redis 7.0) over raw sockets: a differential run of library
//! loads, calls and FUNCTION subcommands against Debian's redis-server (replies, errors and the
//! DUMP payload compared byte for byte), and a busy function (BUSY naming FUNCTION KILL,
//! FUNCTION STATS while it runs, SCRIPT KILL refused, FUNCTION KILL). All pass against
//! redis-server too (`TERN_IT_SERVER=redis`).

use crate::harness::*;
use std::time::{Duration, Instant};

fn is_redis() -> bool {
    std::env::var("TERN_IT_SERVER").as_deref() == Ok("redis")
}

fn error(s: &str) -> Resp {
    Resp::Error(s.into())
}

fn cmd_bytes(c: &mut Raw, args: &[&[u8]]) -> Resp {
    c.send(&encode(args));
    c.read_reply()
}

/// Libraries loaded on both servers (FUNCTION LOAD replies compared), one at a time.
const LOADS: &[&str] = &[
    "#!lua name=t\nlocal x = type(1)\nredis.register_function('f', function() return 1 end)",
    "#!lua name=t\nredis.call('ping')",
    "#!lua name=t\na = 1",
    "#!lua name=t\nreturn 1",
    "#!lua name=t\n\nreturn +",
    "lua name=t",
    "#!lua name=t",
    "#!lua",
    "#!luax name=t\n",
    "#!LUA name=t foo=bar\n",
    "#!lua name=t name=v\n",
    "#!lua name=t-x\n",
    "#!lua name=\n",
    "#!lua \"name=t\n",
    "#!lua name=t\nredis.register_function()",
    "#!lua name=t\nredis.register_function(1, 2, 3)",
    "#!lua name=t\nredis.register_function({}, 2)",
    "#!lua name=t\nredis.register_function('x', 2)",
    "#!lua name=t\nredis.register_function('x-y', function() end)",
    "#!lua name=t\nredis.register_function('x', function() end) redis.register_function('x', function() end)",
    "#!lua name=t\nredis.register_function(5)",
    "#!lua name=t\nredis.register_function{function_name=function() end}",
    "#!lua name=t\nredis.register_function{function_name='a', callback='b'}",
    "#!lua name=t\nredis.register_function{function_name='a', callback=function() end, flags='x'}",
    "#!lua name=t\nredis.register_function{function_name='a', callback=function() end, flags={'bad'}}",
    "#!lua name=t\nredis.register_function{function_name='a', callback=function() end, flags={1}}",
    "#!lua name=t\nredis.register_function{function_name='a', callback=function() end, other=1}",
    "#!lua name=t\nredis.register_function{callback=function() end}",
    "#!lua name=t\nredis.register_function{function_name='a'}",
    "#!lua name=t\nredis.register_function{function_name='a', callback=function() end, description={}}",
    "#!lua name=t\nredis.register_function{[1]=1}",
    "#!lua name=t\nredis.register_function{[true]=1}",
    "#!lua name=t\nredis.setresp(3)",
    "#!lua name=t\nredis.log = 1",
    "#!lua name=t\nlocal t = redis.register_function\nt('z2', function() end)",
    "#!lua name=t \nredis.register_function('z5', function() return 1 end)",
    "#!lua \"name=t\"\nredis.register_function(\"z6\", function() return 1 end)",
    "#!lua name=t\nerror('x')",
    "#!lua name=t\nerror({err='MY x'})",
    "#!lua name=t\nredis.log(redis.LOG_NOTICE, 'loading') redis.register_function('v', function() return redis.REDIS_VERSION_NUM end)",
    "#!lua name=t\nredis.register_function{function_name=12, callback=function() end, description=3.5, flags={'no-writes', 'ALLOW-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}",
];

/// The library the calls below run against.
const LIB: &str = "#!lua name=lib
redis.register_function{function_name='NoWr', callback=function() return redis.call('set','x','1') end, flags={'no-writes'}, description='d'}
redis.register_function('Wr', function(k, a) return redis.call('set', k[1], a[1]) end)
redis.register_function('Err', function(k, a) return redis.call('incr', 'nope', 'x') end)
redis.register_function('Err2', function(k, a)
  error('boom')
end)
redis.register_function('reg', function() return redis.register_function('y', function() end) end)
redis.register_function('k', function() return KEYS end)
redis.register_function('g', function() return {type(redis.setresp), type(redis.set_repl), type(cjson), type(redis.sha1hex), type(redis.breakpoint), type(redis.call)} end)
redis.register_function('gw', function() xx = 1 end)
redis.register_function{function_name='ro', callback=function(k) return redis.call('get', k[1]) end, flags={'no-writes'}}
redis.register_function('echo', function(k, a) return {k, a, #k, #a} end)
redis.register_function('pc', function() return redis.pcall('incr', 'nope', 'x') end)
redis.register_function('st', function() return redis.status_reply('FINE') end)
redis.register_function('er', function() return redis.error_reply('MY failure') end)
";

const CALLS: &[&[&str]] = &[
    &["FCALL", "nowr", "1", "kk", "vv"],
    &["FCALL_RO", "nowr", "1", "kk", "vv"],
    &["FCALL", "wr", "1", "kk", "vv"],
    &["FCALL_RO", "wr", "1", "kk", "vv"],
    &["FCALL", "ro", "1", "kk"],
    &["FCALL_RO", "RO", "1", "kk"],
    &["FCALL", "err", "0"],
    &["FCALL", "err2", "0"],
    &["FCALL", "reg", "0"],
    &["FCALL", "k", "0"],
    &["FCALL", "g", "0"],
    &["FCALL", "gw", "0"],
    &["FCALL", "echo", "2", "a", "b", "c"],
    &["FCALL", "echo", "0"],
    &["FCALL", "pc", "0"],
    &["FCALL", "st", "0"],
    &["FCALL", "er", "0"],
    &["FCALL", "nosuch", "0"],
    &["FCALL", "nosuch", "x"],
    &["FCALL", "wr", "x"],
    &["FCALL", "wr", "3", "a"],
    &["FCALL", "wr", "-1"],
    &["FCALL", "wr"],
    &["FUNCTION", "LIST"],
    &["FUNCTION", "LIST", "WITHCODE"],
    &["FUNCTION", "LIST", "LIBRARYNAME", "l*", "WITHCODE"],
    &["FUNCTION", "LIST", "LIBRARYNAME", "nomatch"],
    &["FUNCTION", "LIST", "WITHCODE", "WITHCODE"],
    &["FUNCTION", "LIST", "LIBRARYNAME"],
    &["FUNCTION", "LIST", "foo"],
    &["FUNCTION", "STATS"],
    &["FUNCTION", "STATS", "x"],
    &["FUNCTION", "LOAD", LIB],
    &["FUNCTION", "LOAD", "x", LIB],
    &["FUNCTION", "LOAD", "REPLACE"],
    &["FUNCTION", "LOAD", "REPLACE", LIB],
    &[
        "FUNCTION",
        "LOAD",
        "#!lua name=other\nredis.register_function('WR', function() end)",
    ],
    &["FUNCTION", "DELETE", "nosuch"],
    &["FUNCTION", "DELETE"],
    &["FUNCTION", "FLUSH", "x"],
    &["FUNCTION", "FLUSH", "sync", "x"],
    &["FUNCTION", "RESTORE", "x", "y"],
    &["FUNCTION", "RESTORE", "x", "y", "z"],
    &["FUNCTION", "RESTORE", "x"],
    &["FUNCTION", "RESTORE"],
    &["FUNCTION", "DUMP", "x"],
    &["FUNCTION", "KILL"],
    &["FUNCTION", "KILL", "x"],
    &["FUNCTION", "NOPE"],
    &["FUNCTION", "HELP"],
    &["FUNCTION", "DELETE", "lib"],
    &["FCALL", "wr", "1", "a", "b"],
    &["FUNCTION", "STATS"],
];

#[test]
fn functions_reply_like_redis_server() {
    if is_redis() {
        return; // Compares tern with redis-server; nothing to compare against itself.
    }
    let tern = TestServer::start();
    let redis = RedisServer::start();
    let mut t = tern.raw_conn();
    let mut r = redis.raw_conn();
    for code in LOADS {
        for c in [&mut t, &mut r] {
            c.cmd(&["FUNCTION", "FLUSH"]);
        }
        let args = ["FUNCTION", "LOAD", code];
        assert_eq!(t.cmd(&args), r.cmd(&args), "{code}");
        // What got loaded lists the same (one library, so no order to differ).
        let args = ["FUNCTION", "LIST", "WITHCODE"];
        assert_eq!(t.cmd(&args), r.cmd(&args), "{code}");
    }
    for c in [&mut t, &mut r] {
        c.cmd(&["FUNCTION", "FLUSH"]);
        assert_eq!(c.cmd(&["FUNCTION", "LOAD", LIB]), Resp::bulk("lib"));
        c.cmd(&["SET", "kk", "value"]);
    }
    for args in CALLS {
        assert_eq!(unordered(t.cmd(args)), unordered(r.cmd(args)), "{args:?}");
    }
    // RESP3 maps and sets.
    for c in [&mut t, &mut r] {
        c.cmd(&["HELLO", "3"]);
        c.cmd(&["FUNCTION", "LOAD", "REPLACE", LIB]);
    }
    for args in [
        &["FUNCTION", "LIST"][..],
        &["FUNCTION", "STATS"],
        &["FCALL", "echo", "1", "a", "b"],
    ] {
        assert_eq!(
            unordered(t.cmd(args)),
            unordered(r.cmd(args)),
            "RESP3 {args:?}"
        );
    }
    // DUMP payloads are byte-identical (one library: LZF-compressed code, version, CRC), and
    // each server restores the other's.
    let mut dumps = Vec::new();
    for c in [&mut t, &mut r] {
        let Resp::Bulk(Some(p)) = c.cmd(&["FUNCTION", "DUMP"]) else {
            panic!("DUMP")
        };
        dumps.push(p);
    }
    assert_eq!(dumps[0], dumps[1]);
    for (c, p) in [(&mut t, &dumps[1]), (&mut r, &dumps[0])] {
        assert_eq!(
            cmd_bytes(c, &[b"FUNCTION", b"RESTORE", p]),
            error("ERR Library lib already exists")
        );
        assert_eq!(
            cmd_bytes(c, &[b"FUNCTION", b"RESTORE", p, b"FLUSH"]),
            Resp::Simple("OK".into())
        );
        let mut bad = p.clone();
        bad[3] ^= 0x20;
        assert_eq!(
            cmd_bytes(c, &[b"FUNCTION", b"RESTORE", &bad]),
            error("ERR DUMP payload version or checksum are wrong")
        );
        let mut other = p.clone();
        other[0] = 246;
        let n = other.len();
        let crc = crc64_jones(&other[..n - 8]);
        other[n - 8..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(
            cmd_bytes(c, &[b"FUNCTION", b"RESTORE", &other]),
            error("ERR Failed loading engine name")
        );
        other[0] = 0;
        let crc = crc64_jones(&other[..n - 8]);
        other[n - 8..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(
            cmd_bytes(c, &[b"FUNCTION", b"RESTORE", &other]),
            error("ERR given type is not a function")
        );
        c.cmd(&["FUNCTION", "FLUSH"]);
    }
    for c in [&mut t, &mut r] {
        let Resp::Bulk(Some(p)) = c.cmd(&["FUNCTION", "DUMP"]) else {
            panic!("DUMP")
        };
        dumps.push(p);
    }
    assert_eq!(dumps[2], dumps[3], "an empty DUMP");
}

/// FUNCTION LIST lists a library's functions in hash-table order, which is Redis's own
/// (random) order: sort them so that replies compare.
fn unordered(r: Resp) -> Resp {
    let sort = |v: &mut Vec<Resp>| v.sort_by_key(|x| format!("{x:?}"));
    match r {
        Resp::Array(Some(libs)) => Resp::Array(Some(
            libs.into_iter()
                .map(|lib| match lib {
                    Resp::Array(Some(mut fields)) => {
                        for i in (1..fields.len()).step_by(2) {
                            if fields[i - 1] == Resp::bulk("functions") {
                                if let Resp::Array(Some(fs)) = &mut fields[i] {
                                    sort(fs);
                                }
                            }
                        }
                        Resp::Array(Some(fields))
                    }
                    Resp::Map(mut fields) => {
                        for (k, v) in fields.iter_mut() {
                            if *k == Resp::bulk("functions") {
                                if let Resp::Array(Some(fs)) = v {
                                    sort(fs);
                                }
                            }
                        }
                        Resp::Map(fields)
                    }
                    other => other,
                })
                .collect(),
        )),
        other => other,
    }
}

/// CRC-64/Jones as Redis computes it (reflected, polynomial 0xad93d23594c935a9).
fn crc64_jones(bytes: &[u8]) -> u64 {
    let poly: u64 = 0x95ac9329ac4bc9b5; // 0xad93d23594c935a9 reflected
    let mut crc = 0u64;
    for &b in bytes {
        crc ^= b as u64;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ poly
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// Sends PING until it gets BUSY (the function is past the threshold); panics after 10 s.
fn wait_busy(c: &mut Raw) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match c.cmd(&["PING"]) {
            Resp::Error(e) if e.starts_with("BUSY ") => return e,
            other => assert_eq!(other, Resp::Simple("PONG".into())),
        }
        assert!(Instant::now() < deadline, "never got BUSY");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_busy_function_gets_busy_replies_and_function_kill_stops_it() {
    let srv = TestServer::start();
    let mut admin = srv.raw_conn();
    admin.cmd(&["CONFIG", "SET", "busy-reply-threshold", "100"]);
    let lib = "#!lua name=spin\nredis.register_function('spin', function()\n  local i = 0\n  while true do i = i + 1 end\nend)";
    assert_eq!(admin.cmd(&["FUNCTION", "LOAD", lib]), Resp::bulk("spin"));
    let mut runner = srv.raw_conn();
    runner.send(&encode(&[b"FCALL", b"spin", b"1", b"key", b"arg"]));
    assert_eq!(
        wait_busy(&mut admin),
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    );
    let Resp::Array(Some(stats)) = admin.cmd(&["FUNCTION", "STATS"]) else {
        panic!("FUNCTION STATS is an array")
    };
    assert_eq!(stats[0], Resp::bulk("running_script"));
    let Resp::Array(Some(running)) = &stats[1] else {
        panic!("a running function: {stats:?}")
    };
    assert_eq!(running[0], Resp::bulk("name"));
    assert_eq!(running[1], Resp::bulk("spin"));
    assert_eq!(
        running[3],
        Resp::Array(Some(
            ["FCALL", "spin", "1", "key", "arg"]
                .iter()
                .map(Resp::bulk)
                .collect()
        ))
    );
    assert_eq!(running[4], Resp::bulk("duration_ms"));
    assert!(matches!(running[5], Resp::Int(ms) if ms >= 100));
    assert_eq!(
        admin.cmd(&["SCRIPT", "KILL"]),
        error("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
    );
    assert_eq!(admin.cmd(&["FUNCTION", "KILL"]), Resp::Simple("OK".into()));
    assert_eq!(
        runner.read_reply(),
        error("ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:4.")
    );
    assert_eq!(admin.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert_eq!(
        admin.cmd(&["FUNCTION", "KILL"]),
        error("NOTBUSY No scripts in execution right now.")
    );
    // FUNCTION KILL does not stop an EVAL, and FUNCTION STATS refuses to run during one.
    runner.send(&encode(&[b"EVAL", b"while true do end", b"0"]));
    wait_busy(&mut admin);
    let busy_eval =
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    assert_eq!(admin.cmd(&["FUNCTION", "KILL"]), error(busy_eval));
    assert_eq!(admin.cmd(&["FUNCTION", "STATS"]), error(busy_eval));
    assert_eq!(admin.cmd(&["SCRIPT", "KILL"]), Resp::Simple("OK".into()));
    assert!(matches!(runner.read_reply(), Resp::Error(_)));
}

#[test]
fn a_function_that_wrote_cannot_be_killed() {
    let srv = TestServer::start();
    let mut admin = srv.raw_conn();
    admin.cmd(&["CONFIG", "SET", "busy-reply-threshold", "100"]);
    let lib = "#!lua name=w\nredis.register_function('w', function()
  redis.call('set', 'w', '1')
  local t0 = redis.call('time')
  while true do
    local t = redis.call('time')
    if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 1000000 then break end
  end
  return 'done'
end)";
    admin.cmd(&["FUNCTION", "LOAD", lib]);
    let mut runner = srv.raw_conn();
    runner.send(&encode(&[b"FCALL", b"w", b"0"]));
    wait_busy(&mut admin);
    assert_eq!(
        admin.cmd(&["FUNCTION", "KILL"]),
        error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
    );
    assert_eq!(runner.read_reply(), Resp::bulk("done"));
    assert_eq!(admin.cmd(&["GET", "w"]), Resp::bulk("1"));
}

#[test]
fn fcall_under_maxmemory_needs_allow_oom_or_no_writes() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    let lib = "#!lua name=m
redis.register_function('plain', function() return 1 end)
redis.register_function{function_name='oom', callback=function() return 2 end, flags={'allow-oom'}}
redis.register_function{function_name='ro', callback=function() return 3 end, flags={'no-writes'}}";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), Resp::bulk("m"));
    c.cmd(&["CONFIG", "SET", "maxmemory", "1"]);
    assert_eq!(
        c.cmd(&["FCALL", "plain", "0"]),
        error("OOM command not allowed when used memory > 'maxmemory'.")
    );
    assert_eq!(c.cmd(&["FCALL", "oom", "0"]), Resp::Int(2));
    assert_eq!(c.cmd(&["FCALL", "ro", "0"]), Resp::Int(3));
    c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
    assert_eq!(c.cmd(&["FCALL", "plain", "0"]), Resp::Int(1));
}

#[test]
fn monitor_shows_eval_and_fcall_before_the_commands_they_run() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    let lib = "#!lua name=mon\nredis.register_function('monf', function() return redis.call('get', 'y') end)";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), Resp::bulk("mon"));
    let mut m = srv.raw_conn();
    assert_eq!(m.cmd(&["MONITOR"]), Resp::Simple("OK".into()));
    c.cmd(&["EVAL", "return redis.call('get', 'x')", "0"]);
    c.cmd(&["FCALL", "monf", "0"]);
    let tails: Vec<String> = (0..4)
        .map(|_| match m.read_reply() {
            Resp::Simple(s) => s.split_once(' ').unwrap().1.to_string(),
            other => panic!("MONITOR sent {other:?}"),
        })
        .collect();
    assert!(
        tails[0].ends_with(r#"] "EVAL" "return redis.call('get', 'x')" "0""#),
        "{tails:?}"
    );
    assert_eq!(tails[1], r#"[0 lua] "get" "x""#);
    assert!(tails[2].ends_with(r#"] "FCALL" "monf" "0""#), "{tails:?}");
    assert_eq!(tails[3], r#"[0 lua] "get" "y""#);
}

#[test]
fn info_memory_counts_scripts_functions_and_libraries() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    let field = |c: &mut Raw, name: &str| -> String {
        let info = c.cmd(&["INFO", "memory"]).text();
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in INFO memory"))
            .trim()
            .to_string()
    };
    c.cmd(&["SCRIPT", "FLUSH"]);
    c.cmd(&["FUNCTION", "FLUSH"]);
    c.cmd(&["SCRIPT", "LOAD", "return 1"]);
    c.cmd(&["EVAL", "return 2", "0"]);
    c.cmd(&["FUNCTION", "LOAD", "#!lua name=a\nredis.register_function('a1', function() end)\nredis.register_function('a2', function() end)"]);
    c.cmd(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=b\nredis.register_function('b1', function() end)",
    ]);
    assert_eq!(field(&mut c, "number_of_cached_scripts"), "2");
    assert_eq!(field(&mut c, "number_of_functions"), "3");
    assert_eq!(field(&mut c, "number_of_libraries"), "2");
}

/// Libraries are saved in RDB files (opcode 245) and loaded back: tern's file by redis-server
/// and by tern (DEBUG RELOAD), redis-server's file by tern.
#[test]
fn libraries_survive_save_and_load_both_ways() {
    if is_redis() {
        return; // Moves files between tern and redis-server.
    }
    let dir = std::env::temp_dir().join(format!("tern-it-functions-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display().to_string();
    let lib = "#!lua name=saved\nredis.register_function{function_name='sv', callback=function(k, a) return 'saved:' .. a[1] end, flags={'no-writes'}}";
    let tern = TestServer::start_tern(None, &["--dir", &d, "--enable-debug-command", "yes"]);
    let mut t = tern.raw_conn();
    assert_eq!(t.cmd(&["FUNCTION", "LOAD", lib]), Resp::bulk("saved"));
    assert_eq!(t.cmd(&["DEBUG", "RELOAD"]), Resp::Simple("OK".into()));
    assert_eq!(t.cmd(&["FCALL_RO", "sv", "0", "x"]), Resp::bulk("saved:x"));
    assert_eq!(t.cmd(&["SAVE"]), Resp::Simple("OK".into()));
    // DEBUG RELOAD NOSAVE drops what the file does not have, as redis-server does.
    let gone = "#!lua name=gone\nredis.register_function('gone', function() return 1 end)";
    assert_eq!(t.cmd(&["FUNCTION", "LOAD", gone]), Resp::bulk("gone"));
    assert_eq!(
        t.cmd(&["DEBUG", "RELOAD", "NOSAVE"]),
        Resp::Simple("OK".into())
    );
    assert_eq!(
        t.cmd(&["FCALL", "gone", "0"]),
        error("ERR Function not found")
    );
    drop(t);
    drop(tern);
    let redis = TestServer::start_redis(None, &["--dir", &d, "--dbfilename", "dump.rdb"]);
    let mut r = redis.raw_conn();
    assert_eq!(r.cmd(&["FCALL_RO", "sv", "0", "y"]), Resp::bulk("saved:y"));
    let lib2 = "#!lua name=fromredis\nredis.register_function('fr', function() return 'redis' end)";
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", lib2]), Resp::bulk("fromredis"));
    assert_eq!(r.cmd(&["SAVE"]), Resp::Simple("OK".into()));
    drop(r);
    drop(redis);
    let tern = TestServer::start_tern(None, &["--dir", &d]);
    let mut t = tern.raw_conn();
    assert_eq!(t.cmd(&["FCALL", "fr", "0"]), Resp::bulk("redis"));
    assert_eq!(t.cmd(&["FCALL", "sv", "0", "z"]), Resp::bulk("saved:z"));
    drop(t);
    drop(tern);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An AOF rewrite keeps the libraries, in both base formats (RDB preamble, or FUNCTION LOAD
/// commands as Redis's rewriteFunctions writes them), and a restart loads them.
#[test]
fn libraries_survive_an_aof_rewrite_in_both_base_formats() {
    if is_redis() {
        return; // Restarts tern on its own files.
    }
    for preamble in ["yes", "no"] {
        let dir = std::env::temp_dir().join(format!(
            "tern-it-functions-aof-{}-{preamble}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display().to_string();
        let args = [
            "--dir",
            &d,
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            preamble,
        ];
        let lib = "#!lua name=aofl\nredis.register_function('af', function(k, a) return 'aof:' .. a[1] end)";
        let tern = TestServer::start_tern(None, &args);
        let mut t = tern.raw_conn();
        assert_eq!(t.cmd(&["FUNCTION", "LOAD", lib]), Resp::bulk("aofl"));
        t.cmd(&["BGREWRITEAOF"]);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let info = t.cmd(&["INFO", "persistence"]).text();
            if info.contains("aof_rewrite_in_progress:0")
                && info.contains("aof_rewrite_scheduled:0")
                && info.contains("aof_last_bgrewrite_status:ok")
            {
                break;
            }
            assert!(Instant::now() < deadline, "the rewrite never ended: {info}");
            std::thread::sleep(Duration::from_millis(50));
        }
        // A library loaded after the rewrite reaches the file as a command.
        let lib2 = "#!lua name=later\nredis.register_function('lt', function() return 'later' end)";
        assert_eq!(t.cmd(&["FUNCTION", "LOAD", lib2]), Resp::bulk("later"));
        drop(t);
        drop(tern);
        let tern = TestServer::start_tern(None, &args);
        let mut t = tern.raw_conn();
        assert_eq!(
            t.cmd(&["FCALL", "af", "0", "x"]),
            Resp::bulk("aof:x"),
            "preamble {preamble}"
        );
        assert_eq!(
            t.cmd(&["FCALL", "lt", "0"]),
            Resp::bulk("later"),
            "preamble {preamble}"
        );
        drop(t);
        drop(tern);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A replica gets the primary's libraries in the full sync (and only those), then FUNCTION
/// LOAD through the stream, and the effects of FCALL; between tern and redis-server both ways.
#[test]
fn replicas_get_libraries_and_function_effects() {
    if is_redis() {
        return; // Mixes tern and redis-server.
    }
    let start = |tern: bool| {
        if tern {
            TestServer::start_tern(None, &["--enable-debug-command", "yes"])
        } else {
            TestServer::start_redis(None, &["--repl-diskless-sync-delay", "0"])
        }
    };
    for (primary_is_tern, replica_is_tern) in [(true, true), (false, true), (true, false)] {
        let primary = start(primary_is_tern);
        let replica = start(replica_is_tern);
        let mut p = primary.raw_conn();
        let mut r = replica.raw_conn();
        let l1 = "#!lua name=l1\nredis.register_function('inc', function(k) return redis.call('incr', k[1]) end)";
        assert_eq!(p.cmd(&["FUNCTION", "LOAD", l1]), Resp::bulk("l1"));
        let stale = "#!lua name=stale\nredis.register_function('st', function() return 1 end)";
        assert_eq!(r.cmd(&["FUNCTION", "LOAD", stale]), Resp::bulk("stale"));
        let port = primary.port().to_string();
        assert_eq!(
            r.cmd(&["REPLICAOF", "127.0.0.1", &port]),
            Resp::Simple("OK".into())
        );
        let has = |r: &mut Raw, lib: &str| matches!(r.cmd(&["FUNCTION", "LIST", "LIBRARYNAME", lib]), Resp::Array(Some(v)) if !v.is_empty());
        let what = format!("primary tern {primary_is_tern}, replica tern {replica_is_tern}");
        assert!(
            wait_for(|| has(&mut r, "l1"), Duration::from_secs(20)),
            "{what}: the full sync brought no library"
        );
        assert!(
            !has(&mut r, "stale"),
            "{what}: a library the primary lacks stayed"
        );
        let l2 = "#!lua name=l2\nredis.register_function('two', function() return 2 end)\n\
                  redis.register_function{function_name='ro2', callback=function() return 22 end, flags={'no-writes'}}";
        assert_eq!(p.cmd(&["FUNCTION", "LOAD", l2]), Resp::bulk("l2"));
        assert_eq!(p.cmd(&["FCALL", "inc", "1", "counter"]), Resp::Int(1));
        assert_eq!(p.cmd(&["FCALL", "inc", "1", "counter"]), Resp::Int(2));
        assert!(
            wait_for(
                || r.cmd(&["GET", "counter"]) == Resp::bulk("2"),
                Duration::from_secs(20)
            ),
            "{what}: FCALL's effects did not arrive"
        );
        // On a read-only replica a function that may write is a write command.
        assert_eq!(
            r.cmd(&["FCALL_RO", "two", "0"]),
            error("READONLY You can't write against a read only replica."),
            "{what}"
        );
        assert_eq!(
            r.cmd(&["FCALL", "two", "0"]),
            error("READONLY You can't write against a read only replica."),
            "{what}"
        );
        assert_eq!(r.cmd(&["FCALL_RO", "ro2", "0"]), Resp::Int(22), "{what}");
        assert!(has(&mut r, "l2"), "{what}: FUNCTION LOAD did not arrive");
    }
}
