//! Start-up and threading: bind the listeners, start one worker thread per core, each with its
//! own single-threaded tokio runtime accepting and serving connections, plus the main thread's
//! runtime for the periodic cron and signals.
//!
//! Why this model (see ARCHITECTURE.md, "Threading"): a connection is served entirely by one
//! thread (read, parse, execute, write) with no hand-off, so one core does what Redis's event
//! loop does at least as cheaply; more cores serve more connections in parallel, meeting only
//! at the shard locks of the keys they touch and at the short append to the replication log.

use crate::server::Server;
use anyhow::Context;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tern_config::Config;

/// A running server, as returned to the binary (and to in-process tests).
pub struct Running {
    /// The shared state.
    pub srv: Arc<Server>,
    /// The bound addresses.
    pub addrs: Vec<SocketAddr>,
}

/// Sets up logging per `loglevel` and `logfile`. Safe to call once per process.
pub fn init_logging(config: &Config) -> anyhow::Result<()> {
    use tracing_subscriber::filter::LevelFilter;
    let level = match config.get_str("loglevel").as_deref() {
        Some("debug") => LevelFilter::DEBUG,
        Some("verbose") => LevelFilter::DEBUG,
        Some("warning") => LevelFilter::WARN,
        Some("nothing") => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    };
    let logfile = config.get_str("logfile").unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false);
    if logfile.is_empty() {
        use std::io::IsTerminal;
        let ansi = std::io::stderr().is_terminal();
        builder
            .with_ansi(ansi)
            .with_writer(std::io::stderr)
            .try_init()
            .ok();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&logfile)
            .with_context(|| format!("can't open the log file {logfile}"))?;
        builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init()
            .ok();
    }
    Ok(())
}

/// The CPUs this process may run on.
fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The number of worker threads: the `server-threads` setting, or the CPUs this process may run on.
fn worker_count(config: &Config) -> usize {
    match config.get_u64("server-threads") {
        Some(n) if n > 0 => n as usize,
        _ => cpus(),
    }
}

/// Binds every `bind` address on `port` (0: a free port, the same for all addresses).
fn bind(config: &Config, port: u16) -> anyhow::Result<Vec<TcpListener>> {
    let backlog = config.get_u64("tcp-backlog").unwrap_or(511) as i32;
    let mut out = Vec::new();
    let mut chosen_port = port;
    for addr in config.bind() {
        // Redis's "-" prefix marks an optional address: failing to bind it is not fatal.
        let (optional, host) = match addr.strip_prefix('-') {
            Some(h) => (true, h.to_string()),
            None => (false, addr.clone()),
        };
        let ip: std::net::IpAddr = match host.parse() {
            Ok(ip) => ip,
            Err(_) if host == "*" => "0.0.0.0".parse().expect("literal"),
            Err(_) if host == "::*" => "::".parse().expect("literal"),
            Err(e) => anyhow::bail!("invalid bind address '{host}': {e}"),
        };
        let sa = SocketAddr::new(ip, chosen_port);
        let domain = if ip.is_ipv6() {
            socket2::Domain::IPV6
        } else {
            socket2::Domain::IPV4
        };
        let sock = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
        sock.set_reuse_address(true)?;
        if ip.is_ipv6() {
            let _ = sock.set_only_v6(true);
        }
        match sock.bind(&sa.into()).and_then(|_| sock.listen(backlog)) {
            Ok(()) => {}
            Err(e) if optional => {
                tracing::warn!(address = %sa, error = %e, "could not bind optional address");
                continue;
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("could not create server TCP listening socket {sa}"))
            }
        }
        sock.set_nonblocking(true)?;
        let l: TcpListener = sock.into();
        // With --port 0 the first listener picks a port and the others reuse it.
        chosen_port = l.local_addr()?.port();
        out.push(l);
    }
    anyhow::ensure!(!out.is_empty(), "no address to listen on");
    Ok(out)
}

/// Runs the server until SHUTDOWN or a signal. Returns when the server has stopped.
pub fn run(mut config: Config) -> anyhow::Result<()> {
    init_logging(&config)?;
    // `jemalloc-bg-thread` (default yes, as in Redis): jemalloc's background threads return
    // freed pages to the OS over its decay time even while the server is idle; without them
    // purging only happens during later allocations, and RSS stays high after a big delete.
    if config.get_bool("jemalloc-bg-thread").unwrap_or(true) {
        if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
            tracing::warn!(error = %e, "could not enable jemalloc background threads");
        }
    }
    let workers = worker_count(&config);
    // A worker that polls keeps its CPU from the others: with more workers than CPUs, polling
    // would delay their requests rather than save anyone a wakeup, so it is turned off.
    let cpus = cpus();
    if workers > cpus && config.get_u64("busy-poll-us").unwrap_or(0) > 0 {
        tracing::info!(
            workers,
            cpus,
            "busy polling off: more worker threads than CPUs"
        );
        config
            .load_str("busy-poll-us 0", "more workers than CPUs")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    // TLS is configured before anything is bound: a bad certificate stops start-up.
    let tls =
        crate::tls::build(&config).map_err(|e| anyhow::anyhow!("Failed to configure TLS: {e}"))?;
    let tls_port = config.get_u64("tls-port").unwrap_or(0) as u16;
    // `port 0` beside a `tls-port` means no plain-TCP listener, as in Redis; alone, tern takes
    // it as "any free port" (tests, several servers on one machine).
    let plain = if config.port() == 0 && tls_port > 0 {
        Vec::new()
    } else {
        bind(&config, config.port())?
    };
    let secure = if tls_port > 0 {
        bind(&config, tls_port)?
    } else {
        Vec::new()
    };
    let addrs: Vec<SocketAddr> = plain.iter().filter_map(|l| l.local_addr().ok()).collect();
    let tls_addrs: Vec<SocketAddr> = secure.iter().filter_map(|l| l.local_addr().ok()).collect();
    let port = addrs.first().map_or(0, |a| a.port());
    // With `--port 0`, CONFIG GET port reports the port actually bound, as INFO does.
    config
        .load_str(&format!("port {port}"), "bound port")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let srv = Server::new(config, workers);
    srv.port.store(port as u64, Relaxed);
    crate::tls::install(&srv, tls);
    crate::families::acl::load_at_startup(&srv)
        .map_err(|e| anyhow::anyhow!("Aborting Redis startup because of ACL errors: {e}"))?;
    let listeners: Vec<(TcpListener, bool)> = plain
        .into_iter()
        .map(|l| (l, false))
        .chain(secure.into_iter().map(|l| (l, true)))
        .collect();
    // The dataset is loaded before any worker accepts a connection: clients that connect
    // meanwhile wait in the listen backlog.
    crate::loader::load_at_startup(&srv)?;
    start_disk_backlog(&srv)?;
    let upstream = srv.config.read().replicaof();
    if let Some((host, port)) = upstream {
        crate::repl::replica::follow(&srv, host, port);
    }
    tracing::info!(
        version = crate::server::TERN_VERSION,
        redis_version = crate::server::REDIS_VERSION,
        pid = std::process::id(),
        workers,
        "tern starting"
    );
    for (w, _) in (0..workers).enumerate() {
        let srv = srv.clone();
        let ls: Vec<(TcpListener, bool)> = listeners
            .iter()
            .map(|(l, tls)| l.try_clone().map(|l| (l, *tls)))
            .collect::<Result<_, _>>()?;
        std::thread::Builder::new()
            .name(format!("tern-worker-{w}"))
            .spawn(move || worker(srv, ls))?;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Install the signal handlers before announcing readiness, so a SIGTERM sent as soon as
    // the ready line appears is handled rather than killing the process.
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        let _guard = rt.enter();
        (
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
        )
    };
    if !addrs.is_empty() {
        let ports: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
        tracing::info!(port, addresses = %ports.join(" "), "Ready to accept connections tcp");
    }
    if !tls_addrs.is_empty() {
        let ports: Vec<String> = tls_addrs.iter().map(|a| a.to_string()).collect();
        tracing::info!(tls_port, addresses = %ports.join(" "), "Ready to accept connections tls");
    }
    rt.block_on(async {
        let mut signals = signals;
        loop {
            let cron = tokio::spawn(crate::cron::run(srv.clone()));
            wait_for_stop(&srv, &mut signals).await;
            // The cron runs on this thread and locks shards: it stops before the final save,
            // which keeps every shard locked until the process exits.
            cron.abort();
            let req = srv.shutdown_req.lock().take();
            let (mode, force, reply) = match req {
                Some(r) => (r.save, r.force, Some(r.reply)),
                None => (crate::snapshot::FinalSave::Default, false, None),
            };
            let s = srv.clone();
            let r = tokio::task::spawn_blocking(move || crate::snapshot::final_save(&s, mode))
                .await
                .unwrap_or(Ok(()));
            match r {
                Err(e) if !force => {
                    // With save points configured, a failed save keeps the server running, as
                    // in Redis.
                    tracing::warn!("Errors trying to shut down the server. Check the logs for more information.");
                    srv.shutting_down.store(false, Relaxed);
                    if let Some(tx) = reply {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
                _ => {
                    if let Some(tx) = reply {
                        let _ = tx.send(Ok(()));
                    }
                    break;
                }
            }
        }
    });
    // The disk backlog gets the stream's last bytes, so a restart can resume from it.
    if let Err(e) = srv.log.flush_disk() {
        tracing::warn!("Error writing the disk backlog at shutdown: {e}");
    }
    // Everything acknowledged is already in the AOF; make the rest durable too.
    if let Err(e) = crate::aof::set_enabled(&srv, false) {
        tracing::warn!("Error flushing the AOF at shutdown: {e}");
    }
    tracing::info!("tern is now ready to exit, bye bye...");
    Ok(())
}

async fn wait_for_stop(
    srv: &Server,
    signals: &mut (tokio::signal::unix::Signal, tokio::signal::unix::Signal),
) {
    let (term, int) = signals;
    // `notify_waiters` reaches only the waits that exist when it is called: register first,
    // then look at the flag, so a SHUTDOWN that came before this wait is not missed (its
    // worker would wait for our answer forever).
    let requested = srv.shutdown.notified();
    tokio::pin!(requested);
    requested.as_mut().enable();
    if srv.shutting_down.load(std::sync::atomic::Ordering::SeqCst) {
        tracing::info!("User requested shutdown...");
        return;
    }
    tokio::select! {
        _ = term.recv() => tracing::info!("Received SIGTERM scheduling shutdown..."),
        _ = int.recv() => tracing::info!("Received SIGINT scheduling shutdown..."),
        _ = requested => tracing::info!("User requested shutdown..."),
    }
    srv.request_shutdown();
}

fn worker(srv: Arc<Server>, listeners: Vec<(TcpListener, bool)>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "could not start a worker runtime");
            return;
        }
    };
    let stats = srv.stats.new_worker(srv.table.ids());
    srv.worker_handles.lock().push(rt.handle().clone());
    let tasks = rt.block_on(async move {
        let mut tasks = Vec::new();
        for (l, tls) in listeners {
            let l = match tokio::net::TcpListener::from_std(l) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(error = %e, "listener");
                    continue;
                }
            };
            let srv = srv.clone();
            let stats = stats.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    match l.accept().await {
                        // The TLS handshake runs in the connection's own task, so a slow or
                        // stalled one delays nobody else.
                        Ok((stream, _)) if tls => {
                            tokio::spawn(crate::tls::accept(srv.clone(), stream, stats.clone()));
                        }
                        Ok((stream, _)) => {
                            tokio::spawn(crate::conn::serve(srv.clone(), stream, stats.clone()));
                        }
                        Err(e) => {
                            // EMFILE and friends: back off briefly instead of spinning.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        }
                    }
                }
            }));
        }
        tasks
    });
    // Runs until the process exits; scripts run between turns of the event loop.
    crate::scripting::drive_worker(&rt, async move {
        for t in tasks {
            let _ = t.await;
        }
    });
}

/// With `repl-backlog-size` above `repl-backlog-memory`, the backlog's older part lives in
/// segment files under `dir`/backlog, written by a thread of its own every 10 ms.
fn start_disk_backlog(srv: &Arc<Server>) -> anyhow::Result<()> {
    let (total, memory, dir) = {
        let c = srv.config.read();
        (
            c.get_u64("repl-backlog-size").unwrap_or(1 << 20),
            c.get_u64("repl-backlog-memory").unwrap_or(16 << 20),
            c.dir().join("backlog"),
        )
    };
    if total <= memory {
        return Ok(());
    }
    let replid = srv.replid.read().clone();
    srv.log
        .enable_disk(&dir, total, &replid)
        .with_context(|| format!("could not open the disk backlog in {}", dir.display()))?;
    let weak = Arc::downgrade(srv);
    std::thread::Builder::new()
        .name("tern-backlog".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_millis(10));
            let Some(srv) = weak.upgrade() else { return };
            if let Err(e) = srv.log.flush_disk() {
                tracing::warn!("Error writing the disk backlog: {e}");
            }
        })?;
    Ok(())
}
