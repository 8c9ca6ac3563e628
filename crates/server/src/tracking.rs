//! Client-side caching (Redis's tracking.c): CLIENT TRACKING remembers which keys a client
//! read, and when one of them changes the client (or the client it redirects to) receives an
//! invalidation: a RESP3 push `invalidate [key]`, or in RESP2 a message on the
//! `__redis__:invalidate` channel the redirect target subscribed to.
//!
//! Default mode: the keys of every read-only command a tracking client runs are remembered
//! (key -> client ids, across databases as in Redis), and forgotten once invalidated. BCAST
//! mode: nothing is remembered; every change to a key under one of the client's prefixes is
//! sent. OPTIN/OPTOUT with CLIENT CACHING choose per command; NOLOOP skips the client's own
//! changes. A flush invalidates everything (a null key list).
//!
//! Changes are reported by the same hooks as WATCH: dispatch after a write that propagated,
//! expiry, MOVE, and FLUSHDB/FLUSHALL/SWAPDB (see `Server::key_changed`).

use crate::pubsub::Subscriber;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// The channel RESP2 clients subscribe to for redirected invalidations.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// One client's CLIENT TRACKING settings.
#[derive(Clone, Debug, Default)]
pub struct Mode {
    /// Tracking is on.
    pub on: bool,
    /// REDIRECT target client id (None: the client itself).
    pub redirect: Option<u64>,
    /// BCAST mode.
    pub bcast: bool,
    /// BCAST prefixes (empty: every key).
    pub prefixes: Vec<Vec<u8>>,
    /// OPTIN mode.
    pub optin: bool,
    /// OPTOUT mode.
    pub optout: bool,
    /// NOLOOP: not notified of the client's own changes.
    pub noloop: bool,
    /// CLIENT CACHING yes/no, for the next command only.
    pub caching: Option<bool>,
}

/// Where a tracking client's invalidations go.
#[derive(Clone)]
struct Target {
    /// Receives the messages (the client itself, or its redirect target).
    sink: Arc<Subscriber>,
    noloop: bool,
}

#[derive(Default)]
struct Inner {
    /// Key -> ids of the clients that read it (default mode).
    keys: HashMap<Vec<u8>, HashSet<u64>>,
    /// BCAST registrations: prefix -> client ids.
    bcast: Vec<(Vec<u8>, u64)>,
    /// Tracking clients and where their messages go.
    clients: HashMap<u64, Target>,
}

/// The tracking table.
#[derive(Default)]
pub struct Tracker {
    inner: Mutex<Inner>,
    /// Number of tracking clients: zero makes every hook one atomic load.
    count: AtomicUsize,
}

/// Encodes an invalidation for `sink` (None: everything, after a flush). RESP2 targets only
/// get it if they are subscribed to [`CHANNEL`].
fn message(sink: &Subscriber, keys: Option<&[&[u8]]>, subscribed: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    let resp3 = sink.resp3.load(Relaxed);
    if resp3 {
        out.extend_from_slice(b">2\r\n$10\r\ninvalidate\r\n");
    } else {
        if !subscribed {
            return None;
        }
        out.extend_from_slice(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n");
    }
    match keys {
        None => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
        Some(keys) => {
            out.extend_from_slice(format!("*{}\r\n", keys.len()).as_bytes());
            for k in keys {
                out.extend_from_slice(format!("${}\r\n", k.len()).as_bytes());
                out.extend_from_slice(k);
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    Some(out)
}

impl Tracker {
    /// True if any client tracks.
    #[inline]
    pub fn any(&self) -> bool {
        self.count.load(Relaxed) != 0
    }

    /// Turns tracking on for `id` (replacing earlier settings), delivering to `sink`.
    pub fn enable(&self, id: u64, mode: &Mode, sink: Arc<Subscriber>) {
        let mut g = self.inner.lock();
        g.bcast.retain(|(_, c)| *c != id);
        if mode.bcast {
            if mode.prefixes.is_empty() {
                g.bcast.push((Vec::new(), id));
            }
            for p in &mode.prefixes {
                g.bcast.push((p.clone(), id));
            }
        }
        let target = Target {
            sink,
            noloop: mode.noloop,
        };
        if g.clients.insert(id, target).is_none() {
            self.count.fetch_add(1, Relaxed);
        }
    }

    /// Turns tracking off for `id` (CLIENT TRACKING off, RESET, disconnect).
    pub fn disable(&self, id: u64) {
        let mut g = self.inner.lock();
        if g.clients.remove(&id).is_some() {
            self.count.fetch_sub(1, Relaxed);
        }
        g.bcast.retain(|(_, c)| *c != id);
        // Remembered keys are dropped lazily: invalidating them finds no client.
    }

    /// Remembers that client `id` read `keys` (default mode).
    pub fn remember(&self, id: u64, keys: &[&[u8]]) {
        let mut g = self.inner.lock();
        for k in keys {
            g.keys.entry(k.to_vec()).or_default().insert(id);
        }
    }

    /// `key` changed (by client `by`, if a client did it): invalidate it for the clients that
    /// read it and the BCAST clients whose prefixes match. `subscribed(id)` tells whether a
    /// RESP2 target listens on [`CHANNEL`].
    pub fn invalidate(&self, key: &[u8], by: Option<u64>, subscribed: impl Fn(u64) -> bool) {
        if !self.any() {
            return;
        }
        let mut g = self.inner.lock();
        let mut ids: Vec<u64> = g
            .keys
            .remove(key)
            .map(|s| s.into_iter().collect())
            .unwrap_or_default();
        for (p, c) in &g.bcast {
            if key.starts_with(p) && !ids.contains(c) {
                ids.push(*c);
            }
        }
        for id in ids {
            let Some(t) = g.clients.get(&id) else {
                continue;
            };
            if t.noloop && by == Some(id) {
                continue;
            }
            let sid = t.sink.info.id;
            if let Some(m) = message(&t.sink, Some(&[key]), subscribed(sid)) {
                t.sink.send(m);
            }
        }
    }

    /// Everything changed (FLUSHDB, FLUSHALL): every tracking client gets a null invalidation.
    pub fn invalidate_all(&self, subscribed: impl Fn(u64) -> bool) {
        if !self.any() {
            return;
        }
        let mut g = self.inner.lock();
        g.keys.clear();
        for t in g.clients.values() {
            if let Some(m) = message(&t.sink, None, subscribed(t.sink.info.id)) {
                t.sink.send(m);
            }
        }
    }

    /// Number of keys remembered (INFO tracking_total_keys).
    pub fn total_keys(&self) -> usize {
        self.inner.lock().keys.len()
    }

    /// Number of BCAST prefixes registered (INFO tracking_total_prefixes).
    pub fn total_prefixes(&self) -> usize {
        self.inner.lock().bcast.len()
    }

    /// True if client `id`'s redirect target is gone (CLIENT TRACKINGINFO broken_redirect).
    pub fn redirect_broken(&self, id: u64) -> bool {
        self.inner
            .lock()
            .clients
            .get(&id)
            .is_some_and(|t| t.sink.tx_closed())
    }
}

/// Checks BCAST prefixes as Redis does: no prefix may be a prefix of another.
pub fn check_prefixes(prefixes: &[Vec<u8>]) -> Result<(), String> {
    for (i, a) in prefixes.iter().enumerate() {
        for (j, b) in prefixes.iter().enumerate() {
            if i != j && (a.starts_with(b) || b.starts_with(a)) {
                return Err(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(a),
                    String::from_utf8_lossy(b)
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::ClientInfo;

    fn sink(id: u64, resp3: bool) -> (Arc<Subscriber>, crate::pubsub::PushRx) {
        Subscriber::new(Arc::new(ClientInfo::for_tests(id)), resp3)
    }

    #[test]
    fn remembered_keys_are_invalidated_once() {
        let t = Tracker::default();
        let (s, mut rx) = sink(1, true);
        t.enable(
            1,
            &Mode {
                on: true,
                ..Mode::default()
            },
            s,
        );
        t.remember(1, &[b"k"]);
        t.invalidate(b"other", None, |_| false);
        assert!(rx.try_recv().is_err());
        t.invalidate(b"k", Some(2), |_| false);
        assert_eq!(
            rx.try_recv().unwrap(),
            b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
        );
        t.invalidate(b"k", None, |_| false);
        assert!(rx.try_recv().is_err());
        t.invalidate_all(|_| false);
        assert_eq!(rx.try_recv().unwrap(), b">2\r\n$10\r\ninvalidate\r\n_\r\n");
    }

    #[test]
    fn bcast_prefixes_noloop_and_resp2_redirects() {
        let t = Tracker::default();
        let (s, mut rx) = sink(7, false);
        let mode = Mode {
            on: true,
            bcast: true,
            prefixes: vec![b"user:".to_vec()],
            noloop: true,
            ..Mode::default()
        };
        t.enable(1, &mode, s);
        t.invalidate(b"user:1", Some(2), |id| id == 7);
        assert_eq!(
            rx.try_recv().unwrap(),
            b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$6\r\nuser:1\r\n"
        );
        t.invalidate(b"user:2", Some(1), |id| id == 7);
        t.invalidate(b"item:1", Some(2), |id| id == 7);
        assert!(rx.try_recv().is_err());
        t.disable(1);
        assert!(!t.any());
        assert!(check_prefixes(&[b"a".to_vec(), b"ab".to_vec()]).is_err());
        assert!(check_prefixes(&[b"a".to_vec(), b"b".to_vec()]).is_ok());
    }
}
