//! The connection loop: read, parse every complete request in the buffer, execute each, and
//! write all replies with one write. This batching is what makes deep pipelines cheap: a
//! pipeline of 16 commands costs one read and one write system call, as in Redis.
//!
//! Errors are kept in three tiers (see ARCHITECTURE.md):
//! - a command error is a `-ERR ...` reply and the connection goes on (dispatch handles it);
//! - a protocol error is a `-ERR Protocol error: ...` reply, then the connection is closed;
//! - an I/O error closes the connection silently (logged at debug).

use crate::clients::cflags;
use crate::ctx::Client;
use crate::dispatch::{self, Flow};
use crate::server::{now_ms, Server};
use crate::stats::WorkerStats;
use crate::tls::Transport;
use smallvec::SmallVec;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tern_resp::request::Parsed;
use tern_resp::{ReplyWriter, RequestLimits, RequestParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Replies are flushed early once this many bytes are pending, so a huge pipeline does not
/// buffer all its replies in memory.
const FLUSH_AT: usize = 64 * 1024;
/// Read buffer growth step.
const READ_CHUNK: usize = 16 * 1024;

/// Serves one accepted connection until it closes: plain TCP, or TLS after its handshake
/// (`tls::accept`). Generic over the stream, so the plain-TCP path is compiled on its own,
/// with no TLS branch in it.
pub async fn serve<S: Transport>(srv: Arc<Server>, mut stream: S, stats: Arc<WorkerStats>) {
    let tcp = stream.tcp();
    let _ = tcp.set_nodelay(true);
    let addr = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let laddr = tcp.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let remote = tcp.peer_addr().is_ok_and(|a| !a.ip().is_loopback());
    let info = srv.clients.register(addr, laddr, tcp.as_raw_fd());
    srv.stats.connections_received.fetch_add(1, Relaxed);
    let id = info.id;
    if srv.clients.len() as u64 > srv.hot.maxclients.load(Relaxed) {
        srv.stats.rejected_connections.fetch_add(1, Relaxed);
        if stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await
            .is_ok()
        {
            let _ = stream.flush().await;
        }
    } else if srv.hot.protected.load(Relaxed) && remote && srv.acl.default_user().nopass {
        // protected-mode: the default user has no password, so only loopback clients (Redis
        // 7.0 applies it whatever `bind` says).
        srv.stats.rejected_connections.fetch_add(1, Relaxed);
        if stream
            .write_all(crate::errors::DENIED_PROTECTED_MODE.as_bytes())
            .await
            .is_ok()
        {
            let _ = stream.flush().await;
        }
    } else {
        let authenticated = !srv.hot.requirepass_set.load(Relaxed);
        info.authenticated.store(authenticated, Relaxed);
        let mut cl = Client::new(info, stats, authenticated);
        let epoch = srv.acl.epoch.load(Relaxed);
        cl.set_user(srv.acl.default_user(), epoch);
        if let Err(e) = run(&srv, &mut stream, &mut cl).await {
            tracing::debug!(client = id, error = %e, "connection closed on I/O error");
        }
        // PSYNC/SYNC turned this connection into a replica link.
        if let Some(h) = cl.handoff.take() {
            crate::repl::primary::serve_replica(&srv, &mut stream, &mut cl, h).await;
        }
        if cl.monitor {
            crate::families::server::remove_monitor(&srv);
        }
        srv.watch.unwatch_all(&mut cl.watching);
        srv.tracking.disable(id);
        cl.tracking = Default::default();
        crate::families::pubsub::unsubscribe_all(&srv, &mut cl);
    }
    srv.blocking.cancel(id);
    // Unregister before the socket closes, so CLIENT KILL never touches a reused fd.
    srv.clients.unregister(id);
    drop(stream);
}

async fn run<S: Transport>(srv: &Server, stream: &mut S, cl: &mut Client) -> std::io::Result<()> {
    let mut rbuf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut out = ReplyWriter::new();
    let mut parser = RequestParser::new();
    // False right after a blocked command ended with requests already buffered behind it.
    let mut need_read = true;
    loop {
        if need_read {
            if rbuf.capacity() - rbuf.len() < READ_CHUNK / 4 {
                rbuf.reserve(READ_CHUNK);
            }
            let n = match read_some(srv, stream, cl, &mut rbuf, &mut out).await? {
                Some(n) => n,
                None => return Ok(()),
            };
            if n == 0 {
                return Ok(());
            }
            cl.stats.net_input.add(n as u64);
            crate::busypoll::activity(|| srv.config.read().get_u64("busy-poll-us").unwrap_or(0));
            let limit = srv.hot.query_buffer_limit.load(Relaxed);
            if rbuf.len() as u64 > limit {
                tracing::warn!(client = cl.info.id, addr = %cl.info.addr, "closing client that reached max query buffer length");
                return Ok(());
            }
        }
        need_read = true;
        // Execute every complete request in the buffer, pausing when CLIENT PAUSE says so. The
        // clock is read once per batch, as Redis caches it per event-loop iteration.
        let mut pos = 0;
        let mut now = now_ms();
        let mut batch: Vec<Queued> = Vec::new();
        loop {
            let limits = request_limits(srv, cl);
            match parser.parse(&rbuf[pos..], &limits) {
                Ok(Parsed::Complete(used)) => {
                    let req = &parser.request;
                    if !req.is_empty() {
                        let base = &rbuf[pos..];
                        let args: SmallVec<[&[u8]; 8]> =
                            (0..req.len()).map(|i| req.arg(base, i)).collect();
                        let flow = dispatch::execute(srv, cl, &mut out, &args, now);
                        if flow != Flow::Continue {
                            // Nothing was executed: flush what we have, wait, and retry.
                            drop(args);
                            flush(srv, stream, cl, &mut out).await?;
                            if flow == Flow::ScriptBusy {
                                crate::scripting::wait_not_busy(srv).await;
                            } else {
                                wait_unpaused(srv).await;
                            }
                            now = now_ms();
                            continue;
                        }
                    }
                    pos += used;
                    if cl.handoff.is_some() {
                        flush(srv, stream, cl, &mut out).await?;
                        return Ok(());
                    }
                    if cl.blocked.is_some() || cl.wait_repl.is_some() {
                        // The request just run is still the parser's (by `used` bytes back).
                        let req = &parser.request;
                        if cl.blocked.is_some()
                            && !req.is_empty()
                            && is_script(req.arg(&rbuf[pos - used..], 0))
                        {
                            // Scripts pipelined right behind this one join the worker's
                            // queue now, so they run in the same turn.
                            let first = cl.blocked.take().expect("a script waits");
                            batch.push(Queued::Wait(first));
                            pos = queue_scripts(
                                srv,
                                cl,
                                &mut parser,
                                &rbuf,
                                pos,
                                &mut batch,
                                &mut out,
                                now,
                            );
                        }
                        // The rest of the buffer waits until the blocking command ends.
                        break;
                    }
                    if cl.close_after_reply || cl.info.killed.load(Relaxed) {
                        flush(srv, stream, cl, &mut out).await?;
                        return Ok(());
                    }
                    if out.buf.len() >= FLUSH_AT {
                        flush(srv, stream, cl, &mut out).await?;
                    }
                }
                Ok(Parsed::Incomplete { hint }) => {
                    let have = rbuf.len() - pos;
                    if hint > have {
                        // Reserve for a large argument in one go, but never more than a chunk
                        // beyond what has actually arrived, so a lying client cannot make us
                        // allocate memory it never fills.
                        let want = (hint - have).min(have.max(READ_CHUNK) * 2);
                        rbuf.reserve(want);
                    }
                    break;
                }
                Err(e) => {
                    out.error(&format!("ERR {e}"));
                    flush(srv, stream, cl, &mut out).await?;
                    tracing::debug!(client = cl.info.id, error = %e, "protocol error");
                    return Ok(());
                }
            }
        }
        rbuf.drain(..pos);
        if !batch.is_empty() {
            flush(srv, stream, cl, &mut out).await?;
            // A script always ends (SCRIPT KILL, or its worker answers), so its reply
            // is simply awaited; the connection is read again afterwards.
            for q in batch {
                match q {
                    Queued::Wait(wait) => match wait.rx.await {
                        Ok(crate::blocking::Outcome::Served(reply)) => out.raw(&reply),
                        _ => (wait.timeout_reply)(&mut out),
                    },
                    Queued::Ready(reply) => out.raw(&reply),
                }
            }
            // The scripts' writes are in the log (or, on a writable replica, in the AOF only):
            // the replies wait for the AOF like a write's, and a WAIT after them waits for
            // replicas to reach them.
            cl.last_write = cl.last_write.max(srv.log.published_offset());
            if srv.aof.on() {
                cl.aof_only_write |= srv.repl.is_replica();
            }
            if cl.info.killed.load(Relaxed) {
                flush(srv, stream, cl, &mut out).await?;
                return Ok(());
            }
            flush(srv, stream, cl, &mut out).await?;
            need_read = rbuf.is_empty();
            continue;
        }
        if let Some(w) = cl.wait_repl.take() {
            flush(srv, stream, cl, &mut out).await?;
            let n = wait_replicas(srv, w).await;
            out.int(n as i64);
            flush(srv, stream, cl, &mut out).await?;
            need_read = rbuf.is_empty();
            continue;
        }
        if let Some(wait) = cl.blocked.take() {
            flush(srv, stream, cl, &mut out).await?;
            if !wait_blocked(srv, stream, cl, &mut rbuf, &mut out, wait).await? {
                return Ok(());
            }
            flush(srv, stream, cl, &mut out).await?;
            // Requests that arrived behind the blocking command run now, before reading more.
            need_read = rbuf.is_empty();
            continue;
        }
        cl.info.qbuf.store(rbuf.len(), Relaxed);
        cl.info
            .last_interaction_ms
            .store(cl.info.created.elapsed().as_millis() as u64, Relaxed);
        if !out.buf.is_empty() && out.buf.len() < FLUSH_AT {
            // Let the other connections that became readable in the same event-loop turn run
            // first, then write: replies leave in a burst (as Redis's beforeSleep writes them),
            // which lets a client that waits on many connections read them in fewer wakeups.
            RunOthersFirst(false).await;
        }
        flush(srv, stream, cl, &mut out).await?;
        if rbuf.is_empty() && rbuf.capacity() > 4 * READ_CHUNK {
            rbuf = Vec::with_capacity(READ_CHUNK);
        }
    }
}

/// The parser's limits for the client's next request (they change with CONFIG SET
/// proto-max-bulk-len and with AUTH).
fn request_limits(srv: &Server, cl: &Client) -> RequestLimits {
    RequestLimits {
        max_bulk_len: srv.hot.proto_max_bulk_len.load(Relaxed),
        unauthenticated: !cl.authenticated,
    }
}

/// Scripts queued behind one another on the worker, in the order of their replies.
enum Queued {
    /// Queued on the worker: the reply comes through the wait.
    Wait(crate::blocking::BlockedWait),
    /// Answered at once (an error such as NOSCRIPT, or a script run inline).
    Ready(Vec<u8>),
}

/// At most this many pipelined scripts are queued at once per connection.
const SCRIPT_BATCH: usize = 64;

/// EVAL, EVALSHA, FCALL and their read-only forms: the commands queued on the worker.
fn is_script(name: &[u8]) -> bool {
    matches!(name.len(), 4..=10)
        && [
            &b"eval"[..],
            b"evalsha",
            b"eval_ro",
            b"evalsha_ro",
            b"fcall",
            b"fcall_ro",
        ]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
}

/// Dispatches the script commands that follow `pos` in `rbuf` while the first one waits for
/// its worker, each reply kept apart (in `batch`) so replies leave in request order.
/// Stops at the first request that is not a script, is incomplete, or at [`SCRIPT_BATCH`].
/// Returns the position after the last request dispatched.
#[allow(clippy::too_many_arguments)]
fn queue_scripts(
    srv: &Server,
    cl: &mut Client,
    parser: &mut RequestParser,
    rbuf: &[u8],
    mut pos: usize,
    batch: &mut Vec<Queued>,
    out: &mut ReplyWriter,
    now: i64,
) -> usize {
    let limits = request_limits(srv, cl);
    cl.script_batch = true;
    while batch.len() < SCRIPT_BATCH && cl.multi.is_none() && !cl.close_after_reply {
        let Ok(Parsed::Complete(used)) = parser.parse(&rbuf[pos..], &limits) else {
            break;
        };
        let req = &parser.request;
        let base = &rbuf[pos..];
        if req.is_empty() || !is_script(req.arg(base, 0)) {
            break;
        }
        let args: SmallVec<[&[u8]; 8]> = (0..req.len()).map(|i| req.arg(base, i)).collect();
        let mut mine = ReplyWriter::new();
        mine.proto = out.proto;
        if dispatch::execute(srv, cl, &mut mine, &args, now) != Flow::Continue {
            // Paused clients: leave it for the normal path.
            break;
        }
        pos += used;
        match cl.blocked.take() {
            Some(w) => {
                if !mine.buf.is_empty() {
                    batch.push(Queued::Ready(std::mem::take(&mut mine.buf)));
                }
                batch.push(Queued::Wait(w));
            }
            None => batch.push(Queued::Ready(mine.buf)),
        }
    }
    cl.script_batch = false;
    pos
}

/// Waits for a blocked command to be served, to time out, or to be unblocked, and writes its
/// reply. Meanwhile it keeps reading (into `rbuf`, unparsed) so that a client that goes away
/// is noticed at once. Returns false when the connection must close.
async fn wait_blocked<S: Transport>(
    srv: &Server,
    stream: &mut S,
    cl: &mut Client,
    rbuf: &mut Vec<u8>,
    out: &mut ReplyWriter,
    wait: crate::blocking::BlockedWait,
) -> std::io::Result<bool> {
    use crate::blocking::Outcome;
    let id = cl.info.id;
    let mut rx = wait.rx;
    let sleep = async {
        match wait.deadline_ms {
            Some(at) => {
                tokio::time::sleep(Duration::from_millis((at - now_ms()).max(0) as u64)).await
            }
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep);
    let limit = srv.hot.query_buffer_limit.load(Relaxed);
    let mut open = true;
    let outcome = loop {
        if rbuf.capacity() - rbuf.len() < READ_CHUNK / 4 {
            rbuf.reserve(READ_CHUNK);
        }
        tokio::select! {
            r = &mut rx => break r.ok(),
            _ = &mut sleep => {
                if srv.blocking.cancel(id) {
                    break None;
                }
                // Served or unblocked at this very moment: the outcome is in the channel.
                break rx.await.ok();
            }
            _ = srv.shutdown.notified(), if open => {
                srv.blocking.cancel(id);
                open = false;
                break None;
            }
            r = stream.read_buf(rbuf), if open => {
                let n = r.unwrap_or(0);
                if n == 0 || rbuf.len() as u64 > limit || cl.info.killed.load(Relaxed) {
                    if srv.blocking.cancel(id) {
                        open = false;
                        break None;
                    }
                    open = false;
                    break rx.await.ok();
                }
                cl.stats.net_input.add(n as u64);
            }
        }
    };
    // A client served by another client's push: its pop is in the log (under the pusher's
    // offset), and its reply waits for the AOF like the pusher's.
    if srv.aof.on() {
        cl.last_write = cl.last_write.max(srv.log.published_offset());
    }
    cl.info.flags.fetch_and(!cflags::BLOCKED, Relaxed);
    if !open {
        return Ok(false);
    }
    match outcome {
        Some(Outcome::Served(reply)) => out.raw(&reply),
        Some(Outcome::Unblocked { error: true }) => {
            out.error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        }
        Some(Outcome::Unblocked { error: false }) | None => (wait.timeout_reply)(out),
    }
    Ok(!cl.info.killed.load(Relaxed))
}

/// Reads more bytes, honouring the idle timeout and delivering MONITOR output meanwhile.
/// Returns None when the connection must close without error.
async fn read_some<S: Transport>(
    srv: &Server,
    stream: &mut S,
    cl: &mut Client,
    rbuf: &mut Vec<u8>,
    out: &mut ReplyWriter,
) -> std::io::Result<Option<usize>> {
    let mut mon = cl.monitor_rx.take();
    let mut push = cl.push_rx.take();
    if mon.is_some() || push.is_some() {
        // MONITOR output and pub/sub messages are written as they come, between reads.
        let r = loop {
            tokio::select! {
                r = stream.read_buf(rbuf) => break r.map(Some),
                line = recv_opt(&mut mon), if mon.is_some() => match line {
                    Some(line) => {
                        out.raw(&line);
                        if let Err(e) = flush(srv, stream, cl, out).await {
                            break Err(e);
                        }
                    }
                    None => break Ok(None),
                },
                msg = recv_push(&mut push), if push.is_some() => match msg {
                    Some(msg) => {
                        let mut n = msg.len();
                        out.raw(&msg);
                        // Take whatever else is queued, up to one flush's worth.
                        while out.buf.len() < FLUSH_AT {
                            match push.as_mut().map(|p| p.try_recv()) {
                                Some(Ok(m)) => {
                                    n += m.len();
                                    out.raw(&m);
                                }
                                _ => break,
                            }
                        }
                        if let Err(e) = flush(srv, stream, cl, out).await {
                            break Err(e);
                        }
                        if let Some(s) = &cl.pubsub {
                            s.written(n);
                            if s.dropped.load(Relaxed) {
                                break Ok(None);
                            }
                        }
                    }
                    None => break Ok(None),
                },
            }
        };
        if cl.monitor {
            cl.monitor_rx = mon;
        }
        if cl.pubsub.is_some() && cl.push_rx.is_none() {
            cl.push_rx = push;
        }
        return r;
    }
    let timeout = srv.hot.idle_timeout.load(Relaxed);
    let exempt = cl.info.flags.load(Relaxed) & (cflags::PUBSUB | cflags::BLOCKED) != 0;
    if timeout > 0 && !exempt {
        match tokio::time::timeout(Duration::from_secs(timeout), stream.read_buf(rbuf)).await {
            Ok(r) => r.map(Some),
            Err(_) => {
                tracing::debug!(client = cl.info.id, "closing idle client");
                Ok(None)
            }
        }
    } else {
        stream.read_buf(rbuf).await.map(Some)
    }
}

/// Receives from an optional channel; pends forever on None (a disabled `select!` branch).
async fn recv_opt(
    rx: &mut Option<tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>>,
) -> Option<Vec<u8>> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_push(rx: &mut Option<crate::pubsub::PushRx>) -> Option<Vec<u8>> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

async fn flush<S: Transport>(
    srv: &Server,
    stream: &mut S,
    cl: &mut Client,
    out: &mut ReplyWriter,
) -> std::io::Result<()> {
    if out.buf.is_empty() {
        return Ok(());
    }
    // With the AOF on, replies to writes leave only once the AOF holds the writes.
    if srv.aof.on() && (cl.last_write > srv.aof.written() || cl.aof_only_write) {
        crate::aof::before_reply(srv, cl.last_write).await;
        cl.aof_only_write = false;
    }
    // `client-output-buffer-limit normal` (subscribers answer to the pubsub class, enforced
    // where their messages are queued), and the idle `timeout` for a client that stopped
    // reading (Redis counts a write that makes no progress as no interaction).
    let limits = &srv.hot.obuf_normal;
    let idle = if cl.pubsub.is_some() {
        0
    } else {
        srv.hot.idle_timeout.load(Relaxed)
    };
    let normal = cl.pubsub.is_none() && !limits.none();
    if !normal && idle == 0 {
        stream.write_all(&out.buf).await?;
        // TLS keeps what the socket did not take in its own buffer until flushed; for plain
        // TCP this returns at once.
        stream.flush().await?;
    } else {
        // The flush is watched too (over TLS, with the socket's send queue as the pending
        // size: the TLS layer's own buffer is not counted).
        let since = &mut cl.obuf_soft_since;
        crate::outlimit::write_all_watched(stream, &out.buf, |unwritten, stalled| {
            if idle > 0 && stalled.as_secs() >= idle {
                tracing::debug!(client = cl.info.id, "closing idle client (not reading)");
                return true;
            }
            if !normal {
                return false;
            }
            let pending = unwritten + crate::outlimit::unsent_in_kernel(cl.info.fd);
            let over = limits.reached(pending, since, now_ms());
            if over {
                crate::outlimit::log_closed(cl.info.id, &cl.info.addr, "normal", pending);
            }
            over
        })
        .await?;
        cl.obuf_soft_since = 0;
    }
    cl.stats.net_output.add(out.buf.len() as u64);
    out.buf.clear();
    if out.buf.capacity() > 1024 * 1024 {
        out.buf = Vec::with_capacity(READ_CHUNK);
    }
    Ok(())
}

async fn wait_unpaused(srv: &Server) {
    let until = srv.pause.until_ms.load(Relaxed);
    let wait = (until - now_ms()).max(0) as u64;
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
        _ = srv.pause.unpaused.notified() => {}
    }
}

/// WAIT: polls the replicas' acknowledgements until enough have the offset or time is up.
async fn wait_replicas(srv: &Server, w: crate::ctx::WaitRepl) -> usize {
    loop {
        let n = srv.repl.acked(w.offset);
        if n >= w.numreplicas || w.deadline_ms.is_some_and(|d| now_ms() >= d) {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Returns Pending once after waking its own task, which puts the task at the back of the
/// worker's run queue: the connections already scheduled in this event-loop turn run first.
/// Unlike `tokio::task::yield_now`, which defers the wake-up until the runtime has polled the
/// I/O driver again (one more `epoll_wait`, with a zero timeout, per turn), this does not poll
/// the driver, like Redis, whose `beforeSleep` writes the replies before the next `epoll_wait`.
struct RunOthersFirst(bool);

impl std::future::Future for RunOthersFirst {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}
