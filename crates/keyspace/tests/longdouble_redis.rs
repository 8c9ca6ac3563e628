//! Differential test of `tern_keyspace::longdouble` against Debian's real `redis-server`:
//! thousands of INCRBYFLOAT (and HINCRBYFLOAT) operand pairs — random decimals of every
//! magnitude and length, integers near 2^63 and 2^64, exact-zero sums, decimal and printing
//! ties, hex floats, values at the edges of the long double range, and strings Redis rejects —
//! must give byte-identical replies, errors included.
//!
//! The server is `/usr/bin/redis-server` (or `$REDIS_SERVER`), started on a free 127.0.0.1
//! port with persistence off and killed at the end. If it is missing the test fails, it never
//! skips: install it with `apt-get install redis-server`. `LD_DIFF_SEED=<u64>` picks another
//! random seed; `LD_DIFF_CASES=<n>` changes how many random pairs are drawn.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use num_bigint::BigUint;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tern_keyspace::longdouble::{incr_by_float, parse};

const NOT_FLOAT: &str = "ERR value is not a valid float";
const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
const INCR_NAN_OR_INF: &str = "ERR value is NaN or Infinity";
const NAN_OR_INF: &str = "ERR increment would produce NaN or Infinity";

/// A RESP2 reply, as much of it as this test needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
}

impl Reply {
    fn show(&self) -> String {
        match self {
            Reply::Bulk(Some(b)) => format!("{:?}", String::from_utf8_lossy(b)),
            other => format!("{other:?}"),
        }
    }
}

/// A `redis-server` child process; killed on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

impl Redis {
    fn start() -> Redis {
        let bin = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "/usr/bin/redis-server".into());
        assert!(
            Path::new(&bin).exists(),
            "{bin} is missing: this differential test needs Debian's real redis-server \
             (`apt-get install redis-server`, or set REDIS_SERVER). It does not skip."
        );
        let port = free_port();
        let child = Command::new(&bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--protected-mode", "no", "--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {bin}: {e}"));
        let mut redis = Redis { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = Conn::connect(port) {
                if c.call(&[b"PING"]) == Reply::Simple("PONG".into()) {
                    return redis;
                }
            }
            if let Ok(Some(status)) = redis.child.try_wait() {
                panic!("{bin} exited at startup ({status}) on port {port}");
            }
            assert!(
                Instant::now() < deadline,
                "{bin} did not answer PING on 127.0.0.1:{port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A minimal RESP2 client over a plain TcpStream.
struct Conn {
    r: BufReader<TcpStream>,
    w: BufWriter<TcpStream>,
}

impl Conn {
    fn connect(port: u16) -> std::io::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        s.set_write_timeout(Some(Duration::from_secs(30)))?;
        s.set_nodelay(true)?;
        Ok(Conn {
            r: BufReader::new(s.try_clone()?),
            w: BufWriter::with_capacity(1 << 16, s),
        })
    }

    fn send(&mut self, args: &[&[u8]]) {
        let w = &mut self.w;
        write!(w, "*{}\r\n", args.len()).unwrap();
        for a in args {
            write!(w, "${}\r\n", a.len()).unwrap();
            w.write_all(a).unwrap();
            w.write_all(b"\r\n").unwrap();
        }
    }

    fn flush(&mut self) {
        self.w.flush().expect("write to redis-server");
    }

    fn line(&mut self) -> String {
        let mut line = Vec::new();
        self.r
            .read_until(b'\n', &mut line)
            .expect("read from redis-server");
        assert!(line.ends_with(b"\r\n"), "bad RESP line {line:?}");
        line.truncate(line.len() - 2);
        String::from_utf8(line).expect("RESP line is UTF-8")
    }

    fn read(&mut self) -> Reply {
        let line = self.line();
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Int(rest.parse().expect("integer reply")),
            "$" => {
                let n: i64 = rest.parse().expect("bulk length");
                if n < 0 {
                    return Reply::Bulk(None);
                }
                let mut buf = vec![0; n as usize + 2];
                self.r.read_exact(&mut buf).expect("read bulk");
                buf.truncate(n as usize);
                Reply::Bulk(Some(buf))
            }
            _ => panic!("unexpected RESP reply {line:?}"),
        }
    }

    fn call(&mut self, args: &[&[u8]]) -> Reply {
        self.send(args);
        self.flush();
        self.read()
    }
}

/// What Redis should answer to `SET k cur` + `INCRBYFLOAT k incr`, per our implementation.
fn expect_incrbyfloat(cur: &[u8], incr: &[u8]) -> Reply {
    match incr_by_float(cur, incr) {
        None => Reply::Error(NOT_FLOAT.into()),
        Some(Err(())) => Reply::Error(NAN_OR_INF.into()),
        Some(Ok(s)) => Reply::Bulk(Some(s.into_bytes())),
    }
}

/// What Redis should answer to `HSET h f cur` + `HINCRBYFLOAT h f incr`: the increment is
/// checked first (and must be finite), then the stored value, with its own message.
fn expect_hincrbyfloat(cur: &[u8], incr: &[u8]) -> Reply {
    match parse(incr) {
        None => return Reply::Error(NOT_FLOAT.into()),
        Some(v) if !v.is_finite() => return Reply::Error(INCR_NAN_OR_INF.into()),
        Some(_) => {}
    }
    if parse(cur).is_none() {
        return Reply::Error(HASH_NOT_FLOAT.into());
    }
    expect_incrbyfloat(cur, incr)
}

// ---------------------------------------------------------------------------------------------
// Case generators.

fn digits(rng: &mut SmallRng, n: usize) -> String {
    (0..n)
        .map(|_| (b'0' + rng.gen_range(0..10u8)) as char)
        .collect()
}

fn rdigits(rng: &mut SmallRng, len: std::ops::Range<usize>) -> String {
    let n = rng.gen_range(len);
    digits(rng, n)
}

fn sign(rng: &mut SmallRng) -> &'static str {
    match rng.gen_range(0..20) {
        0..=5 => "-",
        6 => "+",
        _ => "",
    }
}

/// A random decimal: random digit counts before and after the point, optional exponent.
fn random_decimal(rng: &mut SmallRng) -> String {
    let int_len = match rng.gen_range(0..10) {
        0..=1 => 0,
        2..=6 => rng.gen_range(1..6),
        7..=8 => rng.gen_range(1..21),
        _ => rng.gen_range(1..45),
    };
    let frac_len = match rng.gen_range(0..10) {
        0..=2 => 0,
        3..=7 => rng.gen_range(1..8),
        _ => rng.gen_range(1..30),
    };
    let mut s = sign(rng).to_string();
    if rng.gen_bool(0.1) {
        // 19 significant digits with 17 or 18 after the point: rounding bits that still show.
        let int = rng.gen_range(1..3);
        let (a, b) = (digits(rng, int), digits(rng, 19 - int));
        s.push_str(&format!("{a}.{b}"));
        return s;
    }
    if int_len == 0 && frac_len == 0 {
        s.push_str(&digits(rng, 1));
    } else {
        s.push_str(&digits(rng, int_len));
        if frac_len > 0 || rng.gen_bool(0.05) {
            s.push('.');
            s.push_str(&digits(rng, frac_len));
        }
    }
    if rng.gen_bool(0.25) {
        s.push(if rng.gen_bool(0.8) { 'e' } else { 'E' });
        match rng.gen_range(0..3) {
            0 => s.push('-'),
            1 => s.push('+'),
            _ => {}
        }
        let e = match rng.gen_range(0..10) {
            0..=5 => rng.gen_range(0..25),
            6..=7 => rng.gen_range(0..400),
            _ => rng.gen_range(4900..4960),
        };
        s.push_str(&e.to_string());
    }
    s
}

/// A decimal whose value is near the top or bottom of the long double range.
fn extreme_decimal(rng: &mut SmallRng) -> String {
    let s = sign(rng);
    match rng.gen_range(0..7) {
        0 => format!("{s}1.18973149535723176{}e4932", rdigits(rng, 0..6)),
        1 => format!(
            "{s}{}.{}e{}",
            rng.gen_range(1..10),
            digits(rng, 5),
            rng.gen_range(4925..4934)
        ),
        2 => format!(
            "{s}{}.{}e-{}",
            rng.gen_range(1..10),
            digits(rng, 5),
            rng.gen_range(4925..4955)
        ),
        3 => format!("{s}1.82259976594123730126{}e-4951", rdigits(rng, 0..12)),
        4 => format!("{s}3.6451995318824746025{}e-4951", rdigits(rng, 0..6)),
        5 => format!("{s}1e{}", rng.gen_range(280..4100)),
        _ => format!("{s}{}e-{}", digits(rng, 3), rng.gen_range(4800..4960)),
    }
}

/// Integers around 2^63 and 2^64 (and i64::MIN), some with a fraction.
fn near_2_63(rng: &mut SmallRng) -> String {
    let base: i128 = match rng.gen_range(0..4) {
        0 => 1 << 63,
        1 => -(1 << 63),
        2 => 1 << 64,
        _ => (1 << 53) * rng.gen_range(1..4),
    };
    let v = base + rng.gen_range(-3000i128..3000);
    let mut s = v.to_string();
    if rng.gen_bool(0.3) {
        s.push('.');
        s.push_str(&rdigits(rng, 1..4));
    }
    s
}

const CLASSICS: &[&str] = &[
    "0",
    "-0",
    "+0",
    "0.0",
    "1",
    "-1",
    "0.1",
    "0.2",
    "0.3",
    "-0.1",
    "-0.2",
    "-0.3",
    "0.7",
    "1.1",
    "2.2",
    "3.3",
    "0.5",
    "1.5",
    "2.5",
    "-2.5",
    "10.5",
    "1000",
    "123456.7",
    "3001",
    "0.123456789",
    "1e300",
    "-1e300",
    "1e4000",
    "-1e4000",
    "1e4932",
    "-1e4932",
    "1e-4932",
    "2e-4951",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "3.14159265358979323846264338327950288",
    "2.71828182845904523536",
    "1e17",
    "1e18",
    "1e19",
    "1e20",
    "1e-17",
    "1e-18",
    "5e-18",
    "0.00000000000000001",
    "0.000000000000000005",
    "0.000000000000000015",
    "inf",
    "-inf",
    "Infinity",
    "-INF",
    "0x1p-18",
    "0x3p-18",
    "0x1.8p3",
    "0xffffffffffffffff",
    "0x1p63",
    "0x1p64",
];

const REJECTS: &[&str] = &[
    "",
    " 1",
    "1 ",
    "\t1",
    "1\n",
    "abc",
    "nan",
    "NaN",
    "-nan",
    "nan(123)",
    "1e5000",
    "-1e5000",
    "1e-5000",
    ".",
    "-",
    "+",
    "e5",
    "1e",
    "1e+",
    "1e-",
    "0x",
    "0xp1",
    "0x1p",
    "0x.p1",
    "inf ",
    "infin",
    "infinit",
    "infinityy",
    "--1",
    "+-1",
    "1..2",
    "1.2.3",
    "1,5",
    "1_000",
    "0b101",
    "１",
    "1e4933",
    "1.2e4932",
    "1e-4951",
    "0x1p16384",
    "0x1p-16446",
    "0x1.0000000000000001p-16446",
    "1\u{0}",
    "\u{0}",
    "1\u{0}2",
    "12a",
    "0x1g",
];

/// A random string from an alphabet of number-ish characters: mostly garbage, sometimes valid.
fn fuzz_string(rng: &mut SmallRng) -> String {
    const ALPHABET: &[u8] = b"0123456789..eE+-xXpPaAfFiInNtTyY \t\x00";
    let n = rng.gen_range(0..9);
    (0..n)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn hex_digits(rng: &mut SmallRng, n: usize) -> String {
    const HEX: &[u8] = b"0123456789abcdefABCDEF";
    (0..n)
        .map(|_| HEX[rng.gen_range(0..HEX.len())] as char)
        .collect()
}

/// A hex float, with mantissas of up to 40 hex digits and exponents across the whole range.
fn random_hex(rng: &mut SmallRng) -> String {
    let mut s = format!(
        "{}0{}",
        sign(rng),
        if rng.gen_bool(0.8) { 'x' } else { 'X' }
    );
    let int_len = rng.gen_range(0..20);
    let frac_len = rng.gen_range(0..20);
    if int_len + frac_len == 0 {
        s.push('1');
    }
    s.push_str(&hex_digits(rng, int_len));
    if frac_len > 0 {
        s.push('.');
        s.push_str(&hex_digits(rng, frac_len));
    }
    if rng.gen_bool(0.8) {
        s.push(if rng.gen_bool(0.8) { 'p' } else { 'P' });
        let e: i32 = match rng.gen_range(0..6) {
            0..=2 => rng.gen_range(-80..80),
            3 => rng.gen_range(16300..16400),
            4 => -rng.gen_range(16370..16530),
            _ => rng.gen_range(-16500..16400),
        };
        s.push_str(&e.to_string());
    }
    s
}

/// The exact decimal expansion of `n * 2^e`.
fn exact_decimal(neg: bool, n: &BigUint, e: i32) -> String {
    let sign = if neg { "-" } else { "" };
    if e >= 0 {
        return format!("{sign}{}", n << e as usize);
    }
    let k = (-e) as u32;
    let scaled = (n * BigUint::from(5u32).pow(k)).to_string(); // n * 2^e * 10^k
    let k = k as usize;
    let padded = format!("{scaled:0>width$}", width = k + 1);
    let (int, frac) = padded.split_at(padded.len() - k);
    format!("{sign}{int}.{frac}")
}

/// The exact midpoint between two neighbouring long doubles, or just above or below it:
/// strtold must round ties to even.
fn decimal_tie(rng: &mut SmallRng) -> String {
    let m: u64 = rng.gen::<u64>() | 1 << 63;
    let e: i32 = rng.gen_range(-90..60);
    let mid = BigUint::from(m) * 2u32 + 1u32; // (2m + 1) * 2^(e - 1)
    let neg = rng.gen_bool(0.3);
    let s = exact_decimal(neg, &mid, e - 1);
    match rng.gen_range(0..3) {
        0 => s,
        1 => {
            if s.contains('.') {
                format!("{s}000000001")
            } else {
                format!("{s}.000000001")
            }
        }
        _ => {
            if let Some(stripped) = s.strip_suffix('5') {
                format!("{stripped}4999999999")
            } else {
                s // an integer midpoint: leave it a tie
            }
        }
    }
}

/// `k * 2^-18` for odd `k`: exactly the values whose `%.17Lf` rounding is a tie.
fn print_tie(rng: &mut SmallRng) -> String {
    let bits = rng.gen_range(1..=64);
    let k: u64 = (rng.gen::<u64>() >> (64 - bits)) | 1;
    let neg = rng.gen_bool(0.3);
    if rng.gen_bool(0.5) {
        format!("{}0x{k:x}p-18", if neg { "-" } else { "" })
    } else {
        exact_decimal(neg, &BigUint::from(k), -18)
    }
}

/// An integer `m * 2^e` (so every bit of a sum shows in the reply) and an increment of half
/// its ulp, nudged by the increment's own last bit, 64 bits below: the sum's rounding then
/// rests on a tie broken (or not) by bits beyond the 128-bit alignment window.
fn add_tie(rng: &mut SmallRng) -> (String, String) {
    let m: u64 = match rng.gen_range(0..4) {
        0 => 1 << 63,
        1 => u64::MAX - rng.gen_range(0..2),
        _ => rng.gen::<u64>() | 1 << 63,
    };
    let e: i32 = rng.gen_range(0..40);
    let neg = rng.gen_bool(0.3);
    let cur = exact_decimal(neg, &BigUint::from(m), e);
    // Only d = 63 with mantissa 2^63 + 1 makes the sticky bit decide; keep it frequent.
    let d: u32 = if rng.gen_bool(0.5) {
        rng.gen_range(62..=65)
    } else {
        rng.gen_range(1..=66)
    };
    let base = 1u128 << d;
    let mant = match rng.gen_range(0..3) {
        0 => base - 1,
        1 => base,
        _ => base + 1,
    };
    let incr_neg = rng.gen_bool(0.5);
    let incr = format!(
        "{}0x{mant:x}p{}",
        if incr_neg { "-" } else { "" },
        e - 1 - d as i32
    );
    (cur, incr)
}

/// A long digit string (up to ~5100 characters), sometimes right at the 5119/5120 limit.
fn long_number(rng: &mut SmallRng) -> String {
    match rng.gen_range(0..4) {
        0 => format!("{}.{}", rdigits(rng, 1..30), rdigits(rng, 100..400)),
        1 => format!(
            "0.{}{}",
            "0".repeat(rng.gen_range(0..4900)),
            rdigits(rng, 1..100)
        ),
        2 => {
            let len = rng.gen_range(5117..5122);
            format!("{}{}", "0".repeat(len - 3), rng.gen_range(100..1000))
        }
        _ => format!("{}e-{}", rdigits(rng, 100..2000), rng.gen_range(0..6000)),
    }
}

/// Negates a number's text.
fn negate(s: &str) -> String {
    match s.strip_prefix('-') {
        Some(rest) => rest.to_string(),
        None => format!("-{}", s.strip_prefix('+').unwrap_or(s)),
    }
}

fn operand(rng: &mut SmallRng) -> String {
    match rng.gen_range(0..100) {
        0..=34 => random_decimal(rng),
        35..=44 => CLASSICS[rng.gen_range(0..CLASSICS.len())].to_string(),
        45..=51 => near_2_63(rng),
        52..=58 => extreme_decimal(rng),
        59..=65 => random_hex(rng),
        66..=72 => decimal_tie(rng),
        73..=79 => print_tie(rng),
        80..=84 => long_number(rng),
        85..=91 => fuzz_string(rng),
        _ => REJECTS[rng.gen_range(0..REJECTS.len())].to_string(),
    }
}

fn cases(rng: &mut SmallRng, n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out: Vec<(String, String)> = Vec::new();
    // Fixed cases first: every classic and reject against a few partners.
    for &a in CLASSICS.iter().chain(REJECTS) {
        for &b in ["0", "0.1", "-1", "1e4932", "-inf"].iter() {
            out.push((a.to_string(), b.to_string()));
            out.push((b.to_string(), a.to_string()));
        }
    }
    for (a, b) in [
        ("1e4932", "1e4932"),
        ("-1e4932", "-1e4932"),
        ("inf", "-inf"),
        ("inf", "1"),
        ("1.18973149535723176502e4932", "1.18973149535723176502e4932"),
        ("1.18973149535723176502e4932", "1e4913"),
        ("-1", "1"),
        ("-0", "-0"),
        ("0x1p-16382", "-0x1p-16383"),
    ] {
        out.push((a.to_string(), b.to_string()));
    }
    while out.len() < n {
        if rng.gen_bool(0.08) {
            out.push(add_tie(rng));
            continue;
        }
        let a = operand(rng);
        let b = match rng.gen_range(0..10) {
            0 => "0".to_string(),
            1 => negate(&a), // exact zero (when it parses)
            2 => {
                // A nearby value: cancellation with a small remainder.
                let mut b = negate(&a);
                if let Some(last) = b.pop() {
                    if last.is_ascii_digit() && last != '9' {
                        b.push((last as u8 + 1) as char);
                    } else {
                        b.push(last);
                    }
                }
                b
            }
            _ => operand(rng),
        };
        if rng.gen_bool(0.5) {
            out.push((a, b));
        } else {
            out.push((b, a));
        }
    }
    out.into_iter()
        .map(|(a, b)| (a.into_bytes(), b.into_bytes()))
        .collect()
}

#[test]
fn incrbyfloat_matches_redis() {
    let redis = Redis::start();
    let mut conn = Conn::connect(redis.port).expect("connect to redis-server");
    let seed: u64 = std::env::var("LD_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7e27_1d0b_1e5e_ed01);
    let n: usize = std::env::var("LD_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8000);
    let mut rng = SmallRng::seed_from_u64(seed);
    let cases = cases(&mut rng, n);

    let mut mismatches = Vec::new();
    let (mut ok_replies, mut not_float, mut nan_inf) = (0usize, 0usize, 0usize);
    for batch in cases.chunks(200) {
        for (cur, incr) in batch {
            conn.send(&[b"SET", b"ld:k", cur]);
            conn.send(&[b"INCRBYFLOAT", b"ld:k", incr]);
            conn.send(&[b"HSET", b"ld:h", b"f", cur]);
            conn.send(&[b"HINCRBYFLOAT", b"ld:h", b"f", incr]);
        }
        conn.flush();
        for (cur, incr) in batch {
            let set = conn.read();
            let got = conn.read();
            let hset = conn.read();
            let hgot = conn.read();
            assert_eq!(set, Reply::Simple("OK".into()), "SET {cur:?}");
            assert!(matches!(hset, Reply::Int(_)), "HSET {cur:?}: {hset:?}");
            let want = expect_incrbyfloat(cur, incr);
            let hwant = expect_hincrbyfloat(cur, incr);
            match &got {
                Reply::Bulk(_) => ok_replies += 1,
                Reply::Error(e) if e == NOT_FLOAT => not_float += 1,
                Reply::Error(e) if e == NAN_OR_INF => nan_inf += 1,
                _ => {}
            }
            for (cmd, got, want) in [
                ("INCRBYFLOAT", &got, &want),
                ("HINCRBYFLOAT", &hgot, &hwant),
            ] {
                if got != want {
                    mismatches.push(format!(
                        "{cmd} cur={:?} incr={:?}: redis {} ours {}",
                        String::from_utf8_lossy(cur),
                        String::from_utf8_lossy(incr),
                        got.show(),
                        want.show()
                    ));
                }
            }
        }
    }
    println!(
        "longdouble differential (seed {seed}): {} operand pairs x 2 commands; INCRBYFLOAT \
         replies: {ok_replies} values, {not_float} not-a-float, {nan_inf} NaN/Infinity; \
         {} mismatches",
        cases.len(),
        mismatches.len()
    );
    assert!(
        ok_replies > cases.len() / 2 && not_float > 100 && nan_inf > 20,
        "the case mix is off: {ok_replies} values, {not_float} rejects, {nan_inf} NaN/Inf"
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ from redis-server (seed {seed}); first ones:\n{}",
        mismatches.len(),
        cases.len() * 2,
        mismatches
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
