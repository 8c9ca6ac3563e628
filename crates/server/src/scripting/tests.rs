//! Unit tests for scripting: conversions both ways, cjson, error texts, propagation of a
//! script's effects. The testkit runs scripts inline (see `TestDb::connect`).

use super::convert::{error_text, number_to_int};
use crate::testkit::{frames::*, TestDb};
use tern_resp::Frame;

fn eval(t: &mut TestDb, script: &str, keys: &[&str], args: &[&str]) -> Frame {
    let n = keys.len().to_string();
    let mut argv = vec!["EVAL", script, &n];
    argv.extend_from_slice(keys);
    argv.extend_from_slice(args);
    t.run(&argv)
}

fn e(t: &mut TestDb, script: &str) -> Frame {
    eval(t, script, &[], &[])
}

fn sha(s: &str) -> String {
    super::sha1hex(s.as_bytes())
}

#[test]
fn lua_values_become_redis_replies() {
    let mut t = TestDb::new();
    assert_eq!(e(&mut t, "return 1"), int(1));
    assert_eq!(e(&mut t, "return 3.99"), int(3));
    assert_eq!(e(&mut t, "return -3.99"), int(-3));
    assert_eq!(e(&mut t, "return 1e20"), int(i64::MIN));
    assert_eq!(e(&mut t, "return 'x'"), bulk("x"));
    assert_eq!(e(&mut t, "return true"), int(1));
    assert_eq!(e(&mut t, "return false"), Frame::Null);
    assert_eq!(e(&mut t, "return nil"), Frame::Null);
    assert_eq!(
        e(&mut t, "return {1, 'a', {2.5, 'b'}, nil, 4}"),
        Frame::Array(vec![
            int(1),
            bulk("a"),
            Frame::Array(vec![int(2), bulk("b")])
        ])
    );
    assert_eq!(
        e(&mut t, "return {ok='fine'}"),
        Frame::Simple("fine".into())
    );
    assert_eq!(e(&mut t, "return {err='MY x'}"), err("MY x"));
    assert_eq!(
        e(&mut t, "return redis.status_reply('st')"),
        Frame::Simple("st".into())
    );
    assert_eq!(e(&mut t, "return redis.error_reply('E1 x')"), err("E1 x"));
    assert_eq!(e(&mut t, "return redis.error_reply('x')"), err("ERR x"));
    assert_eq!(e(&mut t, "return {double=1.5}"), bulk("1.5"));
    // A self-referencing table is cut off instead of overflowing the stack.
    let Frame::Array(_) = e(&mut t, "local a = {} a[1] = a return a") else {
        panic!("array")
    };
}

#[test]
fn redis_replies_become_lua_values() {
    let mut t = TestDb::new();
    t.run(&["SET", "s", "foo"]);
    assert_eq!(
        e(&mut t, "return type(redis.call('get', 's'))"),
        bulk("string")
    );
    assert_eq!(
        e(&mut t, "return tostring(redis.call('get', 'nokey'))"),
        bulk("false")
    );
    assert_eq!(e(&mut t, "return redis.call('ping').ok"), bulk("PONG"));
    assert_eq!(
        e(&mut t, "return type(redis.call('incr', 'n'))"),
        bulk("number")
    );
    assert_eq!(
        e(&mut t, "return redis.pcall('incr', 's').err"),
        bulk("ERR value is not an integer or out of range")
    );
    assert_eq!(
        e(
            &mut t,
            "redis.call('set', 'a', '1') return redis.call('mget', 'a', 'zz')"
        ),
        Frame::Array(vec![bulk("1"), Frame::Null])
    );
    // RESP3 after redis.setresp(3): a null is nil, booleans stay booleans.
    assert_eq!(
        e(
            &mut t,
            "redis.setresp(3) return tostring(redis.call('get', 'nokey'))"
        ),
        bulk("nil")
    );
    assert_eq!(
        e(&mut t, "redis.setresp(3) return redis.call('exists', 's')"),
        int(1)
    );
    // Numbers as arguments are converted as Lua prints them.
    e(
        &mut t,
        "redis.call('set', 'f', 1.5) redis.call('set', 'i', 7)",
    );
    assert_eq!(t.run(&["GET", "f"]), bulk("1.5"));
    assert_eq!(t.run(&["GET", "i"]), bulk("7"));
}

#[test]
fn keys_and_argv_are_passed() {
    let mut t = TestDb::new();
    assert_eq!(
        eval(
            &mut t,
            "return {KEYS[1], KEYS[2], ARGV[1], #ARGV}",
            &["k1", "k2"],
            &["a1", "a2"]
        ),
        bulks(&["k1", "k2", "a1"]).pipe_push(int(2))
    );
    assert_eq!(
        eval(
            &mut t,
            "return redis.call('set', KEYS[1], ARGV[1])",
            &["k"],
            &["v"]
        ),
        ok()
    );
    assert_eq!(t.run(&["GET", "k"]), bulk("v"));
}

trait PipePush {
    fn pipe_push(self, f: Frame) -> Frame;
}

impl PipePush for Frame {
    fn pipe_push(self, f: Frame) -> Frame {
        let Frame::Array(mut v) = self else {
            panic!("array")
        };
        v.push(f);
        Frame::Array(v)
    }
}

#[test]
fn errors_have_redis_texts() {
    let mut t = TestDb::new();
    t.run(&["SET", "s", "foo"]);
    let cases = [
        (
            "return redis.call('nosuch')",
            "ERR Unknown Redis command called from script",
        ),
        (
            "return redis.call('get')",
            "ERR Wrong number of args calling Redis command from script",
        ),
        (
            "return redis.call('incr', 's')",
            "ERR value is not an integer or out of range",
        ),
        (
            "return redis.call()",
            "ERR Please specify at least one argument for this redis lib call",
        ),
        (
            "return redis.call({})",
            "ERR Lua redis lib command arguments must be strings or integers",
        ),
        (
            "return redis.call('subscribe', 'x')",
            "ERR This Redis command is not allowed from script",
        ),
        (
            "x = 1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        (
            "return y",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'y'",
        ),
        ("error('boom')", "ERR user_script:1: boom"),
        ("error({err='MY boom'})", "MY boom"),
        (
            "redis.call = 1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        ("redis.setresp(4)", "ERR RESP version must be 2 or 3."),
        (
            "\n\nreturn cjson.decode('{bad')",
            "ERR user_script:3: Expected object key string but found invalid token at character 2",
        ),
    ];
    for (script, text) in cases {
        let line = 1 + script.matches('\n').count();
        let want = format!("{text} script: {}, on @user_script:{line}.", sha(script));
        assert_eq!(e(&mut t, script), err(&want), "{script}");
    }
    assert_eq!(
        e(&mut t, "return +"),
        err("ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'")
    );
    assert_eq!(
        e(&mut t, "return redis.pcall('nosuch').err"),
        bulk("ERR Unknown Redis command called from script")
    );
    // pcall() around redis.call gets the error text, as in Redis 7.0.
    assert_eq!(
        e(
            &mut t,
            "local ok, e = pcall(redis.call, 'incr', 's') return e"
        ),
        bulk("ERR value is not an integer or out of range")
    );
    assert_eq!(error_text("-WRONGTYPE bad\r\n"), "WRONGTYPE bad");
    assert_eq!(error_text("oops"), "ERR oops");
    assert_eq!(number_to_int(f64::NAN), i64::MIN);
}

#[test]
fn eval_argument_errors_and_evalsha() {
    let mut t = TestDb::new();
    assert_eq!(
        t.run(&["EVAL", "return 1", "-1"]),
        err("ERR Number of keys can't be negative")
    );
    assert_eq!(
        t.run(&["EVAL", "return 1", "2", "a"]),
        err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        t.run(&["EVAL", "return 1", "x"]),
        err("ERR value is not an integer or out of range")
    );
    let s = sha("return 'hi'");
    assert_eq!(
        t.run(&["EVALSHA", &s, "0"]),
        err("NOSCRIPT No matching script. Please use EVAL.")
    );
    assert_eq!(t.run(&["SCRIPT", "LOAD", "return 'hi'"]), bulk(&s));
    assert_eq!(t.run(&["EVALSHA", &s.to_uppercase(), "0"]), bulk("hi"));
    assert_eq!(
        t.run(&["SCRIPT", "EXISTS", &s, "ffff"]),
        Frame::Array(vec![int(1), int(0)])
    );
    assert_eq!(t.run(&["SCRIPT", "FLUSH", "ASYNC"]), ok());
    assert_eq!(t.run(&["SCRIPT", "EXISTS", &s]), Frame::Array(vec![int(0)]));
    assert_eq!(
        t.run(&["SCRIPT", "FLUSH", "nope"]),
        err("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    );
    assert_eq!(
        t.run(&["SCRIPT", "LOAD", "return +"]),
        err("ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'")
    );
    assert_eq!(
        t.run(&["SCRIPT", "KILL"]),
        err("NOTBUSY No scripts in execution right now.")
    );
    // EVAL caches the script for EVALSHA.
    t.run(&["EVAL", "return 'hi'", "0"]);
    assert_eq!(t.run(&["EVALSHA", &s, "0"]), bulk("hi"));
    let ro = "return redis.call('set', 'a', 'b')";
    assert_eq!(
        t.run(&["EVAL_RO", ro, "0"]),
        err(&format!(
            "ERR Write commands are not allowed from read-only scripts. script: {}, on @user_script:1.",
            sha(ro)
        ))
    );
    assert_eq!(
        t.run(&["EVAL_RO", "return redis.call('get', 'a')", "0"]),
        Frame::Null
    );
}

#[test]
fn cjson_round_trips() {
    let mut t = TestDb::new();
    let cases = [
        ("return cjson.encode({1, 2, {a = 1}})", "[1,2,{\"a\":1}]"),
        ("return cjson.encode({})", "{}"),
        (
            "return cjson.encode({a = {b = 1.5}})",
            "{\"a\":{\"b\":1.5}}",
        ),
        ("return cjson.encode('x/y\"\\n')", "\"x\\/y\\\"\\n\""),
        ("return cjson.encode(0.1)", "0.1"),
        ("return cjson.encode(1/3)", "0.33333333333333"),
        (
            "return cjson.encode({true, false, cjson.null})",
            "[true,false,null]",
        ),
        (
            "return cjson.encode(cjson.decode('{\"a\":[1,2,{\"b\":null}],\"c\":\"\\\\u00e9\"}').a)",
            "[1,2,{\"b\":null}]",
        ),
        ("return cjson.decode('\"\\\\u00e9\"')", "é"),
        (
            "return cjson.encode(cjson.decode('[1.5,\"x\",[]]'))",
            "[1.5,\"x\",{}]",
        ),
        (
            "return tostring(cjson.decode('null') == cjson.null)",
            "true",
        ),
        ("return cjson.decode('{\"k\":\"v\"}').k", "v"),
    ];
    for (script, want) in cases {
        assert_eq!(e(&mut t, script), bulk(want), "{script}");
    }
    assert_eq!(
        e(&mut t, "local a = {} a[20] = 1 return cjson.encode(a)"),
        err(&format!(
            "ERR user_script:1: Cannot serialise table: excessively sparse array script: {}, on @user_script:1.",
            sha("local a = {} a[20] = 1 return cjson.encode(a)")
        ))
    );
}

#[test]
fn script_writes_are_propagated_inside_multi_exec() {
    let mut t = TestDb::new();
    let off = t.log_offset();
    e(&mut t, "return redis.call('get', 'a')");
    assert!(t.writes_since(off).is_empty());
    e(
        &mut t,
        "redis.call('set', 'a', '1') redis.call('incr', 'a') redis.call('expire', 'a', 100) return 1",
    );
    let w = t.writes_since(off);
    assert_eq!(w[0], vec!["MULTI"]);
    assert_eq!(w[1], vec!["SET", "a", "1"]);
    assert_eq!(w[2], vec!["incr", "a"]);
    assert_eq!(w[3][0], "PEXPIREAT");
    assert_eq!(w[4], vec!["EXEC"]);
    assert_eq!(w.len(), 5, "{w:?}");
    // Effects up to an error stay, and are still wrapped.
    let off = t.log_offset();
    let r = e(
        &mut t,
        "redis.call('set', 'b', 'x') redis.call('set', 'c', 'y') redis.call('incr', 'b')",
    );
    assert!(matches!(r, Frame::Error(_)));
    assert_eq!(t.run(&["GET", "b"]), bulk("x"));
    let w = t.writes_since(off);
    assert_eq!(
        w,
        vec![
            vec!["MULTI"],
            vec!["SET", "b", "x"],
            vec!["SET", "c", "y"],
            vec!["EXEC"]
        ]
    );
}

#[test]
fn a_script_or_transaction_that_writes_once_logs_that_write_alone() {
    // Redis 7 wraps only two or more writes (redis-server 7.0.15's AOF after these commands
    // holds `incr a`, `set b x` and `INCR c` with no MULTI around them).
    let mut t = TestDb::new();
    let off = t.log_offset();
    e(&mut t, "return redis.call('incr', 'a')");
    assert!(matches!(
        e(
            &mut t,
            "redis.call('set', 'b', 'x') redis.call('incr', 'b')"
        ),
        Frame::Error(_)
    ));
    t.run(&["MULTI"]);
    t.run(&["INCR", "c"]);
    t.run(&["GET", "c"]);
    assert_eq!(t.run(&["EXEC"]), Frame::Array(vec![int(1), bulk("1")]));
    assert_eq!(
        t.writes_since(off),
        vec![vec!["incr", "a"], vec!["SET", "b", "x"], vec!["INCR", "c"]]
    );
}

#[test]
fn eval_inside_exec_joins_the_transaction() {
    let mut t = TestDb::with_workers(4);
    let off = t.log_offset();
    t.run(&["MULTI"]);
    t.run(&["SET", "x", "1"]);
    t.run(&["EVAL", "return redis.call('incr', KEYS[1])", "1", "x"]);
    t.run(&["EVAL", "return redis.call('get', KEYS[1])", "1", "x"]);
    assert_eq!(
        t.run(&["EXEC"]),
        Frame::Array(vec![ok(), int(2), bulk("2")])
    );
    let w = t.writes_since(off);
    assert_eq!(
        w,
        vec![
            vec!["MULTI"],
            vec!["SET", "x", "1"],
            vec!["incr", "x"],
            vec!["EXEC"]
        ]
    );
    assert!(!t.srv.keyspace.held_here());
}

#[test]
fn select_inside_a_script_does_not_change_the_caller_db() {
    let mut t = TestDb::new();
    e(
        &mut t,
        "redis.call('select', 1) redis.call('set', 'k', 'v')",
    );
    assert_eq!(t.run(&["EXISTS", "k"]), int(0));
    t.run(&["SELECT", "1"]);
    assert_eq!(t.run(&["GET", "k"]), bulk("v"));
    // The script starts in the caller's db.
    assert_eq!(e(&mut t, "return redis.call('get', 'k')"), bulk("v"));
}

#[test]
fn library_helpers() {
    let mut t = TestDb::new();
    assert_eq!(
        e(&mut t, "return redis.sha1hex('')"),
        bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    );
    assert_eq!(e(&mut t, "return redis.REPL_ALL"), int(3));
    assert_eq!(
        e(&mut t, "return redis.set_repl(redis.REPL_ALL)"),
        Frame::Null
    );
    assert_eq!(e(&mut t, "return redis.replicate_commands()"), int(1));
    assert_eq!(
        e(
            &mut t,
            "return redis.log(redis.LOG_WARNING, 'hello', 'log')"
        ),
        Frame::Null
    );
    assert_eq!(e(&mut t, "return type(loadstring)"), bulk("function"));
    assert!(matches!(e(&mut t, "return print"), Frame::Error(_)));
    assert_eq!(
        e(&mut t, "return string.format('%d-%s', 3, 'x')"),
        bulk("3-x")
    );
    assert_eq!(
        e(&mut t, "return table.concat({'a','b'}, ',')"),
        bulk("a,b")
    );
}

const LIB: &str = "#!lua name=mylib
redis.register_function('incr2', function(keys, args)
  redis.call('incr', keys[1])
  return redis.call('incrby', keys[1], args[1])
end)
redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end,
  flags={'no-writes'}, description='reads a key'}
";

#[test]
fn metadata_line_parses_like_redis() {
    use super::functions::parse_metadata;
    assert_eq!(
        parse_metadata(b"#!lua name=lib\nx"),
        Ok(("lua".into(), "lib".into(), 14))
    );
    assert_eq!(
        parse_metadata(b"#!LUA NAME=lib  \n"),
        Ok(("LUA".into(), "lib".into(), 16))
    );
    for (code, e) in [
        (&b"lua name=x\n"[..], "Missing library metadata"),
        (b"#!lua name=x", "Invalid library metadata"),
        (
            b"#!lua name=x name=y\n",
            "Invalid metadata value, name argument was given multiple times",
        ),
        (b"#!lua desc=y\n", "Invalid metadata value given: desc=y"),
        (b"#!lua\n", "Library name was not given"),
        (b"#!lua \"name=x\n", "Invalid library metadata"),
    ] {
        assert_eq!(parse_metadata(code), Err(e.to_string()), "{code:?}");
    }
}

#[test]
fn fcall_runs_a_loaded_function_and_propagates_its_effects() {
    let mut t = TestDb::new();
    let off = t.log_offset();
    assert_eq!(t.run(&["FUNCTION", "LOAD", LIB]), bulk("mylib"));
    assert_eq!(
        t.writes_since(off),
        vec![vec!["FUNCTION", "LOAD", LIB]],
        "FUNCTION LOAD is propagated as sent"
    );
    let off = t.log_offset();
    assert_eq!(t.run(&["FCALL", "INCR2", "1", "n", "5"]), int(6));
    assert_eq!(t.run(&["FCALL_RO", "peek", "1", "n"]), bulk("6"));
    assert_eq!(
        t.writes_since(off),
        vec![
            vec!["MULTI"],
            vec!["incr", "n"],
            vec!["incrby", "n", "5"],
            vec!["EXEC"]
        ],
        "effects are propagated, never the FCALL"
    );
    assert_eq!(
        t.run(&["FCALL_RO", "incr2", "1", "n", "5"]),
        err("ERR Can not execute a script with write flag using *_ro command.")
    );
    // Inside EXEC the function joins the transaction.
    let off = t.log_offset();
    t.run(&["MULTI"]);
    t.run(&["SET", "n", "1"]);
    t.run(&["FCALL", "incr2", "1", "n", "1"]);
    assert_eq!(t.run(&["EXEC"]), Frame::Array(vec![ok(), int(3)]));
    assert_eq!(
        t.writes_since(off),
        vec![
            vec!["MULTI"],
            vec!["SET", "n", "1"],
            vec!["incr", "n"],
            vec!["incrby", "n", "1"],
            vec!["EXEC"]
        ]
    );
    // Replacing the library changes what FCALL runs; deleting it removes the functions.
    let v2 = LIB.replace("incrby", "decrby");
    assert_eq!(
        t.run(&["FUNCTION", "LOAD", &v2]),
        err("ERR Library 'mylib' already exists")
    );
    assert_eq!(t.run(&["FUNCTION", "LOAD", "REPLACE", &v2]), bulk("mylib"));
    assert_eq!(t.run(&["FCALL", "incr2", "1", "n", "10"]), int(-6));
    assert_eq!(t.run(&["FUNCTION", "DELETE", "mylib"]), ok());
    assert_eq!(
        t.run(&["FCALL", "incr2", "1", "n", "10"]),
        err("ERR Function not found")
    );
}

#[test]
fn function_dump_and_restore_round_trip() {
    let mut t = TestDb::new();
    assert_eq!(t.run(&["FUNCTION", "LOAD", LIB]), bulk("mylib"));
    let Frame::Bulk(payload) = t.run(&["FUNCTION", "DUMP"]) else {
        panic!("DUMP is a bulk string")
    };
    assert_eq!(payload[0], super::functions::RDB_OPCODE_FUNCTION2);
    assert_eq!(&payload[payload.len() - 10..payload.len() - 8], &[10, 0]);
    let mut argv: Vec<Vec<u8>> = vec![b"FUNCTION".to_vec(), b"RESTORE".to_vec(), payload.clone()];
    let run = |t: &mut TestDb, argv: &[Vec<u8>]| t.run(argv);
    assert_eq!(run(&mut t, &argv), err("ERR Library mylib already exists"));
    argv.push(b"REPLACE".to_vec());
    assert_eq!(run(&mut t, &argv), ok());
    assert_eq!(t.run(&["FUNCTION", "FLUSH"]), ok());
    argv.pop();
    assert_eq!(run(&mut t, &argv), ok());
    assert_eq!(t.run(&["FCALL", "incr2", "1", "n", "1"]), int(2));
    // A flipped byte fails the checksum; a payload from an empty registry restores nothing.
    let mut bad = payload.clone();
    bad[5] ^= 1;
    assert_eq!(
        run(&mut t, &[b"FUNCTION".to_vec(), b"RESTORE".to_vec(), bad]),
        err("ERR DUMP payload version or checksum are wrong")
    );
    assert_eq!(t.srv.scripts.functions.codes().len(), 1);
    assert_eq!(&t.srv.scripts.functions.codes()[0][..], LIB.as_bytes());
    assert_eq!(
        t.srv.scripts.functions.load_code(LIB.as_bytes(), false),
        Err("Library 'mylib' already exists".into())
    );
    assert_eq!(
        t.srv.scripts.functions.load_code(LIB.as_bytes(), true),
        Ok("mylib".into())
    );
}

#[test]
fn library_code_that_runs_too_long_is_refused() {
    let mut t = TestDb::new();
    let start = std::time::Instant::now();
    assert_eq!(
        t.run(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=slow\nlocal a = 1 while true do a = a + 1 end"
        ]),
        err("ERR Error registering functions: ERR FUNCTION LOAD timeout")
    );
    assert!(start.elapsed() >= std::time::Duration::from_millis(500));
    // The state is usable afterwards.
    assert_eq!(t.run(&["FUNCTION", "LOAD", LIB]), bulk("mylib"));
}
