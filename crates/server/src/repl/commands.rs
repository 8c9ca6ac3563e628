//! Replication commands: REPLCONF PSYNC SYNC REPLICAOF SLAVEOF ROLE WAIT.

use std::sync::atomic::Ordering::Relaxed;

use crate::args::is;
use crate::ctx::Ctx;
use crate::errors::{CmdError, CmdResult, SYNTAX};
use crate::table::{flags::*, CommandTable, Group, Spec};

use super::primary::{self, Handoff};
use super::state;

/// Registers the replication commands.
pub fn register(t: &mut CommandTable) {
    let s = |name, arity, flags| Spec::new(name, arity, flags).group(Group::Server);
    t.add(
        s(
            "replconf",
            -1,
            ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        )
        .doc(
            "3.0.0",
            "An internal command for configuring the replication stream.",
        )
        .handler(replconf),
    );
    t.add(
        s("psync", -3, ADMIN | NOSCRIPT | NO_MULTI)
            .doc("2.8.0", "An internal command used in replication.")
            .handler(psync),
    );
    t.add(
        s("sync", 1, ADMIN | NOSCRIPT | NO_MULTI)
            .doc("1.0.0", "An internal command used in replication.")
            .handler(sync),
    );
    t.add(
        s("role", 1, NOSCRIPT | LOADING | STALE | FAST)
            .acl(&["@admin", "@dangerous"])
            .doc("2.8.12", "Returns the replication role.")
            .handler(role),
    );
    for name in ["replicaof", "slaveof"] {
        t.add(
            s(name, 3, ADMIN | NOSCRIPT | STALE)
                .doc(
                    "5.0.0",
                    "Configures a server as replica of another, or promotes it to a master.",
                )
                .handler(replicaof),
        );
    }
    t.add(
        s("failover", -1, ADMIN | NOSCRIPT | STALE)
            .doc(
                "6.2.0",
                "Starts a coordinated failover from a server to one of its replicas.",
            )
            .handler(failover),
    );
    t.add(
        s("wait", 3, NOSCRIPT)
            .acl(&["@connection"])
            .doc("3.0.0", "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.")
            .handler(wait),
    );
}

/// REPLCONF option value [option value ...]
fn replconf(cx: &mut Ctx) -> CmdResult {
    if cx.argc().is_multiple_of(2) {
        return Err(SYNTAX.into());
    }
    let mut i = 1;
    while i < cx.argc() {
        let (opt, val) = (cx.arg(i), cx.arg(i + 1));
        if is(opt, "listening-port") {
            let port = crate::args::int(val)
                .map_err(|_| CmdError::Static("ERR value is not an integer or out of range"))?;
            cx.cl.repl_conf.listening_port = port.clamp(0, 65535) as u16;
        } else if is(opt, "ip-address") {
            cx.cl.repl_conf.ip_address = Some(String::from_utf8_lossy(val).into_owned());
        } else if is(opt, "capa") {
            if is(val, "eof") {
                cx.cl.repl_conf.capa_eof = true;
            } else if is(val, "psync2") {
                cx.cl.repl_conf.capa_psync2 = true;
            }
        } else if is(opt, "ack") {
            // ACKs arrive on the replica link, which reads them itself; never a reply.
            return Ok(());
        } else if is(opt, "getack") {
            // Only meaningful from our primary, which the replica link answers.
            return Ok(());
        } else if is(opt, "rdb-only") || is(opt, "rdb-filter-only") {
        } else {
            return Err(CmdError::Msg(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            )));
        }
        i += 2;
    }
    cx.out.ok();
    Ok(())
}

fn refuse_without_link(cx: &Ctx) -> CmdResult {
    if cx.srv.repl.is_replica() && !super::replica::link_up(cx.srv) {
        return Err(CmdError::Static(
            "NOMASTERLINK Can't SYNC while not connected with my master",
        ));
    }
    Ok(())
}

/// PSYNC replid offset [FAILOVER]
fn psync(cx: &mut Ctx) -> CmdResult {
    if cx.argc() == 4 && is(cx.arg(3), "FAILOVER") {
        // Our primary hands over: it is in sync with us, so it asks with our replid.
        if !cx.srv.repl.is_replica() {
            return Err(CmdError::Static(
                "ERR PSYNC FAILOVER can't be sent to a master.",
            ));
        }
        if cx.arg(1) != cx.srv.replid.read().as_bytes() {
            return Err(CmdError::Static(
                "ERR PSYNC FAILOVER replid must match my replid.",
            ));
        }
        tracing::info!(addr = %cx.cl.info.addr, "Failover request received for replid {}", String::from_utf8_lossy(cx.arg(1)));
        super::replica::promote(cx.srv);
    } else if cx.argc() != 3 {
        return Err(SYNTAX.into());
    }
    refuse_without_link(cx)?;
    if cx.cl.handoff.is_some() {
        return Ok(());
    }
    let h = primary::decide(cx.srv, cx.arg(1), cx.arg(2));
    tracing::info!(
        client = cx.cl.info.id,
        addr = %cx.cl.info.addr,
        "Replica asks for synchronization ({})",
        match &h {
            Handoff::Partial { .. } => "partial",
            Handoff::Full { .. } => "full",
        }
    );
    cx.cl.handoff = Some(h);
    Ok(())
}

/// SYNC (pre-PSYNC replicas): a full sync without the +FULLRESYNC line.
fn sync(cx: &mut Ctx) -> CmdResult {
    refuse_without_link(cx)?;
    if cx.cl.handoff.is_none() {
        cx.srv.repl.sync_full.fetch_add(1, Relaxed);
        cx.cl.handoff = Some(Handoff::Full { psync: false });
    }
    Ok(())
}

/// ROLE
fn role(cx: &mut Ctx) -> CmdResult {
    if let Some(up) = super::replica::upstream(cx.srv) {
        cx.out.array(5);
        cx.out.bulk(b"slave");
        cx.out.bulk(up.host.as_bytes());
        cx.out.int(up.port as i64);
        cx.out.bulk(up.state_name().as_bytes());
        cx.out.int(cx.srv.log.offset() as i64);
        return Ok(());
    }
    let links = cx.srv.repl.links();
    cx.out.array(3);
    cx.out.bulk(b"master");
    cx.out.int(cx.srv.log.offset() as i64);
    let online: Vec<_> = links
        .iter()
        .filter(|l| l.state.load(Relaxed) == state::ONLINE)
        .collect();
    cx.out.array(online.len());
    for l in online {
        cx.out.array(3);
        cx.out.bulk(l.ip.as_bytes());
        cx.out.bulk(l.port.to_string().as_bytes());
        cx.out
            .bulk(l.ack_offset.load(Relaxed).to_string().as_bytes());
    }
    Ok(())
}

/// REPLICAOF host port | NO ONE
fn replicaof(cx: &mut Ctx) -> CmdResult {
    if is(cx.arg(1), "NO") && is(cx.arg(2), "ONE") {
        super::replica::promote(cx.srv);
        cx.out.ok();
        return Ok(());
    }
    let port = crate::args::int(cx.arg(2))
        .ok()
        .filter(|p| (0..=65535).contains(p))
        .ok_or(CmdError::Static("ERR Invalid master port"))?;
    let host = String::from_utf8_lossy(cx.arg(1)).into_owned();
    if super::replica::upstream(cx.srv).is_some_and(|u| u.host == host && u.port == port as u16) {
        cx.out.simple("OK Already connected to specified master");
        return Ok(());
    }
    super::replica::follow(cx.srv, host, port as u16);
    cx.out.ok();
    Ok(())
}

/// WAIT numreplicas timeout: how many replicas acknowledged this client's writes, once
/// `numreplicas` did or `timeout` ms passed (0: no limit). The connection waits (see conn.rs).
fn wait(cx: &mut Ctx) -> CmdResult {
    if cx.srv.repl.is_replica() {
        return Err(CmdError::Static(
            "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
        ));
    }
    let n = crate::args::int(cx.arg(1))
        .map_err(|_| CmdError::Static("ERR value is not an integer or out of range"))?;
    let timeout = crate::args::int(cx.arg(2))
        .map_err(|_| CmdError::Static("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CmdError::Static("ERR timeout is negative"));
    }
    let offset = cx.cl.last_write;
    let acked = cx.srv.repl.acked(offset);
    if acked as i64 >= n || cx.cl.in_exec {
        cx.out.int(acked as i64);
        return Ok(());
    }
    // Ask the replicas for an ACK now rather than at their next one-second tick.
    cx.srv.log.append_nodb(&[b"REPLCONF", b"GETACK", b"*"]);
    cx.cl.wait_repl = Some(crate::ctx::WaitRepl {
        numreplicas: n.max(0) as usize,
        offset,
        deadline_ms: (timeout > 0).then(|| cx.now_ms + timeout),
    });
    Ok(())
}

/// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]
fn failover(cx: &mut Ctx) -> CmdResult {
    use super::failover::{fstate, Request};
    let (mut to, mut force, mut abort, mut timeout) = (None, false, false, 0u64);
    let mut i = 1;
    while i < cx.argc() {
        let a = cx.arg(i);
        if is(a, "TO") && i + 2 < cx.argc() && to.is_none() {
            let port = crate::args::int(cx.arg(i + 2))
                .ok()
                .filter(|p| (0..=65535).contains(p))
                .ok_or(CmdError::Static("ERR Invalid port"))?;
            to = Some((
                String::from_utf8_lossy(cx.arg(i + 1)).into_owned(),
                port as u16,
            ));
            i += 3;
        } else if is(a, "FORCE") && !force {
            force = true;
            i += 1;
        } else if is(a, "ABORT") && !abort {
            abort = true;
            i += 1;
        } else if is(a, "TIMEOUT") && i + 1 < cx.argc() {
            let t = crate::args::int(cx.arg(i + 1))
                .ok()
                .filter(|t| *t > 0)
                .ok_or(CmdError::Static(
                    "ERR FAILOVER timeout must be greater than 0",
                ))?;
            timeout = t as u64;
            i += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    let repl = &cx.srv.repl;
    if abort {
        if force || to.is_some() || timeout > 0 {
            return Err(CmdError::Static(
                "ERR FAILOVER abort cannot be used with other options.",
            ));
        }
        if repl.failover_state.load(Relaxed) == fstate::NONE {
            return Err(CmdError::Static("ERR No failover in progress."));
        }
        repl.failover_abort.store(true, Relaxed);
        cx.out.ok();
        return Ok(());
    }
    if force && (to.is_none() || timeout == 0) {
        return Err(CmdError::Static(
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
        ));
    }
    if repl.is_replica() {
        return Err(CmdError::Static(
            "ERR FAILOVER is not valid when server is a replica.",
        ));
    }
    let links = repl.links();
    if links.is_empty() {
        return Err(CmdError::Static(
            "ERR FAILOVER requires connected replicas.",
        ));
    }
    if repl.failover_state.load(Relaxed) != fstate::NONE {
        return Err(CmdError::Static("ERR FAILOVER already in progress."));
    }
    if let Some((h, p)) = &to {
        if !links
            .iter()
            .any(|l| l.ip == *h && l.port == *p && l.state.load(Relaxed) == state::ONLINE)
        {
            return Err(CmdError::Static(
                "ERR FAILOVER target HOST and PORT is not a replica.",
            ));
        }
    }
    super::failover::start(
        cx.srv,
        Request {
            to,
            force,
            timeout_ms: timeout,
        },
    );
    cx.out.ok();
    Ok(())
}
