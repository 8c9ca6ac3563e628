//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP over the `tern-config` crate.
//!
//! The config crate parses, validates and formats values with Redis's error texts; this file
//! adds the command shapes and applies changes to the running server: after a successful SET
//! the hot copies of settings (`Server::hot`, the slow log length) are refreshed, so the next
//! command sees the new values. Other settings are read from the config where they are used.

use crate::ctx::Ctx;
use crate::errors::{CmdError, CmdResult, SYNTAX};
use crate::families::client::is_local;
use crate::families::command::reply_help;
use crate::table::{flags::*, CommandTable, Group, Spec};

/// Registers CONFIG and its subcommands.
pub fn register(t: &mut CommandTable) {
    let admin = ADMIN | NOSCRIPT | LOADING | STALE;
    t.add(
        Spec::new("config", -2, 0)
            .group(Group::Server)
            .doc("2.0.0", "A container for server configuration commands")
            .subcommand(
                Spec::new("get", -3, admin)
                    .doc("2.0.0", "Get the values of configuration parameters")
                    .handler(get),
            )
            .subcommand(
                Spec::new("set", -4, admin)
                    .doc("2.0.0", "Set configuration parameters to the given values")
                    .handler(set),
            )
            .subcommand(
                Spec::new("resetstat", 2, admin)
                    .doc("2.0.0", "Reset the stats returned by INFO")
                    .handler(resetstat),
            )
            .subcommand(
                Spec::new("rewrite", 2, admin)
                    .doc(
                        "2.8.0",
                        "Rewrite the configuration file with the in memory configuration",
                    )
                    .handler(rewrite),
            )
            .subcommand(
                Spec::new("help", 2, LOADING | STALE)
                    .doc("5.0.0", "Show helpful text about the different subcommands")
                    .handler(help),
            ),
    );
}

/// CONFIG GET parameter [parameter ...]: a map of every matching name to its value.
fn get(cx: &mut Ctx) -> CmdResult {
    let pairs = cx.srv.config.read().get(&cx.args[2..]);
    cx.out.map(pairs.len());
    for (name, value) in pairs {
        cx.out.bulk(name.as_bytes());
        cx.out.bulk(&value);
    }
    Ok(())
}

/// CONFIG SET parameter value [parameter value ...]: all or nothing.
fn set(cx: &mut Ctx) -> CmdResult {
    let chunks = cx.args[2..].chunks_exact(2);
    if !chunks.remainder().is_empty() {
        return Err(SYNTAX.into());
    }
    let pairs: Vec<(&[u8], &[u8])> = chunks.map(|p| (p[0], p[1])).collect();
    let local = is_local(&cx.cl.info.addr);
    let changed = {
        let mut config = cx.srv.config.write();
        // A `tls-*` change rebuilds the TLS contexts from the new values before anything uses
        // them; if that fails (a missing file, a key that does not match, an unknown cipher),
        // every value of this CONFIG SET goes back and the old contexts keep serving.
        let tls = pairs
            .iter()
            .any(|(n, _)| n.len() > 4 && n[..4].eq_ignore_ascii_case(b"tls-"));
        let before = tls.then(|| config.clone());
        let changed = config
            .set_from_client(&pairs, local)
            .map_err(CmdError::Msg)?;
        if let Some(before) = before {
            if let Some(name) = changed.iter().find(|n| n.starts_with("tls-")) {
                match crate::tls::build(&config) {
                    Ok(ctx) => crate::tls::install(cx.srv, ctx),
                    Err(e) => {
                        *config = before;
                        tracing::warn!("Failed to configure TLS: {e}");
                        return Err(CmdError::Msg(format!(
                            "ERR CONFIG SET failed (possibly related to argument '{name}') - \
                             Unable to update TLS configuration. Check server logs."
                        )));
                    }
                }
            }
        }
        changed
    };
    if !changed.is_empty() {
        cx.srv.refresh_hot();
        if changed.contains(&"requirepass") {
            let pass = cx.srv.config.read().requirepass();
            cx.srv.set_requirepass(pass.as_deref());
        }
        tracing::debug!(client = cx.cl.info.id, ?changed, "CONFIG SET");
        if changed.contains(&"appendonly") {
            let want = cx.srv.config.read().appendonly();
            crate::aof::set_enabled(cx.srv, want).map_err(|e| {
                CmdError::Msg(format!("ERR Failed to turn the append only file on: {e}"))
            })?;
        }
    }
    cx.out.ok();
    Ok(())
}

/// CONFIG RESETSTAT: zeroes INFO's counters (the slow log stays).
fn resetstat(cx: &mut Ctx) -> CmdResult {
    cx.srv.stats.reset();
    cx.out.ok();
    Ok(())
}

/// CONFIG REWRITE
fn rewrite(cx: &mut Ctx) -> CmdResult {
    // The ACL users go into the file as `user` lines, unless an ACL file keeps them (then the
    // file's `user` lines are dropped), as Redis's rewriteConfigUserOption.
    let users: Vec<String> = if crate::families::acl::aclfile(cx.srv).is_some() {
        Vec::new()
    } else {
        cx.srv
            .acl
            .all()
            .iter()
            .map(|u| crate::families::acl::user_line(&cx.srv.table, u))
            .collect()
    };
    if let Err(e) = cx.srv.config.read().rewrite_with_users(Some(&users)) {
        tracing::warn!(error = %e, "CONFIG REWRITE failed");
        return Err(CmdError::Msg(e));
    }
    tracing::info!("CONFIG REWRITE executed with success.");
    cx.out.ok();
    Ok(())
}

/// CONFIG HELP
fn help(cx: &mut Ctx) -> CmdResult {
    reply_help(
        cx.out,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests;
