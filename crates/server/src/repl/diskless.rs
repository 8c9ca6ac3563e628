//! One diskless transfer for several replicas: `repl-diskless-sync-delay` and
//! `repl-diskless-sync-max-replicas`.
//!
//! A replica that needs a diskless full sync takes a seat in the pending transfer, or opens
//! one. The transfer's thread waits until the oldest seat has waited `repl-diskless-sync-delay`
//! seconds (or `repl-diskless-sync-max-replicas` seats are taken), closes the group, begins
//! one point-in-time snapshot, tells every seat its replication id and offset, and writes the
//! RDB once: each chunk goes to every seat still listening (a `Bytes` shared by all). Replicas
//! arriving after the group closed wait for the next transfer. This is why Redis has the
//! delay (one RDB for the replicas that arrive together, say after a primary restart), and
//! here it saves as much: a snapshot walks the whole keyspace once per transfer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};

use crate::server::Server;

/// Chunks queued per seat before the writer waits for that replica's socket.
const SEAT_QUEUE: usize = 16;

/// Where a replica's transfer stands, as its connection task sees it.
pub struct Seat {
    /// The snapshot's replication id and offset, once the transfer begins (dropped if it
    /// could not begin).
    pub start: oneshot::Receiver<(String, u64)>,
    /// The RDB's bytes, then an empty chunk when it is complete; closed without the empty
    /// chunk when the transfer failed.
    pub rdb: mpsc::Receiver<Bytes>,
}

/// A seat's two ends on the transfer's side: where the start goes, where the RDB goes.
type SeatEnds = (oneshot::Sender<(String, u64)>, mpsc::Sender<Bytes>);

/// The transfer that is still taking seats.
pub struct Pending {
    opened: Instant,
    seats: Vec<SeatEnds>,
}

/// Takes a seat in the pending transfer, opening one (and starting its thread) if none is.
pub fn join(srv: &Arc<Server>) -> std::io::Result<Seat> {
    let (start_tx, start) = oneshot::channel();
    let (rdb_tx, rdb) = mpsc::channel(SEAT_QUEUE);
    let mut g = srv.repl.diskless.lock();
    let opened = g.is_none();
    g.get_or_insert_with(|| Pending {
        opened: Instant::now(),
        seats: Vec::new(),
    })
    .seats
    .push((start_tx, rdb_tx));
    drop(g);
    if opened {
        let s = srv.clone();
        std::thread::Builder::new()
            .name("tern-replsync".into())
            .spawn(move || run(&s))?;
    }
    Ok(Seat { start, rdb })
}

/// The transfer's thread: waits for the delay, then snapshots once for every seat.
fn run(srv: &Arc<Server>) {
    let slot: &Mutex<Option<Pending>> = &srv.repl.diskless;
    let group = loop {
        let (delay, max) = {
            let c = srv.config.read();
            (
                c.get_u64("repl-diskless-sync-delay").unwrap_or(5),
                c.get_u64("repl-diskless-sync-max-replicas").unwrap_or(0) as usize,
            )
        };
        {
            let mut g = slot.lock();
            let p = g.as_mut().expect("a pending transfer has a thread");
            // Seats whose replica went away while waiting are given back.
            p.seats.retain(|(start, _)| !start.is_closed());
            if p.seats.is_empty() {
                *g = None;
                return;
            }
            let full = max > 0 && p.seats.len() >= max;
            if full || p.opened.elapsed() >= Duration::from_secs(delay) {
                break g.take().expect("checked above");
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // One snapshot at a time: wait for a running save (the seats' tasks keep their replicas
    // alive with newlines meanwhile).
    let snap = loop {
        if group.seats.iter().all(|(start, _)| start.is_closed()) {
            return;
        }
        match crate::snapshot::begin_for_replica(srv) {
            Ok(s) => break s,
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    tracing::info!(
        replicas = group.seats.len(),
        offset = snap.offset(),
        "Starting a diskless transfer for SYNC"
    );
    let start = (snap.replid().to_string(), snap.offset());
    let mut outs = Vec::with_capacity(group.seats.len());
    for (tx, rdb) in group.seats {
        if tx.send(start.clone()).is_ok() {
            outs.push(rdb);
        }
    }
    let outs = Arc::new(Mutex::new(outs));
    match snap.run_to(srv, Box::new(FanOut(outs.clone()))) {
        // An empty chunk says the RDB is complete (a closed channel says it failed).
        Ok(()) => {
            for tx in outs.lock().drain(..) {
                let _ = tx.blocking_send(Bytes::new());
            }
        }
        Err(e) => tracing::warn!("Diskless sync to replicas failed: {e}"),
    }
}

/// Writes each chunk to every replica still listening; fails when none is.
struct FanOut(Arc<Mutex<Vec<mpsc::Sender<Bytes>>>>);

impl std::io::Write for FanOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let chunk = Bytes::copy_from_slice(buf);
        let mut outs = self.0.lock();
        outs.retain(|tx| tx.blocking_send(chunk.clone()).is_ok());
        if outs.is_empty() {
            return Err(std::io::Error::other("every replica went away"));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
