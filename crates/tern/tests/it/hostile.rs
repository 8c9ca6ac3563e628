//! Hostile and broken clients: malformed RESP, lying lengths, garbage, half requests, many idle
//! connections, and oversized query buffers. After each, a fresh client still gets PONG.

use crate::harness::*;
use std::time::{Duration, Instant};

/// Sends `bytes` on a fresh connection and expects exactly `reply` followed by a close.
fn expect_protocol_error(s: &TestServer, bytes: &[u8], reply: &str) {
    let mut r = s.raw_conn();
    r.send(bytes);
    assert_eq!(
        r.read_reply(),
        Resp::Error(reply.to_string()),
        "for {:?}",
        String::from_utf8_lossy(bytes)
    );
    assert!(
        r.closed_within(Duration::from_secs(2)),
        "connection left open after a protocol error for {:?}",
        String::from_utf8_lossy(bytes)
    );
    assert!(
        r.unread().is_empty(),
        "more after the error: {:?}",
        r.unread()
    );
    s.assert_alive();
}

#[test]
fn a_non_numeric_multibulk_length_is_a_protocol_error_that_closes_the_connection() {
    let s = TestServer::start();
    expect_protocol_error(
        &s,
        b"*abc\r\n",
        "ERR Protocol error: invalid multibulk length",
    );
    expect_protocol_error(
        &s,
        b"*9999999999\r\n",
        "ERR Protocol error: invalid multibulk length",
    );
}

#[test]
fn negative_and_huge_bulk_lengths_are_protocol_errors() {
    let s = TestServer::start();
    expect_protocol_error(
        &s,
        b"*1\r\n$-5\r\n",
        "ERR Protocol error: invalid bulk length",
    );
    expect_protocol_error(
        &s,
        b"*1\r\n$999999999999\r\n",
        "ERR Protocol error: invalid bulk length",
    );
    // One byte over proto-max-bulk-len (512 MB).
    expect_protocol_error(
        &s,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\n",
        "ERR Protocol error: invalid bulk length",
    );
    // Lengths at the edges of a 64-bit integer, and past it.
    for len in [
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "-9223372036854775808",
    ] {
        expect_protocol_error(
            &s,
            format!("*1\r\n${len}\r\n").as_bytes(),
            "ERR Protocol error: invalid bulk length",
        );
    }
    expect_protocol_error(
        &s,
        b"*9223372036854775807\r\n",
        "ERR Protocol error: invalid multibulk length",
    );
    // A lowered proto-max-bulk-len applies to the next request at once.
    let mut c = s.client();
    ok(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
    expect_protocol_error(
        &s,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n",
        "ERR Protocol error: invalid bulk length",
    );
    let v = "v".repeat(1024 * 1024);
    ok(&mut c, &["SET", "k", &v]);
    assert_eq!(ok(&mut c, &["STRLEN", "k"]), int(1024 * 1024));
}

#[test]
fn a_multibulk_item_without_dollar_is_a_protocol_error() {
    let s = TestServer::start();
    expect_protocol_error(
        &s,
        b"*1\r\nfoo\r\n",
        "ERR Protocol error: expected '$', got 'f'",
    );
}

#[test]
fn an_inline_command_with_unbalanced_quotes_is_a_protocol_error() {
    let s = TestServer::start();
    expect_protocol_error(
        &s,
        b"SET a \"b\r\n",
        "ERR Protocol error: unbalanced quotes in request",
    );
}

#[test]
fn an_inline_request_over_64_kb_without_newline_is_a_protocol_error() {
    let s = TestServer::start();
    expect_protocol_error(
        &s,
        &vec![b'x'; 70_000],
        "ERR Protocol error: too big inline request",
    );
}

#[test]
fn a_good_command_before_a_bad_one_is_answered_first() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    r.send(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$-1\r\n");
    assert_eq!(r.read_reply(), Resp::Simple("PONG".into()));
    assert_eq!(
        r.read_reply(),
        Resp::Error("ERR Protocol error: invalid bulk length".into())
    );
    assert!(r.closed_within(Duration::from_secs(2)));
    s.assert_alive();
}

#[test]
fn unauthenticated_clients_may_not_declare_large_requests() {
    let s = TestServer::start_with(&["--requirepass", "pw"]);
    expect_protocol_error(
        &s,
        b"*20000\r\n",
        "ERR Protocol error: unauthenticated multibulk length",
    );
    expect_protocol_error(
        &s,
        b"*2\r\n$3\r\nGET\r\n$100000\r\n",
        "ERR Protocol error: unauthenticated bulk length",
    );
}

#[test]
fn binary_garbage_does_not_hurt_the_server() {
    let s = TestServer::start();
    // A fixed pseudo-random stream (xorshift), so failures reproduce.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..20 {
        let mut garbage = Vec::with_capacity(4096);
        for _ in 0..4096 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            garbage.push((x >> 24) as u8);
        }
        // Half the rounds look like RESP at first.
        if round % 2 == 0 {
            garbage[0] = b'*';
        }
        let mut r = s.raw_conn();
        let _ = r.send_lossy(&garbage);
        // Whatever the server answers, it must close or keep going, not hang or die.
        let _ = r.closed_within(Duration::from_millis(200));
    }
    s.assert_alive();
}

#[test]
fn a_512_mb_declared_bulk_that_never_arrives_does_not_allocate_it() {
    let s = TestServer::start();
    s.assert_alive();
    let before = s.rss_kb();
    let mut conns = Vec::new();
    // A few connections at once, each claiming a 512 MB argument and sending a little.
    for _ in 0..4 {
        let mut r = s.raw_conn();
        r.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n");
        r.send(&[b'x'; 1000]);
        conns.push(r);
    }
    std::thread::sleep(Duration::from_millis(300));
    let during = s.rss_kb();
    assert!(
        during < before + 100 * 1024,
        "RSS grew from {before} KiB to {during} KiB while 512 MB bulks were only declared"
    );
    drop(conns);
    std::thread::sleep(Duration::from_millis(200));
    let after = s.rss_kb();
    assert!(
        after < before + 100 * 1024,
        "RSS {after} KiB after disconnect (was {before} KiB)"
    );
    s.assert_alive();
    assert_eq!(s.must_cmd(&["EXISTS", "k"]), int(0));
}

#[test]
fn a_command_cut_in_half_then_disconnected_is_never_executed() {
    let s = TestServer::start();
    for cut in [5, 12, 20, 27, 30] {
        let req = encode(&[b"SET", b"k", b"hello"]);
        let mut r = s.raw_conn();
        r.send(&req[..cut.min(req.len() - 1)]);
        std::thread::sleep(Duration::from_millis(20));
        r.shutdown_write();
        drop(r);
    }
    std::thread::sleep(Duration::from_millis(100));
    s.assert_alive();
    assert_eq!(s.must_cmd(&["GET", "k"]), Value::Nil);
}

#[test]
fn a_thousand_idle_connections_do_not_stop_another_client_being_served() {
    let s = TestServer::start();
    let mut idle = Vec::with_capacity(1000);
    for i in 0..1000 {
        let c = std::net::TcpStream::connect(s.addr())
            .unwrap_or_else(|e| panic!("connection #{i} failed: {e}"));
        idle.push(c);
    }
    let mut c = s.client();
    let t0 = Instant::now();
    for i in 0..200 {
        let k = format!("k{i}");
        ok(&mut c, &["SET", &k, "v"]);
        assert_eq!(ok(&mut c, &["GET", &k]), bulk("v"));
    }
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(10), "400 commands took {took:?}");
    let clients = text(&ok(&mut c, &["INFO", "clients"]));
    let n: usize = info_field(&clients, "connected_clients")
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 1001, "connected_clients {n}");
    // Some of the idle ones still work.
    for sock in idle.iter().step_by(100) {
        let mut r = Raw::new(sock.try_clone().unwrap());
        r.stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()));
    }
    drop(idle);
    assert!(
        wait_for(
            || {
                let info = text(&ok(&mut c, &["INFO", "clients"]));
                info_field(&info, "connected_clients").unwrap() == "1"
            },
            Duration::from_secs(5)
        ),
        "closed connections were not released"
    );
    s.assert_alive();
}

#[test]
fn a_query_buffer_over_the_limit_closes_the_connection_and_the_server_lives() {
    let s = TestServer::start_with(&["--client-query-buffer-limit", "1mb"]);
    let mut r = s.raw_conn();
    r.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n");
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent < 2 * 1024 * 1024 {
        if r.send_lossy(&chunk).is_err() {
            break; // the server already closed: fine
        }
        sent += chunk.len();
    }
    assert!(
        r.closed_within(Duration::from_secs(5)),
        "connection still open after {sent} bytes of a 3 MB bulk with a 1 MB limit"
    );
    s.assert_alive();
    assert_eq!(s.must_cmd(&["EXISTS", "k"]), int(0));
    // Normal-sized requests are still fine on that server.
    let mut c = s.client();
    let v = "y".repeat(500_000);
    ok(&mut c, &["SET", "ok", &v]);
    assert_eq!(ok(&mut c, &["STRLEN", "ok"]), int(500_000));
}
