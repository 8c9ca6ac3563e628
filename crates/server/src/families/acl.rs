//! The ACL command: SETUSER GETUSER DELUSER LIST USERS WHOAMI CAT LOG GENPASS DRYRUN LOAD
//! SAVE HELP, over [`crate::acl`]. Replies and errors are Redis 7.0's.

use crate::acl::{self, User};
use crate::args;
use crate::ctx::Ctx;
use crate::errors::{CmdError, CmdResult};
use crate::families::command::reply_help;
use crate::server::Server;
use crate::table::{arity_ok, find_sub, flags::*, CommandTable, Group, Spec};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Registers ACL and its subcommands (arities and flags as Redis 7.0's).
pub fn register(t: &mut CommandTable) {
    let admin = ADMIN | NOSCRIPT | LOADING | STALE;
    let sub = |name: &str, arity, flags, summary, h| {
        Spec::new(name, arity, flags)
            .doc("6.0.0", summary)
            .handler(h)
    };
    t.add(
        Spec::new("acl", -2, 0)
            .group(Group::Server)
            .doc("6.0.0", "A container for Access List Control commands")
            .subcommand(sub("cat", -2, NOSCRIPT | LOADING | STALE, "List the ACL categories or the commands inside a category", cat))
            .subcommand(sub("deluser", -3, admin, "Remove the specified ACL users and the associated rules", deluser))
            .subcommand(
                sub("dryrun", -4, admin, "Returns whether the user can execute the given command without executing the command.", dryrun)
                    .doc("7.0.0", "Returns whether the user can execute the given command without executing the command."),
            )
            .subcommand(sub("genpass", -2, NOSCRIPT | LOADING | STALE, "Generate a pseudorandom secure password to use for ACL users", genpass))
            .subcommand(sub("getuser", 3, admin, "Get the rules for a specific ACL user", getuser))
            .subcommand(sub("help", 2, LOADING | STALE, "Show helpful text about the different subcommands", help))
            .subcommand(sub("list", 2, admin, "List the current ACL rules in ACL config file format", list))
            .subcommand(sub("load", 2, admin, "Reload the ACLs from the configured ACL file", load))
            .subcommand(sub("log", -2, admin, "List latest events denied because of ACLs in place", log))
            .subcommand(sub("save", 2, admin, "Save the current ACL rules in the configured ACL file", save))
            .subcommand(sub("setuser", -3, admin, "Modify or create the rules for a specific ACL user", setuser))
            .subcommand(sub("users", 2, admin, "List the username of all the configured ACL rules", users))
            .subcommand(sub("whoami", 2, NOSCRIPT | LOADING | STALE, "Return the name of the user associated to the current connection", whoami)),
    );
}

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may \
    want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming \
    you have a Redis configuration file set) in order to store users in the Redis configuration.";

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Applies rules to a copy of `base` (or a new user); Redis's error names the failing rule.
pub fn apply_rules(
    srv: &Server,
    name: &[u8],
    base: Option<&User>,
    rules: &[&[u8]],
) -> Result<User, CmdError> {
    let pubsub_all = srv.acl_pubsub_default_all();
    let mut u = match base {
        Some(b) => b.clone(),
        None => User::new(&srv.table, name, pubsub_all),
    };
    let ops = acl::merge_selector_args(rules).map_err(|j| {
        CmdError::Msg(format!(
            "ERR Unmatched parenthesis in acl selector starting at '{}'.",
            lossy(rules[j])
        ))
    })?;
    for op in ops {
        u.apply(&srv.table, &op, pubsub_all).map_err(|e| {
            CmdError::Msg(format!(
                "ERR Error in ACL SETUSER modifier '{}': {}",
                lossy(&op),
                e.text()
            ))
        })?;
    }
    Ok(u)
}

/// Disconnects the subscribers of `user` that lost access to one of their channels or
/// patterns (Redis's ACLKillPubsubClientsIfNeeded).
fn kill_pubsub_clients(srv: &Server, user: &User) {
    let subs = srv.pubsub.subscriptions_of_user(&user.name);
    let doomed: Vec<u64> = subs
        .into_iter()
        .filter(|(_, (chans, pats))| {
            let c: Vec<&[u8]> = chans.iter().map(|v| v.as_slice()).collect();
            let p: Vec<&[u8]> = pats.iter().map(|v| v.as_slice()).collect();
            !user.allows_subscriptions(&c, &p)
        })
        .map(|(id, _)| id)
        .collect();
    if !doomed.is_empty() {
        srv.clients.kill_where(|c| doomed.contains(&c.id));
    }
}

/// Disconnects the clients authenticated as one of `names` (a deleted user).
fn kill_clients_of(srv: &Server, names: &[Vec<u8>], except: u64) -> bool {
    let hit_self = std::cell::Cell::new(false);
    srv.clients.kill_where(|c| {
        if names
            .iter()
            .any(|n| c.user.lock().as_slice() == n.as_slice())
        {
            if c.id == except {
                hit_self.set(true);
                return false;
            }
            return true;
        }
        false
    });
    hit_self.get()
}

/// ACL SETUSER username [rule ...]
fn setuser(cx: &mut Ctx) -> CmdResult {
    let name = cx.arg(2);
    if acl::has_spaces(name) {
        return Err("ERR Usernames can't contain spaces or null characters".into());
    }
    let base = cx.srv.acl.get(name);
    let u = apply_rules(cx.srv, name, base.as_deref(), &cx.args[3..])?;
    cx.srv.acl.put(u.clone());
    cx.srv.acl_changed();
    kill_pubsub_clients(cx.srv, &u);
    cx.out.ok();
    Ok(())
}

/// ACL GETUSER username
fn getuser(cx: &mut Ctx) -> CmdResult {
    let Some(u) = cx.srv.acl.get(cx.arg(2)) else {
        cx.out.null();
        return Ok(());
    };
    let t = &cx.srv.table;
    let out = &mut *cx.out;
    out.map(6);
    out.bulk(b"flags");
    let f = u.flag_names();
    out.set(f.len());
    for x in f {
        out.bulk(x.as_bytes());
    }
    out.bulk(b"passwords");
    out.array(u.passwords.len());
    for p in &u.passwords {
        out.bulk(p.as_bytes());
    }
    out.bulk(b"commands");
    out.bulk(u.root.describe_commands(t).as_bytes());
    out.bulk(b"keys");
    out.bulk(u.root.describe_keys().as_bytes());
    out.bulk(b"channels");
    out.bulk(u.root.describe_channels().as_bytes());
    out.bulk(b"selectors");
    out.array(u.selectors.len());
    for s in &u.selectors {
        out.map(3);
        out.bulk(b"commands");
        out.bulk(s.describe_commands(t).as_bytes());
        out.bulk(b"keys");
        out.bulk(s.describe_keys().as_bytes());
        out.bulk(b"channels");
        out.bulk(s.describe_channels().as_bytes());
    }
    Ok(())
}

/// ACL DELUSER username [username ...]
fn deluser(cx: &mut Ctx) -> CmdResult {
    let names = &cx.args[2..];
    if names.iter().any(|n| *n == b"default") {
        return Err("ERR The 'default' user cannot be removed".into());
    }
    let mut gone = Vec::new();
    for n in names {
        if cx.srv.acl.remove(n) {
            gone.push(n.to_vec());
        }
    }
    if !gone.is_empty() {
        cx.srv.acl_changed();
        if kill_clients_of(cx.srv, &gone, cx.cl.info.id) {
            cx.cl.close_after_reply = true;
        }
    }
    cx.out.int(gone.len() as i64);
    Ok(())
}

/// The ACL LIST / ACL SAVE / CONFIG REWRITE line of a user.
pub fn user_line(t: &CommandTable, u: &User) -> String {
    format!("user {} {}", lossy(&u.name), u.describe(t))
}

/// ACL LIST
fn list(cx: &mut Ctx) -> CmdResult {
    let users = cx.srv.acl.all();
    cx.out.array(users.len());
    for u in users {
        cx.out.bulk(user_line(&cx.srv.table, &u).as_bytes());
    }
    Ok(())
}

/// ACL USERS
fn users(cx: &mut Ctx) -> CmdResult {
    let users = cx.srv.acl.all();
    cx.out.array(users.len());
    for u in users {
        cx.out.bulk(&u.name);
    }
    Ok(())
}

/// ACL WHOAMI
fn whoami(cx: &mut Ctx) -> CmdResult {
    let name = cx.cl.user.name.clone();
    cx.out.bulk(&name);
    Ok(())
}

/// ACL CAT [category]
fn cat(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 3 {
        return Err(subcommand_syntax("CAT"));
    }
    let t = &cx.srv.table;
    match cx.args.get(2) {
        None => {
            cx.out.array(acl::CATEGORIES.len());
            for c in acl::CATEGORIES {
                cx.out.bulk(c.as_bytes());
            }
        }
        Some(name) => {
            let bit = acl::category_bit(name)
                .ok_or_else(|| CmdError::Msg(format!("ERR Unknown category '{}'", lossy(name))))?;
            let names: Vec<&str> = (0..t.ids())
                .map(|id| t.acl_meta(id))
                .filter(|m| m.cats & bit != 0)
                .map(|m| m.name.as_str())
                .collect();
            cx.out.array(names.len());
            for n in names {
                cx.out.bulk(n.as_bytes());
            }
        }
    }
    Ok(())
}

fn subcommand_syntax(sub: &str) -> CmdError {
    CmdError::Msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try ACL HELP."
    ))
}

/// ACL LOG [count | RESET]
fn log(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 3 {
        return Err(subcommand_syntax("LOG"));
    }
    let mut count = 10i64;
    if let Some(a) = cx.args.get(2) {
        if a.eq_ignore_ascii_case(b"reset") {
            cx.srv.acl.log_reset();
            cx.out.ok();
            return Ok(());
        }
        count = args::int(a)?.max(0);
    }
    let entries = cx.srv.acl.log_entries(count as usize);
    cx.out.array(entries.len());
    for e in entries {
        cx.out.map(7);
        cx.out.bulk(b"count");
        cx.out.int(e.count as i64);
        cx.out.bulk(b"reason");
        cx.out.bulk(e.reason.as_bytes());
        cx.out.bulk(b"context");
        cx.out.bulk(e.context.as_bytes());
        cx.out.bulk(b"object");
        cx.out.bulk(&e.object);
        cx.out.bulk(b"username");
        cx.out.bulk(&e.username);
        cx.out.bulk(b"age-seconds");
        cx.out
            .double((cx.now_ms - e.ctime_ms).max(0) as f64 / 1000.0);
        cx.out.bulk(b"client-info");
        cx.out.bulk(e.client_info.as_bytes());
    }
    Ok(())
}

/// ACL GENPASS [bits]: random bytes from the OS CSPRNG, as hex.
fn genpass(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 3 {
        return Err(subcommand_syntax("GENPASS"));
    }
    let bits = match cx.args.get(2) {
        None => 256,
        Some(a) => match args::int(a)? {
            n if (1..=4096).contains(&n) => n,
            _ => {
                return Err(
                    "ERR ACL GENPASS argument must be the number of bits for the output \
                            password, a positive number up to 4096"
                        .into(),
                )
            }
        },
    } as usize;
    let chars = bits.div_ceil(4);
    let mut bytes = vec![0u8; chars.div_ceil(2)];
    use rand::RngCore;
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut s = hex::encode(bytes);
    s.truncate(chars);
    cx.out.bulk(s.as_bytes());
    Ok(())
}

/// ACL DRYRUN username command [arg ...]
fn dryrun(cx: &mut Ctx) -> CmdResult {
    let Some(u) = cx.srv.acl.get(cx.arg(2)) else {
        return Err(CmdError::Msg(format!(
            "ERR User '{}' not found",
            lossy(cx.arg(2))
        )));
    };
    let argv = &cx.args[3..];
    let not_found = || CmdError::Msg(format!("ERR Command '{}' not found", lossy(argv[0])));
    let mut spec = cx.srv.table.get(argv[0]).ok_or_else(not_found)?;
    if !spec.subcommands.is_empty() && argv.len() >= 2 {
        spec = find_sub(spec, argv[1]).ok_or_else(not_found)?;
    }
    if !arity_ok(spec.arity, argv.len()) {
        return Err(CmdError::arity(&spec.name));
    }
    match u.check(spec, argv) {
        Ok(()) => cx.out.ok(),
        Err(d) => cx.out.bulk(d.dryrun_text(spec, argv).as_bytes()),
    }
    Ok(())
}

/// The `aclfile` path, if one is configured.
pub fn aclfile(srv: &Server) -> Option<String> {
    srv.config
        .read()
        .get_str("aclfile")
        .filter(|s| !s.is_empty())
}

/// Where the ACL file is: a relative `aclfile` is relative to `dir`, Redis's working
/// directory (tern does not chdir); messages show the path as configured.
fn aclfile_path(srv: &Server, path: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        srv.config.read().dir().join(p)
    }
}

/// Reads and parses the ACL file (`ACLLoadFromFile`); Err is the error text without "ERR ".
pub fn read_aclfile(srv: &Server, path: &str) -> Result<BTreeMap<Vec<u8>, Arc<User>>, String> {
    let text = std::fs::read(aclfile_path(srv, path)).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{path}': {}",
            crate::aof::strerror(&e)
        )
    })?;
    acl::parse_users(
        &srv.table,
        &String::from_utf8_lossy(&text),
        path,
        srv.acl_pubsub_default_all(),
    )
    .map_err(|e| {
        format!("{e}WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
    })
}

/// Installs a new set of users: the default user is updated in place, every client of another
/// user is disconnected (as Redis frees the old users with their clients).
pub fn install_users(srv: &Server, users: BTreeMap<Vec<u8>, Arc<User>>, me: u64) -> bool {
    srv.acl.replace_all(&srv.table, users);
    srv.acl_changed();
    let hit_self = std::cell::Cell::new(false);
    srv.clients.kill_where(|c| {
        if c.user.lock().as_slice() != b"default" {
            if c.id == me {
                hit_self.set(true);
                return false;
            }
            return true;
        }
        false
    });
    hit_self.get()
}

/// ACL LOAD
fn load(cx: &mut Ctx) -> CmdResult {
    let Some(path) = aclfile(cx.srv) else {
        return Err(NO_ACLFILE.into());
    };
    let users = read_aclfile(cx.srv, &path).map_err(|e| CmdError::Msg(format!("ERR {e}")))?;
    if install_users(cx.srv, users, cx.cl.info.id) {
        cx.cl.close_after_reply = true;
    }
    cx.out.ok();
    Ok(())
}

/// ACL SAVE: every user's line, written to a temporary file renamed over the ACL file.
fn save(cx: &mut Ctx) -> CmdResult {
    let Some(path) = aclfile(cx.srv) else {
        return Err(NO_ACLFILE.into());
    };
    let mut text = String::new();
    for u in cx.srv.acl.all() {
        text.push_str(&user_line(&cx.srv.table, &u));
        text.push('\n');
    }
    let target = aclfile_path(cx.srv, &path);
    let mut tmp = target.clone().into_os_string();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let r = (|| -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &target)
    })();
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        tracing::warn!(error = %e, path, "ACL SAVE failed");
        return Err("ERR There was an error trying to save the ACLs. Please check the server logs for more information".into());
    }
    cx.out.ok();
    Ok(())
}

/// ACL HELP
fn help(cx: &mut Ctx) -> CmdResult {
    reply_help(
        cx.out,
        "ACL",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    );
    Ok(())
}

/// Loads the users at start-up (`ACLLoadUsersAtStartup`): from `aclfile`, or from the
/// config's `user` lines; both at once is refused, as by Redis.
pub fn load_at_startup(srv: &Server) -> Result<(), String> {
    let lines: Vec<String> = srv
        .config
        .read()
        .extra_directives()
        .iter()
        .filter(|a| a.first().is_some_and(|n| n == b"user"))
        .map(|a| a.iter().map(|x| lossy(x)).collect::<Vec<_>>().join(" "))
        .collect();
    let file = aclfile(srv);
    if file.is_some() && !lines.is_empty() {
        return Err(
            "Configuring Redis with users defined in redis.conf and at the same setting \
                    an ACL file path is invalid. This setup is very likely to lead to \
                    configuration errors and security holes, please define either an ACL file \
                    or declare users directly in your redis.conf, but not both."
                .into(),
        );
    }
    let users = match file {
        Some(path) => read_aclfile(srv, &path)?,
        None if lines.is_empty() => return Ok(()),
        None => {
            let source = srv
                .config_file
                .clone()
                .unwrap_or_else(|| "config".to_string());
            acl::parse_users(
                &srv.table,
                &lines.join("\n"),
                &source,
                srv.acl_pubsub_default_all(),
            )?
        }
    };
    let had_default = users.contains_key(b"default".as_slice());
    let requirepass = srv.config.read().requirepass();
    srv.acl.replace_all(&srv.table, users);
    if !had_default {
        // The default user keeps `requirepass` when the users do not redefine it.
        srv.set_requirepass(requirepass.as_deref());
    }
    srv.acl_changed();
    Ok(())
}
