//! SLOWLOG GET / LEN / RESET / HELP over the server's [`crate::slowlog::SlowLog`]. Dispatch
//! records the entries; these commands only read and clear them.

use crate::args;
use crate::ctx::Ctx;
use crate::errors::{CmdError, CmdResult};
use crate::families::command::reply_help;
use crate::table::{flags::*, CommandTable, Group, Spec};

/// Registers SLOWLOG and its subcommands.
pub fn register(t: &mut CommandTable) {
    let admin = ADMIN | LOADING | STALE;
    t.add(
        Spec::new("slowlog", -2, 0)
            .group(Group::Server)
            .doc("2.2.12", "A container for slow log commands")
            .subcommand(
                Spec::new("get", -2, admin)
                    .doc("2.2.12", "Get the slow log's entries")
                    .handler(get),
            )
            .subcommand(
                Spec::new("len", 2, admin)
                    .doc("2.2.12", "Get the slow log's length")
                    .handler(len),
            )
            .subcommand(
                Spec::new("reset", 2, admin)
                    .doc("2.2.12", "Clear all entries from the slow log")
                    .handler(reset),
            )
            .subcommand(
                Spec::new("help", 2, LOADING | STALE)
                    .doc("6.2.0", "Show helpful text about the different subcommands")
                    .handler(help),
            ),
    );
}

/// SLOWLOG GET [count]: the newest `count` entries (10 by default, -1 for all), each as
/// [id, unix time, microseconds, [args...], client address, client name].
fn get(cx: &mut Ctx) -> CmdResult {
    const COUNT_ERR: &str = "ERR count should be greater than or equal to -1";
    let count = match cx.args.get(2) {
        None => 10,
        Some(a) => match args::int(a) {
            Ok(n) if n >= -1 => n,
            _ => return Err(CmdError::Static(COUNT_ERR)),
        },
    };
    let entries = cx.srv.slowlog.get(count);
    cx.out.array(entries.len());
    for e in entries {
        cx.out.array(6);
        cx.out.int(e.id as i64);
        cx.out.int(e.time);
        cx.out.int(e.duration_us as i64);
        cx.out.array(e.args.len());
        for a in &e.args {
            cx.out.bulk(a);
        }
        cx.out.bulk(e.addr.as_bytes());
        cx.out.bulk(e.name.as_bytes());
    }
    Ok(())
}

/// SLOWLOG LEN
fn len(cx: &mut Ctx) -> CmdResult {
    cx.out.int(cx.srv.slowlog.len() as i64);
    Ok(())
}

/// SLOWLOG RESET
fn reset(cx: &mut Ctx) -> CmdResult {
    cx.srv.slowlog.reset();
    cx.out.ok();
    Ok(())
}

/// SLOWLOG HELP
fn help(cx: &mut Ctx) -> CmdResult {
    reply_help(
        cx.out,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests;
