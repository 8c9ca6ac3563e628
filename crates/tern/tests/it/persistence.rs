//! RDB snapshots: SAVE, BGSAVE, save points, SHUTDOWN's save, MISCONF after a failed save,
//! and the point-in-time guarantee of a background save taken while writers run. Files are
//! checked by Debian's real redis-server and redis-check-rdb.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> PathBuf {
    test_dir(&format!("persist-{name}"))
}

/// Starts Debian's redis-server on `dir/dump.rdb` (the file must load, or it exits).
fn redis_on(dir: &Path) -> TestServer {
    let d = dir.display().to_string();
    TestServer::start_redis(
        None,
        &[
            "--dir",
            &d,
            "--dbfilename",
            "dump.rdb",
            "--enable-debug-command",
            "yes",
        ],
    )
}

fn info(c: &mut redis::Connection, field: &str) -> String {
    let s = text(&ok(c, &["INFO", "persistence"]));
    info_field(&s, field).unwrap_or_else(|| panic!("no {field} in INFO:\n{s}"))
}

fn wait_save_done(c: &mut redis::Connection) {
    assert!(
        wait_for(
            || info(c, "rdb_bgsave_in_progress") == "0",
            Duration::from_secs(60)
        ),
        "the background save did not finish"
    );
}

fn redis_check_rdb(file: &Path) -> (bool, String) {
    let out = std::process::Command::new("redis-check-rdb")
        .arg(file)
        .output()
        .expect("redis-check-rdb (Debian's redis-tools/redis-server) runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success() && text.contains("RDB looks OK"), text)
}

#[test]
fn save_writes_every_type_and_redis_loads_the_same_dataset() {
    let dir = temp_dir("every-type");
    let t = start_in(&dir, &["--enable-debug-command", "yes"]);
    let mut c = t.client();
    ok(&mut c, &["SET", "str", "hello"]);
    ok(&mut c, &["SET", "int", "12345"]);
    ok(&mut c, &["SET", "ttl", "v", "PX", "100000"]);
    ok(&mut c, &["SET", "big", &"x".repeat(10_000)]);
    ok(&mut c, &["RPUSH", "list", "a", "b", "1", "2"]);
    ok(&mut c, &["HSET", "hash", "f", "v", "g", "w"]);
    ok(&mut c, &["SADD", "iset", "1", "2", "3"]);
    ok(&mut c, &["SADD", "set", "a", "b"]);
    ok(&mut c, &["ZADD", "zset", "1.5", "a", "-2", "b"]);
    ok(&mut c, &["PFADD", "hll", "a", "b", "c"]);
    ok(&mut c, &["SETBIT", "bits", "100", "1"]);
    // Hashtable / skiplist / quicklist encodings too.
    for i in 0..300 {
        let s = i.to_string();
        ok(&mut c, &["HSET", "bighash", &s, &s]);
        ok(&mut c, &["ZADD", "bigzset", &s, &s]);
        ok(&mut c, &["SADD", "bigset", &format!("m{s}")]);
        ok(&mut c, &["RPUSH", "biglist", &s]);
    }
    ok(&mut c, &["SELECT", "5"]);
    ok(&mut c, &["SET", "in5", "five"]);
    ok(&mut c, &["SELECT", "0"]);
    ok(&mut c, &["DEBUG", "POPULATE", "1000"]);
    let digest = text(&ok(&mut c, &["DEBUG", "DIGEST"]));
    assert_eq!(text(&ok(&mut c, &["SAVE"])), "OK");
    assert_eq!(info(&mut c, "rdb_changes_since_last_save"), "0");
    assert_eq!(info(&mut c, "rdb_last_bgsave_status"), "ok");
    let (good, report) = redis_check_rdb(&dir.join("dump.rdb"));
    assert!(good, "redis-check-rdb refuses tern's file:\n{report}");
    drop(t);

    let r = redis_on(&dir);
    let mut rc = r.client();
    assert_eq!(text(&ok(&mut rc, &["DEBUG", "DIGEST"])), digest);
    let pttl = as_int(&ok(&mut rc, &["PTTL", "ttl"]));
    assert!(pttl > 90_000 && pttl <= 100_000, "ttl kept: {pttl}");
    ok(&mut rc, &["SELECT", "5"]);
    assert_eq!(text(&ok(&mut rc, &["GET", "in5"])), "five");
}

#[test]
fn save_and_bgsave_replies_errors_and_info_fields_match_redis() {
    let dir = temp_dir("replies");
    let t = start_in(&dir, &["--rdb-key-save-delay", "2000"]);
    let mut c = t.client();
    let before = as_int(&ok(&mut c, &["LASTSAVE"]));
    for i in 0..200 {
        ok(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(info(&mut c, "rdb_changes_since_last_save"), "200");
    assert_eq!(err(&mut c, &["BGSAVE", "NOW"]), "ERR syntax error");
    assert_eq!(text(&ok(&mut c, &["BGSAVE"])), "Background saving started");
    // 200 keys at 2 ms each: the save is still running.
    assert_eq!(info(&mut c, "rdb_bgsave_in_progress"), "1");
    assert_eq!(
        err(&mut c, &["BGSAVE"]),
        "ERR Background save already in progress"
    );
    assert_eq!(
        err(&mut c, &["SAVE"]),
        "ERR Background save already in progress"
    );
    assert_eq!(info(&mut c, "current_save_keys_total"), "200");
    // Writes during the save count towards the next one.
    ok(&mut c, &["SET", "during", "1"]);
    wait_save_done(&mut c);
    assert_eq!(info(&mut c, "rdb_changes_since_last_save"), "1");
    assert_eq!(info(&mut c, "rdb_saves"), "1");
    assert_eq!(info(&mut c, "rdb_last_bgsave_status"), "ok");
    assert!(as_int(&ok(&mut c, &["LASTSAVE"])) >= before);
}

#[test]
fn a_save_point_triggers_a_background_save() {
    let dir = temp_dir("save-point");
    let t = start_in(&dir, &["--save", "1 3"]);
    let mut c = t.client();
    ok(&mut c, &["SET", "a", "1"]);
    ok(&mut c, &["SET", "b", "2"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(info(&mut c, "rdb_saves"), "0", "2 changes < 3: no save");
    ok(&mut c, &["SET", "c", "3"]);
    assert!(
        wait_for(|| info(&mut c, "rdb_saves") == "1", Duration::from_secs(5)),
        "3 changes after 1 s trigger a save"
    );
    assert!(dir.join("dump.rdb").exists());
    t.wait_log("3 changes in 1 seconds. Saving...", Duration::from_secs(10));
}

#[test]
fn a_failed_background_save_stops_writes_with_misconf_until_a_save_succeeds() {
    let dir = temp_dir("misconf");
    let sub = dir.join("data");
    std::fs::create_dir_all(&sub).unwrap();
    let t = start_in(&sub, &["--save", "3600 1"]);
    let mut c = t.client();
    ok(&mut c, &["SET", "a", "1"]);
    std::fs::remove_dir_all(&sub).unwrap();
    assert_eq!(text(&ok(&mut c, &["BGSAVE"])), "Background saving started");
    assert!(wait_for(
        || info(&mut c, "rdb_last_bgsave_status") == "err",
        Duration::from_secs(10)
    ));
    let e = err(&mut c, &["SET", "b", "2"]);
    assert!(
        e.starts_with("MISCONF Redis is configured to save RDB snapshots"),
        "{e}"
    );
    assert!(err(&mut c, &["PING"]).starts_with("MISCONF"));
    assert_eq!(text(&ok(&mut c, &["GET", "a"])), "1", "reads still work");
    // Space (here: the directory) comes back; the next save succeeds and writes resume.
    std::fs::create_dir_all(&sub).unwrap();
    assert_eq!(text(&ok(&mut c, &["SAVE"])), "OK");
    assert_eq!(text(&ok(&mut c, &["SET", "b", "2"])), "OK");
    assert_eq!(text(&ok(&mut c, &["PING"])), "PONG");
}

/// Sends SHUTDOWN (which closes the connection without a reply when it succeeds).
fn shutdown(t: &TestServer, args: &[&str]) {
    let parts: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    t.raw_conn().send(&encode(&parts));
}

#[test]
fn shutdown_saves_when_asked_or_when_save_points_exist() {
    // SHUTDOWN SAVE with no save points.
    let dir = temp_dir("shutdown-save");
    let mut t = start_in(&dir, &[]);
    let mut c = t.client();
    ok(&mut c, &["SET", "k", "v"]);
    shutdown(&t, &["SHUTDOWN", "SAVE"]);
    assert!(t.wait_exit(Duration::from_secs(10)).is_some());
    assert!(
        dir.join("dump.rdb").exists(),
        "SHUTDOWN SAVE wrote the file"
    );

    // SHUTDOWN NOSAVE with save points: nothing written.
    let dir = temp_dir("shutdown-nosave");
    let mut t = start_in(&dir, &["--save", "3600 1"]);
    let mut c = t.client();
    ok(&mut c, &["SET", "k", "v"]);
    shutdown(&t, &["SHUTDOWN", "NOSAVE"]);
    assert!(t.wait_exit(Duration::from_secs(10)).is_some());
    assert!(!dir.join("dump.rdb").exists());

    // SIGTERM with save points saves, and the file holds the last acknowledged write.
    let dir = temp_dir("sigterm");
    let mut t = start_in(&dir, &["--save", "3600 1"]);
    let mut c = t.client();
    for i in 0..100 {
        ok(&mut c, &["SET", &format!("k{i}"), &i.to_string()]);
    }
    // SAFETY: kill(2) on the child we started.
    unsafe {
        libc::kill(t.pid() as libc::pid_t, libc::SIGTERM);
    }
    assert!(t.wait_exit(Duration::from_secs(10)).is_some());
    assert!(
        t.logs().contains("Saving the final RDB snapshot"),
        "{}",
        t.logs()
    );
    let r = redis_on(&dir);
    let mut rc = r.client();
    assert_eq!(as_int(&ok(&mut rc, &["DBSIZE"])), 100);
    assert_eq!(text(&ok(&mut rc, &["GET", "k99"])), "99");
}

/// The core guarantee: a BGSAVE taken while writers run holds the dataset of one instant.
/// Writers keep two invariants that hold at every instant and break in any mix of two
/// instants: (1) MSET sets ten keys spread over every shard to the same value; (2) a chain of
/// twenty counters is INCRed in order, so at any instant the counters are non-increasing
/// along the chain and the first exceeds the last by at most one.
#[test]
fn bgsave_under_concurrent_writes_holds_one_instant() {
    let dir = temp_dir("point-in-time");
    let t = start_in(&dir, &["--rdb-key-save-delay", "20"]);
    let mut c = t.client();
    ok(&mut c, &["DEBUG", "POPULATE", "20000"]);
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..2 {
        let mut wc = t.client();
        let stop = stop.clone();
        writers.push(std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                n += 1;
                let v = n.to_string();
                let mut args: Vec<String> = vec!["MSET".into()];
                for k in 0..10 {
                    args.push(format!("group{w}:{k}"));
                    args.push(v.clone());
                }
                let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
                ok(&mut wc, &refs);
                for k in 0..20 {
                    ok(&mut wc, &["INCR", &format!("chain{w}:{k}")]);
                }
                // Deletes and re-creates ahead of the walker, too.
                ok(&mut wc, &["DEL", &format!("key:{}", n % 20000)]);
                ok(&mut wc, &["SET", &format!("new{w}:{n}"), "x"]);
            }
            n
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(text(&ok(&mut c, &["BGSAVE"])), "Background saving started");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        info(&mut c, "rdb_bgsave_in_progress"),
        "1",
        "still saving while writers run"
    );
    wait_save_done(&mut c);
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        assert!(w.join().unwrap() > 10, "writers made progress");
    }
    assert_eq!(info(&mut c, "rdb_last_bgsave_status"), "ok");
    let cow: u64 = info(&mut c, "rdb_last_cow_size").parse().unwrap();
    drop(t);

    let r = redis_on(&dir);
    let mut rc = r.client();
    for w in 0..2 {
        let vals: Vec<String> = (0..10)
            .map(|k| text(&ok(&mut rc, &["GET", &format!("group{w}:{k}")])))
            .collect();
        assert!(
            vals.iter().all(|v| *v == vals[0]),
            "MSET torn in the snapshot: {vals:?}"
        );
        let chain: Vec<i64> = (0..20)
            .map(|k| {
                let v = ok(&mut rc, &["GET", &format!("chain{w}:{k}")]);
                if v == redis::Value::Nil {
                    0
                } else {
                    text(&v).parse().unwrap()
                }
            })
            .collect();
        assert!(
            chain.windows(2).all(|p| p[0] >= p[1]) && chain[0] - chain[19] <= 1,
            "INCR chain not of one instant: {chain:?}"
        );
        // The MSET of round n precedes the INCRs of round n.
        let g: i64 = vals[0].parse().unwrap();
        assert!(
            g == chain[0] || g == chain[0] + 1,
            "group {g} vs chain {chain:?}"
        );
    }
    assert!(
        cow > 0,
        "writes ran ahead of the walker, so records were kept for it"
    );
}

#[test]
fn flushall_and_swapdb_during_bgsave_do_not_change_the_snapshot() {
    let dir = temp_dir("flush-during");
    let t = start_in(&dir, &["--rdb-key-save-delay", "200"]);
    let mut c = t.client();
    ok(&mut c, &["DEBUG", "POPULATE", "500"]);
    ok(&mut c, &["SELECT", "1"]);
    ok(&mut c, &["SET", "one", "1"]);
    ok(&mut c, &["SELECT", "0"]);
    let digest = text(&ok(&mut c, &["DEBUG", "DIGEST"]));
    assert_eq!(text(&ok(&mut c, &["BGSAVE"])), "Background saving started");
    ok(&mut c, &["SWAPDB", "0", "1"]);
    ok(&mut c, &["SET", "after-swap", "x"]);
    ok(&mut c, &["FLUSHALL"]);
    ok(&mut c, &["SET", "after-flush", "x"]);
    wait_save_done(&mut c);
    assert_eq!(info(&mut c, "rdb_last_bgsave_status"), "ok");
    drop(t);
    let r = redis_on(&dir);
    let mut rc = r.client();
    assert_eq!(text(&ok(&mut rc, &["DEBUG", "DIGEST"])), digest);
    assert_eq!(as_int(&ok(&mut rc, &["DBSIZE"])), 500);
    ok(&mut rc, &["SELECT", "1"]);
    assert_eq!(text(&ok(&mut rc, &["GET", "one"])), "1");
}

#[test]
fn debug_reload_saves_empties_and_loads_the_same_dataset() {
    let dir = temp_dir("debug-reload");
    let t = start_in(&dir, &["--enable-debug-command", "yes"]);
    let mut c = t.client();
    ok(&mut c, &["DEBUG", "POPULATE", "500"]);
    ok(&mut c, &["ZADD", "z", "1", "a", "2", "b"]);
    ok(&mut c, &["SET", "ttl", "v", "EX", "500"]);
    let digest = text(&ok(&mut c, &["DEBUG", "DIGEST"]));
    assert_eq!(text(&ok(&mut c, &["DEBUG", "RELOAD"])), "OK");
    assert_eq!(text(&ok(&mut c, &["DEBUG", "DIGEST"])), digest);
    assert!(as_int(&ok(&mut c, &["TTL", "ttl"])) > 490);
    // NOSAVE reloads the file as it is: a write since the last save disappears.
    ok(&mut c, &["SET", "unsaved", "1"]);
    assert_eq!(text(&ok(&mut c, &["DEBUG", "RELOAD", "NOSAVE"])), "OK");
    assert_eq!(ok(&mut c, &["GET", "unsaved"]), redis::Value::Nil);
    assert_eq!(text(&ok(&mut c, &["DEBUG", "DIGEST"])), digest);
}

#[test]
fn bgsave_during_an_aof_rewrite_is_refused_or_scheduled() {
    let dir = temp_dir("bgsave-schedule");
    let t = start_in(
        &dir,
        &["--appendonly", "yes", "--rdb-key-save-delay", "1000"],
    );
    let mut c = t.client();
    for i in 0..300 {
        ok(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(
        text(&ok(&mut c, &["BGREWRITEAOF"])),
        "Background append only file rewriting started"
    );
    assert!(err(&mut c, &["BGSAVE"]).starts_with("ERR Another child process is active (AOF?)"));
    assert_eq!(
        text(&ok(&mut c, &["BGSAVE", "SCHEDULE"])),
        "Background saving scheduled"
    );
    assert!(
        wait_for(|| info(&mut c, "rdb_saves") == "1", Duration::from_secs(30)),
        "the scheduled save ran after the rewrite"
    );
    assert_eq!(info(&mut c, "aof_last_bgrewrite_status"), "ok");
    assert!(dir.join("dump.rdb").exists());
}
