//! The harness: starts the real `tern` binary (and Debian's real `redis-server`) on 127.0.0.1,
//! hands out clients (the `redis` crate, sync and async, or a raw TCP socket with a small RESP
//! reader), and stops the process when the test ends.
//!
//! Every wait here is bounded: a server that does not come up within 10 s fails the test with
//! its log; a reply that does not arrive within the socket timeout fails the test.
//!
//! Setting `TERN_IT_SERVER=redis` makes [`TestServer`] start the real redis-server instead of
//! tern. That checks the tests themselves: an assertion that fails against Redis is wrong.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::time::{Duration, Instant};

pub use redis::Value;

/// The tern binary cargo built for this test run.
pub const TERN: &str = env!("CARGO_BIN_EXE_tern");
/// Debian's redis-server (package redis-server), the reference implementation.
pub const REDIS_SERVER: &str = "/usr/bin/redis-server";
/// Debian's redis-cli (package redis-tools).
pub const REDIS_CLI: &str = "/usr/bin/redis-cli";

/// How long a server may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Socket read/write timeout for every client the harness hands out.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Fails (never skips) when a tool from Debian's packages is missing.
pub fn require_tool(path: &str) -> &str {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: run ./scripts/test, which installs redis-server and redis-tools \
         (CI runs it), or `apt-get install redis-server redis-tools`"
    );
    path
}

/// Raises the open-file limit once, so tests holding a thousand sockets (and the servers they
/// spawn, which inherit the limit) do not run out of descriptors.
fn raise_fd_limit() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
        unsafe {
            let mut rl = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) == 0 {
                let want = rl.rlim_max.min(65536);
                if rl.rlim_cur < want {
                    rl.rlim_cur = want;
                    libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
                }
            }
        }
    });
}

/// A port that was free a moment ago (bind 127.0.0.1:0, read the port, release it).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes. Returns whether it held.
pub fn wait_for(mut cond: impl FnMut() -> bool, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A server process on 127.0.0.1, stopped (SIGTERM, then SIGKILL after 5 s) on drop.
pub struct TestServer {
    child: Option<Child>,
    /// The server's own directory (removed when the server is dropped).
    dir: Option<std::path::PathBuf>,
    port: u16,
    password: Option<String>,
    log: Arc<Mutex<String>>,
    cached: Mutex<Option<redis::Connection>>,
}

/// Copies a child's output into `log` line by line, and forwards each line to `tx`.
fn drain(r: impl Read + Send + 'static, log: Arc<Mutex<String>>, tx: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(r);
        let mut line = Vec::new();
        loop {
            line.clear();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let s = String::from_utf8_lossy(&line).into_owned();
                    log.lock().unwrap().push_str(&s);
                    let _ = tx.send(s);
                }
            }
        }
    });
}

/// Blocks SIGCHLD in the calling thread (and the threads it starts later). Test servers exit
/// and stop all the time, and a socket read with a timeout (SO_RCVTIMEO, as every client here
/// has) fails with EINTR instead of restarting when a signal handler runs in its thread, which
/// the `redis` crate reports as an error. Blocked, SIGCHLD goes to another thread; waitpid
/// still reaps children.
pub fn block_sigchld() {
    // SAFETY: sigset manipulation on a local set, and pthread_sigmask on this thread only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// A fresh directory for one test's files, `tern-it-<pid>-<name>` under the temp dir.
pub fn test_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tern-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a test directory");
    dir
}

/// Unix time in seconds.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// TTL of `key`.
pub fn ttl(c: &mut redis::Connection, key: &str) -> i64 {
    as_int(&ok(c, &["TTL", key]))
}

/// PTTL of `key`.
pub fn pttl(c: &mut redis::Connection, key: &str) -> i64 {
    as_int(&ok(c, &["PTTL", key]))
}

/// Redis's error for an argument that must be an integer.
pub const NOT_INT: &str = "ERR value is not an integer or out of range";

/// Starts tern (two workers) with its files in `dir`, then `extra` directives.
pub fn start_in(dir: &Path, extra: &[&str]) -> TestServer {
    let d = dir.display().to_string();
    let mut args = vec!["--dir", d.as_str(), "--server-threads", "2"];
    args.extend_from_slice(extra);
    TestServer::start_tern(None, &args)
}

/// A new empty directory for one server's files (dump.rdb, AOF), so that no server loads
/// what another one saved.
pub fn server_dir() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tern-it-srv-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir for a test server");
    dir
}

/// Runs `tern server --port 0 --bind 127.0.0.1 <args>`, which must refuse to start: returns
/// what it printed (stderr, then stdout). Panics if it exits successfully or is still running
/// after [`START_TIMEOUT`] (it is killed then), so a regression cannot hang the test.
pub fn tern_refuses_to_start(args: &[&str]) -> String {
    let mut child = Command::new(TERN)
        .args(["server", "--port", "0", "--bind", "127.0.0.1"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tern");
    let deadline = Instant::now() + START_TIMEOUT;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for tern") {
            break st;
        }
        if Instant::now() > deadline {
            kill_child(&mut child);
            panic!("tern did not refuse to start within {START_TIMEOUT:?}; args {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(!status.success(), "tern started with {args:?}:\n{log}");
    log
}

/// Spawns `program args`, its stdout and stderr drained into a shared log. The child gets
/// SIGKILL if the spawning thread dies without dropping it.
pub fn spawn(
    program: &str,
    args: &[String],
) -> (Child, Arc<Mutex<String>>, mpsc::Receiver<String>) {
    raise_fd_limit();
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {program}: {e}"));
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    drain(
        child.stdout.take().expect("stdout"),
        log.clone(),
        tx.clone(),
    );
    drain(child.stderr.take().expect("stderr"), log.clone(), tx);
    (child, log, rx)
}

/// The number after `port=` in tern's Ready line.
pub fn parse_ready_port(line: &str) -> Option<u16> {
    if !line.contains("Ready to accept connections tcp") {
        return None;
    }
    let rest = &line[line.find("port=")? + 5..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

pub fn kill_child(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
    }
    let _ = child.wait();
}

impl TestServer {
    /// Starts tern with the default test arguments.
    pub fn start() -> TestServer {
        TestServer::start_with(&[])
    }

    /// Starts tern with extra `--directive value` arguments (redis-server syntax).
    pub fn start_with(extra: &[&str]) -> TestServer {
        match std::env::var("TERN_IT_SERVER").as_deref() {
            Ok("redis") => TestServer::start_redis(None, extra),
            _ => TestServer::start_tern(None, extra),
        }
    }

    /// Starts tern with a config file (the first positional argument) and extra directives.
    pub fn start_with_config(config: &Path, extra: &[&str]) -> TestServer {
        match std::env::var("TERN_IT_SERVER").as_deref() {
            Ok("redis") => TestServer::start_redis(Some(config), extra),
            _ => TestServer::start_tern(Some(config), extra),
        }
    }

    fn password_in(extra: &[&str]) -> Option<String> {
        extra
            .iter()
            .position(|a| a.eq_ignore_ascii_case("--requirepass"))
            .and_then(|i| extra.get(i + 1))
            .map(|s| s.to_string())
    }

    /// Starts the tern binary and waits for its Ready line.
    pub fn start_tern(config: Option<&Path>, extra: &[&str]) -> TestServer {
        let mut args: Vec<String> = vec!["server".into()];
        if let Some(c) = config {
            args.push(c.display().to_string());
        }
        // Files a test makes the server write (SAVE, a save at exit) go to a directory of
        // this server's own, never into the source tree nor where another server would load
        // them; tests that check files pass their own --dir after this.
        let own_dir = server_dir();
        let tmp = own_dir.display().to_string();
        for a in [
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            &tmp,
            // As Redis's own test suite does: full syncs start at once instead of waiting
            // for more replicas; the tests of the delay pass their own.
            "--repl-diskless-sync-delay",
            "0",
        ] {
            args.push(a.into());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let (mut child, log, rx) = spawn(TERN, &args);
        let deadline = Instant::now() + START_TIMEOUT;
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(p) = parse_ready_port(&line) {
                        break p;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    kill_child(&mut child);
                    panic!(
                        "tern did not print its Ready line within {START_TIMEOUT:?}; args {args:?}; log:\n{}",
                        log.lock().unwrap()
                    );
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().ok();
                    // The drain threads may still be appending the last lines.
                    std::thread::sleep(Duration::from_millis(50));
                    panic!(
                        "tern exited ({status:?}) before it was ready; args {args:?}; log:\n{}",
                        log.lock().unwrap()
                    );
                }
            }
        };
        TestServer {
            child: Some(child),
            dir: Some(own_dir),
            port,
            password: TestServer::password_in(extra),
            log,
            cached: Mutex::new(None),
        }
    }

    /// Starts Debian's redis-server on a free port and waits until it answers PING.
    pub fn start_redis(config: Option<&Path>, extra: &[&str]) -> TestServer {
        require_tool(REDIS_SERVER);
        let mut last_log = String::new();
        // The free port can be taken between our probe and redis's bind: try a few.
        for _ in 0..5 {
            let port = free_port();
            let mut args: Vec<String> = Vec::new();
            if let Some(c) = config {
                args.push(c.display().to_string());
            }
            let dir = server_dir();
            for a in [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                &dir.display().to_string(),
            ] {
                args.push(a.to_string());
            }
            args.extend(extra.iter().map(|s| s.to_string()));
            let (mut child, log, _rx) = spawn(REDIS_SERVER, &args);
            let mut srv = TestServer {
                child: None,
                dir: Some(dir.clone()),
                port,
                password: TestServer::password_in(extra),
                log,
                cached: Mutex::new(None),
            };
            let deadline = Instant::now() + START_TIMEOUT;
            let mut up = false;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if srv.try_ping() {
                    up = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if up {
                // The port may have gone to another test's redis-server between our probe and
                // our bind (ours then exits): the one answering must be our child.
                match srv.answering_pid() {
                    Some(pid) if pid != child.id() => {
                        kill_child(&mut child);
                        last_log =
                            format!("port {port} answered by another redis-server (pid {pid})");
                        continue;
                    }
                    _ => {
                        srv.child = Some(child);
                        return srv;
                    }
                }
            }
            kill_child(&mut child);
            last_log = srv.logs();
        }
        panic!("redis-server did not start; log:\n{last_log}");
    }

    /// The pid the server on our port reports (INFO server `process_id`), authenticating
    /// with the configured password; None when INFO cannot be asked (a test's ACL rules).
    fn answering_pid(&self) -> Option<u32> {
        let url = match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}/", self.port),
            None => self.url(),
        };
        let client = redis::Client::open(url).ok()?;
        let mut c = client
            .get_connection_with_timeout(Duration::from_secs(5))
            .ok()?;
        let info: String = redis::cmd("INFO").arg("server").query(&mut c).ok()?;
        info_field(&info, "process_id")?.parse().ok()
    }

    /// Whether a fresh connection gets PONG (any reply to PING counts, even NOAUTH, but not
    /// LOADING: redis-server answers events while it loads, even between the first commands
    /// of a tiny AOF, before it truncates a damaged one).
    fn try_ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(self.addr()) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut b = [0u8; 64];
        matches!(s.read(&mut b), Ok(n) if n > 0 && !b[..n].starts_with(b"-LOADING"))
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The `redis://` URL (no password).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Everything the server logged so far (stdout and stderr).
    pub fn logs(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the server's log holds `needle` (a line reaches the test through a pipe a
    /// moment after the reply that caused it); panics with the log after `limit`.
    pub fn wait_log(&self, needle: &str, limit: Duration) {
        assert!(
            wait_for(|| self.logs().contains(needle), limit),
            "{needle:?} not in the log within {limit:?}:\n{}",
            self.logs()
        );
    }

    /// Resident memory in KiB, from /proc/<pid>/status.
    pub fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/<pid>/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS line")
    }

    /// CPU time (user and system, all threads) the process has used, from /proc/<pid>/stat.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .expect("read /proc/<pid>/stat");
        // The fields after the command name (which is in parentheses and may hold spaces):
        // state is field 3, utime 14 and stime 15, in clock ticks (USER_HZ, 100 on Linux).
        let rest = &stat[stat.rfind(')').expect("comm") + 2..];
        let f: Vec<u64> = rest
            .split(' ')
            .skip(11)
            .take(2)
            .map(|v| v.parse().expect("ticks"))
            .collect();
        Duration::from_millis((f[0] + f[1]) * 10)
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A connected `redis` crate client (RESP2, not authenticated).
    pub fn client(&self) -> redis::Connection {
        self.client_url(&self.url())
    }

    /// A client that speaks RESP3 (HELLO 3 on connect).
    pub fn client_resp3(&self) -> redis::Connection {
        self.client_url(&format!("{}?protocol=resp3", self.url()))
    }

    /// A client that authenticates with `password` on connect.
    pub fn client_auth(&self, password: &str) -> redis::Connection {
        self.client_url(&format!("redis://:{password}@127.0.0.1:{}/", self.port))
    }

    fn client_url(&self, url: &str) -> redis::Connection {
        block_sigchld();
        let c = redis::Client::open(url).expect("client URL");
        let con = c
            .get_connection_with_timeout(IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("connect {url}: {e}; server log:\n{}", self.logs()));
        con.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        con.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
        con
    }

    /// A multiplexed async client (for use inside a tokio runtime).
    pub async fn async_client(&self) -> redis::aio::MultiplexedConnection {
        let c = redis::Client::open(self.url()).expect("client URL");
        tokio::time::timeout(IO_TIMEOUT, c.get_multiplexed_async_connection())
            .await
            .expect("async connect timed out")
            .expect("async connect")
    }

    /// A raw TCP connection with read and write timeouts.
    pub fn raw(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr()).expect("connect");
        s.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        s.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
        s.set_nodelay(true).expect("nodelay");
        s
    }

    /// A raw TCP connection with a RESP reader.
    pub fn raw_conn(&self) -> Raw {
        Raw::new(self.raw())
    }

    /// Runs one command on a shared connection (authenticated if the server was started with
    /// `--requirepass`) and panics with the server log if it fails.
    pub fn must_cmd(&self, args: &[&str]) -> Value {
        let mut g = self.cached.lock().unwrap();
        if g.is_none() {
            *g = Some(match &self.password {
                Some(p) => self.client_auth(p),
                None => self.client(),
            });
        }
        let con = g.as_mut().expect("just set");
        match cmd(args).query::<Value>(con) {
            Ok(v) => v,
            Err(e) => {
                *g = None;
                panic!("{args:?} failed: {e}; server log:\n{}", self.logs())
            }
        }
    }

    /// Fails unless a fresh client gets PONG.
    pub fn assert_alive(&self) {
        if let Some(ch) = &self.child {
            // try_wait needs &mut; a zero-signal kill tells whether the pid is still ours.
            // SAFETY: signal 0 only checks the process exists.
            let alive = unsafe { libc::kill(ch.id() as libc::pid_t, 0) } == 0;
            assert!(alive, "the server process died; log:\n{}", self.logs());
        }
        let mut c = match &self.password {
            Some(p) => self.client_auth(p),
            None => self.client(),
        };
        let pong: String = redis::cmd("PING")
            .query(&mut c)
            .unwrap_or_else(|e| panic!("PING failed: {e}; log:\n{}", self.logs()));
        assert_eq!(pong, "PONG");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.cached.lock().map(|mut g| g.take()).ok();
        if let Some(mut child) = self.child.take() {
            kill_child(&mut child);
        }
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Debian's real redis-server, for differential tests and client-compatibility checks.
pub struct RedisServer(pub TestServer);

impl RedisServer {
    /// Starts `/usr/bin/redis-server --port <free> --bind 127.0.0.1 --save '' --appendonly no`
    /// and waits until it answers PING. Fails if redis-server is not installed.
    pub fn start() -> RedisServer {
        RedisServer(TestServer::start_redis(None, &[]))
    }
}

impl std::ops::Deref for RedisServer {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.0
    }
}

// ---------------------------------------------------------------------------------------------
// Commands through the `redis` crate.

/// A `redis::Cmd` from string arguments.
pub fn cmd(args: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c
}

/// A `redis::Cmd` from byte arguments.
pub fn cmd_bytes(args: &[Vec<u8>]) -> redis::Cmd {
    let mut c = redis::cmd(std::str::from_utf8(&args[0]).unwrap_or("?"));
    for a in &args[1..] {
        c.arg(&a[..]);
    }
    c
}

/// The full text of a server error ("ERR syntax error", "WRONGTYPE Operation ..."), or None
/// for client-side errors (I/O, parse).
pub fn server_error_text(e: &redis::RedisError) -> Option<String> {
    let code = e.code()?;
    Some(match e.detail() {
        Some(d) => format!("{code} {d}"),
        None => code.to_string(),
    })
}

/// Runs a command: Ok(reply) or Err(full server error text). Panics on I/O errors.
pub fn query(con: &mut redis::Connection, c: &redis::Cmd) -> Result<Value, String> {
    match c.query::<Value>(con) {
        Ok(v) => Ok(v),
        Err(e) => Err(server_error_text(&e)
            .unwrap_or_else(|| panic!("client error (not a server reply): {e}"))),
    }
}

/// Runs a command given as strings: Ok(reply) or Err(full server error text).
pub fn q(con: &mut redis::Connection, args: &[&str]) -> Result<Value, String> {
    query(con, &cmd(args))
}

/// Runs a command that must succeed, returning its reply.
pub fn ok(con: &mut redis::Connection, args: &[&str]) -> Value {
    q(con, args).unwrap_or_else(|e| panic!("{args:?} replied with an error: {e}"))
}

/// Runs a command that must fail, returning the full error text.
pub fn err(con: &mut redis::Connection, args: &[&str]) -> String {
    match q(con, args) {
        Ok(v) => panic!("{args:?} should have failed but replied {v:?}"),
        Err(e) => e,
    }
}

/// A bulk string value.
pub fn bulk(s: impl AsRef<[u8]>) -> Value {
    Value::BulkString(s.as_ref().to_vec())
}

/// An integer value.
pub fn int(i: i64) -> Value {
    Value::Int(i)
}

/// A bulk or simple string reply as text; panics on anything else.
pub fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::VerbatimString { text, .. } => text.clone(),
        other => panic!("expected a string reply, got {other:?}"),
    }
}

/// An integer reply; panics on anything else.
pub fn as_int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("expected an integer reply, got {other:?}"),
    }
}

/// An array reply's items; panics on anything else.
pub fn items(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) | Value::Set(a) => a.clone(),
        other => panic!("expected an array reply, got {other:?}"),
    }
}

/// An array of strings as texts, sorted.
pub fn sorted_texts(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = items(v).iter().map(text).collect();
    out.sort();
    out
}

/// The value of `field:` in an INFO text.
pub fn info_field(info: &str, field: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

// ---------------------------------------------------------------------------------------------
// Raw RESP.

/// A reply parsed from the wire, RESP2 and RESP3.
#[derive(Debug, Clone, PartialEq)]
pub enum Resp {
    /// `+...`
    Simple(String),
    /// `-...`
    Error(String),
    /// `:...`
    Int(i64),
    /// `$...` (None for `$-1`)
    Bulk(Option<Vec<u8>>),
    /// `*...` (None for `*-1`)
    Array(Option<Vec<Resp>>),
    /// `_`
    Null,
    /// `%...`
    Map(Vec<(Resp, Resp)>),
    /// `~...`
    Set(Vec<Resp>),
    /// `,...` (kept as text)
    Double(String),
    /// `#t` / `#f`
    Bool(bool),
    /// `=...` (format and text)
    Verbatim(String, Vec<u8>),
    /// `(...`
    BigNumber(String),
    /// `>...`
    Push(Vec<Resp>),
}

impl Resp {
    /// A bulk reply's bytes as text; panics otherwise.
    pub fn text(&self) -> String {
        match self {
            Resp::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            Resp::Simple(s) => s.clone(),
            Resp::Verbatim(_, b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("expected a string, got {other:?}"),
        }
    }

    /// A bulk reply with these bytes.
    pub fn bulk(s: impl AsRef<[u8]>) -> Resp {
        Resp::Bulk(Some(s.as_ref().to_vec()))
    }
}

/// A raw connection: write any bytes, read RESP replies (with the socket's timeouts).
pub struct Raw {
    /// The socket.
    pub stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
}

/// Encodes a command as a RESP multibulk.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl Raw {
    /// Wraps a connected socket.
    pub fn new(stream: TcpStream) -> Raw {
        Raw {
            stream,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Writes bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Writes bytes, ignoring errors (the server may have closed the connection already).
    pub fn send_lossy(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends a command as a multibulk and reads one reply.
    pub fn cmd(&mut self, args: &[&str]) -> Resp {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send(&encode(&a));
        self.read_reply()
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads one CRLF-terminated line (without the CRLF).
    pub fn read_line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf[self.pos..].windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[self.pos..self.pos + i]).into_owned();
                self.pos += i + 2;
                return line;
            }
            match self.fill() {
                Ok(0) => panic!(
                    "connection closed while waiting for a line; have {:?}",
                    String::from_utf8_lossy(&self.buf[self.pos..])
                ),
                Ok(_) => {}
                Err(e) => panic!(
                    "read failed waiting for a line: {e}; have {:?}",
                    String::from_utf8_lossy(&self.buf[self.pos..])
                ),
            }
        }
    }

    fn read_exact_bytes(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() - self.pos < n + 2 {
            match self.fill() {
                Ok(0) => panic!("connection closed inside a bulk reply"),
                Ok(_) => {}
                Err(e) => panic!("read failed inside a bulk reply: {e}"),
            }
        }
        let out = self.buf[self.pos..self.pos + n].to_vec();
        assert_eq!(&self.buf[self.pos + n..self.pos + n + 2], b"\r\n");
        self.pos += n + 2;
        out
    }

    /// Reads one complete reply.
    pub fn read_reply(&mut self) -> Resp {
        let line = self.read_line();
        let (t, rest) = line.split_at(1.min(line.len()));
        let num = || -> i64 {
            rest.parse()
                .unwrap_or_else(|_| panic!("bad length in {line:?}"))
        };
        match t {
            "+" => Resp::Simple(rest.to_string()),
            "-" => Resp::Error(rest.to_string()),
            ":" => Resp::Int(num()),
            "$" => {
                let n = num();
                if n < 0 {
                    Resp::Bulk(None)
                } else {
                    Resp::Bulk(Some(self.read_exact_bytes(n as usize)))
                }
            }
            "*" => {
                let n = num();
                if n < 0 {
                    Resp::Array(None)
                } else {
                    Resp::Array(Some((0..n).map(|_| self.read_reply()).collect()))
                }
            }
            "_" => Resp::Null,
            "%" => Resp::Map(
                (0..num())
                    .map(|_| (self.read_reply(), self.read_reply()))
                    .collect(),
            ),
            "~" => Resp::Set((0..num()).map(|_| self.read_reply()).collect()),
            ">" => Resp::Push((0..num()).map(|_| self.read_reply()).collect()),
            "," => Resp::Double(rest.to_string()),
            "#" => Resp::Bool(rest == "t"),
            "(" => Resp::BigNumber(rest.to_string()),
            "=" => {
                let b = self.read_exact_bytes(num() as usize);
                let (fmt, body) = b.split_at(4.min(b.len()));
                Resp::Verbatim(
                    String::from_utf8_lossy(&fmt[..3.min(fmt.len())]).into_owned(),
                    body.to_vec(),
                )
            }
            _ => panic!("not a RESP reply: {line:?}"),
        }
    }

    /// Bytes received but not yet parsed.
    pub fn unread(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Waits up to `timeout` for the server to close the connection (EOF or reset), ignoring
    /// any bytes that arrive first. Returns whether it closed.
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.stream
                .set_read_timeout(Some(left.min(Duration::from_millis(200))))
                .expect("set timeout");
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return true,
            }
        }
    }

    /// Closes our side for writing (the server sees EOF).
    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

// ---------------------------------------------------------------------------------------------
// Atomicity across cores.

/// Starts a server on two worker threads (tern) or the plain redis-server, then runs `writers`
/// threads that each call `write` `rounds` times (each call must increment keys `x` and `y`
/// together), while a reader checks with MGET that it never sees one incremented without the
/// other (`what` names the unit in the failure). Finally both keys must equal
/// `writers * rounds`.
pub fn assert_x_y_never_torn(
    what: &'static str,
    writers: usize,
    rounds: usize,
    write: fn(&mut redis::Connection),
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let srv = if std::env::var("TERN_IT_SERVER").as_deref() == Ok("redis") {
        TestServer::start()
    } else {
        TestServer::start_with(&["--server-threads", "2"])
    };
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..writers)
        .map(|_| {
            let mut c = srv.client();
            std::thread::spawn(move || {
                for _ in 0..rounds {
                    write(&mut c);
                }
            })
        })
        .collect();
    let reader = {
        let mut c = srv.client();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let (x, y): (Option<i64>, Option<i64>) = redis::cmd("MGET")
                    .arg("x")
                    .arg("y")
                    .query(&mut c)
                    .expect("MGET");
                assert_eq!(x, y, "saw half a {what}");
                reads += 1;
            }
            reads
        })
    };
    for h in handles {
        h.join().expect("writer");
    }
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().expect("reader") > 0);
    let n = (writers * rounds).to_string();
    let mut c = srv.client();
    assert_eq!(
        ok(&mut c, &["MGET", "x", "y"]),
        Value::Array(vec![bulk(&n), bulk(&n)])
    );
}
