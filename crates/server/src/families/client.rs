//! CLIENT: connection introspection and control (ID SETNAME GETNAME LIST INFO KILL SETINFO
//! REPLY PAUSE UNPAUSE NO-EVICT NO-TOUCH GETREDIR HELP), with Redis 7.0's errors and the
//! Redis 7.2 CLIENT LIST line (which adds `lib-name=` and `lib-ver=`).
//!
//! Other connections are only seen through their published [`ClientInfo`]; the calling client's
//! own line uses its live state (selected db, the command running now), as Redis's does.

use crate::args::{self, is};
use crate::clients::{cflags, ClientInfo};
use crate::ctx::{Ctx, ReplyMode};
use crate::errors::{CmdError, CmdResult, SYNTAX};
use crate::families::command::reply_help;
use crate::families::server::validate_client_name;
use crate::server::Server;
use crate::table::{flags::*, CommandTable, Group, Spec};
use std::cell::Cell;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

/// Registers CLIENT and its subcommands.
pub fn register(t: &mut CommandTable) {
    let conn = NOSCRIPT | LOADING | STALE;
    let admin = ADMIN | conn;
    let sub = |name, arity, flags, since, summary, h| {
        Spec::new(name, arity, flags).doc(since, summary).handler(h)
    };
    t.add(
        Spec::new("client", -2, 0)
            .group(Group::Connection)
            .doc("2.4.0", "A container for client connection commands")
            .subcommand(sub(
                "id",
                2,
                conn,
                "5.0.0",
                "Returns the client ID for the current connection",
                id,
            ))
            .subcommand(sub(
                "setname",
                3,
                conn,
                "2.6.9",
                "Set the current connection name",
                setname,
            ))
            .subcommand(sub(
                "getname",
                2,
                conn,
                "2.6.9",
                "Get the current connection name",
                getname,
            ))
            .subcommand(sub(
                "list",
                -2,
                admin,
                "2.4.0",
                "Get the list of client connections",
                list,
            ))
            .subcommand(sub(
                "info",
                2,
                conn,
                "6.2.0",
                "Returns information about the current client connection.",
                info,
            ))
            .subcommand(sub(
                "kill",
                -3,
                admin,
                "2.4.0",
                "Kill the connection of a client",
                kill,
            ))
            .subcommand(sub(
                "setinfo",
                4,
                // Allowed before AUTH: clients (redis-py) send it while connecting, and Redis
                // 7.0, whose behaviour tern reports, answers it without NOAUTH.
                conn | NO_AUTH,
                "7.2.0",
                "Set client or connection specific info",
                setinfo,
            ))
            .subcommand(sub(
                "reply",
                3,
                conn,
                "3.2.0",
                "Instruct the server whether to reply to commands",
                reply,
            ))
            .subcommand(sub(
                "pause",
                -3,
                admin,
                "2.9.50",
                "Stop processing commands from clients for some time",
                pause,
            ))
            .subcommand(sub(
                "unpause",
                2,
                admin,
                "6.2.0",
                "Resume processing of clients that were paused",
                unpause,
            ))
            .subcommand(sub(
                "no-evict",
                3,
                admin,
                "7.0.0",
                "Set client eviction mode for the current connection",
                no_evict,
            ))
            .subcommand(sub(
                "no-touch",
                3,
                conn,
                "7.2.0",
                "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.",
                no_touch,
            ))
            .subcommand(sub(
                "unblock",
                -3,
                admin,
                "5.0.0",
                "Unblock a client blocked in a blocking command from a different connection",
                unblock,
            ))
            .subcommand(sub(
                "tracking",
                -3,
                conn,
                "6.0.0",
                "Controls server-assisted client-side caching for the connection.",
                tracking,
            ))
            .subcommand(sub(
                "caching",
                3,
                conn,
                "6.0.0",
                "Instructs the server whether to track the keys in the next request.",
                caching,
            ))
            .subcommand(sub(
                "trackinginfo",
                2,
                conn,
                "6.2.0",
                "Returns information about server-assisted client-side caching for the connection.",
                trackinginfo,
            ))
            .subcommand(sub(
                "getredir",
                2,
                conn,
                "6.0.0",
                "Get tracking notifications redirection client ID if any",
                getredir,
            ))
            .subcommand(sub(
                "help",
                2,
                LOADING | STALE,
                "5.0.0",
                "Show helpful text about the different subcommands",
                help,
            )),
    );
}

/// True for a client Redis considers local: loopback (127.0.0.1 or ::1) or a Unix socket.
pub fn is_local(addr: &str) -> bool {
    match addr.parse::<std::net::SocketAddr>() {
        Ok(sa) => match sa.ip() {
            std::net::IpAddr::V4(ip) => ip == std::net::Ipv4Addr::LOCALHOST,
            std::net::IpAddr::V6(ip) => {
                ip.is_loopback() || ip.to_ipv4_mapped() == Some(std::net::Ipv4Addr::LOCALHOST)
            }
        },
        // Unix socket clients have a path (or nothing) instead of ip:port.
        Err(_) => addr.is_empty() || addr.starts_with('/'),
    }
}

/// The live state of the client asking, which its published info may not show yet.
pub struct Current<'a> {
    /// The selected database.
    pub db: usize,
    /// The full name of the command running now.
    pub cmd: &'a str,
    /// Bytes of the running command's arguments.
    pub argv_mem: usize,
}

/// Bytes Redis charges per client for its `client` struct and fixed buffers (tot-mem's base).
const CLIENT_BASE_MEM: usize = 20 * 1024;
/// The reply buffer size CLIENT LIST reports (`rbs=`).
const REPLY_BUFFER: usize = 1024;

/// One CLIENT LIST / CLIENT INFO line, without the trailing newline.
pub fn client_line(srv: &Server, c: &ClientInfo, cur: Option<&Current>) -> String {
    let f = c.flags.load(Relaxed);
    let mut flags = String::new();
    for (bit, ch) in [
        (cflags::MONITOR, 'O'),
        (cflags::PUBSUB, 'P'),
        (cflags::MULTI, 'x'),
        (cflags::BLOCKED, 'b'),
        (cflags::CLOSE_AFTER_REPLY, 'c'),
        (cflags::NO_EVICT, 'e'),
        (cflags::NO_TOUCH, 'T'),
        (cflags::REPLICA, 'S'),
        (cflags::MASTER, 'M'),
    ] {
        if f & bit != 0 {
            flags.push(ch);
        }
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let (db, idle, argv_mem) = match cur {
        Some(m) => (m.db, 0, m.argv_mem),
        None => (c.db.load(Relaxed), c.idle_secs(), 0),
    };
    let cmd = match cur {
        Some(m) => m.cmd,
        None => srv
            .table
            .name_of(c.last_cmd.load(Relaxed))
            .unwrap_or("NULL"),
    };
    let qbuf = c.qbuf.load(Relaxed);
    let omem = c.omem.load(Relaxed);
    let multi = if f & cflags::MULTI != 0 { 0 } else { -1 };
    let lossy = |m: &parking_lot::Mutex<Vec<u8>>| String::from_utf8_lossy(&m.lock()).into_owned();
    let mut s = String::with_capacity(320);
    let _ = write!(
        s,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} \
         ssub={} multi={} qbuf={} qbuf-free=0 argv-mem={} multi-mem=0 rbs={} rbp=0 obl=0 oll=0 \
         omem={} tot-mem={} events=r cmd={} user={} redir=-1 resp={} lib-name={} \
         lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        lossy(&c.name),
        c.created.elapsed().as_secs(),
        idle,
        flags,
        db,
        c.sub.load(Relaxed),
        c.psub.load(Relaxed),
        c.ssub.load(Relaxed),
        multi,
        qbuf,
        argv_mem,
        REPLY_BUFFER,
        omem,
        CLIENT_BASE_MEM + qbuf + argv_mem + REPLY_BUFFER + omem,
        cmd,
        lossy(&c.user),
        c.resp.load(Relaxed),
        lossy(&c.lib_name),
        lossy(&c.lib_ver),
    );
    s
}

/// The calling client's own view.
fn current<'a>(cx: &'a Ctx) -> Current<'a> {
    Current {
        db: cx.cl.db,
        cmd: &cx.spec.name,
        argv_mem: cx.args.iter().map(|a| a.len()).sum(),
    }
}

/// Client types for LIST TYPE and KILL TYPE.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

fn parse_type(arg: &[u8]) -> Result<ClientType, CmdError> {
    let t = if is(arg, "normal") {
        ClientType::Normal
    } else if is(arg, "slave") || is(arg, "replica") {
        ClientType::Replica
    } else if is(arg, "pubsub") {
        ClientType::PubSub
    } else if is(arg, "master") {
        ClientType::Master
    } else {
        return Err(CmdError::Msg(format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(arg)
        )));
    };
    Ok(t)
}

/// A client's type as Redis's `getClientType` sees it (a MONITOR client is a normal one).
fn type_of(c: &ClientInfo) -> ClientType {
    let f = c.flags.load(Relaxed);
    if f & cflags::REPLICA != 0 {
        ClientType::Replica
    } else if f & cflags::MASTER != 0 {
        ClientType::Master
    } else if f & cflags::PUBSUB != 0 {
        ClientType::PubSub
    } else {
        ClientType::Normal
    }
}

/// CLIENT ID
fn id(cx: &mut Ctx) -> CmdResult {
    cx.out.int(cx.cl.info.id as i64);
    Ok(())
}

/// CLIENT SETNAME name (an empty name clears it)
fn setname(cx: &mut Ctx) -> CmdResult {
    let name = cx.arg(2);
    validate_client_name(name)?;
    *cx.cl.info.name.lock() = name.to_vec();
    cx.out.ok();
    Ok(())
}

/// CLIENT GETNAME
fn getname(cx: &mut Ctx) -> CmdResult {
    let name = cx.cl.info.name.lock().clone();
    if name.is_empty() {
        cx.out.null();
    } else {
        cx.out.bulk(&name);
    }
    Ok(())
}

/// CLIENT INFO
fn info(cx: &mut Ctx) -> CmdResult {
    let mut line = client_line(cx.srv, &cx.cl.info, Some(&current(cx)));
    line.push('\n');
    cx.out.verbatim("txt", line.as_bytes());
    Ok(())
}

/// CLIENT LIST [TYPE type] | [ID client-id [client-id ...]]
fn list(cx: &mut Ctx) -> CmdResult {
    let all = cx.srv.clients.all();
    let picked: Vec<_> = if cx.argc() == 2 {
        all
    } else if cx.argc() == 4 && is(cx.arg(2), "TYPE") {
        let t = parse_type(cx.arg(3))?;
        all.into_iter().filter(|c| type_of(c) == t).collect()
    } else if cx.argc() > 3 && is(cx.arg(2), "ID") {
        let mut v = Vec::new();
        for a in &cx.args[3..] {
            let id = match args::int(a) {
                Ok(n) if n >= 1 => n as u64,
                _ => return Err("ERR Invalid client ID".into()),
            };
            if let Some(c) = all.iter().find(|c| c.id == id) {
                v.push(c.clone());
            }
        }
        v
    } else {
        return Err(SYNTAX.into());
    };
    let me = current(cx);
    let mut text = String::new();
    for c in &picked {
        let cur = (c.id == cx.cl.info.id).then_some(&me);
        text.push_str(&client_line(cx.srv, c, cur));
        text.push('\n');
    }
    cx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

/// CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE type] [USER user] [ADDR ip:port]
/// [LADDR ip:port] [SKIPME yes|no] ...
///
/// The caller itself is never shut down from here: it is closed after its reply is written.
fn kill(cx: &mut Ctx) -> CmdResult {
    let me = cx.cl.info.id;
    if cx.argc() == 3 {
        let addr = cx.arg(2);
        let hit_self = Cell::new(false);
        let n = cx.srv.clients.kill_where(|c| {
            if c.addr.as_bytes() != addr {
                return false;
            }
            if c.id == me {
                hit_self.set(true);
                return false;
            }
            true
        });
        if n == 0 && !hit_self.get() {
            return Err("ERR No such client".into());
        }
        if hit_self.get() {
            cx.cl.close_after_reply = true;
        }
        cx.out.ok();
        return Ok(());
    }
    let mut id: Option<u64> = None;
    let mut ctype: Option<ClientType> = None;
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut user: Option<&[u8]> = None;
    let mut skipme = true;
    let mut i = 2;
    while i < cx.argc() {
        if i + 1 >= cx.argc() {
            return Err(SYNTAX.into());
        }
        let (opt, val) = (cx.arg(i), cx.arg(i + 1));
        if is(opt, "ID") {
            match args::int(val) {
                Ok(n) if n >= 1 => id = Some(n as u64),
                _ => return Err("ERR client-id should be greater than 0".into()),
            }
        } else if is(opt, "TYPE") {
            ctype = Some(parse_type(val)?);
        } else if is(opt, "ADDR") {
            addr = Some(val);
        } else if is(opt, "LADDR") {
            laddr = Some(val);
        } else if is(opt, "USER") {
            if cx.srv.acl.get(val).is_none() {
                return Err(CmdError::Msg(format!(
                    "ERR No such user '{}'",
                    String::from_utf8_lossy(val)
                )));
            }
            user = Some(val);
        } else if is(opt, "SKIPME") {
            if is(val, "yes") {
                skipme = true;
            } else if is(val, "no") {
                skipme = false;
            } else {
                return Err(SYNTAX.into());
            }
        } else {
            return Err(SYNTAX.into());
        }
        i += 2;
    }
    let pick = |c: &ClientInfo| {
        (id.is_none() || id == Some(c.id))
            && (ctype.is_none() || ctype == Some(type_of(c)))
            && (addr.is_none() || addr == Some(c.addr.as_bytes()))
            && (laddr.is_none() || laddr == Some(c.laddr.as_bytes()))
            && user.is_none_or(|u| c.user.lock().as_slice() == u)
    };
    let hit_self = Cell::new(false);
    let n = cx.srv.clients.kill_where(|c| {
        if !pick(c) {
            return false;
        }
        if c.id == me {
            hit_self.set(!skipme);
            return false;
        }
        true
    });
    if hit_self.get() {
        cx.cl.close_after_reply = true;
    }
    cx.out.int((n + usize::from(hit_self.get())) as i64);
    Ok(())
}

/// CLIENT SETINFO LIB-NAME name | LIB-VER version (Redis 7.2)
fn setinfo(cx: &mut Ctx) -> CmdResult {
    let (attr, value) = (cx.arg(2), cx.arg(3));
    let field = if is(attr, "lib-name") {
        &cx.cl.info.lib_name
    } else if is(attr, "lib-ver") {
        &cx.cl.info.lib_ver
    } else {
        return Err(CmdError::Msg(format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(attr)
        )));
    };
    if value.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::Msg(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr)
        )));
    }
    *field.lock() = value.to_vec();
    cx.out.ok();
    Ok(())
}

/// CLIENT REPLY ON | OFF | SKIP. Only ON replies; dispatch drops the replies OFF and SKIP ask
/// to suppress.
fn reply(cx: &mut Ctx) -> CmdResult {
    let mode = cx.arg(2);
    if is(mode, "ON") {
        cx.cl.reply_mode = ReplyMode::On;
        cx.out.ok();
    } else if is(mode, "OFF") {
        cx.cl.reply_mode = ReplyMode::Off;
    } else if is(mode, "SKIP") {
        if cx.cl.reply_mode != ReplyMode::Off {
            cx.cl.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(SYNTAX.into());
    }
    Ok(())
}

/// CLIENT PAUSE timeout [WRITE | ALL]
fn pause(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 4 {
        return Err(CmdError::Msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(cx.arg(1))
        )));
    }
    let timeout = args::int(cx.arg(2))
        .map_err(|_| CmdError::Static("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err("ERR timeout is negative".into());
    }
    let all = match cx.args.get(3) {
        None => true,
        Some(m) if is(m, "ALL") => true,
        Some(m) if is(m, "WRITE") => false,
        Some(_) => return Err("ERR CLIENT PAUSE mode must be WRITE or ALL".into()),
    };
    let end = cx.now_ms.saturating_add(timeout);
    let p = &cx.srv.pause;
    let old_end = p.until_ms.load(Relaxed);
    if old_end != 0 && old_end > cx.now_ms {
        // A pause in force is only ever extended and strengthened, as in Redis.
        p.until_ms.store(old_end.max(end), Relaxed);
        p.all.fetch_or(all, Relaxed);
    } else {
        p.all.store(all, Relaxed);
        p.until_ms.store(end, Relaxed);
    }
    cx.out.ok();
    Ok(())
}

/// CLIENT UNPAUSE
fn unpause(cx: &mut Ctx) -> CmdResult {
    let p = &cx.srv.pause;
    p.until_ms.store(0, Relaxed);
    p.all.store(false, Relaxed);
    p.unpaused.notify_waiters();
    cx.out.ok();
    Ok(())
}

/// Sets or clears a client flag from an ON/OFF argument.
fn on_off_flag(cx: &mut Ctx, bit: u32) -> CmdResult {
    let flags = &cx.cl.info.flags;
    if is(cx.arg(2), "ON") {
        flags.fetch_or(bit, Relaxed);
    } else if is(cx.arg(2), "OFF") {
        flags.fetch_and(!bit, Relaxed);
    } else {
        return Err(SYNTAX.into());
    }
    cx.out.ok();
    Ok(())
}

/// CLIENT NO-EVICT ON | OFF
fn no_evict(cx: &mut Ctx) -> CmdResult {
    on_off_flag(cx, cflags::NO_EVICT)
}

/// CLIENT NO-TOUCH ON | OFF
fn no_touch(cx: &mut Ctx) -> CmdResult {
    on_off_flag(cx, cflags::NO_TOUCH)
}

/// CLIENT GETREDIR: the redirect target while tracking (0 without one), -1 when not tracking.
fn getredir(cx: &mut Ctx) -> CmdResult {
    let t = &cx.cl.tracking;
    let v = match (t.on, t.redirect) {
        (false, _) => -1,
        (true, None) => 0,
        (true, Some(id)) => id as i64,
    };
    cx.out.int(v);
    Ok(())
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
fn tracking(cx: &mut Ctx) -> CmdResult {
    let on = match cx.arg(2) {
        a if is(a, "on") => true,
        a if is(a, "off") => false,
        _ => return Err(SYNTAX.into()),
    };
    let mut m = crate::tracking::Mode {
        on,
        ..Default::default()
    };
    let mut i = 3;
    while i < cx.argc() {
        let a = cx.arg(i);
        let more = i + 1 < cx.argc();
        if is(a, "redirect") && more {
            if m.redirect.is_some() {
                return Err("ERR A client can only redirect to a single other client".into());
            }
            let id = args::int(cx.arg(i + 1))?;
            m.redirect = Some(id as u64);
            i += 1;
        } else if is(a, "bcast") {
            m.bcast = true;
        } else if is(a, "optin") {
            m.optin = true;
        } else if is(a, "optout") {
            m.optout = true;
        } else if is(a, "noloop") {
            m.noloop = true;
        } else if is(a, "prefix") && more {
            m.prefixes.push(cx.arg(i + 1).to_vec());
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    let srv = cx.srv;
    let id = cx.cl.info.id;
    if !on {
        srv.tracking.disable(id);
        cx.cl.tracking = Default::default();
        if !crate::families::pubsub::is_subscribed(cx.cl) {
            cx.cl.pubsub = None;
            cx.cl.push_rx = None;
        }
        cx.out.ok();
        return Ok(());
    }
    if !m.bcast && !m.prefixes.is_empty() {
        return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
    }
    if m.optin && m.optout {
        return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    if (m.optin || m.optout) && m.bcast {
        return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    crate::tracking::check_prefixes(&m.prefixes).map_err(CmdError::Msg)?;
    let sink = match m.redirect {
        Some(rid) if rid == id => crate::families::pubsub::subscriber(cx),
        Some(rid) => {
            if srv.clients.find(rid).is_none() {
                return Err("ERR The client ID you want redirect to does not exist".into());
            }
            match srv.pubsub.sink_of(rid) {
                Some(s) => s,
                // A target that neither subscribed nor tracks has nowhere to receive
                // messages yet: it must SUBSCRIBE to __redis__:invalidate (RESP2 usage).
                None => {
                    return Err(
                        "ERR The client ID you want redirect to must be subscribed to __redis__:invalidate first"
                            .into(),
                    )
                }
            }
        }
        None => crate::families::pubsub::subscriber(cx),
    };
    srv.tracking.enable(id, &m, sink);
    cx.cl.tracking = m;
    cx.out.ok();
    Ok(())
}

/// CLIENT CACHING YES|NO: whether the next command's keys are tracked (OPTIN / OPTOUT).
fn caching(cx: &mut Ctx) -> CmdResult {
    let t = &cx.cl.tracking;
    if !t.on || !(t.optin || t.optout) {
        return Err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled".into());
    }
    let a = cx.arg(2);
    if is(a, "yes") {
        if !t.optin {
            return Err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
                    .into(),
            );
        }
        cx.cl.tracking.caching = Some(true);
    } else if is(a, "no") {
        if !t.optout {
            return Err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
                    .into(),
            );
        }
        cx.cl.tracking.caching = Some(false);
    } else {
        return Err(SYNTAX.into());
    }
    cx.out.ok();
    Ok(())
}

/// CLIENT TRACKINGINFO: flags, redirect and prefixes.
fn trackinginfo(cx: &mut Ctx) -> CmdResult {
    let t = cx.cl.tracking.clone();
    let mut flags: Vec<&str> = Vec::new();
    if !t.on {
        flags.push("off");
    } else {
        flags.push("on");
        if t.bcast {
            flags.push("bcast");
        }
        if t.optin {
            flags.push("optin");
            if t.caching == Some(true) {
                flags.push("caching-yes");
            }
        }
        if t.optout {
            flags.push("optout");
            if t.caching == Some(false) {
                flags.push("caching-no");
            }
        }
        if t.noloop {
            flags.push("noloop");
        }
        if cx.srv.tracking.redirect_broken(cx.cl.info.id) {
            flags.push("broken_redirect");
        }
    }
    cx.out.map(3);
    cx.out.bulk(b"flags");
    cx.out.set(flags.len());
    for f in flags {
        cx.out.bulk(f.as_bytes());
    }
    cx.out.bulk(b"redirect");
    cx.out.int(match (t.on, t.redirect) {
        (false, _) => -1,
        (true, None) => 0,
        (true, Some(id)) => id as i64,
    });
    cx.out.bulk(b"prefixes");
    cx.out.array(t.prefixes.len());
    for p in &t.prefixes {
        cx.out.bulk(p);
    }
    Ok(())
}

/// CLIENT HELP
fn help(cx: &mut Ctx) -> CmdResult {
    reply_help(
        cx.out,
        "CLIENT",
        &[
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests;

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends a blocked command as if it timed out (default) or
/// with an -UNBLOCKED error. Replies 1 if the client was blocked, else 0.
fn unblock(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 4 {
        return Err(CmdError::Msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(cx.arg(1))
        )));
    }
    let id = args::int(cx.arg(2))?;
    let error = match cx.args.get(3) {
        None => false,
        Some(a) if is(a, "timeout") => false,
        Some(a) if is(a, "error") => true,
        Some(_) => return Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into()),
    };
    let done = id >= 0 && cx.srv.blocking.unblock(id as u64, error);
    cx.out.int(done as i64);
    Ok(())
}
