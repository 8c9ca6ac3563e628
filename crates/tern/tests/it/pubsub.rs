//! Pub/sub with raw connections and the `redis` crate; all pass against redis-server too
//! (`TERN_IT_SERVER=redis`).

use crate::harness::*;
use std::time::{Duration, Instant};

fn b(s: &str) -> Resp {
    Resp::bulk(s)
}

fn arr(items: Vec<Resp>) -> Resp {
    Resp::Array(Some(items))
}

fn send(c: &mut Raw, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&encode(&a));
}

/// Waits until PUBSUB NUMSUB says `channel` has `n` subscribers.
fn wait_numsub(srv: &TestServer, channel: &str, n: i64) {
    let ok = wait_for(
        || items(&srv.must_cmd(&["PUBSUB", "NUMSUB", channel])).get(1) == Some(&int(n)),
        Duration::from_secs(10),
    );
    assert!(ok, "{channel} never had {n} subscribers");
}

#[test]
fn subscribe_publish_and_unsubscribe_in_resp2() {
    let srv = TestServer::start();
    let mut s = srv.raw_conn();
    send(&mut s, &["SUBSCRIBE", "news", "sport"]);
    assert_eq!(
        s.read_reply(),
        arr(vec![b("subscribe"), b("news"), Resp::Int(1)])
    );
    assert_eq!(
        s.read_reply(),
        arr(vec![b("subscribe"), b("sport"), Resp::Int(2)])
    );
    send(&mut s, &["PSUBSCRIBE", "n*"]);
    assert_eq!(
        s.read_reply(),
        arr(vec![b("psubscribe"), b("n*"), Resp::Int(3)])
    );
    let mut p = srv.client();
    assert_eq!(ok(&mut p, &["PUBLISH", "news", "hello"]), int(2));
    assert_eq!(ok(&mut p, &["PUBLISH", "nothing-here", "x"]), int(1));
    assert_eq!(ok(&mut p, &["PUBLISH", "weather", "x"]), int(0));
    assert_eq!(
        s.read_reply(),
        arr(vec![b("message"), b("news"), b("hello")])
    );
    assert_eq!(
        s.read_reply(),
        arr(vec![b("pmessage"), b("n*"), b("news"), b("hello")])
    );
    assert_eq!(
        s.read_reply(),
        arr(vec![b("pmessage"), b("n*"), b("nothing-here"), b("x")])
    );
    // Subscribed mode: only (un)subscribe, PING, QUIT, RESET.
    assert_eq!(
        s.cmd(&["GET", "k"]),
        Resp::Error(
            "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context".into()
        )
    );
    assert_eq!(s.cmd(&["PING"]), arr(vec![b("pong"), b("")]));
    assert_eq!(s.cmd(&["PING", "hi"]), arr(vec![b("pong"), b("hi")]));
    send(&mut s, &["PUNSUBSCRIBE"]);
    assert_eq!(
        s.read_reply(),
        arr(vec![b("punsubscribe"), b("n*"), Resp::Int(2)])
    );
    send(&mut s, &["UNSUBSCRIBE", "news"]);
    assert_eq!(
        s.read_reply(),
        arr(vec![b("unsubscribe"), b("news"), Resp::Int(1)])
    );
    send(&mut s, &["UNSUBSCRIBE"]);
    assert_eq!(
        s.read_reply(),
        arr(vec![b("unsubscribe"), b("sport"), Resp::Int(0)])
    );
    send(&mut s, &["UNSUBSCRIBE"]);
    assert_eq!(
        s.read_reply(),
        arr(vec![b("unsubscribe"), Resp::Bulk(None), Resp::Int(0)])
    );
    // Out of subscribed mode: normal commands again.
    assert_eq!(s.cmd(&["PING"]), Resp::Simple("PONG".into()));
}

#[test]
fn resp3_subscribers_get_pushes_and_may_run_commands() {
    let srv = TestServer::start();
    let mut s = srv.raw_conn();
    s.cmd(&["HELLO", "3"]);
    send(&mut s, &["SUBSCRIBE", "c"]);
    assert_eq!(
        s.read_reply(),
        Resp::Push(vec![b("subscribe"), b("c"), Resp::Int(1)])
    );
    assert_eq!(s.cmd(&["SET", "k", "v"]), Resp::Simple("OK".into()));
    assert_eq!(s.cmd(&["GET", "k"]), b("v"));
    let mut p = srv.client();
    assert_eq!(ok(&mut p, &["PUBLISH", "c", "m"]), int(1));
    assert_eq!(
        s.read_reply(),
        Resp::Push(vec![b("message"), b("c"), b("m")])
    );
    send(&mut s, &["SSUBSCRIBE", "sc"]);
    assert_eq!(
        s.read_reply(),
        Resp::Push(vec![b("ssubscribe"), b("sc"), Resp::Int(1)])
    );
    assert_eq!(ok(&mut p, &["SPUBLISH", "sc", "sm"]), int(1));
    assert_eq!(ok(&mut p, &["PUBLISH", "sc", "not-shard"]), int(0));
    assert_eq!(
        s.read_reply(),
        Resp::Push(vec![b("smessage"), b("sc"), b("sm")])
    );
}

#[test]
fn patterns_match_as_redis_globs() {
    let srv = TestServer::start();
    let mut s = srv.raw_conn();
    for (i, p) in ["h?llo", "h[ae]llo", "h[^e]llo", "h\\*llo", "x[a-c]"]
        .iter()
        .enumerate()
    {
        send(&mut s, &["PSUBSCRIBE", p]);
        assert_eq!(
            s.read_reply(),
            arr(vec![b("psubscribe"), b(p), Resp::Int(i as i64 + 1)])
        );
    }
    let mut p = srv.client();
    for (channel, receivers) in [
        ("hello", 2),
        ("hallo", 3),
        ("hxllo", 2),
        ("h*llo", 3),
        ("xb", 1),
        ("xd", 0),
    ] {
        assert_eq!(
            ok(&mut p, &["PUBLISH", channel, "m"]),
            int(receivers),
            "{channel}"
        );
    }
    assert_eq!(ok(&mut p, &["PUBSUB", "NUMPAT"]), int(5));
}

#[test]
fn pubsub_introspection() {
    let srv = TestServer::start();
    let mut s1 = srv.raw_conn();
    let mut s2 = srv.raw_conn();
    send(&mut s1, &["SUBSCRIBE", "a1", "a2", "b1"]);
    for _ in 0..3 {
        s1.read_reply();
    }
    send(&mut s2, &["SUBSCRIBE", "a1"]);
    s2.read_reply();
    send(&mut s2, &["SSUBSCRIBE", "s1"]);
    s2.read_reply();
    let mut p = srv.client();
    assert_eq!(
        sorted_texts(&ok(&mut p, &["PUBSUB", "CHANNELS"])),
        vec!["a1", "a2", "b1"]
    );
    assert_eq!(
        sorted_texts(&ok(&mut p, &["PUBSUB", "CHANNELS", "a*"])),
        vec!["a1", "a2"]
    );
    assert_eq!(
        ok(&mut p, &["PUBSUB", "NUMSUB", "a1", "b1", "zz"]),
        redis::Value::Array(vec![
            bulk("a1"),
            int(2),
            bulk("b1"),
            int(1),
            bulk("zz"),
            int(0)
        ])
    );
    assert_eq!(
        sorted_texts(&ok(&mut p, &["PUBSUB", "SHARDCHANNELS"])),
        vec!["s1"]
    );
    assert_eq!(
        ok(&mut p, &["PUBSUB", "SHARDNUMSUB", "s1"]),
        redis::Value::Array(vec![bulk("s1"), int(1)])
    );
    let info = text(&ok(&mut p, &["INFO", "stats"]));
    assert_eq!(info_field(&info, "pubsub_channels").as_deref(), Some("3"));
    assert_eq!(
        info_field(&info, "pubsubshard_channels").as_deref(),
        Some("1")
    );
    // A subscriber that disconnects is forgotten.
    drop(s1);
    wait_numsub(&srv, "a2", 0);
    wait_numsub(&srv, "a1", 1);
}

/// Messages on one channel reach every subscriber in one order, each publisher's in its own.
#[test]
fn per_channel_order_is_the_same_for_every_subscriber() {
    let srv = if std::env::var("TERN_IT_SERVER").as_deref() == Ok("redis") {
        TestServer::start()
    } else {
        TestServer::start_with(&["--server-threads", "2"])
    };
    let mut subs: Vec<Raw> = (0..3).map(|_| srv.raw_conn()).collect();
    for s in &mut subs {
        send(s, &["SUBSCRIBE", "ordered"]);
        s.read_reply();
    }
    wait_numsub(&srv, "ordered", 3);
    let per = 300;
    let pubs: Vec<_> = (0..2)
        .map(|p| {
            let mut c = srv.client();
            std::thread::spawn(move || {
                for i in 0..per {
                    let _: i64 = redis::cmd("PUBLISH")
                        .arg("ordered")
                        .arg(format!("{p}:{i}"))
                        .query(&mut c)
                        .expect("publish");
                }
            })
        })
        .collect();
    for p in pubs {
        p.join().expect("publisher");
    }
    let mut seen: Vec<Vec<String>> = Vec::new();
    for s in &mut subs {
        let got: Vec<String> = (0..2 * per)
            .map(|_| match s.read_reply() {
                Resp::Array(Some(v)) => v[2].text(),
                other => panic!("not a message: {other:?}"),
            })
            .collect();
        for p in 0..2 {
            let mine: Vec<&String> = got
                .iter()
                .filter(|m| m.starts_with(&format!("{p}:")))
                .collect();
            let want: Vec<String> = (0..per).map(|i| format!("{p}:{i}")).collect();
            assert_eq!(mine.len(), per);
            assert!(
                mine.iter().zip(&want).all(|(a, b)| *a == b),
                "publisher {p} out of order"
            );
        }
        seen.push(got);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1], seen[2]);
}

/// A subscriber that never reads is disconnected by `client-output-buffer-limit pubsub`
/// instead of eating the server's memory; everyone else keeps being served.
#[test]
fn a_subscriber_that_never_reads_is_cut_off() {
    let srv = TestServer::start();
    let mut p = srv.client();
    ok(
        &mut p,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 256kb 1",
        ],
    );
    let rss_before = srv.rss_kb();
    let mut slow = srv.raw_conn();
    send(&mut slow, &["SUBSCRIBE", "firehose"]);
    assert_eq!(
        slow.read_reply(),
        arr(vec![b("subscribe"), b("firehose"), Resp::Int(1)])
    );
    let payload = "x".repeat(16 * 1024);
    let started = Instant::now();
    let mut receivers_left = 1;
    // At most 64 MiB published (4096 messages); the subscriber goes long before that.
    for _ in 0..4096 {
        let n: i64 = redis::cmd("PUBLISH")
            .arg("firehose")
            .arg(&payload)
            .query(&mut p)
            .expect("publish");
        if n == 0 {
            receivers_left = 0;
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60));
    }
    assert_eq!(receivers_left, 0, "the slow subscriber was never cut off");
    // What it was owed never piled up in the server: RSS grew by far less than what was
    // published (the limit is 1 MB; socket buffers and allocator slack make the rest).
    let rss_after = srv.rss_kb();
    assert!(
        rss_after < rss_before + 48 * 1024,
        "RSS {rss_before} KiB -> {rss_after} KiB"
    );
    let clients = text(&ok(&mut p, &["CLIENT", "LIST"]));
    assert!(!clients.contains("sub=1"), "{clients}");
    assert_eq!(
        ok(&mut p, &["PING"]),
        redis::Value::SimpleString("PONG".into())
    );
    srv.assert_alive();
}
