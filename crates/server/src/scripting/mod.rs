//! Lua scripting (Redis's eval.c and script_lua.c): the script cache, the busy-script state,
//! where scripts run, and running one script atomically.
//!
//! Where a script runs:
//! - Normally on the worker thread that received it, between turns of its event loop
//!   ([`drive_worker`]): the EVAL handler validates its arguments, queues a [`Job`] on the
//!   worker and leaves a [`crate::blocking::BlockedWait`] on the client; when the turn's tasks
//!   have run, the worker runs the queued scripts outside its runtime, and the replies come
//!   back as `Outcome::Served` in the next turn. A script past `busy-reply-threshold` lets the
//!   worker's other connections in from the Lua hook ([`on_hook`]), as Redis serves events
//!   while a script is busy.
//! - Inline, on the calling thread, inside EXEC (EXEC already holds every shard on this
//!   thread), for clients that replay a stream (a primary's, the AOF: a script from an old
//!   primary or AOF runs in its place in the stream), off the workers, and under the testkit
//!   ([`Scripts::inline`]).
//!
//! Atomicity: a script runs with every shard held ([`tern_keyspace::Keyspace::hold_all`]), so
//! `redis.call` runs commands through [`crate::dispatch::execute`] with a script client whose
//! `lock_key` calls get the held shards, and scripts of different threads take turns
//! ([`Scripts::exec`]). The script client has `in_exec` set, so its writes are logged as a
//! transaction's (script *effects* are propagated, never the script; two or more wrapped in
//! MULTI/EXEC) and blocking commands return at once.
//!
//! Busy scripts: [`Busy::since_ms`] says a script is running. Dispatch makes commands from
//! other clients wait (without blocking their worker thread) until the script ends or
//! `busy-reply-threshold` passes, after which they get BUSY; SCRIPT KILL sets [`Busy::kill`],
//! which the Lua instruction-count hook turns into an error, unless the script already wrote.

mod call;
mod cjson;
mod convert;
mod engine;
pub mod functions;
mod libs;
#[cfg(test)]
mod tests;

pub use engine::compile_check;

use crate::blocking::{BlockedWait, Outcome};
use crate::server::{now_ms, Server};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;
use tern_resp::ReplyWriter;

/// Redis 7.0's reply for EVALSHA of an unknown script.
pub const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";
/// Redis 7.0's reply to commands refused while a script (EVAL) is busy.
pub const BUSY: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// Redis 7.0's reply to commands refused while a function (FCALL) is busy.
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// The busy-script state, shared with the Lua hook.
#[derive(Default)]
pub struct Busy {
    /// Unix ms when the running script started; 0 when none runs.
    pub since_ms: AtomicI64,
    /// Set by SCRIPT KILL; the instruction-count hook aborts the script when it sees it.
    pub kill: AtomicBool,
    /// The running script has called a write command (it can no longer be killed).
    pub wrote: AtomicBool,
    /// Woken when a script ends, for the commands waiting on it.
    pub done: tokio::sync::Notify,
    /// The running script is a function (FCALL), not EVAL.
    pub function: AtomicBool,
    /// The running function's name and command, for FUNCTION STATS.
    pub current: Mutex<Option<(String, Vec<Vec<u8>>)>>,
}

impl Busy {
    /// No script runs any more: clears the state and wakes the commands waiting on it.
    fn end(&self) {
        // Only a function sets `current` (FUNCTION STATS); EVAL's end skips the lock.
        if self.function.load(Ordering::Acquire) {
            *self.current.lock() = None;
        }
        self.since_ms.store(0, Ordering::Release);
        self.done.notify_waiters();
    }
}

/// One script to run, with everything the thread that runs it needs.
pub struct Job {
    /// The server (kept alive for the duration of the job).
    pub srv: Arc<Server>,
    /// The script's SHA1 (lowercase hex), or the function's name as registered: errors name it.
    pub name: String,
    /// The script's body (empty for a function).
    pub body: Arc<[u8]>,
    /// FCALL / FCALL_RO: the command as sent (FUNCTION STATS shows it); None for EVAL.
    pub fcall: Option<Vec<Vec<u8>>>,
    /// KEYS and ARGV.
    pub args: Args,
    /// The caller's selected database.
    pub db: usize,
    /// The caller speaks RESP3 (the reply is written in its protocol).
    pub resp3: bool,
    /// EVAL_RO / EVALSHA_RO, FCALL_RO, or a `no-writes` function: write commands are refused.
    pub readonly: bool,
    /// The time the script runs at (commands inside see a frozen clock, as in Redis).
    pub now_ms: i64,
    /// The caller's user: `redis.call` checks its permissions (None: no check needed).
    pub user: Option<Arc<crate::acl::User>>,
    /// The caller (its CLIENT LIST line goes into ACL LOG entries) and the id of the command
    /// that started the script.
    pub caller: Option<(Arc<crate::clients::ClientInfo>, usize)>,
}

/// A script's KEYS and ARGV, copied into one buffer (one allocation, not one per argument).
#[derive(Default)]
pub struct Args {
    buf: Vec<u8>,
    /// Where each argument ends in `buf`.
    ends: smallvec::SmallVec<[usize; 8]>,
    nkeys: usize,
}

impl Args {
    /// Copies the keys and the other arguments.
    pub fn new(keys: &[&[u8]], argv: &[&[u8]]) -> Args {
        let all = || keys.iter().chain(argv);
        let mut buf = Vec::with_capacity(all().map(|a| a.len()).sum());
        let ends = all()
            .map(|a| {
                buf.extend_from_slice(a);
                buf.len()
            })
            .collect();
        Args {
            buf,
            ends,
            nkeys: keys.len(),
        }
    }

    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    /// KEYS (`keys`) or ARGV.
    pub fn part(&self, keys: bool) -> impl ExactSizeIterator<Item = &[u8]> {
        let range = if keys {
            0..self.nkeys
        } else {
            self.nkeys..self.ends.len()
        };
        range.map(|i| self.get(i))
    }
}

/// Scripting state shared by every connection (`Server::scripts`).
#[derive(Default)]
pub struct Scripts {
    /// Every script loaded by EVAL or SCRIPT LOAD: SHA1 (lowercase hex) -> body.
    cache: Mutex<HashMap<String, Arc<[u8]>, foldhash::fast::RandomState>>,
    /// Bumped by SCRIPT FLUSH; engines drop their compiled functions when it changes.
    pub epoch: AtomicU64,
    /// The running script, if any.
    pub busy: Arc<Busy>,
    /// Run scripts on the calling thread (the testkit, which runs commands synchronously).
    pub inline: AtomicBool,
    /// Held while a script runs outside EXEC, so scripts of different threads run one at a
    /// time. Taken before the shards; EXEC, which holds the shards already, runs its scripts
    /// without it.
    exec: Mutex<()>,
    /// The server itself, so a job can hold on to it.
    me: OnceLock<Weak<Server>>,
    /// The loaded function libraries (FUNCTION LOAD).
    pub functions: functions::Functions,
}

impl Scripts {
    /// Records the server that owns this state (called once by `Server::new`).
    pub fn set_server(&self, me: Weak<Server>) {
        let _ = self.me.set(me);
    }

    /// The body of a cached script.
    pub fn get(&self, sha: &str) -> Option<Arc<[u8]>> {
        self.cache.lock().get(sha).cloned()
    }

    /// Adds a script to the cache; returns its SHA1.
    pub fn insert(&self, body: &[u8]) -> String {
        let sha = sha1hex(body);
        self.cache
            .lock()
            .entry(sha.clone())
            .or_insert_with(|| Arc::from(body));
        sha
    }

    /// True if the script is cached.
    pub fn exists(&self, sha: &str) -> bool {
        self.cache.lock().contains_key(sha)
    }

    /// The number of cached scripts.
    pub fn len(&self) -> usize {
        self.cache.lock().len()
    }

    /// True when no script is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// SCRIPT FLUSH: forgets every script.
    pub fn flush(&self) {
        self.cache.lock().clear();
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// True while a script runs.
    #[inline]
    pub fn running(&self) -> bool {
        self.busy.since_ms.load(Ordering::Acquire) != 0
    }

    /// Queues `job` on this worker thread (see [`drive_worker`]) and returns what the caller's
    /// connection waits on; gives the job back off the workers.
    pub fn submit(&self, job: Job) -> Result<BlockedWait, Box<Job>> {
        WORKER.with(|w| match &mut *w.borrow_mut() {
            Some(local) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                local.jobs.push((job, tx));
                if let Some(waker) = local.waker.take() {
                    waker.wake();
                }
                Ok(BlockedWait {
                    rx,
                    deadline_ms: None,
                    timeout_reply: |out| out.null(),
                })
            }
            None => Err(Box::new(job)),
        })
    }

    /// A strong reference to the server, for a job.
    pub fn server(&self) -> Option<Arc<Server>> {
        self.me.get().and_then(|w| w.upgrade())
    }
}

/// A job and where its reply goes.
type Queued = (Job, tokio::sync::oneshot::Sender<Outcome>);

/// A reply and where it goes.
type Done = (tokio::sync::oneshot::Sender<Outcome>, Vec<u8>);

thread_local! {
    /// The engine for scripts run inline on this thread, with the address of its server.
    static INLINE: std::cell::RefCell<Option<(usize, Box<engine::Engine>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs a script on the calling thread and returns the reply bytes. `tx_log` is the caller's
/// when it runs inside EXEC (the script's writes join the EXEC's); otherwise the script waits
/// for its turn ([`Scripts::exec`]).
pub fn run_inline(srv: &Server, job: &Job, tx_log: Option<&mut crate::log::TxLog>) -> Vec<u8> {
    let _turn = tx_log.is_none().then(|| srv.scripts.exec.lock());
    run_here(srv, job, tx_log)
}

/// Runs a script with this thread's engine (the caller has its turn, or is inside EXEC).
fn run_here(srv: &Server, job: &Job, tx_log: Option<&mut crate::log::TxLog>) -> Vec<u8> {
    INLINE.with(|cell| {
        // Take the engine out while it runs: a script never runs another script, but a
        // RefCell borrow across Lua callbacks is easier to reason about this way.
        let mut slot = cell.borrow_mut().take();
        let key = srv as *const Server as usize;
        let mut e = match slot.take() {
            Some((k, e)) if k == key => e,
            _ => Box::new(engine::Engine::new(srv)),
        };
        let bytes = run(srv, &mut e, job, tx_log);
        *cell.borrow_mut() = Some((key, e));
        bytes
    })
}

/// A worker thread's scripts: queued by its connections during a turn of its event loop and
/// run by [`drive_worker`] between turns.
struct Local {
    /// The worker's runtime (alive for as long as `drive_worker` runs).
    rt: *const tokio::runtime::Runtime,
    /// Scripts submitted since the last batch ran.
    jobs: Vec<Queued>,
    /// Replies to hand over at the start of the next turn.
    done: Vec<Done>,
    /// Wakes `drive_worker`'s wait for jobs.
    waker: Option<std::task::Waker>,
    /// Another thread's script held [`Scripts::exec`]: the jobs wait until it ends.
    retrying: bool,
    /// The server whose script runs now, outside the event loop (the hook serves the loop from
    /// it once the script is busy).
    running: Option<Arc<Server>>,
}

thread_local! {
    /// Set while this thread is a worker in [`drive_worker`].
    static WORKER: std::cell::RefCell<Option<Local>> = const { std::cell::RefCell::new(None) };
}

/// Runs a worker thread's event loop until `until` completes, and the scripts its connections
/// submit between turns of that loop.
///
/// A script runs on the worker that received it, with no hand-off to another thread (each
/// hand-off costs two context switches, on one core when the server is pinned): its
/// connection queues it and waits like a blocked client; when the turn's tasks have run,
/// `block_on` returns and the queued scripts run here, outside the runtime, one after the
/// other; their replies are handed over when the next turn starts. Running outside the
/// runtime is what lets a long script keep this worker's other connections served: past
/// `busy-reply-threshold` the Lua hook drives the runtime for a turn every time it fires (see
/// [`on_hook`]), so they get BUSY and can SCRIPT KILL, as Redis serves events from its hook.
pub fn drive_worker(rt: &tokio::runtime::Runtime, until: impl std::future::Future<Output = ()>) {
    WORKER.with(|w| {
        *w.borrow_mut() = Some(Local {
            rt,
            jobs: Vec::new(),
            done: Vec::new(),
            waker: None,
            retrying: false,
            running: None,
        })
    });
    let mut until = std::pin::pin!(until);
    loop {
        let finished = rt.block_on(std::future::poll_fn(|cx| {
            hand_over();
            if until.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(true);
            }
            WORKER.with(|w| {
                let mut w = w.borrow_mut();
                let local = w.as_mut().expect("a worker");
                if !local.jobs.is_empty() && !local.retrying {
                    std::task::Poll::Ready(false)
                } else {
                    local.waker = Some(cx.waker().clone());
                    std::task::Poll::Pending
                }
            })
        }));
        if finished {
            break;
        }
        run_local_jobs(rt);
    }
    rt.block_on(async { hand_over() });
    WORKER.with(|w| *w.borrow_mut() = None);
}

/// Hands the worker's finished scripts' replies to their connections (on the worker's
/// runtime, where waking a task is a push onto its run queue).
fn hand_over() {
    let done = WORKER.with(|w| {
        w.borrow_mut()
            .as_mut()
            .map(|l| std::mem::take(&mut l.done))
            .unwrap_or_default()
    });
    for (tx, bytes) in done {
        let _ = tx.send(Outcome::Served(bytes));
    }
}

/// Runs the worker's queued scripts in order. When another thread's script runs, the rest
/// wait, without blocking the worker, until it ends.
fn run_local_jobs(rt: &tokio::runtime::Runtime) {
    let jobs =
        WORKER.with(|w| std::mem::take(&mut w.borrow_mut().as_mut().expect("a worker").jobs));
    let mut jobs = jobs.into_iter();
    while let Some((job, tx)) = jobs.next() {
        let srv = job.srv.clone();
        let Some(one) = srv.scripts.exec.try_lock() else {
            WORKER.with(|w| {
                let mut w = w.borrow_mut();
                let local = w.as_mut().expect("a worker");
                let later = std::mem::take(&mut local.jobs);
                local.jobs = std::iter::once((job, tx))
                    .chain(jobs)
                    .chain(later)
                    .collect();
                local.retrying = true;
            });
            rt.spawn(async move {
                wait_not_busy(&srv).await;
                tokio::task::yield_now().await;
                WORKER.with(|w| {
                    if let Some(local) = w.borrow_mut().as_mut() {
                        local.retrying = false;
                        if let Some(waker) = local.waker.take() {
                            waker.wake();
                        }
                    }
                });
            });
            return;
        };
        WORKER.with(|w| w.borrow_mut().as_mut().expect("a worker").running = Some(srv.clone()));
        // A panic (a bug) must not take the worker, and its connections, with it: the caller
        // gets an error, the thread's engine is made again on the next script, and the busy
        // state is cleared (the shards were released by the unwinding).
        let bytes =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_here(&srv, &job, None)))
                .unwrap_or_else(|_| {
                    srv.scripts.busy.end();
                    let mut out = ReplyWriter::new();
                    out.error(call::INTERNAL_ERROR);
                    out.buf
                });
        drop(one);
        WORKER.with(|w| {
            let mut w = w.borrow_mut();
            let local = w.as_mut().expect("a worker");
            local.running = None;
            local.done.push((tx, bytes));
        });
    }
}

/// Called by the Lua hook (every [`engine::HOOK_EVERY`] instructions) of a running script. On
/// a worker, once the script has run past `busy-reply-threshold`, runs one turn of the worker's
/// event loop, so that its other connections get BUSY and can stop the script with SCRIPT
/// KILL. The script is paused here, and the commands that run meanwhile are those allowed
/// while a script is busy (SCRIPT KILL, AUTH, MULTI, WATCH, ...): WATCH, the one that looks a
/// key up, finds this thread's held shards as the script's own commands do, one at a time.
fn on_hook() {
    let rt = WORKER.with(|w| {
        let w = w.borrow();
        let local = w.as_ref()?;
        let srv = local.running.as_ref()?;
        matches!(busy_check(srv), BusyCheck::Reply).then_some(local.rt)
    });
    if let Some(rt) = rt {
        // SAFETY: `drive_worker` set this pointer from the runtime it borrows, and runs the
        // script we are called from, so the runtime is alive; this thread is outside the
        // runtime (`block_on` returned before the script started), so entering it is allowed.
        let rt = unsafe { &*rt };
        rt.block_on(async {
            hand_over();
            tokio::task::yield_now().await;
        });
    }
}

/// Runs one script atomically: marks the server busy, holds every shard (unless this thread
/// already does, inside EXEC), runs the script, logs its writes (several wrapped in
/// MULTI/EXEC), serves clients blocked on keys it filled, and clears the busy state.
fn run(
    srv: &Server,
    e: &mut engine::Engine,
    job: &Job,
    mut tx_log: Option<&mut crate::log::TxLog>,
) -> Vec<u8> {
    let busy = &srv.scripts.busy;
    // Mark busy before taking the hold, so new commands back off instead of queueing on the
    // shard locks behind the script.
    busy.since_ms.store(now_ms().max(1), Ordering::Release);
    let hold = if srv.keyspace.held_here() {
        None
    } else {
        Some(srv.keyspace.hold_all())
    };
    // The busy state is this script's from here: a script run by an EXEC (which holds the
    // shards without taking turns) may have set and cleared it while we waited for the hold.
    busy.kill.store(false, Ordering::Release);
    busy.wrote.store(false, Ordering::Release);
    busy.function.store(job.fcall.is_some(), Ordering::Release);
    if let Some(cmd) = &job.fcall {
        *busy.current.lock() = Some((job.name.clone(), cmd.clone()));
    }
    busy.since_ms.store(now_ms().max(1), Ordering::Release);
    let nested = tx_log.is_some();
    e.cl.db = job.db;
    e.cl.in_exec = true;
    if let Some(outer) = tx_log.as_deref_mut() {
        std::mem::swap(outer, &mut e.cl.tx_log);
    }
    let mut out = ReplyWriter::new();
    if job.resp3 {
        out.proto = tern_resp::Proto::Resp3;
    }
    e.run(srv, job, &mut out);
    match tx_log {
        Some(outer) => std::mem::swap(outer, &mut e.cl.tx_log),
        None => {
            e.cl.tx_log.end(&srv.log, e.cl.db);
        }
    }
    e.cl.in_exec = false;
    drop(hold);
    busy.end();
    // Clients blocked on keys the script filled are served now (or after the enclosing EXEC).
    if !e.cl.pending_ready.is_empty() && !nested {
        let db = e.cl.db;
        srv.blocking.serve_keys(srv, &mut e.cl, db, &[], job.now_ms);
    }
    out.buf
}

/// What dispatch must do with a command from another client while a script may be running.
pub enum BusyCheck {
    /// No script runs: go on.
    Free,
    /// A script runs and the threshold has not passed: wait and retry.
    Wait,
    /// A script has run longer than `busy-reply-threshold`: reply BUSY.
    Reply,
}

/// Checks the busy state for a command without the ALLOW_BUSY flag.
#[inline]
pub fn busy_check(srv: &Server) -> BusyCheck {
    let since = srv.scripts.busy.since_ms.load(Ordering::Acquire);
    if since == 0 {
        return BusyCheck::Free;
    }
    let threshold = srv.config.read().busy_reply_threshold() as i64;
    if now_ms() - since >= threshold {
        BusyCheck::Reply
    } else {
        BusyCheck::Wait
    }
}

/// The BUSY error for the running script: it names SCRIPT KILL or FUNCTION KILL.
pub fn busy_error(srv: &Server) -> &'static str {
    if srv.scripts.busy.function.load(Ordering::Acquire) {
        BUSY_FUNCTION
    } else {
        BUSY
    }
}

/// SCRIPT KILL (`eval`) and FUNCTION KILL (`!eval`): stops the running script unless it
/// already wrote, or is of the other kind (Redis's `scriptKill`).
pub fn kill(srv: &Server, eval: bool) -> Result<(), &'static str> {
    let busy = &srv.scripts.busy;
    if busy.since_ms.load(Ordering::Acquire) == 0 {
        return Err("NOTBUSY No scripts in execution right now.");
    }
    if busy.wrote.load(Ordering::Acquire) {
        return Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
    }
    let function = busy.function.load(Ordering::Acquire);
    if eval && function {
        return Err(BUSY_FUNCTION);
    }
    if !eval && !function {
        return Err(BUSY);
    }
    busy.kill.store(true, Ordering::Release);
    Ok(())
}

/// Waits (asynchronously) until the running script ends or a short while passes, so a command
/// that found the server busy can be retried (and get BUSY once past the threshold).
pub async fn wait_not_busy(srv: &Server) {
    let busy = &srv.scripts.busy;
    let notified = busy.done.notified();
    if busy.since_ms.load(Ordering::Acquire) == 0 {
        return;
    }
    tokio::select! {
        _ = notified => {}
        _ = tokio::time::sleep(Duration::from_millis(5)) => {}
    }
}

/// SHA1 of `body` as 40 lowercase hex characters (redis.sha1hex, script ids).
pub fn sha1hex(body: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(body))
}
