//! TLS: `tls-port` with real clients (redis-cli `--tls`, a rustls client), mutual TLS
//! (`tls-auth-clients`), certificate reload with CONFIG SET, replication over TLS with
//! certificate verification (tern and Debian's redis-server, both directions), `tern tail
//! --tls`, and hostile bytes on the TLS port.
//!
//! Certificates come from `scripts/gen-test-certs.sh` (the `openssl` CLI), made afresh in each
//! test's directory: a CA, two server certificates it signed, a client certificate, and an
//! unrelated CA with a server certificate of its own.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tern_tls::rustls;

/// Makes the test certificates in `dir`/certs.
fn certs(dir: &Path) -> PathBuf {
    let out = dir.join("certs");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gen-test-certs.sh");
    let st = Command::new("bash")
        .arg(&script)
        .arg(&out)
        .output()
        .expect("run gen-test-certs.sh");
    assert!(
        st.status.success(),
        "gen-test-certs.sh failed (is openssl installed?): {}",
        String::from_utf8_lossy(&st.stderr)
    );
    out
}

fn p(dir: &Path, f: &str) -> String {
    dir.join(f).display().to_string()
}

/// A tern with a plain port and a TLS port (both picked free: `port 0` beside a TLS port
/// would mean no plain listener, as in Redis), serving `cert` (server, server2,
/// other-server), trusting ca.crt, with `extra` directives. Returns the server and its TLS port.
fn start_tls(c: &Path, cert: &str, extra: &[&str]) -> (TestServer, u16) {
    let tls_port = free_port();
    let plain = free_port().to_string();
    let (tp, crt, key, ca) = (
        tls_port.to_string(),
        p(c, &format!("{cert}.crt")),
        p(c, &format!("{cert}.key")),
        p(c, "ca.crt"),
    );
    let mut args = vec![
        "--port",
        plain.as_str(),
        "--tls-port",
        tp.as_str(),
        "--tls-cert-file",
        crt.as_str(),
        "--tls-key-file",
        key.as_str(),
        "--tls-ca-cert-file",
        ca.as_str(),
    ];
    args.extend_from_slice(extra);
    (TestServer::start_tern(None, &args), tls_port)
}

/// A small TLS RESP client on rustls.
struct TlsClient {
    s: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    buf: Vec<u8>,
}

impl TlsClient {
    /// Connects and completes the handshake; `cert` is a client certificate name in `c`.
    fn connect(port: u16, c: &Path, cert: Option<&str>) -> Result<TlsClient, String> {
        let o = tern_tls::ClientOptions {
            ca_file: Some(p(c, "ca.crt")),
            cert: cert.map(|n| p(c, &format!("{n}.crt"))),
            key: cert.map(|n| p(c, &format!("{n}.key"))),
            ..Default::default()
        };
        let cfg = tern_tls::client_config(&o).map_err(|e| e.to_string())?;
        let tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        let name = tern_tls::server_name("127.0.0.1", None).unwrap();
        let conn = rustls::ClientConnection::new(cfg, name).map_err(|e| e.to_string())?;
        let mut s = rustls::StreamOwned::new(conn, tcp);
        while s.conn.is_handshaking() {
            s.conn
                .complete_io(&mut s.sock)
                .map_err(|e| format!("handshake: {e}"))?;
        }
        Ok(TlsClient { s, buf: Vec::new() })
    }

    /// The certificate the server presented.
    fn peer_cert(&self) -> Vec<u8> {
        self.s.conn.peer_certificates().expect("a peer certificate")[0].to_vec()
    }

    /// Sends a command and reads one reply (simple, error, integer or bulk) as text; an I/O
    /// or TLS error (a refused client certificate arrives as an alert here) is an Err.
    fn cmd(&mut self, args: &[&str]) -> Result<String, String> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.s.write_all(&encode(&a)).map_err(|e| e.to_string())?;
        self.s.flush().map_err(|e| e.to_string())?;
        let line = self.line()?;
        if let Some(n) = line.strip_prefix('$') {
            let n: i64 = n.parse().unwrap();
            if n < 0 {
                return Ok("(nil)".into());
            }
            let body = self.line()?;
            assert_eq!(body.len() as i64, n);
            return Ok(body);
        }
        // +OK and :1 as text; an error keeps its '-'.
        Ok(line
            .strip_prefix(['+', ':'])
            .map(str::to_string)
            .unwrap_or(line))
    }

    fn line(&mut self) -> Result<String, String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 2);
                return Ok(l);
            }
            let mut chunk = [0u8; 4096];
            match self.s.read(&mut chunk) {
                Ok(0) => return Err("closed".into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}

/// The DER of the first certificate in a PEM file.
fn der(path: &str) -> Vec<u8> {
    tern_tls::load_certs(path).unwrap()[0].to_vec()
}

fn redis_cli_tls(port: u16, c: &Path, client_cert: bool, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(require_tool(REDIS_CLI));
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "--tls",
        "--cacert",
    ])
    .arg(p(c, "ca.crt"));
    if client_cert {
        cmd.arg("--cert")
            .arg(p(c, "client.crt"))
            .arg("--key")
            .arg(p(c, "client.key"));
    }
    cmd.args(args).output().expect("redis-cli runs")
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn redis_cli_over_tls_runs_commands_and_a_pipe() {
    let dir = test_dir("tls-cli");
    let c = certs(&dir);
    let (srv, tp) = start_tls(&c, "server", &[]);
    assert_eq!(
        stdout(&redis_cli_tls(tp, &c, true, &["SET", "greeting", "hello"])),
        "OK"
    );
    assert_eq!(
        stdout(&redis_cli_tls(tp, &c, true, &["GET", "greeting"])),
        "hello"
    );
    assert_eq!(
        stdout(&redis_cli_tls(tp, &c, true, &["INCRBY", "n", "41"])),
        "41"
    );
    // --pipe: 2,000 SETs in one stream, and the counts redis-cli reports.
    let mut input = Vec::new();
    for i in 0..2000 {
        input.extend_from_slice(&encode(&[
            b"SET",
            format!("pipe:{i}").as_bytes(),
            format!("v{i}").as_bytes(),
        ]));
    }
    let mut child = Command::new(REDIS_CLI)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &tp.to_string(),
            "--tls",
            "--cacert",
        ])
        .arg(p(&c, "ca.crt"))
        .arg("--cert")
        .arg(p(&c, "client.crt"))
        .arg("--key")
        .arg(p(&c, "client.key"))
        .arg("--pipe")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("errors: 0, replies: 2000"),
        "redis-cli --pipe said: {text}"
    );
    // The same data over the plain port.
    let mut con = srv.client();
    assert_eq!(as_int(&ok(&mut con, &["DBSIZE"])), 2002);
    assert_eq!(text_of(&ok(&mut con, &["GET", "pipe:1999"])), "v1999");
    assert_eq!(
        text_of(&ok(&mut con, &["CONFIG", "GET", "tls-port"])),
        format!("tls-port {tp}")
    );
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(" "),
        v => text(v),
    }
}

#[test]
fn client_certificates_are_required_optional_or_not_asked() {
    let dir = test_dir("tls-auth");
    let c = certs(&dir);
    // yes (the default): a client without a certificate is refused, one with is served.
    let (srv, tp) = start_tls(&c, "server", &[]);
    let mut with = TlsClient::connect(tp, &c, Some("client")).unwrap();
    assert_eq!(with.cmd(&["PING"]).unwrap(), "PONG");
    let refused = TlsClient::connect(tp, &c, None).and_then(|mut t| t.cmd(&["PING"]));
    assert!(
        refused.is_err(),
        "a client without a certificate got {refused:?}"
    );
    let out = redis_cli_tls(tp, &c, false, &["PING"]);
    assert_ne!(stdout(&out), "PONG");
    // A certificate from another CA is refused too.
    let other = TlsClient::connect(tp, &c, Some("other-server")).and_then(|mut t| t.cmd(&["PING"]));
    assert!(other.is_err(), "a foreign client certificate got {other:?}");
    srv.assert_alive();
    drop(srv);

    // optional: both are served; a bad certificate is still refused.
    let (srv, tp) = start_tls(&c, "server", &["--tls-auth-clients", "optional"]);
    assert_eq!(
        TlsClient::connect(tp, &c, Some("client"))
            .unwrap()
            .cmd(&["PING"])
            .unwrap(),
        "PONG"
    );
    assert_eq!(
        TlsClient::connect(tp, &c, None)
            .unwrap()
            .cmd(&["PING"])
            .unwrap(),
        "PONG"
    );
    assert_eq!(stdout(&redis_cli_tls(tp, &c, false, &["PING"])), "PONG");
    let other = TlsClient::connect(tp, &c, Some("other-server")).and_then(|mut t| t.cmd(&["PING"]));
    assert!(other.is_err(), "a foreign client certificate got {other:?}");
    let mut con = srv.client();
    assert_eq!(
        text_of(&ok(&mut con, &["CONFIG", "GET", "tls-auth-clients"])),
        "tls-auth-clients optional"
    );
    drop(srv);

    // no: no CA needed, no certificate asked.
    let (_srv, tp) = start_tls(&c, "server", &["--tls-auth-clients", "no"]);
    assert_eq!(stdout(&redis_cli_tls(tp, &c, false, &["PING"])), "PONG");
}

#[test]
fn config_set_certificate_serves_new_connections_without_a_restart() {
    let dir = test_dir("tls-reload");
    let c = certs(&dir);
    let (srv, tp) = start_tls(&c, "server", &[]);
    let pid = srv.pid();
    let mut old = TlsClient::connect(tp, &c, Some("client")).unwrap();
    assert_eq!(old.peer_cert(), der(&p(&c, "server.crt")));
    let mut con = srv.client();
    ok(
        &mut con,
        &[
            "CONFIG",
            "SET",
            "tls-cert-file",
            &p(&c, "server2.crt"),
            "tls-key-file",
            &p(&c, "server2.key"),
        ],
    );
    let mut new = TlsClient::connect(tp, &c, Some("client")).unwrap();
    assert_eq!(new.peer_cert(), der(&p(&c, "server2.crt")));
    assert_eq!(new.cmd(&["SET", "k", "v"]).unwrap(), "OK");
    // The connection made before the change goes on.
    assert_eq!(old.cmd(&["GET", "k"]).unwrap(), "v");
    assert_eq!(
        text_of(&ok(&mut con, &["CONFIG", "GET", "tls-cert-file"])),
        format!("tls-cert-file {}", p(&c, "server2.crt"))
    );
    // A failing change is refused with Redis's error, and changes nothing.
    let e = err(
        &mut con,
        &["CONFIG", "SET", "tls-cert-file", "/nonexistent/cert.pem"],
    );
    assert_eq!(
        e,
        "ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs."
    );
    // A certificate with the wrong key: refused as well.
    let e = err(
        &mut con,
        &["CONFIG", "SET", "tls-cert-file", &p(&c, "server.crt")],
    );
    assert!(e.contains("Unable to update TLS configuration"), "{e}");
    let e = err(&mut con, &["CONFIG", "SET", "tls-ciphers", "RC4-MD5"]);
    assert!(e.contains("'tls-ciphers'"), "{e}");
    // The server's log reaches the test through a pipe a moment after the reply.
    srv.wait_log("'RC4-MD5'", Duration::from_secs(10));
    assert_eq!(
        text_of(&ok(&mut con, &["CONFIG", "GET", "tls-cert-file"])),
        format!("tls-cert-file {}", p(&c, "server2.crt"))
    );
    let mut again = TlsClient::connect(tp, &c, Some("client")).unwrap();
    assert_eq!(again.peer_cert(), der(&p(&c, "server2.crt")));
    assert_eq!(again.cmd(&["GET", "k"]).unwrap(), "v");
    // Settings that rebuild the context and take effect.
    ok(
        &mut con,
        &[
            "CONFIG",
            "SET",
            "tls-protocols",
            "TLSv1.2",
            "tls-ciphers",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
        ],
    );
    let mut t12 = TlsClient::connect(tp, &c, Some("client")).unwrap();
    assert_eq!(
        t12.s.conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(
        t12.s.conn.negotiated_cipher_suite().map(|s| s.suite()),
        Some(rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
    );
    assert_eq!(t12.cmd(&["PING"]).unwrap(), "PONG");
    // Client authentication changes for new connections too.
    assert!(TlsClient::connect(tp, &c, None)
        .and_then(|mut t| t.cmd(&["PING"]))
        .is_err());
    ok(&mut con, &["CONFIG", "SET", "tls-auth-clients", "optional"]);
    let mut anon = TlsClient::connect(tp, &c, None).unwrap();
    assert_eq!(anon.cmd(&["GET", "k"]).unwrap(), "v");
    assert_eq!(srv.pid(), pid);
    let e = err(&mut con, &["CONFIG", "SET", "tls-port", "1"]);
    assert!(e.contains("can't set immutable config"), "{e}");
}

fn info(con: &mut redis::Connection, section: &str, field: &str) -> String {
    let v = ok(con, &["INFO", section]);
    info_field(&text(&v), field).unwrap_or_default()
}

/// Replica-side directives: TLS to the primary at `port`, verifying it against `ca`.
fn replica_args(c: &Path, ca: &str, port: u16) -> Vec<String> {
    [
        "--tls-replication",
        "yes",
        "--tls-cert-file",
        &p(c, "client.crt"),
        "--tls-key-file",
        &p(c, "client.key"),
        "--tls-ca-cert-file",
        &p(c, ca),
        "--replicaof",
        "127.0.0.1",
        &port.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(|s| s.as_str()).collect()
}

/// Waits (20 s at most) until `replica`'s link to its primary is up; `what` and the replica's
/// log make the failure.
fn wait_link_up(replica: &TestServer, rc: &mut redis::Connection, what: &str) {
    assert!(
        wait_for(
            || info(rc, "replication", "master_link_status") == "up",
            Duration::from_secs(20)
        ),
        "{what}; log:\n{}",
        replica.logs()
    );
}

#[test]
fn replica_syncs_over_tls_and_a_wrong_ca_is_refused() {
    let dir = test_dir("tls-repl");
    let c = certs(&dir);
    // The primary serves TLS only to certificate holders; its plain port is for the test.
    let (primary, tp) = start_tls(&c, "server", &[]);
    let mut pc = primary.client();
    for i in 0..500 {
        ok(&mut pc, &["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    ok(&mut pc, &["RPUSH", "list", "a", "b", "c"]);

    let args = replica_args(&c, "ca.crt", tp);
    let replica = TestServer::start_tern(None, &strs(&args));
    let mut rc = replica.client();
    wait_link_up(&replica, &mut rc, "the replica did not sync");
    assert_eq!(as_int(&ok(&mut rc, &["DBSIZE"])), 501);
    // Writes after the full sync stream over the same TLS link.
    ok(&mut pc, &["SET", "after", "sync"]);
    ok(&mut pc, &["INCRBY", "k0count", "7"]);
    assert!(wait_for(
        || q(&mut rc, &["GET", "k0count"]).ok() == Some(bulk("7")),
        Duration::from_secs(10)
    ));
    assert_eq!(text(&ok(&mut rc, &["GET", "after"])), "sync");
    assert_eq!(
        ok(&mut pc, &["DEBUG", "DIGEST"]),
        ok(&mut rc, &["DEBUG", "DIGEST"])
    );
    // The primary lists the replica (it came in on the TLS port).
    assert!(info(&mut pc, "replication", "slave0").contains("state=online"));

    // A replica that trusts another CA refuses the primary's certificate: the link stays down
    // and nothing of the primary's data arrives.
    let args = replica_args(&c, "other-ca.crt", tp);
    let wrong = TestServer::start_tern(None, &strs(&args));
    wrong.wait_log(
        "TLS handshake with the primary failed",
        Duration::from_secs(20),
    );
    let mut wc = wrong.client();
    assert_eq!(info(&mut wc, "replication", "master_link_status"), "down");
    assert_eq!(as_int(&ok(&mut wc, &["DBSIZE"])), 0);
    wrong.wait_log("UnknownIssuer", Duration::from_secs(10));
    // The primary never counted it as a replica.
    assert_eq!(info(&mut pc, "replication", "connected_slaves"), "1");
    primary.assert_alive();
}

#[test]
fn redis_server_replicates_from_tern_over_tls() {
    let dir = test_dir("tls-redis-replica");
    let c = certs(&dir);
    let (primary, tp) = start_tls(&c, "server", &[]);
    let mut pc = primary.client();
    ok(&mut pc, &["SET", "before", "1"]);
    ok(&mut pc, &["HSET", "h", "f", "v"]);
    let args = replica_args(&c, "ca.crt", tp);
    let redis = TestServer::start_redis(None, &strs(&args));
    let mut rc = redis.client();
    wait_link_up(&redis, &mut rc, "redis-server did not sync over TLS");
    ok(&mut pc, &["SET", "after", "2"]);
    assert!(wait_for(
        || q(&mut rc, &["GET", "after"]).ok() == Some(bulk("2")),
        Duration::from_secs(10)
    ));
    assert_eq!(text(&ok(&mut rc, &["HGET", "h", "f"])), "v");
    assert_eq!(text(&ok(&mut rc, &["GET", "before"])), "1");
}

#[test]
fn tern_replicates_from_redis_server_over_tls() {
    let dir = test_dir("tls-tern-replica");
    let c = certs(&dir);
    let tp = free_port();
    let tps = tp.to_string();
    let (crt, key, ca) = (p(&c, "server.crt"), p(&c, "server.key"), p(&c, "ca.crt"));
    let redis = TestServer::start_redis(
        None,
        &[
            "--tls-port",
            &tps,
            "--tls-cert-file",
            &crt,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
        ],
    );
    let mut pc = redis.client();
    ok(&mut pc, &["SET", "before", "1"]);
    let args = replica_args(&c, "ca.crt", tp);
    let replica = TestServer::start_tern(None, &strs(&args));
    let mut rc = replica.client();
    wait_link_up(
        &replica,
        &mut rc,
        "tern did not sync from redis-server over TLS",
    );
    assert_eq!(text(&ok(&mut rc, &["GET", "before"])), "1");
    ok(&mut pc, &["SET", "after", "2"]);
    assert!(wait_for(
        || q(&mut rc, &["GET", "after"]).ok() == Some(bulk("2")),
        Duration::from_secs(10)
    ));
    // redis-server lists tern with the port it announced (its plain port: it has no TLS
    // port of its own).
    let slave = info(&mut pc, "replication", "slave0");
    assert!(slave.contains("state=online"), "{slave}");
    assert!(
        slave.contains(&format!("port={},", replica.port())),
        "{slave}"
    );
}

#[test]
fn tern_tail_follows_a_tls_primary() {
    let dir = test_dir("tls-tail");
    let c = certs(&dir);
    let (primary, tp) = start_tls(&c, "server", &[]);
    let mut pc = primary.client();
    let mut child = Command::new(TERN)
        .args(["tail", "--port", &tp.to_string(), "--tls", "--cacert"])
        .arg(p(&c, "ca.crt"))
        .arg("--cert")
        .arg(p(&c, "client.crt"))
        .arg("--key")
        .arg(p(&c, "client.key"))
        .args(["--count", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The first line (the full resync) arrives once tail is connected.
    let mut out = child.stdout.take().unwrap();
    let mut first = Vec::new();
    let mut b = [0u8; 1];
    while out.read(&mut b).unwrap() == 1 && b[0] != b'\n' {
        first.push(b[0]);
    }
    let first = String::from_utf8_lossy(&first).into_owned();
    assert!(first.contains("\"event\":\"fullresync\""), "{first}");
    ok(&mut pc, &["SET", "k", "v"]);
    ok(&mut pc, &["LPUSH", "l", "x"]);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let st = child.wait().unwrap();
    assert!(st.success());
    let lines: Vec<&str> = rest.lines().collect();
    assert_eq!(lines.len(), 2, "{rest}");
    assert!(
        lines[0].contains(r#""command":"SET","args":["k","v"]"#)
            || lines[0].contains(r#""args":["k","v"],"command":"SET""#),
        "{rest}"
    );
    assert!(lines[1].contains("LPUSH"), "{rest}");

    // Against the wrong CA, tail fails with the reason.
    let o = Command::new(TERN)
        .args(["tail", "--port", &tp.to_string(), "--tls", "--cacert"])
        .arg(p(&c, "other-ca.crt"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("TLS handshake failed"), "{e}");
}

#[test]
fn hostile_bytes_on_the_tls_port_leave_the_server_serving() {
    let dir = test_dir("tls-hostile");
    let c = certs(&dir);
    let (srv, tp) = start_tls(&c, "server", &[]);
    // Plain RESP on the TLS port: closed, nothing executed.
    let mut plain = TcpStream::connect(("127.0.0.1", tp)).unwrap();
    plain.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    plain
        .write_all(b"*3\r\n$3\r\nSET\r\n$6\r\nplain!\r\n$1\r\n1\r\n")
        .unwrap();
    let mut sink = Vec::new();
    let _ = plain.read_to_end(&mut sink);
    assert!(
        !sink.starts_with(b"+OK"),
        "plain RESP was served on the TLS port"
    );
    // Garbage bytes.
    let mut garbage = TcpStream::connect(("127.0.0.1", tp)).unwrap();
    garbage.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let _ = garbage.write_all(&junk);
    let _ = garbage.read_to_end(&mut sink);
    // A handshake that stops halfway: a TLS record header announcing a ClientHello, part of
    // it, then nothing; and a batch of connections that send nothing at all.
    let mut half = TcpStream::connect(("127.0.0.1", tp)).unwrap();
    half.write_all(&[
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ])
    .unwrap();
    let silent: Vec<TcpStream> = (0..50)
        .map(|_| TcpStream::connect(("127.0.0.1", tp)).unwrap())
        .collect();
    // Meanwhile TLS and plain clients are served.
    let mut t = TlsClient::connect(tp, &c, Some("client")).unwrap();
    assert_eq!(t.cmd(&["SET", "k", "v"]).unwrap(), "OK");
    assert_eq!(t.cmd(&["GET", "plain!"]).unwrap(), "(nil)");
    let mut con = srv.client();
    assert_eq!(text(&ok(&mut con, &["GET", "k"])), "v");
    // A client that dies mid-handshake (after the ClientHello, never reading the reply).
    let cfg = tern_tls::client_config(&tern_tls::ClientOptions {
        insecure: true,
        ..Default::default()
    })
    .unwrap();
    let mut conn =
        rustls::ClientConnection::new(cfg, tern_tls::server_name("127.0.0.1", None).unwrap())
            .unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", tp)).unwrap();
    conn.write_tls(&mut s).unwrap();
    drop(s);
    // Garbage inside an established TLS session (records that fail authentication): that
    // connection is closed, the others go on.
    let mut broken = TlsClient::connect(tp, &c, Some("client")).unwrap();
    assert_eq!(broken.cmd(&["PING"]).unwrap(), "PONG");
    let mut forged = vec![0x17, 0x03, 0x03, 0x00, 0x40];
    forged.extend_from_slice(&[0xAB; 0x40]);
    broken.s.sock.write_all(&forged).unwrap();
    assert!(
        broken.cmd(&["PING"]).is_err(),
        "a forged record was accepted"
    );
    drop(half);
    drop(silent);
    srv.assert_alive();
    let mut t2 = TlsClient::connect(tp, &c, Some("client")).unwrap();
    assert_eq!(t2.cmd(&["GET", "k"]).unwrap(), "v");
}

#[test]
fn port_0_with_a_tls_port_serves_tls_only() {
    let dir = test_dir("tls-only");
    let c = certs(&dir);
    let tp = free_port();
    let d = dir.display().to_string();
    let args: Vec<String> = [
        "server",
        "--port",
        "0",
        "--tls-port",
        &tp.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        &d,
        "--tls-cert-file",
        &p(&c, "server.crt"),
        "--tls-key-file",
        &p(&c, "server.key"),
        "--tls-ca-cert-file",
        &p(&c, "ca.crt"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (mut child, log, rx) = spawn(TERN, &args);
    let ready = loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(l) if l.contains("Ready to accept connections tls") => break true,
            Ok(_) => continue,
            Err(_) => break false,
        }
    };
    assert!(ready, "no TLS ready line:\n{}", log.lock().unwrap());
    assert!(!log
        .lock()
        .unwrap()
        .contains("Ready to accept connections tcp"));
    let mut t = TlsClient::connect(tp, &c, Some("client")).unwrap();
    assert_eq!(t.cmd(&["SET", "only", "tls"]).unwrap(), "OK");
    assert_eq!(t.cmd(&["GET", "only"]).unwrap(), "tls");
    kill_child(&mut child);
}

#[test]
fn bad_tls_settings_stop_start_up_with_the_reason() {
    let dir = test_dir("tls-bad");
    let c = certs(&dir);
    let run = |extra: &[&str]| -> String {
        let tp = free_port().to_string();
        let mut args = vec!["--save", "", "--tls-port", &tp];
        args.extend_from_slice(extra);
        tern_refuses_to_start(&args)
    };
    let (crt, key, ca) = (p(&c, "server.crt"), p(&c, "server.key"), p(&c, "ca.crt"));
    let e = run(&[]);
    assert!(
        e.contains("Failed to configure TLS: No tls-cert-file configured!"),
        "{e}"
    );
    let e = run(&["--tls-cert-file", &crt, "--tls-key-file", &key]);
    assert!(e.contains("tls-ca-cert-file or tls-ca-cert-dir"), "{e}");
    let e = run(&[
        "--tls-cert-file",
        &crt,
        "--tls-key-file",
        &key,
        "--tls-ca-cert-file",
        &ca,
        "--tls-ciphersuites",
        "TLS_AES_128_CCM_8_SHA256",
    ]);
    assert!(e.contains("'TLS_AES_128_CCM_8_SHA256'"), "{e}");
    let e = run(&[
        "--tls-cert-file",
        &crt,
        "--tls-key-file",
        &key,
        "--tls-ca-cert-file",
        &ca,
        "--tls-protocols",
        "TLSv1.1",
    ]);
    assert!(e.contains("TLSv1.1 is not supported"), "{e}");
    // A CA directory works in place of the file.
    let cadir = dir.join("cadir");
    std::fs::create_dir_all(&cadir).unwrap();
    std::fs::copy(c.join("ca.crt"), cadir.join("ca.pem")).unwrap();
    let cd = cadir.display().to_string();
    let (_srv, tp) = start_tls(
        &c,
        "server",
        &["--tls-ca-cert-file", "", "--tls-ca-cert-dir", &cd],
    );
    let mut t = TlsClient::connect(tp, &c, Some("client")).unwrap();
    assert_eq!(t.cmd(&["PING"]).unwrap(), "PONG");
}

#[test]
fn the_idle_timeout_closes_a_tls_client_that_stopped_reading_its_replies() {
    // Over TLS the replies pass through the TLS layer's buffer before the socket; a client
    // that stops reading is still closed by the idle timeout. (Which step stalls, the write
    // into the TLS layer or its final flush, depends on buffer sizes: both are watched, but
    // this test does not arrange for the flush to be the one.)
    let dir = test_dir("tls-not-reading");
    let c = certs(&dir);
    let (s, tp) = start_tls(&c, "server", &["--timeout", "2"]);
    let mut plain = s.client();
    ok(&mut plain, &["SET", "big", &"b".repeat(1024 * 1024)]);
    let mut hog = TlsClient::connect(tp, &c, Some("client")).unwrap();
    let id = hog.cmd(&["CLIENT", "ID"]).unwrap();
    let get = encode(&[b"GET", b"big"]).repeat(100);
    hog.s.write_all(&get).unwrap();
    hog.s.flush().unwrap();
    let mine = format!("id={id} ");
    assert!(
        wait_for(
            || !text(&ok(&mut plain, &["CLIENT", "LIST"])).contains(&mine),
            Duration::from_secs(30)
        ),
        "a TLS client that stopped reading outlived the idle timeout"
    );
    assert_eq!(text(&ok(&mut plain, &["PING"])), "PONG");
}
