//! INFO and LASTSAVE, and the memory accounting behind INFO memory.
//!
//! INFO produces Redis 7.0's report byte for byte in shape: `# Section` headers, `name:value`
//! lines ending in CRLF, a blank line between sections, sections always in Redis's fixed order
//! whatever order they were asked in. Fields tern has no machinery for yet (AOF, forks, Lua,
//! tracking, defrag...) are reported with the values an idle Redis shows, so that clients and
//! dashboards that parse them keep working.

use crate::ctx::Ctx;
use crate::errors::CmdResult;
use crate::server::{now_us, Server, REDIS_VERSION, TERN_VERSION};
use crate::table::{flags::*, CommandTable, Group, Spec};
use std::fmt::{Display, Write};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::OnceLock;

/// Registers INFO and LASTSAVE.
pub fn register(t: &mut CommandTable) {
    t.add(
        Spec::new("info", -1, LOADING | STALE)
            .group(Group::Server)
            .acl(&["@dangerous"])
            .doc("1.0.0", "Get information and statistics about the server")
            .handler(info),
    );
    t.add(
        Spec::new("lastsave", 1, LOADING | STALE | FAST)
            .group(Group::Server)
            .acl(&["@admin", "@dangerous"])
            .doc(
                "1.0.0",
                "Get the UNIX time stamp of the last successful save to disk",
            )
            .handler(lastsave),
    );
}

/// Every section, in the order Redis prints them.
const SECTIONS: [&str; 13] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// The sections INFO prints without arguments (and for `default`).
const DEFAULT: [&str; 11] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

/// INFO [section ...]
fn info(cx: &mut Ctx) -> CmdResult {
    let text = info_string(cx.srv, &cx.args[1..]);
    cx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

/// LASTSAVE
fn lastsave(cx: &mut Ctx) -> CmdResult {
    cx.out.int(cx.srv.lastsave.load(Relaxed));
    Ok(())
}

/// Which sections the arguments select: `default`, `all`, `everything` or section names,
/// case-insensitively; unknown names select nothing.
fn selected(args: &[&[u8]]) -> [bool; SECTIONS.len()] {
    let mut on = [false; SECTIONS.len()];
    let mut pick = |name: &str| {
        if let Some(i) = SECTIONS.iter().position(|s| *s == name) {
            on[i] = true;
        }
    };
    if args.is_empty() {
        DEFAULT.iter().for_each(|s| pick(s));
    }
    for a in args {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "default" => DEFAULT.iter().for_each(|s| pick(s)),
            "all" | "everything" => SECTIONS.iter().for_each(|s| pick(s)),
            "module_list" => pick("modules"),
            other => pick(other),
        }
    }
    on
}

/// The INFO text for these arguments (the words after INFO).
pub fn info_string(srv: &Server, args: &[&[u8]]) -> String {
    let on = selected(args);
    let mut s = String::with_capacity(4096);
    for (i, name) in SECTIONS.iter().enumerate() {
        if !on[i] {
            continue;
        }
        if !s.is_empty() {
            s.push_str("\r\n");
        }
        match *name {
            "server" => server_section(srv, &mut s),
            "clients" => clients_section(srv, &mut s),
            "memory" => memory_section(srv, &mut s),
            "persistence" => persistence_section(srv, &mut s),
            "stats" => stats_section(srv, &mut s),
            "replication" => replication_section(srv, &mut s),
            "cpu" => cpu_section(&mut s),
            "modules" => s.push_str("# Modules\r\n"),
            "commandstats" => commandstats_section(srv, &mut s),
            "errorstats" => errorstats_section(srv, &mut s),
            "latencystats" => s.push_str("# Latencystats\r\n"),
            "cluster" => s.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            "keyspace" => keyspace_section(srv, &mut s),
            _ => unreachable!("every section has a writer"),
        }
    }
    s
}

/// Appends one `name:value` line.
fn kv(s: &mut String, name: &str, value: impl Display) {
    let _ = write!(s, "{name}:{value}\r\n");
}

fn server_section(srv: &Server, s: &mut String) {
    let (hz, config_file) = {
        let c = srv.config.read();
        (c.hz(), srv.config_file.clone().unwrap_or_default())
    };
    let uptime = srv.started.elapsed().as_secs();
    s.push_str("# Server\r\n");
    kv(s, "redis_version", REDIS_VERSION);
    kv(s, "tern_version", TERN_VERSION);
    kv(s, "redis_git_sha1", "00000000");
    kv(s, "redis_git_dirty", 0);
    kv(s, "redis_build_id", build_id());
    kv(s, "redis_mode", "standalone");
    kv(s, "os", os_name());
    kv(s, "arch_bits", usize::BITS);
    kv(s, "monotonic_clock", "POSIX clock_gettime");
    kv(s, "multiplexing_api", "epoll");
    kv(s, "atomicvar_api", "c11-builtin");
    kv(s, "gcc_version", "0.0.0");
    kv(s, "process_id", std::process::id());
    kv(s, "process_supervised", "no");
    kv(s, "run_id", &srv.run_id);
    kv(s, "tcp_port", srv.port.load(Relaxed));
    kv(s, "server_time_usec", now_us());
    kv(s, "uptime_in_seconds", uptime);
    kv(s, "uptime_in_days", uptime / 86400);
    kv(s, "hz", hz);
    kv(s, "configured_hz", hz);
    kv(s, "lru_clock", tern_keyspace::db::lru_clock());
    kv(s, "executable", &srv.executable);
    kv(s, "config_file", config_file);
    kv(s, "io_threads_active", 0);
}

/// A stable 16-hex-digit id for this build (Redis hashes its build environment).
fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        use sha1::Digest;
        let d = sha1::Sha1::digest(format!("tern-{TERN_VERSION}").as_bytes());
        hex::encode(&d[..8])
    })
}

/// `uname -s -r -m`, as Redis's `os` field.
fn os_name() -> &'static str {
    static OS: OnceLock<String> = OnceLock::new();
    OS.get_or_init(|| {
        // SAFETY: uname fills a zeroed struct of NUL-terminated arrays.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        if unsafe { libc::uname(&mut u) } != 0 {
            return std::env::consts::OS.to_string();
        }
        let field = |a: &[libc::c_char]| {
            // SAFETY: uname NUL-terminates every field it fills.
            unsafe { std::ffi::CStr::from_ptr(a.as_ptr()) }
                .to_string_lossy()
                .into_owned()
        };
        format!(
            "{} {} {}",
            field(&u.sysname),
            field(&u.release),
            field(&u.machine)
        )
    })
}

fn clients_section(srv: &Server, s: &mut String) {
    let all = srv.clients.all();
    let max_in = all.iter().map(|c| c.qbuf.load(Relaxed)).max().unwrap_or(0);
    let max_out = all.iter().map(|c| c.omem.load(Relaxed)).max().unwrap_or(0);
    let blocked = all
        .iter()
        .filter(|c| c.flags.load(Relaxed) & crate::clients::cflags::BLOCKED != 0)
        .count();
    s.push_str("# Clients\r\n");
    kv(s, "connected_clients", all.len());
    kv(s, "cluster_connections", 0);
    kv(s, "maxclients", srv.hot.maxclients.load(Relaxed));
    kv(s, "client_recent_max_input_buffer", max_in);
    kv(s, "client_recent_max_output_buffer", max_out);
    kv(s, "blocked_clients", blocked);
    kv(s, "tracking_clients", 0);
    kv(s, "clients_in_timeout_table", 0);
}

/// Bytes allocated by the process (jemalloc's `stats.allocated`; Redis's used_memory).
pub fn used_memory() -> u64 {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    stats::allocated::read().map(|v| v as u64).unwrap_or(0)
}

/// Resident set size from /proc/self/statm (0 where that is unavailable).
pub fn used_memory_rss() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|t| t.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    pages * page_size()
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

fn total_system_memory() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
    if pages > 0 {
        pages as u64 * page_size()
    } else {
        0
    }
}

/// Formats a byte count as Redis's `bytesToHuman`: `512B`, `1.50K`, `2.00M`, ...
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u64, char); 5] = [
        (1 << 10, 'K'),
        (1 << 20, 'M'),
        (1 << 30, 'G'),
        (1 << 40, 'T'),
        (1 << 50, 'P'),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    for (i, (unit, c)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1).map(|u| u.0).unwrap_or(1 << 60);
        if n < next {
            return format!("{:.2}{c}", n as f64 / *unit as f64);
        }
    }
    format!("{n}B")
}

/// `a / b` with two decimals, 0 when `b` is 0.
fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        "0.00".into()
    } else {
        format!("{:.2}", a as f64 / b as f64)
    }
}

/// Memory the keyspace's hash tables take beyond keys and values (Redis counts it as overhead).
fn dict_overhead(srv: &Server) -> u64 {
    let ks = &srv.keyspace;
    let mut total = 0u64;
    for i in 0..ks.shard_count() {
        let g = ks.lock(i);
        for d in &g.dbs {
            total += (d.keys.allocated_bytes() + d.expires.allocated_bytes()) as u64;
        }
    }
    total
}

fn memory_section(srv: &Server, s: &mut String) {
    use tikv_jemalloc_ctl::stats;
    let used = used_memory();
    let rss = used_memory_rss();
    let peak = srv.stats.peak_memory.fetch_max(used, Relaxed).max(used);
    let active = stats::active::read().map(|v| v as u64).unwrap_or(used);
    let resident = stats::resident::read().map(|v| v as u64).unwrap_or(rss);
    let startup = srv.used_memory_startup;
    let clients: u64 = srv
        .clients
        .all()
        .iter()
        .map(|c| (c.qbuf.load(Relaxed) + c.omem.load(Relaxed)) as u64)
        .sum();
    let backlog = srv.log.memory_backlog_len() as u64;
    let overhead = (startup + clients + backlog + dict_overhead(srv)).min(used.max(startup));
    let dataset = used.saturating_sub(overhead);
    let net = used.saturating_sub(startup).max(1);
    let system = total_system_memory();
    let (maxmemory, policy) = {
        let c = srv.config.read();
        (c.maxmemory(), c.maxmemory_policy())
    };
    let diff = |a: u64, b: u64| a as i64 - b as i64;
    s.push_str("# Memory\r\n");
    kv(s, "used_memory", used);
    kv(s, "used_memory_human", bytes_to_human(used));
    kv(s, "used_memory_rss", rss);
    kv(s, "used_memory_rss_human", bytes_to_human(rss));
    kv(s, "used_memory_peak", peak);
    kv(s, "used_memory_peak_human", bytes_to_human(peak));
    kv(
        s,
        "used_memory_peak_perc",
        format!("{:.2}%", used as f64 * 100.0 / peak.max(1) as f64),
    );
    kv(s, "used_memory_overhead", overhead);
    kv(s, "used_memory_startup", startup);
    kv(s, "used_memory_dataset", dataset);
    kv(
        s,
        "used_memory_dataset_perc",
        format!("{:.2}%", dataset as f64 * 100.0 / net as f64),
    );
    kv(s, "allocator_allocated", used);
    kv(s, "allocator_active", active);
    kv(s, "allocator_resident", resident);
    kv(s, "total_system_memory", system);
    kv(s, "total_system_memory_human", bytes_to_human(system));
    // The Lua memory figures are not measured (they read as an unused VM's); the counts are.
    let (libraries, functions) = srv.scripts.functions.counts();
    kv(s, "used_memory_lua", 0);
    kv(s, "used_memory_vm_eval", 0);
    kv(s, "used_memory_lua_human", "0B");
    kv(s, "used_memory_scripts_eval", 0);
    kv(s, "number_of_cached_scripts", srv.scripts.len());
    kv(s, "number_of_functions", functions);
    kv(s, "number_of_libraries", libraries);
    kv(s, "used_memory_vm_functions", 0);
    kv(s, "used_memory_vm_total", 0);
    kv(s, "used_memory_vm_total_human", "0B");
    kv(s, "used_memory_functions", 0);
    kv(s, "used_memory_scripts", 0);
    kv(s, "used_memory_scripts_human", "0B");
    kv(s, "maxmemory", maxmemory);
    kv(s, "maxmemory_human", bytes_to_human(maxmemory));
    kv(s, "maxmemory_policy", policy);
    kv(s, "allocator_frag_ratio", ratio(active, used));
    kv(s, "allocator_frag_bytes", diff(active, used));
    kv(s, "allocator_rss_ratio", ratio(resident, active));
    kv(s, "allocator_rss_bytes", diff(resident, active));
    kv(s, "rss_overhead_ratio", ratio(rss, resident));
    kv(s, "rss_overhead_bytes", diff(rss, resident));
    kv(s, "mem_fragmentation_ratio", ratio(rss, used));
    kv(s, "mem_fragmentation_bytes", diff(rss, used));
    kv(s, "mem_not_counted_for_evict", 0);
    kv(s, "mem_replication_backlog", backlog);
    kv(s, "mem_total_replication_buffers", backlog);
    kv(s, "mem_clients_slaves", 0);
    kv(s, "mem_clients_normal", clients);
    kv(s, "mem_cluster_links", 0);
    kv(s, "mem_aof_buffer", 0);
    kv(s, "mem_allocator", "jemalloc-5.3.0");
    kv(s, "active_defrag_running", 0);
    kv(s, "lazyfree_pending_objects", 0);
    kv(s, "lazyfreed_objects", 0);
}

fn persistence_section(srv: &Server, s: &mut String) {
    s.push_str("# Persistence\r\n");
    let sv = &srv.saver;
    let st = sv.stats();
    let running = sv.in_progress();
    kv(s, "loading", 0);
    kv(s, "async_loading", 0);
    // Tern does not fork: the "copy-on-write" figures report the records writes serialized
    // ahead of the snapshot walker (see snapshot.rs), the memory a snapshot costs.
    kv(
        s,
        "current_cow_peak",
        if running { sv.peak_pending() } else { 0 },
    );
    kv(
        s,
        "current_cow_size",
        if running { sv.current_pending() } else { 0 },
    );
    kv(s, "current_cow_size_age", 0);
    kv(s, "current_fork_perc", "0.00");
    let (processed, total) = if running {
        (sv.keys_processed.load(Relaxed), sv.keys_total.load(Relaxed))
    } else {
        (0, 0)
    };
    kv(s, "current_save_keys_processed", processed);
    kv(s, "current_save_keys_total", total);
    kv(s, "rdb_changes_since_last_save", srv.dirty.load(Relaxed));
    kv(s, "rdb_bgsave_in_progress", running as u8);
    kv(s, "rdb_last_save_time", srv.lastsave.load(Relaxed));
    kv(
        s,
        "rdb_last_bgsave_status",
        if st.last_ok { "ok" } else { "err" },
    );
    kv(s, "rdb_last_bgsave_time_sec", st.last_time_sec);
    let current = st.started.map_or(-1, |t| t.elapsed().as_secs() as i64);
    kv(s, "rdb_current_bgsave_time_sec", current);
    kv(s, "rdb_saves", st.saves);
    kv(s, "rdb_last_cow_size", st.last_cow);
    kv(
        s,
        "rdb_last_load_keys_expired",
        sv.loaded_expired.load(Relaxed),
    );
    kv(s, "rdb_last_load_keys_loaded", sv.loaded_keys.load(Relaxed));
    let aof = &srv.aof;
    kv(s, "aof_enabled", aof.on() as u8);
    // Acquire: a client that sees the rewrite over sees the saver free (snapshot.rs).
    let rewriting = aof
        .rewrite_in_progress
        .load(std::sync::atomic::Ordering::Acquire);
    kv(s, "aof_rewrite_in_progress", rewriting as u8);
    kv(
        s,
        "aof_rewrite_scheduled",
        aof.rewrite_scheduled.load(Relaxed) as u8,
    );
    kv(
        s,
        "aof_last_rewrite_time_sec",
        aof.last_rewrite_secs.load(Relaxed),
    );
    let current = if rewriting {
        st.started.map_or(-1, |t| t.elapsed().as_secs() as i64)
    } else {
        -1
    };
    kv(s, "aof_current_rewrite_time_sec", current);
    let ok = |b: bool| if b { "ok" } else { "err" };
    kv(
        s,
        "aof_last_bgrewrite_status",
        ok(aof.last_rewrite_ok.load(Relaxed)),
    );
    kv(s, "aof_rewrites", aof.rewrites.load(Relaxed));
    kv(s, "aof_rewrites_consecutive_failures", 0);
    kv(s, "aof_last_write_status", ok(!aof.failing()));
    kv(s, "aof_last_cow_size", 0);
    kv(s, "module_fork_in_progress", 0);
    kv(s, "module_fork_last_cow_size", 0);
    if aof.on() {
        kv(s, "aof_current_size", aof.current_size.load(Relaxed));
        kv(s, "aof_base_size", aof.base_size.load(Relaxed));
        kv(s, "aof_pending_rewrite", 0);
        kv(s, "aof_buffer_length", 0);
        kv(s, "aof_pending_bio_fsync", 0);
        kv(s, "aof_delayed_fsync", 0);
    }
}

/// Commands per second over the cron's recent samples (Redis's instantaneous_ops_per_sec).
fn ops_per_sec(srv: &Server) -> u64 {
    let samples = srv.stats.ops_samples.lock();
    match (samples.front(), samples.back()) {
        (Some(&(t0, c0)), Some(&(t1, c1))) if t1 > t0 => {
            c1.saturating_sub(c0) * 1000 / (t1 - t0) as u64
        }
        _ => 0,
    }
}

fn stats_section(srv: &Server, s: &mut String) {
    let st = &srv.stats;
    s.push_str("# Stats\r\n");
    kv(
        s,
        "total_connections_received",
        st.connections_received.load(Relaxed),
    );
    kv(s, "total_commands_processed", st.sum(|w| w.commands.get()));
    kv(s, "instantaneous_ops_per_sec", ops_per_sec(srv));
    kv(s, "total_net_input_bytes", st.sum(|w| w.net_input.get()));
    kv(s, "total_net_output_bytes", st.sum(|w| w.net_output.get()));
    kv(s, "total_net_repl_input_bytes", 0);
    kv(s, "total_net_repl_output_bytes", 0);
    for name in [
        "instantaneous_input_kbps",
        "instantaneous_output_kbps",
        "instantaneous_input_repl_kbps",
        "instantaneous_output_repl_kbps",
    ] {
        kv(s, name, "0.00");
    }
    kv(
        s,
        "rejected_connections",
        st.rejected_connections.load(Relaxed),
    );
    kv(s, "sync_full", srv.repl.sync_full.load(Relaxed));
    kv(s, "sync_partial_ok", srv.repl.sync_partial_ok.load(Relaxed));
    kv(
        s,
        "sync_partial_err",
        srv.repl.sync_partial_err.load(Relaxed),
    );
    kv(s, "expired_keys", st.expired_keys.load(Relaxed));
    kv(s, "expired_stale_perc", "0.00");
    kv(s, "expired_time_cap_reached_count", 0);
    kv(
        s,
        "expire_cycle_cpu_milliseconds",
        st.expire_cycle_us.load(Relaxed) / 1000,
    );
    kv(s, "evicted_keys", srv.evict.evicted.load(Relaxed));
    kv(s, "evicted_clients", 0);
    kv(s, "total_eviction_exceeded_time", 0);
    kv(s, "current_eviction_exceeded_time", 0);
    kv(s, "keyspace_hits", st.sum(|w| w.hits.get()));
    kv(s, "keyspace_misses", st.sum(|w| w.misses.get()));
    let (channels, patterns, shard_channels) = srv.pubsub.counts();
    kv(s, "pubsub_channels", channels);
    kv(s, "pubsub_patterns", patterns);
    kv(s, "pubsubshard_channels", shard_channels);

    for name in [
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
    ] {
        kv(s, name, 0);
    }
    kv(s, "tracking_total_keys", srv.tracking.total_keys());
    kv(s, "tracking_total_items", srv.tracking.total_keys());
    kv(s, "tracking_total_prefixes", srv.tracking.total_prefixes());
    kv(s, "unexpected_error_replies", 0);
    kv(s, "total_error_replies", st.sum(|w| w.errors.get()));
    for name in [
        "dump_payload_sanitizations",
        "total_reads_processed",
        "total_writes_processed",
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ] {
        kv(s, name, 0);
    }
}

fn replication_section(srv: &Server, s: &mut String) {
    use crate::repl::{replica, state};
    let offset = srv.log.offset();
    let (first, histlen) = srv.log.backlog_range();
    let now = crate::server::now_ms();
    s.push_str("# Replication\r\n");
    if let Some(up) = replica::upstream(srv) {
        kv(s, "role", "slave");
        kv(s, "master_host", &up.host);
        kv(s, "master_port", up.port);
        let st = up.state.load(Relaxed);
        let linked = st == replica::link::CONNECTED;
        kv(s, "master_link_status", if linked { "up" } else { "down" });
        let io = if linked {
            (now - up.last_io_ms.load(Relaxed)) / 1000
        } else {
            -1
        };
        kv(s, "master_last_io_seconds_ago", io);
        let syncing = st == replica::link::SYNC;
        kv(s, "master_sync_in_progress", syncing as u8);
        kv(s, "slave_read_repl_offset", offset);
        kv(s, "slave_repl_offset", offset);
        if syncing {
            kv(s, "master_sync_total_bytes", up.sync_total.load(Relaxed));
            kv(s, "master_sync_read_bytes", up.sync_read.load(Relaxed));
            kv(
                s,
                "master_sync_left_bytes",
                (up.sync_total.load(Relaxed) - up.sync_read.load(Relaxed)).max(-1),
            );
            kv(s, "master_sync_perc", "0.00");
            kv(
                s,
                "master_sync_last_io_seconds_ago",
                (now - up.last_io_ms.load(Relaxed)) / 1000,
            );
        }
        if !linked {
            let down = up.down_since_ms.load(Relaxed);
            kv(
                s,
                "master_link_down_since_seconds",
                if down > 0 { (now - down) / 1000 } else { -1 },
            );
        }
        kv(
            s,
            "slave_priority",
            srv.config.read().get_i64("replica-priority").unwrap_or(100),
        );
        kv(
            s,
            "slave_read_only",
            srv.config
                .read()
                .get_bool("replica-read-only")
                .unwrap_or(true) as u8,
        );
        kv(s, "replica_announced", 1);
    } else {
        kv(s, "role", "master");
    }
    let links = srv.repl.links();
    kv(s, "connected_slaves", links.len());
    for (i, l) in links.iter().enumerate() {
        let st = match l.state.load(Relaxed) {
            state::WAIT_BGSAVE => "wait_bgsave",
            state::SEND_BULK => "send_bulk",
            _ => "online",
        };
        s.push_str(&format!(
            "slave{i}:ip={},port={},state={st},offset={},lag={}\r\n",
            l.ip,
            l.port,
            l.ack_offset.load(Relaxed),
            (now - l.ack_time_ms.load(Relaxed)) / 1000
        ));
    }
    let need = srv.hot.min_replicas.load(Relaxed);
    if need > 0 {
        kv(
            s,
            "min_slaves_good_slaves",
            srv.repl
                .good_replicas(srv.hot.min_replicas_lag.load(Relaxed)),
        );
    }
    kv(
        s,
        "master_failover_state",
        crate::repl::failover::state_name(srv.repl.failover_state.load(Relaxed)),
    );
    kv(s, "master_replid", srv.replid.read().as_str());
    match srv.repl.replid2.read().as_ref() {
        Some((id, valid)) => {
            kv(s, "master_replid2", id.as_str());
            kv(s, "master_repl_offset", offset);
            kv(s, "second_repl_offset", valid + 1);
        }
        None => {
            kv(s, "master_replid2", "0".repeat(40));
            kv(s, "master_repl_offset", offset);
            kv(s, "second_repl_offset", -1);
        }
    }
    let active = srv.log.backlog_active();
    kv(s, "repl_backlog_active", active as u8);
    kv(s, "repl_backlog_size", srv.log.backlog_capacity());
    // Redis numbers the stream's bytes from 1: the first byte held is at offset+1 (0 while
    // the backlog is freed).
    kv(
        s,
        "repl_backlog_first_byte_offset",
        if active { first + 1 } else { 0 },
    );
    kv(s, "repl_backlog_histlen", histlen);
}

/// CPU time of `who` (RUSAGE_*) as Redis prints it: system, user.
fn cpu_times(who: libc::c_int) -> (String, String) {
    // SAFETY: getrusage fills the zeroed struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return ("0.000000".into(), "0.000000".into());
    }
    let f = |t: libc::timeval| format!("{}.{:06}", t.tv_sec, t.tv_usec);
    (f(ru.ru_stime), f(ru.ru_utime))
}

fn cpu_section(s: &mut String) {
    let (sys, user) = cpu_times(libc::RUSAGE_SELF);
    let (csys, cuser) = cpu_times(libc::RUSAGE_CHILDREN);
    // Tern has no single main thread; the thread serving INFO stands in for it.
    #[cfg(target_os = "linux")]
    let (tsys, tuser) = cpu_times(libc::RUSAGE_THREAD);
    #[cfg(not(target_os = "linux"))]
    let (tsys, tuser) = (sys.clone(), user.clone());
    s.push_str("# CPU\r\n");
    kv(s, "used_cpu_sys", sys);
    kv(s, "used_cpu_user", user);
    kv(s, "used_cpu_sys_children", csys);
    kv(s, "used_cpu_user_children", cuser);
    kv(s, "used_cpu_sys_main_thread", tsys);
    kv(s, "used_cpu_user_main_thread", tuser);
}

fn commandstats_section(srv: &Server, s: &mut String) {
    s.push_str("# Commandstats\r\n");
    let ids = srv.table.ids();
    let per = srv.stats.per_command(ids);
    let mut rows: Vec<_> = per
        .into_iter()
        .enumerate()
        .filter(|(_, (calls, _, rejected, failed))| *calls + *rejected + *failed > 0)
        .filter_map(|(id, st)| Some((srv.table.name_of(id)?, st)))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(b.0));
    for (name, (calls, usec, rejected, failed)) in rows {
        let per_call = if calls == 0 {
            0.0
        } else {
            usec as f64 / calls as f64
        };
        let _ = write!(
            s,
            "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={per_call:.2},\
             rejected_calls={rejected},failed_calls={failed}\r\n"
        );
    }
}

fn errorstats_section(srv: &Server, s: &mut String) {
    s.push_str("# Errorstats\r\n");
    for (prefix, count) in srv.stats.errorstats.lock().iter() {
        let _ = write!(s, "errorstat_{prefix}:count={count}\r\n");
    }
}

/// Keys and keys with a TTL per database, summed over the shards (each locked in turn).
pub fn keyspace_counts(srv: &Server) -> Vec<(u64, u64)> {
    let ks = &srv.keyspace;
    let mut counts = vec![(0u64, 0u64); ks.databases()];
    for i in 0..ks.shard_count() {
        let g = ks.lock(i);
        for (db, d) in g.dbs.iter().enumerate() {
            counts[db].0 += d.keys.len() as u64;
            counts[db].1 += d.expires.len() as u64;
        }
    }
    counts
}

fn keyspace_section(srv: &Server, s: &mut String) {
    s.push_str("# Keyspace\r\n");
    for (db, (keys, expires)) in keyspace_counts(srv).into_iter().enumerate() {
        if keys > 0 {
            let _ = write!(s, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
        }
    }
}

#[cfg(test)]
mod tests;
