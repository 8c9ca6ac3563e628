//! Busy polling: a worker keeps polling its sockets for a short while after its last request
//! instead of going to sleep in `epoll_wait` at once, when (and only as long as) the work it
//! just did pays for it.
//!
//! Why. A client on the same machine pays for waking a sleeping server thread: its `write`
//! runs the server socket's receive path, which wakes the thread blocked in `epoll_wait`
//! (`sock_def_readable` -> `ep_poll_callback` -> `try_to_wake_up`, an inter-processor
//! interrupt on a VM). At one request per round trip (`redis-benchmark -P 1 -c 50`, client
//! and server pinned to one CPU each) the client is the bottleneck, and tern, which needs
//! less CPU per command than Redis and so is idle more often, went to sleep 2 to 2.5 times as
//! often per request (`perf stat`: 0.32 against Redis's 0.13 context switches per LRANGE_600);
//! the client paid each of those wakeups in its next `sendto` (about 1.7 us of client CPU per
//! request), which was the throughput those rows lost (BENCHMARKS.md). Redis does not sleep
//! there because it is at 100% of its CPU. Polling through the short gaps between requests
//! avoids those sleeps.
//!
//! How. One task per worker thread, started by the first connection the worker reads from.
//! While polling it yields in a loop: tokio's `yield_now` defers the task until the runtime has
//! polled the I/O driver once more (`epoll_wait` with a zero timeout), so the loop runs every
//! connection that becomes readable without sleeping. Each turn of the loop is timed: a turn
//! in which a connection read something is work, one in which none did is polling.
//!
//! How long ([`Governor`]). Polling must not turn a lightly loaded server into a busy one, so
//! it is paid for by work: every microsecond of work earns [`EARN`] microseconds of polling
//! (at most `busy-poll-us` in one gap), and polling spends them. A worker therefore polls at
//! most twice as long as it worked, so polling at most triples the CPU a worker uses, and
//! only while requests come in gaps shorter than that. Whether to poll at all is learnt from
//! the gaps, as KVM's halt polling learns: after a sleep that the earned polling would have
//! covered, polling goes on; after three sleeps in a row that it would not have covered (the
//! gaps are long next to the work, as on an idle or lightly loaded server), it goes off, and
//! the worker sleeps at once after its work, as before, until a short gap comes again.
//!
//! Why twice. With one microsecond earned per microsecond of work, `redis-benchmark -P 1 -c 50
//! lrange mylist 0 599` still found tern asleep twice as often as Redis (0.14-0.17 against
//! 0.07-0.09 context switches per request, 0.95 of Redis's throughput); redis-benchmark
//! answers a burst of replies before it sends the next burst of requests, so the gaps there
//! are longer than the work of one request. With two, tern slept less often than Redis and
//! served as many requests per second, at about Redis's CPU per request.

use std::cell::{Cell, RefCell};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// Polling goes off after this many sleeps in a row that the earned polling would not have
/// covered.
const MISSES: u32 = 3;

/// Microseconds of polling earned by a microsecond of work.
const EARN: u32 = 2;

thread_local! {
    /// This worker's `busy-poll-us` (0: not read yet, no poller; u64::MAX: polling is off).
    static MAX_US: Cell<u64> = const { Cell::new(0) };
    /// Bumped by every read that returned data.
    static ACTIVITY: Cell<u64> = const { Cell::new(0) };
    /// The parked poller.
    static PARKED: RefCell<Option<Waker>> = const { RefCell::new(None) };
    /// When the read that woke the parked poller happened.
    static WOKEN_AT: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Called by a connection after a read that returned data; `max_us` is the `busy-poll-us`
/// setting (read once per worker, when its poller starts). Starts this worker's poller on
/// the first call and wakes it when it is parked.
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
        tokio::spawn(poller(Duration::from_micros(max)));
        return;
    }
    if let Some(w) = PARKED.take() {
        WOKEN_AT.set(Some(Instant::now()));
        w.wake();
    }
}

/// The poller task of one worker thread (see the module documentation).
async fn poller(max: Duration) {
    let mut gov = Governor::new(max);
    let mut last = ACTIVITY.get();
    let mut prev = Instant::now();
    loop {
        let now = Instant::now();
        let turn = now.saturating_duration_since(prev);
        prev = now;
        let a = ACTIVITY.get();
        let keep_polling = if a != last {
            last = a;
            gov.worked(turn);
            gov.polling()
        } else {
            gov.spun(turn)
        };
        if keep_polling {
            tokio::task::yield_now().await;
            continue;
        }
        // Park until the next read (one that happened meanwhile ends the wait at once).
        let parked_at = park(last).await;
        let woken_at = WOKEN_AT.take().unwrap_or(parked_at).max(parked_at);
        gov.woke(woken_at - parked_at);
        // The time from the read that woke us to now was spent on work: the next turn counts it.
        prev = woken_at;
    }
}

/// Parks the poller until a read after `last`; returns when it parked.
async fn park(last: u64) -> Instant {
    let mut parked_at = None;
    std::future::poll_fn(|cx| match parked_at {
        Some(at) => {
            if PARKED.with_borrow(|p| p.is_none()) {
                Poll::Ready(at)
            } else {
                Poll::Pending
            }
        }
        None => {
            let now = Instant::now();
            if ACTIVITY.get() != last {
                return Poll::Ready(now);
            }
            parked_at = Some(now);
            PARKED.set(Some(cx.waker().clone()));
            Poll::Pending
        }
    })
    .await
}

/// How long one worker polls: the accounting of the module documentation, apart from the
/// clock and the runtime.
#[derive(Debug)]
struct Governor {
    /// `busy-poll-us`: the longest the worker polls in one gap.
    max: Duration,
    /// Polling earned by work (at most `max`), as it stood when the current gap began: the
    /// longest gap polling can cover.
    credit: Duration,
    /// Polling spent in the current gap (since the last work); what is left is the credit
    /// minus this.
    spent: Duration,
    /// Whether the worker polls after its work, or sleeps at once.
    on: bool,
    /// Sleeps in a row that the credit would not have covered.
    misses: u32,
}

impl Governor {
    fn new(max: Duration) -> Governor {
        Governor {
            max,
            credit: Duration::ZERO,
            spent: Duration::ZERO,
            on: false,
            misses: 0,
        }
    }

    /// A turn of the event loop in which a connection read something: `d` of work, which earns
    /// `EARN` times as much polling. A gap that polling covered ends here.
    fn worked(&mut self, d: Duration) {
        if self.on && !self.spent.is_zero() {
            self.misses = 0;
        }
        self.credit = (self.credit.saturating_sub(self.spent) + d * EARN).min(self.max);
        self.spent = Duration::ZERO;
    }

    /// Whether the worker polls (rather than sleeps) now that its work is done.
    fn polling(&self) -> bool {
        self.on && self.spent < self.credit
    }

    /// A turn of polling that found nothing: `d` spent. Returns whether to go on polling.
    fn spun(&mut self, d: Duration) -> bool {
        self.spent += d;
        self.polling()
    }

    /// The worker slept `slept` and a read woke it: would the credit have covered the whole
    /// gap (the polling spent in it and the sleep)?
    fn woke(&mut self, slept: Duration) {
        if self.spent + slept <= self.credit && !self.credit.is_zero() {
            self.on = true;
            self.misses = 0;
        } else {
            self.misses += 1;
            if self.misses >= MISSES {
                self.on = false;
            }
        }
        // Credit is for the gaps between bursts of work, not for after a sleep.
        self.credit = Duration::ZERO;
        self.spent = Duration::ZERO;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn polling_starts_after_a_gap_shorter_than_the_work_before_it() {
        let mut g = Governor::new(us(50));
        g.worked(us(10));
        assert!(!g.polling(), "off until a gap shows that polling pays");
        g.woke(us(15));
        assert!(g.on);
        g.worked(us(10));
        assert!(g.polling());
    }

    #[test]
    fn polling_never_outlasts_twice_the_work_that_earned_it() {
        let mut g = Governor::new(us(50));
        g.on = true;
        g.worked(us(8));
        assert!(g.spun(us(10)));
        assert!(!g.spun(us(6)), "8 us of work earn 16 us of polling");
        // Credit carries across gaps that polling covered, up to the maximum.
        let mut g = Governor::new(us(40));
        g.on = true;
        g.worked(us(15));
        assert!(g.spun(us(5)));
        g.worked(us(15));
        assert_eq!(g.credit, us(40), "capped at busy-poll-us");
    }

    #[test]
    fn polling_stops_after_three_gaps_longer_than_the_work() {
        // A lightly loaded worker: 5 us of work, then 40 us until the next request.
        let mut g = Governor::new(us(50));
        g.on = true;
        for i in 0..MISSES {
            assert!(g.on, "still on after {i} misses");
            g.worked(us(5));
            while g.spun(us(1)) {}
            assert_eq!(g.spent, us(10), "spent what the work earned, no more");
            g.woke(us(30));
        }
        assert!(!g.on);
        // Off, it sleeps at once after its work, and such gaps keep it off.
        g.worked(us(5));
        assert!(!g.polling());
        g.woke(us(40));
        assert!(!g.on);
    }

    #[test]
    fn a_gap_covered_by_polling_resets_the_misses() {
        let mut g = Governor::new(us(50));
        g.on = true;
        g.worked(us(5));
        while g.spun(us(1)) {}
        g.woke(us(25));
        g.worked(us(5));
        while g.spun(us(1)) {}
        g.woke(us(25));
        assert_eq!(g.misses, 2);
        g.worked(us(20));
        assert!(g.spun(us(3)));
        g.worked(us(5)); // the request came while polling
        assert_eq!(g.misses, 0);
        assert!(g.on);
    }

    #[test]
    fn no_credit_no_polling() {
        let mut g = Governor::new(us(50));
        g.woke(us(0));
        assert!(!g.on, "a gap after no work never turns polling on");
        g.on = true;
        g.worked(Duration::ZERO);
        assert!(!g.polling());
    }
}
