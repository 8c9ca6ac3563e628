//! Busy polling: a worker keeps polling its sockets for a short, adaptive while after the last
//! request instead of going to sleep in `epoll_wait` at once.
//!
//! Why. A client on the same machine pays for waking a sleeping server thread: its `write`
//! runs the server socket's receive path, which wakes the thread blocked in `epoll_wait`
//! (`sock_def_readable` -> `ep_poll_callback` -> `try_to_wake_up`, an inter-processor
//! interrupt on a VM). At one request per round trip (`redis-benchmark -P 1 -c 50`, client
//! and server pinned to one CPU each) the client is the bottleneck, and tern, which needs
//! less CPU per command than Redis and so is idle more often, went to sleep about twice as
//! often per operation (0.045-0.05 context switches per operation against Redis's
//! 0.025-0.03, `perf stat`); `perf record` on the client showed the difference in
//! `sock_def_readable`, and the client spent about 5% more CPU per request against tern than
//! against Redis, which is the throughput those rows lost. Polling through the short gaps
//! between bursts avoids most of those sleeps, at the price of the server CPU spent polling.
//!
//! How. One task per worker thread, started by the first connection the worker reads from.
//! While connections are active it yields in a loop: tokio's `yield_now` defers the task until
//! the runtime has polled the I/O driver once more (`epoll_wait` with a zero timeout), so the
//! loop is a busy poll that runs every connection that becomes readable. It stops once no
//! connection has read anything for `window` and parks until the next read.
//!
//! The window adapts, as KVM's halt polling does, so that an idle or lightly loaded server
//! does not burn CPU: it starts at 0 (no polling); after a sleep no longer than the maximum
//! (`busy-poll-us`: polling that long would have caught the read that ended it) it becomes
//! the maximum; after three longer sleeps in a row it goes back to 0. A worker with a steady
//! stream of requests therefore polls through its short gaps, and one whose requests come
//! further apart than the maximum sleeps as before, polling at most three windows each time
//! a burst ends.

use std::cell::{Cell, RefCell};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// Polling stops after this many sleeps in a row that lasted longer than `busy-poll-us`.
const LONG_SLEEPS: u32 = 3;

thread_local! {
    /// This worker's `busy-poll-us` (0: not read yet, no poller; u64::MAX: polling is off).
    static MAX_US: Cell<u64> = const { Cell::new(0) };
    /// Bumped by every read that returned data.
    static ACTIVITY: Cell<u64> = const { Cell::new(0) };
    /// The parked poller, and when it parked.
    static PARKED: RefCell<Option<(Waker, Instant)>> = const { RefCell::new(None) };
    /// The current window (microseconds): 0 or the maximum.
    static WINDOW_US: Cell<u64> = const { Cell::new(0) };
    /// Sleeps in a row that lasted longer than the maximum.
    static LONG: Cell<u32> = const { Cell::new(0) };
}

/// Called by a connection after a read that returned data; `max_us` is the `busy-poll-us`
/// setting (read once per worker, when its poller starts). Starts this worker's poller on
/// the first call, wakes it when it is parked, and adapts its window to the sleep it ends.
#[inline]
pub fn activity(max_us: impl FnOnce() -> u64) {
    let max = MAX_US.get();
    if max == u64::MAX {
        return;
    }
    ACTIVITY.set(ACTIVITY.get().wrapping_add(1));
    if max == 0 {
        let max = max_us();
        if max == 0 {
            MAX_US.set(u64::MAX);
            return;
        }
        MAX_US.set(max);
        tokio::spawn(poller());
        return;
    }
    if let Some((w, since)) = PARKED.take() {
        // A sleep no longer than the maximum: polling would have caught this read, so poll
        // for the whole maximum from now on. After LONG_SLEEPS longer sleeps in a row (the
        // reads are too far apart for polling to pay), stop polling until a short one.
        if since.elapsed().as_micros() as u64 <= max {
            WINDOW_US.set(max);
            LONG.set(0);
        } else {
            let long = LONG.get() + 1;
            LONG.set(long);
            if long >= LONG_SLEEPS {
                WINDOW_US.set(0);
            }
        }
        w.wake();
    }
}

/// The poller task of one worker thread (see the module documentation).
async fn poller() {
    loop {
        let window = Duration::from_micros(WINDOW_US.get());
        let mut last = ACTIVITY.get();
        if !window.is_zero() {
            let mut since = Instant::now();
            loop {
                tokio::task::yield_now().await;
                let a = ACTIVITY.get();
                if a != last {
                    last = a;
                    since = Instant::now();
                } else if since.elapsed() >= window {
                    break;
                }
            }
        }
        // Park until the next read (one that happened meanwhile ends the wait at once).
        let mut parked = false;
        std::future::poll_fn(|cx| {
            if parked {
                if PARKED.with_borrow(|p| p.is_none()) {
                    return Poll::Ready(());
                }
            } else if ACTIVITY.get() != last {
                return Poll::Ready(());
            }
            parked = true;
            PARKED.set(Some((cx.waker().clone(), Instant::now())));
            Poll::Pending
        })
        .await;
    }
}
