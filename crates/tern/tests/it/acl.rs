//! ACL: users, rules, NOPERM errors, the ACL log, the ACL file, AUTH/HELLO, disconnections,
//! scripts and pub/sub, replication with `masteruser`, and a differential run of the ACL
//! command family against Debian's redis-server.

use crate::harness::*;
use redis::Value;
use std::time::Duration;

/// A client authenticated as `user` (the `redis` crate sends AUTH user pass).
fn as_user(s: &TestServer, user: &str, pass: &str) -> redis::Connection {
    block_sigchld();
    let url = format!("redis://{user}:{pass}@127.0.0.1:{}/", s.port());
    let c = redis::Client::open(url.as_str()).unwrap();
    let con = c.get_connection_with_timeout(IO_TIMEOUT).unwrap();
    con.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    con
}

/// A raw connection authenticated as `user`.
fn raw_as(s: &TestServer, user: &str, pass: &str) -> Raw {
    let mut r = s.raw_conn();
    assert_eq!(rtext(&r.cmd(&["AUTH", user, pass])), "OK");
    r
}

/// A raw reply as text: a string, or an error's text.
fn rtext(r: &Resp) -> String {
    match r {
        Resp::Error(e) => e.clone(),
        other => other.text(),
    }
}

/// A raw reply flattened to text, for `contains` checks.
fn flat(r: &Resp) -> String {
    match r {
        Resp::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        Resp::Simple(s) | Resp::Error(s) => s.clone(),
        Resp::Array(Some(a)) | Resp::Set(a) | Resp::Push(a) => {
            a.iter().map(flat).collect::<Vec<_>>().join(" ")
        }
        Resp::Map(m) => m
            .iter()
            .map(|(k, v)| format!("{} {}", flat(k), flat(v)))
            .collect::<Vec<_>>()
            .join(" "),
        other => format!("{other:?}"),
    }
}

/// ACL LOG entries as (count, reason, context, object, username, client-info), newest first.
fn log_entries(c: &mut redis::Connection) -> Vec<(i64, String, String, String, String, String)> {
    items(&ok(c, &["ACL", "LOG"]))
        .iter()
        .map(|e| {
            let f = match e {
                Value::Array(a) => a
                    .chunks(2)
                    .map(|p| (text(&p[0]), p[1].clone()))
                    .collect::<Vec<_>>(),
                Value::Map(m) => m.iter().map(|(k, v)| (text(k), v.clone())).collect(),
                other => panic!("entry {other:?}"),
            };
            let get = |k: &str| f.iter().find(|(n, _)| n == k).unwrap().1.clone();
            (
                as_int(&get("count")),
                text(&get("reason")),
                text(&get("context")),
                text(&get("object")),
                text(&get("username")),
                text(&get("client-info")),
            )
        })
        .collect()
}

fn short(
    e: &[(i64, String, String, String, String, String)],
) -> Vec<(i64, &str, &str, &str, &str)> {
    e.iter()
        .map(|(n, r, c, o, u, _)| (*n, r.as_str(), c.as_str(), o.as_str(), u.as_str()))
        .collect()
}

const NOPERM_CMD: &str = "NOPERM this user has no permissions to run the";
const NOPERM_KEY: &str =
    "NOPERM this user has no permissions to access one of the keys used as arguments";
const NOPERM_CHAN: &str =
    "NOPERM this user has no permissions to access one of the channels used as arguments";

#[test]
fn every_rule_kind_allows_and_denies() {
    let s = TestServer::start();
    let mut admin = s.client();
    let setuser = |c: &mut redis::Connection, rules: &[&str]| {
        let mut a = vec!["ACL", "SETUSER", "u"];
        a.extend_from_slice(rules);
        ok(c, &a);
    };
    // on / off, >pass / <pass, nopass, #hash / !hash, resetpass.
    setuser(&mut admin, &["reset", "on", ">p1", "+@all", "~*", "&*"]);
    assert_eq!(text(&ok(&mut as_user(&s, "u", "p1"), &["PING"])), "PONG");
    let wrong = "WRONGPASS invalid username-password pair or user is disabled.";
    assert_eq!(err(&mut s.client(), &["AUTH", "u", "p2"]), wrong);
    setuser(&mut admin, &["off"]);
    assert_eq!(err(&mut s.client(), &["AUTH", "u", "p1"]), wrong);
    setuser(&mut admin, &["on", ">p2", "<p1"]);
    assert_eq!(err(&mut s.client(), &["AUTH", "u", "p1"]), wrong);
    ok(&mut s.client(), &["AUTH", "u", "p2"]);
    setuser(&mut admin, &["nopass"]);
    ok(&mut s.client(), &["AUTH", "u", "anything"]);
    // SHA-256 of "secret".
    let h = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
    setuser(&mut admin, &["resetpass", &format!("#{h}")]);
    assert_eq!(err(&mut s.client(), &["AUTH", "u", "anything"]), wrong);
    ok(&mut s.client(), &["AUTH", "u", "secret"]);
    setuser(&mut admin, &[&format!("!{h}"), ">p"]);
    assert_eq!(err(&mut s.client(), &["AUTH", "u", "secret"]), wrong);
    let mut u = as_user(&s, "u", "p");

    // +cmd / -cmd, +@category / -@category, +cmd|sub / -cmd|sub, allcommands / nocommands.
    setuser(
        &mut admin,
        &["nocommands", "+get", "+@hash", "-hdel", "+config|get"],
    );
    ok(&mut u, &["GET", "k"]);
    ok(&mut u, &["HSET", "h", "f", "v"]);
    ok(&mut u, &["CONFIG", "GET", "port"]);
    assert!(err(&mut u, &["SET", "k", "v"]).starts_with(NOPERM_CMD));
    assert_eq!(
        err(&mut u, &["HDEL", "h", "f"]),
        "NOPERM this user has no permissions to run the 'hdel' command"
    );
    assert_eq!(
        err(&mut u, &["CONFIG", "SET", "maxclients", "100"]),
        "NOPERM this user has no permissions to run the 'config|set' command"
    );
    setuser(&mut admin, &["allcommands", "-@dangerous", "-config|get"]);
    ok(&mut u, &["SET", "k", "v"]);
    assert!(err(&mut u, &["FLUSHALL"]).starts_with(NOPERM_CMD));
    assert!(err(&mut u, &["CONFIG", "GET", "port"]).starts_with(NOPERM_CMD));
    setuser(&mut admin, &["+@all"]);
    ok(&mut u, &["CONFIG", "GET", "port"]);
    // A first argument: +select|0.
    setuser(&mut admin, &["-select", "+select|0"]);
    ok(&mut u, &["SELECT", "0"]);
    assert!(err(&mut u, &["SELECT", "1"]).starts_with(NOPERM_CMD));

    // ~pattern, %R~, %W~, %RW~, allkeys, resetkeys.
    setuser(
        &mut admin,
        &["+@all", "resetkeys", "~a*", "%R~r*", "%W~w*", "%RW~b*"],
    );
    ok(&mut u, &["SET", "a1", "v"]);
    ok(&mut u, &["GET", "r1"]);
    assert_eq!(err(&mut u, &["SET", "r1", "v"]), NOPERM_KEY);
    ok(&mut u, &["SET", "w1", "v"]);
    assert_eq!(err(&mut u, &["GET", "w1"]), NOPERM_KEY);
    assert_eq!(err(&mut u, &["SET", "w1", "v", "GET"]), NOPERM_KEY);
    ok(&mut u, &["INCR", "b1"]);
    assert_eq!(err(&mut u, &["GET", "x"]), NOPERM_KEY);
    ok(&mut u, &["COPY", "r1", "w2"]);
    assert_eq!(err(&mut u, &["COPY", "w1", "r2"]), NOPERM_KEY);
    setuser(&mut admin, &["allkeys"]);
    ok(&mut u, &["GET", "x"]);

    // &pattern, allchannels, resetchannels; PSUBSCRIBE patterns are matched literally.
    setuser(&mut admin, &["resetchannels", "&news.*"]);
    ok(&mut u, &["PUBLISH", "news.1", "m"]);
    assert_eq!(err(&mut u, &["PUBLISH", "sport", "m"]), NOPERM_CHAN);
    let mut r = raw_as(&s, "u", "p");
    assert_eq!(rtext(&r.cmd(&["PSUBSCRIBE", "news.a*"])), NOPERM_CHAN);
    assert_eq!(rtext(&r.cmd(&["SUBSCRIBE", "sport"])), NOPERM_CHAN);
    let reply = r.cmd(&["PSUBSCRIBE", "news.*"]);
    assert!(flat(&reply).contains("news.*"), "{reply:?}");
    setuser(&mut admin, &["allchannels"]);
    ok(&mut u, &["PUBLISH", "sport", "m"]);

    // reset: back to nothing, and off.
    setuser(&mut admin, &["reset"]);
    let g = ok(&mut admin, &["ACL", "GETUSER", "u"]);
    let d = format!("{g:?}");
    assert!(d.contains("off") && d.contains("-@all"), "{d}");
}

#[test]
fn acl_log_records_commands_keys_channels_and_auth_failures() {
    let s = TestServer::start();
    let mut admin = s.client();
    ok(
        &mut admin,
        &[
            "ACL", "SETUSER", "a", "on", ">pa", "+get", "+publish", "+eval", "+multi", "+exec",
            "~k*", "&c*",
        ],
    );
    let mut a = as_user(&s, "a", "pa");
    err(&mut a, &["GET", "x"]);
    err(&mut a, &["SET", "k", "v"]);
    err(&mut a, &["PUBLISH", "d", "m"]);
    err(&mut a, &["GET", "x"]);
    err(&mut s.client(), &["AUTH", "a", "nope"]);
    let e = log_entries(&mut admin);
    assert_eq!(
        short(&e),
        // A repeated entry is counted and moves to the head, as in Redis.
        vec![
            (1, "auth", "toplevel", "AUTH", "a"),
            (2, "key", "toplevel", "x", "a"),
            (1, "channel", "toplevel", "d", "a"),
            (1, "command", "toplevel", "set", "a"),
        ]
    );
    // client-info is the client's CLIENT LIST line at the time, with the refused command.
    assert!(e[3].5.contains(" cmd=set user=a "), "{}", e[3].5);
    assert!(e[0].5.contains(" cmd=auth user=default "), "{}", e[0].5);
    // A denied command inside a script is logged in the `lua` context.
    let script_err = err(
        &mut a,
        &["EVAL", "return redis.call('publish', 'zz', 1)", "0"],
    );
    assert!(
        script_err.starts_with(
            "ERR The user executing the script can't publish to the channel mentioned in the command"
        ),
        "{script_err}"
    );
    assert_eq!(
        short(&log_entries(&mut admin))[0],
        (1, "channel", "lua", "zz", "a")
    );
    // Inside MULTI the context is `multi`, and the transaction is aborted.
    let mut r = raw_as(&s, "a", "pa");
    r.cmd(&["MULTI"]);
    assert_eq!(rtext(&r.cmd(&["GET", "x"])), NOPERM_KEY);
    assert!(rtext(&r.cmd(&["EXEC"])).starts_with("EXECABORT"));
    assert_eq!(
        short(&log_entries(&mut admin))[0],
        (1, "key", "multi", "x", "a")
    );
    assert_eq!(items(&ok(&mut admin, &["ACL", "LOG", "1"])).len(), 1);
    assert_eq!(text(&ok(&mut admin, &["ACL", "LOG", "RESET"])), "OK");
    assert!(log_entries(&mut admin).is_empty());
}

#[test]
fn acl_log_respects_acllog_max_len() {
    let s = TestServer::start_with(&["--acllog-max-len", "2"]);
    let mut admin = s.client();
    ok(
        &mut admin,
        &["ACL", "SETUSER", "a", "on", ">pa", "+get", "~k*"],
    );
    let mut a = as_user(&s, "a", "pa");
    for k in ["x1", "x2", "x3"] {
        err(&mut a, &["GET", k]);
    }
    let objects: Vec<String> = log_entries(&mut admin).into_iter().map(|e| e.3).collect();
    assert_eq!(objects, vec!["x3", "x2"]);
}

#[test]
fn requirepass_is_the_default_users_password() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["CONFIG", "SET", "requirepass", "s3cret"]);
    let g = format!("{:?}", ok(&mut c, &["ACL", "LIST"]));
    assert!(
        g.contains("user default on #") && !g.contains("nopass"),
        "{g}"
    );
    let mut fresh = s.raw_conn();
    assert_eq!(
        rtext(&fresh.cmd(&["GET", "k"])),
        "NOAUTH Authentication required."
    );
    assert_eq!(rtext(&fresh.cmd(&["AUTH", "s3cret"])), "OK");
    let mut fresh = s.raw_conn();
    assert_eq!(rtext(&fresh.cmd(&["AUTH", "default", "s3cret"])), "OK");
    let mut fresh = s.raw_conn();
    let hello = fresh.cmd(&["HELLO", "3", "AUTH", "default", "s3cret"]);
    assert!(flat(&hello).contains("proto"), "{hello:?}");
    let mut fresh = s.raw_conn();
    assert_eq!(
        rtext(&fresh.cmd(&["HELLO", "3", "AUTH", "default", "bad"])),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    ok(&mut c, &["CONFIG", "SET", "requirepass", ""]);
    let mut fresh = s.raw_conn();
    assert_eq!(rtext(&fresh.cmd(&["PING"])), "PONG");
    assert!(rtext(&fresh.cmd(&["AUTH", "x"]))
        .starts_with("ERR AUTH <password> called without any password configured"));
}

#[test]
fn whoami_client_list_and_client_kill_user_show_the_user() {
    let s = TestServer::start();
    let mut admin = s.client();
    ok(
        &mut admin,
        &["ACL", "SETUSER", "bob", "on", ">pb", "+@all", "~*"],
    );
    let mut b = as_user(&s, "bob", "pb");
    assert_eq!(text(&ok(&mut b, &["ACL", "WHOAMI"])), "bob");
    assert_eq!(text(&ok(&mut admin, &["ACL", "WHOAMI"])), "default");
    let list = text(&ok(&mut admin, &["CLIENT", "LIST"]));
    assert!(list.contains(" user=bob "), "{list}");
    assert!(text(&ok(&mut b, &["CLIENT", "INFO"])).contains(" user=bob "));
    let mut r = raw_as(&s, "bob", "pb");
    assert_eq!(
        as_int(&ok(&mut admin, &["CLIENT", "KILL", "USER", "bob"])),
        2
    );
    assert!(r.closed_within(Duration::from_secs(5)));
    assert_eq!(
        err(&mut admin, &["CLIENT", "KILL", "USER", "nobody"]),
        "ERR No such user 'nobody'"
    );
    // RESET goes back to the default user.
    let mut r = raw_as(&s, "bob", "pb");
    assert_eq!(rtext(&r.cmd(&["RESET"])), "RESET");
    assert_eq!(rtext(&r.cmd(&["ACL", "WHOAMI"])), "default");
}

#[test]
fn deleted_user_is_disconnected_and_disabled_user_keeps_its_connection() {
    let s = TestServer::start();
    let mut admin = s.client();
    for u in ["d1", "d2"] {
        ok(
            &mut admin,
            &["ACL", "SETUSER", u, "on", ">p", "+@all", "~*", "&*"],
        );
    }
    let mut r1 = raw_as(&s, "d1", "p");
    let mut r2 = raw_as(&s, "d2", "p");
    assert_eq!(
        as_int(&ok(&mut admin, &["ACL", "DELUSER", "d1", "nosuch"])),
        1
    );
    assert!(
        r1.closed_within(Duration::from_secs(5)),
        "a deleted user's client is closed"
    );
    // As in Redis 7.0, `off` stops new authentications but keeps connected clients.
    ok(&mut admin, &["ACL", "SETUSER", "d2", "off"]);
    assert_eq!(rtext(&r2.cmd(&["PING"])), "PONG");
    assert_eq!(
        err(&mut s.client(), &["AUTH", "d2", "p"]),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(
        err(&mut admin, &["ACL", "DELUSER", "default"]),
        "ERR The 'default' user cannot be removed"
    );
}

#[test]
fn subscriber_that_loses_channel_access_is_disconnected() {
    let s = TestServer::start();
    let mut admin = s.client();
    ok(
        &mut admin,
        &["ACL", "SETUSER", "s", "on", ">p", "+@all", "~*", "&news*"],
    );
    let mut sub = raw_as(&s, "s", "p");
    let reply = sub.cmd(&["SUBSCRIBE", "news1"]);
    assert!(flat(&reply).contains("news1"));
    let mut other = raw_as(&s, "s", "p");
    // A change that keeps the channel allowed keeps the subscriber.
    ok(&mut admin, &["ACL", "SETUSER", "s", "&more"]);
    assert_eq!(rtext(&other.cmd(&["PING"])), "PONG");
    assert_eq!(as_int(&ok(&mut admin, &["PUBLISH", "news1", "m"])), 1);
    ok(
        &mut admin,
        &["ACL", "SETUSER", "s", "resetchannels", "&other"],
    );
    assert!(sub.closed_within(Duration::from_secs(5)));
    // A client of the same user that subscribed to nothing stays.
    assert_eq!(rtext(&other.cmd(&["PING"])), "PONG");
}

#[test]
fn scripts_run_with_the_callers_permissions() {
    let s = TestServer::start();
    let mut admin = s.client();
    ok(
        &mut admin,
        &[
            "ACL", "SETUSER", "a", "on", ">pa", "+eval", "+fcall", "+get", "~k*", "&c*",
        ],
    );
    let mut a = as_user(&s, "a", "pa");
    assert_eq!(
        ok(
            &mut a,
            &["EVAL", "return redis.call('get', KEYS[1])", "1", "k1"]
        ),
        Value::Nil
    );
    let e = err(
        &mut a,
        &["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "k1"],
    );
    assert!(
        e.starts_with("ERR The user executing the script can't run this command or subcommand"),
        "{e}"
    );
    let e = err(&mut a, &["EVAL", "return redis.call('get', 'x')", "0"]);
    assert!(
        e.starts_with(
            "ERR The user executing the script can't access at least one of the keys mentioned in the command"
        ),
        "{e}"
    );
    // pcall turns the refusal into an error table.
    let v = ok(
        &mut a,
        &[
            "EVAL",
            "local r = redis.pcall('set', 'k1', 'v'); return r['err']",
            "0",
        ],
    );
    assert!(text(&v).contains("can't run this command"), "{v:?}");
    // The EVAL itself is checked first, with its keys.
    assert_eq!(err(&mut a, &["EVAL", "return 1", "1", "x"]), NOPERM_KEY);
    // The default user's scripts are not checked.
    ok(
        &mut admin,
        &["EVAL", "return redis.call('set', 'x', 'v')", "0"],
    );
}

#[test]
fn multi_exec_checks_at_queue_time_and_at_exec_time() {
    let s = TestServer::start();
    let mut admin = s.client();
    ok(
        &mut admin,
        &["ACL", "SETUSER", "m", "on", ">p", "+@all", "~*"],
    );
    let mut r = raw_as(&s, "m", "p");
    assert_eq!(rtext(&r.cmd(&["MULTI"])), "OK");
    assert_eq!(rtext(&r.cmd(&["SET", "k", "v"])), "QUEUED");
    assert_eq!(rtext(&r.cmd(&["GET", "k"])), "QUEUED");
    ok(&mut admin, &["ACL", "SETUSER", "m", "-set"]);
    let exec = r.cmd(&["EXEC"]);
    let d = flat(&exec);
    assert!(
        d.contains("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand"),
        "{d}"
    );
    assert_eq!(
        short(&log_entries(&mut admin))[0],
        (1, "command", "multi", "set", "m")
    );
}

#[test]
fn dryrun_cat_genpass_and_help() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(
        &mut c,
        &[
            "ACL", "SETUSER", "a", "on", "+get", "%R~r*", "&c*", "+publish",
        ],
    );
    let dry = |c: &mut redis::Connection, a: &[&str]| {
        let mut v = vec!["ACL", "DRYRUN", "a"];
        v.extend_from_slice(a);
        text(&ok(c, &v))
    };
    assert_eq!(dry(&mut c, &["get", "r1"]), "OK");
    assert_eq!(
        dry(&mut c, &["get", "x"]),
        "This user has no permissions to access the 'x' key"
    );
    assert_eq!(
        dry(&mut c, &["set", "r1", "v"]),
        "This user has no permissions to run the 'set' command"
    );
    assert_eq!(
        dry(&mut c, &["publish", "zz", "m"]),
        "This user has no permissions to access the 'zz' channel"
    );
    // ACL CAT <category> lists what COMMAND LIST FILTERBY ACLCAT lists.
    let mut cat = sorted_texts(&ok(&mut c, &["ACL", "CAT", "hash"]));
    let mut list = sorted_texts(&ok(
        &mut c,
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "hash"],
    ));
    cat.sort();
    list.sort();
    assert_eq!(cat, list);
    assert!(cat.contains(&"hset".to_string()));
    let p = text(&ok(&mut c, &["ACL", "GENPASS"]));
    assert_eq!(p.len(), 64);
    assert!(p.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(p, text(&ok(&mut c, &["ACL", "GENPASS"])));
    assert_eq!(text(&ok(&mut c, &["ACL", "GENPASS", "5"])).len(), 2);
    assert_eq!(text(&ok(&mut c, &["ACL", "GENPASS", "4096"])).len(), 1024);
}

#[test]
fn aclfile_round_trip_across_a_restart_and_bad_load_keeps_users() {
    let dir = test_dir("aclfile");
    let file = dir.join("users.acl");
    std::fs::write(&file, "user default on nopass ~* &* +@all\n").unwrap();
    let f = file.display().to_string();
    let s = TestServer::start_with(&["--aclfile", &f]);
    let mut c = s.client();
    ok(
        &mut c,
        &[
            "ACL", "SETUSER", "alice", "on", ">pa", "+@read", "-keys", "~a*", "%W~w*", "&ch",
        ],
    );
    ok(
        &mut c,
        &["ACL", "SETUSER", "bob", "on", "nopass", "+@all", "allkeys"],
    );
    let before = sorted_texts(&ok(&mut c, &["ACL", "LIST"]));
    assert_eq!(text(&ok(&mut c, &["ACL", "SAVE"])), "OK");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("user alice on #"), "{saved}");
    drop(c);
    drop(s);
    let s = TestServer::start_with(&["--aclfile", &f]);
    let mut c = s.client();
    assert_eq!(sorted_texts(&ok(&mut c, &["ACL", "LIST"])), before);
    let mut a = as_user(&s, "alice", "pa");
    ok(&mut a, &["GET", "a1"]);
    assert_eq!(err(&mut a, &["GET", "x"]), NOPERM_KEY);

    // A bad file is refused as a whole, with every error, and the users stay.
    std::fs::write(
        &file,
        "user default on nopass ~* &* +@all\nuser carol on +nosuch\nbad line\n",
    )
    .unwrap();
    let e = err(&mut c, &["ACL", "LOAD"]);
    assert_eq!(
        e,
        format!(
            "ERR {f}:2: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
             {f}:3 should start with user keyword followed by the username. \
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        )
    );
    assert_eq!(sorted_texts(&ok(&mut c, &["ACL", "LIST"])), before);
    ok(&mut a, &["GET", "a1"]);
    // A good file replaces the users; clients of other users than default are disconnected.
    std::fs::write(
        &file,
        "user default on nopass ~* &* +@all\nuser carol on >pc +ping\n",
    )
    .unwrap();
    let mut ra = raw_as(&s, "alice", "pa");
    assert_eq!(text(&ok(&mut c, &["ACL", "LOAD"])), "OK");
    assert!(ra.closed_within(Duration::from_secs(5)));
    assert_eq!(
        sorted_texts(&ok(&mut c, &["ACL", "USERS"])),
        vec!["carol", "default"]
    );
    assert_eq!(text(&ok(&mut c, &["PING"])), "PONG");
}

#[test]
fn user_directives_in_the_config_file_and_refused_combinations() {
    let dir = test_dir("acl-config");
    let conf = dir.join("tern.conf");
    std::fs::write(
        &conf,
        "user default on nopass ~* &* +@all\nuser app on >apppass ~app:* +@read +@write -@dangerous\n",
    )
    .unwrap();
    let s = TestServer::start_with_config(&conf, &[]);
    let mut app = as_user(&s, "app", "apppass");
    ok(&mut app, &["SET", "app:1", "v"]);
    assert_eq!(err(&mut app, &["SET", "other", "v"]), NOPERM_KEY);
    assert!(err(&mut app, &["FLUSHALL"]).starts_with(NOPERM_CMD));
    // A missing ACL file stops start-up, as in Redis.
    let missing = dir.join("missing.acl").display().to_string();
    let log = tern_refuses_to_start(&["--aclfile", &missing]);
    assert!(
        log.contains(
            "Aborting Redis startup because of ACL errors: Error loading ACLs, opening file"
        ),
        "{log}"
    );
}

#[test]
fn redis_cli_authenticates_as_a_user() {
    let s = TestServer::start();
    ok(
        &mut s.client(),
        &["ACL", "SETUSER", "cli", "on", ">cp", "+@all", "~*"],
    );
    let out = std::process::Command::new(require_tool(REDIS_CLI))
        .args([
            "-p",
            &s.port().to_string(),
            "--user",
            "cli",
            "--pass",
            "cp",
            "--no-auth-warning",
            "ACL",
            "WHOAMI",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "cli");
}

/// The replies of the ACL family compared with redis-server's, fields that legitimately
/// differ normalised: generated passwords, ages and client-info lines in the ACL log, and the
/// order of single commands in a rule description (Redis prints them in its command
/// dictionary's hash order).
#[test]
fn acl_replies_match_redis() {
    let tern = TestServer::start_tern(None, &[]);
    let redis = RedisServer::start();
    let hash = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
    let admin_script: Vec<Vec<String>> = [
        "ACL WHOAMI",
        "ACL USERS",
        "ACL LIST",
        "ACL GETUSER default",
        "ACL SETUSER alice on >pa +get +set ~a* %R~r* %W~w* &ch*",
        "ACL GETUSER alice",
        "ACL SETUSER alice +@hash -hset",
        "ACL GETUSER alice",
        "ACL SETUSER bob on nopass +@all -@dangerous allkeys allchannels",
        "ACL GETUSER bob",
        "ACL SETUSER carol on >a >b <a #HASH resetchannels &x",
        "ACL GETUSER carol",
        "ACL SETUSER dave -@all +@slow",
        "ACL GETUSER dave",
        "ACL SETUSER erin +@all -config|get -flushall",
        "ACL GETUSER erin",
        "ACL SETUSER frank +@write +@read +select|0",
        "ACL GETUSER frank",
        "ACL SETUSER grace %RW~a %R~b %W~c ~d ~a",
        "ACL GETUSER grace",
        "ACL SETUSER grace reset",
        "ACL GETUSER grace",
        "ACL SETUSER ivan on nopass ~i* +get (~x* +set) (%R~y* +@hash -hset)",
        "ACL GETUSER ivan",
        "ACL DRYRUN ivan set x1 v",
        "ACL DRYRUN ivan set i1 v",
        "ACL DRYRUN ivan hget y1 f",
        "ACL DRYRUN ivan hset y1 f v",
        "ACL DRYRUN ivan get z",
        "ACL SETUSER ivan clearselectors",
        "ACL GETUSER ivan",
        "ACL SETUSER ivan (~a",
        "ACL SETUSER ivan (~a +bad)",
        "ACL SETUSER heidi skip-sanitize-payload on nopass",
        "ACL GETUSER heidi",
        "ACL LIST",
        "ACL USERS",
        "ACL SETUSER x badrule",
        "ACL SETUSER x +nosuch",
        "ACL SETUSER x +@nosuch",
        "ACL SETUSER x -get|x",
        "ACL SETUSER x +config|nosuch",
        "ACL SETUSER x +config|get|x",
        "ACL SETUSER x %X~a",
        "ACL SETUSER x %~a",
        "ACL SETUSER x #abc",
        "ACL SETUSER x <nopw",
        "ACL SETUSER x !abc",
        "ACL SETUSER x allkeys ~a",
        "ACL SETUSER x allchannels &a",
        "ACL SETUSER x ~* ~a",
        "ACL USERS",
        "ACL DELUSER default",
        "ACL DELUSER nosuch heidi",
        "ACL GETUSER nosuch",
        "ACL DRYRUN alice get a1",
        "ACL DRYRUN alice get x",
        "ACL DRYRUN alice get r1",
        "ACL DRYRUN alice set r1 v",
        "ACL DRYRUN alice set w1 v",
        "ACL DRYRUN alice set w1 v get",
        "ACL DRYRUN alice del a1",
        "ACL DRYRUN alice hget a1 f",
        "ACL DRYRUN nosuch get a1",
        "ACL DRYRUN alice nosuchcmd",
        "ACL DRYRUN alice config nosuch",
        "ACL DRYRUN alice get",
        "ACL DRYRUN bob flushall",
        "ACL DRYRUN bob config get port",
        "ACL CAT",
        "ACL CAT nosuch",
        "ACL GENPASS 0",
        "ACL GENPASS 5000",
        "ACL GENPASS x",
        "ACL LOG x",
        "ACL LOG 1 2",
        "ACL LOG -1",
        "ACL NOSUCH",
        "ACL LOAD",
        "ACL SAVE",
        "ACL HELP",
        "ACL",
        "AUTH alice wrong",
        "HELLO 2 AUTH alice wrong",
        "HELLO 3 AUTH nosuch x",
        "AUTH nosuch x",
        "AUTH x",
    ]
    .iter()
    .map(|l| {
        l.replace("HASH", hash)
            .split(' ')
            .map(String::from)
            .collect()
    })
    .collect();
    let mut tc = tern.client();
    let mut rc = redis.client();
    for args in &admin_script {
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let (t, r) = (q(&mut tc, &a), q(&mut rc, &a));
        assert_eq!(norm_result(&t), norm_result(&r), "{a:?}");
    }
    // RESP3 shapes (maps, the flags set).
    let mut t3 = tern.client_resp3();
    let mut r3 = redis.client_resp3();
    for a in [
        &["ACL", "GETUSER", "alice"][..],
        &["ACL", "GETUSER", "ivan"],
        &["ACL", "GETUSER", "nosuch"],
        &["ACL", "DRYRUN", "alice", "get", "x"],
        &["ACL", "USERS"],
    ] {
        assert_eq!(
            norm_result(&q(&mut t3, a)),
            norm_result(&q(&mut r3, a)),
            "{a:?}"
        );
    }
    // Commands as a restricted user, on both.
    let user_script: &[&[&str]] = &[
        &["GET", "a1"],
        &["GET", "x"],
        &["SET", "r1", "v"],
        &["SET", "w1", "v"],
        &["SET", "w1", "v", "GET"],
        &["DEL", "a1"],
        &["HGET", "a1", "f"],
        &["HSET", "a1", "f", "v"],
        &["CLIENT", "LIST"],
        &["CONFIG", "GET", "port"],
        &["PUBLISH", "ch1", "m"],
        &["ACL", "WHOAMI"],
    ];
    let mut ta = as_user(&tern, "alice", "pa");
    let mut ra = as_user(&redis, "alice", "pa");
    for a in user_script {
        assert_eq!(
            norm_result(&q(&mut ta, a)),
            norm_result(&q(&mut ra, a)),
            "{a:?}"
        );
    }
    let mut tr = raw_as(&tern, "alice", "pa");
    let mut rr = raw_as(&redis, "alice", "pa");
    for a in [
        &["PSUBSCRIBE", "ch*x"][..],
        &["SUBSCRIBE", "zz"],
        &["MULTI"],
        &["DEL", "a1"],
        &["EXEC"],
    ] {
        assert_eq!(tr.cmd(a), rr.cmd(a), "{a:?}");
    }
    // The ACL log: every field but the age and the client-info line.
    let (tl, rl) = (log_entries(&mut tc), log_entries(&mut rc));
    assert_eq!(short(&tl), short(&rl));
    for (t, r) in tl.iter().zip(&rl) {
        let field = |line: &str, f: &str| {
            line.split(' ')
                .find(|kv| kv.starts_with(&format!("{f}=")))
                .map(String::from)
        };
        for f in ["cmd", "user", "db", "multi", "flags", "name"] {
            assert_eq!(field(&t.5, f), field(&r.5, f), "{f} in {} / {}", t.5, r.5);
        }
    }
}

/// Normalises a reply for comparison (see `acl_replies_match_redis`).
fn norm_result(r: &Result<Value, String>) -> String {
    match r {
        Ok(v) => norm(v),
        Err(e) => format!("ERR<{e}>"),
    }
}

fn norm(v: &Value) -> String {
    match v {
        Value::BulkString(b) => norm_rules(&String::from_utf8_lossy(b)),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Array(a) | Value::Set(a) => {
            format!("[{}]", a.iter().map(norm).collect::<Vec<_>>().join(", "))
        }
        Value::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", norm(k), norm(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{other:?}"),
    }
}

/// Sorts each run of single-command rules (`+get -set`) in a rule description.
fn norm_rules(s: &str) -> String {
    if !s.contains("@all") {
        return s.to_string();
    }
    let toks: Vec<&str> = s.split(' ').collect();
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    for t in toks {
        let single = (t.starts_with('+') || t.starts_with('-'))
            && !t.starts_with("+@")
            && !t.starts_with("-@");
        if single {
            run.push(t);
            continue;
        }
        run.sort();
        out.extend(run.drain(..).map(String::from));
        out.push(t.to_string());
    }
    run.sort();
    out.extend(run.drain(..).map(String::from));
    out.join(" ")
}

/// A tern replica authenticates to a tern primary as a user that may only run what a replica
/// needs (Redis's documented `+psync +replconf +ping`), syncs, and follows writes; with a wrong
/// password its link stays down.
#[test]
fn replica_authenticates_with_masteruser_limited_to_replication() {
    let primary = TestServer::start_tern(None, &[]);
    let mut p = primary.client();
    ok(
        &mut p,
        &[
            "ACL",
            "SETUSER",
            "replica-user",
            "on",
            ">rpass",
            "+psync",
            "+replconf",
            "+ping",
        ],
    );
    ok(&mut p, &["SET", "before", "1"]);
    let replica = TestServer::start_tern(
        None,
        &["--masteruser", "replica-user", "--masterauth", "rpass"],
    );
    let mut r = replica.client();
    ok(
        &mut r,
        &["REPLICAOF", "127.0.0.1", &primary.port().to_string()],
    );
    let info_link = |c: &mut redis::Connection| {
        info_field(
            &text(&ok(c, &["INFO", "replication"])),
            "master_link_status",
        )
        .unwrap_or_default()
    };
    assert!(
        wait_for(|| info_link(&mut r) == "up", Duration::from_secs(20)),
        "{}",
        replica.logs()
    );
    ok(&mut p, &["SET", "after", "2"]);
    assert!(wait_for(
        || q(&mut r, &["GET", "after"]) == Ok(bulk("2")),
        Duration::from_secs(20)
    ));
    assert_eq!(ok(&mut r, &["GET", "before"]), bulk("1"));
    // The replica's user could do nothing else.
    let mut as_replica = as_user(&primary, "replica-user", "rpass");
    assert!(err(&mut as_replica, &["GET", "before"]).starts_with(NOPERM_CMD));

    // A wrong password: the link never comes up and the primary logs the failed AUTH.
    let bad = TestServer::start_tern(
        None,
        &["--masteruser", "replica-user", "--masterauth", "wrong"],
    );
    let mut b = bad.client();
    ok(
        &mut b,
        &["REPLICAOF", "127.0.0.1", &primary.port().to_string()],
    );
    assert!(wait_for(
        || log_entries(&mut p)
            .iter()
            .any(|e| e.1 == "auth" && e.4 == "replica-user"),
        Duration::from_secs(20)
    ));
    assert_eq!(info_link(&mut b), "down");
    assert_eq!(ok(&mut b, &["GET", "before"]), Value::Nil);
}

/// The ACL categories of every command tern has equal redis-server's (COMMAND INFO), so
/// `+@category` rules mean the same on both.
#[test]
fn command_acl_categories_match_redis() {
    let tern = TestServer::start_tern(None, &[]);
    let redis = RedisServer::start();
    let cats = |s: &TestServer| {
        let mut out = std::collections::BTreeMap::new();
        fn walk(e: &Value, out: &mut std::collections::BTreeMap<String, Vec<String>>) {
            let f = items(e);
            let mut c: Vec<String> = items(&f[6]).iter().map(text).collect();
            c.sort();
            out.insert(text(&f[0]), c);
            for sub in items(&f[9]) {
                walk(&sub, out);
            }
        }
        for e in items(&ok(&mut s.client(), &["COMMAND"])) {
            walk(&e, &mut out);
        }
        out
    };
    let (t, r) = (cats(&tern), cats(&redis));
    let mut compared = 0;
    for (name, c) in &t {
        if let Some(rc) = r.get(name) {
            assert_eq!(c, rc, "categories of {name}");
            compared += 1;
        }
    }
    assert!(compared > 200, "{compared}");
}

/// Per-key read/write permissions agree with Redis's key specs: ACL DRYRUN of commands with
/// keys for a user who may read `r*` and write `w*`, on both servers.
#[test]
fn key_permissions_match_redis_for_read_and_write_patterns() {
    let tern = TestServer::start_tern(None, &[]);
    let redis = RedisServer::start();
    let rules = [
        "ACL", "SETUSER", "k", "on", "+@all", "%R~r*", "%W~w*", "~b*",
    ];
    ok(&mut tern.client(), &rules);
    ok(&mut redis.client(), &rules);
    let cmds: &[&str] = &[
        "get K",
        "set K v",
        "set K v GET",
        "setnx K v",
        "getset K v",
        "getdel K",
        "getex K",
        "append K v",
        "incr K",
        "strlen K",
        "getrange K 0 1",
        "setrange K 0 v",
        "mget K K",
        "mset K v",
        "del K",
        "unlink K",
        "exists K",
        "type K",
        "ttl K",
        "expire K 10",
        "persist K",
        "touch K",
        "dump K",
        "rename K K2",
        "renamenx K K2",
        "copy K K2",
        "object encoding K",
        "lpush K v",
        "lpop K",
        "llen K",
        "lrange K 0 1",
        "lmove K K2 LEFT LEFT",
        "rpoplpush K K2",
        "blpop K 1",
        "hset K f v",
        "hget K f",
        "hdel K f",
        "hincrby K f 1",
        "hlen K",
        "sadd K m",
        "srem K m",
        "smembers K",
        "sinterstore K K2",
        "sunion K K2",
        "smove K K2 m",
        "zadd K 1 m",
        "zrange K 0 1",
        "zunionstore K 1 K2",
        "zrangestore K K2 0 1",
        "zpopmin K",
        "setbit K 1 1",
        "getbit K 1",
        "bitop AND K K2",
        "bitfield K GET u8 0",
        "bitfield K SET u8 0 1",
        "pfadd K a",
        "pfcount K",
        "pfmerge K K2",
        "sort K",
        "sort K STORE K2",
        "sort_ro K",
        "eval return 1 1 K",
        "lmpop 1 K LEFT",
        "watch K",
    ];
    let mut tc = tern.client();
    let mut rc = redis.client();
    for c in cmds {
        for (k, k2) in [
            ("r1", "w1"),
            ("w1", "r1"),
            ("b1", "r1"),
            ("r1", "b1"),
            ("w1", "w2"),
        ] {
            let line = c.replace("K2", k2).replace('K', k);
            let mut a = vec!["ACL", "DRYRUN", "k"];
            a.extend(line.split(' '));
            assert_eq!(q(&mut tc, &a), q(&mut rc, &a), "{line}");
        }
    }
}

/// Without an ACL file, CONFIG REWRITE writes the users as `user` lines (the default user
/// too), as Redis does, and a restart loads them back.
#[test]
fn config_rewrite_writes_users_into_the_config_file() {
    let dir = test_dir("acl-rewrite");
    let conf = dir.join("tern.conf");
    std::fs::write(&conf, "# test\nuser old on nopass +ping\n").unwrap();
    let d = dir.display().to_string();
    let s = TestServer::start_with_config(&conf, &["--dir", &d]);
    let mut c = s.client();
    ok(&mut c, &["ACL", "DELUSER", "old"]);
    ok(&mut c, &["ACL", "SETUSER", "zed", "on", ">x", "+get"]);
    assert_eq!(ok(&mut c, &["CONFIG", "REWRITE"]), Value::Okay);
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(
        text.contains("\nuser default on nopass ~* &* +@all\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "\nuser zed on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 resetchannels -@all +get\n"
        ),
        "{text}"
    );
    assert!(!text.contains("user old"), "{text}");
    drop(c);
    drop(s);
    let s = TestServer::start_with_config(&conf, &["--dir", &d]);
    assert_eq!(
        sorted_texts(&ok(&mut s.client(), &["ACL", "USERS"])),
        vec!["default", "zed"]
    );
}

/// A relative `aclfile` is relative to `dir`, as in Redis (which runs in `dir`).
#[test]
fn a_relative_aclfile_lives_in_dir() {
    let dir = test_dir("acl-relative");
    std::fs::write(
        dir.join("users.acl"),
        "user default on nopass ~* &* +@all\nuser rel on >pr +ping\n",
    )
    .unwrap();
    let d = dir.display().to_string();
    let s = TestServer::start_with(&["--dir", &d, "--aclfile", "users.acl"]);
    let mut c = s.client();
    assert_eq!(
        sorted_texts(&ok(&mut c, &["ACL", "USERS"])),
        vec!["default", "rel"]
    );
    ok(&mut c, &["ACL", "SETUSER", "rel2", "on", ">x"]);
    assert_eq!(ok(&mut c, &["ACL", "SAVE"]), Value::Okay);
    let saved = std::fs::read_to_string(dir.join("users.acl")).unwrap();
    assert!(saved.contains("user rel2 on #"), "{saved}");
}

/// SORT's BY and GET patterns name keys no rule can check in advance: a user who may not read
/// every key gets Redis's refusal (BY without `*` does not sort and stays allowed).
#[test]
fn sort_by_and_get_patterns_need_access_to_every_key() {
    let s = TestServer::start();
    let mut admin = s.client();
    ok(&mut admin, &["RPUSH", "kl", "1", "2"]);
    ok(
        &mut admin,
        &["ACL", "SETUSER", "s1", "on", ">p", "+@all", "~k*"],
    );
    ok(
        &mut admin,
        &["ACL", "SETUSER", "s2", "on", ">p", "+@all", "%R~*"],
    );
    let mut s1 = as_user(&s, "s1", "p");
    assert_eq!(
        err(&mut s1, &["SORT", "kl", "BY", "w_*"]),
        "ERR BY option of SORT denied due to insufficient ACL permissions."
    );
    assert_eq!(
        err(&mut s1, &["SORT", "kl", "GET", "#"]),
        "ERR GET option of SORT denied due to insufficient ACL permissions."
    );
    assert_eq!(
        items(&ok(&mut s1, &["SORT", "kl", "BY", "nosort"])).len(),
        2
    );
    // Inside a script too: the script runs as its caller.
    let e = err(
        &mut s1,
        &[
            "EVAL",
            "return redis.call('sort', KEYS[1], 'BY', 'w_*')",
            "1",
            "kl",
        ],
    );
    assert!(
        e.starts_with("ERR BY option of SORT denied due to insufficient ACL permissions."),
        "{e}"
    );
    let mut s2 = as_user(&s, "s2", "p");
    assert_eq!(
        items(&ok(&mut s2, &["SORT", "kl", "BY", "w_*", "GET", "#"])).len(),
        2
    );
}
