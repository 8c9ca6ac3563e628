//! Start-up and shutdown of the real binary: config files and their errors, logging to a
//! file at a level, and a clean exit on SIGTERM and SIGINT.

use crate::harness::*;
use std::process::Command;
use std::time::Duration;

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tern-it-startup-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn an_unknown_directive_in_a_config_file_is_refused_naming_the_file_and_line() {
    let dir = temp_path("bad-directive");
    let conf = dir.join("tern.conf");
    std::fs::write(&conf, "# a comment\nport 0\nnot-a-directive yes\n").unwrap();
    let out = Command::new(TERN)
        .arg("server")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a bad config must not start the server"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(conf.to_str().unwrap()),
        "names the file: {err}"
    );
    assert!(err.contains("line 3"), "names the line: {err}");
    assert!(
        err.contains("not-a-directive"),
        "shows the directive: {err}"
    );
}

#[test]
fn an_unknown_directive_on_the_command_line_is_refused() {
    assert!(tern_refuses_to_start(&["--no-such-thing", "1"]).contains("no-such-thing"));
}

#[test]
fn a_config_file_sets_directives_and_the_command_line_overrides_them() {
    let dir = temp_path("config");
    let conf = dir.join("tern.conf");
    std::fs::write(&conf, "databases 4\nmaxclients 77\nhz 20\n").unwrap();
    let s = TestServer::start_with_config(&conf, &["--hz", "15"]);
    let mut c = s.client();
    let v = ok(&mut c, &["CONFIG", "GET", "databases"]);
    assert!(format!("{v:?}").contains("\"4\""), "{v:?}");
    let v = ok(&mut c, &["CONFIG", "GET", "maxclients"]);
    assert!(format!("{v:?}").contains("\"77\""), "{v:?}");
    let v = ok(&mut c, &["CONFIG", "GET", "hz"]);
    assert!(format!("{v:?}").contains("\"15\""), "{v:?}");
    assert_eq!(
        err(&mut c, &["SELECT", "4"]),
        "ERR DB index is out of range"
    );
}

#[test]
fn logs_go_to_the_logfile_at_the_configured_level() {
    let dir = temp_path("logfile");
    let log = dir.join("tern.log");
    let port = free_port().to_string();
    let mut child = Command::new(TERN)
        .args([
            "server",
            "--port",
            &port,
            "--loglevel",
            "notice",
            "--logfile",
        ])
        .arg(&log)
        .spawn()
        .unwrap();
    let ready = wait_for(
        || std::fs::read_to_string(&log).is_ok_and(|s| s.contains("Ready to accept connections")),
        Duration::from_secs(10),
    );
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert!(ready, "the ready line reaches the log file");
    assert!(status.success(), "SIGTERM exits cleanly: {status:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("Received SIGTERM"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no terminal colours in a log file"
    );
}

#[test]
fn sigint_shuts_the_server_down_cleanly() {
    let mut s = TestServer::start();
    unsafe {
        libc::kill(s.pid() as libc::pid_t, libc::SIGINT);
    }
    let status = s
        .wait_exit(Duration::from_secs(10))
        .expect("exits after SIGINT");
    assert!(status.success(), "{status:?}");
    assert!(s.logs().contains("Received SIGINT"), "{}", s.logs());
}
