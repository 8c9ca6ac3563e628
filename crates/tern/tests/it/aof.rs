//! The append-only file and loading at start-up: kill -9 under a write load loses no
//! acknowledged write, truncated tails, rewrites under load, a full disk (a small tmpfs made by
//! the test), and RDB files written by tern and by Debian's real redis-server loaded at start.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> PathBuf {
    test_dir(&format!("aof-{name}"))
}

fn kill9(t: &mut TestServer) {
    // SAFETY: kill(2) on the child this test started.
    unsafe {
        libc::kill(t.pid() as libc::pid_t, libc::SIGKILL);
    }
    assert!(t.wait_exit(Duration::from_secs(10)).is_some());
}

/// Runs `writers` clients that each SET `w<t>:<i>` = i for i = 0, 1, 2, ... and remember the
/// last i acknowledged, until the server dies or `max` writes each. Returns, per writer, the
/// number of acknowledged writes.
fn write_until_killed(
    t: &mut TestServer,
    writers: usize,
    max: u64,
    kill_after: Duration,
) -> Vec<u64> {
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let mut c = t.client();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut acked = 0u64;
                while acked < max && !stop.load(Ordering::Relaxed) {
                    let r: redis::RedisResult<String> = redis::cmd("SET")
                        .arg(format!("w{w}:{acked}"))
                        .arg(acked)
                        .query(&mut c);
                    match r {
                        Ok(_) => acked += 1,
                        Err(_) => break,
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(kill_after);
    kill9(t);
    stop.store(true, Ordering::Relaxed);
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Counts acknowledged writes missing after a restart.
fn lost_writes(c: &mut redis::Connection, acked: &[u64]) -> u64 {
    let mut lost = 0;
    for (w, &n) in acked.iter().enumerate() {
        for i in 0..n {
            let v: Option<String> = redis::cmd("GET").arg(format!("w{w}:{i}")).query(c).unwrap();
            if v.as_deref() != Some(i.to_string().as_str()) {
                lost += 1;
            }
        }
    }
    lost
}

fn kill9_loses_nothing(fsync: &str) {
    let dir = temp_dir(&format!("kill9-{fsync}"));
    let mut total = 0;
    // Three kills at random moments between 100 and 800 ms into the load (the moments are
    // printed, so a failure can be replayed).
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let mut x = seed | 1;
    let moments: Vec<u64> = (0..3)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            100 + x % 700
        })
        .collect();
    eprintln!("kill -9 moments (ms): {moments:?}");
    for (round, ms) in moments.into_iter().enumerate() {
        let mut t = start_in(&dir, &["--appendonly", "yes", "--appendfsync", fsync]);
        if round > 0 {
            // The previous rounds' keys are still there.
            assert!(as_int(&ok(&mut t.client(), &["DBSIZE"])) > 0);
            ok(&mut t.client(), &["FLUSHALL"]);
        }
        let acked = write_until_killed(&mut t, 3, 20_000, Duration::from_millis(ms));
        let n: u64 = acked.iter().sum();
        assert!(n > 0, "writes were acknowledged before the kill");
        total += n;
        let t = start_in(&dir, &["--appendonly", "yes", "--appendfsync", fsync]);
        let mut c = t.client();
        assert_eq!(
            lost_writes(&mut c, &acked),
            0,
            "acknowledged writes lost after kill -9 ({fsync}, round {round}, {n} acked)"
        );
    }
    assert!(
        total > 100,
        "the load was real: {total} acknowledged writes"
    );
}

#[test]
fn appendfsync_always_kill9_loses_no_acknowledged_write() {
    kill9_loses_nothing("always");
}

/// With `everysec` the OS holds every acknowledged write before its reply leaves (the AOF is
/// written before replies, like Redis's beforeSleep), so a process crash loses nothing either;
/// only a machine crash can lose the last second, which fsync covers.
#[test]
fn appendfsync_everysec_kill9_loses_no_acknowledged_write() {
    kill9_loses_nothing("everysec");
}

fn incr_file(dir: &Path) -> PathBuf {
    let m = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    let name = m
        .lines()
        .rfind(|l| l.ends_with("type i"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .to_string();
    dir.join("appendonlydir").join(name)
}

#[test]
fn a_truncated_aof_tail_is_loaded_or_refused_as_aof_load_truncated_says() {
    let dir = temp_dir("truncated");
    let mut t = start_in(&dir, &["--appendonly", "yes"]);
    let mut c = t.client();
    for i in 0..10 {
        ok(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    // An unfinished transaction and half a command at the end, as a crash leaves them.
    kill9(&mut t);
    let incr = incr_file(&dir);
    let good_len = std::fs::metadata(&incr).unwrap().len();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&incr)
        .unwrap();
    use std::io::Write;
    f.write_all(
        b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$3\r\nnew\r\n*3\r\n$3\r\nSET\r\n$1",
    )
    .unwrap();
    drop(f);

    // aof-load-truncated no: refused, naming the offset.
    let err = tern_refuses_to_start(&[
        "--appendonly",
        "yes",
        "--aof-load-truncated",
        "no",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert!(err.contains(&format!("at offset {good_len}")), "{err}");

    // Default (yes): loads the whole commands before the unfinished MULTI and cuts the file.
    let t = start_in(&dir, &["--appendonly", "yes"]);
    let mut c = t.client();
    assert_eq!(as_int(&ok(&mut c, &["DBSIZE"])), 10);
    assert_eq!(
        text(&ok(&mut c, &["GET", "k1"])),
        "v",
        "the unfinished MULTI was dropped"
    );
    assert!(
        t.logs()
            .contains("Revert incomplete MULTI/EXEC transaction"),
        "{}",
        t.logs()
    );
    ok(&mut c, &["SET", "after", "1"]);
    drop(t);
    let t = start_in(&dir, &["--appendonly", "yes"]);
    assert_eq!(text(&ok(&mut t.client(), &["GET", "after"])), "1");
}

#[test]
fn bgrewriteaof_under_load_keeps_every_write() {
    let dir = temp_dir("rewrite");
    let t = start_in(
        &dir,
        &[
            "--appendonly",
            "yes",
            "--rdb-key-save-delay",
            "50",
            "--enable-debug-command",
            "yes",
        ],
    );
    let mut c = t.client();
    ok(&mut c, &["DEBUG", "POPULATE", "3000"]);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let mut wc = t.client();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                ok(&mut wc, &["INCR", "counter"]);
                ok(
                    &mut wc,
                    &["SET", &format!("key:{}", i % 3000), &i.to_string()],
                );
                ok(&mut wc, &["RPUSH", "log", &i.to_string()]);
                i += 1;
            }
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        text(&ok(&mut c, &["BGREWRITEAOF"])),
        "Background append only file rewriting started"
    );
    assert_eq!(
        err(&mut c, &["BGREWRITEAOF"]),
        "ERR Background append only file rewriting already in progress"
    );
    assert!(wait_for(
        || {
            let s = text(&ok(&mut c, &["INFO", "persistence"]));
            info_field(&s, "aof_rewrite_in_progress").as_deref() == Some("0")
        },
        Duration::from_secs(60)
    ));
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let s = text(&ok(&mut c, &["INFO", "persistence"]));
    assert_eq!(
        info_field(&s, "aof_last_bgrewrite_status").as_deref(),
        Some("ok")
    );
    let digest = text(&ok(&mut c, &["DEBUG", "DIGEST"]));
    drop(t);
    let manifest =
        std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert!(
        manifest.contains("appendonly.aof.2.base.rdb seq 2 type b"),
        "{manifest}"
    );
    assert!(
        !dir.join("appendonlydir/appendonly.aof.1.base.rdb").exists(),
        "old base deleted"
    );
    let t = start_in(
        &dir,
        &["--appendonly", "yes", "--enable-debug-command", "yes"],
    );
    assert_eq!(text(&ok(&mut t.client(), &["DEBUG", "DIGEST"])), digest);
}

/// A tmpfs of a fixed size, mounted by the test and unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn new(dir: &Path, size: &str) -> SmallDisk {
        let st = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount runs");
        assert!(
            st.success(),
            "mounting a tmpfs needs root (CI and this machine run as root)"
        );
        SmallDisk(dir.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_gives_misconf_never_loses_acknowledged_writes_and_recovers() {
    let dir = temp_dir("full-disk");
    let _disk = SmallDisk::new(&dir, "2m");
    let mut t = start_in(&dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let filler = dir.join("filler");
    std::fs::write(&filler, vec![0u8; 1_500_000]).unwrap();
    let value = "x".repeat(4096);
    // A writer fills the disk; its last write cannot be written and its reply waits.
    let writer = {
        let mut wc = t.client();
        let value = value.clone();
        std::thread::spawn(move || {
            let mut acked = 0u64;
            // 200 values of 4 KiB: more than fits beside the filler, less than fits without.
            for i in 0..200u64 {
                let r: redis::RedisResult<String> = redis::cmd("SET")
                    .arg(format!("w0:{i}"))
                    .arg(&value)
                    .query(&mut wc);
                match r {
                    Ok(_) => acked += 1,
                    Err(_) => break,
                }
            }
            acked
        })
    };
    let mut c = t.client();
    assert!(
        wait_for(
            || {
                let s = text(&ok(&mut c, &["INFO", "persistence"]));
                info_field(&s, "aof_last_write_status").as_deref() == Some("err")
            },
            Duration::from_secs(20)
        ),
        "the disk filled up"
    );
    let e = err(&mut c, &["SET", "other", "1"]);
    assert_eq!(
        e,
        "MISCONF Errors writing to the AOF file: No space left on device"
    );
    assert!(q(&mut c, &["GET", "w0:0"]).is_ok(), "reads are served");
    assert!(
        !writer.is_finished(),
        "the write that could not be written is not acknowledged"
    );
    // Space returns: the pending write lands, its reply goes out, writes resume.
    std::fs::remove_file(&filler).unwrap();
    let acked = writer.join().unwrap();
    assert_eq!(
        acked, 200,
        "every write of the writer was acknowledged once space returned"
    );
    assert!(wait_for(
        || q(&mut c, &["SET", "other", "1"]).is_ok(),
        Duration::from_secs(5)
    ));
    kill9(&mut t);
    let t = start_in(&dir, &["--appendonly", "yes"]);
    let mut c = t.client();
    let mut lost = 0;
    for i in 0..acked {
        let v: Option<String> = redis::cmd("GET")
            .arg(format!("w0:{i}"))
            .query(&mut c)
            .unwrap();
        if v.as_deref() != Some(value.as_str()) {
            lost += 1;
        }
    }
    assert_eq!(lost, 0, "acknowledged writes lost across the full disk");
    assert_eq!(text(&ok(&mut c, &["GET", "other"])), "1");
}

#[test]
fn tern_loads_its_own_rdb_and_one_written_by_redis_with_the_same_digest() {
    // Tern -> tern.
    let dir = temp_dir("rdb-load");
    let t = start_in(&dir, &["--enable-debug-command", "yes"]);
    let mut c = t.client();
    ok(&mut c, &["DEBUG", "POPULATE", "2000"]);
    ok(&mut c, &["RPUSH", "l", "a", "b"]);
    ok(&mut c, &["HSET", "h", "f", "v"]);
    ok(&mut c, &["ZADD", "z", "1", "a"]);
    ok(&mut c, &["SADD", "s", "1", "x"]);
    ok(&mut c, &["SET", "ttl", "v", "EX", "1000"]);
    ok(&mut c, &["SET", "gone", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    let digest_with_expired = text(&ok(&mut c, &["DEBUG", "DIGEST"]));
    ok(&mut c, &["SAVE"]);
    // The file holds the expired key (as Redis writes it); loading drops it, as Redis does.
    assert!(ok(&mut c, &["GET", "gone"]) == redis::Value::Nil);
    let digest = text(&ok(&mut c, &["DEBUG", "DIGEST"]));
    assert_ne!(digest, digest_with_expired);
    drop(t);
    let t = start_in(&dir, &["--enable-debug-command", "yes"]);
    let mut c = t.client();
    assert_eq!(text(&ok(&mut c, &["DEBUG", "DIGEST"])), digest);
    assert!(as_int(&ok(&mut c, &["TTL", "ttl"])) > 990);
    let s = text(&ok(&mut c, &["INFO", "persistence"]));
    assert_eq!(
        info_field(&s, "rdb_last_load_keys_loaded").as_deref(),
        Some("2005")
    );
    assert!(
        t.logs().contains("Done loading RDB, keys loaded: 2005"),
        "{}",
        t.logs()
    );
    drop(t);

    // Redis -> tern, every type and encoding.
    let rdir = temp_dir("rdb-from-redis");
    let d = rdir.display().to_string();
    let r = TestServer::start_redis(None, &["--dir", &d, "--enable-debug-command", "yes"]);
    let mut rc = r.client();
    ok(&mut rc, &["DEBUG", "POPULATE", "1000"]);
    for (k, n) in [
        ("biglist", 200),
        ("bighash", 200),
        ("bigset", 200),
        ("bigzset", 200),
    ] {
        for i in 0..n {
            let s = i.to_string();
            match k {
                "biglist" => ok(&mut rc, &["RPUSH", k, &s]),
                "bighash" => ok(&mut rc, &["HSET", k, &s, &s]),
                "bigset" => ok(&mut rc, &["SADD", k, &format!("m{s}")]),
                _ => ok(&mut rc, &["ZADD", k, &s, &s]),
            };
        }
    }
    ok(&mut rc, &["RPUSH", "l", "a", "1"]);
    ok(&mut rc, &["HSET", "h", "f", "v"]);
    ok(&mut rc, &["SADD", "iset", "1", "2"]);
    ok(&mut rc, &["ZADD", "z", "1.5", "a"]);
    ok(&mut rc, &["PFADD", "hll", "a", "b"]);
    ok(&mut rc, &["SET", "big", &"y".repeat(5000)]);
    ok(&mut rc, &["SET", "ttl", "v", "EX", "1000"]);
    ok(&mut rc, &["SELECT", "3"]);
    ok(&mut rc, &["SET", "in3", "three"]);
    ok(&mut rc, &["SELECT", "0"]);
    let digest = text(&ok(&mut rc, &["DEBUG", "DIGEST"]));
    ok(&mut rc, &["SAVE"]);
    drop(r);
    let t = start_in(&rdir, &["--enable-debug-command", "yes"]);
    let mut c = t.client();
    assert_eq!(text(&ok(&mut c, &["DEBUG", "DIGEST"])), digest);
    ok(&mut c, &["SELECT", "3"]);
    assert_eq!(text(&ok(&mut c, &["GET", "in3"])), "three");
}

#[test]
fn a_truncated_rdb_file_is_refused_naming_the_offset_unless_told_to_load_what_is_valid() {
    let dir = temp_dir("rdb-truncated");
    let t = start_in(&dir, &[]);
    let mut c = t.client();
    ok(&mut c, &["DEBUG", "POPULATE", "1000"]);
    ok(&mut c, &["SAVE"]);
    drop(t);
    let path = dir.join("dump.rdb");
    let len = std::fs::metadata(&path).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    // A truncated file must not start the server.
    let err = tern_refuses_to_start(&["--dir", dir.to_str().unwrap()]);
    assert!(
        err.contains("Short read") && err.contains("at offset"),
        "{err}"
    );

    let t = start_in(&dir, &["--rdb-load-truncated", "yes"]);
    let n = as_int(&ok(&mut t.client(), &["DBSIZE"]));
    assert!(n > 100 && n < 1000, "the valid prefix was loaded: {n} keys");
    assert!(t.logs().contains("Loaded the valid part"), "{}", t.logs());
}

/// Fills a server with every type, small and big encodings, TTLs and two databases.
fn fill_every_type(c: &mut redis::Connection) {
    ok(c, &["SET", "s", "v"]);
    ok(c, &["SET", "n", "42"]);
    ok(c, &["SET", "ttl", "v", "EX", "1000"]);
    ok(c, &["RPUSH", "l", "a", "b", "c"]);
    ok(c, &["HSET", "h", "f", "v", "g", "w"]);
    ok(c, &["SADD", "is", "1", "2", "3"]);
    ok(c, &["SADD", "ss", "a", "b"]);
    ok(c, &["ZADD", "z", "1.5", "a", "-2", "b"]);
    for i in 0..150 {
        let s = i.to_string();
        ok(c, &["RPUSH", "bl", &s]);
        ok(c, &["HSET", "bh", &s, &s]);
        ok(c, &["SADD", "bs", &format!("m{s}")]);
        ok(c, &["ZADD", "bz", &s, &s]);
    }
    ok(c, &["SELECT", "2"]);
    ok(c, &["SET", "in2", "x"]);
    ok(c, &["SELECT", "0"]);
}

/// The AOF directory moves between tern and Redis in both directions, with an RDB base or a
/// base in command form (`aof-use-rdb-preamble no`).
#[test]
fn aof_directories_move_between_tern_and_redis_in_both_directions() {
    for preamble in ["yes", "no"] {
        // tern writes (base, rewrite, more writes in the incr file), redis-server loads.
        let dir = temp_dir(&format!("to-redis-{preamble}"));
        let args = [
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            preamble,
            "--enable-debug-command",
            "yes",
        ];
        let t = start_in(&dir, &args);
        let mut c = t.client();
        fill_every_type(&mut c);
        assert_eq!(
            text(&ok(&mut c, &["BGREWRITEAOF"])),
            "Background append only file rewriting started"
        );
        assert!(wait_for(
            || {
                let s = text(&ok(&mut c, &["INFO", "persistence"]));
                info_field(&s, "aof_rewrite_in_progress").as_deref() == Some("0")
            },
            Duration::from_secs(30)
        ));
        ok(&mut c, &["INCR", "n"]);
        ok(&mut c, &["LPUSH", "l", "z"]);
        let digest = text(&ok(&mut c, &["DEBUG", "DIGEST"]));
        let ext = if preamble == "yes" { "rdb" } else { "aof" };
        let base = dir.join(format!("appendonlydir/appendonly.aof.2.base.{ext}"));
        let head = std::fs::read(&base).unwrap();
        assert!(
            head.starts_with(if preamble == "yes" { b"REDIS" } else { b"*" }),
            "base format for preamble {preamble}"
        );
        drop(t);
        let d = dir.display().to_string();
        let r = TestServer::start_redis(
            None,
            &[
                "--dir",
                &d,
                "--appendonly",
                "yes",
                "--enable-debug-command",
                "yes",
            ],
        );
        assert_eq!(
            text(&ok(&mut r.client(), &["DEBUG", "DIGEST"])),
            digest,
            "redis-server loads tern's AOF (preamble {preamble})"
        );
        drop(r);

        // redis-server writes, tern loads.
        let dir = temp_dir(&format!("from-redis-{preamble}"));
        let d = dir.display().to_string();
        let r = TestServer::start_redis(
            None,
            &[
                "--dir",
                &d,
                "--appendonly",
                "yes",
                "--aof-use-rdb-preamble",
                preamble,
                "--enable-debug-command",
                "yes",
            ],
        );
        let mut rc = r.client();
        fill_every_type(&mut rc);
        ok(&mut rc, &["BGREWRITEAOF"]);
        assert!(wait_for(
            || {
                let s = text(&ok(&mut rc, &["INFO", "persistence"]));
                info_field(&s, "aof_rewrite_in_progress").as_deref() == Some("0")
                    && info_field(&s, "aof_rewrite_scheduled").as_deref() == Some("0")
            },
            Duration::from_secs(30)
        ));
        ok(&mut rc, &["INCR", "n"]);
        let digest = text(&ok(&mut rc, &["DEBUG", "DIGEST"]));
        drop(r);
        let t = start_in(&dir, &args);
        assert_eq!(
            text(&ok(&mut t.client(), &["DEBUG", "DIGEST"])),
            digest,
            "tern loads Redis's AOF (preamble {preamble})"
        );
    }
}

#[test]
fn config_set_appendonly_yes_starts_an_aof_of_the_dataset_at_run_time() {
    let dir = temp_dir("config-set");
    let t = start_in(&dir, &["--enable-debug-command", "yes"]);
    let mut c = t.client();
    ok(&mut c, &["DEBUG", "POPULATE", "500"]);
    ok(&mut c, &["CONFIG", "SET", "appendonly", "yes"]);
    ok(&mut c, &["SET", "after", "1"]);
    let digest = text(&ok(&mut c, &["DEBUG", "DIGEST"]));
    let s = text(&ok(&mut c, &["INFO", "persistence"]));
    assert_eq!(info_field(&s, "aof_enabled").as_deref(), Some("1"));
    drop(t);
    let manifest =
        std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert!(
        manifest.contains("type b") && manifest.contains("type i"),
        "{manifest}"
    );
    let t = start_in(
        &dir,
        &["--appendonly", "yes", "--enable-debug-command", "yes"],
    );
    assert_eq!(text(&ok(&mut t.client(), &["DEBUG", "DIGEST"])), digest);
}

#[test]
fn scripts_in_an_aof_run_in_their_place_in_the_stream() {
    // An AOF written by a Redis that replicated scripts verbatim (before Redis 7) holds EVAL;
    // each must run where it stands, between the commands around it.
    let dir = temp_dir("eval-in-aof");
    let aofdir = dir.join("appendonlydir");
    std::fs::create_dir_all(&aofdir).unwrap();
    let cmds: &[&[&str]] = &[
        &["SELECT", "0"],
        &["EVAL", "redis.call('set', KEYS[1], '1') return 1", "1", "a"],
        &["APPEND", "a", "2"],
        &[
            "EVAL",
            "return redis.call('append', KEYS[1], ARGV[1])",
            "1",
            "a",
            "3",
        ],
        &["APPEND", "a", "4"],
    ];
    let mut aof = Vec::new();
    for c in cmds {
        let argv: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
        aof.extend_from_slice(&encode(&argv));
    }
    std::fs::write(aofdir.join("appendonly.aof.1.incr.aof"), aof).unwrap();
    std::fs::write(
        aofdir.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    let t = start_in(&dir, &["--appendonly", "yes"]);
    let mut c = t.raw_conn();
    assert_eq!(c.cmd(&["GET", "a"]), Resp::bulk("1234"));
}
