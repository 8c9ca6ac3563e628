//! Blocking commands (BLPOP and friends): who waits on which keys, and serving them when the
//! keys get data. Redis's blocked.c, for a server whose clients live on several threads.
//!
//! A blocking command first tries to run as its non-blocking form. If every key is empty it
//! registers a [`Waiter`] here (FIFO per key, so clients are served in the order they blocked)
//! and the connection task waits for an [`Outcome`] on a oneshot channel, the command's
//! timeout, or the client going away.
//!
//! Serving: after any write command, dispatch calls [`Blocking::serve_keys`] for the command's
//! keys when anyone is blocked at all (one atomic load otherwise). For each key with waiters,
//! the first waiter's `serve` function runs *in the writer's thread*, right after the write and
//! before the writer's next command, just as Redis serves blocked clients before it processes
//! the next command: `LPUSH k x` followed by `LPOP k` from anyone never steals `x` from a
//! client blocked on `k`. The serve function pops, writes the waiter's reply in the waiter's
//! protocol, propagates the non-blocking form (BLPOP -> LPOP), and may make more keys ready
//! (BLMOVE pushes to its destination); those are served in turn.
//!
//! Locking: the registry mutex is taken before any shard lock, never after one: handlers
//! register waiters only after releasing their shard locks, and re-check their keys right
//! after registering (a push that landed in between is then served at once). Removal of a
//! waiter (served, timed out, CLIENT UNBLOCK, disconnect) happens under the registry mutex, so
//! exactly one of those wins and a served reply is never lost.

use crate::ctx::{Client, Ctx};
use crate::server::Server;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tern_resp::ReplyWriter;
use tokio::sync::oneshot;

/// Tries to serve `w` from the ready key `key`: returns true if it popped, wrote the reply to
/// `cx.out` and propagated. `cx.args` are the waiter's original arguments.
pub type ServeFn = fn(cx: &mut Ctx, key: &[u8]) -> bool;

/// How a blocked wait ended (besides timing out on the waiter's side).
#[derive(Debug)]
pub enum Outcome {
    /// Served: the reply bytes, in the waiter's protocol.
    Served(Vec<u8>),
    /// CLIENT UNBLOCK: reply as on timeout (`error` false) or with -UNBLOCKED (`error` true).
    Unblocked { error: bool },
}

/// A blocked client.
pub struct Waiter {
    /// The client's id (CLIENT UNBLOCK).
    pub client_id: u64,
    /// The database the keys are in.
    pub db: usize,
    /// The keys waited on, in the command's order.
    pub keys: Vec<Vec<u8>>,
    /// The original arguments (for the serve function).
    pub args: Vec<Vec<u8>>,
    /// Pops for this waiter.
    pub serve: ServeFn,
    /// The waiter speaks RESP3.
    pub resp3: bool,
    tx: Mutex<Option<oneshot::Sender<Outcome>>>,
}

impl Waiter {
    fn closed(&self) -> bool {
        match &*self.tx.lock() {
            Some(tx) => tx.is_closed(),
            None => true,
        }
    }

    fn send(&self, o: Outcome) {
        if let Some(tx) = self.tx.lock().take() {
            let _ = tx.send(o);
        }
    }
}

/// What a connection holds while blocked.
pub struct BlockedWait {
    /// The outcome channel.
    pub rx: oneshot::Receiver<Outcome>,
    /// When to give up (milliseconds since the epoch); None waits forever.
    pub deadline_ms: Option<i64>,
    /// Writes the reply for a timeout (null array or null bulk, per command).
    pub timeout_reply: fn(&mut ReplyWriter),
}

#[derive(Default)]
struct Inner {
    by_key: HashMap<(usize, Vec<u8>), VecDeque<Arc<Waiter>>>,
    by_client: HashMap<u64, Arc<Waiter>>,
}

impl Inner {
    fn remove(&mut self, w: &Arc<Waiter>) {
        self.by_client.remove(&w.client_id);
        for k in &w.keys {
            let slot = (w.db, k.clone());
            if let Some(q) = self.by_key.get_mut(&slot) {
                q.retain(|x| !Arc::ptr_eq(x, w));
                if q.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
    }
}

/// The registry of blocked clients.
#[derive(Default)]
pub struct Blocking {
    inner: Mutex<Inner>,
    /// Number of blocked clients (INFO blocked_clients); zero means nothing to serve.
    count: AtomicUsize,
}

impl Blocking {
    /// True if any client is blocked.
    #[inline]
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Acquire) != 0
    }

    /// Number of blocked clients.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// True when no client is blocked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of distinct keys clients are blocked on (INFO blocked_keys... is 7.2; kept for
    /// tests and DEBUG).
    pub fn key_count(&self) -> usize {
        self.inner.lock().by_key.len()
    }

    /// Registers `cl` as blocked on `keys` and returns what the connection waits on. The
    /// caller must hold no shard lock, and must call [`Blocking::serve_keys`] for the keys
    /// right after (data may have arrived since it last looked).
    #[allow(clippy::too_many_arguments)]
    pub fn block(
        &self,
        cl: &Client,
        db: usize,
        keys: Vec<Vec<u8>>,
        args: Vec<Vec<u8>>,
        serve: ServeFn,
        resp3: bool,
        deadline_ms: Option<i64>,
        timeout_reply: fn(&mut ReplyWriter),
    ) -> BlockedWait {
        let (tx, rx) = oneshot::channel();
        let w = Arc::new(Waiter {
            client_id: cl.info.id,
            db,
            keys,
            args,
            serve,
            resp3,
            tx: Mutex::new(Some(tx)),
        });
        let mut g = self.inner.lock();
        for k in &w.keys {
            let q = g.by_key.entry((db, k.clone())).or_default();
            // BLPOP k k: wait once per key.
            if !q.iter().any(|x| Arc::ptr_eq(x, &w)) {
                q.push_back(w.clone());
            }
        }
        if let Some(old) = g.by_client.insert(w.client_id, w.clone()) {
            // Cannot happen (a client blocks once at a time); keep the registry consistent.
            g.remove(&old);
            g.by_client.insert(w.client_id, w.clone());
        } else {
            self.count.fetch_add(1, Ordering::AcqRel);
        }
        cl.info
            .flags
            .fetch_or(crate::clients::cflags::BLOCKED, Ordering::Relaxed);
        BlockedWait {
            rx,
            deadline_ms,
            timeout_reply,
        }
    }

    /// Removes client `id`'s waiter if it is still registered (timeout, disconnect). Returns
    /// false if it was already served or unblocked: its outcome is then in the channel.
    pub fn cancel(&self, id: u64) -> bool {
        let mut g = self.inner.lock();
        let Some(w) = g.by_client.get(&id).cloned() else {
            return false;
        };
        g.remove(&w);
        self.count.fetch_sub(1, Ordering::AcqRel);
        true
    }

    /// CLIENT UNBLOCK: ends client `id`'s wait. Returns false if it is not blocked.
    pub fn unblock(&self, id: u64, error: bool) -> bool {
        let mut g = self.inner.lock();
        let Some(w) = g.by_client.get(&id).cloned() else {
            return false;
        };
        g.remove(&w);
        self.count.fetch_sub(1, Ordering::AcqRel);
        w.send(Outcome::Unblocked { error });
        true
    }

    /// Serves the clients blocked on `keys` of `db` (and on any key that serving makes ready),
    /// first-blocked first. `cl` is the client whose command made the keys ready; its
    /// selected db is borrowed for the duration and restored.
    pub fn serve_keys(
        &self,
        srv: &Server,
        cl: &mut Client,
        db: usize,
        keys: &[&[u8]],
        now_ms: i64,
    ) {
        if !self.any() {
            cl.pending_ready.clear();
            return;
        }
        let mut ready: VecDeque<(usize, Vec<u8>)> = keys.iter().map(|k| (db, k.to_vec())).collect();
        // Keys the command signalled itself (MOVE's destination database).
        ready.extend(cl.pending_ready.drain(..));
        let saved_db = cl.db;
        let mut g = self.inner.lock();
        while let Some((db, key)) = ready.pop_front() {
            loop {
                let Some(w) = g
                    .by_key
                    .get(&(db, key.clone()))
                    .and_then(|q| q.front().cloned())
                else {
                    break;
                };
                if w.closed() {
                    // The client went away; its task cleans up too, but don't wait for it.
                    g.remove(&w);
                    self.count.fetch_sub(1, Ordering::AcqRel);
                    continue;
                }
                let mut out = ReplyWriter::new();
                if w.resp3 {
                    out.proto = tern_resp::Proto::Resp3;
                }
                let args: Vec<&[u8]> = w.args.iter().map(|a| a.as_slice()).collect();
                let Some(spec) = srv.table.get(args[0]) else {
                    break;
                };
                cl.db = w.db;
                let served = {
                    let mut cx = Ctx {
                        srv,
                        cl,
                        out: &mut out,
                        args: &args,
                        spec,
                        now_ms,
                    };
                    (w.serve)(&mut cx, &key)
                };
                // Keys the serve function pushed to (BLMOVE's destination) are ready too.
                for k in cl.pending_ready.drain(..) {
                    ready.push_back(k);
                }
                if !served {
                    break;
                }
                g.remove(&w);
                self.count.fetch_sub(1, Ordering::AcqRel);
                w.send(Outcome::Served(out.buf));
            }
        }
        cl.db = saved_db;
    }
}

/// Parses a blocking command's timeout (seconds, fractional allowed) into an absolute deadline
/// in ms (None = forever), with Redis 7.0's errors. Like Redis, the seconds are multiplied by
/// 1000 and converted to a 64-bit integer the way x86 does it, so anything out of range
/// (`inf`, `1e30`) becomes negative and is refused as "timeout is negative".
pub fn parse_timeout(arg: &[u8], now_ms: i64) -> Result<Option<i64>, crate::errors::CmdError> {
    let secs = crate::args::parse_float(arg).ok_or("ERR timeout is not a float or out of range")?;
    let ms = secs * 1000.0;
    let ms = if ms.is_finite() && ms > -9.223_372_036_854_775e18 && ms < 9.223_372_036_854_775e18 {
        ms as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err("ERR timeout is negative".into());
    }
    if ms == 0 {
        return Ok(None);
    }
    if ms > i64::MAX - now_ms {
        return Err("ERR timeout is out of range".into());
    }
    Ok(Some(now_ms + ms))
}

/// The timeout reply of every blocking command in Redis 7.0 (BLMOVE and BRPOPLPUSH included):
/// a null array (`*-1`, or `_` in RESP3).
pub fn null_array_reply(out: &mut ReplyWriter) {
    out.null_array();
}
