//! The AOF file layer against Debian's real redis-server 7.0: its manifests and incr/base
//! files read back (tern-persist's `aof` module) as exactly the commands it propagated, and
//! `tern check-aof` agrees with redis-check-aof on valid, truncated and fixed files and on
//! every manifest error.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::Command as Proc;
use std::time::Duration;
use tern_persist::aof::manifest::Manifest;
use tern_persist::aof::reader::{read_all, starts_with_rdb, Command, Mode};

/// A fresh directory for one test's files.
fn temp_dir(name: &str) -> PathBuf {
    test_dir(&format!("aoffiles-{name}"))
}

/// Starts redis-server with an AOF (fsync always) in `dir`.
fn redis_with_aof(dir: &Path, extra: &[&str]) -> TestServer {
    let d = dir.display().to_string();
    let mut args = vec![
        "--dir",
        d.as_str(),
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ];
    args.extend_from_slice(extra);
    TestServer::start_redis(None, &args)
}

fn shutdown(mut t: TestServer) {
    t.raw_conn().send(&encode(&[b"SHUTDOWN"]));
    assert!(
        t.wait_exit(Duration::from_secs(10)).is_some(),
        "redis-server did not exit"
    );
}

fn info(c: &mut redis::Connection, field: &str) -> String {
    let s = text(&ok(c, &["INFO", "persistence"]));
    info_field(&s, field).unwrap_or_else(|| panic!("no {field} in INFO:\n{s}"))
}

fn wait_rewrite_done(c: &mut redis::Connection) {
    assert!(
        wait_for(
            || info(c, "aof_rewrite_in_progress") == "0" && info(c, "aof_rewrite_scheduled") == "0",
            Duration::from_secs(30)
        ),
        "BGREWRITEAOF did not finish"
    );
}

fn words(c: &Command) -> Vec<String> {
    c.args
        .iter()
        .map(|a| String::from_utf8(a.clone()).unwrap())
        .collect()
}

/// All commands of a complete file.
fn must_read(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    let (cmds, r, end) = read_all(&bytes, Mode::Load);
    end.unwrap();
    assert_eq!(r.unfinished_multi(), None);
    assert_eq!(r.valid_up_to(), bytes.len() as u64);
    cmds.iter().map(words).collect()
}

/// Asserts that `got` is `SET key value PXAT <ms>` (or `PEXPIREAT key <ms>` when `set` is
/// false) with `ms` in `[lo, hi]`.
fn assert_abs_ttl(got: &[String], prefix: &[&str], lo: i64, hi: i64) {
    assert_eq!(&got[..prefix.len()], prefix, "{got:?}");
    assert_eq!(got.len(), prefix.len() + 1, "{got:?}");
    let ms: i64 = got[prefix.len()].parse().unwrap();
    assert!((lo..=hi).contains(&ms), "{ms} not in [{lo}, {hi}]: {got:?}");
}

fn tern_check_aof(args: &[&str]) -> (i32, String) {
    let out = Proc::new(TERN)
        .arg("check-aof")
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn redis_check_aof(args: &[&str]) -> (i32, String) {
    let out = Proc::new("redis-check-aof").args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn redis_aof_files_read_back_as_the_propagated_commands() {
    let dir = temp_dir("readback");
    let aofdir = dir.join("appendonlydir");
    let t = redis_with_aof(&dir, &[]);
    let mut c = t.client();
    let t0 = now_ms();
    ok(&mut c, &["SET", "a", "1"]);
    ok(&mut c, &["SET", "b", "2", "EX", "100"]);
    ok(&mut c, &["EXPIRE", "a", "50"]);
    ok(&mut c, &["SELECT", "2"]);
    ok(&mut c, &["SET", "x", "y"]);
    ok(&mut c, &["SELECT", "0"]);
    ok(&mut c, &["INCRBYFLOAT", "f", "1.5"]);
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["SET", "m", "1"]);
    ok(&mut c, &["INCR", "m"]);
    ok(&mut c, &["EXEC"]);
    ok(&mut c, &["RPUSH", "l", "a", "b"]);
    ok(&mut c, &["HSET", "h", "f", "v"]);
    ok(&mut c, &["SADD", "s", "m1"]);
    ok(&mut c, &["ZADD", "z", "1.5", "m1"]);
    ok(&mut c, &["DEL", "s"]);
    ok(&mut c, &["SET", "bin", "a\r\nb"]);
    let t1 = now_ms();

    // Before the rewrite: the manifest Redis wrote at start-up, and every write in its
    // propagated form in incr file 1 (appendfsync always: all of it is in the file).
    let m = Manifest::load(&aofdir.join("appendonly.aof.manifest")).unwrap();
    assert_eq!(
        std::fs::read(aofdir.join("appendonly.aof.manifest")).unwrap(),
        m.to_bytes(),
        "serialization is byte-identical to redis-server's"
    );
    assert_eq!(m.base.as_ref().unwrap().name, b"appendonly.aof.1.base.rdb");
    assert_eq!(m.incr.len(), 1);
    assert_eq!(m.incr[0].name, b"appendonly.aof.1.incr.aof");
    assert_eq!((m.curr_base_seq, m.curr_incr_seq), (1, 1));
    let base = std::fs::read(m.base.as_ref().unwrap().path(&aofdir)).unwrap();
    assert!(starts_with_rdb(&base));

    let got = must_read(&m.incr[0].path(&aofdir));
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(got.len(), 18, "{got:#?}");
    assert_eq!(got[0], s(&["SELECT", "0"]));
    assert_eq!(got[1], s(&["SET", "a", "1"]));
    assert_abs_ttl(
        &got[2],
        &["SET", "b", "2", "PXAT"],
        t0 + 100_000,
        t1 + 100_000,
    );
    assert_abs_ttl(&got[3], &["PEXPIREAT", "a"], t0 + 50_000, t1 + 50_000);
    assert_eq!(got[4], s(&["SELECT", "2"]));
    assert_eq!(got[5], s(&["SET", "x", "y"]));
    assert_eq!(got[6], s(&["SELECT", "0"]));
    assert_eq!(got[7], s(&["SET", "f", "1.5", "KEEPTTL"]));
    assert_eq!(got[8], s(&["MULTI"]));
    assert_eq!(got[9], s(&["SET", "m", "1"]));
    assert_eq!(got[10], s(&["INCR", "m"]));
    assert_eq!(got[11], s(&["EXEC"]));
    assert_eq!(got[12], s(&["RPUSH", "l", "a", "b"]));
    assert_eq!(got[13], s(&["HSET", "h", "f", "v"]));
    assert_eq!(got[14], s(&["SADD", "s", "m1"]));
    assert_eq!(got[15], s(&["ZADD", "z", "1.5", "m1"]));
    assert_eq!(got[16], s(&["DEL", "s"]));
    assert_eq!(got[17], s(&["SET", "bin", "a\r\nb"]));

    // BGREWRITEAOF: a new base (seq 2) and incr file 2; files 1 go to history and are
    // deleted.
    ok(&mut c, &["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    ok(&mut c, &["SET", "after", "1"]);
    ok(&mut c, &["SELECT", "3"]);
    ok(&mut c, &["RPUSH", "l3", "c"]);
    drop(c);
    shutdown(t);

    let m = Manifest::load(&aofdir.join("appendonly.aof.manifest")).unwrap();
    assert_eq!(
        std::fs::read(aofdir.join("appendonly.aof.manifest")).unwrap(),
        b"file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    assert_eq!(
        m.to_bytes(),
        std::fs::read(aofdir.join("appendonly.aof.manifest")).unwrap()
    );
    assert!(m.history.is_empty());
    assert!(!aofdir.join("appendonly.aof.1.incr.aof").exists());
    assert!(!aofdir.join("appendonly.aof.1.base.rdb").exists());
    let got = must_read(&m.incr[0].path(&aofdir));
    assert_eq!(
        got,
        vec![
            s(&["SELECT", "0"]),
            s(&["SET", "after", "1"]),
            s(&["SELECT", "3"]),
            s(&["RPUSH", "l3", "c"]),
        ]
    );

    // Both checkers accept the whole set.
    let manifest = aofdir.join("appendonly.aof.manifest");
    let mpath = manifest.to_str().unwrap();
    let (code, out) = tern_check_aof(&[mpath]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("RDB looks OK"), "{out}");
    assert!(
        out.contains("All AOF files and manifest are valid"),
        "{out}"
    );
    let (code, out) = redis_check_aof(&[mpath]);
    assert_eq!(code, 0, "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rewrite_without_rdb_preamble_writes_a_command_base() {
    let dir = temp_dir("aofbase");
    let aofdir = dir.join("appendonlydir");
    let t = redis_with_aof(&dir, &["--aof-use-rdb-preamble", "no"]);
    let mut c = t.client();
    ok(&mut c, &["SET", "k", "v"]);
    ok(&mut c, &["RPUSH", "l", "a"]);
    ok(&mut c, &["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    drop(c);
    shutdown(t);
    let m = Manifest::load(&aofdir.join("appendonly.aof.manifest")).unwrap();
    let base = m.base.as_ref().unwrap();
    assert_eq!(base.name, b"appendonly.aof.2.base.aof");
    let mut got = must_read(&base.path(&aofdir));
    assert_eq!(got[0], ["SELECT", "0"]);
    got.remove(0);
    got.sort();
    assert_eq!(got, vec![vec!["RPUSH", "l", "a"], vec!["SET", "k", "v"]]);
    let mpath = aofdir.join("appendonly.aof.manifest");
    let (code, out) = tern_check_aof(&[mpath.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Start to check BASE AOF (RESP format)."),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Redis files with incr file 1 cut inside its last command and inside a MULTI.
#[test]
fn check_aof_reports_truncation_and_fix_agrees_with_redis_check_aof() {
    let dir = temp_dir("truncated");
    let aofdir = dir.join("appendonlydir");
    let t = redis_with_aof(&dir, &[]);
    let mut c = t.client();
    ok(&mut c, &["SET", "k1", "v1"]);
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["SET", "k2", "v2"]);
    ok(&mut c, &["SET", "k3", "v3"]);
    ok(&mut c, &["EXEC"]);
    ok(&mut c, &["SET", "k4", "v4"]);
    drop(c);
    shutdown(t);
    let incr = aofdir.join("appendonly.aof.1.incr.aof");
    let bytes = std::fs::read(&incr).unwrap();
    let (cmds, _, end) = read_all(&bytes, Mode::Load);
    end.unwrap();
    let names: Vec<String> = cmds.iter().map(|c| words(c)[0].clone()).collect();
    assert_eq!(
        names,
        ["SELECT", "SET", "MULTI", "SET", "SET", "EXEC", "SET"]
    );
    let (multi, exec, last) = (&cmds[2], &cmds[5], &cmds[6]);

    // (cut at, where --fix must cut, whether the transaction survives): inside the last
    // command; inside EXEC; right before EXEC.
    let cases = [
        (last.end - 3, last.start, true),
        (exec.start + 2, multi.start, false),
        (exec.start, multi.start, false),
    ];
    for (i, (cut, want, tx_kept)) in cases.into_iter().enumerate() {
        let copy = dir.join(format!("copy{i}"));
        copy_dir(&aofdir, &copy);
        let f = copy.join("appendonly.aof.1.incr.aof");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&f)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let manifest = copy.join("appendonly.aof.manifest");
        let mpath = manifest.to_str().unwrap();

        let (code, out) = tern_check_aof(&[mpath]);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains(&format!("ok_up_to={want},")) && out.contains("is not valid"),
            "case {i}: {out}"
        );
        let (rcode, rout) = redis_check_aof(&[mpath]);
        assert_eq!(rcode, 1, "{rout}");
        // Same analysis line as redis-check-aof.
        let analyzed = |s: &str| {
            s.lines()
                .filter(|l| l.starts_with("AOF analyzed"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(analyzed(&out), analyzed(&rout), "case {i}");

        let (code, out) = tern_check_aof(&["--fix", mpath]);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains("Successfully truncated AOF appendonly.aof.1.incr.aof"),
            "{out}"
        );
        assert_eq!(std::fs::metadata(&f).unwrap().len(), want);
        let (rcode, rout) = redis_check_aof(&[mpath]);
        assert_eq!(rcode, 0, "case {i}: {rout}");
        assert!(
            rout.contains("All AOF files and manifest are valid"),
            "{rout}"
        );
        let (code, out) = tern_check_aof(&[mpath]);
        assert_eq!(code, 0, "{out}");

        // And redis-server loads the repaired files: k1 always, the transaction only whole.
        let root = dir.join(format!("root{i}"));
        std::fs::create_dir_all(&root).unwrap();
        copy_dir(&copy, &root.join("appendonlydir"));
        let t = redis_with_aof(&root, &[]);
        let mut c = t.client();
        assert_eq!(ok(&mut c, &["GET", "k1"]), bulk("v1"));
        assert_eq!(
            ok(&mut c, &["EXISTS", "k2", "k3"]),
            int(if tx_kept { 2 } else { 0 })
        );
        assert_eq!(ok(&mut c, &["EXISTS", "k4"]), int(0));
        drop(c);
        shutdown(t);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn manifest_errors_match_redis_check_aof() {
    let dir = temp_dir("manifest-errors");
    let cases: &[&[u8]] = &[
        b"file a.aof seq 1 type b",
        b"file a seq 1\n",
        b"file a seq 1 type b x\n",
        b"file a/b seq 1 type b\n",
        b"file a seq 1 type b\nfile b seq 2 type b\n",
        b"# comment\nfile a seq 2 type i\nfile b seq 2 type i\n",
        b"file a seq 1 type x\n",
        b"file \"a b seq 1 type b\n",
        b"file a seq abc type b\n",
        b"file a seq 1 type i\n\n",
        b"file it's seq 1 type i\n",
    ];
    let path = dir.join("m.manifest");
    let p = path.to_str().unwrap();
    for text in cases {
        std::fs::write(&path, text).unwrap();
        let e = Manifest::parse(text).unwrap_err();
        let (rcode, rout) = redis_check_aof(&[p]);
        assert_eq!(rcode, 1, "{rout}");
        // redis-check-aof logs each line as "<pid>:C <date> # <text>".
        let logged: Vec<&str> = rout
            .lines()
            .filter_map(|l| l.split_once(" # ").map(|(_, t)| t))
            .filter(|t| !t.is_empty())
            .collect();
        let ours: Vec<String> = e.to_string().lines().map(str::to_string).collect();
        assert_eq!(logged, ours, "{:?}\n{rout}", String::from_utf8_lossy(text));
        let (code, out) = tern_check_aof(&[p]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains(e.kind.message()), "{out}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A hand-made AOF with what Redis writes: SELECT, binary values, a transaction and
/// `#TS:` annotations.
fn sample_aof() -> (Vec<u8>, Vec<Command>) {
    use tern_persist::aof::reader::encode_command;
    let mut f = Vec::new();
    f.extend_from_slice(b"#TS:1700000000\r\n");
    encode_command(&["SELECT", "0"], &mut f);
    encode_command(&[&b"SET"[..], b"k", b"\x00\xff\r\n"], &mut f);
    f.extend_from_slice(b"#TS:1700000001\r\n");
    encode_command(&["MULTI"], &mut f);
    encode_command(&["INCR", "n"], &mut f);
    encode_command(&["RPUSH", "l", "a", "bb"], &mut f);
    encode_command(&["EXEC"], &mut f);
    encode_command(&["SET", "last", "v"], &mut f);
    let (cmds, _, end) = read_all(&f, Mode::Load);
    end.unwrap();
    (f, cmds)
}

/// The lines of a check-aof report both tools print deterministically: the analysis, the
/// verdicts, and the error (minus the bytes after "got:" for a missing \r\n, where
/// redis-check-aof prints stale stack bytes when the file ends inside a number line).
fn comparable(report: &str) -> Vec<String> {
    report
        .lines()
        .filter(|l| {
            [
                "AOF ",
                "0x",
                "Start checking",
                "Successfully",
                "Truncate nothing",
                "Invalid",
                "Failed",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .map(|l| match l.find("Expected \\r\\n, got:") {
            Some(i) => l[..i + 19].to_string(),
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn every_cut_and_every_corrupted_byte_is_judged_like_redis_check_aof() {
    let dir = temp_dir("every-cut");
    let (f, _) = sample_aof();
    let path = dir.join("x.aof");
    let p = path.to_str().unwrap();
    let mut variants: Vec<(String, Vec<u8>)> = (0..=f.len())
        .map(|n| (format!("cut {n}"), f[..n].to_vec()))
        .collect();
    for i in 0..f.len() {
        for b in [b'X', b'\n', b'9', b'*'] {
            let mut v = f.clone();
            if v[i] != b {
                v[i] = b;
                variants.push((format!("byte {i} = {b:?}"), v));
            }
        }
    }
    for (what, bytes) in &variants {
        std::fs::write(&path, bytes).unwrap();
        let (rcode, rout) = redis_check_aof(&[p]);
        let (code, out) = tern_check_aof(&[p]);
        assert_eq!(
            (code, comparable(&out)),
            (rcode, comparable(&rout)),
            "{what}: {:?}\nredis-check-aof:\n{rout}\ntern:\n{out}",
            String::from_utf8_lossy(bytes)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The loader's cut, checked against redis-server itself: with `aof-load-truncated yes` it
/// truncates a short last incr file at `valid_up_to`, and a file ending inside MULTI at
/// `unfinished_multi`, which is what the reader reports.
#[test]
fn load_mode_cuts_where_redis_server_truncates() {
    let (f, spans) = sample_aof();
    let multi = spans.iter().find(|c| c.args[0] == b"MULTI").unwrap();
    let exec = spans.iter().find(|c| c.args[0] == b"EXEC").unwrap();
    let last = spans.last().unwrap();
    let cuts = [
        last.end - 1,
        last.start + 1,
        last.start,
        exec.start + 5,
        exec.start,
        multi.end + 3,
        multi.start + 1,
        spans[1].start + 10,
    ];
    for (i, cut) in cuts.into_iter().enumerate() {
        let bytes = &f[..cut as usize];
        let (_, r, end) = read_all(bytes, Mode::Load);
        let want = match end {
            Err(tern_persist::aof::ReadError::Truncated { .. }) => r.valid_up_to(),
            Ok(()) => r.unfinished_multi().unwrap_or(cut),
            Err(e) => panic!("cut {cut}: {e}"),
        };
        let root = temp_dir(&format!("load-cut-{i}"));
        let aofdir = root.join("appendonlydir");
        std::fs::create_dir_all(&aofdir).unwrap();
        std::fs::write(
            aofdir.join("appendonly.aof.manifest"),
            b"file appendonly.aof.1.incr.aof seq 1 type i\n",
        )
        .unwrap();
        let incr = aofdir.join("appendonly.aof.1.incr.aof");
        std::fs::write(&incr, bytes).unwrap();
        let t = redis_with_aof(&root, &["--aof-load-truncated", "yes"]);
        let size = std::fs::metadata(&incr).unwrap().len();
        assert_eq!(
            size,
            want,
            "cut {cut}: redis-server truncated to {size}\n{}",
            t.logs()
        );
        shutdown(t);
        std::fs::remove_dir_all(&root).unwrap();
    }
}

#[test]
fn truncate_to_timestamp_cuts_like_redis_check_aof() {
    let dir = temp_dir("to-ts");
    let (f, _) = sample_aof();
    let second_ts = f
        .windows(15)
        .position(|w| w == b"#TS:1700000001\r")
        .unwrap() as u64;
    // (timestamp, size after): cut at the later annotation; nothing later; all later.
    for (ts, size) in [
        ("1700000000", second_ts),
        ("1800000000", f.len() as u64),
        ("1699999999", f.len() as u64),
    ] {
        let (ours, theirs) = (dir.join("ours.aof"), dir.join("theirs.aof"));
        std::fs::write(&ours, &f).unwrap();
        std::fs::write(&theirs, &f).unwrap();
        let (code, out) = tern_check_aof(&["--truncate-to-timestamp", ts, ours.to_str().unwrap()]);
        let (rcode, rout) =
            redis_check_aof(&["--truncate-to-timestamp", ts, theirs.to_str().unwrap()]);
        assert_eq!(code, rcode, "{ts}\ntern:\n{out}\nredis-check-aof:\n{rout}");
        assert_eq!(
            comparable(&out.replace("ours.aof", "x")),
            comparable(&rout.replace("theirs.aof", "x")),
            "{ts}"
        );
        assert_eq!(std::fs::metadata(&ours).unwrap().len(), size, "{ts}: {out}");
        assert_eq!(
            std::fs::metadata(&theirs).unwrap().len(),
            size,
            "{ts}: {rout}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Starts redis-server (on a unix socket, no TCP port) on `root/appendonlydir` and reports whether it loaded the
/// AOF (it printed "Ready to accept connections") and its log.
fn redis_loads(root: &Path) -> (bool, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Proc::new(REDIS_SERVER)
        .args([
            "--port",
            "0",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--daemonize",
            "no",
        ])
        .args(["--logfile", "", "--dir", root.to_str().unwrap()])
        .args(["--unixsocket", root.join("redis.sock").to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Lines come through a channel so that a server that neither loads nor exits fails the
    // test after a while instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = String::new();
    let mut ready = false;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) {
        log.push_str(&line);
        log.push('\n');
        if line
            .to_ascii_lowercase()
            .contains("ready to accept connections")
        {
            ready = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (ready, log)
}

/// The loader's verdicts on odd inputs match redis-server's: it loads what the reader reads
/// (or reads up to a truncated tail) and refuses what the reader calls corrupt.
#[test]
fn load_mode_accepts_and_refuses_what_redis_server_does() {
    let cases: &[(&[u8], bool)] = &[
        // The two bytes after an argument are not checked.
        (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nvXY", true),
        // atoi() reads "3abc" as 3; text after a $ length is ignored.
        (b"*3abc\r\n$3 x\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", true),
        (
            b"#anything\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
            true,
        ),
        // A truncated tail loads (aof-load-truncated yes).
        (
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*3\r\n$3\r\nSET",
            true,
        ),
        (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*", true),
        (b"*0\r\n", false),
        (b"*\r\n", false),
        (b"+OK\r\n", false),
        (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\nX1\r\nv\r\n", false),
        (b"*1\r\n$-1\r\n", false),
    ];
    for (i, (bytes, loads)) in cases.iter().enumerate() {
        let (_, _, end) = read_all(bytes, Mode::Load);
        let ours = !matches!(end, Err(tern_persist::aof::ReadError::Corrupt { .. }));
        assert_eq!(
            ours,
            *loads,
            "reader on {:?}: {end:?}",
            String::from_utf8_lossy(bytes)
        );
        let root = temp_dir(&format!("load-verdict-{i}"));
        let aofdir = root.join("appendonlydir");
        std::fs::create_dir_all(&aofdir).unwrap();
        std::fs::write(
            aofdir.join("appendonly.aof.manifest"),
            b"file appendonly.aof.1.incr.aof seq 1 type i\n",
        )
        .unwrap();
        std::fs::write(aofdir.join("appendonly.aof.1.incr.aof"), bytes).unwrap();
        let (ready, log) = redis_loads(&root);
        assert_eq!(
            ready,
            *loads,
            "redis-server on {:?}:\n{log}",
            String::from_utf8_lossy(bytes)
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}

/// An old-style AOF (an RDB preamble, then commands), as Redis < 7 wrote it: both checkers
/// read the RDB, then the tail, and agree on a cut tail.
#[test]
fn old_style_rdb_preamble_aof_is_checked_like_redis_check_aof() {
    use tern_persist::aof::reader::encode_command;
    let dir = temp_dir("preamble");
    let t = redis_with_aof(&dir, &[]);
    let mut c = t.client();
    ok(&mut c, &["SET", "k", "v"]);
    ok(&mut c, &["HSET", "h", "f", "v"]);
    ok(&mut c, &["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    drop(c);
    shutdown(t);
    let m = Manifest::load(&dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    let mut f = std::fs::read(m.base.as_ref().unwrap().path(&dir.join("appendonlydir"))).unwrap();
    assert!(starts_with_rdb(&f));
    let rdb_len = f.len() as u64;
    encode_command(&["SET", "tail", "1"], &mut f);
    let whole = f.len() as u64;
    encode_command(&["SET", "tail", "2"], &mut f);
    for cut in [f.len() as u64, f.len() as u64 - 4, whole + 1, rdb_len + 3] {
        let path = dir.join("old.aof");
        std::fs::write(&path, &f[..cut as usize]).unwrap();
        let p = path.to_str().unwrap();
        let (code, out) = tern_check_aof(&[p]);
        let (rcode, rout) = redis_check_aof(&[p]);
        assert!(
            out.contains("RDB preamble is OK, proceeding with AOF tail..."),
            "{out}"
        );
        assert_eq!(
            code, rcode,
            "cut {cut}\ntern:\n{out}\nredis-check-aof:\n{rout}"
        );
        assert_eq!(comparable(&out), comparable(&rout), "cut {cut}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
