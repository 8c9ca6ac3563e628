//! Dispatch: tern's `processCommand` and `call`.
//!
//! For each request: look the command (and subcommand) up, check arity, authentication and
//! CLIENT PAUSE, feed MONITOR, run the handler, and account for it (commandstats, slowlog,
//! error stats). Handlers never check arity themselves.

use crate::ctx::{Client, Ctx, ReplyMode};
use crate::errors::{CmdError, NOAUTH};
use crate::server::Server;
use crate::table::{arity_ok, find_sub, flags, Spec};
use std::time::Instant;
use tern_resp::ReplyWriter;

/// What the connection loop must do after a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next request.
    Continue,
    /// The command must wait for CLIENT PAUSE to end; run it again afterwards.
    Paused,
    /// A script is running: wait a little (or until it ends) and run the command again; it
    /// gets BUSY once the script runs past `busy-reply-threshold` (a primary's never does).
    ScriptBusy,
}

/// Runs one command. `args` is never empty.
pub fn execute(
    srv: &Server,
    cl: &mut Client,
    out: &mut ReplyWriter,
    args: &[&[u8]],
    now_ms: i64,
) -> Flow {
    let reply_start = out.buf.len();
    if cl.reply_mode == ReplyMode::SkipNext {
        cl.reply_mode = ReplyMode::Skip;
    }
    let flow = execute_inner(srv, cl, out, args, now_ms);
    match cl.reply_mode {
        ReplyMode::Off => out.buf.truncate(reply_start),
        ReplyMode::Skip => {
            out.buf.truncate(reply_start);
            cl.reply_mode = ReplyMode::On;
        }
        _ => {}
    }
    flow
}

fn execute_inner(
    srv: &Server,
    cl: &mut Client,
    out: &mut ReplyWriter,
    args: &[&[u8]],
    now_ms: i64,
) -> Flow {
    let Some(mut spec) = srv.table.get(args[0]) else {
        reject(
            srv,
            cl,
            out,
            None,
            CmdError::unknown_command(args[0], &args[1..]),
        );
        return Flow::Continue;
    };
    if !spec.subcommands.is_empty() && args.len() >= 2 {
        match find_sub(spec, args[1]) {
            Some(sub) => spec = sub,
            None => {
                if spec.handler.is_none() {
                    let e = CmdError::unknown_subcommand(args[1], &spec.name);
                    reject(srv, cl, out, Some(spec), e);
                    return Flow::Continue;
                }
            }
        }
    }
    if !arity_ok(spec.arity, args.len()) || spec.handler.is_none() {
        reject(srv, cl, out, Some(spec), CmdError::arity(&spec.name));
        return Flow::Continue;
    }
    if !cl.authenticated && !spec.has(flags::NO_AUTH) {
        reject(srv, cl, out, Some(spec), CmdError::Static(NOAUTH));
        return Flow::Continue;
    }
    // ACL: a client sees changes to its user at its next command (one load of the epoch); a
    // user allowed everything skips the check (one flag test).
    if cl.acl_epoch != srv.acl.epoch.load(std::sync::atomic::Ordering::Relaxed) {
        srv.refresh_client_user(cl);
    }
    if !cl.acl_all {
        if let Err(d) = cl.user.check(spec, args) {
            acl_denied(srv, cl, out, spec, args, d, now_ms);
            return Flow::Continue;
        }
    }
    if (!cl.subs.is_empty() || !cl.psubs.is_empty() || !cl.ssubs.is_empty())
        && !out.resp3()
        && !crate::families::pubsub::allowed_when_subscribed(&spec.name)
    {
        let e = CmdError::Msg(format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                spec.name
            ));
        reject(srv, cl, out, Some(spec), e);
        return Flow::Continue;
    }
    // maxmemory: make room first; refuse commands that may grow memory if that failed.
    if !cl.in_exec
        && !cl.replaying
        && srv
            .evict
            .maxmemory
            .load(std::sync::atomic::Ordering::Relaxed)
            != 0
    {
        let ok = crate::evict::perform(srv, now_ms);
        // Queuing inside MULTI may take unlimited memory, so over maxmemory every command
        // but EXEC, DISCARD, QUIT and RESET is refused there (Redis 7.0's processCommand).
        let queuing = cl.multi.is_some()
            && !matches!(spec.name.as_str(), "exec" | "discard" | "quit" | "reset");
        if !ok && (spec.has(flags::DENYOOM) || queuing) {
            reject(
                srv,
                cl,
                out,
                Some(spec),
                CmdError::Static(crate::evict::OOM),
            );
            return Flow::Continue;
        }
    }
    // A read-only replica refuses writes from its clients (its primary's stream is applied
    // by a client that is `replaying`).
    if srv.repl.is_replica()
        && !cl.replaying
        && spec.has(flags::WRITE)
        && srv
            .hot
            .replica_read_only
            .load(std::sync::atomic::Ordering::Relaxed)
    {
        reject(
            srv,
            cl,
            out,
            Some(spec),
            CmdError::Static("READONLY You can't write against a read only replica."),
        );
        return Flow::Continue;
    }
    // `min-replicas-to-write`: a primary with too few replicas that acknowledged within
    // `min-replicas-max-lag` seconds refuses writes (Redis's NOREPLICAS).
    if !cl.in_exec && !cl.replaying && spec.has(flags::WRITE) {
        let need = srv
            .hot
            .min_replicas
            .load(std::sync::atomic::Ordering::Relaxed);
        if need > 0
            && !srv.repl.is_replica()
            && (srv.repl.good_replicas(
                srv.hot
                    .min_replicas_lag
                    .load(std::sync::atomic::Ordering::Relaxed),
            ) as u64)
                < need
        {
            reject(
                srv,
                cl,
                out,
                Some(spec),
                CmdError::Static("NOREPLICAS Not enough good replicas to write."),
            );
            return Flow::Continue;
        }
    }
    // A failed background save with save points configured stops writes (and PING), as
    // Redis's writeCommandsDeniedByDiskError.
    if !cl.in_exec
        && !cl.replaying
        && srv.hot.misconf.load(std::sync::atomic::Ordering::Relaxed)
        && (spec.has(flags::WRITE) || spec.name == "ping")
    {
        reject(
            srv,
            cl,
            out,
            Some(spec),
            if srv.aof.failing() {
                CmdError::Msg(format!(
                    "MISCONF Errors writing to the AOF file: {}",
                    srv.aof.last_error.lock()
                ))
            } else {
                CmdError::Static(crate::errors::MISCONF)
            },
        );
        return Flow::Continue;
    }
    if cl.multi.is_some() && !crate::families::multi::runs_inside_multi(&spec.name) {
        if spec.has(flags::NO_MULTI) {
            let e = CmdError::Static("ERR Command not allowed inside a transaction");
            reject(srv, cl, out, Some(spec), e);
            return Flow::Continue;
        }
        // The queue counts against `client-query-buffer-limit`: commands waiting for EXEC
        // are a query the client has not finished, and a client past the limit is closed the
        // way one whose query buffer reached it is.
        let cost = crate::families::multi::queued_cost(args);
        let m = cl.multi.as_mut().expect("checked");
        let limit = srv
            .hot
            .query_buffer_limit
            .load(std::sync::atomic::Ordering::Relaxed);
        if m.bytes + cost > limit {
            tracing::warn!(
                client = cl.info.id,
                addr = %cl.info.addr,
                queued = m.queued.len(),
                "closing client that reached max query buffer length (commands queued in MULTI)"
            );
            cl.multi = None;
            cl.close_after_reply = true;
            return Flow::Continue;
        }
        m.bytes += cost;
        let argv = args.iter().map(|a| a.to_vec()).collect();
        m.queued.push(argv);
        out.simple("QUEUED");
        return Flow::Continue;
    }
    // Scripting: while a script runs (holding every shard), other clients' commands wait
    // without blocking their worker thread, then get BUSY past the threshold. The script's
    // own client runs with `in_exec` set. A primary's stream only ever waits (the replica
    // link applies the command once the script is over), as in Redis.
    if !cl.in_exec && !cl.script_batch && !spec.has(flags::ALLOW_BUSY) && srv.scripts.running() {
        match crate::scripting::busy_check(srv) {
            crate::scripting::BusyCheck::Free => {}
            crate::scripting::BusyCheck::Wait => return Flow::ScriptBusy,
            crate::scripting::BusyCheck::Reply if cl.replaying => return Flow::ScriptBusy,
            crate::scripting::BusyCheck::Reply => {
                reject(
                    srv,
                    cl,
                    out,
                    Some(spec),
                    CmdError::Static(crate::scripting::busy_error(srv)),
                );
                return Flow::Continue;
            }
        }
    }
    if !cl.in_exec
        && !cl.replaying
        && srv.pause.must_wait(
            spec.has(flags::WRITE) || spec.has(flags::MAY_REPLICATE),
            now_ms,
        )
    {
        return Flow::Paused;
    }
    let start = Instant::now();
    let handler = spec.handler.expect("checked above");
    let propagated = cl.propagated;
    // Keyspace notifications compare each key before and after (new / del events).
    let notify = crate::notify::enabled(srv) && spec.has(flags::WRITE);
    let before: Vec<(usize, crate::notify::KeyState)> = if notify {
        spec.key_positions_in(args)
            .into_iter()
            .map(|i| (i, crate::notify::key_state(srv, cl.db, args[i], now_ms)))
            .collect()
    } else {
        Vec::new()
    };
    let misses = crate::notify::misses_before(srv, cl.db, spec, args, now_ms);
    // A read-only command's lookups change nothing a running snapshot must keep first.
    let readonly = spec.has(flags::READONLY);
    if readonly {
        tern_keyspace::set_write_intent(false);
    }
    let result = {
        let mut cx = Ctx {
            srv,
            cl,
            out,
            args,
            spec,
            now_ms,
        };
        handler(&mut cx)
    };
    if readonly {
        tern_keyspace::set_write_intent(true);
    } else if spec.has(flags::MAY_REPLICATE) && srv.aof.on() {
        // Scripts and PUBLISH write through other clients or none: their replies wait for
        // everything logged so far.
        cl.last_write = cl.last_write.max(srv.log.published_offset());
    }
    let us = start.elapsed().as_micros() as u64;
    let st = &cl.stats.cmd[spec.id];
    st.calls.add(1);
    st.usec.add(us);
    cl.stats.commands.add(1);
    cl.info
        .last_cmd
        .store(spec.id, std::sync::atomic::Ordering::Relaxed);
    let failed = result.is_err();
    if let Err(e) = result {
        st.failed.add(1);
        write_error(srv, cl, out, &e);
    }
    if !misses.is_empty() && !failed {
        crate::notify::keymiss(srv, cl.db, args, &misses, now_ms);
    }
    // A write that changed something (it propagated) touches the keys it names: WATCHers see
    // the change, and clients blocked on them are served now, before this client's next
    // command (as Redis's handleClientsBlockedOnKeys does), or after EXEC inside one.
    if !failed
        && cl.propagated != propagated
        && spec.has(flags::WRITE)
        && (srv.watch.any() || srv.blocking.any() || srv.tracking.any())
    {
        let keys: smallvec::SmallVec<[&[u8]; 4]> = spec
            .key_positions_in(args)
            .into_iter()
            .map(|i| args[i])
            .collect();
        for k in &keys {
            srv.key_changed(cl.db, k, Some(cl.info.id));
        }
        if srv.blocking.any() {
            if cl.in_exec {
                let db = cl.db;
                cl.pending_ready
                    .extend(keys.iter().map(|k| (db, k.to_vec())));
            } else {
                srv.blocking.serve_keys(srv, cl, cl.db, &keys, now_ms);
            }
        }
    } else if !cl.pending_ready.is_empty() && !cl.in_exec {
        srv.blocking.serve_keys(srv, cl, cl.db, &[], now_ms);
    }
    if notify && !failed && cl.propagated != propagated {
        notify_write(srv, cl.db, spec, args, &before, now_ms);
    }
    // A writable replica remembers the keys its own clients wrote (they expire by their own
    // TTL); its primary's writes take keys back.
    if !failed && cl.propagated != propagated && spec.has(flags::WRITE) && srv.repl.is_replica() {
        for i in spec.key_positions_in(args) {
            srv.repl.local_write(cl.db, args[i], !cl.replaying);
        }
    }
    // Client-side caching: remember the keys a tracking client read.
    if cl.tracking.on {
        let t = &cl.tracking;
        if !failed && spec.has(flags::READONLY) && !t.bcast {
            let wanted = if t.optin {
                t.caching == Some(true)
            } else if t.optout {
                t.caching != Some(false)
            } else {
                true
            };
            if wanted {
                let keys: smallvec::SmallVec<[&[u8]; 4]> = spec
                    .key_positions(args.len())
                    .into_iter()
                    .map(|i| args[i])
                    .collect();
                srv.tracking.remember(cl.info.id, &keys);
            }
        }
        if spec.name != "client|caching" {
            cl.tracking.caching = None;
        }
    }
    // Like Redis, MONITOR sees a command after it ran, never admin commands, and never secrets.
    if srv.clients_monitoring() && !spec.has(flags::SKIP_MONITOR) && !spec.has(flags::ADMIN) {
        with_redacted(spec, args, |a| {
            crate::families::server::feed_monitors(srv, cl, a, now_ms)
        });
    }
    let threshold = srv
        .hot
        .slowlog_slower_than
        .load(std::sync::atomic::Ordering::Relaxed);
    if threshold >= 0 && us >= threshold as u64 && !spec.has(flags::SKIP_SLOWLOG) {
        let name = String::from_utf8_lossy(&cl.info.name.lock()).into_owned();
        with_redacted(spec, args, |a| {
            srv.slowlog.push(a, us, cl.info.addr.clone(), name)
        });
    }
    Flow::Continue
}

/// Publishes the keyspace events of a write command that changed something: `new` for keys
/// that appeared, the command's own events, then `del` for keys that went away.
fn notify_write(
    srv: &Server,
    db: usize,
    spec: &Spec,
    args: &[&[u8]],
    before: &[(usize, crate::notify::KeyState)],
    now_ms: i64,
) {
    use crate::notify::{emit, events, key_state};
    use tern_config::notify::{GENERIC, NEW};
    let after: Vec<crate::notify::KeyState> = before
        .iter()
        .map(|(i, _)| key_state(srv, db, args[*i], now_ms))
        .collect();
    let state = |arg: usize| {
        before
            .iter()
            .position(|(i, _)| *i == arg)
            .map(|j| (before[j].1, after[j]))
    };
    let changed = |arg: usize| state(arg).is_some_and(|(b, a)| b != a);
    let gone = |arg: usize| state(arg).is_some_and(|(b, a)| b.exists && !a.exists);
    let absent = |arg: usize| state(arg).is_some_and(|(_, a)| !a.exists);
    // `new` comes right before the first event of the key it announces (Redis emits it when
    // the key is added, in the middle of the command).
    let mut fresh: Vec<usize> = before
        .iter()
        .enumerate()
        .filter(|(j, (_, b))| !b.exists && after[*j].exists)
        .map(|(_, (i, _))| *i)
        .collect();
    let name = spec.name.as_str();
    if name == "rename" || name == "renamenx" {
        // RENAME adds the destination before it reports anything.
        for i in fresh.drain(..) {
            emit(srv, NEW, "new", args[i], db, now_ms);
        }
    }
    let evs = events(name, args, &changed);
    for &(i, class, ev) in &evs {
        if let Some(p) = fresh.iter().position(|&f| f == i) {
            fresh.remove(p);
            emit(srv, NEW, "new", args[i], db, now_ms);
        }
        // A command that stores nothing (an EXPIRE into the past, a *STORE with an empty
        // result) deletes its destination: Redis reports only `del` then.
        let stores = matches!(
            ev,
            "expire"
                | "set"
                | "sortstore"
                | "sinterstore"
                | "sunionstore"
                | "sdiffstore"
                | "zunionstore"
                | "zinterstore"
                | "zdiffstore"
                | "zrangestore"
        );
        if stores && absent(i) {
            continue;
        }
        emit(srv, class, ev, args[i], db, now_ms);
    }
    for i in fresh {
        emit(srv, NEW, "new", args[i], db, now_ms);
    }
    for (i, _) in before {
        // RENAME's source goes away as `rename_from`, not `del`.
        let renamed = evs.iter().any(|&(j, _, ev)| j == *i && ev == "rename_from");
        if gone(*i) && !renamed {
            emit(srv, GENERIC, "del", args[*i], db, now_ms);
        }
    }
}

/// Refuses a command the client's user may not run: an ACL LOG entry and a NOPERM error (at
/// EXEC time, Redis's "ACLs rules changed" error, which does not abort the transaction).
#[cold]
fn acl_denied(
    srv: &Server,
    cl: &mut Client,
    out: &mut ReplyWriter,
    spec: &Spec,
    args: &[&[u8]],
    d: crate::acl::Denied,
    now_ms: i64,
) {
    let context = if cl.in_exec || cl.multi.is_some() {
        "multi"
    } else {
        "toplevel"
    };
    let object = match d {
        crate::acl::Denied::Command => spec.name.as_bytes(),
        crate::acl::Denied::Key(i) | crate::acl::Denied::Channel(i) => args[i],
    };
    let user = cl.user.name.clone();
    crate::acl::log_event(
        srv,
        cl,
        spec,
        args,
        d.reason(),
        context,
        object,
        &user,
        now_ms,
    );
    if cl.in_exec {
        cl.stats.cmd[spec.id].rejected.add(1);
        write_error(srv, cl, out, &CmdError::Msg(d.exec_error()));
    } else {
        reject(srv, cl, out, Some(spec), CmdError::Msg(d.error(spec)));
    }
}

fn reject(srv: &Server, cl: &mut Client, out: &mut ReplyWriter, spec: Option<&Spec>, e: CmdError) {
    if let Some(s) = spec {
        cl.stats.cmd[s.id].rejected.add(1);
        // A refused EXEC discards the transaction (Redis's execCommandAbort).
        if s.name == "exec" {
            if cl.multi.take().is_some() {
                srv.watch.unwatch_all(&mut cl.watching);
            }
            let e = CmdError::Msg(format!(
                "EXECABORT Transaction discarded because of: {}",
                e.text()
            ));
            write_error(srv, cl, out, &e);
            return;
        }
    }
    // A command that cannot even be queued dooms the transaction (EXEC -> EXECABORT).
    if let Some(m) = cl.multi.as_mut() {
        m.error = true;
    }
    write_error(srv, cl, out, &e);
}

fn write_error(srv: &Server, cl: &mut Client, out: &mut ReplyWriter, e: &CmdError) {
    cl.stats.errors.add(1);
    srv.stats.count_error(e.text());
    out.error(e.text());
}

/// Calls `f` with the arguments as MONITOR and SLOWLOG may show them: passwords and sensitive
/// config values replaced by "(redacted)", as Redis 7 does.
fn with_redacted<R>(spec: &Spec, args: &[&[u8]], f: impl FnOnce(&[&[u8]]) -> R) -> R {
    const REDACTED: &[u8] = b"(redacted)";
    let secret: Vec<usize> = match spec.name.as_str() {
        "auth" => (1..args.len()).collect(),
        "acl|setuser" => (2..args.len()).collect(),
        "hello" => args
            .iter()
            .position(|a| a.eq_ignore_ascii_case(b"AUTH"))
            .map(|i| (i + 1..(i + 3).min(args.len())).collect())
            .unwrap_or_default(),
        "config|set" => (2..args.len())
            .step_by(2)
            .filter(|&i| tern_config::Config::is_sensitive(args[i]) && i + 1 < args.len())
            .map(|i| i + 1)
            .collect(),
        _ => Vec::new(),
    };
    if secret.is_empty() {
        return f(args);
    }
    let shown: Vec<&[u8]> = args
        .iter()
        .enumerate()
        .map(|(i, a)| if secret.contains(&i) { REDACTED } else { *a })
        .collect();
    f(&shown)
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestDb;
    use tern_resp::Frame;

    fn slowlog_args(t: &mut TestDb) -> Vec<Vec<String>> {
        let Frame::Array(entries) = t.run(&["SLOWLOG", "GET", "-1"]) else {
            panic!("array")
        };
        entries
            .into_iter()
            .map(|e| {
                let Frame::Array(fields) = e else {
                    panic!("entry")
                };
                let Frame::Array(args) = &fields[3] else {
                    panic!("args")
                };
                args.iter()
                    .map(|a| String::from_utf8_lossy(a.as_bytes().unwrap()).into_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn slowlog_never_records_passwords() {
        let mut t = TestDb::new();
        t.run(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        t.run(&["AUTH", "default", "hunter2"]);
        t.run(&["CONFIG", "SET", "requirepass", "hunter2"]);
        t.run(&["HELLO", "2", "AUTH", "default", "hunter2"]);
        let all = slowlog_args(&mut t);
        assert!(all.iter().flatten().all(|a| a != "hunter2"), "{all:?}");
        assert!(
            all.contains(&vec![
                "AUTH".into(),
                "(redacted)".into(),
                "(redacted)".into()
            ]),
            "{all:?}"
        );
        assert!(all.contains(&vec![
            "CONFIG".into(),
            "SET".into(),
            "requirepass".into(),
            "(redacted)".into()
        ]));
    }

    #[test]
    fn unknown_commands_and_bad_arity_are_rejected_with_redis_texts() {
        let mut t = TestDb::new();
        assert_eq!(
            t.run(&["NOPE", "a"]),
            Frame::Error("ERR unknown command 'NOPE', with args beginning with: 'a' ".into())
        );
        assert_eq!(
            t.run(&["GET"]),
            Frame::Error("ERR wrong number of arguments for 'get' command".into())
        );
        assert_eq!(
            t.run(&["CONFIG", "NOPE"]),
            Frame::Error("ERR unknown subcommand 'NOPE'. Try CONFIG HELP.".into())
        );
        assert_eq!(
            t.run(&["CONFIG", "GET"]),
            Frame::Error("ERR wrong number of arguments for 'config|get' command".into())
        );
    }
}
