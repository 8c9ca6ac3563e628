//! COMMAND: introspection of the command table (COUNT, INFO, DOCS, LIST, GETKEYS,
//! GETKEYSANDFLAGS, HELP), with Redis 7.0's reply shapes. redis-cli calls COMMAND DOCS when it
//! starts and cluster-aware clients call COMMAND (INFO) to find key positions, so the shapes
//! matter more than the details.
//!
//! The table has no key-spec rows of its own yet, so COMMAND INFO derives one key spec from the
//! legacy (first, last, step) triple, with RO/access flags for read-only commands and RW/update
//! for writes. Also home of [`reply_help`], the `<CMD> HELP` reply every container shares.

use crate::args::is;
use crate::ctx::Ctx;
use crate::errors::{CmdError, CmdResult, SYNTAX};
use crate::server::Server;
use crate::table::{arity_ok, find_sub, flags, flags::*, CommandTable, Group, Spec};
use tern_resp::ReplyWriter;

/// Registers COMMAND and its subcommands.
pub fn register(t: &mut CommandTable) {
    let sub = |name, arity, since, summary, h| {
        Spec::new(name, arity, LOADING | STALE)
            .acl(&["@connection"])
            .doc(since, summary)
            .handler(h)
    };
    t.add(
        Spec::new("command", -1, LOADING | STALE)
            .group(Group::Server)
            .acl(&["@connection"])
            .doc("2.8.13", "Get array of Redis command details")
            .handler(command)
            .subcommand(sub(
                "count",
                2,
                "2.8.13",
                "Get total number of Redis commands",
                count,
            ))
            .subcommand(sub(
                "docs",
                -2,
                "7.0.0",
                "Get array of specific Redis command documentation",
                docs,
            ))
            .subcommand(sub(
                "getkeys",
                -4,
                "2.8.13",
                "Extract keys given a full Redis command",
                getkeys,
            ))
            .subcommand(sub(
                "getkeysandflags",
                -4,
                "7.0.0",
                "Extract keys and access flags given a full Redis command",
                getkeysandflags,
            ))
            .subcommand(sub(
                "help",
                2,
                "5.0.0",
                "Show helpful text about the different subcommands",
                help,
            ))
            .subcommand(sub(
                "info",
                -2,
                "2.8.13",
                "Get array of specific Redis command details, or all when no argument is given.",
                info,
            ))
            .subcommand(sub(
                "list",
                -2,
                "7.0.0",
                "Get an array of Redis command names",
                list,
            )),
    );
}

/// Writes Redis's `<CMD> HELP` reply: a header line, the given lines, then the HELP entry.
pub fn reply_help(out: &mut ReplyWriter, cmd: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// ACL categories in the order Redis lists them (its category bit order).
const CATEGORY_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];

/// A command's ACL categories, ordered as Redis prints them.
pub fn categories(spec: &Spec) -> Vec<&'static str> {
    let mut v = spec.acl_categories();
    v.sort_by_key(|c| {
        CATEGORY_ORDER
            .iter()
            .position(|o| o == c)
            .unwrap_or(CATEGORY_ORDER.len())
    });
    v
}

/// Finds a command by its full name, `get` or `config|get`, case-insensitively.
pub fn lookup<'a>(table: &'a CommandTable, name: &[u8]) -> Option<&'a Spec> {
    match name.iter().position(|&c| c == b'|') {
        None => table.get(name),
        Some(i) => find_sub(table.get(&name[..i])?, &name[i + 1..]),
    }
}

/// Finds the command an argument vector would run, as dispatch does: a container with
/// subcommands resolves to the subcommand named by the second argument (None if unknown).
fn resolve<'a>(table: &'a CommandTable, argv: &[&[u8]]) -> Option<&'a Spec> {
    let spec = table.get(argv[0])?;
    if spec.subcommands.is_empty() || argv.len() < 2 {
        return Some(spec);
    }
    find_sub(spec, argv[1])
}

/// The key-spec flags tern derives from a command's flags.
fn key_flags(spec: &Spec) -> &'static [&'static str] {
    if spec.has(WRITE) {
        &["RW", "update"]
    } else if spec.has(READONLY) {
        &["RO", "access"]
    } else {
        &["RO"]
    }
}

/// One COMMAND INFO entry: name, arity, flags, first key, last key, step, ACL categories,
/// tips, key specs, subcommands.
fn reply_info(out: &mut ReplyWriter, spec: &Spec) {
    out.array(10);
    out.bulk(spec.name.as_bytes());
    out.int(spec.arity as i64);
    let names: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(f, _)| spec.has(*f))
        .map(|(_, n)| *n)
        .collect();
    out.set(names.len());
    for n in names {
        out.simple(n);
    }
    out.int(spec.first_key as i64);
    out.int(spec.last_key as i64);
    out.int(spec.step as i64);
    let cats = categories(spec);
    out.set(cats.len());
    for c in cats {
        out.simple(c);
    }
    out.set(0);
    if spec.first_key > 0 {
        out.set(1);
        reply_key_spec(out, spec);
    } else {
        out.set(0);
    }
    out.set(spec.subcommands.len());
    for sub in &spec.subcommands {
        reply_info(out, sub);
    }
}

/// The key spec equivalent to a legacy (first, last, step) triple.
fn reply_key_spec(out: &mut ReplyWriter, spec: &Spec) {
    out.map(3);
    out.bulk(b"flags");
    let f = key_flags(spec);
    out.set(f.len());
    for x in f {
        out.simple(x);
    }
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    out.bulk(b"index");
    out.bulk(b"spec");
    out.map(1);
    out.bulk(b"index");
    out.int(spec.first_key as i64);
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    out.bulk(b"range");
    out.bulk(b"spec");
    out.map(3);
    out.bulk(b"lastkey");
    // A key spec's last key is relative to the first; negative values count from the end.
    let last = if spec.last_key >= 0 {
        spec.last_key - spec.first_key
    } else {
        spec.last_key
    };
    out.int(last as i64);
    out.bulk(b"keystep");
    out.int(spec.step as i64);
    out.bulk(b"limit");
    out.int(0);
}

/// One COMMAND DOCS entry: summary, since, group and the subcommands' docs.
fn reply_docs(out: &mut ReplyWriter, spec: &Spec) {
    let n = 2 + usize::from(!spec.summary.is_empty()) + usize::from(!spec.subcommands.is_empty());
    out.map(n);
    if !spec.summary.is_empty() {
        out.bulk(b"summary");
        out.bulk(spec.summary.as_bytes());
    }
    out.bulk(b"since");
    out.bulk(spec.since.as_bytes());
    out.bulk(b"group");
    out.bulk(spec.group.name().as_bytes());
    if !spec.subcommands.is_empty() {
        out.bulk(b"subcommands");
        out.map(spec.subcommands.len());
        for sub in &spec.subcommands {
            out.bulk(sub.name.as_bytes());
            reply_docs(out, sub);
        }
    }
}

/// COMMAND
fn command(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 1 {
        return Err(CmdError::unknown_subcommand(cx.arg(1), "command"));
    }
    cx.out.array(cx.srv.table.len());
    for spec in cx.srv.table.iter() {
        reply_info(cx.out, spec);
    }
    Ok(())
}

/// COMMAND COUNT
fn count(cx: &mut Ctx) -> CmdResult {
    cx.out.int(cx.srv.table.len() as i64);
    Ok(())
}

/// COMMAND INFO [command-name ...]: unknown names give a null entry.
fn info(cx: &mut Ctx) -> CmdResult {
    let table = &cx.srv.table;
    if cx.argc() == 2 {
        cx.out.array(table.len());
        for spec in table.iter() {
            reply_info(cx.out, spec);
        }
        return Ok(());
    }
    cx.out.array(cx.argc() - 2);
    for name in &cx.args[2..] {
        match lookup(table, name) {
            Some(spec) => reply_info(cx.out, spec),
            None => cx.out.null_array(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [command-name ...]: a map from name to docs; unknown names are left out.
fn docs(cx: &mut Ctx) -> CmdResult {
    let table = &cx.srv.table;
    let specs: Vec<&Spec> = if cx.argc() == 2 {
        table.iter().collect()
    } else {
        cx.args[2..]
            .iter()
            .filter_map(|n| lookup(table, n))
            .collect()
    };
    cx.out.map(specs.len());
    for spec in specs {
        cx.out.bulk(spec.name.as_bytes());
        reply_docs(cx.out, spec);
    }
    Ok(())
}

/// The keys of the command in `cx.args[2..]`, with Redis's errors.
fn keys_of<'a>(cx: &Ctx<'a>) -> Result<(&'a Spec, Vec<usize>), CmdError> {
    let argv = &cx.args[2..];
    let spec =
        resolve(&cx.srv.table, argv).ok_or(CmdError::Static("ERR Invalid command specified"))?;
    if !arity_ok(spec.arity, argv.len()) {
        return Err("ERR Invalid number of arguments specified for command".into());
    }
    if spec.first_key <= 0 && !spec.has(MOVABLE_KEYS) {
        return Err("ERR The command has no key arguments".into());
    }
    let pos = spec.key_positions_in(argv);
    if pos.is_empty() {
        return Err("ERR Invalid arguments specified for command".into());
    }
    Ok((spec, pos))
}

/// COMMAND GETKEYS command [arg ...]
fn getkeys(cx: &mut Ctx) -> CmdResult {
    let (_, pos) = keys_of(cx)?;
    cx.out.array(pos.len());
    for p in pos {
        cx.out.bulk(cx.args[2 + p]);
    }
    Ok(())
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
fn getkeysandflags(cx: &mut Ctx) -> CmdResult {
    let (spec, pos) = keys_of(cx)?;
    let f = key_flags(spec);
    cx.out.array(pos.len());
    for p in pos {
        cx.out.array(2);
        cx.out.bulk(cx.args[2 + p]);
        cx.out.set(f.len());
        for x in f {
            cx.out.simple(x);
        }
    }
    Ok(())
}

/// Every full name (commands and subcommands) the filter accepts.
fn list_names(srv: &Server, keep: &dyn Fn(&Spec) -> bool) -> Vec<String> {
    let mut names = Vec::new();
    for spec in srv.table.iter() {
        for s in std::iter::once(spec).chain(spec.subcommands.iter()) {
            if keep(s) {
                names.push(s.name.clone());
            }
        }
    }
    names
}

/// COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]
fn list(cx: &mut Ctx) -> CmdResult {
    let names = match cx.argc() {
        2 => list_names(cx.srv, &|_| true),
        5 if is(cx.arg(2), "FILTERBY") => {
            let value = cx.arg(4);
            if is(cx.arg(3), "MODULE") {
                // No modules: no command belongs to one.
                Vec::new()
            } else if is(cx.arg(3), "ACLCAT") {
                let cat = format!("@{}", String::from_utf8_lossy(value).to_ascii_lowercase());
                list_names(cx.srv, &|s| s.acl_categories().contains(&cat.as_str()))
            } else if is(cx.arg(3), "PATTERN") {
                list_names(cx.srv, &|s| glob_nocase(value, s.name.as_bytes()))
            } else {
                return Err(SYNTAX.into());
            }
        }
        _ => return Err(SYNTAX.into()),
    };
    cx.out.array(names.len());
    for n in names {
        cx.out.bulk(n.as_bytes());
    }
    Ok(())
}

/// Case-insensitive glob match for PATTERN.
fn glob_nocase(pattern: &[u8], s: &[u8]) -> bool {
    crate::glob::matches_nocase(pattern, s)
}

/// COMMAND HELP
fn help(cx: &mut Ctx) -> CmdResult {
    reply_help(
        cx.out,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(())
}

/// Helpers shared by the unit tests of the server-administration families (on top of
/// [`crate::testkit::TestDb`]).
#[cfg(test)]
pub(crate) mod test_support {
    use crate::dispatch;
    use crate::testkit::TestDb;
    use tern_resp::Frame;

    /// Runs a command that may send no reply (CLIENT REPLY, ...); None when it sent none.
    pub fn run_quiet(t: &mut TestDb, args: &[&str]) -> Option<Frame> {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        t.out.buf.clear();
        let now = t.now();
        dispatch::execute(&t.srv, &mut t.cl, &mut t.out, &argv, now);
        if t.out.buf.is_empty() {
            return None;
        }
        let (f, used) = Frame::decode(&t.out.buf).unwrap();
        assert_eq!(used, t.out.buf.len(), "one reply per command");
        Some(f)
    }

    /// A bulk, verbatim or simple string reply as text.
    pub fn must_str(f: Frame) -> String {
        match f {
            Frame::Bulk(b) | Frame::Verbatim(_, b) => String::from_utf8(b).unwrap(),
            Frame::Simple(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }

    /// An error reply's text.
    pub fn must_err(f: Frame) -> String {
        match f {
            Frame::Error(e) => e,
            other => panic!("not an error: {other:?}"),
        }
    }

    /// An array (or set) of strings.
    pub fn must_strings(f: Frame) -> Vec<String> {
        match f {
            Frame::Array(v) | Frame::Set(v) => v.into_iter().map(must_str).collect(),
            other => panic!("not an array: {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests;
