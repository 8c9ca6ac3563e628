//! Functions (Redis 7.0's functions.c): FCALL, FCALL_RO and FUNCTION (LOAD DELETE FLUSH LIST
//! STATS KILL DUMP RESTORE HELP). The registry lives in [`crate::scripting::functions`]; FCALL
//! runs on the same Lua engines, on the same threads, as EVAL (see [`super::scripting::start`]).
//!
//! FUNCTION LOAD, DELETE, FLUSH and RESTORE are propagated as they were sent (they change the
//! libraries, not the keyspace); FCALL's effects are propagated, never the FCALL itself.

use crate::ctx::Ctx;
use crate::errors::CmdResult;
use crate::families::command::reply_help;
use crate::scripting::functions::{self, RestorePolicy, ALLOW_OOM, FLAG_NAMES, NO_WRITES};
use crate::scripting::{self, Job};
use crate::table::{flags::*, CommandTable, Group, Spec};
use std::sync::atomic::Ordering;

/// Registers FCALL, FCALL_RO and FUNCTION.
pub fn register(t: &mut CommandTable) {
    let fcall = |name, flags| {
        Spec::new(
            name,
            -3,
            NOSCRIPT | SKIP_MONITOR | STALE | MOVABLE_KEYS | flags,
        )
        .group(Group::Scripting)
    };
    t.add(
        fcall("fcall", 0)
            .doc("7.0.0", "Invoke a function")
            .handler(fcall_cmd),
    );
    t.add(
        fcall("fcall_ro", READONLY)
            .doc("7.0.0", "Invoke a read-only function")
            .handler(fcall_ro),
    );
    let sub = |name, arity, flags, summary, handler| {
        Spec::new(name, arity, flags)
            .doc("7.0.0", summary)
            .handler(handler)
    };
    t.add(
        Spec::new("function", -2, 0)
            .group(Group::Scripting)
            .doc("7.0.0", "A container for function commands")
            .subcommand(sub(
                "load",
                -3,
                WRITE | DENYOOM | NOSCRIPT,
                "Create a function with the given arguments (name, code, description)",
                function_load,
            ))
            .subcommand(sub(
                "delete",
                3,
                WRITE | NOSCRIPT,
                "Delete a function by name",
                function_delete,
            ))
            .subcommand(sub(
                "flush",
                -2,
                WRITE | NOSCRIPT,
                "Deleting all functions",
                function_flush,
            ))
            .subcommand(sub(
                "list",
                -2,
                NOSCRIPT,
                "List information about all the functions",
                function_list,
            ))
            .subcommand(sub(
                "stats",
                2,
                NOSCRIPT | ALLOW_BUSY,
                "Return information about the function currently running (name, description, duration)",
                function_stats,
            ))
            .subcommand(sub(
                "kill",
                2,
                NOSCRIPT | ALLOW_BUSY,
                "Kill the function currently in execution.",
                function_kill,
            ))
            .subcommand(sub(
                "dump",
                2,
                NOSCRIPT,
                "Dump all functions into a serialized binary payload",
                function_dump,
            ))
            .subcommand(sub(
                "restore",
                -3,
                WRITE | DENYOOM | NOSCRIPT,
                "Restore all the functions on the given payload",
                function_restore,
            ))
            .subcommand(
                Spec::new("help", 2, LOADING | STALE)
                    .doc("7.0.0", "Show helpful text about the different subcommands")
                    .handler(function_help),
            ),
    );
}

fn fcall_cmd(cx: &mut Ctx) -> CmdResult {
    fcall_generic(cx, false)
}

fn fcall_ro(cx: &mut Ctx) -> CmdResult {
    fcall_generic(cx, true)
}

/// FCALL function numkeys [key ...] [arg ...] (and FCALL_RO).
fn fcall_generic(cx: &mut Ctx, ro: bool) -> CmdResult {
    let srv = cx.srv;
    let Some((lib, i)) = srv.scripts.functions.lookup(cx.arg(1)) else {
        return Err("ERR Function not found".into());
    };
    let meta = &lib.functions[i];
    // What Redis's processCommand checks first, with the function's flags turned into command
    // flags (scriptFlagsToCmdFlags): a function that may write is `denyoom` unless it says
    // `allow-oom`, and a write command a read-only replica refuses.
    let may_write = meta.flags & NO_WRITES == 0;
    if may_write
        && meta.flags & ALLOW_OOM == 0
        && srv.evict.maxmemory.load(Ordering::Relaxed) != 0
        && !cx.cl.in_exec
        && !crate::evict::perform(srv, cx.now_ms)
    {
        return Err(crate::errors::CmdError::Static(crate::evict::OOM));
    }
    if may_write
        && srv.repl.is_replica()
        && !cx.cl.replaying
        && srv
            .hot
            .replica_read_only
            .load(std::sync::atomic::Ordering::Relaxed)
    {
        return Err("READONLY You can't write against a read only replica.".into());
    }
    let numkeys = crate::args::int(cx.arg(2)).map_err(|_| "ERR Bad number of keys provided")?;
    if numkeys > (cx.argc() - 3) as i64 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    if numkeys < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    let no_writes = meta.flags & NO_WRITES != 0;
    if ro && !no_writes {
        return Err("ERR Can not execute a script with write flag using *_ro command.".into());
    }
    let split = 3 + numkeys as usize;
    let job = Job {
        srv: match srv.scripts.server() {
            Some(s) => s,
            None => return Err("ERR server is shutting down".into()),
        },
        name: meta.name.clone(),
        body: std::sync::Arc::from(&b""[..]),
        fcall: Some(cx.args.iter().map(|a| a.to_vec()).collect()),
        args: scripting::Args::new(&cx.args[3..split], &cx.args[split..]),
        db: cx.cl.db,
        resp3: cx.out.resp3(),
        readonly: ro || no_writes,
        now_ms: cx.now_ms,
        user: (!cx.cl.acl_all).then(|| cx.cl.user.clone()),
        caller: (!cx.cl.acl_all).then(|| (cx.cl.info.clone(), cx.spec.id)),
    };
    super::scripting::start(cx, job);
    Ok(())
}

/// Logs the command as sent (FUNCTION LOAD / DELETE / FLUSH / RESTORE change no key, so there
/// is no shard to log under; the caller holds the registry lock instead).
fn propagate_verbatim(cx: &mut Ctx) {
    let srv = cx.srv;
    cx.cl.propagated += 1;
    if cx.cl.in_exec {
        cx.cl.tx_log.write(&srv.log, cx.cl.db, cx.args);
    } else {
        srv.log.append(cx.cl.db, cx.args);
    }
    srv.dirty.fetch_add(1, Ordering::Relaxed);
}

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try FUNCTION HELP.`
fn syntax_error(cx: &Ctx) -> crate::errors::CmdError {
    crate::errors::CmdError::Msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(cx.arg(1)),
        String::from_utf8_lossy(cx.arg(0)).to_ascii_uppercase()
    ))
}

/// FUNCTION LOAD [REPLACE] code
fn function_load(cx: &mut Ctx) -> CmdResult {
    let mut replace = false;
    let mut at = 2;
    while at < cx.argc() - 1 {
        let a = cx.arg(at);
        at += 1;
        if a.eq_ignore_ascii_case(b"replace") {
            replace = true;
            continue;
        }
        return Err(crate::errors::CmdError::Msg(format!(
            "ERR Unknown option given: {}",
            String::from_utf8_lossy(a)
        )));
    }
    let code = cx.arg(at);
    let srv = cx.srv;
    let fns = &srv.scripts.functions;
    // The same order of checks as Redis: metadata, engine, name, an existing library, then
    // the code runs.
    let (engine, name, _) = functions::parse_metadata(code).map_err(err)?;
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(err(format!("Engine '{engine}' not found")));
    }
    if !functions::valid_name(&name) {
        return Err(err(functions::BAD_NAME.into()));
    }
    if !replace && fns.exists(&name) {
        return Err(err(format!("Library '{name}' already exists")));
    }
    let lib = functions::build_library(code, functions::LOAD_TIMEOUT_MS).map_err(err)?;
    let name = fns
        .add(lib, replace, || propagate_verbatim(cx))
        .map_err(err)?;
    cx.out.bulk(name.as_bytes());
    Ok(())
}

fn err(msg: String) -> crate::errors::CmdError {
    crate::errors::CmdError::Msg(format!("ERR {msg}"))
}

/// FUNCTION DELETE library-name
fn function_delete(cx: &mut Ctx) -> CmdResult {
    let name = String::from_utf8_lossy(cx.arg(2)).into_owned();
    let srv = cx.srv;
    if !srv
        .scripts
        .functions
        .delete(&name, || propagate_verbatim(cx))
    {
        return Err("ERR Library not found".into());
    }
    cx.out.ok();
    Ok(())
}

/// FUNCTION FLUSH [ASYNC|SYNC] (both are immediate here).
fn function_flush(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 3 {
        return Err(syntax_error(cx));
    }
    if cx.argc() == 3
        && !cx.arg(2).eq_ignore_ascii_case(b"sync")
        && !cx.arg(2).eq_ignore_ascii_case(b"async")
    {
        return Err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option".into());
    }
    let srv = cx.srv;
    srv.scripts.functions.flush(|| propagate_verbatim(cx));
    cx.out.ok();
    Ok(())
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
fn function_list(cx: &mut Ctx) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < cx.argc() {
        let a = cx.arg(i);
        if !with_code && a.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && a.eq_ignore_ascii_case(b"libraryname") {
            if i >= cx.argc() - 1 {
                return Err("ERR library name argument was not given".into());
            }
            i += 1;
            pattern = Some(cx.arg(i));
        } else {
            return Err(crate::errors::CmdError::Msg(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(a)
            )));
        }
        i += 1;
    }
    let libs: Vec<_> = cx
        .srv
        .scripts
        .functions
        .libraries()
        .into_iter()
        .filter(|l| pattern.is_none_or(|p| crate::glob::matches_nocase(p, l.name.as_bytes())))
        .collect();
    let out = &mut *cx.out;
    out.array(libs.len());
    for lib in libs {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.desc {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names: Vec<&str> = FLAG_NAMES
                .iter()
                .filter(|(bit, _)| f.flags & bit != 0)
                .map(|(_, n)| *n)
                .collect();
            out.set(names.len());
            // Status strings, as Redis replies them.
            for n in names {
                out.simple(n);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

/// FUNCTION STATS: the running function (if any) and the engine's counts.
fn function_stats(cx: &mut Ctx) -> CmdResult {
    let busy = &cx.srv.scripts.busy;
    let since = busy.since_ms.load(Ordering::Acquire);
    if since != 0 && !busy.function.load(Ordering::Acquire) {
        return Err(scripting::BUSY.into());
    }
    let current = if since != 0 {
        busy.current.lock().clone()
    } else {
        None
    };
    let (libs, funcs) = cx.srv.scripts.functions.counts();
    let out = &mut *cx.out;
    out.map(2);
    out.bulk(b"running_script");
    match current {
        None => out.null(),
        Some((name, cmd)) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name.as_bytes());
            out.bulk(b"command");
            out.array(cmd.len());
            for a in &cmd {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int((crate::server::now_ms() - since).max(0));
        }
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libs as i64);
    out.bulk(b"functions_count");
    out.int(funcs as i64);
    Ok(())
}

/// FUNCTION KILL: stops the running function unless it already wrote.
fn function_kill(cx: &mut Ctx) -> CmdResult {
    scripting::kill(cx.srv, false)?;
    cx.out.ok();
    Ok(())
}

/// FUNCTION DUMP: every library in one DUMP-style payload.
fn function_dump(cx: &mut Ctx) -> CmdResult {
    let payload = cx.srv.scripts.functions.dump();
    cx.out.bulk(&payload);
    Ok(())
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]
fn function_restore(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 4 {
        return Err(syntax_error(cx));
    }
    let policy = if cx.argc() == 4 {
        let p = cx.arg(3);
        if p.eq_ignore_ascii_case(b"append") {
            RestorePolicy::Append
        } else if p.eq_ignore_ascii_case(b"replace") {
            RestorePolicy::Replace
        } else if p.eq_ignore_ascii_case(b"flush") {
            RestorePolicy::Flush
        } else {
            return Err(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
                    .into(),
            );
        }
    } else {
        RestorePolicy::Append
    };
    let srv = cx.srv;
    let payload = cx.arg(2);
    srv.scripts
        .functions
        .restore(payload, policy, || propagate_verbatim(cx))
        .map_err(err)?;
    cx.out.ok();
    Ok(())
}

fn function_help(cx: &mut Ctx) -> CmdResult {
    reply_help(
        cx.out,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
    Ok(())
}
