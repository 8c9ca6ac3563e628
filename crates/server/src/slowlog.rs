//! SLOWLOG: the most recent commands that took longer than `slowlog-log-slower-than`.

use parking_lot::Mutex;
use std::collections::VecDeque;

/// Redis keeps at most 32 arguments per entry.
const MAX_ARGC: usize = 32;
/// ...and at most 128 bytes of each.
const MAX_ARG_LEN: usize = 128;

/// One slow command.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    /// Unique, increasing id.
    pub id: u64,
    /// Unix time in seconds when it was logged.
    pub time: i64,
    /// Duration in microseconds.
    pub duration_us: u64,
    /// The (possibly shortened) arguments.
    pub args: Vec<Vec<u8>>,
    /// Client address.
    pub addr: String,
    /// Client name.
    pub name: String,
}

/// The slow log.
#[derive(Debug)]
pub struct SlowLog {
    inner: Mutex<(VecDeque<SlowEntry>, u64, usize)>,
}

impl SlowLog {
    /// A slow log keeping `max_len` entries.
    pub fn new(max_len: usize) -> SlowLog {
        SlowLog {
            inner: Mutex::new((VecDeque::new(), 0, max_len)),
        }
    }

    /// Changes the maximum length (CONFIG SET slowlog-max-len), trimming old entries.
    pub fn set_max_len(&self, n: usize) {
        let mut g = self.inner.lock();
        g.2 = n;
        while g.0.len() > n {
            g.0.pop_back();
        }
    }

    /// Records a command, shortening its arguments as Redis does.
    pub fn push(&self, args: &[&[u8]], duration_us: u64, addr: String, name: String) {
        let mut v = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if i == MAX_ARGC - 1 && args.len() > MAX_ARGC {
                v.push(format!("... ({} more arguments)", args.len() - MAX_ARGC + 1).into_bytes());
                break;
            }
            if a.len() > MAX_ARG_LEN {
                let mut s = a[..MAX_ARG_LEN].to_vec();
                s.extend(format!("... ({} more bytes)", a.len() - MAX_ARG_LEN).bytes());
                v.push(s);
            } else {
                v.push(a.to_vec());
            }
        }
        let mut g = self.inner.lock();
        if g.2 == 0 {
            return;
        }
        let id = g.1;
        g.1 += 1;
        g.0.push_front(SlowEntry {
            id,
            time: crate::server::now_ms() / 1000,
            duration_us,
            args: v,
            addr,
            name,
        });
        while g.0.len() > g.2 {
            g.0.pop_back();
        }
    }

    /// The newest `n` entries (all when n < 0).
    pub fn get(&self, n: i64) -> Vec<SlowEntry> {
        let g = self.inner.lock();
        let take = if n < 0 {
            g.0.len()
        } else {
            (n as usize).min(g.0.len())
        };
        g.0.iter().take(take).cloned().collect()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.inner.lock().0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// SLOWLOG RESET.
    pub fn reset(&self) {
        self.inner.lock().0.clear();
    }
}
