//! Replication, Redis's PSYNC2 protocol on both sides.
//!
//! - `primary.rs`: a connection that sent PSYNC (or SYNC) becomes a replica link: a full sync
//!   sends a point-in-time snapshot (diskless with `$EOF:` framing when the replica can take
//!   it, else by length), then the replication log's bytes from the snapshot's offset; a
//!   partial resync sends the log from the offset the replica asks for, if the backlog holds it.
//! - `replica.rs`: REPLICAOF starts a link to a primary (tern or Redis) that performs the
//!   handshake, loads a full sync aside and swaps it in, and applies the stream.
//! - `commands.rs`: REPLCONF PSYNC SYNC REPLICAOF SLAVEOF ROLE WAIT.
//!
//! Offsets are Redis's: the log's byte count (`master_repl_offset`); a replica asks for the
//! next byte it needs (offset + 1).

pub mod commands;
pub mod diskless;
pub mod failover;
pub mod primary;
pub mod replica;

use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;

/// Where a replica link is in its life (INFO's `state=`).
pub mod state {
    /// Waiting for a snapshot to start.
    pub const WAIT_BGSAVE: u8 = 0;
    /// Receiving the snapshot.
    pub const SEND_BULK: u8 = 1;
    /// Streaming.
    pub const ONLINE: u8 = 2;
}

/// One connected replica, as the primary sees it.
#[derive(Debug)]
pub struct ReplicaLink {
    /// The connection's client id.
    pub id: u64,
    /// The replica's IP address.
    pub ip: String,
    /// The port it listens on (REPLCONF listening-port).
    pub port: u16,
    /// `state::*`.
    pub state: AtomicU8,
    /// The last offset the replica acknowledged (REPLCONF ACK).
    pub ack_offset: AtomicU64,
    /// When that ACK arrived, Unix ms.
    pub ack_time_ms: AtomicI64,
    /// Set to close the link (this server's history changed).
    pub kill: AtomicBool,
}

/// The primary's view of its replicas, and the replica side's state.
#[derive(Default)]
pub struct Replication {
    /// Connected replicas.
    pub replicas: Mutex<Vec<Arc<ReplicaLink>>>,
    /// The previous replication id (after a promotion) and the offset up to which it is valid.
    pub replid2: RwLock<Option<(String, u64)>>,
    /// Full syncs served (INFO sync_full).
    pub sync_full: AtomicU64,
    /// Partial resyncs accepted.
    pub sync_partial_ok: AtomicU64,
    /// Partial resyncs refused.
    pub sync_partial_err: AtomicU64,
    /// When the primary last sent PING to its replicas, Unix ms.
    pub last_ping_ms: AtomicI64,
    /// The replica side: the link to our primary, if we are a replica.
    pub upstream: RwLock<Option<Arc<replica::Upstream>>>,
    /// True while this server is a replica (checked per write command).
    pub is_replica: AtomicBool,
    /// The last replica state number handed out (to tell links apart).
    pub generation: AtomicU64,
    /// Bytes the replicas' links hold that are not yet sent (INFO mem_clients_slaves).
    pub pending_bytes: AtomicU64,
    /// Reserved for WAIT's bookkeeping.
    pub _wait: AtomicU8,
    /// A writable replica: keys its own clients wrote (database, key), until its primary
    /// writes them. The cron expires them by their TTL; `replica-keep-local-keys` keeps the
    /// matching ones across a full sync.
    pub local_keys: Mutex<std::collections::HashSet<(usize, Vec<u8>)>>,
    /// `local_keys` is not empty (checked before taking its lock).
    pub has_local: AtomicBool,
    /// FAILOVER's progress (`failover::fstate`).
    pub failover_state: AtomicU8,
    /// FAILOVER ABORT was asked.
    pub failover_abort: AtomicBool,
    /// Since when a primary has had no replica, Unix ms (0: it has some); the cron frees the
    /// backlog after `repl-backlog-ttl` seconds of it.
    pub no_replicas_since_ms: AtomicI64,
    /// The diskless transfer still taking replicas (`repl-diskless-sync-delay`).
    pub diskless: Mutex<Option<diskless::Pending>>,
}

impl Replication {
    /// The replicas currently connected.
    pub fn links(&self) -> Vec<Arc<ReplicaLink>> {
        self.replicas.lock().clone()
    }

    /// Replicas that acknowledged `offset` or more.
    pub fn acked(&self, offset: u64) -> usize {
        self.replicas
            .lock()
            .iter()
            .filter(|r| r.ack_offset.load(Relaxed) >= offset)
            .count()
    }

    /// Records a write to `key` by a local client (`local`) or by the primary (which takes the
    /// key back).
    pub fn local_write(&self, db: usize, key: &[u8], local: bool) {
        if local {
            self.local_keys.lock().insert((db, key.to_vec()));
            self.has_local.store(true, Relaxed);
        } else if self.has_local.load(Relaxed) {
            let mut g = self.local_keys.lock();
            g.remove(&(db, key.to_vec()));
            self.has_local.store(!g.is_empty(), Relaxed);
        }
    }

    /// Online replicas whose last ACK is at most `max_lag` seconds old.
    pub fn good_replicas(&self, max_lag: u64) -> usize {
        let now = crate::server::now_ms();
        self.replicas
            .lock()
            .iter()
            .filter(|r| {
                r.state.load(Relaxed) == state::ONLINE
                    && now - r.ack_time_ms.load(Relaxed) <= max_lag as i64 * 1000
            })
            .count()
    }

    /// True while this server follows a primary.
    #[inline]
    pub fn is_replica(&self) -> bool {
        self.is_replica.load(Relaxed)
    }
}
