//! The replica side: following a primary (tern or Redis) with PSYNC.
//!
//! REPLICAOF starts a link on a thread of its own. The link connects, performs Redis's
//! handshake (PING, AUTH with `masteruser`/`masterauth`, REPLCONF listening-port and
//! `capa eof psync2`), and asks `PSYNC <replid> <offset+1>` with the replication id and offset
//! this server already has, so a restarted link, or a switch to a promoted sibling, continues
//! with a partial resync when the primary's backlog allows.
//!
//! A full sync never makes the replica go dark: the RDB is read into memory and loaded into
//! new databases *aside* while clients keep reading the current data; then, with every shard
//! held, the new databases are swapped in and the log restarts at the primary's offset.
//!
//! The stream is applied by a client that neither replies nor propagates; each command's bytes
//! are appended unchanged to this server's own log after it is applied, so replicas of this
//! replica see the primary's stream byte for byte, with the same offsets.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use tern_resp::request::Parsed;
use tern_resp::{ReplyWriter, RequestLimits, RequestParser};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::ctx::Client;
use crate::dispatch;
use crate::server::{now_ms, Server};
use crate::tls::{Link, Transport};

/// Link states, as INFO and ROLE name them.
pub mod link {
    /// Must connect.
    pub const CONNECT: u8 = 0;
    /// Connecting / handshake.
    pub const CONNECTING: u8 = 1;
    /// Receiving the RDB.
    pub const SYNC: u8 = 2;
    /// Streaming.
    pub const CONNECTED: u8 = 3;
}

/// The link to our primary.
pub struct Upstream {
    /// The primary's host.
    pub host: String,
    /// The primary's port.
    pub port: u16,
    /// `link::*`.
    pub state: AtomicU8,
    /// Last time anything arrived from the primary, Unix ms.
    pub last_io_ms: AtomicI64,
    /// When the link went down, Unix ms (0 while up).
    pub down_since_ms: AtomicI64,
    /// Set by REPLICAOF NO ONE or another REPLICAOF: the link thread stops.
    pub stop: AtomicBool,
    /// RDB bytes expected and received in the running full sync.
    pub sync_total: AtomicI64,
    /// See `sync_total`.
    pub sync_read: AtomicI64,
    /// The next PSYNC asks the primary to take over (FAILOVER).
    pub failover: AtomicBool,
}

impl Upstream {
    /// ROLE's name for the link state.
    pub fn state_name(&self) -> &'static str {
        match self.state.load(Relaxed) {
            link::CONNECT => "connect",
            link::CONNECTING => "connecting",
            link::SYNC => "sync",
            _ => "connected",
        }
    }
}

/// Our primary's link, if this server is a replica.
pub fn upstream(srv: &Server) -> Option<Arc<Upstream>> {
    srv.repl.upstream.read().clone()
}

/// True when this server is a replica whose link is streaming.
pub fn link_up(srv: &Server) -> bool {
    upstream(srv).is_some_and(|u| u.state.load(Relaxed) == link::CONNECTED)
}

/// REPLICAOF host port: follow a new primary.
pub fn follow(srv: &Server, host: String, port: u16) {
    follow_with(srv, host, port, false);
}

/// Follows a new primary; with `failover`, the first PSYNC carries FAILOVER (the primary asks
/// its replica to take over, see `failover.rs`).
pub fn follow_with(srv: &Server, host: String, port: u16, failover: bool) {
    if let Some(old) = srv.repl.upstream.write().take() {
        old.stop.store(true, Relaxed);
    }
    let up = Arc::new(Upstream {
        host,
        port,
        state: AtomicU8::new(link::CONNECT),
        last_io_ms: AtomicI64::new(now_ms()),
        down_since_ms: AtomicI64::new(now_ms()),
        stop: AtomicBool::new(false),
        sync_total: AtomicI64::new(-1),
        sync_read: AtomicI64::new(0),
        failover: AtomicBool::new(failover),
    });
    *srv.repl.upstream.write() = Some(up.clone());
    srv.repl.is_replica.store(true, Relaxed);
    tern_keyspace::db::set_replica_expiry(true);
    // Replicas of this server must follow the new history: drop them (they reconnect).
    disconnect_replicas(srv);
    tracing::info!(host = %up.host, port = up.port, "Connecting to MASTER");
    let Some(arc) = srv.saver.server() else {
        return;
    };
    // The link runs on a worker's event loop, as one more connection (so applying the stream
    // costs no thread hand-off); before the workers exist (`replicaof` at start-up), on a
    // thread of its own.
    if let Some(h) = srv.worker_handles.lock().first().cloned() {
        h.spawn(run(arc, up));
        return;
    }
    let _ = std::thread::Builder::new()
        .name("tern-replica".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("could not start the replication runtime: {e}");
                    return;
                }
            };
            rt.block_on(run(arc, up));
        });
}

/// REPLICAOF NO ONE: stop following and become a primary. The old replication id stays valid
/// as `master_replid2` up to the current offset, so the replicas of the old primary can
/// continue from us with a partial resync.
pub fn promote(srv: &Server) {
    let Some(old) = srv.repl.upstream.write().take() else {
        return;
    };
    old.stop.store(true, Relaxed);
    srv.repl.is_replica.store(false, Relaxed);
    tern_keyspace::db::set_replica_expiry(false);
    // Keys written locally are ordinary keys of the new primary.
    srv.repl.local_keys.lock().clear();
    srv.repl.has_local.store(false, Relaxed);
    let offset = srv.log.offset();
    let prev = std::mem::replace(&mut *srv.replid.write(), crate::server::random_hex40());
    *srv.repl.replid2.write() = Some((prev, offset));
    tracing::info!("MASTER MODE enabled (user request from 'id=...')");
}

/// Closes every replica link of this server.
pub fn disconnect_replicas(srv: &Server) {
    for l in srv.repl.links() {
        l.kill.store(true, Relaxed);
    }
}

/// The link's life: connect, sync, stream; on failure, wait a second and start over.
async fn run(srv: Arc<Server>, up: Arc<Upstream>) {
    while !up.stop.load(Relaxed) {
        up.state.store(link::CONNECTING, Relaxed);
        // A stopped link (REPLICAOF elsewhere, or NO ONE) leaves at once, wherever it is.
        let stopped = async {
            while !up.stop.load(Relaxed) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        let r = tokio::select! {
            r = session(&srv, &up) => r,
            _ = stopped => Ok(()),
        };
        match r {
            Ok(()) => {}
            Err(e) => {
                if !up.stop.load(Relaxed) {
                    tracing::warn!(host = %up.host, port = up.port, "Connection with master lost: {e}");
                }
            }
        }
        up.state.store(link::CONNECT, Relaxed);
        if up.down_since_ms.load(Relaxed) == 0 {
            up.down_since_ms.store(now_ms(), Relaxed);
        }
        for _ in 0..10 {
            if up.stop.load(Relaxed) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

type IoResult<T> = std::io::Result<T>;

fn err(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::other(msg.into())
}

/// Sends one command and reads a one-line reply.
async fn command(r: &mut BufReader<Link>, args: &[&[u8]]) -> IoResult<String> {
    let mut buf = Vec::new();
    crate::log::encode_command(&mut buf, args);
    r.get_mut().write_all(&buf).await?;
    r.get_mut().flush().await?;
    read_line(r).await
}

/// Reads a line (without CRLF), skipping the empty lines a primary sends as keepalives.
async fn read_line(r: &mut BufReader<Link>) -> IoResult<String> {
    loop {
        let mut line = String::new();
        // Bounded: a primary that sends a line without end is refused, not buffered.
        let n = (&mut *r)
            .take(tern_tail::MAX_LINE as u64)
            .read_line(&mut line)
            .await?;
        if n == 0 {
            return Err(err("connection closed by the primary"));
        }
        if !line.ends_with('\n') && n >= tern_tail::MAX_LINE {
            return Err(err("line too long from the primary"));
        }
        let t = line.trim_end_matches(['\r', '\n']);
        if !t.is_empty() {
            return Ok(t.to_string());
        }
    }
}

/// One connection to the primary, until it fails. The handshake gives up after
/// `repl-timeout`, so a primary that went silent is retried.
async fn session(srv: &Arc<Server>, up: &Arc<Upstream>) -> IoResult<()> {
    let timeout = Duration::from_secs(
        srv.config
            .read()
            .get_u64("repl-timeout")
            .unwrap_or(60)
            .max(1),
    );
    let (r, replid, offset, reply) = tokio::time::timeout(timeout, handshake(srv, up, timeout))
        .await
        .map_err(|_| err("timeout during the handshake with the primary"))??;
    after_psync(srv, up, r, replid, offset, reply).await
}

/// Connect, PING, AUTH, REPLCONF, PSYNC: the connection and the PSYNC reply.
async fn handshake(
    srv: &Arc<Server>,
    up: &Arc<Upstream>,
    timeout: Duration,
) -> IoResult<(BufReader<Link>, String, u64, String)> {
    // With `tls-replication`, the link is TLS, and the primary's certificate is verified
    // against the CA (a wrong CA fails here, and the link stays down, retried every second).
    let tls = srv
        .config
        .read()
        .get_bool("tls-replication")
        .unwrap_or(false);
    let stream = tokio::time::timeout(timeout, crate::tls::connect(srv, &up.host, up.port, tls))
        .await
        .map_err(|_| err("timeout connecting to the primary"))??;
    let mut r = BufReader::with_capacity(1 << 16, stream);
    tracing::info!("MASTER <-> REPLICA sync started");
    // PING: an auth error still proves the primary is there.
    let pong = command(&mut r, &[b"PING"]).await?;
    if pong.starts_with('-')
        && !(pong.starts_with("-NOAUTH")
            || pong.starts_with("-NOPERM")
            || pong.starts_with("-ERR operation not permitted"))
    {
        return Err(err(format!("Error reply to PING from master: '{pong}'")));
    }
    let (user, pass) = {
        let c = srv.config.read();
        (
            c.get_string_bytes("masteruser"),
            c.get_string_bytes("masterauth"),
        )
    };
    if let Some(pass) = pass.filter(|p| !p.is_empty()) {
        let reply = match user.filter(|u| !u.is_empty()) {
            Some(u) => command(&mut r, &[b"AUTH", &u, &pass]).await?,
            None => command(&mut r, &[b"AUTH", &pass]).await?,
        };
        if reply.starts_with('-') {
            return Err(err(format!("Unable to AUTH to MASTER: {reply}")));
        }
    }
    // The port the primary should list for us: Redis announces its TLS port when it
    // replicates over TLS.
    let port = {
        let c = srv.config.read();
        let tls_port = c.get_u64("tls-port").unwrap_or(0);
        if tls && tls_port > 0 {
            tls_port
        } else {
            srv.port.load(Relaxed)
        }
    }
    .to_string();
    let _ = command(&mut r, &[b"REPLCONF", b"listening-port", port.as_bytes()]).await?;
    let _ = command(&mut r, &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]).await?;
    let (replid, offset) = (srv.replid.read().clone(), srv.log.offset());
    let next = (offset + 1).to_string();
    let reply = if up.failover.swap(false, Relaxed) {
        command(
            &mut r,
            &[b"PSYNC", replid.as_bytes(), next.as_bytes(), b"FAILOVER"],
        )
        .await?
    } else {
        command(&mut r, &[b"PSYNC", replid.as_bytes(), next.as_bytes()]).await?
    };
    Ok((r, replid, offset, reply))
}

/// Acts on the PSYNC reply (a full or a partial resync), then applies the stream.
async fn after_psync(
    srv: &Arc<Server>,
    up: &Arc<Upstream>,
    mut r: BufReader<Link>,
    replid: String,
    offset: u64,
    reply: String,
) -> IoResult<()> {
    let mut leftover = Vec::new();
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut it = rest.split_whitespace();
        let (Some(id), Some(off)) = (it.next(), it.next().and_then(|o| o.parse::<u64>().ok()))
        else {
            return Err(err(format!("bad FULLRESYNC reply: {reply}")));
        };
        tracing::info!("Full resync from master: {id}:{off}");
        up.state.store(link::SYNC, Relaxed);
        full_sync(srv, up, &mut r, id, off, &mut leftover).await?;
        // The primary starts streaming after our first ACK.
        let a = srv.log.offset().to_string();
        let mut b = Vec::new();
        crate::log::encode_command(&mut b, &[b"REPLCONF", b"ACK", a.as_bytes()]);
        r.get_mut().write_all(&b).await?;
        r.get_mut().flush().await?;
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let new_id = rest.trim();
        if !new_id.is_empty() && new_id != replid {
            // The primary's history goes on under a new id (it was promoted): ours becomes
            // the previous one, valid up to here.
            *srv.repl.replid2.write() = Some((replid.clone(), offset));
            *srv.replid.write() = new_id.to_string();
            disconnect_replicas(srv);
        }
        tracing::info!("Successful partial resynchronization with master.");
    } else {
        return Err(err(format!(
            "Unexpected reply to PSYNC from master: {reply}"
        )));
    }
    apply_stream(srv, up, r, leftover).await
}

/// Reads the RDB payload (`$<len>` or `$EOF:<mark>`), loads it aside, and swaps it in.
async fn full_sync(
    srv: &Arc<Server>,
    up: &Arc<Upstream>,
    r: &mut BufReader<Link>,
    id: &str,
    off: u64,
    leftover: &mut Vec<u8>,
) -> IoResult<()> {
    let head = read_line(r).await?;
    let payload = parse_payload_header(&head).map_err(err)?;
    let mut rdb: Vec<u8> = Vec::new();
    up.sync_read.store(0, Relaxed);
    match payload {
        tern_tail::Payload::Eof(mark) => {
            up.sync_total.store(-1, Relaxed);
            let mut chunk = vec![0u8; 1 << 16];
            loop {
                let n = read_timeout(srv, r.read(&mut chunk)).await?;
                if n == 0 {
                    return Err(err("connection lost during the RDB transfer"));
                }
                up.sync_read.store((rdb.len() + n) as i64, Relaxed);
                up.last_io_ms.store(now_ms(), Relaxed);
                if let Some(extra) = eof_push(&mut rdb, &chunk[..n], &mark) {
                    // The mark ends the payload; a primary should send nothing after it
                    // before our ACK, but bytes that do follow are the stream.
                    *leftover = extra;
                    break;
                }
            }
        }
        tern_tail::Payload::Len(len) => {
            up.sync_total
                .store(len.min(i64::MAX as u64) as i64, Relaxed);
            // The buffer grows with what arrives, never to a length the primary merely
            // announced.
            let mut chunk = vec![0u8; 1 << 16];
            while (rdb.len() as u64) < len {
                let want = (len - rdb.len() as u64).min(chunk.len() as u64) as usize;
                let n = read_timeout(srv, r.read(&mut chunk[..want])).await?;
                if n == 0 {
                    return Err(err("connection lost during the RDB transfer"));
                }
                rdb.extend_from_slice(&chunk[..n]);
                up.sync_read.store(rdb.len() as i64, Relaxed);
                up.last_io_ms.store(now_ms(), Relaxed);
            }
        }
    }
    tracing::info!("MASTER <-> REPLICA sync: received {} bytes of RDB; loading aside (still serving the old data)", rdb.len());
    // Loading is CPU work: off the async runtime.
    let s = srv.clone();
    let (dbs, loaded) = tokio::task::spawn_blocking(move || {
        crate::loader::load_rdb_aside(&s, &rdb, "the primary's RDB")
    })
    .await
    .map_err(|e| err(e.to_string()))?
    .map_err(|e| err(format!("Failed loading the RDB from the primary: {e}")))?;
    swap_in(srv, dbs, id, off);
    crate::loader::replace_functions(srv, &loaded.functions);
    tracing::info!(
        "MASTER <-> REPLICA sync: Finished with success ({} keys)",
        loaded.keys
    );
    Ok(())
}

/// Parses the line that announces the RDB payload: `$<len>`, or `$EOF:<mark>` whose first 40
/// bytes are the mark (shorter marks are refused).
pub fn parse_payload_header(head: &str) -> Result<tern_tail::Payload, String> {
    if !head.starts_with('$') {
        return Err(format!(
            "Bad protocol from MASTER, the first byte is not '$': {head}"
        ));
    }
    tern_tail::payload_header(head).map_err(|e| e.to_string())
}

/// Appends `chunk` to an EOF-marked payload; once the mark has arrived, cuts the payload at
/// it and returns the bytes that followed it.
pub fn eof_push(rdb: &mut Vec<u8>, chunk: &[u8], mark: &[u8]) -> Option<Vec<u8>> {
    let from = rdb.len().saturating_sub(mark.len());
    rdb.extend_from_slice(chunk);
    let at = memchr::memmem::find(&rdb[from..], mark)?;
    let end = from + at;
    let extra = rdb.split_off(end + mark.len());
    rdb.truncate(end);
    Some(extra)
}

/// Why [`apply_commands`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Every complete command was applied.
    All,
    /// A `REPLCONF GETACK` was applied: the caller answers it and calls again.
    GetAck,
    /// A script is running: the next command waits (unconsumed) until it ends, as Redis
    /// leaves its primary's stream unread while a script is busy.
    ScriptBusy,
}

/// Applies the complete commands at the start of `buf` as the primary's client `cl`, up to
/// and including a `REPLCONF GETACK`, or up to a command that must wait for a running script.
/// Returns the bytes consumed and why it stopped.
pub fn apply_commands(
    srv: &Server,
    cl: &mut Client,
    parser: &mut RequestParser,
    out: &mut ReplyWriter,
    buf: &[u8],
    now: i64,
) -> Result<(usize, Applied), String> {
    let limits = RequestLimits {
        max_bulk_len: u64::MAX,
        unauthenticated: false,
    };
    let mut pos = 0;
    while pos < buf.len() {
        match parser.parse(&buf[pos..], &limits) {
            Ok(Parsed::Complete(used)) => {
                let bytes = &buf[pos..pos + used];
                let req = &parser.request;
                let args: smallvec::SmallVec<[&[u8]; 8]> =
                    (0..req.len()).map(|i| req.arg(bytes, i)).collect();
                let getack = args.len() >= 2
                    && args[0].eq_ignore_ascii_case(b"REPLCONF")
                    && args[1].eq_ignore_ascii_case(b"GETACK");
                let pending = cl.master_pending.as_ref().map_or(0, |p| p.len());
                if let Some(p) = cl.master_pending.as_mut() {
                    p.extend_from_slice(bytes);
                }
                if !args.is_empty() && !getack && !args[0].eq_ignore_ascii_case(b"PING") {
                    out.buf.clear();
                    tern_keyspace::db::set_master_client(true);
                    let flow = dispatch::execute(srv, cl, out, &args, now);
                    tern_keyspace::db::set_master_client(false);
                    if flow == dispatch::Flow::ScriptBusy {
                        // Not run: it goes again, whole, once the script is over.
                        if let Some(p) = cl.master_pending.as_mut() {
                            p.truncate(pending);
                        }
                        return Ok((pos, Applied::ScriptBusy));
                    }
                    // A primary never sends a blocking command that waits; settle one anyway.
                    if cl.blocked.take().is_some() {
                        srv.blocking.cancel(cl.info.id);
                    }
                    cl.wait_repl = None;
                    cl.handoff = None;
                }
                // Our own log continues the primary's stream byte for byte: what the
                // command's writes did not append yet goes now, unless a MULTI is open.
                if cl.multi.is_none() {
                    if let Some(p) = cl.master_pending.as_mut().filter(|p| !p.is_empty()) {
                        srv.log.append_raw(p, Some(cl.db));
                        p.clear();
                    }
                }
                pos += used;
                if getack {
                    return Ok((pos, Applied::GetAck));
                }
            }
            Ok(Parsed::Incomplete { .. }) => break,
            Err(e) => return Err(format!("protocol error in the primary's stream: {e}")),
        }
    }
    Ok((pos, Applied::All))
}

/// Fuzzing entry (`crate::fuzzing::replica_stream`): `data` as what a primary sends after
/// PSYNC, through the same parsing steps as a live link (the reply, the payload header, the
/// payload in small reads, the load aside and swap, then the stream applied in pieces).
pub fn fuzz_sync_bytes(srv: &Arc<Server>, data: &[u8], now: i64) {
    let mut rest = data;
    let mut line = || -> Option<String> {
        loop {
            let nl = memchr::memchr(b'\n', rest)?;
            if nl >= tern_tail::MAX_LINE {
                return None;
            }
            let l = std::str::from_utf8(&rest[..nl]).ok()?.to_string();
            rest = &rest[nl + 1..];
            let t = l.trim_end_matches(['\r', '\n']);
            if !t.is_empty() {
                return Some(t.to_string());
            }
        }
    };
    let Some(reply) = line() else { return };
    let mut buf = Vec::new();
    if let Some(r) = reply.strip_prefix("+FULLRESYNC ") {
        let mut it = r.split_whitespace();
        let (Some(id), Some(off)) = (it.next(), it.next().and_then(|o| o.parse::<u64>().ok()))
        else {
            return;
        };
        let Some(head) = line() else { return };
        let mut rdb = Vec::new();
        match parse_payload_header(&head) {
            Ok(tern_tail::Payload::Len(n)) => {
                if (rest.len() as u64) < n {
                    return;
                }
                rdb.extend_from_slice(&rest[..n as usize]);
                rest = &rest[n as usize..];
            }
            Ok(tern_tail::Payload::Eof(mark)) => loop {
                if rest.is_empty() {
                    return;
                }
                let (chunk, after) = rest.split_at(rest.len().min(7));
                rest = after;
                if let Some(extra) = eof_push(&mut rdb, chunk, &mark) {
                    buf = extra;
                    break;
                }
            },
            Err(_) => return,
        }
        let Ok((dbs, loaded)) = crate::loader::load_rdb_aside(srv, &rdb, "fuzz") else {
            return;
        };
        swap_in(srv, dbs, id, off);
        crate::loader::replace_functions(srv, &loaded.functions);
    } else if !reply.starts_with("+CONTINUE") {
        return;
    }
    let info = srv.clients.register("primary".into(), "fuzz".into(), -1);
    let stats = srv.stats.new_worker(srv.table.ids());
    let mut cl = Client::new(info, stats, true);
    cl.replaying = true;
    cl.master_pending = Some(Vec::new());
    let mut parser = RequestParser::new();
    let mut out = ReplyWriter::new();
    for chunk in rest.chunks(997) {
        buf.extend_from_slice(chunk);
        let mut pos = 0;
        loop {
            match apply_commands(srv, &mut cl, &mut parser, &mut out, &buf[pos..], now) {
                Ok((used, Applied::GetAck)) => pos += used,
                Ok((used, _)) => {
                    pos += used;
                    break;
                }
                Err(_) => return,
            }
        }
        buf.drain(..pos);
    }
}

/// Replaces the whole dataset at once, with every shard held: no client ever sees a mix.
fn swap_in(srv: &Server, mut dbs: Vec<Vec<tern_keyspace::Db>>, id: &str, off: u64) {
    let ks = &srv.keyspace;
    let keep = srv
        .config
        .read()
        .get_string_bytes("replica-keep-local-keys")
        .filter(|p| !p.is_empty());
    {
        let _hold = ks.hold_all();
        for (i, new) in dbs.iter_mut().enumerate() {
            let mut g = ks.lock(i);
            std::mem::swap(&mut g.dbs, new);
        }
        // Local keys (a writable replica's) go with the old dataset, except those the user
        // asked to keep, when the primary's dataset does not have them.
        let mut local = srv.repl.local_keys.lock();
        local.retain(|(db, key)| {
            let Some(p) = keep.as_deref() else {
                return false;
            };
            if !crate::glob::matches(p, key) {
                return false;
            }
            let h = tern_keyspace::Keyspace::hash(key);
            let i = ks.shard_of(h);
            let mut g = ks.lock(i);
            if g.dbs[*db].keys.contains(h, key) {
                return false;
            }
            match dbs[i][*db].remove(h, key) {
                Some((_, e)) => {
                    g.dbs[*db].insert(h, key, e);
                    true
                }
                None => false,
            }
        });
        srv.repl.has_local.store(!local.is_empty(), Relaxed);
        drop(local);
        srv.log.reset_history(id, off);
        *srv.replid.write() = id.to_string();
        *srv.repl.replid2.write() = None;
        srv.db_changed(None);
        // A snapshot running on this replica (BGSAVE) still needs what it has not written of
        // the old dataset: it takes those Dbs over while every shard is still held.
        for shard in dbs.iter_mut() {
            let kept = srv.saver.adopt(std::mem::take(shard));
            *shard = kept;
        }
    }
    disconnect_replicas(srv);
    // The AOF describes the old dataset: a rewrite (started by the cron, at once) makes it
    // hold the new one, as Redis restarts its AOF after a full sync.
    if srv.aof.on() {
        srv.aof.rewrite_scheduled.store(true, Relaxed);
        tracing::info!("The AOF will be rewritten for the dataset of the full sync");
    }
    // The old dataset is freed off the link's thread.
    std::thread::spawn(move || drop(dbs));
}

/// Applies the primary's stream until the link fails.
async fn apply_stream(
    srv: &Arc<Server>,
    up: &Arc<Upstream>,
    r: BufReader<Link>,
    leftover: Vec<u8>,
) -> IoResult<()> {
    up.state.store(link::CONNECTED, Relaxed);
    up.down_since_ms.store(0, Relaxed);
    up.last_io_ms.store(now_ms(), Relaxed);
    tracing::info!("MASTER <-> REPLICA sync: link up, streaming");
    // Bytes already read past the payload, then those buffered by the reader, are the stream.
    let mut buf: Vec<u8> = leftover;
    buf.extend_from_slice(r.buffer());
    let mut sock = r.into_inner();
    use std::os::fd::AsRawFd;
    let laddr = sock
        .tcp()
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    // Registered with the socket's fd, so CLIENT KILL TYPE master closes the link.
    let info = srv.clients.register(
        format!("{}:{}", up.host, up.port),
        laddr,
        sock.tcp().as_raw_fd(),
    );
    info.flags.fetch_or(crate::clients::cflags::MASTER, Relaxed);
    let id = info.id;
    let stats = srv.stats.new_worker(srv.table.ids());
    let mut cl = Client::new(info, stats, true).internal();
    cl.replaying = true;
    cl.master_pending = Some(Vec::new());
    let result = apply_loop(srv, up, &mut sock, &mut cl, &mut buf).await;
    srv.clients.unregister(id);
    result
}

async fn apply_loop(
    srv: &Arc<Server>,
    up: &Arc<Upstream>,
    sock: &mut Link,
    cl: &mut Client,
    buf: &mut Vec<u8>,
) -> IoResult<()> {
    let mut parser = RequestParser::new();
    let mut out = ReplyWriter::new();
    let timeout_ms = srv
        .config
        .read()
        .get_u64("repl-timeout")
        .unwrap_or(60)
        .max(1) as i64
        * 1000;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        // Apply every complete command in the buffer, answering GETACKs as they come.
        let mut pos = 0;
        loop {
            let (used, applied) =
                apply_commands(srv, cl, &mut parser, &mut out, &buf[pos..], now_ms())
                    .map_err(err)?;
            pos += used;
            match applied {
                Applied::All => break,
                Applied::GetAck => send_ack(srv, sock).await?,
                Applied::ScriptBusy => crate::scripting::wait_not_busy(srv).await,
            }
        }
        buf.drain(..pos);
        // What was applied goes to the AOF now (and is fsynced with `appendfsync always`), as
        // Redis writes its AOF before each sleep, not at the next once-a-second flush. A
        // failure is the AOF's to report (MISCONF); the stream goes on.
        if pos > 0 && srv.aof.on() {
            let _ = srv.aof.flush_to(srv, srv.log.published_offset());
        }
        if up.stop.load(Relaxed) {
            return Ok(());
        }
        tokio::select! {
            r = sock.read_buf(buf) => {
                if r? == 0 {
                    return Err(err("connection closed by the primary"));
                }
                up.last_io_ms.store(now_ms(), Relaxed);
            }
            _ = tick.tick() => {
                if up.stop.load(Relaxed) {
                    return Ok(());
                }
                if now_ms() - up.last_io_ms.load(Relaxed) > timeout_ms {
                    return Err(err("MASTER timeout: no data nor PING received"));
                }
                send_ack(srv, sock).await?;
            }
        }
    }
}

async fn send_ack(srv: &Server, sock: &mut Link) -> IoResult<()> {
    let off = srv.log.offset().to_string();
    let mut b = Vec::with_capacity(64);
    crate::log::encode_command(&mut b, &[b"REPLCONF", b"ACK", off.as_bytes()]);
    sock.write_all(&b).await?;
    sock.flush().await
}

/// Called from the cron on a writable replica: deletes local keys whose TTL passed (the
/// primary's keys wait for its DELs; local ones have no primary to expire them).
pub fn expire_local_keys(srv: &Server, now: i64) {
    if !srv.repl.has_local.load(Relaxed) {
        return;
    }
    let ks = &srv.keyspace;
    let keys: Vec<(usize, Vec<u8>)> = srv
        .repl
        .local_keys
        .lock()
        .iter()
        .take(1000)
        .cloned()
        .collect();
    let mut gone = Vec::new();
    for (db, key) in keys {
        let h = tern_keyspace::Keyspace::hash(&key);
        let mut g = ks.lock(ks.shard_of(h));
        match g.dbs[db].keys.get(h, &key).map(|(_, e)| e.is_expired(now)) {
            None => gone.push((db, key)),
            Some(true) => {
                g.dbs[db].remove(h, &key);
                drop(g);
                srv.stats.expired_keys.fetch_add(1, Relaxed);
                srv.key_changed(db, &key, None);
                gone.push((db, key));
            }
            Some(false) => {}
        }
    }
    if !gone.is_empty() {
        let mut g = srv.repl.local_keys.lock();
        for k in gone {
            g.remove(&k);
        }
        srv.repl.has_local.store(!g.is_empty(), Relaxed);
    }
}

/// A read of the RDB payload, abandoned after `repl-timeout` of silence.
async fn read_timeout(
    srv: &Server,
    f: impl std::future::Future<Output = IoResult<usize>>,
) -> IoResult<usize> {
    let t = srv
        .config
        .read()
        .get_u64("repl-timeout")
        .unwrap_or(60)
        .max(1);
    tokio::time::timeout(Duration::from_secs(t), f)
        .await
        .map_err(|_| err("timeout receiving the RDB from the primary"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_headers_are_parsed_as_redis_does() {
        assert!(parse_payload_header("+OK").is_err());
        // A mark shorter than Redis's 40 bytes is refused (an empty one matched at once).
        assert!(parse_payload_header("$EOF:").is_err());
        assert_eq!(
            parse_payload_header("$1024").unwrap(),
            tern_tail::Payload::Len(1024)
        );
    }

    #[test]
    fn an_announced_payload_length_is_not_allocated_before_it_arrives() {
        // Found by review while fuzzing: `$<len>` used to `resize(len)` at once, so a
        // primary (or anything answering PSYNC) announcing 2^60 bytes aborted the replica.
        let srv = crate::testkit::TestDb::new().srv;
        fuzz_sync_bytes(
            &srv,
            b"+FULLRESYNC abc 0\r\n$1152921504606846976\r\nREDIS",
            0,
        );
        fuzz_sync_bytes(&srv, b"+FULLRESYNC abc 0\r\n$18446744073709551615\r\n", 0);
    }

    #[test]
    fn an_eof_marked_payload_is_cut_at_the_mark_and_the_rest_is_the_stream() {
        let mark = [b'z'; 40];
        let mut rdb = Vec::new();
        assert_eq!(eof_push(&mut rdb, b"REDIS0010zzzz", &mark), None);
        let extra = eof_push(&mut rdb, &[b'z'; 40], &mark).unwrap();
        // The first 40 z's are the mark; the ones before it belong to the payload.
        assert_eq!(rdb, b"REDIS0010");
        assert_eq!(extra, b"zzzz");
    }

    #[test]
    fn the_stream_is_applied_in_pieces_with_getacks_reported() {
        let srv = crate::testkit::TestDb::new().srv;
        let stream = b"+CONTINUE\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n\
                       *3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n\
                       *2\r\n$4\r\nINCR\r\n$1\r\nn\r\n";
        fuzz_sync_bytes(&srv, stream, 0);
        let mut t = crate::testkit::TestDb::connect(srv);
        assert_eq!(t.run(&["GET", "k"]), crate::testkit::frames::bulk("v"));
        assert_eq!(t.run(&["GET", "n"]), crate::testkit::frames::bulk("1"));
    }
}
