//! Server commands: MONITOR TIME SHUTDOWN (INFO, CONFIG, COMMAND, CLIENT, SLOWLOG and DEBUG
//! have files of their own).

use crate::args::is;
use crate::ctx::{Client, Ctx};
use crate::errors::{CmdError, CmdResult, SYNTAX};
use crate::server::{now_us, Server};
use crate::table::{flags::*, CommandTable, Group, Spec};
use std::sync::atomic::Ordering::Relaxed;

/// Registers the server commands of this file.
pub fn register(t: &mut CommandTable) {
    let s = |name, arity, flags| Spec::new(name, arity, flags).group(Group::Server);
    t.add(
        s("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE)
            .doc(
                "1.0.0",
                "Listens for all requests received by the server in real-time.",
            )
            .handler(monitor),
    );
    t.add(
        s("time", 1, LOADING | STALE | FAST)
            .doc("2.6.0", "Returns the server time.")
            .handler(time),
    );
    t.add(
        s(
            "shutdown",
            -1,
            ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        )
        .doc(
            "1.0.0",
            "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        )
        .handler(shutdown),
    );
}

/// True when at least one MONITOR client is connected (checked per command, so it is an atomic).
impl Server {
    /// Whether any client is in MONITOR mode.
    #[inline]
    pub fn clients_monitoring(&self) -> bool {
        self.monitor_count.load(Relaxed) > 0
    }
}

/// MONITOR
fn monitor(cx: &mut Ctx) -> CmdResult {
    if cx.cl.monitor {
        cx.out.ok();
        return Ok(());
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    cx.srv.monitors.lock().push(tx);
    cx.srv.monitor_count.fetch_add(1, Relaxed);
    cx.cl.monitor = true;
    cx.cl.monitor_rx = Some(rx);
    cx.cl
        .info
        .flags
        .fetch_or(crate::clients::cflags::MONITOR, Relaxed);
    cx.out.ok();
    Ok(())
}

/// Forgets a monitor whose connection closed or reset.
pub fn remove_monitor(srv: &Server) {
    let mut m = srv.monitors.lock();
    m.retain(|tx| !tx.is_closed());
    srv.monitor_count.store(m.len(), Relaxed);
}

/// Sends one command, formatted as Redis does, to every MONITOR client:
/// `+1339518083.107412 [0 127.0.0.1:60866] "keys" "*"`
pub fn feed_monitors(srv: &Server, cl: &Client, args: &[&[u8]], _now_ms: i64) {
    let us = now_us();
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        us / 1_000_000,
        us % 1_000_000,
        cl.db,
        cl.info.addr
    )
    .into_bytes();
    for a in args {
        line.push(b' ');
        repr(&mut line, a);
    }
    line.extend_from_slice(b"\r\n");
    let mut m = srv.monitors.lock();
    m.retain(|tx| tx.send(line.clone()).is_ok());
    srv.monitor_count.store(m.len(), Relaxed);
}

/// Quotes bytes as Redis's `sdscatrepr`: "..." with \" \\ \n \r \t \a \b and \xHH escapes.
pub fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// Client names may not contain spaces, newlines or other special characters.
pub fn validate_client_name(name: &[u8]) -> CmdResult {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(
            "ERR Client names cannot contain spaces, newlines or special characters.".into(),
        );
    }
    Ok(())
}

/// TIME
fn time(cx: &mut Ctx) -> CmdResult {
    let us = now_us();
    cx.out.array(2);
    cx.out
        .bulk(itoa::Buffer::new().format(us / 1_000_000).as_bytes());
    cx.out
        .bulk(itoa::Buffer::new().format(us % 1_000_000).as_bytes());
    Ok(())
}

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
fn shutdown(cx: &mut Ctx) -> CmdResult {
    let (mut abort, mut nosave, mut save, mut force) = (false, false, false, false);
    for a in &cx.args[1..] {
        if is(a, "ABORT") {
            abort = true;
        } else if is(a, "NOSAVE") {
            nosave = true;
        } else if is(a, "SAVE") {
            save = true;
        } else if is(a, "FORCE") {
            force = true;
        } else if !is(a, "NOW") {
            return Err(SYNTAX.into());
        }
    }
    if abort || (nosave && save) {
        if abort && cx.argc() == 2 {
            return Err(CmdError::Static("ERR No shutdown in progress."));
        }
        return Err(SYNTAX.into());
    }
    if !nosave && cx.srv.scripts.running() {
        // As in Redis: the final save would wait for the script's shards forever; only
        // SHUTDOWN NOSAVE (or SCRIPT KILL first) gets past a busy script.
        return Err(CmdError::Static(crate::scripting::busy_error(cx.srv)));
    }
    tracing::warn!(client = cx.cl.info.id, "User requested shutdown...");
    use crate::snapshot::FinalSave;
    let (tx, rx) = std::sync::mpsc::channel();
    *cx.srv.shutdown_req.lock() = Some(crate::server::ShutdownReq {
        save: if nosave {
            FinalSave::No
        } else if save {
            FinalSave::Yes
        } else {
            FinalSave::Default
        },
        force,
        reply: tx,
    });
    cx.srv.request_shutdown();
    // The main thread saves (this worker holds nothing it needs) and answers.
    if let Ok(Err(e)) = rx.recv() {
        tracing::warn!("Errors trying to SHUTDOWN: {e}");
        return Err(CmdError::Static(
            "ERR Errors trying to SHUTDOWN. Check logs.",
        ));
    }
    // Redis sends no reply to a successful SHUTDOWN: the connection just closes.
    cx.cl.close_after_reply = true;
    Ok(())
}
