//! Client-side caching: CLIENT TRACKING (default, BCAST, OPTIN, OPTOUT, NOLOOP, REDIRECT),
//! CLIENT CACHING, GETREDIR, TRACKINGINFO; RESP3 pushes and the RESP2 `__redis__:invalidate`
//! channel. All pass against redis-server too (`TERN_IT_SERVER=redis`).

use crate::harness::*;

fn b(s: &str) -> Resp {
    Resp::bulk(s)
}

fn invalidate(keys: &[&str]) -> Resp {
    Resp::Push(vec![
        b("invalidate"),
        Resp::Array(Some(keys.iter().map(|k| b(k)).collect())),
    ])
}

fn ok_(c: &mut Raw, args: &[&str]) {
    assert_eq!(c.cmd(args), Resp::Simple("OK".into()), "{args:?}");
}

#[test]
fn resp3_default_mode_invalidates_keys_read_once() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    c.cmd(&["HELLO", "3"]);
    ok_(&mut c, &["CLIENT", "TRACKING", "on"]);
    let mut o = srv.client();
    ok(&mut o, &["SET", "k", "v1"]);
    assert_eq!(c.cmd(&["GET", "k"]), b("v1"));
    assert_eq!(c.cmd(&["GET", "unread-later"]), Resp::Null);
    ok(&mut o, &["SET", "k", "v2"]);
    assert_eq!(c.read_reply(), invalidate(&["k"]));
    // Invalidated once: the next change is not reported until the key is read again.
    ok(&mut o, &["SET", "k", "v3"]);
    assert_eq!(c.cmd(&["GET", "k"]), b("v3"));
    ok(&mut o, &["DEL", "k"]);
    assert_eq!(c.read_reply(), invalidate(&["k"]));
    // Expiry invalidates too.
    ok(&mut o, &["SET", "e", "v", "PX", "50"]);
    assert_eq!(c.cmd(&["GET", "e"]), b("v"));
    std::thread::sleep(std::time::Duration::from_millis(120));
    // Whoever notices first (the active cycle, or this lazy lookup) deletes it.
    assert_eq!(ok(&mut o, &["GET", "e"]), redis::Value::Nil);
    assert_eq!(c.read_reply(), invalidate(&["e"]));
    // A flush invalidates everything with a null.
    assert_eq!(c.cmd(&["GET", "x"]), Resp::Null);
    ok(&mut o, &["FLUSHALL"]);
    assert_eq!(
        c.read_reply(),
        Resp::Push(vec![b("invalidate"), Resp::Null])
    );
    assert_eq!(c.cmd(&["CLIENT", "GETREDIR"]), Resp::Int(0));
    ok_(&mut c, &["CLIENT", "TRACKING", "off"]);
    assert_eq!(c.cmd(&["CLIENT", "GETREDIR"]), Resp::Int(-1));
}

#[test]
fn bcast_prefixes_and_noloop() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    c.cmd(&["HELLO", "3"]);
    ok_(
        &mut c,
        &[
            "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "NOLOOP",
        ],
    );
    let mut o = srv.client();
    ok(&mut o, &["SET", "item:1", "x"]);
    ok(&mut o, &["SET", "user:1", "x"]);
    assert_eq!(c.read_reply(), invalidate(&["user:1"]));
    // NOLOOP: our own write is not reported; someone else's is.
    ok_(&mut c, &["SET", "user:2", "mine"]);
    ok(&mut o, &["SET", "user:3", "theirs"]);
    assert_eq!(c.read_reply(), invalidate(&["user:3"]));
    let info = c.cmd(&["CLIENT", "TRACKINGINFO"]);
    let Resp::Map(pairs) = info else {
        panic!("{info:?}")
    };
    assert_eq!(pairs[0].0, b("flags"));
    assert_eq!(
        pairs[0].1,
        Resp::Set(vec![b("on"), b("bcast"), b("noloop")])
    );
    assert_eq!(pairs[2].1, Resp::Array(Some(vec![b("user:")])));
}

#[test]
fn optin_tracks_only_after_caching_yes() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    c.cmd(&["HELLO", "3"]);
    ok_(&mut c, &["CLIENT", "TRACKING", "on", "OPTIN"]);
    let mut o = srv.client();
    ok(&mut o, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(c.cmd(&["GET", "a"]), b("1"));
    ok_(&mut c, &["CLIENT", "CACHING", "yes"]);
    assert_eq!(c.cmd(&["GET", "b"]), b("2"));
    ok(&mut o, &["MSET", "a", "10", "b", "20"]);
    assert_eq!(c.read_reply(), invalidate(&["b"]));
    assert_eq!(
        c.cmd(&["CLIENT", "CACHING", "no"]),
        Resp::Error(
            "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.".into()
        )
    );
}

#[test]
fn resp2_redirect_to_the_invalidate_channel() {
    let srv = TestServer::start();
    let mut r = srv.raw_conn();
    let id = match r.cmd(&["CLIENT", "ID"]) {
        Resp::Int(i) => i.to_string(),
        other => panic!("{other:?}"),
    };
    let sub: Vec<&[u8]> = vec![b"SUBSCRIBE", b"__redis__:invalidate"];
    r.send(&encode(&sub));
    r.read_reply();
    let mut t = srv.raw_conn();
    ok_(&mut t, &["CLIENT", "TRACKING", "on", "REDIRECT", &id]);
    assert_eq!(
        t.cmd(&["CLIENT", "GETREDIR"]),
        Resp::Int(id.parse().unwrap())
    );
    assert_eq!(t.cmd(&["GET", "x"]), Resp::Bulk(None));
    let mut o = srv.client();
    ok(&mut o, &["SET", "x", "1"]);
    assert_eq!(
        r.read_reply(),
        Resp::Array(Some(vec![
            b("message"),
            b("__redis__:invalidate"),
            Resp::Array(Some(vec![b("x")])),
        ]))
    );
}

#[test]
fn tracking_errors() {
    let srv = TestServer::start();
    let mut c = srv.raw_conn();
    for (args, e) in [
        (&["CLIENT", "TRACKING", "on", "REDIRECT", "999999"][..], "ERR The client ID you want redirect to does not exist"),
        (&["CLIENT", "TRACKING", "on", "PREFIX", "a"][..], "ERR PREFIX option requires BCAST mode to be enabled"),
        (&["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"][..], "ERR You can't specify both OPTIN mode and OPTOUT mode"),
        (
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"][..],
            "ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single client must not overlap.",
        ),
        (&["CLIENT", "TRACKING", "maybe"][..], "ERR syntax error"),
        (
            &["CLIENT", "CACHING", "yes"][..],
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ),
    ] {
        assert_eq!(c.cmd(args), Resp::Error(e.into()), "{args:?}");
    }
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKINGINFO"]),
        Resp::Array(Some(vec![
            b("flags"),
            Resp::Array(Some(vec![b("off")])),
            b("redirect"),
            Resp::Int(-1),
            b("prefixes"),
            Resp::Array(Some(vec![])),
        ]))
    );
}
