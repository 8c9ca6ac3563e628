//! Pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH SSUBSCRIBE
//! SUNSUBSCRIBE SPUBLISH PUBSUB (CHANNELS NUMSUB NUMPAT SHARDCHANNELS SHARDNUMSUB HELP).
//!
//! A RESP2 client with subscriptions is in "subscribed mode": dispatch refuses everything but
//! the (un)subscribe commands, PING, QUIT and RESET, with Redis's error, and PING answers
//! `["pong", message]`. RESP3 clients may run any command; their messages and confirmations
//! are push frames. PUBLISH is propagated (replicas' subscribers receive it too), as in Redis.

use crate::clients::cflags;
use crate::ctx::{Client, Ctx};
use crate::errors::CmdResult;
use crate::pubsub::{Kind, Subscriber};
use crate::table::{flags::*, CommandTable, Group, Spec};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Registers the pub/sub commands.
pub fn register(t: &mut CommandTable) {
    let ps = |name, arity, flags| {
        Spec::new(name, arity, flags | PUBSUB | NOSCRIPT | LOADING | STALE).group(Group::PubSub)
    };
    t.add(
        ps("subscribe", -2, 0)
            .doc("2.0.0", "Listens for messages published to channels.")
            .handler(subscribe),
    );
    t.add(
        ps("unsubscribe", -1, 0)
            .doc("2.0.0", "Stops listening to messages posted to channels.")
            .handler(unsubscribe),
    );
    t.add(
        ps("psubscribe", -2, 0)
            .doc(
                "2.0.0",
                "Listens for messages published to channels that match one or more patterns.",
            )
            .handler(psubscribe),
    );
    t.add(
        ps("punsubscribe", -1, 0)
            .doc("2.0.0", "Stops listening to messages published to channels that match one or more patterns.")
            .handler(punsubscribe),
    );
    t.add(
        ps("ssubscribe", -2, 0)
            .keys(1, -1, 1)
            .doc("7.0.0", "Listens for messages published to shard channels.")
            .handler(ssubscribe),
    );
    t.add(
        ps("sunsubscribe", -1, 0)
            .keys(1, -1, 1)
            .doc(
                "7.0.0",
                "Stops listening to messages posted to shard channels.",
            )
            .handler(sunsubscribe),
    );
    t.add(
        Spec::new("publish", 3, PUBSUB | LOADING | STALE | FAST)
            .group(Group::PubSub)
            .doc("2.0.0", "Posts a message to a channel.")
            .handler(publish),
    );
    t.add(
        Spec::new("spublish", 3, PUBSUB | LOADING | STALE | FAST)
            .group(Group::PubSub)
            .keys(1, 1, 1)
            .doc("7.0.0", "Post a message to a shard channel")
            .handler(spublish),
    );
    let sub = |name: &str, arity, since, summary, h| {
        Spec::new(name, arity, PUBSUB | LOADING | STALE)
            .group(Group::PubSub)
            .doc(since, summary)
            .handler(h)
    };
    t.add(
        Spec::new("pubsub", -2, 0)
            .group(Group::PubSub)
            .doc("2.8.0", "A container for Pub/Sub commands.")
            .subcommand(sub(
                "channels",
                -2,
                "2.8.0",
                "Returns the active channels.",
                channels,
            ))
            .subcommand(sub(
                "numsub",
                -2,
                "2.8.0",
                "Returns a count of subscribers to channels.",
                numsub,
            ))
            .subcommand(sub(
                "numpat",
                2,
                "2.8.0",
                "Returns a count of unique pattern subscriptions.",
                numpat,
            ))
            .subcommand(sub(
                "shardchannels",
                -2,
                "7.0.0",
                "Returns the active shard channels.",
                shardchannels,
            ))
            .subcommand(sub(
                "shardnumsub",
                -2,
                "7.0.0",
                "Returns the count of subscribers of shard channels.",
                shardnumsub,
            ))
            .subcommand(sub(
                "help",
                2,
                "6.2.0",
                "Returns helpful text about the different subcommands.",
                help,
            )),
    );
}

/// Commands a RESP2 client may run while subscribed.
pub fn allowed_when_subscribed(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// True if the client has any subscription (RESP2 subscribed mode when it speaks RESP2).
pub fn is_subscribed(cl: &Client) -> bool {
    !cl.subs.is_empty() || !cl.psubs.is_empty() || !cl.ssubs.is_empty()
}

/// The client's message sink, created on its first subscription (or CLIENT TRACKING).
pub fn subscriber(cx: &mut Ctx) -> Arc<Subscriber> {
    if let Some(s) = &cx.cl.pubsub {
        s.resp3.store(cx.out.resp3(), Relaxed);
        return s.clone();
    }
    let (s, rx) = Subscriber::new(cx.cl.info.clone(), cx.out.resp3());
    cx.srv.pubsub.register_sink(&s);
    cx.cl.pubsub = Some(s.clone());
    cx.cl.push_rx = Some(rx);
    s
}

fn list_of(cl: &mut Client, kind: Kind) -> &mut Vec<Vec<u8>> {
    match kind {
        Kind::Channel => &mut cl.subs,
        Kind::Pattern => &mut cl.psubs,
        Kind::Shard => &mut cl.ssubs,
    }
}

/// The count a (un)subscribe confirmation carries: channels + patterns, or shard channels.
fn count(cl: &Client, kind: Kind) -> i64 {
    match kind {
        Kind::Shard => cl.ssubs.len() as i64,
        _ => (cl.subs.len() + cl.psubs.len()) as i64,
    }
}

fn sync_info(cl: &Client) {
    cl.info.sub.store(cl.subs.len() as i64, Relaxed);
    cl.info.psub.store(cl.psubs.len() as i64, Relaxed);
    cl.info.ssub.store(cl.ssubs.len() as i64, Relaxed);
    if is_subscribed(cl) {
        cl.info.flags.fetch_or(cflags::PUBSUB, Relaxed);
    } else {
        cl.info.flags.fetch_and(!cflags::PUBSUB, Relaxed);
    }
}

fn confirm(cx: &mut Ctx, word: &str, name: Option<&[u8]>, kind: Kind) {
    cx.out.push(3);
    cx.out.bulk(word.as_bytes());
    match name {
        Some(n) => cx.out.bulk(n),
        None => cx.out.null(),
    }
    let n = count(cx.cl, kind);
    cx.out.int(n);
}

fn subscribe_generic(cx: &mut Ctx, kind: Kind, word: &str) -> CmdResult {
    let s = subscriber(cx);
    for name in &cx.args[1..] {
        if cx.srv.pubsub.subscribe(kind, name, &s) {
            list_of(cx.cl, kind).push(name.to_vec());
        }
        confirm(cx, word, Some(name), kind);
    }
    sync_info(cx.cl);
    Ok(())
}

fn unsubscribe_generic(cx: &mut Ctx, kind: Kind, word: &str) -> CmdResult {
    let names: Vec<Vec<u8>> = if cx.argc() > 1 {
        cx.args[1..].iter().map(|a| a.to_vec()).collect()
    } else {
        list_of(cx.cl, kind).clone()
    };
    if names.is_empty() {
        confirm(cx, word, None, kind);
        return Ok(());
    }
    for name in names {
        if let Some(s) = cx.cl.pubsub.clone() {
            cx.srv.pubsub.unsubscribe(kind, &name, &s);
        }
        list_of(cx.cl, kind).retain(|n| *n != name);
        confirm(cx, word, Some(&name), kind);
    }
    sync_info(cx.cl);
    Ok(())
}

/// Drops every subscription of a client (RESET, disconnect).
pub fn unsubscribe_all(srv: &crate::server::Server, cl: &mut Client) {
    let tracking = cl.tracking.on;
    if let Some(s) = cl.pubsub.clone() {
        for (kind, names) in [
            (Kind::Channel, std::mem::take(&mut cl.subs)),
            (Kind::Pattern, std::mem::take(&mut cl.psubs)),
            (Kind::Shard, std::mem::take(&mut cl.ssubs)),
        ] {
            for n in names {
                srv.pubsub.unsubscribe(kind, &n, &s);
            }
        }
    }
    if !tracking {
        cl.pubsub = None;
        cl.push_rx = None;
    }
    sync_info(cl);
}

fn subscribe(cx: &mut Ctx) -> CmdResult {
    subscribe_generic(cx, Kind::Channel, "subscribe")
}

fn psubscribe(cx: &mut Ctx) -> CmdResult {
    subscribe_generic(cx, Kind::Pattern, "psubscribe")
}

fn ssubscribe(cx: &mut Ctx) -> CmdResult {
    subscribe_generic(cx, Kind::Shard, "ssubscribe")
}

fn unsubscribe(cx: &mut Ctx) -> CmdResult {
    unsubscribe_generic(cx, Kind::Channel, "unsubscribe")
}

fn punsubscribe(cx: &mut Ctx) -> CmdResult {
    unsubscribe_generic(cx, Kind::Pattern, "punsubscribe")
}

fn sunsubscribe(cx: &mut Ctx) -> CmdResult {
    unsubscribe_generic(cx, Kind::Shard, "sunsubscribe")
}

fn publish_generic(cx: &mut Ctx, kind: Kind) -> CmdResult {
    let n = cx.srv.publish(kind, cx.arg(1), cx.arg(2), cx.now_ms);
    // Replicas deliver the message to their own subscribers. (A replica applying its
    // primary's PUBLISH passes the primary's bytes on instead.)
    if cx.cl.in_exec {
        if let Some(offset) = cx.cl.tx_log.write(&cx.srv.log, cx.cl.db, cx.args) {
            cx.cl.last_write = offset;
        }
    } else if !cx.cl.replaying {
        cx.cl.last_write = cx.srv.log.append(cx.cl.db, cx.args);
    }
    cx.out.int(n as i64);
    Ok(())
}

/// PUBLISH channel message
fn publish(cx: &mut Ctx) -> CmdResult {
    publish_generic(cx, Kind::Channel)
}

/// SPUBLISH shardchannel message
fn spublish(cx: &mut Ctx) -> CmdResult {
    publish_generic(cx, Kind::Shard)
}

fn active(cx: &mut Ctx, kind: Kind) -> CmdResult {
    if cx.argc() > 3 {
        return Err(crate::errors::CmdError::Msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(cx.arg(1))
        )));
    }
    let names = cx.srv.pubsub.active(kind, cx.args.get(2).copied());
    cx.out.array(names.len());
    for n in names {
        cx.out.bulk(&n);
    }
    Ok(())
}

/// PUBSUB CHANNELS [pattern]
fn channels(cx: &mut Ctx) -> CmdResult {
    active(cx, Kind::Channel)
}

/// PUBSUB SHARDCHANNELS [pattern]
fn shardchannels(cx: &mut Ctx) -> CmdResult {
    active(cx, Kind::Shard)
}

fn numsub_generic(cx: &mut Ctx, kind: Kind) -> CmdResult {
    let names = &cx.args[2..];
    // A flat list of name, count (in RESP3 too, as Redis 7.0 replies).
    cx.out.array(names.len() * 2);
    for n in names {
        cx.out.bulk(n);
        cx.out.int(cx.srv.pubsub.numsub(kind, n) as i64);
    }
    Ok(())
}

/// PUBSUB NUMSUB [channel ...]
fn numsub(cx: &mut Ctx) -> CmdResult {
    numsub_generic(cx, Kind::Channel)
}

/// PUBSUB SHARDNUMSUB [shardchannel ...]
fn shardnumsub(cx: &mut Ctx) -> CmdResult {
    numsub_generic(cx, Kind::Shard)
}

/// PUBSUB NUMPAT
fn numpat(cx: &mut Ctx) -> CmdResult {
    let (_, patterns, _) = cx.srv.pubsub.counts();
    cx.out.int(patterns as i64);
    Ok(())
}

fn help(cx: &mut Ctx) -> CmdResult {
    crate::families::command::reply_help(
        cx.out,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}
