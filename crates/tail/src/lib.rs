//! `tern-tail`: consume a primary's replication stream from your own program.
//!
//! [`Tail::connect`] connects to a primary (tern or Redis 7) as a replica would: PING, AUTH,
//! `REPLCONF listening-port 0` and `capa eof psync2`, then `PSYNC <replid> <offset>`. Given the
//! replication id and offset of an earlier run it resumes where that run stopped (a partial
//! resync, when the primary's backlog still holds it); otherwise the primary answers with a full
//! sync, whose RDB payload is skipped (its size is reported) and the stream starts at the
//! snapshot's offset. [`Tail::next_event`] then yields each command of the stream with the
//! database it applies to and the offset just after it, which is what to resume from.
//!
//! With [`Options::tls`] the connection is TLS (redis-cli's `--tls --cacert --cert --key
//! --insecure --sni`): the primary's certificate is verified against the CA, chain only, as
//! redis-cli does, and a client certificate is presented when the primary asks for one.
//!
//! ```no_run
//! let mut tail = tern_tail::Tail::connect("127.0.0.1:6379", &tern_tail::Options::default())?;
//! while let Some(ev) = tail.next_event()? {
//!     if let tern_tail::Event::Command { offset, db, args } = ev {
//!         println!("{offset} db{db} {:?}", args);
//!     }
//! }
//! # Ok::<(), tern_tail::Error>(())
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tern_resp::request::Parsed;
use tern_resp::{RequestLimits, RequestParser};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Network.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The primary refused or said something unexpected.
    #[error("{0}")]
    Protocol(String),
}

/// Connection options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `AUTH` password (and user).
    pub password: Option<String>,
    /// `AUTH` user name.
    pub user: Option<String>,
    /// Resume: the replication id and the offset to continue after.
    pub resume: Option<(String, u64)>,
    /// Connect over TLS with these options.
    pub tls: Option<tern_tls::ClientOptions>,
}

/// The connection: plain TCP or TLS over TCP.
enum Conn {
    Plain(TcpStream),
    Tls(Box<tern_tls::rustls::StreamOwned<tern_tls::rustls::ClientConnection, TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// Opens the connection, with the TLS handshake when asked (completed here, so a refused
/// certificate is reported as such rather than as a failed PING).
fn open(addr: &str, tls: Option<&tern_tls::ClientOptions>) -> Result<Conn, Error> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let Some(o) = tls else {
        return Ok(Conn::Plain(stream));
    };
    let config = tern_tls::client_config(o).map_err(|e| protocol(format!("TLS: {e}")))?;
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let name =
        tern_tls::server_name(host, o.sni.as_deref()).map_err(|e| protocol(format!("TLS: {e}")))?;
    let conn = tern_tls::rustls::ClientConnection::new(config, name)
        .map_err(|e| protocol(format!("TLS: {e}")))?;
    let mut s = tern_tls::rustls::StreamOwned::new(conn, stream);
    while s.conn.is_handshaking() {
        s.conn
            .complete_io(&mut s.sock)
            .map_err(|e| protocol(format!("TLS handshake failed: {e}")))?;
    }
    Ok(Conn::Tls(Box::new(s)))
}

/// One item of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The primary accepted to continue from the requested offset.
    Continue {
        /// The primary's replication id.
        replid: String,
        /// The offset the stream continues after.
        offset: u64,
    },
    /// The primary started over with a snapshot; the stream continues after `offset`.
    FullResync {
        /// The primary's replication id.
        replid: String,
        /// The snapshot's offset.
        offset: u64,
        /// Size of the RDB payload that was skipped.
        rdb_bytes: u64,
    },
    /// A command of the stream.
    Command {
        /// The replication offset just after this command (resume from here).
        offset: u64,
        /// The database it applies to.
        db: u64,
        /// The command name and its arguments.
        args: Vec<Vec<u8>>,
    },
}

/// A replication-stream consumer.
pub struct Tail {
    r: BufReader<Conn>,
    buf: Vec<u8>,
    parser: RequestParser,
    offset: u64,
    db: u64,
    pending: Option<Event>,
    last_ack: Instant,
}

fn protocol(msg: impl Into<String>) -> Error {
    Error::Protocol(msg.into())
}

fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl Tail {
    /// Connects and starts the stream (see the crate docs).
    pub fn connect(addr: &str, opts: &Options) -> Result<Tail, Error> {
        let stream = open(addr, opts.tls.as_ref())?;
        let mut r = BufReader::with_capacity(1 << 16, stream);
        let pong = command(&mut r, &[b"PING"])?;
        if pong.starts_with('-') && !pong.starts_with("-NOAUTH") {
            return Err(protocol(format!("PING: {pong}")));
        }
        if let Some(p) = &opts.password {
            let reply = match &opts.user {
                Some(u) => command(&mut r, &[b"AUTH", u.as_bytes(), p.as_bytes()])?,
                None => command(&mut r, &[b"AUTH", p.as_bytes()])?,
            };
            if reply.starts_with('-') {
                return Err(protocol(format!("AUTH: {reply}")));
            }
        }
        command(&mut r, &[b"REPLCONF", b"listening-port", b"0"])?;
        command(&mut r, &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])?;
        let (id, next) = match &opts.resume {
            Some((id, off)) => (id.clone(), (off + 1).to_string()),
            None => ("?".to_string(), "-1".to_string()),
        };
        let reply = command(&mut r, &[b"PSYNC", id.as_bytes(), next.as_bytes()])?;
        let mut tail = Tail {
            r,
            buf: Vec::new(),
            parser: RequestParser::new(),
            offset: 0,
            db: 0,
            pending: None,
            last_ack: Instant::now(),
        };
        if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
            let mut it = rest.split_whitespace();
            let replid = it.next().unwrap_or_default().to_string();
            let offset: u64 = it
                .next()
                .and_then(|o| o.parse().ok())
                .ok_or_else(|| protocol(format!("bad reply {reply}")))?;
            let rdb_bytes = tail.skip_rdb()?;
            tail.offset = offset;
            tail.pending = Some(Event::FullResync {
                replid,
                offset,
                rdb_bytes,
            });
            // A primary streams after the first ACK.
            tail.ack()?;
        } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
            let (_, offset) = opts.resume.clone().unwrap_or_default();
            let replid = match rest.trim() {
                "" => id,
                new => new.to_string(),
            };
            tail.offset = offset;
            tail.pending = Some(Event::Continue { replid, offset });
        } else {
            return Err(protocol(format!("PSYNC: {reply}")));
        }
        tail.r
            .get_ref()
            .tcp()
            .set_read_timeout(Some(Duration::from_secs(1)))?;
        Ok(tail)
    }

    /// The offset after the last command returned.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Skips the RDB payload (`$<len>` or `$EOF:<mark>` framing); returns its size.
    fn skip_rdb(&mut self) -> Result<u64, Error> {
        let head = read_line(&mut self.r)?;
        let spec = head
            .strip_prefix('$')
            .ok_or_else(|| protocol(format!("expected the RDB payload, got {head}")))?;
        if let Some(mark) = spec.strip_prefix("EOF:") {
            let mark = mark.as_bytes().to_vec();
            let mut tail_bytes: Vec<u8> = Vec::new();
            let mut total = 0u64;
            let mut chunk = vec![0u8; 1 << 16];
            loop {
                let n = self.r.read(&mut chunk)?;
                if n == 0 {
                    return Err(protocol("connection closed during the RDB payload"));
                }
                tail_bytes.extend_from_slice(&chunk[..n]);
                if let Some(at) = find(&tail_bytes, &mark) {
                    total += at as u64;
                    self.buf = tail_bytes.split_off(at + mark.len());
                    return Ok(total);
                }
                // Keep only what could still hold the start of the mark.
                let keep = tail_bytes.len().min(mark.len());
                total += (tail_bytes.len() - keep) as u64;
                tail_bytes.drain(..tail_bytes.len() - keep);
            }
        }
        let len: u64 = spec
            .parse()
            .map_err(|_| protocol(format!("bad payload length {spec}")))?;
        io::copy(&mut (&mut self.r).take(len), &mut io::sink())?;
        Ok(len)
    }

    fn ack(&mut self) -> Result<(), Error> {
        let off = self.offset.to_string();
        self.r
            .get_mut()
            .write_all(&encode(&[b"REPLCONF", b"ACK", off.as_bytes()]))?;
        self.r.get_mut().flush()?;
        self.last_ack = Instant::now();
        Ok(())
    }

    /// The next event: the resync outcome first, then each command. `Ok(None)` when the
    /// primary closed the connection. PINGs are consumed (they only advance the offset);
    /// `REPLCONF GETACK` is answered.
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        if let Some(e) = self.pending.take() {
            return Ok(Some(e));
        }
        let limits = RequestLimits {
            max_bulk_len: u64::MAX,
            unauthenticated: false,
        };
        loop {
            if self.last_ack.elapsed() >= Duration::from_secs(1) {
                self.ack()?;
            }
            if !self.buf.is_empty() {
                match self.parser.parse(&self.buf, &limits) {
                    Ok(Parsed::Complete(used)) => {
                        let req = &self.parser.request;
                        let args: Vec<Vec<u8>> = (0..req.len())
                            .map(|i| req.arg(&self.buf, i).to_vec())
                            .collect();
                        self.buf.drain(..used);
                        self.offset += used as u64;
                        let name = args
                            .first()
                            .map(|a| a.to_ascii_uppercase())
                            .unwrap_or_default();
                        match name.as_slice() {
                            b"PING" => continue,
                            b"REPLCONF" => {
                                if args
                                    .get(1)
                                    .is_some_and(|a| a.eq_ignore_ascii_case(b"GETACK"))
                                {
                                    self.ack()?;
                                }
                                continue;
                            }
                            b"SELECT" => {
                                if let Some(db) = args
                                    .get(1)
                                    .and_then(|d| std::str::from_utf8(d).ok())
                                    .and_then(|d| d.parse().ok())
                                {
                                    self.db = db;
                                }
                                continue;
                            }
                            _ => {}
                        }
                        return Ok(Some(Event::Command {
                            offset: self.offset,
                            db: self.db,
                            args,
                        }));
                    }
                    Ok(Parsed::Incomplete { .. }) => {}
                    Err(e) => return Err(protocol(format!("bad stream: {e}"))),
                }
            }
            let mut chunk = [0u8; 1 << 14];
            match self.r.read(&mut chunk) {
                Ok(0) => return Ok(None),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// An event as one JSON line: `{"offset":..,"db":..,"command":"SET","args":["k","v"]}`.
/// Arguments that are not UTF-8 are written as `{"base64":"..."}`.
pub fn to_json(ev: &Event) -> String {
    use base64::Engine;
    use serde_json::{json, Value};
    let arg = |a: &Vec<u8>| -> Value {
        match std::str::from_utf8(a) {
            Ok(s) => Value::String(s.to_string()),
            Err(_) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(a) }),
        }
    };
    match ev {
        Event::Continue { replid, offset } => {
            json!({ "event": "continue", "replid": replid, "offset": offset }).to_string()
        }
        Event::FullResync {
            replid,
            offset,
            rdb_bytes,
        } => json!({ "event": "fullresync", "replid": replid, "offset": offset, "rdb_bytes": rdb_bytes })
            .to_string(),
        Event::Command { offset, db, args } => json!({
            "offset": offset,
            "db": db,
            "command": args.first().map(arg).unwrap_or(Value::Null),
            "args": args.iter().skip(1).map(arg).collect::<Vec<_>>(),
        })
        .to_string(),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn command(r: &mut BufReader<Conn>, args: &[&[u8]]) -> Result<String, Error> {
    r.get_mut().write_all(&encode(args))?;
    r.get_mut().flush()?;
    read_line(r)
}

/// A reply line, skipping the empty lines a primary sends while it prepares a snapshot.
fn read_line(r: &mut BufReader<Conn>) -> Result<String, Error> {
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Err(protocol("connection closed by the primary"));
        }
        let s = String::from_utf8_lossy(&line);
        let t = s.trim_end_matches(['\r', '\n']);
        if !t.is_empty() {
            return Ok(t.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_json_lines_with_binary_arguments_in_base64() {
        let ev = Event::Command {
            offset: 42,
            db: 3,
            args: vec![b"SET".to_vec(), b"k".to_vec(), vec![0xff, 0x00]],
        };
        assert_eq!(
            to_json(&ev),
            r#"{"args":["k",{"base64":"/wA="}],"command":"SET","db":3,"offset":42}"#
        );
        let ev = Event::FullResync {
            replid: "a".repeat(40),
            offset: 7,
            rdb_bytes: 100,
        };
        assert!(to_json(&ev).contains(r#""event":"fullresync""#));
    }

    #[test]
    fn find_locates_the_mark() {
        assert_eq!(find(b"abcdef", b"cd"), Some(2));
        assert_eq!(find(b"abc", b"x"), None);
    }
}
