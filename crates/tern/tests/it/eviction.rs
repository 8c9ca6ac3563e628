//! maxmemory and eviction policies, and honest memory accounting; all pass against
//! redis-server too (`TERN_IT_SERVER=redis`).

use crate::harness::*;

fn used_memory(c: &mut redis::Connection) -> u64 {
    let info = text(&ok(c, &["INFO", "memory"]));
    info_field(&info, "used_memory").unwrap().parse().unwrap()
}

fn stat(c: &mut redis::Connection, field: &str) -> u64 {
    let info = text(&ok(c, &["INFO", "stats"]));
    info_field(&info, field).unwrap().parse().unwrap()
}

fn dbsize(c: &mut redis::Connection) -> i64 {
    as_int(&ok(c, &["DBSIZE"]))
}

/// Writes `n` keys `prefix:i` with 1 KiB values in pipelines of 100; returns the errors seen.
fn fill(c: &mut redis::Connection, prefix: &str, n: usize, ttl: bool) -> Vec<String> {
    let v = "v".repeat(1024);
    let mut errors = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let mut p = redis::pipe();
        for i in chunk {
            let mut cmd = redis::cmd("SET");
            cmd.arg(format!("{prefix}:{i}")).arg(&v);
            if ttl {
                cmd.arg("EX").arg(100_000 + i);
            }
            p.add_command(cmd);
        }
        let res: Vec<redis::RedisResult<redis::Value>> = p
            .query::<Vec<redis::Value>>(c)
            .map(|v| v.into_iter().map(Ok).collect())
            .unwrap_or_else(|e| vec![Err(e)]);
        for r in res {
            if let Err(e) = r {
                errors.push(server_error_text(&e).unwrap_or_else(|| e.to_string()));
            }
        }
        if !errors.is_empty() {
            break;
        }
    }
    errors
}

#[test]
fn noeviction_refuses_writes_with_oom_and_keeps_serving_reads() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let base = used_memory(&mut c);
    // Room for the writes' share of tern's 1 MB replication backlog (it always exists in
    // tern, and FLUSHALL does not empty it) plus a few MB of data.
    let max = base + 4 * 1024 * 1024;
    ok(&mut c, &["CONFIG", "SET", "maxmemory", &max.to_string()]);
    ok(&mut c, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    let errors = fill(&mut c, "k", 20_000, false);
    assert!(!errors.is_empty(), "never refused");
    assert!(
        errors[0].contains("OOM command not allowed when used memory > 'maxmemory'"),
        "{errors:?}"
    );
    assert_eq!(stat(&mut c, "evicted_keys"), 0);
    // Reads still work. Right at the limit, usage moves with buffers coming and going, so
    // lower the limit well under what the data takes: writes are refused for sure.
    assert_eq!(ok(&mut c, &["GET", "k:0"]), bulk("v".repeat(1024)));
    let low = base + 1024 * 1024;
    ok(&mut c, &["CONFIG", "SET", "maxmemory", &low.to_string()]);
    assert!(err(&mut c, &["SET", "x", "y"]).starts_with("OOM"));
    assert_eq!(ok(&mut c, &["GET", "k:0"]), bulk("v".repeat(1024)));
    // After the data goes, writes are accepted again.
    ok(&mut c, &["CONFIG", "SET", "maxmemory", &max.to_string()]);
    ok(&mut c, &["FLUSHALL"]);
    ok(&mut c, &["SET", "x", "y"]);
}

#[test]
fn allkeys_lru_and_lfu_evict_cold_keys_and_keep_hot_ones() {
    for policy in ["allkeys-lru", "allkeys-lfu"] {
        evict_cold_keep_hot(policy);
    }
}

/// Under `policy`, writes are never refused and memory stays bounded; under LFU, keys read all
/// the time survive keys written once.
fn evict_cold_keep_hot(policy: &str) {
    let srv = TestServer::start();
    let mut c = srv.client();
    let base = used_memory(&mut c);
    let max = base + 4 * 1024 * 1024;
    ok(&mut c, &["CONFIG", "SET", "maxmemory", &max.to_string()]);
    ok(&mut c, &["CONFIG", "SET", "maxmemory-policy", policy]);
    ok(&mut c, &["CONFIG", "SET", "maxmemory-samples", "10"]);
    // A hot set, read between every batch of writes.
    for i in 0..20 {
        ok(&mut c, &["SET", &format!("hot:{i}"), "h"]);
    }
    let v = "v".repeat(1024);
    let lru = policy == "allkeys-lru";
    for batch in 0..30 {
        for i in 0..20 {
            ok(&mut c, &["GET", &format!("hot:{i}")]);
        }
        let mut p = redis::pipe();
        for i in 0..500 {
            p.cmd("SET")
                .arg(format!("cold:{batch}:{i}"))
                .arg(&v)
                .ignore();
        }
        let _: () = p
            .query(&mut c)
            .expect("writes are never refused under allkeys-*");
    }
    assert!(stat(&mut c, "evicted_keys") > 0);
    assert!(dbsize(&mut c) < 15_000);
    let used = used_memory(&mut c);
    assert!(used <= max + max / 10, "used {used} over maxmemory {max}");
    // LRU idle times have a resolution of one second (as Redis's clock), too coarse to rank
    // keys written milliseconds apart; LFU counts every access.
    if !lru {
        let hot_left = (0..20)
            .filter(|i| ok(&mut c, &["EXISTS", &format!("hot:{i}")]) == int(1))
            .count();
        assert!(
            hot_left >= 18,
            "{policy}: only {hot_left} of 20 hot keys survived"
        );
    }
}

#[test]
fn volatile_policies_only_evict_keys_with_a_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client();
    // Keys without a TTL first: they must all survive.
    for i in 0..200 {
        ok(&mut c, &["SET", &format!("keep:{i}"), "x"]);
    }
    let base = used_memory(&mut c);
    let max = base + 2 * 1024 * 1024;
    ok(&mut c, &["CONFIG", "SET", "maxmemory", &max.to_string()]);
    ok(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"],
    );
    let errors = fill(&mut c, "ttl", 6_000, true);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(stat(&mut c, "evicted_keys") > 0);
    for i in 0..200 {
        assert_eq!(ok(&mut c, &["EXISTS", &format!("keep:{i}")]), int(1));
    }
    // Nothing volatile left to evict: writes without a TTL are refused.
    ok(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "volatile-lru"],
    );
    let errors = fill(&mut c, "plain", 10_000, false);
    assert!(errors.iter().any(|e| e.starts_with("OOM")), "{errors:?}");
}

#[test]
fn lfu_policies_count_accesses() {
    let srv = TestServer::start();
    let mut c = srv.client();
    ok(&mut c, &["SET", "k", "v"]);
    assert!(
        err(&mut c, &["OBJECT", "FREQ", "k"]).contains("An LFU maxmemory policy is not selected")
    );
    ok(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    );
    ok(&mut c, &["SET", "k", "v"]);
    let before = as_int(&ok(&mut c, &["OBJECT", "FREQ", "k"]));
    for _ in 0..1000 {
        ok(&mut c, &["GET", "k"]);
    }
    let after = as_int(&ok(&mut c, &["OBJECT", "FREQ", "k"]));
    assert!(after > before + 5, "{before} -> {after}");
    assert!(
        err(&mut c, &["OBJECT", "IDLETIME", "k"]).contains("An LFU maxmemory policy is selected")
    );
}

/// used_memory is what the allocator handed out, so it must stay below RSS and not far from
/// it once data dominates.
#[test]
fn used_memory_is_honest_against_rss() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let errors = fill(&mut c, "m", 50_000, false);
    assert!(errors.is_empty());
    let info = text(&ok(&mut c, &["INFO", "memory"]));
    let used: u64 = info_field(&info, "used_memory").unwrap().parse().unwrap();
    let rss: u64 = info_field(&info, "used_memory_rss")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        used > 50_000 * 1024,
        "used_memory {used} below the data loaded"
    );
    assert!(used <= rss, "used_memory {used} > rss {rss}");
    assert!(
        rss < used * 2,
        "rss {rss} more than twice used_memory {used}"
    );
    let proc_rss = srv.rss_kb() * 1024;
    assert!(
        proc_rss + proc_rss / 4 > rss && rss + rss / 4 > proc_rss,
        "INFO {rss} vs /proc {proc_rss}"
    );
}
