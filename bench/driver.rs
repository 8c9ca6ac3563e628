//! bench/driver.rs — load generators for what redis-benchmark cannot send: PUBLISH fan-out to
//! N subscribers, and MULTI/EXEC transactions. Standard library only (built by bench/run.sh
//! with `rustc -O`), one thread, epoll over every connection, bounded in count and in time.
//!
//! Usage:
//!   driver pubsub HOST PORT DELIVERIES SUBSCRIBERS [TIMEOUT_S]
//!     SUBSCRIBERS connections SUBSCRIBE to one channel; one more connection PUBLISHes
//!     DELIVERIES / SUBSCRIBERS 16-byte messages, at most 64 in flight. Reports messages
//!     delivered per second, from the first PUBLISH until every subscriber has read every message.
//!   driver multi HOST PORT TRANSACTIONS PIPELINE CLIENTS [TIMEOUT_S]
//!     CLIENTS connections each send PIPELINE transactions (MULTI, 10 x SET tx:<random 12
//!     digits> xxx, EXEC) at a time and wait for all their replies. Reports transactions per
//!     second. Every reply byte is checked against the exact expected replies.
//!
//! Output: one CSV line `"<test>","<per second>"` on stdout (as redis-benchmark --csv writes),
//! details on stderr. Exit status 1 on any error or if the run did not finish in time.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

#[cfg_attr(target_arch = "x86_64", repr(C, packed))]
#[cfg_attr(not(target_arch = "x86_64"), repr(C))]
#[derive(Clone, Copy)]
struct EpollEvent {
    events: u32,
    data: u64,
}

extern "C" {
    fn epoll_create1(flags: i32) -> i32;
    fn epoll_ctl(epfd: i32, op: i32, fd: i32, event: *mut EpollEvent) -> i32;
    fn epoll_wait(epfd: i32, events: *mut EpollEvent, maxevents: i32, timeout: i32) -> i32;
}

const EPOLLIN: u32 = 0x1;
const EPOLL_CTL_ADD: i32 = 1;

struct Poller {
    fd: i32,
    events: Vec<EpollEvent>,
}

impl Poller {
    fn new() -> Poller {
        let fd = unsafe { epoll_create1(0) };
        assert!(fd >= 0, "epoll_create1 failed");
        Poller {
            fd,
            events: vec![EpollEvent { events: 0, data: 0 }; 1024],
        }
    }

    fn add(&self, s: &TcpStream, token: u64) {
        let mut ev = EpollEvent {
            events: EPOLLIN,
            data: token,
        };
        let rc = unsafe { epoll_ctl(self.fd, EPOLL_CTL_ADD, s.as_raw_fd(), &mut ev) };
        assert!(rc == 0, "epoll_ctl failed");
    }

    /// Tokens of the readable connections (waits up to `ms`).
    fn wait(&mut self, ms: i32) -> Vec<u64> {
        let n = unsafe { epoll_wait(self.fd, self.events.as_mut_ptr(), 1024, ms) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            assert!(e.kind() == ErrorKind::Interrupted, "epoll_wait: {e}");
            return Vec::new();
        }
        (0..n as usize).map(|i| self.events[i].data).collect()
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("driver: error: {msg}");
    std::process::exit(1);
}

fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

fn connect(host: &str, port: u16) -> TcpStream {
    let s = TcpStream::connect((host, port)).unwrap_or_else(|e| fail(&format!("connect: {e}")));
    s.set_nodelay(true).ok();
    s
}

/// Reads exactly `want` bytes (blocking) and checks them.
fn expect(s: &mut TcpStream, want: &[u8], what: &str) {
    let mut got = vec![0u8; want.len()];
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    s.read_exact(&mut got)
        .unwrap_or_else(|e| fail(&format!("{what}: {e}")));
    if got != want {
        fail(&format!(
            "{what}: expected {:?}, got {:?}",
            String::from_utf8_lossy(want),
            String::from_utf8_lossy(&got)
        ));
    }
}

/// Reads from a non-blocking socket until it would block; returns the bytes read.
fn drain(s: &mut TcpStream, buf: &mut [u8], sink: &mut impl FnMut(&[u8])) -> usize {
    let mut total = 0;
    loop {
        match s.read(buf) {
            Ok(0) => fail("the server closed a connection"),
            Ok(n) => {
                sink(&buf[..n]);
                total += n;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return total,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => fail(&format!("read: {e}")),
        }
    }
}

fn pubsub(host: &str, port: u16, deliveries: u64, subs: usize, timeout: Duration) {
    let msgs = (deliveries / subs as u64).max(1);
    let channel = b"bench:fanout";
    let payload = b"0123456789abcdef";
    let message = resp(&[b"message", channel, payload]);
    let mut subscribers = Vec::with_capacity(subs);
    for i in 0..subs {
        let mut s = connect(host, port);
        s.write_all(&resp(&[b"SUBSCRIBE", channel]))
            .unwrap_or_else(|e| fail(&format!("subscribe: {e}")));
        let mut confirm = resp(&[b"subscribe", channel]);
        confirm[1] = b'3';
        confirm.extend_from_slice(b":1\r\n");
        expect(&mut s, &confirm, &format!("SUBSCRIBE reply of subscriber {i}"));
        s.set_nonblocking(true).ok();
        subscribers.push(s);
    }
    let mut publisher = connect(host, port);
    publisher
        .write_all(&resp(&[b"PUBSUB", b"NUMSUB", channel]))
        .unwrap_or_else(|e| fail(&format!("numsub: {e}")));
    let mut numsub = resp(&[channel]);
    numsub[1] = b'2';
    numsub.extend_from_slice(format!(":{subs}\r\n").as_bytes());
    expect(&mut publisher, &numsub, "PUBSUB NUMSUB");
    publisher.set_nonblocking(true).ok();
    let publish = resp(&[b"PUBLISH", channel, payload]);
    let reply = format!(":{subs}\r\n").into_bytes();
    let mut poller = Poller::new();
    for (i, s) in subscribers.iter().enumerate() {
        poller.add(s, i as u64);
    }
    const PUB: u64 = u64::MAX;
    poller.add(&publisher, PUB);
    let window = 64u64;
    let (mut sent, mut reply_bytes, mut received) = (0u64, 0u64, 0u64);
    let mut buf = vec![0u8; 1 << 16];
    let start = Instant::now();
    let want = msgs * subs as u64 * message.len() as u64;
    let mut reply_seen = Vec::new();
    while received < want {
        if start.elapsed() > timeout {
            fail(&format!(
                "timed out after {:?}: {} of {} messages delivered",
                timeout,
                received / message.len() as u64,
                msgs * subs as u64
            ));
        }
        let acked = reply_bytes / reply.len() as u64;
        if sent < msgs && sent - acked < window {
            let n = (window - (sent - acked)).min(msgs - sent);
            let batch = publish.repeat(n as usize);
            // Small writes to a socket the server keeps reading: a blocking write is fine.
            publisher.set_nonblocking(false).ok();
            publisher
                .write_all(&batch)
                .unwrap_or_else(|e| fail(&format!("publish: {e}")));
            publisher.set_nonblocking(true).ok();
            sent += n;
        }
        for token in poller.wait(100) {
            if token == PUB {
                reply_bytes += drain(&mut publisher, &mut buf, &mut |b| {
                    if reply_seen.len() < 4 * reply.len() {
                        reply_seen.extend_from_slice(b);
                    }
                }) as u64;
            } else {
                received += drain(&mut subscribers[token as usize], &mut buf, &mut |_| {}) as u64;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = reply_seen.len().min(reply.len());
    if reply_seen[..n] != reply[..n] {
        fail(&format!(
            "PUBLISH replied {:?}, expected {:?}",
            String::from_utf8_lossy(&reply_seen),
            String::from_utf8_lossy(&reply)
        ));
    }
    if received != want {
        fail(&format!("subscribers read {received} bytes, expected {want}"));
    }
    let delivered = msgs * subs as u64;
    eprintln!(
        "driver: {subs} subscribers, {msgs} messages published, {delivered} delivered in {secs:.3} s ({:.0} PUBLISH/s)",
        msgs as f64 / secs
    );
    println!(
        "\"PUBLISH fan-out to {subs}\",\"{:.2}\"",
        delivered as f64 / secs
    );
}

fn multi(host: &str, port: u16, txns: u64, pipeline: u64, clients: usize, timeout: Duration) {
    let mut one_reply = b"+OK\r\n".to_vec();
    for _ in 0..10 {
        one_reply.extend_from_slice(b"+QUEUED\r\n");
    }
    one_reply.extend_from_slice(b"*10\r\n");
    for _ in 0..10 {
        one_reply.extend_from_slice(b"+OK\r\n");
    }
    let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
    let mut batch = |n: u64| -> Vec<u8> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.extend_from_slice(&resp(&[b"MULTI"]));
            for _ in 0..10 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let key = format!("tx:{:012}", rng % 1_000_000);
                v.extend_from_slice(&resp(&[b"SET", key.as_bytes(), b"xxx"]));
            }
            v.extend_from_slice(&resp(&[b"EXEC"]));
        }
        v
    };
    struct Conn {
        s: TcpStream,
        expected: Vec<u8>,
        got: Vec<u8>,
    }
    let mut conns: Vec<Conn> = (0..clients)
        .map(|_| Conn {
            s: connect(host, port),
            expected: Vec::new(),
            got: Vec::new(),
        })
        .collect();
    let mut poller = Poller::new();
    let (mut issued, mut done) = (0u64, 0u64);
    let start = Instant::now();
    for (i, c) in conns.iter_mut().enumerate() {
        poller.add(&c.s, i as u64);
        let n = pipeline.min(txns - issued);
        if n == 0 {
            continue;
        }
        c.s.write_all(&batch(n))
            .unwrap_or_else(|e| fail(&format!("write: {e}")));
        c.expected = one_reply.repeat(n as usize);
        c.s.set_nonblocking(true).ok();
        issued += n;
    }
    let mut buf = vec![0u8; 1 << 16];
    while done < txns {
        if start.elapsed() > timeout {
            fail(&format!(
                "timed out after {timeout:?}: {done} of {txns} transactions done"
            ));
        }
        for token in poller.wait(100) {
            let c = &mut conns[token as usize];
            let got = &mut c.got;
            drain(&mut c.s, &mut buf, &mut |b| got.extend_from_slice(b));
            if c.expected.is_empty() || c.got.len() < c.expected.len() {
                if !c.expected.starts_with(&c.got) {
                    fail(&format!(
                        "unexpected reply {:?}",
                        String::from_utf8_lossy(&c.got[..c.got.len().min(200)])
                    ));
                }
                continue;
            }
            if c.got != c.expected {
                fail(&format!(
                    "unexpected reply {:?}",
                    String::from_utf8_lossy(&c.got[..c.got.len().min(200)])
                ));
            }
            done += (c.expected.len() / one_reply.len()) as u64;
            c.got.clear();
            let n = pipeline.min(txns - issued);
            c.expected = one_reply.repeat(n as usize);
            if n > 0 {
                let bytes = batch(n);
                c.s.set_nonblocking(false).ok();
                c.s.write_all(&bytes)
                    .unwrap_or_else(|e| fail(&format!("write: {e}")));
                c.s.set_nonblocking(true).ok();
                issued += n;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!("driver: {txns} transactions of 10 SETs in {secs:.3} s over {clients} connections, {pipeline} per round trip");
    println!(
        "\"MULTI/EXEC of 10 SETs\",\"{:.2}\"",
        txns as f64 / secs
    );
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let num = |i: usize, what: &str| -> u64 {
        a.get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| fail(&format!("argument {i} ({what}) must be a number")))
    };
    if a.len() < 4 {
        fail("usage: driver pubsub HOST PORT DELIVERIES SUBSCRIBERS [TIMEOUT_S] | driver multi HOST PORT TRANSACTIONS PIPELINE CLIENTS [TIMEOUT_S]");
    }
    let host = a[2].as_str();
    let port = num(3, "port") as u16;
    match a[1].as_str() {
        "pubsub" => {
            let t = Duration::from_secs(a.get(6).and_then(|s| s.parse().ok()).unwrap_or(120));
            pubsub(host, port, num(4, "deliveries"), num(5, "subscribers") as usize, t)
        }
        "multi" => {
            let t = Duration::from_secs(a.get(7).and_then(|s| s.parse().ok()).unwrap_or(120));
            multi(
                host,
                port,
                num(4, "transactions"),
                num(5, "pipeline").max(1),
                num(6, "clients").max(1) as usize,
                t,
            )
        }
        other => fail(&format!("unknown mode '{other}'")),
    }
}
