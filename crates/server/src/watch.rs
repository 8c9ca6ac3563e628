//! WATCH: which clients watch which keys, and the "a watched key changed" flag that makes
//! their EXEC fail (Redis's multi.c `watchForKey` / `touchWatchedKey`).
//!
//! A key counts as changed when a write command that names it propagated something (dispatch
//! checks the client's propagation counter around each command), when expiry deletes it
//! (`ctx::flush_expired`), and for every key of a database on FLUSHDB/FLUSHALL/SWAPDB.
//! With nobody watching, each of those costs one atomic load.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// One client's WATCH state.
#[derive(Default)]
pub struct Watching {
    /// The watched (db, key) pairs, in WATCH order.
    pub keys: Vec<(usize, Vec<u8>)>,
    /// Set when any of them changed.
    pub dirty: Arc<AtomicBool>,
}

impl Watching {
    /// True if a watched key changed since WATCH.
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }
}

/// The watchers of each (database, key): the dirty flags of the clients watching it.
type Watchers = HashMap<(usize, Vec<u8>), Vec<Arc<AtomicBool>>>;

/// The registry of watched keys.
#[derive(Default)]
pub struct Watches {
    map: Mutex<Watchers>,
    /// Number of (client, key) registrations; zero makes `touch` free.
    count: AtomicUsize,
}

impl Watches {
    /// Starts watching `key` of `db` for `w` (a no-op if already watched).
    pub fn watch(&self, w: &mut Watching, db: usize, key: &[u8]) {
        if w.keys.iter().any(|(d, k)| *d == db && k == key) {
            return;
        }
        w.keys.push((db, key.to_vec()));
        self.map
            .lock()
            .entry((db, key.to_vec()))
            .or_default()
            .push(w.dirty.clone());
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    /// Stops watching everything (UNWATCH, EXEC, DISCARD, RESET, disconnect) and clears the
    /// dirty flag.
    pub fn unwatch_all(&self, w: &mut Watching) {
        if !w.keys.is_empty() {
            let mut m = self.map.lock();
            for slot in w.keys.drain(..) {
                if let Some(v) = m.get_mut(&slot) {
                    v.retain(|f| !Arc::ptr_eq(f, &w.dirty));
                    if v.is_empty() {
                        m.remove(&slot);
                    }
                }
                self.count.fetch_sub(1, Ordering::AcqRel);
            }
        }
        w.dirty.store(false, Ordering::Release);
    }

    /// True if anyone watches anything.
    #[inline]
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Acquire) != 0
    }

    /// Marks the watchers of `key` in `db` dirty.
    #[inline]
    pub fn touch(&self, db: usize, key: &[u8]) {
        if !self.any() {
            return;
        }
        if let Some(v) = self.map.lock().get(&(db, key.to_vec())) {
            for f in v {
                f.store(true, Ordering::Release);
            }
        }
    }

    /// Marks dirty every watcher of a key in `db` (None: in any database) for which
    /// `affected(db, key)` holds: FLUSHDB and FLUSHALL touch the keys that existed, SWAPDB the
    /// keys that exist in either database (Redis's `touchAllWatchedKeysInDb`).
    pub fn touch_db(&self, db: Option<usize>, affected: impl Fn(usize, &[u8]) -> bool) {
        if !self.any() {
            return;
        }
        for ((d, k), v) in self.map.lock().iter() {
            if db.is_none_or(|x| x == *d) && affected(*d, k) {
                for f in v {
                    f.store(true, Ordering::Release);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_marks_only_the_watchers_of_that_key() {
        let ws = Watches::default();
        let (mut a, mut b) = (Watching::default(), Watching::default());
        ws.watch(&mut a, 0, b"k");
        ws.watch(&mut a, 0, b"k");
        ws.watch(&mut b, 1, b"k");
        assert_eq!(ws.count.load(Ordering::Relaxed), 2);
        ws.touch(0, b"other");
        assert!(!a.is_dirty() && !b.is_dirty());
        ws.touch(0, b"k");
        assert!(a.is_dirty() && !b.is_dirty());
        ws.touch_db(Some(1), |_, _| true);
        assert!(b.is_dirty());
        ws.unwatch_all(&mut a);
        ws.unwatch_all(&mut b);
        assert!(!a.is_dirty() && !ws.any());
        assert!(ws.map.lock().is_empty());
    }
}
