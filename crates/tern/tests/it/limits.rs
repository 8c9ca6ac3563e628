//! Abuse tests for the limits that keep a slow or hostile client from exhausting the server:
//! `maxclients` under 10,000 connection attempts, the CPU that busy polling may take,
//! slowloris clients and the idle `timeout`, a MULTI that queues forever, a replica that never
//! reads (`client-output-buffer-limit replica`), a normal client that pipelines big GETs
//! without reading (`client-output-buffer-limit normal`), and `protected-mode`. Each checks
//! that the server stays up, that another client is served meanwhile, and that memory stays
//! bounded (INFO used_memory or RSS from /proc) or CPU time, never how long anything took.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

fn used_memory(c: &mut redis::Connection) -> u64 {
    let info = text(&ok(c, &["INFO", "memory"]));
    info_field(&info, "used_memory").unwrap().parse().unwrap()
}

fn info_u64(c: &mut redis::Connection, section: &str, field: &str) -> u64 {
    let info = text(&ok(c, &["INFO", section]));
    info_field(&info, field)
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
        .parse()
        .unwrap()
}

/// A served client: SET then GET a key named after `i`.
fn must_serve(c: &mut redis::Connection, i: usize) {
    let k = format!("served:{i}");
    ok(c, &["SET", &k, "v"]);
    assert_eq!(ok(c, &["GET", &k]), bulk("v"));
}

#[test]
fn ten_thousand_connection_attempts_meet_maxclients_and_another_client_is_served() {
    let s = TestServer::start_with(&["--maxclients", "20"]);
    let mut c = s.client();
    // 19 more connections fill the server (20 with `c`).
    let mut held: Vec<Raw> = (0..19).map(|_| s.raw_conn()).collect();
    for r in held.iter_mut() {
        assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()));
    }
    let mut refused = 0;
    for i in 0..10_000 {
        let mut r = s.raw_conn();
        // The refusal comes before any command is read, as in Redis.
        let line = r.read_line();
        assert_eq!(line, "-ERR max number of clients reached", "attempt {i}");
        assert!(r.closed_within(Duration::from_secs(5)), "attempt {i}");
        refused += 1;
        if i % 1000 == 0 {
            must_serve(&mut c, i);
        }
    }
    assert_eq!(refused, 10_000);
    assert!(info_u64(&mut c, "stats", "rejected_connections") >= 10_000);
    assert_eq!(info_u64(&mut c, "clients", "connected_clients"), 20);
    // The held ones still work, and once they leave new clients are accepted again.
    for r in held.iter_mut().step_by(5) {
        assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()));
    }
    drop(held);
    assert!(wait_for(
        || info_u64(&mut c, "clients", "connected_clients") == 1,
        Duration::from_secs(10)
    ));
    s.assert_alive();
}

#[test]
fn slowloris_clients_do_not_stop_others_and_the_idle_timeout_closes_them() {
    let s = TestServer::start_with(&["--timeout", "3"]);
    let mut c = s.client();
    let before = s.rss_kb();
    let req = encode(&[b"SET", b"slow", b"never-finished"]);
    let mut slow: Vec<Raw> = (0..50).map(|_| s.raw_conn()).collect();
    // Five bytes each, one a second: the request is never complete. Others are served
    // between the bytes.
    for (round, byte) in req.iter().take(5).enumerate() {
        for r in slow.iter_mut() {
            r.send(&[*byte]);
        }
        must_serve(&mut c, round);
        std::thread::sleep(Duration::from_secs(1));
    }
    // Then they go quiet: `timeout` closes every one of them (and `c`, idle meanwhile, as
    // Redis would).
    for (i, r) in slow.iter_mut().enumerate() {
        assert!(
            r.closed_within(Duration::from_secs(20)),
            "slow client {i} still open; log:\n{}",
            s.logs()
        );
    }
    let mut c = s.client();
    assert!(wait_for(
        || info_u64(&mut c, "clients", "connected_clients") == 1,
        Duration::from_secs(10)
    ));
    must_serve(&mut c, 99);
    assert_eq!(s.must_cmd(&["EXISTS", "slow"]), int(0));
    let after = s.rss_kb();
    assert!(
        after < before + 64 * 1024,
        "RSS {before} KiB -> {after} KiB"
    );
}

#[test]
fn a_multi_that_queues_forever_is_closed_at_the_query_buffer_limit() {
    // tern's own bound (Redis 7.0 lets the queue grow): always the tern binary.
    let s = TestServer::start_tern(None, &["--client-query-buffer-limit", "1mb"]);
    let mut c = s.client();
    let before = used_memory(&mut c);
    let mut r = s.raw_conn();
    assert_eq!(r.cmd(&["MULTI"]), Resp::Simple("OK".into()));
    let value = vec![b'q'; 1000];
    let one = encode(&[b"SET", b"queued", &value]);
    let mut closed = false;
    // At most 16 MB sent, in batches of 100 commands whose +QUEUED are read back.
    'outer: for batch in 0..160 {
        let mut bytes = Vec::new();
        for _ in 0..100 {
            bytes.extend_from_slice(&one);
        }
        if r.send_lossy(&bytes).is_err() {
            closed = true;
            break;
        }
        for _ in 0..100 {
            r.stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut line = [0u8; 9];
            match r.stream.read_exact(&mut line) {
                Ok(()) => assert_eq!(&line, b"+QUEUED\r\n", "batch {batch}"),
                Err(_) => {
                    closed = true;
                    break 'outer;
                }
            }
        }
        must_serve(&mut c, batch);
    }
    assert!(
        closed,
        "a MULTI of 16 MB was still queuing with a 1 MB limit"
    );
    assert!(r.closed_within(Duration::from_secs(10)));
    let during = used_memory(&mut c);
    assert!(
        during < before + 16 * 1024 * 1024,
        "used_memory {before} -> {during}"
    );
    assert_eq!(s.must_cmd(&["EXISTS", "queued"]), int(0));
    s.wait_log("max query buffer length", Duration::from_secs(10));
    // A MULTI under the limit still works.
    let mut m = s.raw_conn();
    assert_eq!(m.cmd(&["MULTI"]), Resp::Simple("OK".into()));
    assert_eq!(m.cmd(&["SET", "t", "1"]), Resp::Simple("QUEUED".into()));
    assert_eq!(
        m.cmd(&["EXEC"]),
        Resp::Array(Some(vec![Resp::Simple("OK".into())]))
    );
    s.assert_alive();
}

/// A fake replica that asks for a full sync and then never reads: the stream it is owed piles
/// up until `client-output-buffer-limit replica` drops it, as Redis does.
#[test]
fn a_replica_that_never_reads_is_disconnected_at_the_replica_limit() {
    // The backlog is larger than the limit, so the limit (not the backlog running past the
    // replica's offset) is what drops it.
    let s = TestServer::start_with(&[
        "--client-output-buffer-limit",
        "replica 4mb 2mb 2",
        "--repl-backlog-size",
        "64mb",
    ]);
    let mut c = s.client();
    let mut rep = s.raw_conn();
    assert_eq!(
        rep.cmd(&["REPLCONF", "capa", "eof", "capa", "psync2"]),
        Resp::Simple("OK".into())
    );
    rep.send(&encode(&[b"PSYNC", b"?", b"-1"]));
    // Newlines are keepalives sent while the snapshot has not begun.
    let line = rep.read_line();
    let line = line.trim_start_matches('\n');
    assert!(line.starts_with("+FULLRESYNC "), "{line}");
    assert!(wait_for(
        || info_u64(&mut c, "replication", "connected_slaves") == 1,
        Duration::from_secs(10)
    ));
    let before = used_memory(&mut c);
    // Never read again. Write up to 256 MB (64 KB values) until the primary drops it.
    let value = "w".repeat(64 * 1024);
    let mut dropped = false;
    for i in 0..4096 {
        ok(&mut c, &["SET", &format!("w{}", i % 64), &value]);
        if i % 32 == 31 && info_u64(&mut c, "replication", "connected_slaves") == 0 {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "the replica was never dropped; log:\n{}", s.logs());
    s.wait_log(
        "scheduled to be closed ASAP for overcoming of output buffer limits",
        Duration::from_secs(10),
    );
    let after = used_memory(&mut c);
    // Bounded by the configuration: 64 keys of 64 KB (4 MB), the replica's limit (4 MB) and
    // the backlog (64 MB; tern keeps 16 MB of it in memory), plus slack.
    assert!(
        after < before + 80 * 1024 * 1024,
        "used_memory {before} -> {after}"
    );
    must_serve(&mut c, 0);
    s.assert_alive();
}

/// A client pipelining GETs of a 1 MB value without reading: tern stops executing its
/// commands while its replies cannot be written, so without a limit memory stays bounded
/// anyway; with `client-output-buffer-limit normal` set below a reply it is disconnected
/// (as Redis disconnects it when the reply is queued).
#[test]
fn a_client_pipelining_big_gets_without_reading_is_bounded_and_cut_by_the_normal_limit() {
    // Back-pressure is tern's (Redis piles the replies up): always the tern binary.
    let s = TestServer::start_tern(None, &[]);
    let mut c = s.client();
    ok(&mut c, &["SET", "big", &"b".repeat(1024 * 1024)]);
    let before = used_memory(&mut c);
    let get = encode(&[b"GET", b"big"]);
    let pipeline: Vec<u8> = get.repeat(200);
    // No limit (Redis's default `normal 0 0 0`): 200 MB of replies owed, memory bounded.
    let mut hog = s.raw_conn();
    hog.send(&pipeline);
    std::thread::sleep(Duration::from_millis(500));
    let during = used_memory(&mut c);
    assert!(
        during < before + 32 * 1024 * 1024,
        "used_memory {before} -> {during} with 200 MB of replies owed"
    );
    must_serve(&mut c, 0);
    drop(hog);
    // With a limit below one reply: disconnected at its first reply.
    ok(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 512kb 256kb 10",
        ],
    );
    let mut hog = s.raw_conn();
    hog.send(&pipeline);
    assert!(
        hog.closed_within(Duration::from_secs(20)),
        "still connected with a 512 KB normal limit"
    );
    s.wait_log(
        "scheduled to be closed ASAP for overcoming of output buffer limits",
        Duration::from_secs(10),
    );
    // The soft limit: 1 MB replies over a soft 768 KB limit that lasts 1 s, to a client that
    // does not read: closed once a write stays stuck over it.
    ok(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 0 768kb 1",
        ],
    );
    // Not read at all (reading to see the close would drain the replies): the server's
    // client list tells.
    let mut hog = s.raw_conn();
    let id = match hog.cmd(&["CLIENT", "ID"]) {
        Resp::Int(id) => id,
        other => panic!("CLIENT ID: {other:?}"),
    };
    hog.send(&pipeline);
    let mine = format!("id={id} ");
    assert!(
        wait_for(
            || !text(&ok(&mut c, &["CLIENT", "LIST"])).contains(&mine),
            Duration::from_secs(30)
        ),
        "still connected with a soft 768 KB normal limit"
    );
    // A client that reads its replies is not touched by a limit above them.
    ok(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 4mb 2mb 10",
        ],
    );
    let mut reader = s.raw_conn();
    for _ in 0..5 {
        assert_eq!(
            reader.cmd(&["GET", "big"]),
            Resp::Bulk(Some(vec![b'b'; 1024 * 1024]))
        );
    }
    must_serve(&mut c, 1);
    s.assert_alive();
}

/// A client that stops reading while it is owed replies is idle too: `timeout` closes it (as
/// Redis, where a write that makes no progress is no interaction), even with no output limit.
#[test]
fn the_idle_timeout_closes_a_client_that_stopped_reading_its_replies() {
    let s = TestServer::start_with(&["--timeout", "2"]);
    let mut c = s.client();
    ok(&mut c, &["SET", "big", &"b".repeat(1024 * 1024)]);
    let mut hog = s.raw_conn();
    let id = match hog.cmd(&["CLIENT", "ID"]) {
        Resp::Int(id) => id,
        other => panic!("CLIENT ID: {other:?}"),
    };
    hog.send(&encode(&[b"GET", b"big"]).repeat(100));
    let mine = format!("id={id} ");
    assert!(
        wait_for(
            || !text(&ok(&mut c, &["CLIENT", "LIST"])).contains(&mine),
            Duration::from_secs(30)
        ),
        "a client that stopped reading outlived the idle timeout"
    );
    must_serve(&mut c, 0);
}

/// A namespace of the test's own holding `<prefix>.2`, reached from the test's namespace
/// through a veth whose near end is `<prefix>.1`; removed on drop.
struct NetNs {
    name: String,
    veth: String,
    prefix: String,
}

impl NetNs {
    fn new() -> NetNs {
        let pid = std::process::id() % 100_000;
        let n = NetNs {
            name: format!("tpm{pid}"),
            veth: format!("tpm{pid}a"),
            prefix: format!("10.78.{}", pid % 200 + 20),
        };
        let run = |args: &[&str]| {
            let st = Command::new(args[0]).args(&args[1..]).status().unwrap();
            assert!(st.success(), "{args:?}");
        };
        let b = format!("tpm{pid}b");
        run(&["ip", "netns", "add", &n.name]);
        run(&[
            "ip", "link", "add", &n.veth, "type", "veth", "peer", "name", &b,
        ]);
        run(&["ip", "link", "set", &b, "netns", &n.name]);
        run(&[
            "ip",
            "addr",
            "add",
            &format!("{}.1/24", n.prefix),
            "dev",
            &n.veth,
        ]);
        run(&["ip", "link", "set", &n.veth, "up"]);
        let ns = |args: &[&str]| {
            let mut v = vec!["ip", "netns", "exec", &n.name];
            v.extend_from_slice(args);
            run(&v);
        };
        ns(&[
            "ip",
            "addr",
            "add",
            &format!("{}.2/24", n.prefix),
            "dev",
            &b,
        ]);
        ns(&["ip", "link", "set", &b, "up"]);
        ns(&["ip", "link", "set", "lo", "up"]);
        n
    }

    /// Starts `program args` inside the namespace.
    fn spawn(&self, program: &str, args: &[&str]) -> std::process::Child {
        let mut v: Vec<String> = ["netns", "exec", &self.name, program]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(args.iter().map(|s| s.to_string()));
        spawn("ip", &v).0
    }

    /// `redis-cli` inside the namespace (its connections come from loopback there).
    fn cli(&self, port: u16, args: &[&str]) -> String {
        let p = port.to_string();
        let mut v = vec!["netns", "exec", &self.name, "redis-cli", "-p", &p];
        v.extend_from_slice(args);
        let out = Command::new("ip").args(&v).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = Command::new("ip")
            .args(["link", "del", &self.veth])
            .status();
    }
}

/// Connects from outside the namespace and returns the first line the server sends for a
/// PING (or what it sends unasked), and whether it then closed.
fn remote_ping(addr: &str) -> (String, bool) {
    let mut s = TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(b"PING\r\n");
    let mut r = Raw::new(s);
    let line = r.read_line();
    let closed = r.closed_within(Duration::from_secs(5));
    (line, closed)
}

#[test]
fn protected_mode_refuses_non_loopback_clients_with_redis_error_until_a_password_is_set() {
    let net = NetNs::new();
    let bind = format!("{}.2 127.0.0.1", net.prefix);
    let mut tern = net.spawn(
        TERN,
        &[
            "server", "--port", "6390", "--bind", &bind, "--save", "", "--dir", "/tmp",
        ],
    );
    let mut redis = net.spawn(
        "redis-server",
        &[
            "--port", "6391", "--bind", &bind, "--save", "", "--dir", "/tmp",
        ],
    );
    assert!(
        wait_for(
            || net.cli(6390, &["PING"]) == "PONG" && net.cli(6391, &["PING"]) == "PONG",
            Duration::from_secs(30)
        ),
        "servers in the namespace did not start"
    );
    let tern_addr = format!("{}.2:6390", net.prefix);
    let redis_addr = format!("{}.2:6391", net.prefix);
    // Redis's own reply is the oracle: the same text with the server's name.
    let (theirs, closed) = remote_ping(&redis_addr);
    assert!(theirs.starts_with("-DENIED Redis is running in protected mode"));
    assert!(closed);
    let (ours, closed) = remote_ping(&tern_addr);
    assert_eq!(ours, theirs.replace("Redis", "Tern"));
    assert!(closed, "the refused connection stays open");
    // Loopback clients are served, and may lift the protection.
    assert_eq!(net.cli(6390, &["SET", "k", "v"]), "OK");
    assert_eq!(
        net.cli(6390, &["CONFIG", "SET", "protected-mode", "no"]),
        "OK"
    );
    assert_eq!(remote_ping(&tern_addr).0, "+PONG");
    // With a password the protection does not apply: the remote client is asked to AUTH.
    assert_eq!(
        net.cli(6390, &["CONFIG", "SET", "protected-mode", "yes"]),
        "OK"
    );
    assert!(remote_ping(&tern_addr).0.starts_with("-DENIED"));
    assert_eq!(net.cli(6390, &["CONFIG", "SET", "requirepass", "pw"]), "OK");
    assert_eq!(
        remote_ping(&tern_addr).0,
        "-NOAUTH Authentication required."
    );
    kill_child(&mut tern);
    kill_child(&mut redis);
}

/// Over `maxmemory`, queuing in MULTI is refused for every command but EXEC, DISCARD, QUIT and
/// RESET (Redis 7.0's rule: a queue may take unlimited memory), even for reads and PING.
#[test]
fn over_maxmemory_nothing_more_is_queued_in_multi() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    ok(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
    let mut r = s.raw_conn();
    assert_eq!(r.cmd(&["MULTI"]), Resp::Simple("OK".into()));
    let oom = Resp::Error("OOM command not allowed when used memory > 'maxmemory'.".into());
    assert_eq!(r.cmd(&["GET", "k"]), oom);
    assert_eq!(r.cmd(&["PING"]), oom);
    assert_eq!(r.cmd(&["DISCARD"]), Resp::Simple("OK".into()));
    assert_eq!(r.cmd(&["MULTI"]), Resp::Simple("OK".into()));
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(Some(vec![])));
    // Outside MULTI a read is fine.
    assert_eq!(r.cmd(&["GET", "k"]), Resp::bulk("v"));
    ok(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
}

/// Busy polling (`busy-poll-us`, on by default) must not cost an idle or lightly loaded server
/// its CPU: after a burst of requests from many clients, the workers go back to sleep, and
/// requests a few milliseconds apart are served without polling between them.
#[test]
fn busy_polling_leaves_an_idle_or_lightly_loaded_server_asleep() {
    let s = TestServer::start();
    // A burst: 8 clients at one request per round trip, the load polling is for.
    std::thread::scope(|scope| {
        for t in 0..8 {
            let s = &s;
            scope.spawn(move || {
                let mut c = s.client();
                for i in 0..2_000 {
                    ok(&mut c, &["SET", &format!("k{t}:{i}"), "v"]);
                }
            });
        }
    });
    // Idle: the server cron's work and nothing more.
    let before = s.cpu_time();
    std::thread::sleep(Duration::from_secs(2));
    let idle = s.cpu_time() - before;
    assert!(
        idle < Duration::from_millis(200),
        "an idle server used {idle:?} of CPU in 2 s"
    );
    // Light load: one client, a request every 2 ms.
    let mut c = s.client();
    let before = s.cpu_time();
    let start = std::time::Instant::now();
    for i in 0..500 {
        ok(&mut c, &["GET", &format!("k0:{i}")]);
        std::thread::sleep(Duration::from_millis(2));
    }
    let (used, wall) = (s.cpu_time() - before, start.elapsed());
    assert!(
        used * 4 < wall,
        "{used:?} of CPU for 500 GETs 2 ms apart in {wall:?}"
    );
    s.assert_alive();
}

/// With more worker threads than CPUs a polling worker would keep its CPU from the others:
/// polling is off (CONFIG GET shows it) and the log says why.
#[test]
fn busy_polling_is_off_with_more_workers_than_cpus() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (cpus + 1).to_string();
    let s = TestServer::start_with(&["--server-threads", &threads]);
    let mut c = s.client();
    assert_eq!(
        ok(&mut c, &["CONFIG", "GET", "busy-poll-us"]),
        Value::Array(vec![bulk("busy-poll-us"), bulk("0")])
    );
    s.wait_log(
        "busy polling off: more worker threads than CPUs",
        Duration::from_secs(5),
    );
    // As many workers as CPUs: polling stays on.
    let cpus_s = cpus.to_string();
    let s = TestServer::start_with(&["--server-threads", &cpus_s]);
    let mut c = s.client();
    assert_eq!(
        ok(&mut c, &["CONFIG", "GET", "busy-poll-us"]),
        Value::Array(vec![bulk("busy-poll-us"), bulk("100")])
    );
}
