//! The wire protocol over raw TCP: inline commands, RESP2 and RESP3 reply shapes, deep
//! pipelines, and requests that arrive in pieces.

use crate::harness::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Reads exactly `n` bytes (with the socket's timeout).
fn read_n(r: &mut Raw, n: usize) -> Vec<u8> {
    let mut out = r.unread().to_vec();
    assert!(out.is_empty(), "unexpected buffered bytes {out:?}");
    out.resize(n, 0);
    r.stream.read_exact(&mut out).expect("read reply bytes");
    out
}

#[test]
fn inline_commands_are_understood() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    r.send(b"PING\r\n");
    assert_eq!(read_n(&mut r, 7), b"+PONG\r\n");
    r.send(b"SET a \"b c\"\r\n");
    assert_eq!(read_n(&mut r, 5), b"+OK\r\n");
    r.send(b"GET a\r\n");
    assert_eq!(read_n(&mut r, 9), b"$3\r\nb c\r\n");
    // Escapes inside double quotes, single quotes, a bare LF, and blank lines that are skipped.
    r.send(b"SET b \"x\\ty\\x41\"\r\n\r\n\r\nGET b\n");
    assert_eq!(r.read_reply(), Resp::Simple("OK".into()));
    assert_eq!(r.read_reply(), Resp::bulk("x\tyA"));
    r.send(b"SET c 'it\\'s'\r\nGET c\r\n");
    assert_eq!(r.read_reply(), Resp::Simple("OK".into()));
    assert_eq!(r.read_reply(), Resp::bulk("it's"));
    r.send(b"ECHO   spaced    \r\n");
    assert_eq!(r.read_reply(), Resp::bulk("spaced"));
    // Inline and multibulk requests can be mixed in one write.
    r.send(b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING x\r\n");
    assert_eq!(r.read_reply(), Resp::Simple("PONG".into()));
    assert_eq!(r.read_reply(), Resp::bulk("hi"));
    assert_eq!(r.read_reply(), Resp::bulk("x"));
}

#[test]
fn empty_and_null_multibulks_are_ignored() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    r.send(b"*0\r\n*-1\r\nPING\r\n");
    assert_eq!(read_n(&mut r, 7), b"+PONG\r\n");
}

#[test]
fn resp2_replies_have_redis_wire_shapes() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    r.send(&encode(&[b"GET", b"missing"]));
    assert_eq!(read_n(&mut r, 5), b"$-1\r\n");
    r.send(&encode(&[b"SET", b"k", b"v"]));
    assert_eq!(read_n(&mut r, 5), b"+OK\r\n");
    r.send(&encode(&[b"INCR", b"n"]));
    assert_eq!(read_n(&mut r, 4), b":1\r\n");
    r.send(&encode(&[b"MGET", b"k", b"missing"]));
    assert_eq!(read_n(&mut r, 16), b"*2\r\n$1\r\nv\r\n$-1\r\n");
    r.send(&encode(&[b"GET"]));
    let e = b"-ERR wrong number of arguments for 'get' command\r\n";
    assert_eq!(read_n(&mut r, e.len()), e);
}

#[test]
fn hello_3_switches_the_connection_to_resp3() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    let Resp::Map(m) = r.cmd(&["HELLO", "3"]) else {
        panic!("HELLO 3 must reply with a map")
    };
    let keys: Vec<String> = m.iter().map(|(k, _)| k.text()).collect();
    assert_eq!(
        keys,
        ["server", "version", "proto", "id", "mode", "role", "modules"]
    );
    assert_eq!(m[0].1, Resp::bulk("redis"));
    assert_eq!(m[2].1, Resp::Int(3));
    assert!(matches!(m[3].1, Resp::Int(id) if id > 0));
    assert_eq!(m[4].1, Resp::bulk("standalone"));
    assert_eq!(m[5].1, Resp::bulk("master"));
    assert_eq!(m[6].1, Resp::Array(Some(vec![])));
    // Nulls are `_` in RESP3.
    r.send(&encode(&[b"GET", b"missing"]));
    assert_eq!(read_n(&mut r, 3), b"_\r\n");
    r.send(&encode(&[b"MGET", b"missing"]));
    assert_eq!(read_n(&mut r, 7), b"*1\r\n_\r\n");
    // CONFIG GET is a map in RESP3.
    assert_eq!(
        r.cmd(&["CONFIG", "GET", "maxmemory"]),
        Resp::Map(vec![(Resp::bulk("maxmemory"), Resp::bulk("0"))])
    );
    // HELLO 2 goes back to RESP2: the reply is a flat array of 14 items.
    match r.cmd(&["HELLO", "2"]) {
        Resp::Array(Some(a)) => assert_eq!(a.len(), 14),
        other => panic!("HELLO 2 replied {other:?}"),
    }
    r.send(&encode(&[b"GET", b"missing"]));
    assert_eq!(read_n(&mut r, 5), b"$-1\r\n");
}

#[test]
fn ten_thousand_pipelined_commands_get_ten_thousand_replies_in_order() {
    let s = TestServer::start();
    let r = s.raw();
    let mut reader = Raw::new(r.try_clone().expect("clone socket"));
    let mut batch = Vec::new();
    for i in 0..10_000 {
        if i % 2 == 0 {
            batch.extend_from_slice(&encode(&[b"INCR", b"counter"]));
        } else {
            batch.extend_from_slice(&encode(&[b"ECHO", format!("e{i}").as_bytes()]));
        }
    }
    // Write from another thread so a full socket buffer can never deadlock the test.
    let mut w = r;
    let writer = std::thread::spawn(move || w.write_all(&batch).map(|_| w));
    let t0 = Instant::now();
    for i in 0..10_000 {
        let reply = reader.read_reply();
        let want = if i % 2 == 0 {
            Resp::Int(i / 2 + 1)
        } else {
            Resp::bulk(format!("e{i}"))
        };
        assert_eq!(reply, want, "reply #{i}");
    }
    writer.join().unwrap().expect("write the pipeline");
    assert!(t0.elapsed() < Duration::from_secs(20));
    assert_eq!(s.must_cmd(&["GET", "counter"]), bulk("5000"));
}

#[test]
fn a_request_split_across_many_small_writes_is_reassembled() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    let req = encode(&[b"SET", b"split", b"hello world"]);
    for b in &req {
        r.send(std::slice::from_ref(b));
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(r.read_reply(), Resp::Simple("OK".into()));
    // An inline request in pieces.
    for part in [&b"GE"[..], b"T spl", b"it\r", b"\n"] {
        r.send(part);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(r.read_reply(), Resp::bulk("hello world"));
    // A 300 KB value in irregular chunks, with the header split mid-number.
    let value: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let req = encode(&[b"SET", b"big", &value]);
    let mut pos = 0;
    let mut step = 1;
    while pos < req.len() {
        let end = (pos + step).min(req.len());
        r.send(&req[pos..end]);
        pos = end;
        step = (step * 3 + 7) % 40_000 + 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(r.read_reply(), Resp::Simple("OK".into()));
    assert_eq!(r.cmd(&["GET", "big"]), Resp::Bulk(Some(value)));
}

#[test]
fn binary_values_with_crlf_inside_are_kept_intact() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    let v = b"line1\r\nline2\r\n\x00\xff*3\r\n$".to_vec();
    r.send(&encode(&[b"SET", b"bin", &v]));
    assert_eq!(r.read_reply(), Resp::Simple("OK".into()));
    r.send(&encode(&[b"GET", b"bin"]));
    assert_eq!(r.read_reply(), Resp::Bulk(Some(v)));
}

#[test]
fn replies_to_a_pipeline_with_errors_stay_in_order() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    let mut batch = Vec::new();
    batch.extend_from_slice(&encode(&[b"SET", b"x", b"notanumber"]));
    batch.extend_from_slice(&encode(&[b"INCR", b"x"]));
    batch.extend_from_slice(&encode(&[b"NOSUCH"]));
    batch.extend_from_slice(&encode(&[b"GET", b"x"]));
    r.send(&batch);
    assert_eq!(r.read_reply(), Resp::Simple("OK".into()));
    assert_eq!(
        r.read_reply(),
        Resp::Error("ERR value is not an integer or out of range".into())
    );
    assert_eq!(
        r.read_reply(),
        Resp::Error("ERR unknown command 'NOSUCH', with args beginning with: ".into())
    );
    assert_eq!(r.read_reply(), Resp::bulk("notanumber"));
}
