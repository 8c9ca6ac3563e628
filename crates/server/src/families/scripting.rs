//! Scripting commands (Redis's eval.c): EVAL EVALSHA EVAL_RO EVALSHA_RO and SCRIPT (LOAD
//! EXISTS FLUSH KILL HELP). The engine lives in [`crate::scripting`].
//!
//! EVAL validates its arguments, caches the script, and queues the run on its worker thread,
//! which runs it between turns of its event loop; the connection waits for the reply as a
//! blocked command does. Inside EXEC (every shard is already held by this thread), for a
//! client replaying a stream and under the testkit, the script runs inline instead.

use crate::ctx::Ctx;
use crate::errors::{CmdError, CmdResult};
use crate::families::command::reply_help;
use crate::scripting::{self, Job};
use crate::table::{flags::*, CommandTable, Group, Spec};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Registers the scripting commands.
pub fn register(t: &mut CommandTable) {
    let eval = |name, flags, since, summary| {
        Spec::new(
            name,
            -3,
            NOSCRIPT | SKIP_MONITOR | STALE | MOVABLE_KEYS | flags,
        )
        .group(Group::Scripting)
        .doc(since, summary)
    };
    t.add(eval("eval", 0, "2.6.0", "Execute a Lua script server side").handler(eval_cmd));
    t.add(eval("evalsha", 0, "2.6.0", "Execute a Lua script server side").handler(evalsha));
    t.add(
        eval(
            "eval_ro",
            READONLY,
            "7.0.0",
            "Execute a read-only Lua script server side",
        )
        .handler(eval_ro),
    );
    t.add(
        eval(
            "evalsha_ro",
            READONLY,
            "7.0.0",
            "Execute a read-only Lua script server side",
        )
        .handler(evalsha_ro),
    );
    t.add(
        Spec::new("script", -2, 0)
            .group(Group::Scripting)
            .doc("2.6.0", "A container for Lua scripts management commands")
            .subcommand(
                Spec::new("load", 3, NOSCRIPT | STALE)
                    .doc(
                        "2.6.0",
                        "Load the specified Lua script into the script cache.",
                    )
                    .handler(script_load),
            )
            .subcommand(
                Spec::new("exists", -3, NOSCRIPT)
                    .doc("2.6.0", "Check existence of scripts in the script cache.")
                    .handler(script_exists),
            )
            .subcommand(
                Spec::new("flush", -2, NOSCRIPT)
                    .doc("2.6.0", "Remove all the scripts from the script cache.")
                    .handler(script_flush),
            )
            .subcommand(
                Spec::new("kill", 2, NOSCRIPT | ALLOW_BUSY)
                    .doc("2.6.0", "Kill the script currently in execution.")
                    .handler(script_kill),
            )
            .subcommand(
                Spec::new("help", 2, LOADING | STALE)
                    .doc("5.0.0", "Show helpful text about the different subcommands")
                    .handler(script_help),
            ),
    );
}

fn eval_cmd(cx: &mut Ctx) -> CmdResult {
    eval_generic(cx, false, false)
}

fn evalsha(cx: &mut Ctx) -> CmdResult {
    eval_generic(cx, true, false)
}

fn eval_ro(cx: &mut Ctx) -> CmdResult {
    eval_generic(cx, false, true)
}

fn evalsha_ro(cx: &mut Ctx) -> CmdResult {
    eval_generic(cx, true, true)
}

/// EVAL script numkeys [key ...] [arg ...] (and the SHA and read-only forms).
fn eval_generic(cx: &mut Ctx, by_sha: bool, readonly: bool) -> CmdResult {
    let srv = cx.srv;
    let numkeys = crate::args::int(cx.arg(2))?;
    if numkeys > (cx.argc() - 3) as i64 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    if numkeys < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    let (sha, body) = if by_sha {
        let sha = match std::str::from_utf8(cx.arg(1)) {
            Ok(s) => s.to_ascii_lowercase(),
            Err(_) => return Err(scripting::NOSCRIPT.into()),
        };
        match srv.scripts.get(&sha) {
            Some(body) => (sha, body),
            None => return Err(scripting::NOSCRIPT.into()),
        }
    } else {
        let body = cx.arg(1);
        let sha = scripting::sha1hex(body);
        match srv.scripts.get(&sha) {
            Some(b) => (sha, b),
            None => {
                scripting::compile_check(body).map_err(CmdError::Msg)?;
                srv.scripts.insert(body);
                (sha, Arc::from(body))
            }
        }
    };
    let split = 3 + numkeys as usize;
    let job = Job {
        srv: match srv.scripts.server() {
            Some(s) => s,
            None => return Err("ERR server is shutting down".into()),
        },
        name: sha,
        body,
        fcall: None,
        args: scripting::Args::new(&cx.args[3..split], &cx.args[split..]),
        db: cx.cl.db,
        resp3: cx.out.resp3(),
        readonly,
        now_ms: cx.now_ms,
        user: (!cx.cl.acl_all).then(|| cx.cl.user.clone()),
        caller: (!cx.cl.acl_all).then(|| (cx.cl.info.clone(), cx.spec.id)),
    };
    start(cx, job);
    Ok(())
}

/// Runs a script or function job: inline inside EXEC, for a client replaying a stream and
/// under the testkit, otherwise on the worker between turns of its event loop while the
/// connection waits.
pub fn start(cx: &mut Ctx, job: Job) {
    let srv = cx.srv;
    // EVAL and FCALL skip dispatch's MONITOR feed: like Redis, they are shown before the
    // commands they run (which MONITOR shows as `[db lua]`).
    if srv.clients_monitoring() {
        crate::families::server::feed_monitors(srv, cx.cl, cx.args, cx.now_ms);
    }
    if cx.cl.in_exec {
        // Inside EXEC this thread already holds every shard: run here, inside the EXEC's
        // MULTI block.
        let reply = scripting::run_inline(srv, &job, Some(&mut cx.cl.tx_log));
        cx.out.raw(&reply);
    } else if srv.scripts.inline.load(Ordering::Relaxed) || cx.cl.replaying {
        // The testkit runs commands synchronously; a client replaying a stream (a primary's,
        // the AOF) runs the script in its place in the stream.
        let reply = scripting::run_inline(srv, &job, None);
        cx.out.raw(&reply);
    } else {
        // The connection waits, as a blocked command does, for its worker to run the script
        // between turns of its event loop (with the other scripts of the turn).
        match srv.scripts.submit(job) {
            Ok(wait) => cx.cl.blocked = Some(wait),
            Err(job) => {
                let reply = scripting::run_inline(srv, &job, None);
                cx.out.raw(&reply);
            }
        }
    }
}

/// SCRIPT LOAD script: caches the script (if it compiles) and replies its SHA1.
fn script_load(cx: &mut Ctx) -> CmdResult {
    let body = cx.arg(2);
    let sha = scripting::sha1hex(body);
    if !cx.srv.scripts.exists(&sha) {
        scripting::compile_check(body).map_err(CmdError::Msg)?;
        cx.srv.scripts.insert(body);
    }
    cx.out.bulk(sha.as_bytes());
    Ok(())
}

/// SCRIPT EXISTS sha1 [sha1 ...]: 1 or 0 for each.
fn script_exists(cx: &mut Ctx) -> CmdResult {
    cx.out.array(cx.argc() - 2);
    for a in &cx.args[2..] {
        let sha = String::from_utf8_lossy(a).to_ascii_lowercase();
        cx.out.int(cx.srv.scripts.exists(&sha) as i64);
    }
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC]: forgets every script (both modes are immediate here).
fn script_flush(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 3
        || (cx.argc() == 3
            && !cx.arg(2).eq_ignore_ascii_case(b"ASYNC")
            && !cx.arg(2).eq_ignore_ascii_case(b"SYNC"))
    {
        return Err("ERR SCRIPT FLUSH only support SYNC|ASYNC option".into());
    }
    cx.srv.scripts.flush();
    cx.out.ok();
    Ok(())
}

/// SCRIPT KILL: stops the running script unless it already wrote.
fn script_kill(cx: &mut Ctx) -> CmdResult {
    scripting::kill(cx.srv, true)?;
    cx.out.ok();
    Ok(())
}

fn script_help(cx: &mut Ctx) -> CmdResult {
    reply_help(
        cx.out,
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
    Ok(())
}
