//! Connection commands: PING ECHO QUIT RESET HELLO AUTH SELECT.

use crate::args::{self, is};
use crate::ctx::{Ctx, ReplyMode};
use crate::errors::{CmdError, CmdResult, DB_INDEX, SYNTAX, WRONGPASS};
use crate::server::REDIS_VERSION;
use crate::table::{flags::*, CommandTable, Group, Spec};
use std::sync::atomic::Ordering::Relaxed;
use tern_resp::Proto;

/// Registers the connection commands.
pub fn register(t: &mut CommandTable) {
    let c = |name, arity, flags| Spec::new(name, arity, flags).group(Group::Connection);
    t.add(
        c("ping", -1, FAST | SKIP_SLOWLOG)
            .doc("1.0.0", "Returns the server's liveliness response.")
            .handler(ping),
    );
    t.add(
        c("echo", 2, FAST)
            .doc("1.0.0", "Returns the given string.")
            .handler(echo),
    );
    t.add(
        c("quit", -1, ALLOW_BUSY | NO_AUTH | LOADING | STALE | FAST)
            .doc("1.0.0", "Closes the connection.")
            .handler(quit),
    );
    t.add(
        c(
            "reset",
            1,
            NOSCRIPT | LOADING | STALE | NO_AUTH | ALLOW_BUSY | FAST,
        )
        .doc("6.2.0", "Resets the connection.")
        .handler(reset),
    );
    t.add(
        c(
            "hello",
            -1,
            NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        )
        .doc("6.0.0", "Handshakes with the Redis server.")
        .handler(hello),
    );
    t.add(
        c(
            "auth",
            -2,
            NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        )
        .doc("1.0.0", "Authenticates the connection.")
        .handler(auth),
    );
    t.add(
        c("select", 2, LOADING | STALE | FAST)
            .doc("1.0.0", "Changes the selected database.")
            .handler(select),
    );
}

/// PING [message]
fn ping(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 2 {
        return Err(CmdError::arity("ping"));
    }
    if !cx.out.resp3() && crate::families::pubsub::is_subscribed(cx.cl) {
        // Subscribed mode (RESP2): the reply is shaped like a message.
        cx.out.array(2);
        cx.out.bulk(b"pong");
        cx.out.bulk(cx.args.get(1).copied().unwrap_or(b""));
        return Ok(());
    }
    match cx.args.get(1) {
        None => cx.out.simple("PONG"),
        Some(m) => cx.out.bulk(m),
    }
    Ok(())
}

/// ECHO message
fn echo(cx: &mut Ctx) -> CmdResult {
    cx.out.bulk(cx.arg(1));
    Ok(())
}

/// QUIT
fn quit(cx: &mut Ctx) -> CmdResult {
    cx.out.ok();
    cx.cl.close_after_reply = true;
    Ok(())
}

/// RESET
fn reset(cx: &mut Ctx) -> CmdResult {
    cx.cl.db = 0;
    cx.cl.info.db.store(0, Relaxed);
    cx.out.proto = Proto::Resp2;
    cx.cl.info.resp.store(2, Relaxed);
    cx.cl.reply_mode = ReplyMode::On;
    cx.cl.info.name.lock().clear();
    cx.cl.multi = None;
    cx.srv.watch.unwatch_all(&mut cx.cl.watching);
    cx.srv.tracking.disable(cx.cl.info.id);
    cx.cl.tracking = Default::default();
    crate::families::pubsub::unsubscribe_all(cx.srv, cx.cl);
    if cx.cl.monitor {
        cx.cl.monitor = false;
        cx.cl.monitor_rx = None;
        crate::families::server::remove_monitor(cx.srv);
    }
    // Back to the default user, authenticated only if it needs no password (Redis's
    // clientSetDefaultAuth).
    if !cx.cl.acl_internal {
        let epoch = cx.srv.acl.epoch.load(Relaxed);
        let u = cx.srv.acl.default_user();
        let auth = u.nopass && u.on;
        cx.cl.set_user(u, epoch);
        cx.cl.authenticated = auth;
        cx.cl.info.authenticated.store(auth, Relaxed);
    }
    cx.out.simple("RESET");
    Ok(())
}

/// Authenticates the client as `user` (the default user when None), or records the failure
/// in the ACL log (reason `auth`, object the command's name as sent) and returns WRONGPASS.
fn authenticate(cx: &mut Ctx, user: Option<&[u8]>, pass: &[u8]) -> Result<(), CmdError> {
    let name = user.unwrap_or(b"default");
    let epoch = cx.srv.acl.epoch.load(Relaxed);
    match cx.srv.acl.get(name) {
        Some(u) if u.password_ok(pass) => {
            cx.cl.set_user(u, epoch);
            cx.cl.authenticated = true;
            cx.cl.info.authenticated.store(true, Relaxed);
            Ok(())
        }
        _ => {
            let context = if cx.cl.in_exec || cx.cl.multi.is_some() {
                "multi"
            } else {
                "toplevel"
            };
            crate::acl::log_event(
                cx.srv, cx.cl, cx.spec, cx.args, "auth", context, cx.args[0], name, cx.now_ms,
            );
            Err(WRONGPASS.into())
        }
    }
}

/// AUTH [username] password
fn auth(cx: &mut Ctx) -> CmdResult {
    let (user, pass) = match cx.argc() {
        2 => (None, cx.arg(1)),
        3 => (Some(cx.arg(1)), cx.arg(2)),
        _ => return Err(SYNTAX.into()),
    };
    if user.is_none() && cx.srv.acl.default_user().nopass {
        return Err(CmdError::Static(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ));
    }
    authenticate(cx, user, pass)?;
    cx.out.ok();
    Ok(())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(cx: &mut Ctx) -> CmdResult {
    let mut proto = None;
    let mut i = 1;
    if cx.argc() >= 2 {
        let v = args::int(cx.arg(1)).map_err(|_| {
            CmdError::Static("ERR Protocol version is not an integer or out of range")
        })?;
        if !(2..=3).contains(&v) {
            return Err("NOPROTO unsupported protocol version".into());
        }
        proto = Some(v);
        i = 2;
    }
    let mut setname = None;
    while i < cx.argc() {
        let left = cx.argc() - i - 1;
        if is(cx.arg(i), "AUTH") && left >= 2 {
            authenticate(cx, Some(cx.arg(i + 1)), cx.arg(i + 2))?;
            i += 3;
        } else if is(cx.arg(i), "SETNAME") && left >= 1 {
            let name = cx.arg(i + 1);
            crate::families::server::validate_client_name(name)?;
            setname = Some(name);
            i += 2;
        } else {
            return Err(CmdError::Msg(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(cx.arg(i))
            )));
        }
    }
    if !cx.cl.authenticated {
        return Err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into());
    }
    if let Some(name) = setname {
        *cx.cl.info.name.lock() = name.to_vec();
    }
    if let Some(p) = proto {
        cx.out.proto = if p == 3 { Proto::Resp3 } else { Proto::Resp2 };
        if let Some(s) = &cx.cl.pubsub {
            s.resp3.store(p == 3, Relaxed);
        }
        cx.cl.info.resp.store(p as u8, Relaxed);
    }
    let out = &mut *cx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if out.resp3() { 3 } else { 2 });
    out.bulk(b"id");
    out.int(cx.cl.info.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

/// SELECT index
fn select(cx: &mut Ctx) -> CmdResult {
    let db = args::int(cx.arg(1))?;
    if db < 0 || db as usize >= cx.srv.keyspace.databases() {
        return Err(DB_INDEX.into());
    }
    cx.cl.db = db as usize;
    cx.cl.info.db.store(db as usize, Relaxed);
    cx.out.ok();
    Ok(())
}
