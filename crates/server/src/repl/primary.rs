//! The primary side: serving a replica after PSYNC or SYNC.
//!
//! The PSYNC handler only decides (full or partial) and hands the connection over; the
//! connection task then runs [`serve_replica`]. A full sync begins a point-in-time snapshot
//! (`snapshot.rs`), answers `+FULLRESYNC <replid> <offset>` with the snapshot's offset, and sends
//! the RDB while it keeps draining the log from that offset into memory, so the backlog
//! overflowing during a long transfer does not force another full sync; then it streams the
//! log. A partial resync answers `+CONTINUE <replid>` and streams from the requested offset.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tern_resp::request::Parsed;
use tern_resp::{RequestLimits, RequestParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{state, ReplicaLink};
use crate::ctx::Client;
use crate::server::{now_ms, Server};
use crate::tls::Transport;

/// What a replica said about itself with REPLCONF before PSYNC.
#[derive(Debug, Default, Clone)]
pub struct ReplConf {
    /// REPLCONF listening-port.
    pub listening_port: u16,
    /// REPLCONF ip-address.
    pub ip_address: Option<String>,
    /// `capa eof`: can take a diskless transfer framed by `$EOF:<mark>`.
    pub capa_eof: bool,
    /// `capa psync2`.
    pub capa_psync2: bool,
}

/// How a connection that asked to replicate continues.
#[derive(Debug)]
pub enum Handoff {
    /// Full sync; `psync` is false for the old SYNC command (no +FULLRESYNC line).
    Full { psync: bool },
    /// Partial resync from this 0-based stream position.
    Partial { from: u64 },
}

/// Chunks of the log read per write to a replica.
const CHUNK: usize = 256 * 1024;

/// Decides how to serve `PSYNC replid offset`: a partial resync when the id is ours (or our
/// previous one, up to where it is valid) and the backlog still holds the offset.
pub fn decide(srv: &Server, replid: &[u8], offset: &[u8]) -> Handoff {
    let want: Option<u64> = std::str::from_utf8(offset)
        .ok()
        .and_then(|s| s.parse().ok());
    // A freed backlog (`repl-backlog-ttl`) keeps the stream again from here on.
    srv.log.set_backlog_active(&srv.replid.read(), true);
    let ours = srv.replid.read().clone();
    let id_ok = |id: &[u8], off: u64| {
        id == ours.as_bytes()
            || srv
                .repl
                .replid2
                .read()
                .as_ref()
                .is_some_and(|(id2, valid)| id == id2.as_bytes() && off <= *valid + 1)
    };
    if replid != b"?" {
        if let Some(off) = want.filter(|&o| o >= 1 && id_ok(replid, o)) {
            let from = off - 1;
            let (first, len) = srv.log.backlog_range();
            if from >= first && from <= first + len as u64 {
                srv.repl.sync_partial_ok.fetch_add(1, Relaxed);
                return Handoff::Partial { from };
            }
        }
        srv.repl.sync_partial_err.fetch_add(1, Relaxed);
    }
    srv.repl.sync_full.fetch_add(1, Relaxed);
    Handoff::Full { psync: true }
}

/// Serves a replica on `stream` until it goes away.
pub async fn serve_replica<S: Transport>(
    srv: &Arc<Server>,
    stream: &mut S,
    cl: &mut Client,
    h: Handoff,
) {
    let conf = cl.repl_conf.clone();
    let ip = cl
        .info
        .addr
        .rsplit_once(':')
        .map(|(ip, _)| ip.to_string())
        .unwrap_or_default();
    let link = Arc::new(ReplicaLink {
        id: cl.info.id,
        ip: conf.ip_address.clone().unwrap_or(ip),
        port: conf.listening_port,
        state: state::WAIT_BGSAVE.into(),
        ack_offset: 0.into(),
        ack_time_ms: now_ms().into(),
        kill: false.into(),
    });
    srv.repl.replicas.lock().push(link.clone());
    cl.info
        .flags
        .fetch_or(crate::clients::cflags::REPLICA, Relaxed);
    let r = match h {
        Handoff::Partial { from } => {
            let replid = srv.replid.read().clone();
            let line = if conf.capa_psync2 {
                format!("+CONTINUE {replid}\r\n")
            } else {
                "+CONTINUE\r\n".to_string()
            };
            tracing::info!(replica = %link.ip, from, "Partial resynchronization request accepted");
            match send(stream, line.as_bytes()).await {
                Ok(()) => stream_log(srv, stream, &link, from, Vec::new()).await,
                Err(e) => Err(e),
            }
        }
        Handoff::Full { psync } => full_sync(srv, stream, &link, &conf, psync).await,
    };
    if let Err(e) = r {
        tracing::info!(replica = %link.ip, error = %e, "Connection with replica lost");
    }
    srv.repl.replicas.lock().retain(|l| !Arc::ptr_eq(l, &link));
}

/// Reads what the log has beyond `pos` into `pending`; fails when the backlog no longer holds
/// `pos` (the replica fell too far behind).
fn drain_log(srv: &Server, pos: &mut u64, pending: &mut Vec<u8>) -> std::io::Result<()> {
    loop {
        match srv.log.read_from(*pos, CHUNK) {
            Some(c) if c.is_empty() => return Ok(()),
            Some(c) => {
                *pos += c.len() as u64;
                pending.extend_from_slice(&c);
            }
            None => {
                return Err(std::io::Error::other(
                    "the backlog no longer holds the replica's offset",
                ))
            }
        }
    }
}

/// Writes `bytes` and flushes them (a TLS stream buffers what the socket does not take).
/// [`send`] under `client-output-buffer-limit replica`: `over(unwritten)` is asked before
/// the write and whenever the stream takes nothing for a while, the flush included (see
/// `outlimit.rs`).
async fn send_watched<S: Transport>(
    stream: &mut S,
    bytes: &[u8],
    mut over: impl FnMut(u64) -> bool,
) -> std::io::Result<()> {
    crate::outlimit::write_all_watched(stream, bytes, |unwritten, _| over(unwritten)).await
}

async fn send<S: Transport>(stream: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

async fn full_sync<S: Transport>(
    srv: &Arc<Server>,
    stream: &mut S,
    link: &Arc<ReplicaLink>,
    conf: &ReplConf,
    psync: bool,
) -> std::io::Result<()> {
    let diskless = conf.capa_eof
        && psync
        && srv
            .config
            .read()
            .get_bool("repl-diskless-sync")
            .unwrap_or(true);
    let mark: String = crate::server::random_hex40();
    let (offset, mut rx) = if diskless {
        // A seat in the next shared transfer; newlines every second until it begins, as
        // Redis sends them, so the replica knows the primary is alive.
        let mut seat = super::diskless::join(srv)?;
        let (replid, offset) = loop {
            tokio::select! {
                r = &mut seat.start => match r {
                    Ok(s) => break s,
                    Err(_) => return Err(std::io::Error::other("the transfer did not begin")),
                },
                _ = tokio::time::sleep(Duration::from_secs(1)) => send(stream, b"\n").await?,
            }
        };
        if psync {
            let line = format!("+FULLRESYNC {replid} {offset}\r\n");
            send(stream, line.as_bytes()).await?;
        }
        tracing::info!(replica = %link.ip, offset, "Starting full sync with replica (diskless)");
        link.state.store(state::SEND_BULK, Relaxed);
        send(stream, format!("$EOF:{mark}\r\n").as_bytes()).await?;
        (offset, seat.rdb)
    } else {
        // One snapshot at a time: wait for a running save, sending newlines as Redis does.
        let snap = loop {
            match crate::snapshot::begin_for_replica(srv) {
                Ok(s) => break s,
                Err(_) => {
                    send(stream, b"\n").await?;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let offset = snap.offset();
        if psync {
            let line = format!("+FULLRESYNC {} {offset}\r\n", snap.replid());
            send(stream, line.as_bytes()).await?;
        }
        tracing::info!(replica = %link.ip, offset, "Starting full sync with replica");
        link.state.store(state::SEND_BULK, Relaxed);
        let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(16);
        // Disk-based: the length goes first, so the RDB is written to a file before sending.
        let path = srv.config.read().dir().join(format!(
            "temp-repl-{}-{}.rdb",
            std::process::id(),
            link.id
        ));
        let s = srv.clone();
        std::thread::Builder::new()
            .name("tern-replsync".into())
            .spawn(move || {
                let r = std::fs::File::create(&path)
                    .and_then(|f| snap.run_to(&s, Box::new(std::io::BufWriter::new(f))))
                    .and_then(|()| std::fs::read(&path));
                let _ = std::fs::remove_file(&path);
                match r {
                    Ok(bytes) => {
                        let bytes = bytes::Bytes::from(bytes);
                        let _ = tx.blocking_send(format!("${}\r\n", bytes.len()).into());
                        for at in (0..bytes.len()).step_by(1 << 16) {
                            let end = (at + (1 << 16)).min(bytes.len());
                            if tx.blocking_send(bytes.slice(at..end)).is_err() {
                                return;
                            }
                        }
                        let _ = tx.blocking_send(bytes::Bytes::new());
                    }
                    Err(e) => tracing::warn!("Disk-based sync to a replica failed: {e}"),
                }
            })?;
        (offset, rx)
    };
    // Send the snapshot while keeping the log's new bytes in memory: they are the replica's
    // output buffer, bounded by `client-output-buffer-limit replica`.
    let mut pos = offset;
    let mut pending: Vec<u8> = Vec::new();
    let mut since = 0i64;
    loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(c) if c.is_empty() => break,
                Some(c) => {
                    let held = pending.len() as u64;
                    let p = pos;
                    send_watched(stream, &c, |_| {
                        replica_over(srv, link, held + srv.log.offset().saturating_sub(p), &mut since)
                    })
                    .await?
                }
                None => return Err(std::io::Error::other("the snapshot for the replica failed")),
            },
            _ = srv.log.wait_beyond(pos) => {
                drain_log(srv, &mut pos, &mut pending)?;
                if replica_over(srv, link, pending.len() as u64, &mut since) {
                    return Err(crate::outlimit::limit_error());
                }
            }
        }
    }
    if diskless {
        send(stream, mark.as_bytes()).await?;
        // Nothing may follow the mark until the replica has loaded the RDB and says so with
        // its first ACK: a replica reading the payload looks for the mark at the end of what
        // it read (Redis's "Waiting for REPLCONF ACK from slave to enable streaming").
        tracing::info!(replica = %link.ip, "Streamed RDB transfer succeeded; waiting for REPLCONF ACK to enable streaming");
        let mut first = Vec::new();
        let timeout = Duration::from_secs(
            srv.config
                .read()
                .get_u64("repl-timeout")
                .unwrap_or(60)
                .max(1),
        );
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            tokio::select! {
                r = stream.read_buf(&mut first) => {
                    if r? == 0 {
                        return Err(std::io::Error::other("replica closed the link after the transfer"));
                    }
                    if memchr::memmem::find(&first, b"ACK").is_some() && first.ends_with(b"\r\n") {
                        break;
                    }
                }
                _ = srv.log.wait_beyond(pos) => {
                    drain_log(srv, &mut pos, &mut pending)?;
                    if replica_over(srv, link, pending.len() as u64, &mut since) {
                        return Err(crate::outlimit::limit_error());
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(std::io::Error::other("timeout waiting for the replica's first ACK"));
                }
            }
        }
    }
    tracing::info!(replica = %link.ip, "Synchronization with replica succeeded");
    stream_log(srv, stream, link, pos, pending).await
}

/// Streams the log from `pos` (after sending `pending`), and reads the replica's
/// REPLCONF ACKs, until either side fails.
async fn stream_log<S: Transport>(
    srv: &Arc<Server>,
    stream: &mut S,
    link: &Arc<ReplicaLink>,
    mut pos: u64,
    pending: Vec<u8>,
) -> std::io::Result<()> {
    link.state.store(state::ONLINE, Relaxed);
    // No split halves: the read below is a `select!` branch, dropped before a branch's body
    // writes, so one stream (plain or TLS) serves both directions.
    let mut since = 0i64;
    let p = pos;
    send_watched(stream, &pending, |unwritten| {
        replica_over(
            srv,
            link,
            unwritten + srv.log.offset().saturating_sub(p),
            &mut since,
        )
    })
    .await?;
    drop(pending);
    let mut rbuf: Vec<u8> = Vec::with_capacity(4096);
    let mut parser = RequestParser::new();
    let limits = RequestLimits {
        max_bulk_len: 1 << 20,
        unauthenticated: false,
    };
    let mut out = Vec::with_capacity(CHUNK);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        if link.kill.load(Relaxed) {
            return Err(std::io::Error::other("replication history changed"));
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = srv.log.wait_beyond(pos) => {
                out.clear();
                drain_log(srv, &mut pos, &mut out)?;
                let p = pos;
                send_watched(stream, &out, |unwritten| {
                    replica_over(srv, link, unwritten + srv.log.offset().saturating_sub(p), &mut since)
                })
                .await?;
            }
            r = stream.read_buf(&mut rbuf) => {
                if r? == 0 {
                    return Ok(());
                }
                let mut at = 0;
                while let Ok(Parsed::Complete(used)) = parser.parse(&rbuf[at..], &limits) {
                    let req = &parser.request;
                    let base = &rbuf[at..];
                    if req.len() >= 3
                        && req.arg(base, 0).eq_ignore_ascii_case(b"REPLCONF")
                        && req.arg(base, 1).eq_ignore_ascii_case(b"ACK")
                    {
                        if let Some(off) = std::str::from_utf8(req.arg(base, 2)).ok().and_then(|s| s.parse().ok()) {
                            link.ack_offset.store(off, Relaxed);
                            link.ack_time_ms.store(now_ms(), Relaxed);
                        }
                    }
                    at += used;
                }
                rbuf.drain(..at);
                if rbuf.len() > 1 << 20 {
                    return Err(std::io::Error::other("replica sent too much"));
                }
            }
        }
    }
}

/// `client-output-buffer-limit replica` for a replica holding `pending` bytes of stream not
/// yet written to its socket; logs as Redis does when the replica must be dropped.
fn replica_over(srv: &Server, link: &ReplicaLink, pending: u64, since: &mut i64) -> bool {
    let over = srv.hot.obuf_replica.reached(pending, since, now_ms());
    if over {
        let addr = format!("{}:{}", link.ip, link.port);
        crate::outlimit::log_closed(link.id, &addr, "replica", pending);
    }
    over
}

/// Called from the cron: a PING into the stream every `repl-ping-replica-period` seconds while
/// replicas are connected, so they can tell a quiet primary from a dead link.
///
/// Also frees the backlog of a primary that has had no replica for `repl-backlog-ttl`
/// seconds, as Redis does: under a new replication id (the old history can no longer be
/// continued from here), until a replica asks for the stream again.
pub fn cron(srv: &Server) {
    if srv.repl.is_replica() {
        srv.repl.no_replicas_since_ms.store(0, Relaxed);
        return;
    }
    if srv.repl.replicas.lock().is_empty() {
        let now = now_ms();
        let since = match srv.repl.no_replicas_since_ms.load(Relaxed) {
            0 => {
                srv.repl.no_replicas_since_ms.store(now, Relaxed);
                now
            }
            t => t,
        };
        let ttl = srv
            .config
            .read()
            .get_u64("repl-backlog-ttl")
            .unwrap_or(3600);
        if ttl > 0 && now - since >= ttl as i64 * 1000 && srv.log.backlog_active() {
            let replid = crate::server::random_hex40();
            *srv.replid.write() = replid.clone();
            *srv.repl.replid2.write() = None;
            if srv.log.set_backlog_active(&replid, false) {
                tracing::info!(
                    "Replication backlog freed after {ttl} seconds without connected replicas."
                );
            }
        }
        return;
    }
    srv.repl.no_replicas_since_ms.store(0, Relaxed);
    let period = srv
        .config
        .read()
        .get_u64("repl-ping-replica-period")
        .unwrap_or(10)
        .max(1) as i64
        * 1000;
    let now = now_ms();
    if now - srv.repl.last_ping_ms.load(Relaxed) >= period {
        srv.repl.last_ping_ms.store(now, Relaxed);
        srv.log.append_nodb(&[b"PING"]);
    }
}
