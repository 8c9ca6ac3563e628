//! Replication with Debian's real redis-server in both roles: full sync, partial resync after
//! a dropped link, chains mixing both, a replica that keeps serving during a full sync and
//! swaps the new dataset in atomically, promotion with REPLICAOF NO ONE, WAIT, ROLE, READONLY.

use crate::harness::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn tern(extra: &[&str]) -> TestServer {
    let mut args = vec!["--enable-debug-command", "yes"];
    args.extend_from_slice(extra);
    TestServer::start_tern(None, &args)
}

fn redis(extra: &[&str]) -> TestServer {
    let mut args = vec![
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ];
    args.extend_from_slice(extra);
    TestServer::start_redis(None, &args)
}

fn info(c: &mut redis::Connection, section: &str, field: &str) -> String {
    let s = text(&ok(c, &["INFO", section]));
    info_field(&s, field).unwrap_or_default()
}

fn replicate(replica: &TestServer, primary: &TestServer) {
    ok(
        &mut replica.client(),
        &["REPLICAOF", "127.0.0.1", &primary.port().to_string()],
    );
}

/// Waits until `replica` is streaming and holds exactly `primary`'s dataset and offset.
fn wait_in_sync(primary: &TestServer, replica: &TestServer) {
    wait_in_sync_for(primary, replica, Duration::from_secs(20));
}

/// [`wait_in_sync`] with a time limit.
fn wait_in_sync_for(primary: &TestServer, replica: &TestServer, limit: Duration) {
    let mut p = primary.client();
    let mut r = replica.client();
    let ok_now = |p: &mut redis::Connection, r: &mut redis::Connection| {
        info(r, "replication", "master_link_status") == "up"
            && info(p, "replication", "master_repl_offset")
                == info(r, "replication", "master_repl_offset")
            && text(&ok(p, &["DEBUG", "DIGEST"])) == text(&ok(r, &["DEBUG", "DIGEST"]))
    };
    let synced = wait_for(|| ok_now(&mut p, &mut r), limit);
    if !synced {
        // Name the keys that differ, to make a failure readable.
        for db in 0..16 {
            let mut pk = sorted_texts(&ok(&mut p, &["KEYS", "*"]));
            let mut rk = sorted_texts(&ok(&mut r, &["KEYS", "*"]));
            pk.retain(|k| {
                !rk.contains(k) || {
                    let a = ok(&mut p, &["DEBUG", "DIGEST-VALUE", k]);
                    let b = ok(&mut r, &["DEBUG", "DIGEST-VALUE", k]);
                    a != b
                }
            });
            rk.retain(|k| pk.contains(k) || !sorted_texts(&ok(&mut p, &["KEYS", "*"])).contains(k));
            if !pk.is_empty() || !rk.is_empty() {
                eprintln!("db {db}: differing on the primary {pk:?}, only on the replica {rk:?}");
            }
            let next = ((db + 1) % 16).to_string();
            ok(&mut p, &["SELECT", &next]);
            ok(&mut r, &["SELECT", &next]);
        }
    }
    assert!(
        synced,
        "replica not in sync: primary offset {} digest {}, replica link {} offset {} digest {}\nreplica log:\n{}",
        info(&mut p, "replication", "master_repl_offset"),
        text(&ok(&mut p, &["DEBUG", "DIGEST"])),
        info(&mut r, "replication", "master_link_status"),
        info(&mut r, "replication", "master_repl_offset"),
        text(&ok(&mut r, &["DEBUG", "DIGEST"])),
        replica.logs()
    );
}

/// Writes of every type, including the non-deterministic and relative ones that are
/// propagated in a deterministic form.
fn write_every_kind(c: &mut redis::Connection, tag: &str) {
    ok(c, &["SET", &format!("{tag}:s"), "v"]);
    ok(c, &["SET", &format!("{tag}:ttl"), "v", "EX", "1000"]);
    ok(c, &["INCRBYFLOAT", &format!("{tag}:f"), "1.5"]);
    ok(c, &["RPUSH", &format!("{tag}:l"), "a", "b", "c"]);
    ok(c, &["LPOP", &format!("{tag}:l")]);
    ok(c, &["HSET", &format!("{tag}:h"), "f", "v"]);
    ok(c, &["SADD", &format!("{tag}:set"), "1", "2", "3", "4"]);
    ok(c, &["SPOP", &format!("{tag}:set")]);
    ok(c, &["ZADD", &format!("{tag}:z"), "1", "a", "2", "b"]);
    ok(c, &["PFADD", &format!("{tag}:hll"), "x", "y"]);
    ok(
        c,
        &[
            "EVAL",
            "redis.call('set', KEYS[1], 'lua') return 1",
            "1",
            &format!("{tag}:lua"),
        ],
    );
    ok(c, &["MULTI"]);
    ok(c, &["INCR", &format!("{tag}:n")]);
    ok(c, &["INCR", &format!("{tag}:n")]);
    ok(c, &["EXEC"]);
    ok(c, &["SELECT", "3"]);
    ok(c, &["SET", &format!("{tag}:db3"), "x"]);
    ok(c, &["SELECT", "0"]);
    ok(c, &["EXPIRE", &format!("{tag}:s"), "500"]);
}

#[test]
fn redis_follows_tern_full_sync_then_partial_resync_after_a_dropped_link() {
    let p = tern(&[]);
    let mut pc = p.client();
    ok(&mut pc, &["DEBUG", "POPULATE", "2000"]);
    write_every_kind(&mut pc, "before");
    let r = redis(&[]);
    replicate(&r, &p);
    wait_in_sync(&p, &r);
    write_every_kind(&mut pc, "after");
    wait_in_sync(&p, &r);
    assert_eq!(info(&mut pc, "stats", "sync_full"), "1");
    assert_eq!(info(&mut pc, "replication", "connected_slaves"), "1");
    let slave0 = info(&mut pc, "replication", "slave0");
    assert!(slave0.contains("state=online"), "{slave0}");

    // The link drops (killed on the replica's side); writes go on; it resyncs partially.
    ok(&mut r.client(), &["CLIENT", "KILL", "TYPE", "master"]);
    write_every_kind(&mut pc, "during");
    wait_in_sync(&p, &r);
    assert_eq!(
        info(&mut pc, "stats", "sync_full"),
        "1",
        "no second full sync"
    );
    assert_eq!(info(&mut pc, "stats", "sync_partial_ok"), "1");
    // And from the primary's side.
    ok(&mut pc, &["CLIENT", "KILL", "TYPE", "replica"]);
    write_every_kind(&mut pc, "again");
    wait_in_sync(&p, &r);
    assert_eq!(info(&mut pc, "stats", "sync_full"), "1");
    assert_eq!(info(&mut pc, "stats", "sync_partial_ok"), "2");
    let role = ok(&mut pc, &["ROLE"]);
    let parts = items(&role);
    assert_eq!(text(&parts[0]), "master");
    assert_eq!(items(&parts[2]).len(), 1);
}

#[test]
fn tern_follows_redis_full_sync_then_partial_resync_after_a_dropped_link() {
    let p = redis(&[]);
    let mut pc = p.client();
    ok(&mut pc, &["DEBUG", "POPULATE", "2000"]);
    for i in 0..200 {
        let s = i.to_string();
        ok(&mut pc, &["HSET", "bighash", &s, &s]);
        ok(&mut pc, &["ZADD", "bigzset", &s, &s]);
        ok(&mut pc, &["RPUSH", "biglist", &s]);
    }
    write_every_kind(&mut pc, "before");
    let r = tern(&[]);
    replicate(&r, &p);
    wait_in_sync(&p, &r);
    write_every_kind(&mut pc, "after");
    wait_in_sync(&p, &r);
    let mut rc = r.client();
    assert_eq!(info(&mut rc, "replication", "role"), "slave");
    assert_eq!(
        err(&mut rc, &["SET", "x", "1"]),
        "READONLY You can't write against a read only replica."
    );
    let role = items(&ok(&mut rc, &["ROLE"]));
    assert_eq!(text(&role[0]), "slave");
    assert_eq!(text(&role[3]), "connected");

    ok(&mut pc, &["CLIENT", "KILL", "TYPE", "replica"]);
    write_every_kind(&mut pc, "during");
    wait_in_sync(&p, &r);
    ok(&mut rc, &["CLIENT", "KILL", "TYPE", "master"]);
    write_every_kind(&mut pc, "again");
    wait_in_sync(&p, &r);
    assert_eq!(
        info(&mut pc, "stats", "sync_full"),
        "1",
        "no second full sync"
    );
    assert_eq!(info(&mut pc, "stats", "sync_partial_ok"), "2");
}

#[test]
fn chains_mixing_tern_and_redis_keep_one_history() {
    // redis -> tern -> redis, and tern -> tern -> tern.
    let a = redis(&[]);
    let b = tern(&[]);
    let c = redis(&[]);
    replicate(&b, &a);
    replicate(&c, &b);
    let mut ac = a.client();
    write_every_kind(&mut ac, "x");
    wait_in_sync(&a, &b);
    wait_in_sync(&b, &c);
    assert_eq!(
        info(&mut a.client(), "replication", "master_replid"),
        info(&mut c.client(), "replication", "master_replid"),
        "one replication id down the chain"
    );

    let t1 = tern(&[]);
    let t2 = tern(&[]);
    let t3 = tern(&[]);
    let mut c1 = t1.client();
    // DEBUG POPULATE is not propagated (as in Redis): before the replicas attach.
    ok(&mut c1, &["DEBUG", "POPULATE", "1000"]);
    replicate(&t2, &t1);
    replicate(&t3, &t2);
    write_every_kind(&mut c1, "y");
    wait_in_sync(&t1, &t2);
    wait_in_sync(&t2, &t3);

    // Failover: t2 is promoted; t3 (its replica) keeps its partial stream, and t1 follows t2
    // with a partial resync thanks to master_replid2.
    ok(&mut t2.client(), &["REPLICAOF", "NO", "ONE"]);
    let mut c2 = t2.client();
    assert_eq!(info(&mut c2, "replication", "role"), "master");
    assert_eq!(
        info(&mut c2, "replication", "master_replid2"),
        info(&mut c1, "replication", "master_replid")
    );
    ok(&mut c2, &["SET", "after-failover", "1"]);
    replicate(&t1, &t2);
    wait_in_sync(&t2, &t1);
    wait_in_sync(&t2, &t3);
    assert_eq!(
        info(&mut c2, "stats", "sync_full"),
        "1",
        "only t3's first sync was full"
    );
}

/// A replica that has data never goes dark: while a full sync of a 1 GB dataset loads, reads
/// keep answering from the old one, and the switch is atomic (a read of one key from each
/// dataset sees one or the other, never both, never neither).
#[test]
fn a_replica_serves_old_data_during_a_full_sync_of_1gb_and_swaps_atomically() {
    let old_primary = tern(&[]);
    let new_primary = tern(&[]);
    ok(&mut old_primary.client(), &["SET", "old:marker", "old"]);
    ok(&mut new_primary.client(), &["SET", "new:marker", "new"]);
    // 6M keys of 100 bytes: about 1.2 GB of used_memory.
    let mut npc = new_primary.client();
    npc.set_read_timeout(Some(Duration::from_secs(300)))
        .unwrap();
    ok(&mut npc, &["DEBUG", "POPULATE", "6000000", "key", "100"]);
    let used: u64 = info(&mut npc, "memory", "used_memory").parse().unwrap();
    assert!(used > 1_000_000_000, "a 1 GB dataset: {used}");
    let r = tern(&[]);
    replicate(&r, &old_primary);
    wait_in_sync(&old_primary, &r);

    let stop = Arc::new(AtomicBool::new(false));
    let (olds, news) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let reader = {
        let mut c = r.client();
        let (stop, olds, news) = (stop.clone(), olds.clone(), news.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(300);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let v: Vec<Option<String>> = redis::cmd("MGET")
                    .arg("old:marker")
                    .arg("new:marker")
                    .query(&mut c)
                    .expect("every read during the sync succeeds");
                match (v[0].as_deref(), v[1].as_deref()) {
                    (Some("old"), None) => olds.fetch_add(1, Ordering::Relaxed),
                    (None, Some("new")) => news.fetch_add(1, Ordering::Relaxed),
                    other => panic!("a read saw a mix of datasets: {other:?}"),
                };
            }
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    replicate(&r, &new_primary);
    // (Offsets and key counts: a digest of 6M keys is too slow to poll.)
    let mut rc = r.client();
    assert!(
        wait_for(
            || {
                info(&mut rc, "replication", "master_link_status") == "up"
                    && info(&mut rc, "replication", "master_repl_offset")
                        == info(&mut npc, "replication", "master_repl_offset")
                    && as_int(&ok(&mut rc, &["DBSIZE"])) == 6_000_001
            },
            Duration::from_secs(240)
        ),
        "the replica did not finish the full sync: {}",
        r.logs()
    );
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    assert!(
        olds.load(Ordering::Relaxed) > 0,
        "old data was served during the sync"
    );
    assert!(news.load(Ordering::Relaxed) > 0, "new data after the swap");
    assert_eq!(as_int(&ok(&mut r.client(), &["DBSIZE"])), 6_000_001);
}

#[test]
fn wait_counts_replicas_that_acknowledged_the_clients_writes() {
    let p = tern(&[]);
    let mut pc = p.client();
    ok(&mut pc, &["SET", "k", "v"]);
    assert_eq!(as_int(&ok(&mut pc, &["WAIT", "0", "0"])), 0);
    let t0 = Instant::now();
    assert_eq!(as_int(&ok(&mut pc, &["WAIT", "1", "200"])), 0);
    assert!(
        t0.elapsed() >= Duration::from_millis(190),
        "WAIT waited for its timeout"
    );
    let r1 = redis(&[]);
    let r2 = tern(&[]);
    replicate(&r1, &p);
    replicate(&r2, &p);
    wait_in_sync(&p, &r1);
    wait_in_sync(&p, &r2);
    ok(&mut pc, &["SET", "k", "v2"]);
    assert_eq!(as_int(&ok(&mut pc, &["WAIT", "2", "5000"])), 2);
    assert!(err(&mut r2.client(), &["WAIT", "1", "0"])
        .starts_with("ERR WAIT cannot be used with replica instances"));
    // A script's writes count as the client's: with both replicas stopped, WAIT after an EVAL
    // that wrote times out with none (Redis counts a script's writes as its caller's too), and
    // after they resume, both.
    signal(&r1, libc::SIGSTOP);
    signal(&r2, libc::SIGSTOP);
    let _: () = redis::cmd("EVAL")
        .arg("redis.call('set', KEYS[1], 'v3')")
        .arg(1)
        .arg("k")
        .query(&mut pc)
        .expect("EVAL");
    assert_eq!(as_int(&ok(&mut pc, &["WAIT", "1", "300"])), 0);
    signal(&r1, libc::SIGCONT);
    signal(&r2, libc::SIGCONT);
    assert_eq!(as_int(&ok(&mut pc, &["WAIT", "2", "5000"])), 2);
}

#[test]
fn a_restarted_primary_continues_its_history_from_its_rdb() {
    let dir = std::env::temp_dir().join(format!("tern-it-repl-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display().to_string();
    let mut p = tern(&["--dir", &d, "--save", "3600 1"]);
    ok(&mut p.client(), &["SET", "a", "1"]);
    let r = redis(&[]);
    replicate(&r, &p);
    wait_in_sync(&p, &r);
    let replid = info(&mut p.client(), "replication", "master_replid");
    // A clean shutdown saves; the restarted primary has the same id and offset.
    let offset = info(&mut p.client(), "replication", "master_repl_offset");
    p.raw_conn().send(b"SHUTDOWN\r\n");
    assert!(p.wait_exit(Duration::from_secs(10)).is_some());
    // (On a new port: the old one may have been given to another test's server meanwhile.)
    let p = tern(&["--dir", &d]);
    replicate(&r, &p);
    let mut pc = p.client();
    assert_eq!(info(&mut pc, "replication", "master_replid"), replid);
    assert_eq!(info(&mut pc, "replication", "master_repl_offset"), offset);
    ok(&mut pc, &["SET", "b", "2"]);
    wait_in_sync(&p, &r);
    assert_eq!(
        info(&mut pc, "stats", "sync_partial_ok"),
        "1",
        "the replica resumed partially"
    );
    assert_eq!(info(&mut pc, "stats", "sync_full"), "0");
}

/// The memoize pattern of the seeds: an edge replica caches a value locally with a TTL while
/// following its primary.
#[test]
fn a_writable_replica_keeps_local_keys_until_their_ttl_or_the_primarys_write() {
    let p = tern(&[]);
    let r = tern(&[
        "--replica-read-only",
        "no",
        "--replica-keep-local-keys",
        "memo:*",
    ]);
    let mut pc = p.client();
    ok(&mut pc, &["SET", "config", "1"]);
    replicate(&r, &p);
    wait_in_sync(&p, &r);
    let mut rc = r.client();
    // Local writes: visible on the replica, absent on the primary, not in the stream.
    let before = info(&mut rc, "replication", "master_repl_offset");
    ok(&mut rc, &["SET", "memo:secret", "decrypted", "EX", "100"]);
    ok(&mut rc, &["SET", "memo:short", "x", "PX", "300"]);
    ok(&mut rc, &["SET", "scratch", "y"]);
    assert_eq!(text(&ok(&mut rc, &["GET", "memo:secret"])), "decrypted");
    assert_eq!(ok(&mut pc, &["GET", "memo:secret"]), redis::Value::Nil);
    assert_eq!(info(&mut rc, "replication", "master_repl_offset"), before);
    // Expires by its own TTL (the primary sends no DEL for it).
    assert!(
        wait_for(
            || as_int(&ok(&mut rc, &["EXISTS", "memo:short"])) == 0
                && as_int(&ok(&mut rc, &["DBSIZE"])) == 3,
            Duration::from_secs(5)
        ),
        "the local key with a short TTL was removed"
    );
    // Survives a partial resync.
    ok(&mut rc, &["CLIENT", "KILL", "TYPE", "master"]);
    ok(&mut pc, &["SET", "config", "2"]);
    assert!(wait_for(
        || text(&ok(&mut rc, &["GET", "config"])) == "2",
        Duration::from_secs(10)
    ));
    assert_eq!(info(&mut pc, "stats", "sync_partial_ok"), "1");
    assert_eq!(text(&ok(&mut rc, &["GET", "memo:secret"])), "decrypted");
    // A full sync keeps the local keys matching replica-keep-local-keys, drops the others.
    ok(&mut pc, &["DEBUG", "CHANGE-REPL-ID"]);
    ok(&mut rc, &["CLIENT", "KILL", "TYPE", "master"]);
    ok(&mut pc, &["SET", "config", "3"]);
    assert!(wait_for(
        || text(&ok(&mut rc, &["GET", "config"])) == "3",
        Duration::from_secs(10)
    ));
    assert_eq!(info(&mut pc, "stats", "sync_full"), "2");
    assert_eq!(text(&ok(&mut rc, &["GET", "memo:secret"])), "decrypted");
    assert_eq!(ok(&mut rc, &["GET", "scratch"]), redis::Value::Nil);
    // The primary's write of the same key wins.
    ok(&mut pc, &["SET", "memo:secret", "from-primary"]);
    assert!(wait_for(
        || text(&ok(&mut rc, &["GET", "memo:secret"])) == "from-primary",
        Duration::from_secs(10)
    ));
}

fn signal(t: &TestServer, sig: libc::c_int) {
    // SAFETY: kill(2) on a child this test started.
    unsafe {
        libc::kill(t.pid() as libc::pid_t, sig);
    }
}

/// The seeds' first pain: a small in-memory backlog turns one hiccup into a full resync. With
/// `repl-backlog-size` on disk, a replica that stalled while megabytes were written catches up
/// from the disk backlog, and so does one that returns to a restarted primary.
#[test]
fn a_stalled_replica_catches_up_from_the_disk_backlog_even_across_a_primary_restart() {
    let dir = std::env::temp_dir().join(format!("tern-it-repl-disk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display().to_string();
    let backlog = [
        "--repl-backlog-size",
        "64mb",
        "--repl-backlog-memory",
        "16kb",
    ];
    let mut args = vec!["--dir", d.as_str(), "--save", "3600 1"];
    args.extend_from_slice(&backlog);
    let mut p = tern(&args);
    let r = tern(&[]);
    replicate(&r, &p);
    wait_in_sync(&p, &r);
    let value = "v".repeat(1000);
    // The replica stalls (its process stopped) while 3 MB are written: 200 times the ring.
    signal(&r, libc::SIGSTOP);
    let mut pc = p.client();
    for i in 0..3000 {
        ok(&mut pc, &["SET", &format!("k{i}"), &value]);
    }
    // The link drops meanwhile: the replica must come back with PSYNC from where it was.
    ok(&mut pc, &["CLIENT", "KILL", "TYPE", "replica"]);
    signal(&r, libc::SIGCONT);
    // The replica may first apply what its socket still held and only then see the link
    // closed: wait for its reconnection, not just for equal offsets.
    assert!(
        wait_for(
            || info(&mut pc, "stats", "sync_partial_ok") == "1",
            Duration::from_secs(20)
        ),
        "the replica did not come back with a partial resync: sync_full {}, sync_partial_err {}",
        info(&mut pc, "stats", "sync_full"),
        info(&mut pc, "stats", "sync_partial_err")
    );
    wait_in_sync(&p, &r);
    assert_eq!(
        info(&mut pc, "stats", "sync_full"),
        "1",
        "no full resync after the stall"
    );
    let histlen: u64 = info(&mut pc, "replication", "repl_backlog_histlen")
        .parse()
        .unwrap();
    assert!(
        histlen > 3_000_000,
        "the backlog holds the whole history: {histlen}"
    );
    assert!(
        dir.join("backlog").read_dir().unwrap().count() >= 2,
        "segments on disk"
    );

    // The replica stalls again; the primary restarts (clean shutdown, RDB saved) with the
    // writes it made meanwhile; the replica comes back to it and resumes partially.
    signal(&r, libc::SIGSTOP);
    for i in 0..500 {
        ok(&mut pc, &["SET", &format!("j{i}"), &value]);
    }
    p.raw_conn().send(b"SHUTDOWN\r\n");
    assert!(p.wait_exit(Duration::from_secs(10)).is_some());
    let p = tern(&args);
    signal(&r, libc::SIGCONT);
    replicate(&r, &p);
    wait_in_sync(&p, &r);
    let mut pc = p.client();
    assert_eq!(
        info(&mut pc, "stats", "sync_full"),
        "0",
        "the restarted primary sent no snapshot"
    );
    assert_eq!(info(&mut pc, "stats", "sync_partial_ok"), "1");
    assert_eq!(as_int(&ok(&mut r.client(), &["DBSIZE"])), 3500);
}

#[test]
fn min_replicas_to_write_refuses_writes_without_enough_good_replicas() {
    let p = tern(&[
        "--min-replicas-to-write",
        "1",
        "--min-replicas-max-lag",
        "2",
    ]);
    let mut pc = p.client();
    assert_eq!(
        err(&mut pc, &["SET", "k", "v"]),
        "NOREPLICAS Not enough good replicas to write."
    );
    assert_eq!(
        ok(&mut pc, &["GET", "k"]),
        redis::Value::Nil,
        "reads are served"
    );
    let r = tern(&[]);
    replicate(&r, &p);
    assert!(wait_for(
        || q(&mut pc, &["SET", "k", "v"]).is_ok(),
        Duration::from_secs(10)
    ));
    assert_eq!(info(&mut pc, "replication", "min_slaves_good_slaves"), "1");
    // The replica stops acknowledging: past the lag, writes are refused again.
    signal(&r, libc::SIGSTOP);
    assert!(wait_for(
        || err_text(&mut pc, &["SET", "k", "v2"]).is_some_and(|e| e.starts_with("NOREPLICAS")),
        Duration::from_secs(10)
    ));
    signal(&r, libc::SIGCONT);
    assert!(wait_for(
        || q(&mut pc, &["SET", "k", "v3"]).is_ok(),
        Duration::from_secs(10)
    ));
}

fn err_text(c: &mut redis::Connection, args: &[&str]) -> Option<String> {
    q(c, args).err()
}

/// A BGSAVE that a replica is running when a full sync swaps its dataset out still writes the
/// dataset of the instant it began.
#[test]
fn a_bgsave_on_a_replica_survives_a_full_sync_swap() {
    let a = tern(&[]);
    let b = tern(&[]);
    ok(&mut a.client(), &["DEBUG", "POPULATE", "300", "a"]);
    ok(&mut b.client(), &["DEBUG", "POPULATE", "300", "b"]);
    let dir = test_dir("repl-bgsave-swap");
    let d = dir.display().to_string();
    let r = tern(&["--dir", &d, "--rdb-key-save-delay", "3000"]);
    replicate(&r, &a);
    wait_in_sync(&a, &r);
    let digest = text(&ok(&mut r.client(), &["DEBUG", "DIGEST"]));
    let mut rc = r.client();
    assert_eq!(text(&ok(&mut rc, &["BGSAVE"])), "Background saving started");
    // 300 keys at 3 ms each: the save is still running when the new dataset arrives.
    replicate(&r, &b);
    wait_in_sync(&b, &r);
    assert!(wait_for(
        || info(&mut rc, "persistence", "rdb_bgsave_in_progress") == "0",
        Duration::from_secs(30)
    ));
    assert_eq!(info(&mut rc, "persistence", "rdb_last_bgsave_status"), "ok");
    let saved = TestServer::start_redis(
        None,
        &[
            "--dir",
            &d,
            "--dbfilename",
            "dump.rdb",
            "--enable-debug-command",
            "yes",
        ],
    );
    assert_eq!(
        text(&ok(&mut saved.client(), &["DEBUG", "DIGEST"])),
        digest,
        "the file holds the old dataset"
    );
}

/// FAILOVER hands the primary role to a replica without moving data: writes pause, the target
/// catches up, the old primary asks it `PSYNC ... FAILOVER`, and the roles switch with partial
/// resyncs only. The target may be tern or Redis.
#[test]
fn failover_switches_roles_with_a_tern_or_redis_replica() {
    for target_is_redis in [false, true] {
        let p = tern(&[]);
        let a = if target_is_redis {
            redis(&[])
        } else {
            tern(&[])
        };
        let b = tern(&[]);
        let mut pc = p.client();
        ok(&mut pc, &["DEBUG", "POPULATE", "500"]);
        replicate(&a, &p);
        replicate(&b, &p);
        wait_in_sync(&p, &a);
        wait_in_sync(&p, &b);
        write_every_kind(&mut pc, "before");
        assert_eq!(
            err(&mut pc, &["FAILOVER", "ABORT"]),
            "ERR No failover in progress."
        );
        assert_eq!(
            err(
                &mut pc,
                &["FAILOVER", "TO", "127.0.0.1", "1", "TIMEOUT", "100"]
            ),
            "ERR FAILOVER target HOST and PORT is not a replica."
        );
        let port = a.port().to_string();
        ok(
            &mut pc,
            &["FAILOVER", "TO", "127.0.0.1", &port, "TIMEOUT", "5000"],
        );
        let mut ac = a.client();
        assert!(
            wait_for(
                || info(&mut ac, "replication", "role") == "master"
                    && info(&mut pc, "replication", "master_link_status") == "up"
                    && info(&mut pc, "replication", "master_failover_state") == "no-failover",
                Duration::from_secs(20)
            ),
            "roles did not switch (target redis: {target_is_redis})\n{}",
            p.logs()
        );
        assert_eq!(info(&mut pc, "replication", "role"), "slave");
        assert_eq!(info(&mut ac, "stats", "sync_full"), "0", "no data moved");
        write_every_kind(&mut ac, "after");
        wait_in_sync(&a, &p);
        wait_in_sync(&p, &b);
        assert_eq!(
            text(&ok(&mut ac, &["DEBUG", "DIGEST"])),
            text(&ok(&mut b.client(), &["DEBUG", "DIGEST"]))
        );
        assert!(err(&mut pc, &["SET", "x", "1"]).starts_with("READONLY"));
    }
}

/// PUBLISH on a primary reaches the subscribers of its replicas (the seeds' cache
/// invalidation at the edge), from a tern or a Redis primary.
#[test]
fn publish_on_the_primary_reaches_subscribers_of_a_replica() {
    for primary_is_redis in [false, true] {
        let p = if primary_is_redis {
            redis(&[])
        } else {
            tern(&[])
        };
        let r = tern(&[]);
        replicate(&r, &p);
        wait_in_sync(&p, &r);
        let mut sub = r.client();
        sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut ps = sub.as_pubsub();
        ps.subscribe("invalidate").unwrap();
        ok(&mut p.client(), &["PUBLISH", "invalidate", "user:42"]);
        let msg = ps
            .get_message()
            .expect("a message from the primary's PUBLISH");
        assert_eq!(msg.get_channel_name(), "invalidate");
        assert_eq!(msg.get_payload::<String>().unwrap(), "user:42");
    }
}

#[test]
fn replicas_arriving_within_the_diskless_delay_share_one_transfer() {
    // Two tern replicas and a Redis one ask for a full sync within the 2-second delay: one
    // snapshot is taken and streamed to all three.
    let p = tern(&["--repl-diskless-sync-delay", "2"]);
    let mut pc = p.client();
    write_every_kind(&mut pc, "shared");
    let replicas = [tern(&[]), tern(&[]), redis(&[])];
    for r in &replicas {
        replicate(r, &p);
    }
    for r in &replicas {
        wait_in_sync(&p, r);
    }
    let transfers: Vec<String> = p
        .logs()
        .lines()
        .filter(|l| l.contains("Starting a diskless transfer"))
        .map(String::from)
        .collect();
    assert_eq!(transfers.len(), 1, "{transfers:?}");
    assert!(transfers[0].contains("replicas=3"), "{transfers:?}");
    assert_eq!(info(&mut pc, "stats", "sync_full"), "3");
    // Streaming continues to each of them after the shared transfer.
    ok(&mut pc, &["SET", "after", "1"]);
    for r in &replicas {
        wait_in_sync(&p, r);
    }
}

#[test]
fn repl_diskless_sync_max_replicas_starts_the_transfer_before_the_delay() {
    // With a delay far beyond the test's limits, the transfer can only begin because the
    // second replica filled the group.
    let p = tern(&[
        "--repl-diskless-sync-delay",
        "3600",
        "--repl-diskless-sync-max-replicas",
        "2",
    ]);
    ok(&mut p.client(), &["SET", "k", "v"]);
    let a = tern(&[]);
    replicate(&a, &p);
    let b = tern(&[]);
    replicate(&b, &p);
    wait_in_sync(&p, &a);
    wait_in_sync(&p, &b);
    assert_eq!(text(&ok(&mut b.client(), &["GET", "k"])), "v");
}

#[test]
fn repl_backlog_ttl_frees_the_backlog_of_a_primary_without_replicas() {
    let p = tern(&["--repl-backlog-ttl", "1"]);
    let mut pc = p.client();
    let r = tern(&[]);
    replicate(&r, &p);
    ok(&mut pc, &["SET", "k", "v"]);
    wait_in_sync(&p, &r);
    let old_id = info(&mut pc, "replication", "master_replid");
    let old_offset: u64 = info(&mut pc, "replication", "master_repl_offset")
        .parse()
        .unwrap();
    ok(&mut r.client(), &["REPLICAOF", "NO", "ONE"]);
    assert!(
        wait_for(
            || info(&mut pc, "replication", "repl_backlog_active") == "0",
            Duration::from_secs(20)
        ),
        "the backlog was not freed; log:\n{}",
        p.logs()
    );
    // The log line reaches the test through a pipe a moment after INFO changes.
    p.wait_log(
        "Replication backlog freed after 1 seconds",
        Duration::from_secs(10),
    );
    assert_ne!(info(&mut pc, "replication", "master_replid"), old_id);
    assert_eq!(info(&mut pc, "replication", "repl_backlog_histlen"), "0");
    assert_eq!(
        info(&mut pc, "replication", "repl_backlog_first_byte_offset"),
        "0"
    );
    // The old history is gone: a replica asking to continue it gets a full sync.
    ok(&mut pc, &["SET", "k2", "v2"]);
    let reply = {
        use std::io::{BufRead, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", p.port())).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "PSYNC {old_id} {}\r\n", old_offset + 1).unwrap();
        let mut rd = std::io::BufReader::new(s);
        let mut line = String::new();
        while line.trim().is_empty() {
            line.clear();
            rd.read_line(&mut line).unwrap();
        }
        line
    };
    assert!(reply.starts_with("+FULLRESYNC "), "{reply}");
    assert_eq!(info(&mut pc, "replication", "repl_backlog_active"), "1");
    replicate(&r, &p);
    wait_in_sync(&p, &r);
    ok(&mut pc, &["SET", "k3", "v3"]);
    wait_in_sync(&p, &r);
    assert_ne!(info(&mut pc, "replication", "repl_backlog_histlen"), "0");
}

#[test]
fn a_replica_running_scripts_applies_every_write_of_its_primary() {
    // Read-only scripts on a replica (EVAL_RO on a read replica) make the server busy while
    // they run: the primary's stream must wait for them, not be refused, on the script's
    // own thread (one worker) and on another (two).
    for threads in ["1", "2"] {
        let primary = tern(&[]);
        let replica = tern(&["--server-threads", threads]);
        replicate(&replica, &primary);
        wait_in_sync(&primary, &replica);
        let stop = Arc::new(AtomicBool::new(false));
        let scripts = {
            let stop = stop.clone();
            let mut c = replica.client();
            std::thread::spawn(move || {
                // Each script spins for about 20 ms of wall-clock time.
                let script = "local t0 = redis.call('time')
while true do
  local t = redis.call('time')
  if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 20000 then break end
end
return redis.call('get', KEYS[1])";
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) && n < 500 {
                    let _: Option<String> = redis::cmd("EVAL_RO")
                        .arg(script)
                        .arg(1)
                        .arg("k0")
                        .query(&mut c)
                        .expect("EVAL_RO on the replica");
                    n += 1;
                }
                n
            })
        };
        let mut p = primary.client();
        for i in 0..2000 {
            ok(&mut p, &["SET", &format!("k{}", i % 100), &i.to_string()]);
            ok(&mut p, &["INCR", "counter"]);
        }
        stop.store(true, Ordering::Relaxed);
        let ran = scripts.join().expect("the script thread");
        assert!(ran > 0);
        wait_in_sync(&primary, &replica);
        assert_eq!(
            text(&ok(&mut replica.client(), &["GET", "counter"])),
            "2000",
            "threads {threads}"
        );
    }
}

#[test]
fn a_writable_replicas_own_writes_are_in_its_aof() {
    // As in Redis: the replica's AOF holds its primary's stream and its own writes, each in
    // its database, so a restart from the AOF alone has both.
    let p = tern(&[]);
    let dir = test_dir("writable-replica-aof");
    let mut r = start_in(
        &dir,
        &[
            "--replica-read-only",
            "no",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ],
    );
    let mut pc = p.client();
    ok(&mut pc, &["SET", "p1", "1"]);
    replicate(&r, &p);
    wait_in_sync(&p, &r);
    // The full sync's dataset reaches the AOF through a rewrite, as in Redis (the first
    // rewrite made the AOF at start-up).
    let mut ri = r.client();
    assert!(
        wait_for(
            || info(&mut ri, "persistence", "aof_rewrites") == "2"
                && info(&mut ri, "persistence", "aof_rewrite_in_progress") == "0",
            Duration::from_secs(20)
        ),
        "the AOF was rewritten after the full sync"
    );
    let mut rc = r.raw_conn();
    assert_eq!(rc.cmd(&["SELECT", "3"]), Resp::Simple("OK".into()));
    assert_eq!(rc.cmd(&["SET", "local3", "v"]), Resp::Simple("OK".into()));
    assert_eq!(rc.cmd(&["SELECT", "0"]), Resp::Simple("OK".into()));
    assert_eq!(rc.cmd(&["SET", "local0", "w"]), Resp::Simple("OK".into()));
    // A local transaction reaches the AOF whole (MULTI ... EXEC), as a primary's would.
    assert_eq!(rc.cmd(&["MULTI"]), Resp::Simple("OK".into()));
    assert_eq!(rc.cmd(&["SET", "tx1", "a"]), Resp::Simple("QUEUED".into()));
    assert_eq!(rc.cmd(&["SET", "tx2", "b"]), Resp::Simple("QUEUED".into()));
    assert!(matches!(rc.cmd(&["EXEC"]), Resp::Array(_)));
    ok(&mut pc, &["SET", "p2", "2"]);
    ok(&mut pc, &["SELECT", "3"]);
    ok(&mut pc, &["SET", "p3", "3"]);
    let mut r3 = r.client();
    ok(&mut r3, &["SELECT", "3"]);
    assert!(wait_for(
        || ok(&mut r3, &["GET", "p3"]) == redis::Value::BulkString(b"3".to_vec()),
        Duration::from_secs(10)
    ));
    // Acknowledged with appendfsync always: a kill -9 now loses none of it.
    signal(&r, libc::SIGKILL);
    assert!(r.wait_exit(Duration::from_secs(10)).is_some());
    let s = start_in(&dir, &["--appendonly", "yes"]);
    let mut c = s.raw_conn();
    for (db, key, want) in [
        ("0", "p1", "1"),
        ("0", "p2", "2"),
        ("0", "local0", "w"),
        ("0", "tx1", "a"),
        ("0", "tx2", "b"),
        ("3", "local3", "v"),
        ("3", "p3", "3"),
    ] {
        assert_eq!(c.cmd(&["SELECT", db]), Resp::Simple("OK".into()));
        assert_eq!(c.cmd(&["GET", key]), Resp::bulk(want), "db {db} key {key}");
    }
    assert_eq!(c.cmd(&["SELECT", "0"]), Resp::Simple("OK".into()));
    assert_eq!(c.cmd(&["DBSIZE"]), Resp::Int(5));
    assert_eq!(c.cmd(&["SELECT", "3"]), Resp::Simple("OK".into()));
    assert_eq!(c.cmd(&["DBSIZE"]), Resp::Int(2));
}
