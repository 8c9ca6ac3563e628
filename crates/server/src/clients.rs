//! The registry of connected clients (CLIENT LIST / KILL / INFO, INFO clients) and the
//! CLIENT PAUSE state.
//!
//! Each connection owns its state privately and publishes a [`ClientInfo`] here, whose fields
//! other connections may read (CLIENT LIST) or act on (CLIENT KILL). The connection updates the
//! published fields once per batch of commands, never per byte.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed,
};
use std::sync::Arc;
use std::time::Instant;

/// Client flag bits shown in CLIENT LIST's `flags=`.
pub mod cflags {
    /// MONITOR client.
    pub const MONITOR: u32 = 1 << 0;
    /// Closes after the current reply (QUIT, protocol error).
    pub const CLOSE_AFTER_REPLY: u32 = 1 << 1;
    /// Inside MULTI.
    pub const MULTI: u32 = 1 << 2;
    /// Subscribed to channels.
    pub const PUBSUB: u32 = 1 << 3;
    /// Blocked.
    pub const BLOCKED: u32 = 1 << 4;
    /// CLIENT NO-EVICT on.
    pub const NO_EVICT: u32 = 1 << 5;
    /// CLIENT NO-TOUCH on.
    pub const NO_TOUCH: u32 = 1 << 6;
    /// A replica's link (CLIENT LIST flag `S`).
    pub const REPLICA: u32 = 1 << 7;
    /// Our primary's link, on a replica (flag `M`).
    pub const MASTER: u32 = 1 << 8;
}

/// What other connections can see of a client.
#[derive(Debug)]
pub struct ClientInfo {
    /// Unique id (CLIENT ID).
    pub id: u64,
    /// Peer address.
    pub addr: String,
    /// Local address.
    pub laddr: String,
    /// Socket file descriptor.
    pub fd: i32,
    /// When the connection was accepted.
    pub created: Instant,
    /// Milliseconds since `created` of the last command.
    pub last_interaction_ms: AtomicU64,
    /// CLIENT SETNAME.
    pub name: Mutex<Vec<u8>>,
    /// CLIENT SETINFO lib-name.
    pub lib_name: Mutex<Vec<u8>>,
    /// CLIENT SETINFO lib-ver.
    pub lib_ver: Mutex<Vec<u8>>,
    /// The selected database.
    pub db: AtomicUsize,
    /// `cflags` bits.
    pub flags: AtomicU32,
    /// Protocol version (2 or 3).
    pub resp: AtomicU8,
    /// The last command's id in the command table.
    pub last_cmd: AtomicUsize,
    /// Query buffer length.
    pub qbuf: AtomicUsize,
    /// Pending output bytes.
    pub omem: AtomicUsize,
    /// Set by CLIENT KILL; the connection closes when it sees it.
    pub killed: AtomicBool,
    /// Number of channel subscriptions.
    pub sub: AtomicI64,
    /// Number of pattern subscriptions.
    pub psub: AtomicI64,
    /// Number of shard channel subscriptions.
    pub ssub: AtomicI64,
    /// True for a normal client connection (CLIENT KILL TYPE normal).
    pub authenticated: AtomicBool,
    /// The name of the user the client is authenticated as (CLIENT LIST `user=`).
    pub user: Mutex<Vec<u8>>,
}

impl ClientInfo {
    /// A client record that belongs to no registry (unit tests).
    #[cfg(test)]
    pub fn for_tests(id: u64) -> ClientInfo {
        let c = Clients::default();
        let info = c.register("test".into(), "test".into(), -1);
        drop(c);
        let mut info = Arc::try_unwrap(info).unwrap_or_else(|_| unreachable!("no other owner"));
        info.id = id;
        info
    }

    /// Idle seconds.
    pub fn idle_secs(&self) -> u64 {
        let now = self.created.elapsed().as_millis() as u64;
        now.saturating_sub(self.last_interaction_ms.load(Relaxed)) / 1000
    }

    /// Marks the client killed and wakes its connection by shutting the socket down.
    fn kill(&self) {
        self.killed.store(true, Relaxed);
        // SAFETY-free: shutdown on an fd we know is open, because the connection removes
        // itself from the registry (under the registry lock we hold) before closing the fd.
        unsafe {
            libc::shutdown(self.fd, libc::SHUT_RDWR);
        }
    }
}

/// All connected clients.
#[derive(Default)]
pub struct Clients {
    map: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    next_id: AtomicU64,
}

impl Clients {
    /// Registers a new connection and returns its published info.
    pub fn register(&self, addr: String, laddr: String, fd: i32) -> Arc<ClientInfo> {
        let id = self.next_id.fetch_add(1, Relaxed) + 1;
        let info = Arc::new(ClientInfo {
            id,
            addr,
            laddr,
            fd,
            created: Instant::now(),
            last_interaction_ms: AtomicU64::new(0),
            name: Mutex::new(Vec::new()),
            lib_name: Mutex::new(Vec::new()),
            lib_ver: Mutex::new(Vec::new()),
            db: AtomicUsize::new(0),
            flags: AtomicU32::new(0),
            resp: AtomicU8::new(2),
            last_cmd: AtomicUsize::new(usize::MAX),
            qbuf: AtomicUsize::new(0),
            omem: AtomicUsize::new(0),
            killed: AtomicBool::new(false),
            sub: AtomicI64::new(0),
            psub: AtomicI64::new(0),
            ssub: AtomicI64::new(0),
            authenticated: AtomicBool::new(false),
            user: Mutex::new(b"default".to_vec()),
        });
        self.map.lock().insert(id, info.clone());
        info
    }

    /// A fresh id for a client that is not a connection (a test harness).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Relaxed) + 1
    }

    /// Removes a client; must be called before its socket is closed.
    pub fn unregister(&self, id: u64) {
        self.map.lock().remove(&id);
    }

    /// The client with this id, if connected.
    pub fn find(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.map.lock().get(&id).cloned()
    }

    /// The number of connected clients.
    pub fn len(&self) -> usize {
        self.map.lock().len()
    }

    /// True when no client is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of all clients, ordered by id (killed ones, on their way out, left out).
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.map
            .lock()
            .values()
            .filter(|c| !c.killed.load(Relaxed))
            .cloned()
            .collect()
    }

    /// Kills the clients `pick` selects; returns how many.
    pub fn kill_where(&self, pick: impl Fn(&ClientInfo) -> bool) -> usize {
        let g = self.map.lock();
        let mut n = 0;
        for c in g.values() {
            // A client already killed is gone as far as anyone can tell, even if its
            // connection task has not unregistered it yet (a second CLIENT KILL of the same
            // address must say "No such client", as in Redis, which frees it at once).
            if !c.killed.load(Relaxed) && pick(c) {
                c.kill();
                n += 1;
            }
        }
        n
    }
}

/// CLIENT PAUSE state: until when, and whether all commands or only writes wait.
#[derive(Default)]
pub struct Pause {
    /// Deadline as milliseconds since the Unix epoch; 0 when not paused.
    pub until_ms: AtomicI64,
    /// True for `ALL`, false for `WRITE`.
    pub all: AtomicBool,
    /// Woken by CLIENT UNPAUSE.
    pub unpaused: tokio::sync::Notify,
}

impl Pause {
    /// True if a command with these properties must wait now.
    #[inline]
    pub fn must_wait(&self, is_write: bool, now_ms: i64) -> bool {
        let until = self.until_ms.load(Relaxed);
        until != 0 && now_ms < until && (is_write || self.all.load(Relaxed))
    }
}
