//! `tern tail`: the replication stream of a real redis-server and of tern as JSON lines, and
//! resuming from the offset of the last line printed.

use crate::harness::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// Runs `tern tail` against `srv` until it printed `lines` lines (bounded by a timeout).
fn tail(
    srv: &TestServer,
    extra: &[&str],
    lines: usize,
    write: impl FnOnce(),
) -> Vec<serde_json::Value> {
    let port = srv.port().to_string();
    let mut child = Command::new(TERN)
        .args(["tail", "--port", &port])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("tern tail starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a first line");
    write();
    let mut out = vec![json(&first)];
    while out.len() < lines {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(l) => out.push(json(&l)),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    out
}

fn check(srv: &TestServer) {
    let mut c = srv.client();
    ok(&mut c, &["SET", "before", "1"]);
    let lines = tail(srv, &[], 4, || {
        ok(&mut c, &["SET", "k", "v"]);
        ok(&mut c, &["SELECT", "2"]);
        ok(&mut c, &["RPUSH", "l", "a", "b"]);
        ok(&mut c, &["SELECT", "0"]);
        ok(&mut c, &["SET", "bin", "\u{1}"]);
    });
    assert_eq!(lines[0]["event"], "fullresync", "{lines:?}");
    let replid = lines[0]["replid"].as_str().unwrap().to_string();
    assert_eq!(lines[1]["command"].as_str().unwrap().to_uppercase(), "SET");
    assert_eq!(lines[1]["args"], serde_json::json!(["k", "v"]));
    assert_eq!(lines[1]["db"], 0);
    assert_eq!(
        lines[2]["command"].as_str().unwrap().to_lowercase(),
        "rpush"
    );
    assert_eq!(lines[2]["db"], 2);
    let off2 = lines[2]["offset"].as_u64().unwrap();
    assert!(off2 > lines[1]["offset"].as_u64().unwrap());

    // Resume after the RPUSH: the next command is the SET of "bin".
    let resumed = tail(
        srv,
        &["--replid", &replid, "--offset", &off2.to_string()],
        2,
        || {},
    );
    assert_eq!(resumed[0]["event"], "continue", "{resumed:?}");
    assert_eq!(resumed[1]["args"][0], "bin");
    assert_eq!(resumed[1]["db"], 0);
    assert_eq!(resumed[1]["offset"], lines[3]["offset"]);
}

#[test]
fn tern_tail_prints_redis_streams_as_json_and_resumes() {
    let r = TestServer::start_redis(None, &["--repl-diskless-sync-delay", "0"]);
    check(&r);
}

#[test]
fn tern_tail_prints_tern_streams_as_json_and_resumes() {
    let t = TestServer::start_tern(None, &[]);
    check(&t);
}
