//! Transactions (Redis's multi.c): MULTI EXEC DISCARD WATCH UNWATCH.
//!
//! Between MULTI and EXEC, dispatch queues each command (after the checks that can fail
//! without running it: unknown command, arity, authentication, commands not allowed in a
//! transaction; any of those makes EXEC fail with EXECABORT) and replies +QUEUED.
//!
//! EXEC locks every shard for the whole transaction ([`tern_keyspace::Keyspace::hold_all`]),
//! so no client on any core sees or changes the keyspace between its commands; the queued
//! commands then run through dispatch unchanged (their `lock_key` calls get the held shards).
//! A runtime error inside EXEC is that command's reply; the others still run (no rollback).
//! The writes reach the replication log wrapped in MULTI ... EXEC (only if there were any),
//! as Redis propagates them. Clients blocked on keys the transaction filled are served after
//! EXEC, never in the middle of it.
//!
//! WATCH: see [`crate::watch`]. A watched key that changed, or that expired, since WATCH makes
//! EXEC reply a null array without running anything.

use crate::ctx::Ctx;
use crate::errors::CmdResult;
use crate::table::{flags::*, CommandTable, Group, Spec};
use smallvec::SmallVec;

/// The commands queued since MULTI.
#[derive(Default, Debug)]
pub struct MultiState {
    /// Each queued command's arguments.
    pub queued: Vec<Vec<Vec<u8>>>,
    /// A command failed to queue: EXEC must fail with EXECABORT.
    pub error: bool,
    /// What the queued commands hold in memory (their bytes plus a fixed cost per argument),
    /// bounded by `client-query-buffer-limit` (see dispatch).
    pub bytes: u64,
}

/// The memory a queued command is counted for: its bytes and the cost of a `Vec` per
/// argument, so a transaction of millions of empty arguments is bounded too.
pub fn queued_cost(args: &[&[u8]]) -> u64 {
    args.iter().map(|a| a.len() as u64 + 24).sum::<u64>() + 24
}

/// Commands that run at once even inside MULTI.
pub fn runs_inside_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Registers the transaction commands.
pub fn register(t: &mut CommandTable) {
    let tx = |name, arity, flags| {
        Spec::new(name, arity, flags | NOSCRIPT | LOADING | STALE).group(Group::Transactions)
    };
    t.add(
        tx("multi", 1, FAST | ALLOW_BUSY)
            .doc("1.2.0", "Starts a transaction.")
            .handler(multi),
    );
    t.add(
        tx("exec", 1, SKIP_SLOWLOG)
            .doc("1.2.0", "Executes all commands in a transaction.")
            .handler(exec),
    );
    t.add(
        tx("discard", 1, FAST | ALLOW_BUSY)
            .doc("2.0.0", "Discards a transaction.")
            .handler(discard),
    );
    t.add(
        tx("watch", -2, FAST | ALLOW_BUSY)
            .keys(1, -1, 1)
            .doc(
                "2.2.0",
                "Monitors changes to keys to determine the execution of a transaction.",
            )
            .handler(watch),
    );
    t.add(
        tx("unwatch", 1, FAST | ALLOW_BUSY)
            .doc("2.2.0", "Forgets about watched keys of a transaction.")
            .handler(unwatch),
    );
}

fn multi(cx: &mut Ctx) -> CmdResult {
    if cx.cl.multi.is_some() {
        return Err("ERR MULTI calls can not be nested".into());
    }
    cx.cl.multi = Some(MultiState::default());
    cx.out.ok();
    Ok(())
}

fn discard(cx: &mut Ctx) -> CmdResult {
    if cx.cl.multi.take().is_none() {
        return Err("ERR DISCARD without MULTI".into());
    }
    cx.srv.watch.unwatch_all(&mut cx.cl.watching);
    cx.out.ok();
    Ok(())
}

fn watch(cx: &mut Ctx) -> CmdResult {
    if cx.cl.multi.is_some() {
        return Err("ERR WATCH inside MULTI is not allowed".into());
    }
    let db = cx.db();
    for key in &cx.args[1..] {
        // Look the key up first: if it has expired, it is deleted now (touching the watchers
        // it had before us), so a later expiry can only be a change.
        {
            let (mut lk, h) = cx.lock_key(key);
            lk.lookup(db, h, key, cx.now_ms);
        }
        cx.srv.watch.watch(&mut cx.cl.watching, db, key);
    }
    cx.out.ok();
    Ok(())
}

fn unwatch(cx: &mut Ctx) -> CmdResult {
    cx.srv.watch.unwatch_all(&mut cx.cl.watching);
    cx.out.ok();
    Ok(())
}

fn exec(cx: &mut Ctx) -> CmdResult {
    let Some(m) = cx.cl.multi.take() else {
        return Err("ERR EXEC without MULTI".into());
    };
    let srv = cx.srv;
    if m.error {
        srv.watch.unwatch_all(&mut cx.cl.watching);
        return Err("EXECABORT Transaction discarded because of previous errors.".into());
    }
    let hold = srv.keyspace.hold_all();
    // A watched key that expired since WATCH counts as changed: looking it up deletes it, and
    // the deletion touches its watchers.
    let watched: Vec<(usize, Vec<u8>)> = cx.cl.watching.keys.clone();
    for (db, key) in &watched {
        let (mut lk, h) = cx.lock_key(key);
        lk.lookup(*db, h, key, cx.now_ms);
    }
    let aborted = cx.cl.watching.is_dirty();
    srv.watch.unwatch_all(&mut cx.cl.watching);
    if aborted {
        drop(hold);
        cx.out.null_array();
        return Ok(());
    }
    cx.out.array(m.queued.len());
    cx.cl.in_exec = true;
    for argv in &m.queued {
        let args: SmallVec<[&[u8]; 8]> = argv.iter().map(|a| a.as_slice()).collect();
        crate::dispatch::execute(srv, cx.cl, cx.out, &args, cx.now_ms);
    }
    if let Some(offset) = cx.cl.tx_log.end(&srv.log, cx.cl.db) {
        cx.cl.last_write = offset;
    }
    cx.cl.in_exec = false;
    drop(hold);
    // Serve clients blocked on keys the transaction gave data to.
    let ready = std::mem::take(&mut cx.cl.pending_ready);
    for (db, key) in ready {
        srv.blocking
            .serve_keys(srv, cx.cl, db, &[key.as_slice()], cx.now_ms);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testkit::{frames::*, TestDb};
    use tern_resp::Frame;

    fn simple(s: &str) -> Frame {
        Frame::Simple(s.into())
    }

    #[test]
    fn exec_runs_the_queue_and_keeps_going_after_a_runtime_error() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["MULTI"]), ok());
        assert_eq!(t.run(&["SET", "a", "x"]), simple("QUEUED"));
        assert_eq!(t.run(&["INCR", "a"]), simple("QUEUED"));
        assert_eq!(t.run(&["SET", "b", "2"]), simple("QUEUED"));
        let r = t.run(&["EXEC"]);
        assert_eq!(
            r,
            Frame::Array(vec![
                ok(),
                err("ERR value is not an integer or out of range"),
                ok()
            ])
        );
        assert_eq!(t.run(&["GET", "b"]), bulk("2"));
    }

    #[test]
    fn queuing_errors_abort_the_transaction() {
        let mut t = TestDb::new();
        t.run(&["MULTI"]);
        assert_eq!(t.run(&["MULTI"]), err("ERR MULTI calls can not be nested"));
        assert_eq!(
            t.run(&["WATCH", "x"]),
            err("ERR WATCH inside MULTI is not allowed")
        );
        t.run(&["SET", "k"]);
        t.run(&["SET", "k", "v"]);
        assert_eq!(
            t.run(&["EXEC"]),
            err("EXECABORT Transaction discarded because of previous errors.")
        );
        assert_eq!(t.run(&["EXISTS", "k"]), int(0));
        assert_eq!(t.run(&["EXEC"]), err("ERR EXEC without MULTI"));
        assert_eq!(t.run(&["DISCARD"]), err("ERR DISCARD without MULTI"));
    }

    #[test]
    fn writes_are_propagated_inside_multi_exec_and_reads_are_not() {
        let mut t = TestDb::new();
        let off = t.log_offset();
        t.run(&["MULTI"]);
        t.run(&["GET", "a"]);
        t.run(&["EXEC"]);
        assert!(t.writes_since(off).is_empty(), "{:?}", t.writes_since(off));
        t.run(&["MULTI"]);
        t.run(&["SET", "a", "1"]);
        t.run(&["GET", "a"]);
        t.run(&["EXPIRE", "a", "100"]);
        t.run(&["EXEC"]);
        let w = t.writes_since(off);
        assert_eq!(w[0], vec!["MULTI"]);
        assert_eq!(w[1], vec!["SET", "a", "1"]);
        assert_eq!(w[2][0], "PEXPIREAT");
        assert_eq!(w[3], vec!["EXEC"]);
        assert_eq!(w.len(), 4);
    }

    #[test]
    fn commands_that_wrap_their_own_effects_are_not_nested_inside_exec() {
        let mut t = TestDb::new();
        t.run(&["SADD", "s", "a", "b", "c"]);
        let off = t.log_offset();
        t.run(&["MULTI"]);
        t.run(&["SPOP", "s", "2"]);
        t.run(&["EXEC"]);
        let w = t.writes_since(off);
        let names: Vec<&str> = w.iter().map(|c| c[0].as_str()).collect();
        assert_eq!(names, ["MULTI", "SREM", "SREM", "EXEC"]);
    }

    #[test]
    fn watch_aborts_exec_after_a_change_and_not_after_a_no_op() {
        let mut t = TestDb::new();
        let mut other = TestDb::connect(t.srv.clone());
        t.run(&["SET", "w", "1"]);
        assert_eq!(t.run(&["WATCH", "w"]), ok());
        other.run(&["SET", "w", "2"]);
        t.run(&["MULTI"]);
        t.run(&["SET", "w", "3"]);
        assert_eq!(t.run(&["EXEC"]), Frame::Null);
        assert_eq!(t.run(&["GET", "w"]), bulk("2"));
        // A command that changes nothing (SET NX on an existing key) leaves the watch intact.
        t.run(&["WATCH", "w"]);
        other.run(&["SET", "w", "9", "NX"]);
        t.run(&["MULTI"]);
        t.run(&["SET", "w", "3"]);
        assert_eq!(t.run(&["EXEC"]), Frame::Array(vec![ok()]));
        // FLUSHALL touches every watched key; UNWATCH forgets them.
        t.run(&["WATCH", "w"]);
        other.run(&["FLUSHALL"]);
        t.run(&["MULTI"]);
        assert_eq!(t.run(&["EXEC"]), Frame::Null);
        t.run(&["WATCH", "w"]);
        other.run(&["SET", "w", "5"]);
        t.run(&["UNWATCH"]);
        t.run(&["MULTI"]);
        assert_eq!(t.run(&["EXEC"]), Frame::Array(vec![]));
        assert!(!t.srv.watch.any());
    }

    #[test]
    fn exec_holds_every_shard_of_a_multi_shard_keyspace() {
        let mut t = TestDb::with_workers(4);
        assert!(t.srv.keyspace.shard_count() > 1);
        t.run(&["MULTI"]);
        for i in 0..50 {
            t.run(&["SET", &format!("k{i}"), &i.to_string()]);
        }
        t.run(&["MSET", "a", "1", "b", "2", "c", "3"]);
        t.run(&["DBSIZE"]);
        t.run(&["KEYS", "a"]);
        let Frame::Array(items) = t.run(&["EXEC"]) else {
            panic!("EXEC reply is not an array")
        };
        assert_eq!(items.len(), 53);
        assert_eq!(items[51], int(53));
        assert!(!t.srv.keyspace.held_here());
        assert_eq!(t.run(&["GET", "k49"]), bulk("49"));
    }
}
