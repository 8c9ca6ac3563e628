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
    dec: StreamDecoder,
    pending: Option<Event>,
    last_ack: Instant,
}

/// The longest line accepted from the primary (a reply or the payload's header): a primary
/// that sends more without a newline is refused instead of filling our memory.
pub const MAX_LINE: usize = 64 * 1024;

/// Redis's EOF mark length (`RDB_EOF_MARK_SIZE`): the payload of a diskless sync ends with the
/// 40 bytes given in its `$EOF:<mark>` header.
pub const EOF_MARK_LEN: usize = 40;

/// How the RDB payload of a full sync is framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// `$<len>`: that many bytes.
    Len(u64),
    /// `$EOF:<mark>`: bytes up to the 40-byte mark.
    Eof(Vec<u8>),
}

/// Parses the payload header line (without its CRLF), as Redis's replica does: `$EOF:` with
/// at least 40 bytes of mark (the first 40 are the mark), or `$` and a length.
pub fn payload_header(head: &str) -> Result<Payload, Error> {
    let spec = head
        .strip_prefix('$')
        .ok_or_else(|| protocol(format!("expected the RDB payload, got {head}")))?;
    if let Some(mark) = spec.strip_prefix("EOF:") {
        if mark.len() < EOF_MARK_LEN {
            return Err(protocol(format!("EOF mark too short: {head}")));
        }
        return Ok(Payload::Eof(mark.as_bytes()[..EOF_MARK_LEN].to_vec()));
    }
    spec.parse()
        .map(Payload::Len)
        .map_err(|_| protocol(format!("bad payload length {spec}")))
}

/// Finds the end of an EOF-marked payload in the bytes as they arrive, keeping only what could
/// still hold the start of the mark.
#[derive(Debug)]
pub struct EofScan {
    mark: Vec<u8>,
    tail: Vec<u8>,
    total: u64,
}

impl EofScan {
    /// A scanner for `mark` (not empty).
    pub fn new(mark: Vec<u8>) -> EofScan {
        assert!(!mark.is_empty(), "an EOF mark is never empty");
        EofScan {
            mark,
            tail: Vec::new(),
            total: 0,
        }
    }

    /// Takes the next bytes; once the mark is found, returns the payload's size and the bytes
    /// that followed the mark (the start of the stream).
    pub fn push(&mut self, chunk: &[u8]) -> Option<(u64, Vec<u8>)> {
        self.tail.extend_from_slice(chunk);
        if let Some(at) = find(&self.tail, &self.mark) {
            let rest = self.tail.split_off(at + self.mark.len());
            return Some((self.total + at as u64, rest));
        }
        let keep = self.tail.len().min(self.mark.len() - 1);
        self.total += (self.tail.len() - keep) as u64;
        self.tail.drain(..self.tail.len() - keep);
        None
    }
}

/// The command stream's decoder, without the socket: bytes in, commands with their offsets
/// and databases out.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    buf: Vec<u8>,
    parser: RequestParser,
    offset: u64,
    db: u64,
}

/// What [`StreamDecoder::next`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A command for the caller ([`Event::Command`]).
    Event(Event),
    /// `REPLCONF GETACK`: the caller acknowledges its offset.
    GetAck,
}

impl StreamDecoder {
    /// A decoder whose stream starts at `offset`.
    pub fn new(offset: u64) -> StreamDecoder {
        StreamDecoder {
            offset,
            ..Default::default()
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The offset after the last command decoded.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next command, None when the buffer holds no complete one. PINGs and SELECTs are
    /// consumed (they only advance the offset, or change the database).
    #[allow(clippy::should_implement_trait)] // fallible and refillable: not an Iterator
    pub fn next(&mut self) -> Result<Option<Decoded>, Error> {
        let limits = RequestLimits {
            max_bulk_len: u64::MAX,
            unauthenticated: false,
        };
        while !self.buf.is_empty() {
            let used = match self.parser.parse(&self.buf, &limits) {
                Ok(Parsed::Complete(used)) => used,
                Ok(Parsed::Incomplete { .. }) => return Ok(None),
                Err(e) => return Err(protocol(format!("bad stream: {e}"))),
            };
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
                b"" | b"PING" => continue,
                b"REPLCONF" => {
                    if args
                        .get(1)
                        .is_some_and(|a| a.eq_ignore_ascii_case(b"GETACK"))
                    {
                        return Ok(Some(Decoded::GetAck));
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
            return Ok(Some(Decoded::Event(Event::Command {
                offset: self.offset,
                db: self.db,
                args,
            })));
        }
        Ok(None)
    }
}

/// Fuzzing entry (see the server's `fuzzing` module): `data` as what a primary sends after
/// PSYNC: the reply line, the payload header and payload, then the stream. Never panics.
pub fn fuzz_stream(data: &[u8]) {
    let mut rest = data;
    let mut line = || -> Option<String> {
        loop {
            let nl = memchr_nl(rest)?;
            if nl > MAX_LINE {
                return None;
            }
            let l = String::from_utf8_lossy(&rest[..nl]);
            let t = l.trim_end_matches(['\r', '\n']).to_string();
            rest = &rest[nl + 1..];
            if !t.is_empty() {
                return Some(t);
            }
        }
    };
    let Some(reply) = line() else { return };
    let mut dec = StreamDecoder::new(0);
    if reply.starts_with("+FULLRESYNC ") {
        let Some(head) = line() else { return };
        match payload_header(&head) {
            Ok(Payload::Len(n)) => {
                let n = n.min(rest.len() as u64) as usize;
                rest = &rest[n..];
            }
            Ok(Payload::Eof(mark)) => {
                let mut scan = EofScan::new(mark);
                // Arrive in small pieces, so the mark is split across them.
                let mut at = 0;
                loop {
                    if at >= rest.len() {
                        return;
                    }
                    let end = (at + 7).min(rest.len());
                    let found = scan.push(&rest[at..end]);
                    at = end;
                    if let Some((_, after)) = found {
                        dec.feed(&after);
                        break;
                    }
                }
                rest = &rest[at..];
            }
            Err(_) => return,
        }
    }
    for chunk in rest.chunks(1000) {
        dec.feed(chunk);
        loop {
            match dec.next() {
                Ok(Some(Decoded::Event(ev))) => {
                    let _ = to_json(&ev);
                }
                Ok(Some(Decoded::GetAck)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

fn protocol(msg: impl Into<String>) -> Error {
    Error::Protocol(msg.into())
}

fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    tern_resp::encode_command(&mut out, args);
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
            dec: StreamDecoder::new(0),
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
            tail.dec.offset = offset;
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
            tail.dec.offset = offset;
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
        self.dec.offset
    }

    /// Skips the RDB payload (`$<len>` or `$EOF:<mark>` framing); returns its size.
    fn skip_rdb(&mut self) -> Result<u64, Error> {
        let head = read_line(&mut self.r)?;
        match payload_header(&head)? {
            Payload::Eof(mark) => {
                let mut scan = EofScan::new(mark);
                let mut chunk = vec![0u8; 1 << 16];
                loop {
                    let n = self.r.read(&mut chunk)?;
                    if n == 0 {
                        return Err(protocol("connection closed during the RDB payload"));
                    }
                    if let Some((total, rest)) = scan.push(&chunk[..n]) {
                        self.dec.feed(&rest);
                        return Ok(total);
                    }
                }
            }
            Payload::Len(len) => {
                io::copy(&mut (&mut self.r).take(len), &mut io::sink())?;
                Ok(len)
            }
        }
    }

    fn ack(&mut self) -> Result<(), Error> {
        let off = self.dec.offset.to_string();
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
        loop {
            if self.last_ack.elapsed() >= Duration::from_secs(1) {
                self.ack()?;
            }
            match self.dec.next()? {
                Some(Decoded::Event(ev)) => return Ok(Some(ev)),
                Some(Decoded::GetAck) => {
                    self.ack()?;
                    continue;
                }
                None => {}
            }
            let mut chunk = [0u8; 1 << 14];
            match self.r.read(&mut chunk) {
                Ok(0) => return Ok(None),
                Ok(n) => self.dec.feed(&chunk[..n]),
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
        if r.take(MAX_LINE as u64).read_until(b'\n', &mut line)? == 0 {
            return Err(protocol("connection closed by the primary"));
        }
        if line.last() != Some(&b'\n') && line.len() >= MAX_LINE {
            return Err(protocol("line too long from the primary"));
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
    fn an_empty_or_short_eof_mark_is_refused_not_a_panic() {
        // Found by fuzzing: `$EOF:` with an empty mark made `find` call `windows(0)`.
        assert!(payload_header("$EOF:").is_err());
        assert!(payload_header("$EOF:abc").is_err());
        fuzz_stream(b"+FULLRESYNC x 0\r\n$EOF:\r\nabc");
        let mark = "m".repeat(40) + "ignored";
        assert_eq!(
            payload_header(&format!("$EOF:{mark}")).unwrap(),
            Payload::Eof(vec![b'm'; 40])
        );
        assert_eq!(payload_header("$12").unwrap(), Payload::Len(12));
        assert!(payload_header("$-1").is_err());
        assert!(payload_header("+OK").is_err());
    }

    #[test]
    fn the_eof_mark_is_found_across_reads() {
        let mark = b"0123456789012345678901234567890123456789".to_vec();
        let mut stream = b"RDBDATA".repeat(10);
        stream.extend_from_slice(&mark);
        stream.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        for size in [1, 3, 7, 40, 41, 1000] {
            let mut scan = EofScan::new(mark.clone());
            let mut found = None;
            for c in stream.chunks(size) {
                if let Some(f) = scan.push(c) {
                    found = Some(f);
                    break;
                }
            }
            let (total, rest) = found.expect("mark found");
            assert_eq!(total, 70, "chunks of {size}");
            assert!(
                b"*1\r\n$4\r\nPING\r\n".starts_with(&rest),
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn the_decoder_yields_commands_with_offsets_and_databases() {
        let mut d = StreamDecoder::new(100);
        d.feed(b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*1\r\n$4\r\nPING\r\n*0\r\n");
        d.feed(b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk");
        assert_eq!(d.next().unwrap(), Some(Decoded::GetAck));
        assert_eq!(d.next().unwrap(), None);
        d.feed(b"\r\n");
        let Some(Decoded::Event(Event::Command { offset, db, args })) = d.next().unwrap() else {
            panic!("a command");
        };
        assert_eq!((db, args), (3, vec![b"DEL".to_vec(), b"k".to_vec()]));
        assert_eq!(offset, 100 + 23 + 14 + 4 + 37 + 20);
        assert_eq!(d.offset(), offset);
    }

    #[test]
    fn find_locates_the_mark() {
        assert_eq!(find(b"abcdef", b"cd"), Some(2));
        assert_eq!(find(b"abc", b"x"), None);
    }
}
