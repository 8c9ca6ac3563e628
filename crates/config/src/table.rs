//! The directive table: one row per configuration directive, with its name,
//! optional alias, value kind, default (written in redis.conf syntax) and flags.
//!
//! To add a directive (for example a Tern-specific one), add a row here; the
//! parser, CONFIG GET/SET/REWRITE and the generic accessors pick it up.

/// A string validator: `Err(reason)` rejects the value.
pub(crate) type Check = fn(&[u8]) -> Result<(), &'static str>;

/// How a directive's value is parsed, shown and rewritten.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// `yes` / `no`.
    Bool,
    /// A strictly written integer within `min..=max`.
    Int { min: i64, max: i64 },
    /// A memory size (`1k`, `1kb`, `1m`, `1mb`, `1g`, `1gb` or bytes) within `min..=max`.
    Memory { min: u64, max: u64 },
    /// A memory size, or a percentage `N%` with `N <= max_percent` (stored negated).
    MemoryOrPercent { max_percent: i64, max: u64 },
    /// An octal number within `0..=max`.
    Octal { max: i64 },
    /// One of a list of names; `alias=name` entries accept `alias` for `name`.
    Enum(&'static [&'static str]),
    /// Any combination of the names after the first; the first names the empty set.
    Flags(&'static [&'static str]),
    /// A string; `null_if_empty` makes the empty string mean "unset".
    Str {
        null_if_empty: bool,
        check: Option<Check>,
    },
    /// A directory that must exist.
    Dir,
    /// `save`: pairs of `<seconds> <changes>`.
    Save,
    /// `bind`: a list of addresses.
    Bind,
    /// `client-output-buffer-limit`: `<class> <hard> <soft> <seconds>` groups.
    ClientOutputBufferLimit,
    /// `notify-keyspace-events`: a set of event-class letters.
    NotifyKeyspaceEvents,
    /// `replicaof`: `<host> <port>` or `no one`.
    ReplicaOf,
    /// `oom-score-adj-values`: three integers.
    OomScoreAdjValues,
    /// `latency-tracking-info-percentiles`: a list of percentiles.
    Percentiles,
}

impl Kind {
    /// Whether the directive takes several arguments (CONFIG SET splits its
    /// value on spaces; a one-argument file line is re-split).
    pub(crate) fn multi_arg(self) -> bool {
        matches!(
            self,
            Kind::Flags(_)
                | Kind::Save
                | Kind::Bind
                | Kind::ClientOutputBufferLimit
                | Kind::ReplicaOf
                | Kind::OomScoreAdjValues
                | Kind::Percentiles
        )
    }
}

/// CONFIG SET refuses the directive: it is read only at start-up.
pub(crate) const IMMUTABLE: u8 = 1;
/// CONFIG SET allows it only as `enable-protected-configs` says.
pub(crate) const PROTECTED: u8 = 2;
/// Its value is a secret (for redacting command logs).
pub(crate) const SENSITIVE: u8 = 4;
/// CONFIG GET shows it only when asked for by exact name.
pub(crate) const HIDDEN: u8 = 8;

/// One configuration directive.
#[derive(Debug)]
pub(crate) struct Directive {
    pub(crate) name: &'static str,
    pub(crate) alias: Option<&'static str>,
    pub(crate) kind: Kind,
    /// The default, in redis.conf syntax (an empty string for empty / unset).
    pub(crate) default: &'static str,
    pub(crate) flags: u8,
}

const I32MAX: i64 = i32::MAX as i64;
const I32MIN: i64 = i32::MIN as i64;
const I64MAX: i64 = i64::MAX;
const U32MAX: i64 = u32::MAX as i64;
const MEM_I64MAX: u64 = i64::MAX as u64;

const fn d(name: &'static str, kind: Kind, default: &'static str, flags: u8) -> Directive {
    Directive {
        name,
        alias: None,
        kind,
        default,
        flags,
    }
}

const fn a(
    name: &'static str,
    alias: &'static str,
    kind: Kind,
    default: &'static str,
    flags: u8,
) -> Directive {
    Directive {
        name,
        alias: Some(alias),
        kind,
        default,
        flags,
    }
}

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

const fn mem(min: u64, max: u64) -> Kind {
    Kind::Memory { min, max }
}

/// A string where empty means unset.
const NSTR: Kind = Kind::Str {
    null_if_empty: true,
    check: None,
};
/// A string where empty is a value of its own.
const STR: Kind = Kind::Str {
    null_if_empty: false,
    check: None,
};
const fn checked(check: Check) -> Kind {
    Kind::Str {
        null_if_empty: false,
        check: Some(check),
    }
}
const fn checked_null(check: Check) -> Kind {
    Kind::Str {
        null_if_empty: true,
        check: Some(check),
    }
}

const PROTECTED_ACTION: Kind = Kind::Enum(&["no", "yes", "local"]);
const SHUTDOWN_ON_SIG: Kind = Kind::Flags(&["default", "save", "nosave", "now", "force"]);

fn base_name(v: &[u8]) -> bool {
    !v.contains(&b'/') && !v.contains(&b'\\')
}

fn check_dbfilename(v: &[u8]) -> Result<(), &'static str> {
    if base_name(v) {
        Ok(())
    } else {
        Err("dbfilename can't be a path, just a filename")
    }
}

fn check_appendfilename(v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        Err("appendfilename can't be empty")
    } else if !base_name(v) {
        Err("appendfilename can't be a path, just a filename")
    } else {
        Ok(())
    }
}

fn check_appenddirname(v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        Err("appenddirname can't be empty")
    } else if !base_name(v) {
        Err("appenddirname can't be a path, just a dirname")
    } else {
        Ok(())
    }
}

fn check_hostname(v: &[u8]) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if v.iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        Ok(())
    } else {
        Err("Hostnames may only contain alphanumeric characters, hyphens or dots")
    }
}

fn check_proc_title_template(v: &[u8]) -> Result<(), &'static str> {
    const BAD: &str = "template format is invalid or contains unknown variables";
    // Variables that always expand to something non-empty.
    const FILLED: [&[u8]; 3] = [b"listen-addr", b"port", b"tls-port"];
    const OTHER: [&[u8]; 4] = [b"title", b"server-mode", b"unixsocket", b"config-file"];
    let mut non_empty = false;
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'{' if v.get(i + 1) == Some(&b'{') => {
                non_empty = true;
                i += 2;
            }
            b'}' if v.get(i + 1) == Some(&b'}') => {
                non_empty = true;
                i += 2;
            }
            b'}' => return Err(BAD),
            b'{' => {
                let len = v[i + 1..].iter().position(|&c| c == b'}').ok_or(BAD)?;
                let var = &v[i + 1..i + 1 + len];
                if FILLED.contains(&var) {
                    non_empty = true;
                } else if !OTHER.contains(&var) {
                    return Err(BAD);
                }
                i += len + 2;
            }
            c => {
                non_empty |= c != b' ';
                i += 1;
            }
        }
    }
    // With an empty title the expansion must still name something.
    if non_empty {
        Ok(())
    } else {
        Err(BAD)
    }
}

/// Every directive, in the order CONFIG GET lists them.
pub(crate) static TABLE: &[Directive] = &[
    // Network.
    d("bind", Kind::Bind, "127.0.0.1", 0),
    d("bind-source-addr", NSTR, "", 0),
    d("protected-mode", Kind::Bool, "yes", 0),
    d(
        "enable-protected-configs",
        PROTECTED_ACTION,
        "no",
        IMMUTABLE,
    ),
    // Tern's default is "yes" (Redis: "no") so that DEBUG works out of the box.
    d("enable-debug-command", PROTECTED_ACTION, "yes", IMMUTABLE),
    d("enable-module-command", PROTECTED_ACTION, "no", IMMUTABLE),
    // Tern cannot move its listener at run time, so port is immutable (Redis: mutable).
    d("port", int(0, 65535), "6379", IMMUTABLE),
    d("tcp-backlog", int(0, I32MAX), "511", IMMUTABLE),
    d("unixsocket", NSTR, "", IMMUTABLE),
    d("unixsocketperm", Kind::Octal { max: 0o777 }, "0", IMMUTABLE),
    d("socket-mark-id", int(0, U32MAX), "0", IMMUTABLE),
    d("timeout", int(0, I32MAX), "0", 0),
    d("tcp-keepalive", int(0, I32MAX), "300", 0),
    // TLS.
    // Like port, tls-port is immutable: tern cannot move its listeners at run time.
    d("tls-port", int(0, 65535), "0", IMMUTABLE),
    d("tls-cert-file", NSTR, "", 0),
    d("tls-key-file", NSTR, "", 0),
    d("tls-key-file-pass", NSTR, "", SENSITIVE),
    d("tls-client-cert-file", NSTR, "", 0),
    d("tls-client-key-file", NSTR, "", 0),
    d("tls-client-key-file-pass", NSTR, "", SENSITIVE),
    d("tls-dh-params-file", NSTR, "", 0),
    d("tls-ca-cert-file", NSTR, "", 0),
    d("tls-ca-cert-dir", NSTR, "", 0),
    d(
        "tls-auth-clients",
        Kind::Enum(&["no", "yes", "optional"]),
        "yes",
        0,
    ),
    d("tls-replication", Kind::Bool, "no", 0),
    d("tls-cluster", Kind::Bool, "no", 0),
    d("tls-protocols", NSTR, "", 0),
    d("tls-ciphers", NSTR, "", 0),
    d("tls-ciphersuites", NSTR, "", 0),
    d("tls-prefer-server-ciphers", Kind::Bool, "no", 0),
    d("tls-session-caching", Kind::Bool, "yes", 0),
    d("tls-session-cache-size", int(0, I32MAX), "20480", 0),
    d("tls-session-cache-timeout", int(0, I32MAX), "300", 0),
    // General.
    // Accepted for compatibility; tern never daemonizes itself.
    d("daemonize", Kind::Bool, "no", IMMUTABLE),
    d(
        "supervised",
        Kind::Enum(&["upstart", "systemd", "auto", "no"]),
        "no",
        IMMUTABLE,
    ),
    d("pidfile", NSTR, "", IMMUTABLE),
    d(
        "loglevel",
        Kind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]),
        "notice",
        0,
    ),
    d("logfile", STR, "", IMMUTABLE),
    d("syslog-enabled", Kind::Bool, "no", IMMUTABLE),
    d("syslog-ident", STR, "tern", IMMUTABLE),
    d(
        "syslog-facility",
        Kind::Enum(&[
            "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        ]),
        "local0",
        IMMUTABLE,
    ),
    d("crash-log-enabled", Kind::Bool, "yes", 0),
    d("crash-memcheck-enabled", Kind::Bool, "yes", 0),
    d("databases", int(1, I32MAX), "16", IMMUTABLE),
    d("always-show-logo", Kind::Bool, "no", IMMUTABLE),
    d("set-proc-title", Kind::Bool, "yes", IMMUTABLE),
    d(
        "proc-title-template",
        checked(check_proc_title_template),
        "{title} {listen-addr} {server-mode}",
        0,
    ),
    d("locale-collate", STR, "", 0),
    // Snapshotting.
    d("save", Kind::Save, "3600 1 300 100 60 10000", 0),
    d("stop-writes-on-bgsave-error", Kind::Bool, "yes", 0),
    d("rdbcompression", Kind::Bool, "yes", 0),
    d("rdbchecksum", Kind::Bool, "yes", IMMUTABLE),
    d(
        "sanitize-dump-payload",
        Kind::Enum(&["no", "yes", "clients"]),
        "no",
        0,
    ),
    d(
        "dbfilename",
        checked(check_dbfilename),
        "dump.rdb",
        PROTECTED,
    ),
    d("rdb-del-sync-files", Kind::Bool, "no", 0),
    // Tern's own: load the valid prefix of an RDB file that was cut short (like
    // aof-load-truncated) instead of refusing to start.
    d("rdb-load-truncated", Kind::Bool, "no", 0),
    d("dir", Kind::Dir, "./", PROTECTED),
    // Replication.
    a("replicaof", "slaveof", Kind::ReplicaOf, "", IMMUTABLE),
    d("masterauth", NSTR, "", SENSITIVE),
    d("masteruser", NSTR, "", SENSITIVE),
    // Tern's own: on a writable replica, keys written locally that match this glob pattern
    // survive a full sync (when the primary's dataset does not have them).
    d("replica-keep-local-keys", NSTR, "", 0),
    a(
        "replica-serve-stale-data",
        "slave-serve-stale-data",
        Kind::Bool,
        "yes",
        0,
    ),
    a("replica-read-only", "slave-read-only", Kind::Bool, "yes", 0),
    d("repl-diskless-sync", Kind::Bool, "yes", 0),
    d("repl-diskless-sync-delay", int(0, I32MAX), "5", 0),
    d("repl-diskless-sync-max-replicas", int(0, I32MAX), "0", 0),
    d(
        "repl-diskless-load",
        Kind::Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled",
        0,
    ),
    a(
        "repl-ping-replica-period",
        "repl-ping-slave-period",
        int(1, I32MAX),
        "10",
        0,
    ),
    d("repl-timeout", int(1, I32MAX), "60", 0),
    d("repl-disable-tcp-nodelay", Kind::Bool, "no", 0),
    d("repl-backlog-size", mem(1, MEM_I64MAX), "1mb", 0),
    // Tern's own: how much of the backlog stays in memory; the rest of `repl-backlog-size`
    // is kept in segment files under `dir`/backlog.
    d("repl-backlog-memory", mem(16 * 1024, MEM_I64MAX), "16mb", 0),
    d("repl-backlog-ttl", int(0, I64MAX), "3600", 0),
    a(
        "replica-priority",
        "slave-priority",
        int(0, I32MAX),
        "100",
        0,
    ),
    d(
        "propagation-error-behavior",
        Kind::Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore",
        0,
    ),
    d("replica-ignore-disk-write-errors", Kind::Bool, "no", 0),
    d("replica-announced", Kind::Bool, "yes", 0),
    a(
        "min-replicas-to-write",
        "min-slaves-to-write",
        int(0, I32MAX),
        "0",
        0,
    ),
    a(
        "min-replicas-max-lag",
        "min-slaves-max-lag",
        int(0, I32MAX),
        "10",
        0,
    ),
    a("replica-announce-ip", "slave-announce-ip", NSTR, "", 0),
    a(
        "replica-announce-port",
        "slave-announce-port",
        int(0, 65535),
        "0",
        0,
    ),
    a(
        "replica-ignore-maxmemory",
        "slave-ignore-maxmemory",
        Kind::Bool,
        "yes",
        0,
    ),
    a(
        "replica-lazy-flush",
        "slave-lazy-flush",
        Kind::Bool,
        "no",
        0,
    ),
    // Client-side caching.
    d("tracking-table-max-keys", int(0, I64MAX), "1000000", 0),
    // Security.
    d("acllog-max-len", int(0, I64MAX), "128", 0),
    d("aclfile", STR, "", IMMUTABLE),
    d("requirepass", NSTR, "", SENSITIVE),
    d(
        "acl-pubsub-default",
        Kind::Enum(&["allchannels", "resetchannels"]),
        "resetchannels",
        0,
    ),
    // Clients and memory.
    d("maxclients", int(1, U32MAX), "10000", 0),
    d("maxmemory", mem(0, u64::MAX), "0", 0),
    d(
        "maxmemory-policy",
        Kind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        "noeviction",
        0,
    ),
    d("maxmemory-samples", int(1, I32MAX), "5", 0),
    d("maxmemory-eviction-tenacity", int(0, 100), "10", 0),
    d("active-expire-effort", int(1, 10), "1", 0),
    d(
        "maxmemory-clients",
        Kind::MemoryOrPercent {
            max_percent: 100,
            max: MEM_I64MAX,
        },
        "0",
        0,
    ),
    // Lazy freeing.
    d("lazyfree-lazy-eviction", Kind::Bool, "no", 0),
    d("lazyfree-lazy-expire", Kind::Bool, "no", 0),
    d("lazyfree-lazy-server-del", Kind::Bool, "no", 0),
    d("lazyfree-lazy-user-del", Kind::Bool, "no", 0),
    d("lazyfree-lazy-user-flush", Kind::Bool, "no", 0),
    // Threads.
    d("io-threads", int(1, 128), "1", IMMUTABLE),
    d("io-threads-do-reads", Kind::Bool, "no", IMMUTABLE),
    // Tern: worker threads serving connections; 0 means one per CPU this process may use.
    d("server-threads", int(0, 1024), "0", IMMUTABLE),
    // Tern: how long (at most, in microseconds) a worker keeps polling its sockets after the
    // last request before it sleeps; never longer than twice the work before it, and only
    // while requests come that close together (crates/server/src/busypoll.rs). 0: never.
    d("busy-poll-us", int(0, 1_000_000), "100", IMMUTABLE),
    // Kernel.
    d(
        "oom-score-adj",
        Kind::Enum(&["no", "yes", "relative=yes", "absolute"]),
        "no",
        0,
    ),
    d(
        "oom-score-adj-values",
        Kind::OomScoreAdjValues,
        "0 200 800",
        0,
    ),
    d("disable-thp", Kind::Bool, "yes", IMMUTABLE),
    // Append-only file.
    d("appendonly", Kind::Bool, "no", 0),
    d(
        "appendfilename",
        checked(check_appendfilename),
        "appendonly.aof",
        IMMUTABLE,
    ),
    d(
        "appenddirname",
        checked(check_appenddirname),
        "appendonlydir",
        IMMUTABLE,
    ),
    d(
        "appendfsync",
        Kind::Enum(&["everysec", "always", "no"]),
        "everysec",
        0,
    ),
    d("no-appendfsync-on-rewrite", Kind::Bool, "no", 0),
    d("auto-aof-rewrite-percentage", int(0, I32MAX), "100", 0),
    d("auto-aof-rewrite-min-size", mem(0, MEM_I64MAX), "64mb", 0),
    d("aof-load-truncated", Kind::Bool, "yes", 0),
    d("aof-use-rdb-preamble", Kind::Bool, "yes", 0),
    d("aof-timestamp-enabled", Kind::Bool, "no", 0),
    d("aof-disable-auto-gc", Kind::Bool, "no", 0),
    d("aof-rewrite-incremental-fsync", Kind::Bool, "yes", 0),
    d("rdb-save-incremental-fsync", Kind::Bool, "yes", 0),
    // Shutdown.
    d("shutdown-timeout", int(0, I32MAX), "10", 0),
    d("shutdown-on-sigint", SHUTDOWN_ON_SIG, "default", 0),
    d("shutdown-on-sigterm", SHUTDOWN_ON_SIG, "default", 0),
    // Scripting.
    a(
        "busy-reply-threshold",
        "lua-time-limit",
        int(0, I64MAX),
        "5000",
        0,
    ),
    // Cluster (accepted so Redis config files load; tern has no cluster mode).
    d("cluster-enabled", Kind::Bool, "no", IMMUTABLE),
    d("cluster-config-file", STR, "nodes.conf", IMMUTABLE),
    d("cluster-node-timeout", int(0, I64MAX), "15000", 0),
    d("cluster-port", int(0, 65535), "0", IMMUTABLE),
    a(
        "cluster-replica-validity-factor",
        "cluster-slave-validity-factor",
        int(0, I32MAX),
        "10",
        0,
    ),
    d("cluster-migration-barrier", int(0, I32MAX), "1", 0),
    d("cluster-allow-replica-migration", Kind::Bool, "yes", 0),
    d("cluster-require-full-coverage", Kind::Bool, "yes", 0),
    a(
        "cluster-replica-no-failover",
        "cluster-slave-no-failover",
        Kind::Bool,
        "no",
        0,
    ),
    d("cluster-allow-reads-when-down", Kind::Bool, "no", 0),
    d("cluster-allow-pubsubshard-when-down", Kind::Bool, "yes", 0),
    d("cluster-link-sendbuf-limit", mem(0, u64::MAX), "0", 0),
    d(
        "cluster-announce-hostname",
        checked_null(check_hostname),
        "",
        0,
    ),
    d("cluster-announce-ip", NSTR, "", 0),
    d("cluster-announce-port", int(0, 65535), "0", 0),
    d("cluster-announce-bus-port", int(0, 65535), "0", 0),
    d("cluster-announce-tls-port", int(0, 65535), "0", 0),
    d(
        "cluster-preferred-endpoint-type",
        Kind::Enum(&["ip", "hostname", "unknown-endpoint"]),
        "ip",
        0,
    ),
    // Slow log and latency monitoring.
    d("slowlog-log-slower-than", int(-1, I64MAX), "10000", 0),
    d("slowlog-max-len", int(0, I64MAX), "128", 0),
    d("latency-monitor-threshold", int(0, I64MAX), "0", 0),
    d("latency-tracking", Kind::Bool, "yes", 0),
    d(
        "latency-tracking-info-percentiles",
        Kind::Percentiles,
        "50 99 99.9",
        0,
    ),
    // Keyspace notifications.
    d("notify-keyspace-events", Kind::NotifyKeyspaceEvents, "", 0),
    // Encodings of small values.
    a(
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        int(0, I64MAX),
        "512",
        0,
    ),
    a(
        "hash-max-listpack-value",
        "hash-max-ziplist-value",
        mem(0, MEM_I64MAX),
        "64",
        0,
    ),
    a(
        "list-max-listpack-size",
        "list-max-ziplist-size",
        int(I32MIN, I32MAX),
        "-2",
        0,
    ),
    d("list-compress-depth", int(0, I32MAX), "0", 0),
    d("set-max-intset-entries", int(0, I64MAX), "512", 0),
    d("set-max-listpack-entries", int(0, I64MAX), "128", 0),
    d("set-max-listpack-value", int(0, I64MAX), "64", 0),
    a(
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
        int(0, I64MAX),
        "128",
        0,
    ),
    a(
        "zset-max-listpack-value",
        "zset-max-ziplist-value",
        mem(0, MEM_I64MAX),
        "64",
        0,
    ),
    d("hll-sparse-max-bytes", mem(0, MEM_I64MAX), "3000", 0),
    d("stream-node-max-bytes", mem(0, MEM_I64MAX), "4096", 0),
    d("stream-node-max-entries", int(0, I64MAX), "100", 0),
    // Advanced.
    d("activerehashing", Kind::Bool, "yes", 0),
    d(
        "client-output-buffer-limit",
        Kind::ClientOutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        0,
    ),
    d(
        "client-query-buffer-limit",
        mem(1024 * 1024, MEM_I64MAX),
        "1gb",
        0,
    ),
    d(
        "proto-max-bulk-len",
        mem(1024 * 1024, MEM_I64MAX),
        "512mb",
        0,
    ),
    d("hz", int(0, I32MAX), "10", 0),
    d("dynamic-hz", Kind::Bool, "yes", 0),
    d("lfu-log-factor", int(0, I32MAX), "10", 0),
    d("lfu-decay-time", int(0, I32MAX), "1", 0),
    // Active defragmentation.
    d("activedefrag", Kind::Bool, "no", 0),
    d("active-defrag-ignore-bytes", mem(1, MEM_I64MAX), "100mb", 0),
    d("active-defrag-threshold-lower", int(0, 1000), "10", 0),
    d("active-defrag-threshold-upper", int(0, 1000), "100", 0),
    d("active-defrag-cycle-min", int(1, 99), "1", 0),
    d("active-defrag-cycle-max", int(1, 99), "25", 0),
    d("active-defrag-max-scan-fields", int(1, I64MAX), "1000", 0),
    d("jemalloc-bg-thread", Kind::Bool, "yes", 0),
    d("server_cpulist", NSTR, "", IMMUTABLE),
    d("bio_cpulist", NSTR, "", IMMUTABLE),
    d("aof_rewrite_cpulist", NSTR, "", IMMUTABLE),
    d("bgsave_cpulist", NSTR, "", IMMUTABLE),
    d("ignore-warnings", STR, "", 0),
    // Testing knobs, shown by CONFIG GET only when named exactly.
    d("use-exit-on-panic", Kind::Bool, "no", HIDDEN),
    d("rdb-key-save-delay", int(I32MIN, I32MAX), "0", HIDDEN),
    d("key-load-delay", int(I32MIN, I32MAX), "0", HIDDEN),
    d("watchdog-period", int(0, I32MAX), "0", HIDDEN),
    d(
        "loading-process-events-interval-bytes",
        int(1024, I32MAX),
        "2097152",
        HIDDEN,
    ),
    d("cluster-ping-interval", int(0, I64MAX), "0", HIDDEN),
];

/// Directives Redis no longer has but still accepts (and ignores) in a
/// config file with exactly one argument.
pub(crate) const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];
