//! Pub/sub delivery (Redis's pubsub.c): who is subscribed to which channels, patterns and
//! shard channels, and PUBLISH fanning a message out to their connections.
//!
//! Each subscribed connection owns a [`Subscriber`]: a byte queue into its connection task
//! (which writes the messages between commands, see `conn.rs`) and a count of the bytes
//! queued and not yet written. Publishing appends the message's bytes to the queue, as Redis
//! appends to a client's reply buffer, and wakes the connection only when the queue was empty:
//! no allocation per receiver, and one wakeup and one write for a burst of messages. A publisher encodes the message once per protocol (a RESP2
//! array or a RESP3 push) and queues it for every receiver while holding the registry lock, so
//! messages on one channel reach every subscriber in the one order they were published in.
//!
//! `client-output-buffer-limit pubsub <hard> <soft> <seconds>` (Redis's default 32mb 8mb 60)
//! bounds what a subscriber that does not read can cost: past the hard limit, or past the soft
//! one for longer than its seconds, the subscriber is dropped from the registry and its
//! connection is closed (the socket is shut down, which also unblocks a connection stuck
//! writing to a full socket), as Redis closes it "for overcoming of output buffer limits".

use crate::clients::ClientInfo;
use crate::glob;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// The queue between publishers and one connection.
struct Queue {
    buf: Mutex<Vec<u8>>,
    notify: tokio::sync::Notify,
    /// The [`Subscriber`] is gone: nothing more will come.
    closed_tx: AtomicBool,
    /// The [`PushRx`] is gone: the connection no longer reads.
    closed_rx: AtomicBool,
}

impl Queue {
    fn take(&self) -> Option<Vec<u8>> {
        let mut b = self.buf.lock();
        if b.is_empty() {
            return None;
        }
        Some(std::mem::take(&mut *b))
    }
}

/// The connection's end of a [`Subscriber`]'s queue.
pub struct PushRx {
    q: Arc<Queue>,
}

impl PushRx {
    /// Everything queued so far, waiting until there is something; None once the
    /// [`Subscriber`] is dropped and the queue is empty.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        let q = self.q.clone();
        loop {
            // Created before the check: a send in between leaves a permit, never a lost wakeup.
            let notified = q.notify.notified();
            if let Some(bytes) = q.take() {
                return Some(bytes);
            }
            if q.closed_tx.load(std::sync::atomic::Ordering::Acquire) {
                return q.take();
            }
            notified.await;
        }
    }

    /// Everything queued so far, or Err(()) if nothing is.
    #[allow(clippy::result_unit_err)]
    pub fn try_recv(&mut self) -> Result<Vec<u8>, ()> {
        self.q.take().ok_or(())
    }
}

impl Drop for PushRx {
    fn drop(&mut self) {
        self.q
            .closed_rx
            .store(true, std::sync::atomic::Ordering::Release);
    }
}

/// A subscribed connection, as publishers see it.
pub struct Subscriber {
    /// The client (CLIENT LIST, kills).
    pub info: Arc<ClientInfo>,
    /// The client speaks RESP3 (messages are pushes).
    pub resp3: AtomicBool,
    q: Arc<Queue>,
    /// Bytes queued and not yet written to the socket.
    pub pending: AtomicUsize,
    /// Since when (ms) `pending` has been over the soft limit; 0 when under it.
    soft_since: AtomicI64,
    /// Dropped for exceeding the output buffer limit.
    pub dropped: AtomicBool,
}

impl Subscriber {
    /// A subscriber and the receiving end its connection reads.
    pub fn new(info: Arc<ClientInfo>, resp3: bool) -> (Arc<Subscriber>, PushRx) {
        let q = Arc::new(Queue {
            buf: Mutex::new(Vec::new()),
            notify: tokio::sync::Notify::new(),
            closed_tx: AtomicBool::new(false),
            closed_rx: AtomicBool::new(false),
        });
        let s = Arc::new(Subscriber {
            info,
            resp3: AtomicBool::new(resp3),
            q: q.clone(),
            pending: AtomicUsize::new(0),
            soft_since: AtomicI64::new(0),
            dropped: AtomicBool::new(false),
        });
        (s, PushRx { q })
    }

    /// Appends bytes to the queue, waking the connection if it had nothing to write.
    fn push(&self, bytes: &[u8]) {
        let was_empty = {
            let mut b = self.q.buf.lock();
            let was_empty = b.is_empty();
            b.extend_from_slice(bytes);
            was_empty
        };
        if was_empty {
            self.q.notify.notify_one();
        }
    }

    /// Queues bytes for the connection (an invalidation message, see `tracking.rs`).
    pub fn send(&self, bytes: Vec<u8>) {
        self.pending.fetch_add(bytes.len(), Relaxed);
        self.push(&bytes);
    }

    /// True once the connection is gone.
    pub fn tx_closed(&self) -> bool {
        self.q.closed_rx.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Called by the connection after it wrote `n` queued bytes.
    pub fn written(&self, n: usize) {
        self.pending
            .fetch_sub(n.min(self.pending.load(Relaxed)), Relaxed);
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.q
            .closed_tx
            .store(true, std::sync::atomic::Ordering::Release);
        self.q.notify.notify_one();
    }
}

/// The three namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / PUBLISH.
    Channel,
    /// PSUBSCRIBE.
    Pattern,
    /// SSUBSCRIBE / SPUBLISH.
    Shard,
}

#[derive(Default)]
struct Inner {
    channels: HashMap<Vec<u8>, Vec<Arc<Subscriber>>>,
    patterns: HashMap<Vec<u8>, Vec<Arc<Subscriber>>>,
    shard: HashMap<Vec<u8>, Vec<Arc<Subscriber>>>,
}

impl Inner {
    fn map(&mut self, kind: Kind) -> &mut HashMap<Vec<u8>, Vec<Arc<Subscriber>>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }
}

/// The output buffer limit for subscribers, copied from the config.
#[derive(Default)]
pub struct Limits {
    /// Hard limit in bytes (0 = none).
    pub hard: AtomicU64,
    /// Soft limit in bytes (0 = none).
    pub soft: AtomicU64,
    /// Seconds the soft limit may be exceeded.
    pub soft_seconds: AtomicU64,
}

/// The registry.
#[derive(Default)]
pub struct PubSub {
    inner: Mutex<Inner>,
    /// Every live subscriber by client id (CLIENT TRACKING REDIRECT targets).
    sinks: Mutex<HashMap<u64, std::sync::Weak<Subscriber>>>,
    /// `client-output-buffer-limit pubsub`.
    pub limits: Limits,
    /// Clients dropped for exceeding the limit (INFO stats client_output_buffer_limit_disconnections
    /// is a 7.2 field; kept for tests and logs).
    pub dropped: AtomicU64,
}

/// Encodes a message for a subscriber: `[kind, (pattern,) channel, payload]`.
fn encode(resp3: bool, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + parts.iter().map(|p| p.len() + 16).sum::<usize>());
    out.push(if resp3 { b'>' } else { b'*' });
    out.extend_from_slice(parts.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for p in parts {
        out.push(b'$');
        out.extend_from_slice(p.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One client's subscriptions (`PubSub::subscriptions_of_user`): channels and shard channels,
/// then patterns.
pub type ClientSubs = (Vec<Vec<u8>>, Vec<Vec<u8>>);

impl PubSub {
    /// The subscriptions of every subscribed client authenticated as `user`, by client id
    /// (ACL SETUSER disconnects those that lost access to one of them).
    pub fn subscriptions_of_user(&self, user: &[u8]) -> HashMap<u64, ClientSubs> {
        let g = self.inner.lock();
        let mut out: HashMap<u64, ClientSubs> = HashMap::new();
        for (map, pattern) in [(&g.channels, false), (&g.shard, false), (&g.patterns, true)] {
            for (name, subs) in map {
                for s in subs {
                    if s.info.user.lock().as_slice() != user {
                        continue;
                    }
                    let e = out.entry(s.info.id).or_default();
                    if pattern {
                        e.1.push(name.clone());
                    } else {
                        e.0.push(name.clone());
                    }
                }
            }
        }
        out
    }

    /// Subscribes `sub` to `name`; false if it already was.
    pub fn subscribe(&self, kind: Kind, name: &[u8], sub: &Arc<Subscriber>) -> bool {
        let mut g = self.inner.lock();
        let list = g.map(kind).entry(name.to_vec()).or_default();
        if list.iter().any(|s| Arc::ptr_eq(s, sub)) {
            return false;
        }
        list.push(sub.clone());
        true
    }

    /// Unsubscribes `sub` from `name`; false if it was not subscribed.
    pub fn unsubscribe(&self, kind: Kind, name: &[u8], sub: &Arc<Subscriber>) -> bool {
        let mut g = self.inner.lock();
        let map = g.map(kind);
        let Some(list) = map.get_mut(name) else {
            return false;
        };
        let before = list.len();
        list.retain(|s| !Arc::ptr_eq(s, sub));
        let removed = list.len() != before;
        if list.is_empty() {
            map.remove(name);
        }
        removed
    }

    /// PUBLISH / SPUBLISH: delivers `msg` and returns the number of receivers, and the ids of
    /// clients dropped for exceeding the output buffer limit (the caller closes them).
    pub fn publish(
        &self,
        kind: Kind,
        channel: &[u8],
        msg: &[u8],
        now_ms: i64,
    ) -> (usize, Vec<u64>) {
        let mut g = self.inner.lock();
        let mut n = 0;
        let mut overflowed: Vec<Arc<Subscriber>> = Vec::new();
        let word: &[u8] = if kind == Kind::Shard {
            b"smessage"
        } else {
            b"message"
        };
        let map = if kind == Kind::Shard {
            &g.shard
        } else {
            &g.channels
        };
        if let Some(list) = map.get(channel) {
            let enc = [
                encode(false, &[word, channel, msg]),
                encode(true, &[word, channel, msg]),
            ];
            for s in list {
                n += self.deliver(s, &enc, now_ms, &mut overflowed);
            }
        }
        if kind == Kind::Channel {
            for (pat, list) in &g.patterns {
                if glob::matches(pat, channel) {
                    let enc = [
                        encode(false, &[b"pmessage", pat, channel, msg]),
                        encode(true, &[b"pmessage", pat, channel, msg]),
                    ];
                    for s in list {
                        n += self.deliver(s, &enc, now_ms, &mut overflowed);
                    }
                }
            }
        }
        let inner = &mut *g;
        let ids = overflowed.iter().map(|s| s.info.id).collect();
        for s in overflowed {
            for map in [&mut inner.channels, &mut inner.patterns, &mut inner.shard] {
                map.retain(|_, list| {
                    list.retain(|x| !Arc::ptr_eq(x, &s));
                    !list.is_empty()
                });
            }
        }
        (n, ids)
    }

    /// Queues one encoded message for `s`, enforcing the output buffer limit. Returns 1 if
    /// the subscriber counts as a receiver.
    fn deliver(
        &self,
        s: &Arc<Subscriber>,
        enc: &[Vec<u8>; 2],
        now_ms: i64,
        overflowed: &mut Vec<Arc<Subscriber>>,
    ) -> usize {
        if s.dropped.load(Relaxed) {
            return 0;
        }
        let bytes = &enc[s.resp3.load(Relaxed) as usize];
        let pending = s.pending.fetch_add(bytes.len(), Relaxed) + bytes.len();
        s.push(bytes);
        let hard = self.limits.hard.load(Relaxed) as usize;
        let soft = self.limits.soft.load(Relaxed) as usize;
        let over_hard = hard > 0 && pending > hard;
        let mut over_soft = false;
        if soft > 0 && pending > soft {
            let since = s.soft_since.load(Relaxed);
            if since == 0 {
                s.soft_since.store(now_ms, Relaxed);
            } else if now_ms - since > self.limits.soft_seconds.load(Relaxed) as i64 * 1000 {
                over_soft = true;
            }
        } else {
            s.soft_since.store(0, Relaxed);
        }
        if over_hard || over_soft {
            s.dropped.store(true, Relaxed);
            self.dropped.fetch_add(1, Relaxed);
            tracing::warn!(
                client = s.info.id,
                addr = %s.info.addr,
                pending,
                "client scheduled to be closed ASAP for overcoming of output buffer limits"
            );
            overflowed.push(s.clone());
        }
        1
    }

    /// Registers `s` as client `s.info.id`'s message sink.
    pub fn register_sink(&self, s: &Arc<Subscriber>) {
        let mut g = self.sinks.lock();
        g.retain(|_, w| w.strong_count() > 0);
        g.insert(s.info.id, Arc::downgrade(s));
    }

    /// Client `id`'s message sink, if it has one (it subscribed or tracks).
    pub fn sink_of(&self, id: u64) -> Option<Arc<Subscriber>> {
        self.sinks.lock().get(&id).and_then(|w| w.upgrade())
    }

    /// True if client `id` is subscribed to channel `name`.
    pub fn is_subscribed(&self, kind: Kind, name: &[u8], id: u64) -> bool {
        let mut g = self.inner.lock();
        g.map(kind)
            .get(name)
            .is_some_and(|l| l.iter().any(|s| s.info.id == id))
    }

    /// Number of channels (or shard channels) with subscribers, and of patterns.
    pub fn counts(&self) -> (usize, usize, usize) {
        let g = self.inner.lock();
        (g.channels.len(), g.patterns.len(), g.shard.len())
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: active names matching `pattern` (all if None).
    pub fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        let mut g = self.inner.lock();
        g.map(kind)
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob::matches(p, c)))
            .cloned()
            .collect()
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB: subscribers of `name`.
    pub fn numsub(&self, kind: Kind, name: &[u8]) -> usize {
        let mut g = self.inner.lock();
        g.map(kind).get(name).map_or(0, |l| l.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(id: u64) -> (Arc<Subscriber>, PushRx) {
        let info = Arc::new(ClientInfo::for_tests(id));
        Subscriber::new(info, false)
    }

    #[test]
    fn publish_reaches_channel_and_pattern_subscribers_in_order() {
        let ps = PubSub::default();
        let (a, mut ra) = sub(1);
        let (b, mut rb) = sub(2);
        assert!(ps.subscribe(Kind::Channel, b"news", &a));
        assert!(!ps.subscribe(Kind::Channel, b"news", &a));
        assert!(ps.subscribe(Kind::Pattern, b"n*", &b));
        assert_eq!(ps.publish(Kind::Channel, b"news", b"one", 0).0, 2);
        assert_eq!(ps.publish(Kind::Channel, b"news", b"two", 0).0, 2);
        assert_eq!(ps.publish(Kind::Channel, b"other", b"x", 0).0, 0);
        // The queue holds both messages, in publication order, and nothing else.
        assert_eq!(
            ra.try_recv().unwrap(),
            b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$3\r\none\r\n\
              *3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$3\r\ntwo\r\n"
        );
        assert!(ra.try_recv().is_err());
        assert_eq!(
            rb.try_recv().unwrap(),
            b"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$3\r\none\r\n\
              *4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$3\r\ntwo\r\n"
        );
        assert!(rb.try_recv().is_err());
        // Shard channels are a namespace of their own.
        assert_eq!(ps.publish(Kind::Shard, b"news", b"s", 0).0, 0);
        assert!(ps.unsubscribe(Kind::Channel, b"news", &a));
        assert!(!ps.unsubscribe(Kind::Channel, b"news", &a));
        assert_eq!(ps.counts(), (0, 1, 0));
    }

    #[test]
    fn a_subscriber_over_the_hard_limit_is_dropped() {
        let ps = PubSub::default();
        ps.limits.hard.store(100, Relaxed);
        let (a, _ra) = sub(1);
        ps.subscribe(Kind::Channel, b"c", &a);
        assert_eq!(ps.publish(Kind::Channel, b"c", &[b'x'; 40], 0).0, 1);
        assert!(!a.dropped.load(Relaxed));
        assert_eq!(
            ps.publish(Kind::Channel, b"c", &[b'x'; 40], 0),
            (1, vec![1])
        );
        assert!(a.dropped.load(Relaxed));
        assert_eq!(ps.publish(Kind::Channel, b"c", b"y", 0).0, 0);
        assert_eq!(ps.counts(), (0, 0, 0));
    }

    #[test]
    fn the_soft_limit_allows_a_burst_for_its_seconds() {
        let ps = PubSub::default();
        ps.limits.soft.store(10, Relaxed);
        ps.limits.soft_seconds.store(1, Relaxed);
        let (a, _ra) = sub(1);
        ps.subscribe(Kind::Channel, b"c", &a);
        ps.publish(Kind::Channel, b"c", b"0123456789", 1_000);
        ps.publish(Kind::Channel, b"c", b"0123456789", 1_500);
        assert!(!a.dropped.load(Relaxed));
        ps.publish(Kind::Channel, b"c", b"0123456789", 2_100);
        assert!(a.dropped.load(Relaxed));
    }
}
