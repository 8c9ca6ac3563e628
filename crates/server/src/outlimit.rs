//! `client-output-buffer-limit` for the `normal` and `replica` classes (the `pubsub` class is
//! enforced where messages are queued, in `pubsub.rs`).
//!
//! What counts as a client's output buffer: the reply bytes the server holds for it and the
//! client has not received yet. For a normal client that is the part of its reply buffer not
//! yet written plus what waits in the socket's send queue ([`unsent_in_kernel`]); tern stops executing a client's commands while its replies cannot be written
//! (back-pressure, see `conn.rs`), so what a client that never reads can pile up is one batch
//! of replies (up to 64 KiB plus the last reply), not an unbounded list as in Redis. For a
//! replica it is the replication stream produced since its position (during a full sync: since
//! the snapshot's instant) and not yet written to its socket.
//!
//! The rules are Redis's (`checkClientOutputBufferLimits`): over the hard limit the client is
//! closed at once; over the soft limit it is closed once it has stayed over it continuously
//! for more than the soft seconds (going under resets the clock). Zero disables a limit. A
//! write that makes no progress is watched every [`TICK`], so a client that stopped reading is
//! closed without waiting for more output. The log line is Redis's: "Client ... scheduled to
//! be closed ASAP for overcoming of output buffer limits."

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// How often a write that makes no progress re-checks the limits.
pub const TICK: Duration = Duration::from_millis(100);

/// One class's limits, mirrored from the config (see `Server::refresh_hot`).
#[derive(Debug, Default)]
pub struct ClassLimits {
    /// Hard limit in bytes (0 = none).
    pub hard: AtomicU64,
    /// Soft limit in bytes (0 = none).
    pub soft: AtomicU64,
    /// Seconds the soft limit may be exceeded.
    pub soft_seconds: AtomicU64,
}

impl ClassLimits {
    /// Stores `l`.
    pub fn set(&self, l: tern_config::OutputBufferLimit) {
        self.hard.store(l.hard, Relaxed);
        self.soft.store(l.soft, Relaxed);
        self.soft_seconds.store(l.soft_seconds, Relaxed);
    }

    /// True when no limit is set (the `normal` default), so writers skip the checks.
    pub fn none(&self) -> bool {
        self.hard.load(Relaxed) == 0 && self.soft.load(Relaxed) == 0
    }

    /// Redis's rule for a client holding `pending` bytes at `now_ms`; `soft_since` is the
    /// client's "over the soft limit since" time (0: not over). True when the client must be
    /// closed.
    pub fn reached(&self, pending: u64, soft_since: &mut i64, now_ms: i64) -> bool {
        let hard = self.hard.load(Relaxed);
        let soft = self.soft.load(Relaxed);
        if hard > 0 && pending >= hard {
            return true;
        }
        if soft > 0 && pending >= soft {
            if *soft_since == 0 {
                *soft_since = now_ms;
                return false;
            }
            return now_ms - *soft_since > self.soft_seconds.load(Relaxed) as i64 * 1000;
        }
        *soft_since = 0;
        false
    }
}

/// Bytes written to socket `fd` that its peer has not acknowledged yet (the kernel's send
/// queue, `SIOCOUTQ`); 0 for no socket. They count as output the client has not taken: a
/// client that stopped reading leaves up to the socket's send buffer (megabytes on loopback)
/// there, on top of what the server still holds.
pub fn unsent_in_kernel(fd: i32) -> u64 {
    if fd < 0 {
        return 0;
    }
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ) writes one int through the pointer; a closed or reused fd
    // only makes the ioctl fail or report another socket's queue, never touch our memory.
    let r = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut n) };
    if r < 0 {
        0
    } else {
        n.max(0) as u64
    }
}

/// The error a limited write ends with when the limits closed the client.
pub fn limit_error() -> std::io::Error {
    std::io::Error::other("output buffer limit reached")
}

/// Logs Redis's warning for a client closed by its output buffer limits.
pub fn log_closed(id: u64, addr: &str, class: &str, pending: u64) {
    tracing::warn!(
        client = id,
        addr = %addr,
        class,
        omem = pending,
        "Client scheduled to be closed ASAP for overcoming of output buffer limits."
    );
}

/// Writes all of `buf` and flushes it, asking `over(unwritten, stalled)` before the first
/// write and whenever the stream has taken nothing for a [`TICK`] (`stalled`: how long since
/// it last took something): when it says the client must go, the write stops with
/// [`limit_error`]. `over` sees the bytes still unwritten, so callers can add what else they
/// hold for the client (a replica's stream that is still in the log, the socket's send
/// queue). The flush is watched the same way, with nothing unwritten: TLS keeps the records
/// the socket did not take in its own buffer until then (for plain TCP it returns at once).
pub async fn write_all_watched<W: AsyncWrite + Unpin>(
    w: &mut W,
    buf: &[u8],
    mut over: impl FnMut(u64, Duration) -> bool,
) -> std::io::Result<()> {
    let mut at = 0;
    if over(buf.len() as u64, Duration::ZERO) {
        return Err(limit_error());
    }
    let mut progress = std::time::Instant::now();
    while at < buf.len() {
        match tokio::time::timeout(TICK, w.write(&buf[at..])).await {
            Ok(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(Ok(n)) => {
                at += n;
                progress = std::time::Instant::now();
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                if over((buf.len() - at) as u64, progress.elapsed()) {
                    return Err(limit_error());
                }
            }
        }
    }
    let flushing = std::time::Instant::now();
    loop {
        // Dropping an unfinished flush and flushing again continues where it stopped.
        match tokio::time::timeout(TICK, w.flush()).await {
            Ok(r) => return r,
            Err(_) => {
                if over(0, flushing.elapsed()) {
                    return Err(limit_error());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(hard: u64, soft: u64, secs: u64) -> ClassLimits {
        let l = ClassLimits::default();
        l.set(tern_config::OutputBufferLimit {
            hard,
            soft,
            soft_seconds: secs,
        });
        l
    }

    #[test]
    fn the_hard_limit_closes_at_once() {
        let l = limits(100, 0, 0);
        let mut since = 0;
        assert!(!l.reached(99, &mut since, 1000));
        assert!(l.reached(100, &mut since, 1000));
    }

    #[test]
    fn the_soft_limit_closes_after_its_seconds_over_it_continuously() {
        let l = limits(0, 10, 2);
        let mut since = 0;
        assert!(!l.reached(50, &mut since, 1_000));
        assert!(!l.reached(50, &mut since, 2_500));
        assert!(!l.reached(50, &mut since, 3_000));
        assert!(l.reached(50, &mut since, 3_001));
        // Going under resets the clock.
        let mut since = 0;
        assert!(!l.reached(50, &mut since, 1_000));
        assert!(!l.reached(5, &mut since, 2_000));
        assert_eq!(since, 0);
        assert!(!l.reached(50, &mut since, 3_500));
        assert!(!l.reached(50, &mut since, 5_000));
    }

    #[test]
    fn zero_disables_both_limits() {
        let l = limits(0, 0, 0);
        let mut since = 0;
        assert!(l.none());
        assert!(!l.reached(u64::MAX, &mut since, 0));
        assert!(!l.reached(u64::MAX, &mut since, i64::MAX));
    }
}
