//! Unit and property tests for the configuration crate.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;

use crate::table::{Kind, HIDDEN, IMMUTABLE, TABLE};
use crate::text::{glob_match, parse_memory, repr, split_args};
use crate::{
    notify, ClientClass, Config, ConfigError, LogLevel, OutputBufferLimit, ProtectedAction,
};

/// A fresh, empty directory under the system temp dir.
fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tern-config-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn get1(cfg: &Config, name: &str) -> String {
    let got = cfg.get(&[name.as_bytes()]);
    assert_eq!(got.len(), 1, "CONFIG GET {name} -> {got:?}");
    String::from_utf8(got[0].1.clone()).unwrap()
}

fn set1(cfg: &mut Config, name: &str, value: &str) -> Result<Vec<&'static str>, String> {
    cfg.set(&[(name.as_bytes(), value.as_bytes())])
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn defaults_match_redis() {
    let cfg = Config::default();
    assert_eq!(cfg.port(), 6379);
    assert_eq!(cfg.bind(), vec!["127.0.0.1".to_string()]);
    assert_eq!(cfg.databases(), 16);
    assert_eq!(cfg.requirepass(), None);
    assert_eq!(cfg.maxclients(), 10000);
    assert_eq!(cfg.timeout(), 0);
    assert_eq!(cfg.dir(), PathBuf::from("./"));
    assert_eq!(cfg.loglevel(), LogLevel::Notice);
    assert_eq!(cfg.logfile(), "");
    assert_eq!(cfg.proto_max_bulk_len(), 512 * 1024 * 1024);
    assert_eq!(cfg.client_query_buffer_limit(), 1024 * 1024 * 1024);
    assert_eq!(cfg.hz(), 10);
    assert_eq!(cfg.slowlog_log_slower_than(), 10000);
    assert_eq!(cfg.slowlog_max_len(), 128);
    assert_eq!(cfg.maxmemory(), 0);
    assert_eq!(cfg.maxmemory_policy(), "noeviction");
    assert_eq!(cfg.appendfsync(), "everysec");
    assert!(!cfg.appendonly());
    assert_eq!(cfg.dbfilename(), "dump.rdb");
    assert_eq!(cfg.save_params(), vec![(3600, 1), (300, 100), (60, 10000)]);
    assert_eq!(cfg.enable_debug_command(), ProtectedAction::Yes);
    assert_eq!(cfg.enable_protected_configs(), ProtectedAction::No);
    assert_eq!(cfg.notify_keyspace_events(), 0);
    assert_eq!(cfg.replicaof(), None);
    assert_eq!(cfg.tcp_backlog(), 511);
    assert_eq!(cfg.tcp_keepalive(), 300);
    assert_eq!(cfg.active_expire_effort(), 1);
    assert_eq!(cfg.busy_reply_threshold(), 5000);
    assert_eq!(
        cfg.client_output_buffer_limit(ClientClass::Replica),
        OutputBufferLimit {
            hard: 256 << 20,
            soft: 64 << 20,
            soft_seconds: 60
        }
    );
    assert_eq!(
        cfg.client_output_buffer_limit(ClientClass::Normal),
        OutputBufferLimit::default()
    );
    assert_eq!(cfg.get_u64("repl-backlog-size"), Some(1024 * 1024));
    assert_eq!(cfg.get_i64("list-max-listpack-size"), Some(-2));
    assert_eq!(cfg.get_bool("lazyfree-lazy-user-del"), Some(false));
    assert_eq!(cfg.get_str("port").as_deref(), Some("6379"));
    assert_eq!(cfg.get_u64("no-such-thing"), None);

    for (name, value) in [
        ("save", "3600 1 300 100 60 10000"),
        (
            "client-output-buffer-limit",
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        ),
        ("repl-backlog-size", "1048576"),
        ("proto-max-bulk-len", "536870912"),
        ("hash-max-listpack-entries", "512"),
        ("hash-max-ziplist-entries", "512"),
        ("hash-max-listpack-value", "64"),
        ("list-max-listpack-size", "-2"),
        ("set-max-intset-entries", "512"),
        ("set-max-listpack-entries", "128"),
        ("zset-max-listpack-entries", "128"),
        ("hll-sparse-max-bytes", "3000"),
        ("notify-keyspace-events", ""),
        ("appendonly", "no"),
        ("loglevel", "notice"),
        ("requirepass", ""),
        ("replicaof", ""),
        ("unixsocketperm", "0"),
        ("maxmemory-clients", "0"),
        ("latency-tracking-info-percentiles", "50 99 99.9"),
        ("oom-score-adj-values", "0 200 800"),
        ("shutdown-on-sigterm", "default"),
        ("enable-debug-command", "yes"),
        ("bind", "127.0.0.1"),
    ] {
        assert_eq!(get1(&cfg, name), value, "default of {name}");
    }
}

#[test]
fn every_directive_has_a_valid_unique_name() {
    let mut seen = std::collections::HashSet::new();
    for row in TABLE {
        assert_eq!(row.name, row.name.to_ascii_lowercase());
        assert!(seen.insert(row.name), "duplicate {}", row.name);
        if let Some(alias) = row.alias {
            assert!(seen.insert(alias), "duplicate {alias}");
        }
    }
    // Every default parses (defaults() panics otherwise) and shows in CONFIG GET *.
    let all = Config::default().get(&[b"*"]);
    let visible = TABLE.iter().filter(|r| r.flags & HIDDEN == 0);
    let expected: usize = visible.map(|r| 1 + r.alias.is_some() as usize).sum();
    assert_eq!(all.len(), expected);
}

#[test]
fn parses_comments_quotes_and_escapes() {
    let mut cfg = Config::default();
    let text = "# a comment\n\
                \n\
                   # indented comment\r\n\
                PORT 7000\r\n\
                requirepass \"se cr\\x00et\\n\"\n\
                masterauth 'it\\'s'\n\
                logfile \"\"\n\
                slaveof 10.0.0.1 6380\n\
                hash-max-ziplist-entries 99\n\
                list-max-ziplist-entries 4\n\
                loglevel WARNING\n\
                \tmaxmemory 2GB   \n\
                notify-keyspace-events \"KEA\"\n";
    cfg.load_str(text, "test.conf").unwrap();
    assert_eq!(cfg.port(), 7000);
    assert_eq!(cfg.requirepass(), Some(b"se cr\0et\n".to_vec()));
    assert_eq!(cfg.masterauth(), Some(b"it's".to_vec()));
    assert_eq!(cfg.replicaof(), Some(("10.0.0.1".to_string(), 6380)));
    assert_eq!(get1(&cfg, "replicaof"), "10.0.0.1 6380");
    assert_eq!(cfg.get_u64("hash-max-listpack-entries"), Some(99));
    assert_eq!(cfg.loglevel(), LogLevel::Warning);
    assert_eq!(cfg.maxmemory(), 2 << 30);
    assert_eq!(get1(&cfg, "notify-keyspace-events"), "AKE");
    assert_eq!(
        cfg.notify_keyspace_events(),
        notify::ALL | notify::KEYSPACE | notify::KEYEVENT
    );
}

#[test]
fn save_lines_accumulate_and_multi_value_lines_split() {
    let mut cfg = Config::default();
    cfg.load_str("save 900 1\nsave 300 10\n", "a").unwrap();
    assert_eq!(cfg.save_params(), vec![(900, 1), (300, 10)]);
    cfg.load_str("save \"\"\n", "b").unwrap();
    assert_eq!(cfg.save_params(), vec![]);
    assert_eq!(get1(&cfg, "save"), "");

    let mut cfg = Config::default();
    cfg.load_str("save \"100 2 200 3\"\nbind \"1.2.3.4 ::1\"\n", "c")
        .unwrap();
    assert_eq!(cfg.save_params(), vec![(100, 2), (200, 3)]);
    assert_eq!(cfg.bind(), vec!["1.2.3.4".to_string(), "::1".to_string()]);
}

#[test]
fn include_loads_other_files() {
    let dir = temp_dir("include");
    let inc = dir.join("inc.conf");
    write(&inc, "port 7100\ntimeout 5\n");
    write(&dir.join("a.part"), "maxclients 77\n");
    write(&dir.join("b.part"), "maxclients 88\n");
    let main = dir.join("main.conf");
    write(
        &main,
        &format!(
            "timeout 1\ninclude {}\ninclude {}/*.part\ninclude {}/*.nomatch\n",
            inc.display(),
            dir.display(),
            dir.display()
        ),
    );
    let mut cfg = Config::default();
    cfg.load_file(&main).unwrap();
    assert_eq!(cfg.port(), 7100);
    assert_eq!(cfg.timeout(), 5);
    assert_eq!(cfg.maxclients(), 88);
    assert_eq!(cfg.config_file(), Some(main.as_path()));

    // Errors inside an included file name that file and its line.
    write(&inc, "port 7100\nbogus 1\n");
    let err = Config::default().load_file(&main).unwrap_err();
    match &err {
        ConfigError::Directive { file, line, .. } => {
            assert_eq!(file, &inc.display().to_string());
            assert_eq!(*line, 2);
        }
        other => panic!("unexpected {other:?}"),
    }
    let missing = dir.join("missing.conf");
    let err = Config::default()
        .load_str(&format!("include {}\n", missing.display()), "x")
        .unwrap_err();
    assert!(matches!(err, ConfigError::Open { ref path, .. } if path == &missing));
    assert!(err.to_string().contains("can't open config file"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_directive_error_names_file_and_line() {
    let dir = temp_dir("unknown");
    let path = dir.join("bad.conf");
    write(&path, "# comment\nport 7000\nfoo bar\n");
    let err = Config::from_args(&args(&[path.to_str().unwrap()])).unwrap_err();
    assert_eq!(
        err,
        ConfigError::Directive {
            file: path.display().to_string(),
            line: 3,
            text: "foo bar".to_string(),
            reason: "Bad directive or wrong number of arguments".to_string(),
        }
    );
    let shown = err.to_string();
    assert!(
        shown.starts_with("\n*** FATAL CONFIG FILE ERROR (tern "),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("'{}', at line 3", path.display())),
        "{shown}"
    );
    assert!(shown.contains(">>> 'foo bar'\nBad directive or wrong number of arguments"));

    for (text, reason) in [
        ("port abc", "argument couldn't be parsed into an integer"),
        (
            "port 70000",
            "argument must be between 0 and 65535 inclusive",
        ),
        ("appendonly maybe", "argument must be 'yes' or 'no'"),
        ("maxmemory 12xb", "argument must be a memory value"),
        ("port 1 2", "wrong number of arguments"),
        (
            "requirepass \"abc",
            "Unbalanced quotes in configuration line",
        ),
        (
            "loglevel loud",
            "argument(s) must be one of the following: debug, verbose, notice, warning, nothing",
        ),
        ("save 10", "Invalid save parameters"),
    ] {
        match Config::default().load_str(text, "t.conf").unwrap_err() {
            ConfigError::Directive {
                reason: r, line, ..
            } => {
                assert_eq!(r, reason, "{text}");
                assert_eq!(line, 1);
            }
            other => panic!("{other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn command_line_overrides_file() {
    let dir = temp_dir("cmdline");
    let path = dir.join("redis.conf");
    write(&path, "port 7000\ntimeout 10\nsave 900 1\n");
    let p = path.to_str().unwrap();
    let cfg = Config::from_args(&args(&[
        p,
        "--port",
        "7001",
        "--bind",
        "10.0.0.1",
        "::1",
        "--slowlog-log-slower-than",
        "-1",
        "--save",
        "--requirepass",
        "pw with space",
        "--port",
        "7002",
    ]))
    .unwrap();
    assert_eq!(cfg.port(), 7002);
    assert_eq!(cfg.timeout(), 10);
    assert_eq!(cfg.bind(), vec!["10.0.0.1".to_string(), "::1".to_string()]);
    assert_eq!(cfg.slowlog_log_slower_than(), -1);
    assert_eq!(cfg.save_params(), vec![]);
    assert_eq!(cfg.requirepass(), Some(b"pw with space".to_vec()));
    assert_eq!(cfg.config_file(), Some(path.as_path()));

    let cfg = Config::from_args(&args(&["--config", p, "--save", "60 5"])).unwrap();
    assert_eq!(cfg.port(), 7000);
    assert_eq!(cfg.save_params(), vec![(900, 1), (60, 5)]);

    let cfg = Config::from_args(&args(&["--port", "6380", "--loglevel", "debug"])).unwrap();
    assert_eq!(cfg.port(), 6380);
    assert_eq!(cfg.loglevel(), LogLevel::Debug);
    assert_eq!(cfg.config_file(), None);

    let err = Config::from_args(&args(&["--port", "1", "--no-such-option", "x"])).unwrap_err();
    match &err {
        ConfigError::Directive {
            file, line, text, ..
        } => {
            assert_eq!(file, crate::COMMAND_LINE);
            assert_eq!(*line, 2);
            assert_eq!(text, "no-such-option x");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("no-such-option"));
    assert!(Config::from_args(&args(&["--config"])).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn memory_units() {
    for (text, bytes) in [
        ("0", 0),
        ("5", 5),
        ("5b", 5),
        ("1k", 1000),
        ("1kb", 1024),
        ("1K", 1000),
        ("1Kb", 1024),
        ("2m", 2_000_000),
        ("2mb", 2 << 20),
        ("3g", 3_000_000_000),
        ("3gb", 3 << 30),
        ("3GB", 3 << 30),
        ("3gB", 3 << 30),
    ] {
        assert_eq!(parse_memory(text.as_bytes()), Some(bytes), "{text}");
    }
    for bad in [
        "",
        "k",
        "-1",
        "1.5mb",
        "1 kb",
        "1kbb",
        "1t",
        "99999999999999999999",
        "18446744073709551615gb",
    ] {
        assert_eq!(parse_memory(bad.as_bytes()), None, "{bad}");
    }
    let mut cfg = Config::default();
    set1(&mut cfg, "maxmemory", "100MB").unwrap();
    assert_eq!(get1(&cfg, "maxmemory"), "104857600");
    set1(&mut cfg, "maxmemory-clients", "10%").unwrap();
    assert_eq!(get1(&cfg, "maxmemory-clients"), "10%");
    assert_eq!(
        set1(&mut cfg, "maxmemory-clients", "101%").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"
    );
    assert_eq!(
        set1(&mut cfg, "proto-max-bulk-len", "1k").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive"
    );
}

#[test]
fn config_get_globs() {
    let cfg = Config::default();
    let names = |pats: &[&str]| -> Vec<String> {
        let pats: Vec<&[u8]> = pats.iter().map(|p| p.as_bytes()).collect();
        cfg.get(&pats).into_iter().map(|(n, _)| n).collect()
    };
    let mut max = names(&["max*"]);
    max.sort();
    assert_eq!(
        max,
        [
            "maxclients",
            "maxmemory",
            "maxmemory-clients",
            "maxmemory-eviction-tenacity",
            "maxmemory-policy",
            "maxmemory-samples"
        ]
    );
    assert_eq!(names(&["port"]), ["port"]);
    assert_eq!(names(&["PORT"]), ["port"]);
    assert_eq!(names(&["[p]ort"]), ["port"]);
    assert_eq!(names(&["?ort"]), ["port"]);
    assert_eq!(names(&["port", "port", "po*t"]), ["port"]);
    assert_eq!(names(&["nonexistent"]), Vec::<String>::new());
    assert_eq!(names(&["timeout", "databases"]), ["timeout", "databases"]);
    assert_eq!(
        names(&["hash-max-ziplist-entries"]),
        ["hash-max-ziplist-entries"]
    );
    assert_eq!(
        names(&["hash-max-*-entries"]),
        ["hash-max-listpack-entries", "hash-max-ziplist-entries"]
    );
    assert_eq!(names(&["slaveof"]), ["slaveof"]);
    // Hidden directives need their exact name.
    assert_eq!(names(&["key-load-delay"]), ["key-load-delay"]);
    assert!(names(&["key-load-*"]).is_empty());
    let all = names(&["*"]);
    assert!(all.contains(&"slave-read-only".to_string()));
    assert!(all.contains(&"replica-read-only".to_string()));
    let got = cfg.get(&[b"save", b"appendonly"]);
    assert_eq!(
        got,
        vec![
            ("save".to_string(), b"3600 1 300 100 60 10000".to_vec()),
            ("appendonly".to_string(), b"no".to_vec())
        ]
    );
}

#[test]
fn glob_matching() {
    for (p, s, want) in [
        ("*", "", true),
        ("a*c", "abbbc", true),
        ("a*c", "abbb", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("[abc]x", "bx", true),
        ("[^abc]x", "bx", false),
        ("[^abc]x", "dx", true),
        ("[a-c]x", "Bx", true),
        ("[c-a]x", "bx", true),
        ("a\\*", "a*", true),
        ("a\\*", "ab", false),
        ("*-max-*", "hash-max-listpack-value", true),
        ("H*", "hz", true),
    ] {
        assert_eq!(
            glob_match(p.as_bytes(), s.as_bytes(), true),
            want,
            "{p} {s}"
        );
    }
    assert!(!glob_match(b"A", b"a", false));
}

#[test]
fn config_set_is_atomic() {
    let mut cfg = Config::default();
    let before = cfg.clone();
    let err = cfg
        .set(&[(b"maxmemory", b"10mb"), (b"timeout", b"abc")])
        .unwrap_err();
    assert_eq!(
        err,
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"
    );
    assert_eq!(cfg, before);

    let err = cfg
        .set(&[(b"maxmemory", b"10mb"), (b"foo", b"1")])
        .unwrap_err();
    assert_eq!(
        err,
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(cfg, before);

    let err = cfg
        .set(&[(b"timeout", b"1"), (b"TIMEOUT", b"2")])
        .unwrap_err();
    assert_eq!(
        err,
        "ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter"
    );
    assert_eq!(cfg, before);

    let changed = cfg
        .set(&[(b"maxmemory", b"10mb"), (b"timeout", b"30"), (b"hz", b"10")])
        .unwrap();
    assert_eq!(changed, ["maxmemory", "timeout"]);
    assert_eq!(cfg.maxmemory(), 10 << 20);
    assert_eq!(cfg.timeout(), 30);
}

#[test]
fn config_set_errors_and_special_values() {
    let mut cfg = Config::default();
    assert_eq!(
        set1(&mut cfg, "port", "7000").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"
    );
    assert_eq!(
        set1(&mut cfg, "databases", "3").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"
    );
    assert_eq!(
        set1(&mut cfg, "dir", "/tmp").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
    );
    assert_eq!(
        set1(&mut cfg, "maxmemory", "lots").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    assert_eq!(
        set1(&mut cfg, "appendonly", "1").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'"
    );
    assert_eq!(
        set1(&mut cfg, "maxmemory-policy", "lru").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
    );
    assert_eq!(
        set1(&mut cfg, "maxclients", "0").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive"
    );
    assert_eq!(
        set1(&mut cfg, "slave-priority", "x").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'slave-priority') - argument couldn't be parsed into an integer"
    );
    assert_eq!(
        set1(&mut cfg, "notify-keyspace-events", "KQ").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
    );
    assert_eq!(
        set1(&mut cfg, "dbfilename", "a/b.rdb").unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"
    );

    // Protected configs from a local client when allowed locally.
    let mut local = Config::default();
    local
        .load_str("enable-protected-configs local", "t")
        .unwrap();
    let tmp = std::env::temp_dir();
    assert!(set1(&mut local, "dir", tmp.to_str().unwrap()).is_err());
    local
        .set_from_client(&[(b"dir", tmp.to_str().unwrap().as_bytes())], true)
        .unwrap();
    assert_eq!(local.dir(), std::fs::canonicalize(&tmp).unwrap());
    assert_eq!(
        local
            .set_from_client(&[(b"dbfilename", b"a/b.rdb")], true)
            .unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"
    );
    assert!(local
        .set_from_client(&[(b"dir", b"/no/such/dir/tern")], true)
        .unwrap_err()
        .ends_with("No such file or directory"));

    set1(&mut cfg, "save", "100 10 20 5").unwrap();
    assert_eq!(cfg.save_params(), vec![(100, 10), (20, 5)]);
    set1(&mut cfg, "save", "").unwrap();
    assert_eq!(cfg.save_params(), vec![]);

    set1(&mut cfg, "client-output-buffer-limit", "pubsub 1mb 2mb 30").unwrap();
    assert_eq!(
        get1(&cfg, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2097152 30"
    );
    set1(
        &mut cfg,
        "client-output-buffer-limit",
        "replica 1 2 3 normal 4 5 6",
    )
    .unwrap();
    assert_eq!(
        get1(&cfg, "client-output-buffer-limit"),
        "normal 4 5 6 slave 1 2 3 pubsub 1048576 2097152 30"
    );
    assert!(set1(&mut cfg, "client-output-buffer-limit", "master 1 2 3").is_err());

    set1(&mut cfg, "oom-score-adj", "relative").unwrap();
    assert_eq!(get1(&cfg, "oom-score-adj"), "yes");
    set1(&mut cfg, "hz", "1000").unwrap();
    assert_eq!(cfg.hz(), 500);
    set1(&mut cfg, "shutdown-on-sigint", "now save").unwrap();
    assert_eq!(get1(&cfg, "shutdown-on-sigint"), "save now");
    assert!(set1(&mut cfg, "shutdown-on-sigint", "save nosave").is_err());
    set1(&mut cfg, "requirepass", "").unwrap();
    assert_eq!(cfg.requirepass(), None);
    cfg.set(&[(b"requirepass", b"a\0b")]).unwrap();
    assert_eq!(cfg.requirepass(), Some(b"a\0b".to_vec()));
    assert!(Config::is_sensitive(b"requirepass"));
    assert!(Config::is_sensitive(b"MASTERAUTH"));
    assert!(!Config::is_sensitive(b"port"));
    set1(&mut cfg, "bind", "").unwrap();
    assert!(cfg.bind().is_empty());
    set1(&mut cfg, "unixsocketperm", "700").unwrap_err();
    let mut c2 = Config::default();
    c2.load_str("unixsocketperm 700", "t").unwrap();
    assert_eq!(c2.unixsocketperm(), 0o700);
    assert_eq!(get1(&c2, "unixsocketperm"), "700");
}

#[test]
fn rewrite_without_file_fails() {
    assert_eq!(
        Config::default().rewrite().unwrap_err(),
        "ERR The server is running without a config file"
    );
}

#[test]
fn rewrite_round_trip() {
    let dir = temp_dir("rewrite");
    let path = dir.join("tern.conf");
    let original = "# Tern test config\n\
                    \n\
                    # the port\n\
                    port 7000\n\
                    timeout 10\n\
                    rename-command FLUSHALL \"\"\n\
                    save 900 1\n\
                    save 300 10\n\
                    save 60 10000\n\
                    \n\
                    # memory\n\
                    maxmemory 1mb\n\
                    slave-read-only yes\n\
                    list-max-ziplist-entries 512\n";
    write(&path, original);
    let mut cfg = Config::from_args(&args(&[path.to_str().unwrap()])).unwrap();
    cfg.set(&[
        (b"timeout", b"30"),
        (b"maxmemory", b"2gb"),
        (b"appendonly", b"yes"),
        (b"save", b"100 1"),
        (b"requirepass", b"p w\"d"),
        (b"replica-read-only", b"no"),
        (b"client-output-buffer-limit", b"pubsub 64mb 16mb 90"),
    ])
    .unwrap();
    cfg.rewrite().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Comments and unknown-to-us lines stay where they were.
    assert_eq!(lines[0], "# Tern test config");
    assert_eq!(lines[2], "# the port");
    assert_eq!(lines[3], "port 7000");
    // Changed directives are replaced in place.
    assert_eq!(lines[4], "timeout 30");
    assert_eq!(lines[5], "rename-command FLUSHALL \"\"");
    assert_eq!(lines[6], "save 100 1");
    assert!(text.contains("maxmemory 2gb\n"));
    assert!(text.contains("replica-read-only no\n"));
    assert!(text.contains("# ??? list-max-ziplist-entries 512\n"));
    // Extra save lines are gone.
    assert!(!text.contains("save 300 10"));
    // New directives come after the signature.
    let sig = lines
        .iter()
        .position(|l| *l == "# Generated by CONFIG REWRITE")
        .expect("signature");
    let after = &lines[sig..];
    assert!(after.contains(&"appendonly yes"));
    assert!(after.contains(&"requirepass \"p w\\\"d\""));
    assert!(after.contains(&"client-output-buffer-limit pubsub 64mb 16mb 90"));
    assert!(!after.contains(&"client-output-buffer-limit normal 0 0 0"));
    assert!(after.iter().any(|l| l.starts_with("dir \"")));
    assert!(!text.contains("\n\n\n"));

    // Loading the result gives back the same configuration.
    let again = Config::from_args(&args(&[path.to_str().unwrap()])).unwrap();
    assert_eq!(again.get(&[b"*"]), cfg.get(&[b"*"]));
    assert_eq!(again.extra_directives().len(), 1);
    // A second rewrite changes nothing.
    again.rewrite().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn split_and_repr() {
    assert_eq!(
        split_args(b"  set \"a b\" 'c d' e\\x41 \"\\x41\\n\" ").unwrap(),
        vec![
            b"set".to_vec(),
            b"a b".to_vec(),
            b"c d".to_vec(),
            b"e\\x41".to_vec(),
            b"A\n".to_vec()
        ]
    );
    assert!(split_args(b"\"abc").is_none());
    assert!(split_args(b"\"abc\"x").is_none());
    assert!(split_args(b"'abc").is_none());
    assert_eq!(split_args(b"   ").unwrap(), Vec::<Vec<u8>>::new());
    let tricky = b"a \"q\" \\ \n\r\t\x07\x08\x00\xff'".to_vec();
    assert_eq!(split_args(repr(&tricky).as_bytes()).unwrap(), vec![tricky]);
}

#[test]
fn notify_flags() {
    assert_eq!(
        notify::parse(b"KEA"),
        Some(notify::ALL | notify::KEYSPACE | notify::KEYEVENT)
    );
    assert_eq!(notify::format(notify::parse(b"Elg").unwrap()), "glE");
    assert_eq!(notify::format(notify::parse(b"g$lshzxetd").unwrap()), "A");
    assert_eq!(notify::format(notify::parse(b"mKn").unwrap()), "nKm");
    assert_eq!(notify::parse(b"Q"), None);
    assert_eq!(notify::parse(b""), Some(0));
}

/// Candidate CONFIG SET values for a directive (some may be invalid).
fn candidate(kind: Kind) -> BoxedStrategy<Vec<u8>> {
    fn s(v: impl Into<String>) -> Vec<u8> {
        v.into().into_bytes()
    }
    match kind {
        Kind::Bool => prop::sample::select(vec!["yes", "no", "YES", "No"])
            .prop_map(s)
            .boxed(),
        Kind::Int { min, max } => prop_oneof![
            (min..=max).prop_map(|v| s(v.to_string())),
            (min..=max.min(min.saturating_add(10))).prop_map(|v| s(v.to_string())),
        ]
        .boxed(),
        Kind::Memory { min, max } => prop_oneof![
            (min..=max).prop_map(|v| s(v.to_string())),
            (
                0u64..5000,
                prop::sample::select(vec!["k", "kb", "m", "mb", "g", "gb", "b", "KB"])
            )
                .prop_map(|(n, u)| s(format!("{n}{u}"))),
        ]
        .boxed(),
        Kind::MemoryOrPercent { max, .. } => prop_oneof![
            (0..=max).prop_map(|v| s(v.to_string())),
            (0i64..=100).prop_map(|p| s(format!("{p}%"))),
        ]
        .boxed(),
        Kind::Octal { max } => (0..=max).prop_map(|v| s(format!("{v:o}"))).boxed(),
        Kind::Enum(list) => (0..list.len(), any::<bool>())
            .prop_map(move |(i, upper)| {
                let name = list[i].split('=').next().unwrap_or_default();
                s(if upper {
                    name.to_uppercase()
                } else {
                    name.to_string()
                })
            })
            .boxed(),
        Kind::Flags(list) => prop::collection::vec(0..list.len(), 1..4)
            .prop_map(move |idx| s(idx.iter().map(|&i| list[i]).collect::<Vec<_>>().join(" ")))
            .boxed(),
        Kind::Str { .. } => prop::collection::vec(any::<u8>(), 0..12).boxed(),
        Kind::Dir => prop::sample::select(vec![
            std::env::temp_dir().display().to_string(),
            ".".to_string(),
            "/".to_string(),
        ])
        .prop_map(s)
        .boxed(),
        Kind::Save => prop::collection::vec((1u64..100_000, 0u64..100_000), 0..4)
            .prop_map(|pairs| {
                s(pairs
                    .iter()
                    .map(|(a, b)| format!("{a} {b}"))
                    .collect::<Vec<_>>()
                    .join(" "))
            })
            .boxed(),
        Kind::Bind => prop::collection::vec("[a-z0-9.:*-]{1,12}", 0..4)
            .prop_map(|addrs| s(addrs.join(" ")))
            .boxed(),
        Kind::ClientOutputBufferLimit => prop::collection::vec(
            (
                prop::sample::select(vec!["normal", "slave", "replica", "pubsub"]),
                0u64..(1 << 40),
                0u64..(1 << 40),
                0u64..100_000,
            ),
            0..4,
        )
        .prop_map(|groups| {
            s(groups
                .iter()
                .map(|(c, h, so, sec)| format!("{c} {h} {so} {sec}"))
                .collect::<Vec<_>>()
                .join(" "))
        })
        .boxed(),
        Kind::NotifyKeyspaceEvents => "[KEg$lshzxetmdnA]{0,6}".prop_map(s).boxed(),
        Kind::ReplicaOf => ("[a-z0-9.]{1,12}", 0u32..=65535)
            .prop_map(|(h, p)| s(format!("{h} {p}")))
            .boxed(),
        Kind::OomScoreAdjValues => prop::array::uniform3(-2000i32..=2000)
            .prop_map(|v| s(format!("{} {} {}", v[0], v[1], v[2])))
            .boxed(),
        Kind::Percentiles => prop::collection::vec(0.0f64..=100.0, 0..4)
            .prop_map(|ps| {
                s(ps.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(" "))
            })
            .boxed(),
    }
}

fn directive_and_value() -> impl Strategy<Value = (usize, Vec<u8>)> {
    (0..TABLE.len()).prop_flat_map(|idx| (Just(idx), candidate(TABLE[idx].kind)))
}

/// Sets one directive the way a user could: CONFIG SET when allowed,
/// otherwise a config-file line.
fn apply(cfg: &mut Config, idx: usize, value: &[u8]) -> Result<(), String> {
    let row = &TABLE[idx];
    if row.flags & IMMUTABLE == 0 {
        cfg.set_from_client(&[(row.name.as_bytes(), value)], true)
            .map(|_| ())
    } else {
        cfg.load_str(&format!("{} {}", row.name, repr(value)), "prop")
            .map_err(|e| e.to_string())
    }
}

fn base() -> Config {
    let mut cfg = Config::default();
    cfg.load_str("enable-protected-configs yes", "base")
        .unwrap();
    cfg
}

fn shown(cfg: &Config) -> Vec<Vec<u8>> {
    (0..TABLE.len()).map(|i| cfg.format_idx(i)).collect()
}

proptest! {
    #[test]
    fn format_then_parse_round_trips((idx, value) in directive_and_value()) {
        let mut cfg = base();
        prop_assume!(apply(&mut cfg, idx, &value).is_ok());
        let first = cfg.format_idx(idx);

        // CONFIG GET's text sets the same value again.
        let mut again = base();
        apply(&mut again, idx, &first).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&again.values[idx], &cfg.values[idx]);
        prop_assert_eq!(again.format_idx(idx), first);

        // CONFIG REWRITE's text loads back to the same configuration.
        let text = crate::rewrite::rewrite_content(&cfg, "", None);
        let mut loaded = Config::default();
        loaded.load_str(&text, "rewritten").map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(shown(&loaded), shown(&cfg), "{}", text);
    }
}
