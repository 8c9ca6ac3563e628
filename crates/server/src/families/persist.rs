//! Persistence commands: SAVE and BGSAVE (LASTSAVE lives with INFO). The snapshot machinery
//! is in `snapshot.rs`.

use crate::args::is;
use crate::ctx::Ctx;
use crate::errors::{CmdError, CmdResult, SYNTAX};
use crate::snapshot::{self, SaveError};
use crate::table::{flags::*, CommandTable, Group, Spec};
use std::sync::atomic::Ordering::Relaxed;

/// Registers the persistence commands.
pub fn register(t: &mut CommandTable) {
    let s = |name, arity, flags| Spec::new(name, arity, flags).group(Group::Server);
    t.add(
        s("save", 1, ADMIN | NOSCRIPT | NO_MULTI)
            .doc("1.0.0", "Synchronously saves the database(s) to disk.")
            .handler(save),
    );
    t.add(
        s("bgrewriteaof", 1, ADMIN | NOSCRIPT)
            .doc(
                "1.0.0",
                "Asynchronously rewrites the append-only file to disk.",
            )
            .handler(bgrewriteaof),
    );
    t.add(
        s("bgsave", -1, ADMIN | NOSCRIPT)
            .doc("1.0.0", "Asynchronously saves the database(s) to disk.")
            .handler(bgsave),
    );
}

const IN_PROGRESS: &str = "ERR Background save already in progress";

/// SAVE
fn save(cx: &mut Ctx) -> CmdResult {
    match snapshot::save(cx.srv) {
        Ok(()) => {
            cx.out.ok();
            Ok(())
        }
        Err(SaveError::InProgress) => Err(CmdError::Static(IN_PROGRESS)),
        // Redis replies a bare "-ERR" and logs the reason.
        Err(SaveError::Io(_)) => Err(CmdError::Static("ERR")),
    }
}

/// BGSAVE [SCHEDULE]
fn bgsave(cx: &mut Ctx) -> CmdResult {
    let schedule = match cx.args.len() {
        1 => false,
        2 if is(cx.args[1], "SCHEDULE") => true,
        _ => return Err(SYNTAX.into()),
    };
    // An AOF rewrite is Redis's "other child": wait for it, or refuse.
    if cx.srv.aof.rewrite_in_progress.load(Relaxed) {
        if schedule {
            cx.srv.saver.scheduled.store(true, Relaxed);
            cx.out.simple("Background saving scheduled");
            return Ok(());
        }
        return Err(CmdError::Static(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        ));
    }
    match snapshot::bgsave(cx.srv) {
        Ok(()) => {
            tracing::info!("Background saving started");
            cx.out.simple("Background saving started");
            Ok(())
        }
        Err(SaveError::InProgress) => Err(CmdError::Static(IN_PROGRESS)),
        Err(SaveError::Io(_)) => Err(CmdError::Static("ERR")),
    }
}

/// BGREWRITEAOF
fn bgrewriteaof(cx: &mut Ctx) -> CmdResult {
    let srv = cx.srv;
    if srv.aof.rewrite_in_progress.load(Relaxed) {
        return Err(CmdError::Static(
            "ERR Background append only file rewriting already in progress",
        ));
    }
    if srv.saver.in_progress() {
        srv.aof.rewrite_scheduled.store(true, Relaxed);
        cx.out
            .simple("Background append only file rewriting scheduled");
        return Ok(());
    }
    match snapshot::bgrewriteaof(srv) {
        Ok(()) => {
            tracing::info!("Background append only file rewriting started");
            cx.out
                .simple("Background append only file rewriting started");
            Ok(())
        }
        Err(SaveError::InProgress) => {
            srv.aof.rewrite_scheduled.store(true, Relaxed);
            cx.out
                .simple("Background append only file rewriting scheduled");
            Ok(())
        }
        Err(SaveError::Io(e)) => Err(CmdError::Msg(format!(
            "ERR Can't rewrite append only file in background: {e}"
        ))),
    }
}
