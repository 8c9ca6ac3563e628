//! Lua scripting with real clients: EVAL/EVALSHA/EVAL_RO/EVALSHA_RO and SCRIPT over raw
//! sockets, the `redis` crate's `Script` helper, `redis-cli --eval`, atomicity across cores,
//! busy scripts (BUSY, SCRIPT KILL, UNKILLABLE), and a differential run of ~30 scripts against
//! Debian's redis-server. All pass against redis-server too (`TERN_IT_SERVER=redis`).

use crate::harness::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn is_redis() -> bool {
    std::env::var("TERN_IT_SERVER").as_deref() == Ok("redis")
}

fn error(s: &str) -> Resp {
    Resp::Error(s.into())
}

/// The SHA1 the server reports for `script` (SCRIPT LOAD).
fn sha_of(c: &mut Raw, script: &str) -> String {
    c.cmd(&["SCRIPT", "LOAD", script]).text()
}

#[test]
fn eval_evalsha_and_script_commands_reply_as_redis() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    assert_eq!(
        c.cmd(&["EVAL", "return {KEYS[1], ARGV[1]}", "1", "k", "a"]),
        Resp::Array(Some(vec![Resp::bulk("k"), Resp::bulk("a")]))
    );
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "return redis.call('set', KEYS[1], ARGV[1])",
            "1",
            "k",
            "v"
        ]),
        Resp::Simple("OK".into())
    );
    assert_eq!(c.cmd(&["GET", "k"]), Resp::bulk("v"));
    let sha = sha_of(&mut c, "return 'loaded'");
    assert_eq!(sha.len(), 40);
    assert_eq!(c.cmd(&["EVALSHA", &sha, "0"]), Resp::bulk("loaded"));
    assert_eq!(
        c.cmd(&["EVALSHA", &sha.to_uppercase(), "0"]),
        Resp::bulk("loaded")
    );
    assert_eq!(c.cmd(&["EVALSHA_RO", &sha, "0"]), Resp::bulk("loaded"));
    assert_eq!(
        c.cmd(&[
            "SCRIPT",
            "EXISTS",
            &sha,
            "0000000000000000000000000000000000000000"
        ]),
        Resp::Array(Some(vec![Resp::Int(1), Resp::Int(0)]))
    );
    assert_eq!(c.cmd(&["SCRIPT", "FLUSH"]), Resp::Simple("OK".into()));
    assert_eq!(
        c.cmd(&["SCRIPT", "FLUSH", "SYNC"]),
        Resp::Simple("OK".into())
    );
    assert_eq!(
        c.cmd(&["EVALSHA", &sha, "0"]),
        error("NOSCRIPT No matching script. Please use EVAL.")
    );
    assert_eq!(
        c.cmd(&["SCRIPT", "FLUSH", "LATER"]),
        error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    );
    assert_eq!(
        c.cmd(&["SCRIPT", "KILL"]),
        error("NOTBUSY No scripts in execution right now.")
    );
    assert_eq!(
        c.cmd(&["SCRIPT", "NOPE"]),
        error("ERR unknown subcommand 'NOPE'. Try SCRIPT HELP.")
    );
    assert_eq!(
        c.cmd(&["SCRIPT", "EXISTS"]),
        error("ERR wrong number of arguments for 'script|exists' command")
    );
    let Resp::Array(Some(help)) = c.cmd(&["SCRIPT", "HELP"]) else {
        panic!("SCRIPT HELP is an array")
    };
    assert_eq!(
        help[0].text(),
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(
        c.cmd(&["EVAL", "return 1", "-1"]),
        error("ERR Number of keys can't be negative")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return 1", "2", "a"]),
        error("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return 1", "one"]),
        error("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return 1"]),
        error("ERR wrong number of arguments for 'eval' command")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return +", "0"]),
        error(
            "ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'"
        )
    );
    assert_eq!(
        c.cmd(&["SCRIPT", "LOAD", "return +"]),
        error(
            "ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'"
        )
    );
    // Errors raised inside scripts carry the script's SHA and line.
    let ro = "return redis.call('set', 'a', 'b')";
    let ro_sha = sha_of(&mut c, ro);
    assert_eq!(
        c.cmd(&["EVAL_RO", ro, "0"]),
        error(&format!(
            "ERR Write commands are not allowed from read-only scripts. script: {ro_sha}, on @user_script:1."
        ))
    );
    assert_eq!(
        c.cmd(&["EVALSHA_RO", &ro_sha, "0"]),
        error(&format!(
            "ERR Write commands are not allowed from read-only scripts. script: {ro_sha}, on @user_script:1."
        ))
    );
    for (script, text) in [
        ("return redis.call('nosuch')", "ERR Unknown Redis command called from script"),
        (
            "\nreturn redis.call('get')",
            "ERR Wrong number of args calling Redis command from script",
        ),
        ("return redis.call('multi')", "ERR This Redis command is not allowed from script"),
        ("return redis.call('blpop', 'l', 0)", "ERR This Redis command is not allowed from script"),
        ("return redis.call('eval', 'return 1', 0)", "ERR This Redis command is not allowed from script"),
        ("return redis.call('incr', 'k')", "ERR value is not an integer or out of range"),
        ("newglobal = 1", "ERR user_script:1: Attempt to modify a readonly table"),
        (
            "return undefined_thing",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'undefined_thing'",
        ),
    ] {
        let sha = sha_of(&mut c, script);
        let line = 1 + script.matches('\n').count();
        assert_eq!(
            c.cmd(&["EVAL", script, "0"]),
            error(&format!("{text} script: {sha}, on @user_script:{line}.")),
            "{script}"
        );
    }
    // A script that fails halfway keeps the effects before the error.
    let r = c.cmd(&[
        "EVAL",
        "redis.call('set', 'half', '1') redis.call('incr', 'k')",
        "0",
    ]);
    assert!(matches!(r, Resp::Error(_)));
    assert_eq!(c.cmd(&["GET", "half"]), Resp::bulk("1"));
}

#[test]
fn redis_crate_script_helper_loads_on_noscript() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut c).unwrap();
    let script =
        redis::Script::new("redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])");
    let v: String = script.key("sk").arg("value").invoke(&mut c).unwrap();
    assert_eq!(v, "value");
    // Now cached: invoke goes through EVALSHA.
    let exists: Vec<i64> = redis::cmd("SCRIPT")
        .arg("EXISTS")
        .arg(script.get_hash())
        .query(&mut c)
        .unwrap();
    assert_eq!(exists, vec![1]);
    let v: String = script.key("sk").arg("again").invoke(&mut c).unwrap();
    assert_eq!(v, "again");
    let n: i64 = redis::Script::new("return #KEYS + #ARGV")
        .key("a")
        .key("b")
        .arg(1)
        .invoke(&mut c)
        .unwrap();
    assert_eq!(n, 3);
    let e = redis::Script::new("return redis.error_reply('MYERR custom')")
        .invoke::<()>(&mut c)
        .unwrap_err();
    assert_eq!(server_error_text(&e).as_deref(), Some("MYERR custom"));
}

#[test]
fn redis_cli_eval_runs_a_script_file() {
    let srv = TestServer::start();
    let dir = std::env::temp_dir().join(format!("tern-lua-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("script.lua");
    std::fs::File::create(&file)
        .unwrap()
        .write_all(b"redis.call('set', KEYS[1], ARGV[1])\nreturn {KEYS[1], ARGV[1], redis.call('get', KEYS[1])}\n")
        .unwrap();
    let out = Command::new(require_tool(REDIS_CLI))
        .args(["-p", &srv.port().to_string(), "--eval"])
        .arg(&file)
        .args(["clikey", ",", "clival"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "clikey\nclival\nclival\n"
    );
    let mut c = srv.client();
    assert_eq!(ok(&mut c, &["GET", "clikey"]), bulk("clival"));
}

#[test]
fn scripts_are_atomic_across_cores() {
    assert_x_y_never_torn("script", 4, 200, |c| {
        let script = "redis.call('incr', KEYS[1]) redis.call('incr', KEYS[2]) return 1";
        let _: i64 = redis::cmd("EVAL")
            .arg(script)
            .arg(2)
            .arg("x")
            .arg("y")
            .query(c)
            .expect("EVAL");
    });
}

/// Sends PING until it gets BUSY (the script is past the threshold); panics after 10 s.
fn wait_busy(c: &mut Raw) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match c.cmd(&["PING"]) {
            Resp::Error(e) if e.starts_with("BUSY ") => {
                assert_eq!(
                    e,
                    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
                );
                return;
            }
            other => assert_eq!(other, Resp::Simple("PONG".into())),
        }
        assert!(Instant::now() < deadline, "never got BUSY");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A server with `threads` workers (Redis has one thread, whatever is asked).
fn start_threads(threads: &str) -> TestServer {
    if is_redis() {
        TestServer::start()
    } else {
        TestServer::start_with(&["--server-threads", threads])
    }
}

#[test]
fn a_busy_script_gets_busy_replies_and_script_kill_stops_it() {
    // With one worker the script runs on the thread that serves the other connection too:
    // its hook lets that connection in once the script is busy.
    for threads in ["1", "2"] {
        busy_script_gets_busy_replies_and_script_kill_stops_it(threads);
    }
}

fn busy_script_gets_busy_replies_and_script_kill_stops_it(threads: &str) {
    let srv = start_threads(threads);
    let mut admin = srv.raw_conn();
    admin.cmd(&["CONFIG", "SET", "busy-reply-threshold", "100"]);
    let script = "local i = 0\nwhile true do i = i + 1 end";
    let sha = sha_of(&mut admin, script);
    let mut runner = srv.raw_conn();
    runner.send(&encode(&[b"EVAL", script.as_bytes(), b"0"]));
    wait_busy(&mut admin);
    assert_eq!(
        admin.cmd(&["GET", "x"]),
        error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    );
    // SHUTDOWN can save only after the script: refused unless NOSAVE, as in Redis.
    for shutdown in [&["SHUTDOWN"][..], &["SHUTDOWN", "SAVE"]] {
        assert_eq!(
            admin.cmd(shutdown),
            error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
        );
    }
    assert_eq!(admin.cmd(&["SCRIPT", "KILL"]), Resp::Simple("OK".into()));
    assert_eq!(
        runner.read_reply(),
        error(&format!(
            "ERR Script killed by user with SCRIPT KILL... script: {sha}, on @user_script:2."
        ))
    );
    // The server serves again, on both connections.
    assert_eq!(admin.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert_eq!(runner.cmd(&["EVAL", "return 7", "0"]), Resp::Int(7));
    assert_eq!(
        admin.cmd(&["SCRIPT", "KILL"]),
        error("NOTBUSY No scripts in execution right now.")
    );
}

#[test]
fn a_script_that_wrote_cannot_be_killed() {
    for threads in ["1", "2"] {
        script_that_wrote_cannot_be_killed(threads);
    }
}

fn script_that_wrote_cannot_be_killed(threads: &str) {
    let srv = start_threads(threads);
    let mut admin = srv.raw_conn();
    admin.cmd(&["CONFIG", "SET", "busy-reply-threshold", "100"]);
    // Writes, then spins for about 1.5 s of wall-clock time.
    let script = "redis.call('set', 'w', '1')
local t0 = redis.call('time')
while true do
  local t = redis.call('time')
  if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 1500000 then break end
end
return 'done'";
    let mut runner = srv.raw_conn();
    runner.send(&encode(&[b"EVAL", script.as_bytes(), b"0"]));
    wait_busy(&mut admin);
    assert_eq!(
        admin.cmd(&["SCRIPT", "KILL"]),
        error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
    );
    assert_eq!(runner.read_reply(), Resp::bulk("done"));
    assert_eq!(admin.cmd(&["GET", "w"]), Resp::bulk("1"));
}

#[test]
fn commands_sent_during_a_short_script_wait_for_it() {
    let srv = start_threads("2");
    let mut runner = srv.raw_conn();
    let mut other = srv.raw_conn();
    // About 300 ms, under the default 5 s threshold: others wait instead of getting BUSY.
    let script = "local t0 = redis.call('time')
while true do
  local t = redis.call('time')
  if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 300000 then break end
end
redis.call('set', 'late', 'yes')
return 1";
    runner.send(&encode(&[b"EVAL", script.as_bytes(), b"0"]));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(other.cmd(&["GET", "late"]), Resp::bulk("yes"));
    assert_eq!(runner.read_reply(), Resp::Int(1));
}

/// Scripts run on both servers; replies (errors by their full text) must be equal.
const DIFFERENTIAL_SCRIPTS: &[&str] = &[
    "return 1",
    "return -3.99",
    "return 3.0001",
    "return 1e20",
    "return 'str'",
    "return true",
    "return false",
    "return nil",
    "return {1, 2, {3, 'x', {4.5}}, nil, 5}",
    "return {ok='fine'}",
    "return {err='CUSTOM failure'}",
    "return redis.status_reply('OK2')",
    "return redis.error_reply('plain')",
    "return redis.error_reply('-CODE with code')",
    "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}",
    "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])",
    "return redis.call('incr', KEYS[1])",
    "return redis.pcall('incr', KEYS[1])",
    "local r = redis.pcall('incr', KEYS[1]) return type(r) .. ':' .. tostring(r.err)",
    "return redis.call('get', 'missing')",
    "return tostring(redis.call('get', 'missing'))",
    "return redis.call('ping')",
    "return type(redis.call('ping'))",
    "return redis.call('mget', KEYS[1], 'missing')",
    "return redis.call('exists', KEYS[1], KEYS[2])",
    "return cjson.encode({1, 2, {a = 1.5, b = 'x/y'}})",
    "return cjson.encode({})",
    "return cjson.encode(cjson.decode('[1,2.25,\"s\",[true,false]]'))",
    "return cjson.decode('{\"a\":{\"b\":[10,20]}}').a.b[2]",
    "return cjson.encode(1/3)",
    "return cjson.decode('{bad')",
    "return redis.sha1hex('abc')",
    "return string.format('%5.2f|%d|%s', 3.14159, 42, 'z')",
    "return {math.floor(7.9), math.max(1, 9), string.rep('ab', 3)}",
    "return table.concat({'a', 'b', 'c'}, '-')",
    "return redis.call('nosuch')",
    "return redis.call('get')",
    "return redis.pcall('nosuch')",
    "local ok, e = pcall(redis.call, 'nosuch') return {tostring(ok), e}",
    "local ok, e = pcall(function() error('inner') end) return e",
    "error('outer')",
    "error({err = 'TABLE error'})",
    "x = 5",
    "return undefined_global",
    "redis.setresp(3) return tostring(redis.call('get', 'missing'))",
    "redis.setresp(5)",
    "return redis.call('select', 1)",
    "return redis.call('set', KEYS[1], 1.5)",
    "return redis.REPL_ALL + redis.LOG_WARNING",
    "redis.log(redis.LOG_NOTICE, 'from a test') return 'logged'",
    "return #redis.call('time')",
    // Numbers as redis.call arguments are written with 17 significant digits (%.17g).
    "redis.call('set', KEYS[1], 0.1) return redis.call('get', KEYS[1])",
    "redis.call('set', KEYS[1], 3.14159265358979) return redis.call('get', KEYS[1])",
    "redis.call('set', KEYS[1], 2^53 + 1) return redis.call('get', KEYS[1])",
    "redis.call('set', KEYS[1], -0.0) return redis.call('get', KEYS[1])",
    "redis.call('set', KEYS[1], 1/0) return redis.call('get', KEYS[1])",
    "return redis.call('set', KEYS[1], {})",
    "return redis.call(1)",
    "return redis.call()",
    // Replies of every shape, converted to Lua and back.
    "return redis.call('type', KEYS[1])",
    "return type(redis.call('type', KEYS[1]).ok)",
    "redis.call('rpush', KEYS[2], 'a', 'b', 'c') return redis.call('lrange', KEYS[2], 0, -1)",
    "return redis.call('lrange', 'nolist', 0, -1)",
    "redis.call('hset', KEYS[2], 'f', 'v', 'g', 'w') return redis.call('hgetall', KEYS[2])",
    "return redis.call('mget', 'missing', KEYS[1], 'missing2')",
    "return redis.call('hget', KEYS[1], 'f')",
    "return redis.pcall('hget', KEYS[1], 'f')",
    "local e = redis.pcall('hget', KEYS[1], 'f') return e.err",
    "redis.call('zadd', KEYS[2], 1.5, 'm') return redis.call('zrange', KEYS[2], 0, -1, 'withscores')",
    "redis.setresp(3) redis.call('zadd', KEYS[2], 1.5, 'm') return redis.call('zrange', KEYS[2], 0, -1, 'withscores')",
    "redis.setresp(3) redis.call('hset', KEYS[2], 'f', 'v') local m = redis.call('hgetall', KEYS[2]) return {type(m.map), m.map.f}",
    "redis.setresp(3) redis.call('hset', KEYS[2], 'f', 'v') return redis.call('hgetall', KEYS[2])",
    "redis.setresp(3) redis.call('sadd', KEYS[2], 'x') local s = redis.call('smembers', KEYS[2]) return {type(s.set), tostring(s.set.x)}",
    "redis.setresp(3) return {redis.call('get', 'missing') == nil, redis.call('exists', 'missing')}",
    "redis.setresp(3) return redis.call('mget', 'missing', KEYS[1])",
    "redis.setresp(3) local d = redis.call('zscore', 'nozset', 'm') return tostring(d)",
    "redis.setresp(3) redis.call('zadd', KEYS[2], 2.5, 'm') local d = redis.call('zscore', KEYS[2], 'm') return {type(d), tostring(d.double)}",
    "redis.setresp(3) return redis.call('hello', '3')",
    "return type(loadstring)",
    "local t = {} t[1] = 1 t[3] = 3 return t",
];

#[test]
fn scripts_reply_like_redis_server() {
    if is_redis() {
        return; // Compares tern with redis-server; nothing to compare against itself.
    }
    let tern = TestServer::start();
    let redis = RedisServer::start();
    let mut t = tern.raw_conn();
    let mut r = redis.raw_conn();
    for script in DIFFERENTIAL_SCRIPTS {
        for c in [&mut t, &mut r] {
            c.cmd(&["FLUSHALL"]);
            c.cmd(&["SET", "str", "text"]);
        }
        let args = ["EVAL", script, "2", "str", "k2", "a1", "a2"];
        assert_eq!(t.cmd(&args), r.cmd(&args), "{script}");
        // And by SHA, through the cache.
        let sha = sha_of(&mut r, script);
        if !matches!(t.cmd(&["SCRIPT", "LOAD", script]), Resp::Error(_)) {
            for c in [&mut t, &mut r] {
                c.cmd(&["FLUSHALL"]);
                c.cmd(&["SET", "str", "text"]);
            }
            let args = ["EVALSHA", &sha, "2", "str", "k2", "a1", "a2"];
            assert_eq!(t.cmd(&args), r.cmd(&args), "EVALSHA {script}");
        }
    }
}

/// Scripts using the C libraries Redis bundles (`bit`, `struct`, `cmsgpack`): results, number
/// conversions, encodings and error texts, run on both servers.
const LIBRARY_SCRIPTS: &[&str] = &[
    r#"return {bit.tobit(1), bit.tobit(0xffffffff), bit.tobit(2^32+5), bit.tobit(-1), bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-2.5), bit.tobit('12'), bit.tobit(2^53)}"#,
    r#"return bit.tobit('x')"#,
    r#"return bit.tobit()"#,
    r#"return bit.band()"#,
    r#"return bit.band(1, 'x', 3)"#,
    r#"return {bit.bnot(0), bit.bnot(-1), bit.bnot(5)}"#,
    r#"return {bit.band(0xff, 0x0f, 0x3), bit.bor(1, 2, 4, 8), bit.bxor(0xff, 0x0f), bit.band(-1)}"#,
    r#"return {bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rshift(256, 4)}"#,
    r#"return {bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.rol(1, 0), bit.ror(1, 32), bit.bswap(0x12345678)}"#,
    r#"return {bit.tohex(255), bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -4), bit.tohex(0x12345678, 12), bit.tohex(1, 0)}"#,
    r#"return {bit.tobit(0/0), bit.tobit(1/0), bit.tobit(-1/0)}"#,
    r#"local f = bit.tobit return f({})"#,
    r#"return pcall(bit.band, nil)"#,
    r#"bit.x = 1"#,
    r#"return type(bit.nope)"#,
    r#"return struct.pack('>I2', 258)"#,
    r#"return {struct.unpack('>I2', struct.pack('>I2', 258))}"#,
    r#"return struct.pack('<i4 >i4 b B h H', -2, -2, -1, 255, -300, 65535)"#,
    r#"return {struct.unpack('<i4>i4bBhH', struct.pack('<i4 >i4 b B h H', -2, -2, -1, 255, -300, 65535))}"#,
    r#"return struct.pack('!4 b i4 d f', 1, 2, 3.5, 0.25)"#,
    r#"return {struct.unpack('!4 b i4 d f', struct.pack('!4 b i4 d f', 1, 2, 3.5, 0.25))}"#,
    r#"return struct.pack('s c3 c0 x', 'abc', 'defg', 'hi')"#,
    r#"return {struct.unpack('s c3 B c0', struct.pack('s c3 B c2', 'abc', 'def', 2, 'hi'))}"#,
    r#"return {struct.size('i4 b d'), struct.size('!i4 b d'), struct.size('c10 x h'), struct.size('>l L T')}"#,
    r#"return struct.size('s')"#,
    r#"return struct.size('c0')"#,
    r#"return struct.pack('z', 1)"#,
    r#"return struct.pack('i40', 1)"#,
    r#"return struct.pack('!3', 1)"#,
    r#"return struct.pack('i', 'x')"#,
    r#"return struct.pack('c5', 'ab')"#,
    r#"return {struct.unpack('i4', 'ab')}"#,
    r#"return {struct.unpack('i4', 'abcdefgh', 5)}"#,
    r#"return {struct.unpack('i4', 'abcdefgh', 0)}"#,
    r#"return {struct.unpack('s', 'abc')}"#,
    r#"return {struct.unpack('c0', 'abc')}"#,
    r#"return {struct.unpack('>l', struct.pack('>l', -1))}"#,
    r#"return {struct.unpack('>L', struct.pack('>L', 2^53))}"#,
    r#"return {struct.unpack('<I3 >i3', '\255\255\127\255\255\255')}"#,
    r#"return struct.pack('>i16', -1)"#,
    r#"return {struct.unpack('>i16', struct.pack('>i16', -5))}"#,
    r#"return struct.pack()"#,
    r#"return struct.pack('I1', 300)"#,
    r#"return struct.pack('b', -129)"#,
    r#"return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31-1, 2^53)"#,
    r#"return cmsgpack.pack(1.5, 0.1, 1/0, -1/0, 1e300, -0.0, 2^63, -2^63)"#,
    r#"return cmsgpack.pack('', 'abc', string.rep('x', 31), string.rep('y', 32), string.rep('z', 255), string.rep('w', 256), string.rep('v', 65536))"#,
    r#"return cmsgpack.pack(nil, true, false, {}, {1, 2, 3}, {a = 1}, {[1] = 1, [3] = 3}, {[0] = 1}, {[1.5] = 2})"#,
    r#"return cmsgpack.pack({a = {b = {c = {1, 2, {d = 'e'}}}}, x = 'y', [10] = 'ten', z = false})"#,
    r#"return cmsgpack.pack(string.rep('a', 20), {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17}, redis.call)"#,
    r#"local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)"#,
    r#"return cmsgpack.pack()"#,
    r#"return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, 4}, {five = 5}, true, 1.5))}"#,
    r#"return cmsgpack.unpack(cmsgpack.pack({a = {1, 2, {b = 'c'}}})).a[3].b"#,
    r#"return {cmsgpack.unpack('')}"#,
    r#"return {cmsgpack.unpack('\196\1x')}"#,
    r#"return {cmsgpack.unpack('\205\1')}"#,
    r#"return {cmsgpack.unpack('\147\1\2')}"#,
    r#"return {cmsgpack.unpack()}"#,
    r#"return {cmsgpack.unpack(5)}"#,
    r#"return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}"#,
    r#"return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}"#,
    r#"return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}"#,
    r#"return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)}"#,
    r#"return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4)}"#,
    r#"return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1)}"#,
    r#"return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}"#,
    r#"return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}"#,
    r#"return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)}"#,
    r#"return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3))}"#,
    r#"return {cmsgpack.unpack('\203\161a\1\161b\2\161c\3')}"#,
    r#"return {cmsgpack.unpack('\202\192\1')}"#,
    r#"return {cmsgpack.unpack('\203\1\2')}"#,
    r#"return {cmsgpack.unpack('\217\3abc\218\0\2xy\219\0\0\0\1z')}"#,
    r#"return {cmsgpack.unpack('\220\0\2\1\2\221\0\0\0\1\3\222\0\1\1\2\223\0\0\0\1\3\4')}"#,
    r#"return {cmsgpack.unpack('\204\200\208\200\205\1\2\209\255\0\206\1\2\3\4\210\255\255\255\0\207\0\0\0\1\0\0\0\0\211\255\255\255\255\255\255\255\255')}"#,
    r#"return {cmsgpack.unpack('\202\63\192\0\0\203\63\248\0\0\0\0\0\0\224\255\127')}"#,
    r#"return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}"#,
    r#"return {type(bit), type(struct), type(cmsgpack), type(cjson)}"#,
];

#[test]
fn bundled_libraries_reply_like_redis_server() {
    if is_redis() {
        return; // Compares tern with redis-server; nothing to compare against itself.
    }
    let tern = TestServer::start();
    let redis = RedisServer::start();
    let mut t = tern.raw_conn();
    let mut r = redis.raw_conn();
    for script in LIBRARY_SCRIPTS {
        let args = ["EVAL", script, "0"];
        assert_eq!(t.cmd(&args), r.cmd(&args), "{script}");
    }
    // The same libraries inside a function.
    let lib = "#!lua name=libs\nredis.register_function('f', function(k, a) \
               return {bit.tohex(bit.bxor(0xf0, 0x0f)), struct.pack('>h', -2), \
               cmsgpack.pack({1, 'a'}), cmsgpack.unpack(a[1])} end)";
    for c in [&mut t, &mut r] {
        assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), Resp::bulk("libs"));
    }
    let args = ["FCALL", "f", "0", "\x05"];
    assert_eq!(t.cmd(&args), r.cmd(&args));
}

#[test]
fn pipelined_scripts_reply_in_order_with_errors_and_other_commands_between() {
    // tern queues scripts pipelined behind one another on its script thread at once; the
    // replies must still come back in request order, errors included.
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    let sha = sha_of(&mut c, "return redis.call('incr', KEYS[1])");
    let missing = "0".repeat(40);
    let mut batch = Vec::new();
    let mut want = Vec::new();
    for i in 0..40 {
        batch.extend(encode(&[b"EVALSHA", sha.as_bytes(), b"1", b"n"]));
        want.push(Resp::Int(2 * i + 1));
        match i % 4 {
            0 => {
                batch.extend(encode(&[b"EVALSHA", missing.as_bytes(), b"0"]));
                want.push(error("NOSCRIPT No matching script. Please use EVAL."));
            }
            1 => {
                batch.extend(encode(&[b"EVAL", b"return ARGV[1]", b"0", b"x"]));
                want.push(Resp::bulk("x"));
            }
            2 => {
                batch.extend(encode(&[b"EVAL", b"return redis.call('nope')", b"0"]));
                want.push(Resp::Error(String::new()));
            }
            _ => {
                batch.extend(encode(&[b"GET", b"n"]));
                want.push(Resp::bulk((2 * i + 1).to_string()));
            }
        }
        batch.extend(encode(&[
            b"EVAL",
            b"return redis.call('incr', KEYS[1])",
            b"1",
            b"n",
        ]));
        want.push(Resp::Int(2 * i + 2));
    }
    c.send(&batch);
    for (i, w) in want.iter().enumerate() {
        let got = c.read_reply();
        match (w, &got) {
            // The unknown-command error's text is checked by the differential tests.
            (Resp::Error(e), Resp::Error(_)) if e.is_empty() => {}
            _ => assert_eq!(&got, w, "reply {i}"),
        }
    }
    assert_eq!(c.cmd(&["GET", "n"]), Resp::bulk("80"));
}

#[test]
fn keys_and_argv_arrive_whole_for_few_and_many_arguments() {
    // tern builds KEYS and ARGV through Lua's C API in the call that runs the script: empty,
    // small and large tables (beyond Lua 5.1's 8,000-value C stack), binary-safe.
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    let script =
        "return {#KEYS, #ARGV, KEYS[1] or '', KEYS[#KEYS] or '', ARGV[1] or '', ARGV[#ARGV] or ''}";
    for (nk, na) in [
        (0usize, 0usize),
        (1, 0),
        (0, 1),
        (2, 3),
        (3000, 3999),
        (3000, 4001),
        (9000, 1),
    ] {
        let keys: Vec<String> = (0..nk).map(|i| format!("k{i}")).collect();
        let args: Vec<String> = (0..na).map(|i| format!("a{i}\0x")).collect();
        let mut argv: Vec<&[u8]> = vec![b"EVAL", script.as_bytes()];
        let nks = nk.to_string();
        argv.push(nks.as_bytes());
        argv.extend(keys.iter().map(|k| k.as_bytes()));
        argv.extend(args.iter().map(|a| a.as_bytes()));
        c.send(&encode(&argv));
        let first = |v: &Vec<String>| v.first().cloned().unwrap_or_default();
        let last = |v: &Vec<String>| v.last().cloned().unwrap_or_default();
        assert_eq!(
            c.read_reply(),
            Resp::Array(Some(vec![
                Resp::Int(nk as i64),
                Resp::Int(na as i64),
                Resp::bulk(first(&keys)),
                Resp::bulk(last(&keys)),
                Resp::bulk(first(&args)),
                Resp::bulk(last(&args)),
            ])),
            "{nk} keys, {na} args"
        );
    }
}
