//! Tests for INFO and LASTSAVE.

use super::*;
use crate::families::command::test_support::must_str as text;
use crate::server::now_ms;
use crate::testkit::TestDb;
use tern_resp::Frame;

fn headers(s: &str) -> Vec<&str> {
    s.split("\r\n").filter(|l| l.starts_with('#')).collect()
}

#[test]
fn default_sections_follow_redis_order() {
    let mut t = TestDb::new();
    let s = text(t.run(&["INFO"]));
    assert_eq!(
        headers(&s),
        [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace"
        ]
    );
    assert!(s.starts_with("# Server\r\nredis_version:7.0.15\r\n"));
    assert!(s.contains("\r\n\r\n# Clients\r\nconnected_clients:"));
    assert!(s.ends_with("# Keyspace\r\n"));
    for field in [
        "tern_version:",
        "redis_mode:standalone",
        "multiplexing_api:epoll",
        "process_supervised:no",
        "used_memory:",
        "used_memory_human:",
        "mem_allocator:jemalloc-5.3.0",
        "maxmemory_policy:noeviction",
        "rdb_changes_since_last_save:0",
        "rdb_last_bgsave_status:ok",
        "aof_enabled:0",
        "total_commands_processed:",
        "instantaneous_ops_per_sec:0",
        "evicted_keys:0",
        "role:master",
        "master_failover_state:no-failover",
        "master_replid2:0000000000000000000000000000000000000000",
        "second_repl_offset:-1",
        "repl_backlog_active:1",
        "used_cpu_user:",
        "cluster_enabled:0",
    ] {
        assert!(s.contains(field), "missing {field}");
    }
}

#[test]
fn sections_are_selected_case_insensitively_in_fixed_order() {
    let mut t = TestDb::new();
    let s = text(t.run(&["INFO", "KEYSPACE", "server", "nosuch"]));
    assert_eq!(headers(&s), ["# Server", "# Keyspace"]);
    assert_eq!(text(t.run(&["INFO", "nosuch"])), "");
    let all = text(t.run(&["INFO", "all"]));
    assert_eq!(headers(&all).len(), 13);
    assert_eq!(
        text(t.run(&["INFO", "cluster"])),
        "# Cluster\r\ncluster_enabled:0\r\n"
    );
}

#[test]
fn commandstats_errorstats_and_keyspace_count_what_ran() {
    let mut t = TestDb::new();
    t.run(&["SET", "a", "1"]);
    t.run(&["GET", "a"]);
    t.run(&["GET", "b"]);
    t.run(&["GET"]);
    t.run(&["NOSUCH"]);
    t.run(&["CONFIG", "GET", "hz"]);
    let s = text(t.run(&["INFO", "commandstats", "errorstats", "keyspace", "stats"]));
    assert!(s.contains("cmdstat_get:calls=2,usec="), "{s}");
    assert!(s.contains(",rejected_calls=1,failed_calls=0\r\n"));
    assert!(s.contains("cmdstat_config|get:calls=1,"));
    assert!(s.contains("errorstat_ERR:count=2\r\n"));
    assert!(s.contains("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"));
    assert!(s.contains("keyspace_hits:1\r\nkeyspace_misses:1\r\n"));
    assert!(s.contains("total_error_replies:2\r\n"));
}

#[test]
fn resp3_replies_are_verbatim() {
    let mut t = TestDb::new();
    t.run(&["HELLO", "3"]);
    match t.run(&["INFO", "cluster"]) {
        Frame::Verbatim(fmt, b) => {
            assert_eq!(fmt, "txt");
            assert_eq!(b, b"# Cluster\r\ncluster_enabled:0\r\n");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bytes_to_human_matches_redis() {
    assert_eq!(bytes_to_human(0), "0B");
    assert_eq!(bytes_to_human(1023), "1023B");
    assert_eq!(bytes_to_human(1024), "1.00K");
    assert_eq!(bytes_to_human(916408), "894.93K");
    assert_eq!(bytes_to_human(6717440), "6.41M");
    assert_eq!(bytes_to_human(25276514304), "23.54G");
}

#[test]
fn lastsave_is_the_start_time() {
    let mut t = TestDb::new();
    match t.run(&["LASTSAVE"]) {
        Frame::Integer(n) => assert!((n - now_ms() / 1000).abs() <= 5),
        other => panic!("{other:?}"),
    }
}
