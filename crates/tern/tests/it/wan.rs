//! Replication across a simulated WAN, on hosts the test makes as network namespaces: a
//! primary and three replicas (one chained behind another), every replication link through a
//! proxy that delays each chunk by 100 ms +/- 20 ms (this kernel has no netem), 1% random packet
//! loss on the replicas (`iptables -m statistic`), a bounded write load, and then the primary cut
//! off from its replicas for 60 s (`iptables` DROP). Probe reads on every replica must all
//! succeed throughout, the replicas must come back with partial resyncs, and every dataset must
//! end equal to the primary's.
//!
//! Layout: a "router" namespace holds a bridge (10.77.x.1 for the test's own clients and
//! 10.77.x.2 for the proxies); each host namespace has one veth into the bridge. The test
//! thread moves itself into the router namespace (setns), so every socket it opens lives in
//! namespaces it created.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

fn run(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The namespaces and links of one test; removed on drop.
struct Net {
    prefix: String,
    subnet: u8,
    hosts: Vec<String>,
}

impl Net {
    fn new(hosts: usize) -> Net {
        let pid = std::process::id();
        let prefix = format!("tw{}", pid % 100_000);
        let subnet = (pid % 200) as u8 + 20;
        let net = Net {
            prefix: prefix.clone(),
            subnet,
            hosts: (0..hosts).map(|i| format!("{prefix}h{i}")).collect(),
        };
        let rt = net.router();
        run(&["ip", "netns", "add", &rt]);
        run(&["ip", "-n", &rt, "link", "add", "br0", "type", "bridge"]);
        run(&[
            "ip",
            "-n",
            &rt,
            "addr",
            "add",
            &format!("10.77.{subnet}.1/24"),
            "dev",
            "br0",
        ]);
        run(&[
            "ip",
            "-n",
            &rt,
            "addr",
            "add",
            &format!("10.77.{subnet}.2/24"),
            "dev",
            "br0",
        ]);
        run(&["ip", "-n", &rt, "link", "set", "br0", "up"]);
        run(&["ip", "-n", &rt, "link", "set", "lo", "up"]);
        for (i, h) in net.hosts.iter().enumerate() {
            let (a, b) = (format!("{prefix}a{i}"), format!("{prefix}b{i}"));
            run(&["ip", "netns", "add", h]);
            run(&["ip", "link", "add", &a, "type", "veth", "peer", "name", &b]);
            run(&["ip", "link", "set", &a, "netns", h]);
            run(&["ip", "link", "set", &b, "netns", &rt]);
            run(&["ip", "-n", &rt, "link", "set", &b, "master", "br0"]);
            run(&["ip", "-n", &rt, "link", "set", &b, "up"]);
            run(&[
                "ip",
                "-n",
                h,
                "addr",
                "add",
                &format!("{}/24", net.ip(i)),
                "dev",
                &a,
            ]);
            run(&["ip", "-n", h, "link", "set", &a, "up"]);
            run(&["ip", "-n", h, "link", "set", "lo", "up"]);
        }
        net
    }

    fn router(&self) -> String {
        format!("{}rt", self.prefix)
    }

    fn ip(&self, host: usize) -> String {
        format!("10.77.{}.{}", self.subnet, 10 + host)
    }

    fn proxy_ip(&self) -> String {
        format!("10.77.{}.2", self.subnet)
    }

    /// Runs `iptables args` in host `i`'s namespace.
    fn iptables(&self, i: usize, args: &[&str]) {
        let mut v = vec!["ip", "netns", "exec", &self.hosts[i], "iptables"];
        v.extend_from_slice(args);
        run(&v);
    }

    /// Moves the calling thread into the router namespace.
    fn enter_router(&self) {
        let f = std::fs::File::open(format!("/var/run/netns/{}", self.router())).unwrap();
        use std::os::fd::AsRawFd;
        // SAFETY: setns(2) on a namespace fd we opened; affects only this thread.
        let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(r, 0, "setns into the router namespace");
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for h in &self.hosts {
            let _ = Command::new("ip").args(["netns", "del", h]).status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.router()])
            .status();
    }
}

/// tern running in a host namespace.
struct Host {
    child: Child,
    log: Arc<std::sync::Mutex<String>>,
    addr: String,
    dir: std::path::PathBuf,
}

impl Host {
    fn start(net: &Net, i: usize, extra: &[&str]) -> Host {
        let dir = server_dir();
        let mut args: Vec<String> = ["netns", "exec", &net.hosts[i], TERN, "server"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let ip = net.ip(i);
        let d = dir.display().to_string();
        for a in [
            "--bind",
            &ip,
            "--port",
            "6379",
            "--save",
            "",
            "--dir",
            &d,
            "--enable-debug-command",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
            // Clients and replicas reach it from other namespaces (not loopback), and it has
            // no password: as with Redis 7, protected mode would refuse them.
            "--protected-mode",
            "no",
        ] {
            args.push(a.to_string());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let (child, log, rx) = spawn("ip", &args);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if parse_ready_port(&line).is_some() => break,
                Ok(_) => {}
                Err(_) => panic!(
                    "tern in {} did not start: {}",
                    net.hosts[i],
                    log.lock().unwrap()
                ),
            }
        }
        Host {
            child,
            log,
            addr: format!("{ip}:6379"),
            dir,
        }
    }

    fn client(&self) -> redis::Connection {
        let c = redis::Client::open(format!("redis://{}/", self.addr)).unwrap();
        let con = c
            .get_connection_with_timeout(Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connect {}: {e}", self.addr));
        con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        con
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        kill_child(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TCP proxy that delays every chunk by `base` +/- `jitter` while keeping the byte order.
/// Its connections to `target` leave from the proxy's own address (the one a cut blocks).
fn delay_proxy(
    listen: SocketAddr,
    target: String,
    base: Duration,
    jitter: Duration,
    stop: Arc<AtomicBool>,
) {
    let l = TcpListener::bind(listen).expect("bind the proxy");
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let Ok((down, _)) = l.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            let (target, stop) = (target.clone(), stop.clone());
            std::thread::spawn(move || {
                down.set_nonblocking(false).unwrap();
                let Ok(up) = connect_from(listen.ip(), &target) else {
                    return;
                };
                for (from, to) in [
                    (down.try_clone().unwrap(), up.try_clone().unwrap()),
                    (up, down),
                ] {
                    pipe(from, to, base, jitter, stop.clone());
                }
            });
        }
    });
}

/// Connects to `target` from the local address `ip`.
fn connect_from(ip: std::net::IpAddr, target: &str) -> std::io::Result<TcpStream> {
    let target: SocketAddr = target.parse().expect("an address");
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    s.bind(&SocketAddr::new(ip, 0).into())?;
    s.connect_timeout(&target.into(), Duration::from_secs(5))?;
    Ok(s.into())
}

fn pipe(
    mut from: TcpStream,
    mut to: TcpStream,
    base: Duration,
    jitter: Duration,
    stop: Arc<AtomicBool>,
) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let stop2 = stop.clone();
    std::thread::spawn(move || {
        let mut last = Instant::now();
        let mut buf = vec![0u8; 64 * 1024];
        let mut seed = 0x9e3779b97f4a7c15u64 ^ (buf.as_ptr() as u64);
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let j = jitter.as_micros() as i64;
            let off = (seed % (2 * j as u64 + 1)) as i64 - j;
            let d = Duration::from_micros((base.as_micros() as i64 + off).max(0) as u64);
            // Never before the previous chunk: the stream stays in order.
            last = (Instant::now() + d).max(last);
            if tx.send((last, buf[..n].to_vec())).is_err() || stop2.load(Ordering::Relaxed) {
                break;
            }
        }
        let _ = from.shutdown(std::net::Shutdown::Both);
    });
    std::thread::spawn(move || {
        for (at, bytes) in rx {
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            if stop.load(Ordering::Relaxed) || to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

fn info(c: &mut redis::Connection, section: &str, field: &str) -> String {
    let s = text(&ok(c, &["INFO", section]));
    info_field(&s, field).unwrap_or_default()
}

#[test]
fn replicas_across_a_lossy_slow_wan_keep_serving_through_a_60s_cut_and_resync_partially() {
    let net = Net::new(4);
    net.enter_router();
    let stop = Arc::new(AtomicBool::new(false));
    let repl = [
        "--repl-timeout",
        "10",
        "--repl-ping-replica-period",
        "2",
        "--repl-backlog-size",
        "16mb",
    ];
    let primary = Host::start(&net, 0, &repl);
    let r1 = Host::start(&net, 1, &repl);
    let r2 = Host::start(&net, 2, &repl);
    let r3 = Host::start(&net, 3, &repl);
    // Every replication link crosses a delaying proxy on the proxy address.
    let pa: SocketAddr = format!("{}:7001", net.proxy_ip()).parse().unwrap();
    let pb: SocketAddr = format!("{}:7002", net.proxy_ip()).parse().unwrap();
    let (base, jitter) = (Duration::from_millis(100), Duration::from_millis(20));
    // The proxies live until the end of the test (the load stops before the final checks).
    let proxies_stop = Arc::new(AtomicBool::new(false));
    delay_proxy(pa, primary.addr.clone(), base, jitter, proxies_stop.clone());
    delay_proxy(pb, r2.addr.clone(), base, jitter, proxies_stop.clone());
    for (h, via) in [(&r1, pa), (&r2, pa), (&r3, pb)] {
        ok(
            &mut h.client(),
            &["REPLICAOF", &via.ip().to_string(), &via.port().to_string()],
        );
    }
    // 1% of the packets reaching each replica are lost.
    for i in 1..4 {
        net.iptables(
            i,
            &[
                "-A",
                "INPUT",
                "-m",
                "statistic",
                "--mode",
                "random",
                "--probability",
                "0.01",
                "-j",
                "DROP",
            ],
        );
    }
    let mut pc = primary.client();
    ok(&mut pc, &["DEBUG", "POPULATE", "1000"]);
    let synced = |h: &Host| {
        let mut c = h.client();
        let mut p = primary.client();
        info(&mut c, "replication", "master_link_status") == "up"
            && info(&mut c, "replication", "master_repl_offset")
                == info(&mut p, "replication", "master_repl_offset")
    };
    for h in [&r1, &r2, &r3] {
        let ok_now = wait_for(|| synced(h), Duration::from_secs(60));
        let log = h.log.lock().unwrap().clone();
        assert!(ok_now, "initial sync of {}: {log}", h.addr);
    }

    // Probe readers: one per replica, a read every 20 ms, every one must succeed.
    let probes = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut readers = Vec::new();
    for h in [&r1, &r2, &r3] {
        let mut c = h.client();
        let (stop, probes, failures) = (stop.clone(), probes.clone(), failures.clone());
        readers.push(std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(300);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                match redis::cmd("GET")
                    .arg("key:1")
                    .query::<Option<String>>(&mut c)
                {
                    Ok(Some(_)) => {
                        probes.fetch_add(1, Ordering::Relaxed);
                    }
                    other => failures.lock().unwrap().push(format!("{other:?}")),
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }));
    }
    // A bounded write load on the primary, for the whole test.
    let writes = Arc::new(AtomicU64::new(0));
    let writer = {
        let mut c = primary.client();
        let (stop, writes) = (stop.clone(), writes.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(300);
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline && i < 200_000 {
                ok(&mut c, &["SET", &format!("w:{}", i % 5000), &i.to_string()]);
                ok(&mut c, &["INCR", "counter"]);
                i += 1;
                writes.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    std::thread::sleep(Duration::from_secs(5));
    let full_before = info(&mut pc, "stats", "sync_full");
    let partial_before: u64 = info(&mut pc, "stats", "sync_partial_ok").parse().unwrap();

    // The cut: nothing passes between the primary and the proxy address for 60 s.
    let p = net.proxy_ip();
    net.iptables(0, &["-I", "INPUT", "-s", &p, "-j", "DROP"]);
    net.iptables(0, &["-I", "OUTPUT", "-d", &p, "-j", "DROP"]);
    std::thread::sleep(Duration::from_secs(60));
    let mut c1 = r1.client();
    assert_eq!(
        info(&mut c1, "replication", "master_link_status"),
        "down",
        "the cut was noticed"
    );
    net.iptables(0, &["-D", "INPUT", "-s", &p, "-j", "DROP"]);
    net.iptables(0, &["-D", "OUTPUT", "-d", &p, "-j", "DROP"]);

    // Back: the replicas resync from the backlog, not from a snapshot.
    std::thread::sleep(Duration::from_secs(5));
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    for r in readers {
        r.join().unwrap();
    }
    for h in [&r1, &r2, &r3] {
        let ok_now = wait_for(|| synced(h), Duration::from_secs(60));
        let log = h.log.lock().unwrap().clone();
        let plog = primary.log.lock().unwrap().clone();
        assert!(ok_now, "resync of {}:\n{log}\nprimary:\n{plog}", h.addr);
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "probe reads failed: {:?}",
        &failures[..failures.len().min(5)]
    );
    assert!(probes.load(Ordering::Relaxed) > 1000, "probes ran");
    assert!(writes.load(Ordering::Relaxed) > 1000, "writes ran");
    assert_eq!(
        info(&mut pc, "stats", "sync_full"),
        full_before,
        "no full resync after the cut"
    );
    let partial_after: u64 = info(&mut pc, "stats", "sync_partial_ok").parse().unwrap();
    assert!(
        partial_after > partial_before,
        "the replicas came back with partial resyncs"
    );
    let digest = text(&ok(&mut pc, &["DEBUG", "DIGEST"]));
    for h in [&r1, &r2, &r3] {
        assert_eq!(
            text(&ok(&mut h.client(), &["DEBUG", "DIGEST"])),
            digest,
            "dataset of {}",
            h.addr
        );
    }
    proxies_stop.store(true, Ordering::Relaxed);
}
