//! The replication log: every write, in its deterministic propagated form, in one totally
//! ordered byte stream with Redis-compatible offsets.
//!
//! Writers append while they still hold the locks of the shards they changed, so the log's
//! order agrees with the order in which conflicting writes were applied. A `SELECT` is inserted
//! whenever the database differs from the previous entry's, exactly as Redis's
//! `replicationFeedSlaves` does, so the stream can be replayed by a Redis replica.
//!
//! The recent tail of the stream is kept in a ring buffer (the backlog, `repl-backlog-size`),
//! so consumers can read from any offset it still holds. Replicas, the AOF and `tern tail`
//! plug in as readers of this log.

use parking_lot::Mutex;

/// The log. Cheap to append to; one short critical section per write.
pub struct ReplLog {
    inner: Mutex<LogInner>,
    /// The backlog's older part on disk (`repl-backlog-size` beyond the memory ring).
    disk: parking_lot::RwLock<Option<std::sync::Arc<crate::backlog_disk::DiskBacklog>>>,
    /// Readers waiting for new bytes (replicas); appends notify only when there are some.
    waiters: std::sync::atomic::AtomicUsize,
    /// Wakes the waiting readers.
    notify: tokio::sync::Notify,
    /// `offset`, readable without the lock (stored inside the critical section).
    published: std::sync::atomic::AtomicU64,
    /// After a failed disk backlog write: when `flush_disk` tries the restart again.
    disk_retry: Mutex<Option<std::time::Instant>>,
    /// How many commands went into the AOF's copy without being in the stream (a writable
    /// replica's own writes, [`ReplLog::append_aof_only`]): offsets cannot tell the AOF
    /// writer they are there, this count can (stored under the lock).
    aof_only: std::sync::atomic::AtomicU64,
}

struct LogInner {
    /// The offset after the last byte appended (Redis's `master_repl_offset`).
    offset: u64,
    /// The database of the last appended command, or None before the first.
    cur_db: Option<usize>,
    /// Recent bytes of the stream.
    backlog: Backlog,
    /// While the AOF is on: the stream's bytes not yet taken by the AOF writer.
    aof: Option<Vec<u8>>,
    /// With a disk backlog: the stream's bytes not yet written to it.
    disk: Option<Vec<u8>>,
}

/// A ring buffer holding the newest `cap` bytes of the stream.
struct Backlog {
    buf: Vec<u8>,
    cap: usize,
    /// Bytes held (at most `cap`).
    len: usize,
    /// Index in `buf` where the next byte goes.
    head: usize,
    /// Freed by `repl-backlog-ttl`: holds nothing until a replica asks for the stream.
    off: bool,
}

impl Backlog {
    fn new(cap: usize) -> Backlog {
        Backlog {
            buf: Vec::new(),
            cap: cap.max(16 * 1024),
            len: 0,
            head: 0,
            off: false,
        }
    }

    fn push(&mut self, mut data: &[u8]) {
        if self.off {
            return;
        }
        self.len = (self.len + data.len()).min(self.cap);
        if self.buf.len() < self.cap {
            // Growth phase: the ring is still linear and `head == buf.len()`. Growing lazily
            // means an idle server does not pay for a large backlog.
            let take = (self.cap - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            self.head = self.buf.len() % self.cap;
        }
        if data.len() > self.cap {
            data = &data[data.len() - self.cap..];
        }
        while !data.is_empty() {
            let n = (self.cap - self.head).min(data.len());
            self.buf[self.head..self.head + n].copy_from_slice(&data[..n]);
            self.head = (self.head + n) % self.cap;
            data = &data[n..];
        }
    }

    /// `take` bytes starting `back` bytes before the end (take <= back <= len), oldest first.
    fn slice(&self, back: usize, take: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(take);
        if take == 0 {
            return out;
        }
        let size = self.buf.len();
        let start = (self.head + size - back) % size;
        let first = take.min(size - start);
        out.extend_from_slice(&self.buf[start..start + first]);
        out.extend_from_slice(&self.buf[..take - first]);
        out
    }

    /// The last `n` bytes (n <= len), oldest first.
    fn tail(&self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n);
        let end = self.head;
        let start = (end + self.buf.len() - n) % self.buf.len().max(1);
        if n == 0 {
            return out;
        }
        if start < end {
            out.extend_from_slice(&self.buf[start..end]);
        } else {
            out.extend_from_slice(&self.buf[start..]);
            out.extend_from_slice(&self.buf[..end]);
        }
        out
    }
}

impl LogInner {
    /// Adds stream bytes: the offset, the backlog, the disk segments' buffer, and the AOF's
    /// copy unless `to_aof` is false.
    fn push(&mut self, bytes: &[u8], to_aof: bool) {
        self.offset += bytes.len() as u64;
        self.backlog.push(bytes);
        if to_aof {
            if let Some(a) = self.aof.as_mut() {
                a.extend_from_slice(bytes);
            }
        }
        if let Some(d) = self.disk.as_mut() {
            d.extend_from_slice(bytes);
        }
    }

    /// Empties the memory backlog and the disk buffer and continues the stream at `offset`.
    fn restart_at(&mut self, offset: u64) {
        self.offset = offset;
        self.cur_db = None;
        let (cap, off) = (self.backlog.cap, self.backlog.off);
        self.backlog = Backlog::new(cap);
        self.backlog.off = off;
        if let Some(d) = self.disk.as_mut() {
            d.clear();
        }
    }
}

/// The writes of one transaction (EXEC, or a script) on their way to the log. As in Redis 7
/// (`propagatePendingCommands`), a transaction that writes once logs that command alone, and
/// one that writes more is wrapped in MULTI ... EXEC: the first write is held back, encoded,
/// until a second one comes (then MULTI, the first and the second go in) or the transaction
/// ends (then it goes in alone). The caller holds every shard for the whole transaction, so
/// holding a write back does not reorder it against other clients' writes to its keys.
#[derive(Default)]
pub struct TxLog {
    /// MULTI and the writes so far are in the log.
    open: bool,
    /// The database of the held-back first write, if one is held.
    held: Option<usize>,
    /// The held-back write, encoded (the buffer is kept between transactions).
    buf: Vec<u8>,
    /// The transaction's writes go to the AOF only (a writable replica's own, see
    /// [`ReplLog::append_aof_only`]).
    aof_only: bool,
}

impl TxLog {
    /// Logs a write of the transaction; returns the offset after it, or None when it is held.
    pub fn write(&mut self, log: &ReplLog, db: usize, argv: &[&[u8]]) -> Option<u64> {
        if self.open {
            return Some(self.put(log, db, argv));
        }
        match self.held.take() {
            None => {
                self.buf.clear();
                encode_command(&mut self.buf, argv);
                self.held = Some(db);
                None
            }
            Some(first_db) => {
                self.put(log, first_db, &[b"MULTI"]);
                self.put_encoded(log, first_db, &self.buf);
                self.open = true;
                Some(self.put(log, db, argv))
            }
        }
    }

    /// [`TxLog::write`] of a writable replica's own write: the transaction goes to the AOF
    /// only, wrapped as a primary's would be.
    pub fn write_aof_only(&mut self, log: &ReplLog, db: usize, argv: &[&[u8]]) {
        self.aof_only = true;
        self.write(log, db, argv);
    }

    /// Appends one command where this transaction's writes go; returns the stream's offset.
    fn put(&self, log: &ReplLog, db: usize, argv: &[&[u8]]) -> u64 {
        if self.aof_only {
            log.append_aof_only(db, argv);
            log.published_offset()
        } else {
            log.append(db, argv)
        }
    }

    /// [`TxLog::put`] of a command already encoded.
    fn put_encoded(&self, log: &ReplLog, db: usize, cmd: &[u8]) -> u64 {
        if self.aof_only {
            log.append_aof_only_encoded(db, cmd);
            log.published_offset()
        } else {
            log.append_encoded(db, cmd)
        }
    }

    /// Ends the transaction (`db` is the database EXEC runs in): EXEC after an open MULTI, or
    /// the one held write. Returns the offset after what it logged, if anything.
    pub fn end(&mut self, log: &ReplLog, db: usize) -> Option<u64> {
        let offset = if self.open {
            Some(self.put(log, db, &[b"EXEC"]))
        } else {
            self.held
                .map(|first_db| self.put_encoded(log, first_db, &self.buf))
        };
        self.open = false;
        self.held = None;
        self.aof_only = false;
        if self.buf.capacity() > 64 * 1024 {
            self.buf = Vec::new();
        }
        offset
    }
}

impl ReplLog {
    /// A log whose backlog keeps `backlog_size` bytes.
    pub fn new(backlog_size: usize) -> ReplLog {
        ReplLog {
            inner: Mutex::new(LogInner {
                offset: 0,
                cur_db: None,
                backlog: Backlog::new(backlog_size),
                aof: None,
                disk: None,
            }),
            disk: parking_lot::RwLock::new(None),
            published: Default::default(),
            disk_retry: Default::default(),
            aof_only: Default::default(),
            waiters: Default::default(),
            notify: tokio::sync::Notify::new(),
        }
    }

    /// Appends one command (RESP array of bulk strings) for database `db`; returns the offset
    /// after it.
    pub fn append(&self, db: usize, argv: &[&[u8]]) -> u64 {
        thread_local! {
            // Encoding happens outside the lock, into a per-thread buffer, so a write costs no
            // allocation and the critical section is just the copy into the backlog.
            static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(256));
        }
        SCRATCH.with(|scratch| {
            let mut buf = scratch.borrow_mut();
            buf.clear();
            encode_command(&mut buf, argv);
            let offset = self.append_encoded(db, &buf);
            if buf.capacity() > 64 * 1024 {
                *buf = Vec::with_capacity(256);
            }
            offset
        })
    }

    /// Appends one command already encoded (by [`encode_command`]) for database `db`; returns
    /// the offset after it.
    pub fn append_encoded(&self, db: usize, buf: &[u8]) -> u64 {
        let mut g = self.inner.lock();
        if g.cur_db != Some(db) {
            let mut sel = Vec::with_capacity(32);
            encode_select(&mut sel, db);
            g.push(&sel, true);
            g.cur_db = Some(db);
        }
        g.push(buf, true);
        self.publish(g)
    }

    /// Publishes the log's new end to readers and returns it.
    fn publish(&self, g: parking_lot::MutexGuard<'_, LogInner>) -> u64 {
        let offset = g.offset;
        self.published
            .store(offset, std::sync::atomic::Ordering::Release);
        drop(g);
        self.wake();
        offset
    }

    /// Wakes readers waiting for new bytes, if any.
    #[inline]
    fn wake(&self) {
        if self.waiters.load(std::sync::atomic::Ordering::Acquire) > 0 {
            self.notify.notify_waiters();
        }
    }

    /// Waits until the log holds bytes beyond offset `from`. Cancel-safe.
    pub async fn wait_beyond(&self, from: u64) {
        /// Counts this reader as waiting while it lives (also when the future is dropped).
        struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
            }
        }
        loop {
            if self.published_offset() > from {
                return;
            }
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.waiters
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            let _w = Waiting(&self.waiters);
            if self.published_offset() > from {
                return;
            }
            notified.await;
        }
    }

    /// Appends bytes that are already a stream (a replica passing its primary's stream on to
    /// its own replicas byte for byte, so offsets agree along a chain). `db` is the database
    /// the bytes leave selected, when they change it.
    pub fn append_raw(&self, bytes: &[u8], db: Option<usize>) -> u64 {
        self.append_stream(bytes, db, true)
    }

    /// [`ReplLog::append_raw`], choosing whether the bytes also go to the AOF (not the
    /// primary's PINGs and GETACKs, which only replicas need).
    fn append_stream(&self, bytes: &[u8], db: Option<usize>, to_aof: bool) -> u64 {
        let mut g = self.inner.lock();
        g.push(bytes, to_aof);
        if db.is_some() {
            g.cur_db = db;
        }
        self.publish(g)
    }

    /// Restarts the stream at `offset` with an empty backlog (a replica after a full sync
    /// takes its primary's offset).
    pub fn reset(&self, offset: u64) {
        let mut g = self.inner.lock();
        g.restart_at(offset);
        self.published
            .store(offset, std::sync::atomic::Ordering::Release);
    }

    /// Starts a new history `replid` at `offset` (a replica's full sync): the memory and disk
    /// backlogs restart empty.
    pub fn reset_history(&self, replid: &str, offset: u64) {
        let disk = self.disk.read().clone();
        let mut g = self.inner.lock();
        g.restart_at(offset);
        g.backlog.off = false;
        if let Some(disk) = disk {
            g.disk.get_or_insert_with(Vec::new);
            if let Err(e) = disk.reset(replid, offset) {
                tracing::warn!("could not reset the disk backlog: {e}");
            }
        }
        self.published
            .store(offset, std::sync::atomic::Ordering::Release);
    }

    /// Frees the backlog (`active` false: `repl-backlog-ttl` passed without replicas) or keeps
    /// the stream in it again from the current offset on (a replica asked for it). Freed, the
    /// memory ring and the disk segments are dropped and nothing is kept; the stream goes on
    /// (the AOF still reads it). Returns false if the backlog was already in that state.
    pub fn set_backlog_active(&self, replid: &str, active: bool) -> bool {
        let disk = self.disk.read().clone();
        let mut g = self.inner.lock();
        if g.backlog.off != active {
            return false;
        }
        if !active {
            let cap = g.backlog.cap;
            g.backlog = Backlog::new(cap);
        }
        g.backlog.off = !active;
        if let Some(disk) = disk {
            g.disk = active.then(Vec::new);
            // Freed: the segments go; active again: they restart at the current offset.
            if let Err(e) = disk.reset(replid, g.offset) {
                tracing::warn!("could not reset the disk backlog: {e}");
            }
        }
        true
    }

    /// False while the backlog is freed (INFO `repl_backlog_active`).
    pub fn backlog_active(&self) -> bool {
        !self.inner.lock().backlog.off
    }

    /// Keeps the backlog beyond the memory ring on disk, in `dir`, up to `max_bytes` in all:
    /// recovering what `dir` holds of history `replid` up to the current offset.
    pub fn enable_disk(
        &self,
        dir: &std::path::Path,
        max_bytes: u64,
        replid: &str,
    ) -> std::io::Result<()> {
        let mut g = self.inner.lock();
        let d = crate::backlog_disk::DiskBacklog::recover(dir, max_bytes, replid, g.offset)?;
        g.disk = Some(Vec::new());
        *self.disk.write() = Some(std::sync::Arc::new(d));
        Ok(())
    }

    /// Writes what the disk backlog has not received yet (called by its thread every 10 ms).
    /// After a failed write it tries, once a second, to start the disk backlog again at the
    /// stream's current end (so a disk that was full, or a directory that went away, costs the
    /// history up to then, not the disk backlog for good).
    pub fn flush_disk(&self) -> std::io::Result<()> {
        let Some(disk) = self.disk.read().clone() else {
            return Ok(());
        };
        if disk.is_broken() {
            let now = std::time::Instant::now();
            let mut next = self.disk_retry.lock();
            if next.is_some_and(|at| now < at) {
                return Ok(());
            }
            // Under the log's lock, so no byte is appended between the offset and the restart.
            let mut g = self.inner.lock();
            return match disk.restart(g.offset) {
                Ok(()) => {
                    if let Some(d) = g.disk.as_mut() {
                        d.clear();
                    }
                    *next = None;
                    tracing::warn!(
                        offset = g.offset,
                        "The disk backlog writes again; it holds the history from this offset on"
                    );
                    Ok(())
                }
                Err(e) => {
                    // Said once; the retries go on quietly.
                    let first = next.is_none();
                    *next = Some(now + std::time::Duration::from_secs(1));
                    if first {
                        Err(e)
                    } else {
                        Ok(())
                    }
                }
            };
        }
        let bytes = {
            let mut g = self.inner.lock();
            match g.disk.as_mut() {
                Some(d) if !d.is_empty() => std::mem::take(d),
                _ => return Ok(()),
            }
        };
        disk.append(&bytes)
    }

    /// Appends a command for replicas only, in no database (the primary's PING and
    /// REPLCONF GETACK); it is not written to the AOF.
    pub fn append_nodb(&self, argv: &[&[u8]]) -> u64 {
        let mut buf = Vec::with_capacity(32);
        encode_command(&mut buf, argv);
        self.append_stream(&buf, None, false)
    }

    /// The offset after the last byte appended, without taking the lock.
    #[inline]
    pub fn published_offset(&self) -> u64 {
        self.published.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Starts (or restarts, for a new AOF file) copying the stream for the AOF writer, from
    /// the next append on; the next command is preceded by a SELECT, so a new file stands on
    /// its own. `at_switch` runs inside the critical section, before the copy starts: the
    /// writer drains what the old file still needs there. Returns the offset of the switch.
    pub fn aof_switch(&self, at_switch: impl FnOnce(Vec<u8>, u64)) -> u64 {
        let mut g = self.inner.lock();
        let old = g.aof.replace(Vec::new()).unwrap_or_default();
        g.cur_db = None;
        at_switch(old, g.offset);
        g.offset
    }

    /// Stops copying the stream for the AOF; returns what was not taken yet.
    pub fn aof_stop(&self) -> Vec<u8> {
        self.inner.lock().aof.take().unwrap_or_default()
    }

    /// Adds a command to the AOF's copy only, not to the stream: a writable replica's own
    /// write, which Redis too writes to its AOF while its replicas (and the stream's offsets)
    /// only follow the primary. A SELECT before it, and one back after it, keep the AOF's
    /// database where the stream's bytes expect it.
    pub fn append_aof_only(&self, db: usize, argv: &[&[u8]]) {
        let mut cmd = Vec::with_capacity(64);
        encode_command(&mut cmd, argv);
        self.append_aof_only_encoded(db, &cmd);
    }

    /// [`ReplLog::append_aof_only`] of a command already encoded.
    pub fn append_aof_only_encoded(&self, db: usize, cmd: &[u8]) {
        let mut g = self.inner.lock();
        let cur = g.cur_db;
        let Some(aof) = g.aof.as_mut() else {
            return;
        };
        if cur != Some(db) {
            encode_select(aof, db);
        }
        aof.extend_from_slice(cmd);
        if let Some(c) = cur.filter(|&c| c != db) {
            encode_select(aof, c);
        }
        self.aof_only
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// How many [`ReplLog::append_aof_only`] commands there have been.
    #[inline]
    pub fn aof_only_count(&self) -> u64 {
        self.aof_only.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Moves the AOF's pending bytes onto the end of `into`; returns the offset they end at
    /// and the [`ReplLog::aof_only_count`] they include.
    pub fn aof_take(&self, into: &mut Vec<u8>) -> (u64, u64) {
        let mut g = self.inner.lock();
        let aof_only = self.aof_only_count();
        if let Some(a) = g.aof.as_mut() {
            if into.is_empty() {
                std::mem::swap(into, a);
            } else {
                into.append(a);
            }
        }
        (g.offset, aof_only)
    }

    /// The offset after the last byte appended (`master_repl_offset`).
    pub fn offset(&self) -> u64 {
        self.inner.lock().offset
    }

    /// The offset of the first byte the backlog still holds (in memory or on disk), and how
    /// many bytes it holds.
    pub fn backlog_range(&self) -> (u64, usize) {
        let disk_first = self.disk.read().as_ref().and_then(|d| d.first());
        let g = self.inner.lock();
        if g.backlog.off {
            return (g.offset, 0);
        }
        let mem_first = g.offset - g.backlog.len as u64;
        let first = disk_first.map_or(mem_first, |d| d.min(mem_first));
        (first, (g.offset - first) as usize)
    }

    /// Bytes the memory ring holds.
    pub fn memory_backlog_len(&self) -> usize {
        self.inner.lock().backlog.len
    }

    /// The configured backlog capacity in bytes.
    pub fn backlog_capacity(&self) -> usize {
        self.inner.lock().backlog.cap
    }

    /// Up to `max` bytes from `from` on, if the backlog still holds `from`.
    pub fn read_from(&self, from: u64, max: usize) -> Option<Vec<u8>> {
        let g = self.inner.lock();
        let first = g.offset - g.backlog.len as u64;
        if from < first && !g.backlog.off {
            // Older than the memory ring: the disk backlog, if it holds it.
            drop(g);
            let disk = self.disk.read().clone()?;
            return disk.read(from, max);
        }
        if from > g.offset || from < first {
            return None;
        }
        let avail = (g.offset - from) as usize;
        Some(g.backlog.slice(avail, avail.min(max)))
    }

    /// The bytes from `from` to the current offset, if the backlog still holds them.
    pub fn since(&self, from: u64) -> Option<Vec<u8>> {
        let g = self.inner.lock();
        let first = g.offset - g.backlog.len as u64;
        if from < first || from > g.offset {
            return None;
        }
        Some(g.backlog.tail((g.offset - from) as usize))
    }
}

/// Encodes a command as a RESP array of bulk strings (the stream's form of a command).
pub use tern_resp::encode_command;

/// Encodes `SELECT <db>`.
pub fn encode_select(out: &mut Vec<u8>, db: usize) {
    encode_command(out, &[b"SELECT", itoa::Buffer::new().format(db).as_bytes()]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writable_replicas_transaction_goes_to_the_aof_only_wrapped_when_it_writes_twice() {
        let log = ReplLog::new(1 << 20);
        log.aof_switch(|_, _| {});
        log.append(0, &[b"SET", b"p", b"1"]);
        let offset = log.offset();
        let mut aof = Vec::new();
        let _ = log.aof_take(&mut aof);
        aof.clear();
        let mut tx = TxLog::default();
        tx.write_aof_only(&log, 0, &[b"SET", b"a", b"1"]);
        tx.write_aof_only(&log, 2, &[b"SET", b"b", b"2"]);
        tx.end(&log, 0);
        tx.write_aof_only(&log, 0, &[b"INCR", b"c"]);
        tx.end(&log, 0);
        assert_eq!(log.offset(), offset, "nothing reaches the stream");
        assert_eq!(log.aof_only_count(), 5);
        let _ = log.aof_take(&mut aof);
        let mut want = Vec::new();
        for argv in [
            &[&b"MULTI"[..]][..],
            &[b"SET", b"a", b"1"],
            &[b"SELECT", b"2"],
            &[b"SET", b"b", b"2"],
            &[b"SELECT", b"0"],
            &[b"EXEC"],
            &[b"INCR", b"c"],
        ] {
            encode_command(&mut want, argv);
        }
        assert_eq!(
            String::from_utf8_lossy(&aof),
            String::from_utf8_lossy(&want)
        );
    }

    #[test]
    fn a_disk_backlog_that_failed_to_write_starts_again_at_the_current_offset() {
        let dir = std::env::temp_dir().join(format!("tern-log-disk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // A memory ring of 64 KB, 8 MB on disk (1 MB segments).
        let log = ReplLog::new(64 << 10);
        log.enable_disk(&dir, 8 << 20, "id").unwrap();
        let value = vec![b'x'; 1000];
        for _ in 0..300 {
            log.append(0, &[b"SET", b"k", &value]);
        }
        log.flush_disk().unwrap();
        assert_eq!(log.backlog_range().0, 0, "the disk holds the whole history");
        // The directory goes away: the next segment cannot be created.
        std::fs::remove_dir_all(&dir).unwrap();
        for _ in 0..3000 {
            log.append(0, &[b"SET", b"k", &value]);
        }
        assert!(log.flush_disk().is_err());
        let end = log.offset();
        assert!(
            log.backlog_range().0 > end - (64 << 10) - 1,
            "only the memory ring is served"
        );
        // The next flush starts it again (making the directory) at the current offset, and it
        // holds what follows.
        log.flush_disk().unwrap();
        for _ in 0..100 {
            log.append(0, &[b"SET", b"k", &value]);
        }
        log.flush_disk().unwrap();
        assert_eq!(log.backlog_range().0, end);
        assert!(log.read_from(end, 100).is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn select_is_inserted_when_the_db_changes() {
        let log = ReplLog::new(1 << 20);
        log.append(0, &[b"SET", b"a", b"1"]);
        log.append(0, &[b"DEL", b"a"]);
        log.append(2, &[b"DEL", b"b"]);
        let all = log.since(0).unwrap();
        let text = String::from_utf8(all).unwrap();
        assert_eq!(
            text,
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n\
             *2\r\n$3\r\nDEL\r\n$1\r\na\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n"
        );
        assert_eq!(log.offset() as usize, text.len());
    }

    #[test]
    fn backlog_keeps_only_the_newest_bytes() {
        let log = ReplLog::new(16 * 1024);
        let big = vec![b'x'; 1000];
        for _ in 0..100 {
            log.append(0, &[b"SET", b"k", &big]);
        }
        let (first, len) = log.backlog_range();
        assert_eq!(len, 16 * 1024);
        assert_eq!(first + len as u64, log.offset());
        assert!(log.since(0).is_none());
        let tail = log.since(log.offset() - 100).unwrap();
        assert_eq!(tail.len(), 100);
        assert!(tail.ends_with(b"xxx\r\n"));
        assert_eq!(log.since(log.offset()).unwrap(), b"");
    }

    #[test]
    fn read_from_returns_bounded_chunks_across_the_ring_wrap() {
        let log = ReplLog::new(16 * 1024);
        for i in 0..2000u32 {
            log.append(0, &[b"SET", b"k", i.to_string().as_bytes()]);
        }
        let from = log.offset() - 5000;
        let whole = log.since(from).unwrap();
        let mut got = Vec::new();
        let mut at = from;
        while at < log.offset() {
            let chunk = log.read_from(at, 777).unwrap();
            assert!(!chunk.is_empty() && chunk.len() <= 777);
            at += chunk.len() as u64;
            got.extend_from_slice(&chunk);
        }
        assert_eq!(got, whole);
        assert!(log.read_from(0, 10).is_none(), "overwritten bytes are gone");
    }

    #[test]
    fn a_freed_backlog_holds_nothing_until_activated_and_the_aof_copy_goes_on() {
        let log = ReplLog::new(1 << 20);
        log.aof_switch(|_, _| {});
        log.append(0, &[b"SET", b"a", b"1"]);
        assert!(log.set_backlog_active("id", false));
        assert!(!log.set_backlog_active("id", false), "freed once");
        log.append(0, &[b"SET", b"b", b"2"]);
        let end = log.offset();
        assert_eq!(log.backlog_range(), (end, 0));
        assert!(log.read_from(0, 100).is_none());
        assert_eq!(log.read_from(end, 100).unwrap(), b"");
        let mut aof = Vec::new();
        let _ = log.aof_take(&mut aof);
        assert!(
            aof.ends_with(b"$1\r\nb\r\n$1\r\n2\r\n"),
            "the AOF still gets writes"
        );
        assert!(log.set_backlog_active("id", true));
        assert!(log.backlog_active());
        log.append(0, &[b"DEL", b"b"]);
        assert_eq!(log.backlog_range().0, end);
        assert_eq!(
            log.read_from(end, 100).unwrap(),
            b"*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n"
        );
    }

    #[test]
    fn raw_appends_and_resets_keep_offsets() {
        let log = ReplLog::new(1 << 20);
        log.reset(1000);
        assert_eq!(log.offset(), 1000);
        assert_eq!(log.append_raw(b"*1\r\n$4\r\nPING\r\n", None), 1014);
        assert_eq!(log.since(1000).unwrap(), b"*1\r\n$4\r\nPING\r\n");
        assert!(log.since(999).is_none());
    }
}
