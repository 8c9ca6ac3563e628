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
    if srv.pause.must_wait(
        spec.has(flags::WRITE) || spec.has(flags::MAY_REPLICATE),
        now_ms,
    ) {
        return Flow::Paused;
    }
    if srv.clients_monitoring() && !spec.has(flags::SKIP_MONITOR) {
        crate::families::server::feed_monitors(srv, cl, args, now_ms);
    }
    let start = Instant::now();
    let handler = spec.handler.expect("checked above");
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
    let us = start.elapsed().as_micros() as u64;
    let st = &cl.stats.cmd[spec.id];
    st.calls.add(1);
    st.usec.add(us);
    cl.stats.commands.add(1);
    cl.info
        .last_cmd
        .store(spec.id, std::sync::atomic::Ordering::Relaxed);
    if let Err(e) = result {
        st.failed.add(1);
        write_error(srv, cl, out, &e);
    }
    let threshold = srv
        .hot
        .slowlog_slower_than
        .load(std::sync::atomic::Ordering::Relaxed);
    if threshold >= 0 && us >= threshold as u64 && !spec.has(flags::SKIP_SLOWLOG) {
        let name = String::from_utf8_lossy(&cl.info.name.lock()).into_owned();
        srv.slowlog.push(args, us, cl.info.addr.clone(), name);
    }
    Flow::Continue
}

fn reject(srv: &Server, cl: &mut Client, out: &mut ReplyWriter, spec: Option<&Spec>, e: CmdError) {
    if let Some(s) = spec {
        cl.stats.cmd[s.id].rejected.add(1);
    }
    write_error(srv, cl, out, &e);
}

fn write_error(srv: &Server, cl: &mut Client, out: &mut ReplyWriter, e: &CmdError) {
    cl.stats.errors.add(1);
    srv.stats.count_error(e.text());
    out.error(e.text());
}
