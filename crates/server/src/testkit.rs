//! A socket-free harness for command tests: a [`Server`], one client on it, commands in and
//! decoded reply frames out, plus the replication log decoded back into commands so tests can
//! assert propagated forms.
//!
//! ```
//! use tern_server::testkit::TestDb;
//! use tern_resp::Frame;
//!
//! let mut t = TestDb::new();
//! let start = t.log_offset();
//! assert_eq!(t.run(&["SET", "k", "v", "EX", "10"]), Frame::Simple("OK".into()));
//! let log = t.log_since(start);
//! assert_eq!(log.last().unwrap()[..4], ["SET", "k", "v", "PXAT"]);
//! ```

use crate::ctx::Client;
use crate::dispatch::{self, Flow};
use crate::server::{now_ms, Server};
use std::sync::Arc;
use tern_config::Config;
use tern_resp::{Frame, ReplyWriter};

/// One client of a server, driven by direct calls to dispatch.
pub struct TestDb {
    /// The server.
    pub srv: Arc<Server>,
    /// The client's private state (selected db, ...).
    pub cl: Client,
    /// The client's reply buffer; `run` drains it.
    pub out: ReplyWriter,
    /// When set, commands run at this Unix time in milliseconds instead of the real clock.
    pub clock: Option<i64>,
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb::new()
    }
}

impl TestDb {
    /// A default-configured server with one shard.
    pub fn new() -> TestDb {
        TestDb::with_workers(1)
    }

    /// A default-configured server sized for `workers` threads (4 workers make 16 shards).
    pub fn with_workers(workers: usize) -> TestDb {
        TestDb::with_config(Config::default(), workers)
    }

    /// A server built from `config`.
    pub fn with_config(config: Config, workers: usize) -> TestDb {
        TestDb::connect(Server::new(config, workers))
    }

    /// A new client on an existing server (for tests with several clients).
    pub fn connect(srv: Arc<Server>) -> TestDb {
        // Commands run synchronously here, so scripts run inline instead of on the script
        // thread.
        srv.scripts
            .inline
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let info = srv.clients.register("test".into(), "test".into(), -1);
        let stats = srv.stats.new_worker(srv.table.ids());
        let mut cl = Client::new(info, stats, true);
        // A connection's client: ACL rules apply to it (the default user allows everything).
        let epoch = srv.acl.epoch.load(std::sync::atomic::Ordering::Relaxed);
        cl.set_user(srv.acl.default_user(), epoch);
        TestDb {
            srv,
            cl,
            out: ReplyWriter::new(),
            clock: None,
        }
    }

    /// The time commands run at, Unix milliseconds.
    pub fn now(&self) -> i64 {
        self.clock.unwrap_or_else(now_ms)
    }

    /// Runs one command and returns its reply. Panics if the command writes no reply, more
    /// than one, or waits on CLIENT PAUSE.
    pub fn run<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
        assert!(!argv.is_empty(), "a command needs a name");
        self.out.buf.clear();
        let now = self.now();
        let flow = dispatch::execute(&self.srv, &mut self.cl, &mut self.out, &argv, now);
        assert_eq!(flow, Flow::Continue, "command was paused");
        let (frame, used) = Frame::decode(&self.out.buf).expect("one complete reply");
        assert_eq!(used, self.out.buf.len(), "more than one reply");
        frame
    }

    /// The replication offset now; pass it to [`TestDb::log_since`] later.
    pub fn log_offset(&self) -> u64 {
        self.srv.log.offset()
    }

    /// The commands appended to the replication log since `offset`, SELECTs included, each as
    /// its arguments (lossily decoded as UTF-8).
    pub fn log_since(&self, offset: u64) -> Vec<Vec<String>> {
        let bytes = self
            .srv
            .log
            .since(offset)
            .expect("offset still in the backlog");
        let mut rest = &bytes[..];
        let mut cmds = Vec::new();
        while !rest.is_empty() {
            let (frame, used) = Frame::decode(rest).expect("the log holds whole commands");
            rest = &rest[used..];
            let Frame::Array(items) = frame else {
                panic!("log entry is not an array: {frame:?}");
            };
            cmds.push(
                items
                    .iter()
                    .map(|f| String::from_utf8_lossy(f.as_bytes().expect("bulk")).into_owned())
                    .collect(),
            );
        }
        cmds
    }

    /// Like [`TestDb::log_since`] without the SELECTs the log inserts between databases.
    pub fn writes_since(&self, offset: u64) -> Vec<Vec<String>> {
        let mut v = self.log_since(offset);
        v.retain(|c| !c[0].eq_ignore_ascii_case("SELECT"));
        v
    }
}

/// Shorthands for building expected frames in tests.
pub mod frames {
    use tern_resp::Frame;

    /// `+OK`
    pub fn ok() -> Frame {
        Frame::Simple("OK".into())
    }

    /// A bulk string.
    pub fn bulk(s: impl AsRef<[u8]>) -> Frame {
        Frame::Bulk(s.as_ref().to_vec())
    }

    /// An integer.
    pub fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    /// An error with this whole text.
    pub fn err(s: &str) -> Frame {
        Frame::Error(s.into())
    }

    /// An array of bulk strings.
    pub fn bulks<S: AsRef<[u8]>>(items: &[S]) -> Frame {
        Frame::Array(items.iter().map(bulk).collect())
    }
}
