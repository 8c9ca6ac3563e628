//! Debian's redis-cli against tern: one-shot commands, raw and formatted output, commands piped
//! from a file, and `--pipe` mass insertion.

use crate::harness::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a redis-cli run printed.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `redis-cli -p PORT args...` with `stdin`, killing it after 30 s.
fn cli(s: &TestServer, args: &[&str], stdin: &[u8]) -> Out {
    let mut child = Command::new(require_tool(REDIS_CLI))
        .arg("-p")
        .arg(s.port().to_string())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redis-cli");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("redis-cli {args:?} did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    feeder.join().unwrap();
    let out = child.wait_with_output().expect("redis-cli output");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs a one-shot command and returns stdout, failing on a non-zero exit.
fn run(s: &TestServer, args: &[&str]) -> String {
    let o = cli(s, args, b"");
    assert_eq!(
        o.code,
        Some(0),
        "redis-cli {args:?} failed: {}{}",
        o.stdout,
        o.stderr
    );
    o.stdout
}

#[test]
fn one_shot_commands_print_raw_replies() {
    let s = TestServer::start();
    assert_eq!(run(&s, &["SET", "a", "b"]), "OK\n");
    assert_eq!(run(&s, &["GET", "a"]), "b\n");
    assert_eq!(run(&s, &["GET", "missing"]), "\n");
    assert_eq!(run(&s, &["INCR", "n"]), "1\n");
    assert_eq!(run(&s, &["MGET", "a", "missing"]), "b\n\n");
    assert_eq!(run(&s, &["PING"]), "PONG\n");
}

#[test]
fn no_raw_output_is_formatted_like_an_interactive_session() {
    let s = TestServer::start();
    run(&s, &["SET", "a", "b"]);
    assert_eq!(run(&s, &["--no-raw", "GET", "a"]), "\"b\"\n");
    assert_eq!(run(&s, &["--no-raw", "GET", "missing"]), "(nil)\n");
    assert_eq!(run(&s, &["--no-raw", "INCR", "n"]), "(integer) 1\n");
    assert_eq!(
        run(&s, &["--no-raw", "MGET", "a", "missing"]),
        "1) \"b\"\n2) (nil)\n"
    );
    assert_eq!(
        run(&s, &["--no-raw", "FOO", "x"]),
        "(error) ERR unknown command 'FOO', with args beginning with: 'x' \n"
    );
}

#[test]
fn info_server_prints_the_server_section() {
    let s = TestServer::start();
    let out = run(&s, &["INFO", "server"]);
    assert!(out.starts_with("# Server\r\n"), "{out}");
    assert!(out.contains("\r\nredis_version:7."), "{out}");
    assert!(
        out.contains(&format!("\r\ntcp_port:{}\r\n", s.port())),
        "{out}"
    );
    assert!(!out.contains("# Clients"));
}

#[test]
fn commands_piped_from_a_file_run_in_order() {
    let s = TestServer::start();
    let o = cli(
        &s,
        &[],
        b"SET x 1\nINCR x\nGET x\nSET \"sp ace\" \"v w\"\nGET \"sp ace\"\nPING\n",
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert_eq!(o.stdout, "OK\n2\n2\nOK\nv w\nPONG\n");
}

#[test]
fn pipe_mode_mass_inserts_ten_thousand_keys() {
    let s = TestServer::start();
    let mut proto = Vec::new();
    for i in 0..10_000 {
        proto.extend_from_slice(&encode(&[
            b"SET",
            format!("key:{i}").as_bytes(),
            format!("value:{i}").as_bytes(),
        ]));
    }
    let o = cli(&s, &["--pipe"], &proto);
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    let all = format!("{}{}", o.stdout, o.stderr);
    assert!(all.contains("errors: 0, replies: 10000"), "{all}");
    assert_eq!(run(&s, &["DBSIZE"]), "10000\n");
    assert_eq!(run(&s, &["GET", "key:9999"]), "value:9999\n");
}

#[test]
fn database_selection_repeat_and_scan_options_work() {
    let s = TestServer::start();
    assert_eq!(run(&s, &["-n", "2", "SET", "z", "1"]), "OK\n");
    assert_eq!(run(&s, &["-n", "2", "DBSIZE"]), "1\n");
    assert_eq!(run(&s, &["DBSIZE"]), "0\n");
    assert_eq!(run(&s, &["-r", "3", "INCR", "c"]), "1\n2\n3\n");
    run(&s, &["MSET", "apple", "1", "avocado", "2", "banana", "3"]);
    let mut keys: Vec<String> = run(&s, &["--scan", "--pattern", "a*"])
        .lines()
        .map(String::from)
        .collect();
    keys.sort();
    assert_eq!(keys, ["apple", "avocado"]);
}

#[test]
fn a_password_given_with_dash_a_authenticates() {
    let s = TestServer::start_with(&["--requirepass", "pw"]);
    assert_eq!(
        run(&s, &["--no-raw", "GET", "a"]),
        "(error) NOAUTH Authentication required.\n"
    );
    assert_eq!(
        run(&s, &["-a", "pw", "--no-auth-warning", "SET", "a", "1"]),
        "OK\n"
    );
    assert_eq!(
        run(&s, &["-a", "pw", "--no-auth-warning", "GET", "a"]),
        "1\n"
    );
}

#[test]
fn transactions_piped_through_redis_cli() {
    let s = TestServer::start();
    let o = cli(&s, &[], b"MULTI\nSET a 1\nINCR a\nEXEC\nDISCARD\n");
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert_eq!(
        o.stdout,
        // redis-cli prints an empty line after an error when stdout is not a terminal.
        "OK\nQUEUED\nQUEUED\nOK\n2\nERR DISCARD without MULTI\n\n"
    );
}

#[test]
fn redis_cli_subscriber_receives_what_redis_cli_publishes() {
    let s = TestServer::start();
    let mut sub = Command::new(require_tool(REDIS_CLI))
        .arg("-p")
        .arg(s.port().to_string())
        .args(["SUBSCRIBE", "news"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-cli SUBSCRIBE");
    let subscribed = wait_for(
        || run(&s, &["PUBSUB", "NUMSUB", "news"]) == "news\n1\n",
        Duration::from_secs(10),
    );
    assert!(subscribed, "redis-cli never subscribed");
    assert_eq!(run(&s, &["PUBLISH", "news", "hello"]), "1\n");
    assert_eq!(run(&s, &["PUBSUB", "CHANNELS"]), "news\n");
    // Give the message time to arrive, then stop the subscriber and read what it printed.
    std::thread::sleep(Duration::from_millis(300));
    let _ = sub.kill();
    let out = sub.wait_with_output().expect("subscriber output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text, "subscribe\nnews\n1\nmessage\nnews\nhello\n");
}
