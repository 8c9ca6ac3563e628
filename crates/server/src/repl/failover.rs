//! FAILOVER: a coordinated switch of roles with one of our replicas, as Redis 7.0 does it.
//!
//! The primary pauses writes, waits until the target replica acknowledged everything
//! (`waiting-for-sync`), then becomes a replica of it and asks `PSYNC <replid> <offset+1>
//! FAILOVER` (`failover-in-progress`): the target, seeing its own primary's id, promotes itself
//! (keeping the old id as `replid2`) and answers `+CONTINUE`, so no data moves. Writes resume
//! (and are refused with READONLY, since this server is now a replica). A timeout without FORCE,
//! or FAILOVER ABORT while waiting, undoes the pause.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use crate::server::{now_ms, Server};

/// `master_failover_state` values.
pub mod fstate {
    /// No failover.
    pub const NONE: u8 = 0;
    /// Writes paused, waiting for the target to catch up.
    pub const WAITING: u8 = 1;
    /// Switching roles with the target.
    pub const IN_PROGRESS: u8 = 2;
}

/// INFO's name for a state.
pub fn state_name(s: u8) -> &'static str {
    match s {
        fstate::WAITING => "waiting-for-sync",
        fstate::IN_PROGRESS => "failover-in-progress",
        _ => "no-failover",
    }
}

/// What FAILOVER asked for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The replica to hand over to (ip, port); None: the first that catches up.
    pub to: Option<(String, u16)>,
    /// Go ahead even if the target did not catch up by the timeout.
    pub force: bool,
    /// Milliseconds to wait for the target (0: no limit).
    pub timeout_ms: u64,
}

fn unpause(srv: &Server) {
    srv.pause.until_ms.store(0, Relaxed);
    srv.pause.all.store(false, Relaxed);
    srv.pause.unpaused.notify_waiters();
}

/// Starts the failover in the background (the command has checked the request).
pub fn start(srv: &Server, req: Request) {
    srv.repl.failover_state.store(fstate::WAITING, Relaxed);
    srv.repl.failover_abort.store(false, Relaxed);
    // Writes wait (as CLIENT PAUSE WRITE) until the roles have switched or the attempt ended.
    srv.pause.all.store(false, Relaxed);
    srv.pause.until_ms.store(i64::MAX / 2, Relaxed);
    let Some(arc) = srv.saver.server() else {
        return;
    };
    let task = run(arc, req);
    match srv.worker_handles.lock().first().cloned() {
        Some(h) => {
            h.spawn(task);
        }
        None => {
            std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(task);
                }
            });
        }
    }
}

async fn run(srv: Arc<Server>, req: Request) {
    let started = now_ms();
    let target = loop {
        let offset = srv.log.offset();
        // (A consumer such as `tern tail` listens on no port: never a target.)
        let caught_up = srv.repl.links().into_iter().find(|l| {
            l.port != 0
                && l.ack_offset.load(Relaxed) >= offset
                && req
                    .to
                    .as_ref()
                    .is_none_or(|(h, p)| *h == l.ip && *p == l.port)
        });
        if let Some(l) = caught_up {
            break Some((l.ip.clone(), l.port));
        }
        if srv.repl.failover_abort.load(Relaxed) {
            break None;
        }
        if req.timeout_ms > 0 && now_ms() - started >= req.timeout_ms as i64 {
            if req.force {
                break req.to.clone();
            }
            tracing::warn!("FAILOVER to the replica timed out: aborting");
            break None;
        }
        // Ask the replicas for their offset now rather than at their next ACK.
        srv.log.append_nodb(&[b"REPLCONF", b"GETACK", b"*"]);
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let Some((host, port)) = target else {
        srv.repl.failover_state.store(fstate::NONE, Relaxed);
        unpause(&srv);
        return;
    };
    tracing::info!("FAILOVER: switching roles with {host}:{port}");
    srv.repl.failover_state.store(fstate::IN_PROGRESS, Relaxed);
    super::replica::follow_with(&srv, host, port, true);
    // The link's PSYNC ... FAILOVER promotes the target; once we stream from it, we are done.
    let deadline = now_ms() + 10_000;
    while !super::replica::link_up(&srv) && now_ms() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    srv.repl.failover_state.store(fstate::NONE, Relaxed);
    unpause(&srv);
}
