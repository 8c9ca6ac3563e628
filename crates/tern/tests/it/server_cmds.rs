//! Connection and server commands: PING ECHO QUIT RESET HELLO AUTH, CLIENT, INFO, CONFIG,
//! COMMAND, TIME, MONITOR, SLOWLOG, DEBUG and SHUTDOWN, with Redis 7 replies.

use crate::harness::*;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A map reply (RESP3 map, or RESP2 flat array of pairs) as text keys to values.
fn as_map(v: &Value) -> HashMap<String, Value> {
    match v {
        Value::Map(m) => m.iter().map(|(k, v)| (text(k), v.clone())).collect(),
        Value::Array(a) => {
            assert!(a.len() % 2 == 0, "odd-length map array {a:?}");
            a.chunks(2).map(|p| (text(&p[0]), p[1].clone())).collect()
        }
        other => panic!("expected a map reply, got {other:?}"),
    }
}

fn info(c: &mut redis::Connection, section: &[&str]) -> String {
    let mut args = vec!["INFO"];
    args.extend_from_slice(section);
    text(&ok(c, &args))
}

// ---------------------------------------------------------------------------------------------
// PING ECHO QUIT RESET

#[test]
fn ping_replies_pong_or_echoes_its_argument() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["PING"]), Value::SimpleString("PONG".into()));
    assert_eq!(ok(&mut c, &["PING", "hi there"]), bulk("hi there"));
    assert_eq!(
        err(&mut c, &["PING", "a", "b"]),
        "ERR wrong number of arguments for 'ping' command"
    );
    assert_eq!(ok(&mut c, &["ECHO", "hello"]), bulk("hello"));
    assert_eq!(ok(&mut c, &["ECHO", ""]), bulk(""));
    assert_eq!(
        err(&mut c, &["ECHO"]),
        "ERR wrong number of arguments for 'echo' command"
    );
    assert_eq!(
        err(&mut c, &["ECHO", "a", "b"]),
        "ERR wrong number of arguments for 'echo' command"
    );
}

#[test]
fn quit_replies_ok_then_closes_the_connection() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    assert_eq!(r.cmd(&["QUIT"]), Resp::Simple("OK".into()));
    assert!(r.closed_within(Duration::from_secs(2)));
    s.assert_alive();
}

#[test]
fn reset_restores_database_protocol_and_name() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    assert_eq!(r.cmd(&["SELECT", "3"]), Resp::Simple("OK".into()));
    assert_eq!(
        r.cmd(&["CLIENT", "SETNAME", "me"]),
        Resp::Simple("OK".into())
    );
    assert!(matches!(r.cmd(&["HELLO", "3"]), Resp::Map(_)));
    assert_eq!(r.cmd(&["RESET"]), Resp::Simple("RESET".into()));
    // Back to RESP2 (a nil bulk, not `_`), database 0, no name.
    assert_eq!(r.cmd(&["CLIENT", "GETNAME"]), Resp::Bulk(None));
    let info = r.cmd(&["CLIENT", "INFO"]).text();
    assert!(info.contains(" db=0 "), "{info}");
    assert!(info.contains(" resp=2"), "{info}");
    assert_eq!(
        r.cmd(&["RESET", "x"]),
        Resp::Error("ERR wrong number of arguments for 'reset' command".into())
    );
}

// ---------------------------------------------------------------------------------------------
// HELLO and AUTH

#[test]
fn hello_reports_server_details_and_switches_protocol() {
    let s = TestServer::start();
    let mut c = s.client();
    let m = as_map(&ok(&mut c, &["HELLO"]));
    assert_eq!(text(&m["server"]), "redis");
    assert!(text(&m["version"]).starts_with('7'), "{:?}", m["version"]);
    assert_eq!(m["proto"], int(2));
    assert_eq!(m["mode"], bulk("standalone"));
    assert_eq!(m["role"], bulk("master"));
    assert_eq!(m["modules"], Value::Array(vec![]));
    let id = as_int(&m["id"]);
    assert_eq!(ok(&mut c, &["CLIENT", "ID"]), int(id));
    assert_eq!(
        err(&mut c, &["HELLO", "4"]),
        "NOPROTO unsupported protocol version"
    );
    assert_eq!(
        err(&mut c, &["HELLO", "1"]),
        "NOPROTO unsupported protocol version"
    );
    assert_eq!(
        err(&mut c, &["HELLO", "x"]),
        "ERR Protocol version is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["HELLO", "2", "FOO"]),
        "ERR Syntax error in HELLO option 'FOO'"
    );
    let m = as_map(&ok(&mut c, &["HELLO", "2", "SETNAME", "named"]));
    assert_eq!(m["proto"], int(2));
    assert_eq!(ok(&mut c, &["CLIENT", "GETNAME"]), bulk("named"));
}

#[test]
fn resp3_client_gets_maps_and_nulls() {
    let s = TestServer::start();
    let mut c = s.client_resp3();
    assert_eq!(ok(&mut c, &["GET", "missing"]), Value::Nil);
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("v"));
    let m = as_map(&ok(&mut c, &["HELLO", "3"]));
    assert_eq!(m["proto"], int(3));
    assert!(matches!(
        ok(&mut c, &["CONFIG", "GET", "maxmemory"]),
        Value::Map(_)
    ));
}

#[test]
fn auth_with_requirepass_rejects_commands_until_the_right_password() {
    let s = TestServer::start_with(&["--requirepass", "s3cret"]);
    let mut c = s.client();
    assert_eq!(
        err(&mut c, &["GET", "k"]),
        "NOAUTH Authentication required."
    );
    assert_eq!(
        err(&mut c, &["SET", "k", "v"]),
        "NOAUTH Authentication required."
    );
    assert_eq!(
        err(&mut c, &["AUTH", "wrong"]),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(
        err(&mut c, &["AUTH", "someone", "s3cret"]),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(
        err(&mut c, &["GET", "k"]),
        "NOAUTH Authentication required."
    );
    assert_eq!(
        err(&mut c, &["HELLO", "3"]),
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
    );
    assert_eq!(ok(&mut c, &["AUTH", "s3cret"]), Value::Okay);
    assert_eq!(ok(&mut c, &["SET", "k", "v"]), Value::Okay);
    // AUTH default <password> works too, and so does a client that authenticates on connect.
    let mut d = s.client();
    assert_eq!(ok(&mut d, &["AUTH", "default", "s3cret"]), Value::Okay);
    assert_eq!(ok(&mut d, &["GET", "k"]), bulk("v"));
    let mut e = s.client_auth("s3cret");
    assert_eq!(ok(&mut e, &["GET", "k"]), bulk("v"));
    assert_eq!(err(&mut e, &["AUTH", "a", "b", "c"]), "ERR syntax error");
}

#[test]
fn hello_auth_authenticates_and_reset_forgets_it() {
    let s = TestServer::start_with(&["--requirepass", "pw"]);
    let mut r = s.raw_conn();
    assert_eq!(
        r.cmd(&["HELLO", "3", "AUTH", "default", "bad"]),
        Resp::Error("WRONGPASS invalid username-password pair or user is disabled.".into())
    );
    let Resp::Map(m) = r.cmd(&["HELLO", "3", "AUTH", "default", "pw"]) else {
        panic!("HELLO 3 should reply a map")
    };
    assert!(m.contains(&(Resp::bulk("proto"), Resp::Int(3))));
    assert_eq!(r.cmd(&["GET", "missing"]), Resp::Null);
    assert_eq!(r.cmd(&["RESET"]), Resp::Simple("RESET".into()));
    assert_eq!(
        r.cmd(&["GET", "missing"]),
        Resp::Error("NOAUTH Authentication required.".into())
    );
}

#[test]
fn auth_without_requirepass_explains_that_no_password_is_set() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(
        err(&mut c, &["AUTH", "x"]),
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
    );
}

// ---------------------------------------------------------------------------------------------
// CLIENT

#[test]
fn client_id_is_unique_per_connection_and_increasing() {
    let s = TestServer::start();
    let mut a = s.client();
    let mut b = s.client();
    let ia = as_int(&ok(&mut a, &["CLIENT", "ID"]));
    let ib = as_int(&ok(&mut b, &["CLIENT", "ID"]));
    assert!(ib > ia, "{ia} then {ib}");
    assert_eq!(ok(&mut a, &["CLIENT", "ID"]), int(ia));
}

#[test]
fn client_setname_and_getname_store_a_validated_name() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["CLIENT", "GETNAME"]), Value::Nil);
    assert_eq!(ok(&mut c, &["CLIENT", "SETNAME", "worker-1"]), Value::Okay);
    assert_eq!(ok(&mut c, &["CLIENT", "GETNAME"]), bulk("worker-1"));
    assert_eq!(
        err(&mut c, &["CLIENT", "SETNAME", "has space"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "SETNAME", "new\nline"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    // An empty name clears it.
    assert_eq!(ok(&mut c, &["CLIENT", "SETNAME", ""]), Value::Okay);
    assert_eq!(ok(&mut c, &["CLIENT", "GETNAME"]), Value::Nil);
    assert_eq!(
        err(&mut c, &["CLIENT", "SETNAME"]),
        "ERR wrong number of arguments for 'client|setname' command"
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "FOO"]),
        "ERR unknown subcommand 'FOO'. Try CLIENT HELP."
    );
}

/// The field names of a CLIENT LIST line, in order.
fn field_names(line: &str) -> Vec<String> {
    line.split(' ')
        .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_string()))
        .collect()
}

#[test]
fn client_list_and_info_describe_connections_with_redis_fields() {
    let s = TestServer::start();
    let mut a = s.client();
    let mut b = s.client();
    ok(&mut a, &["CLIENT", "SETNAME", "alpha"]);
    ok(&mut b, &["SELECT", "2"]);
    let ida = as_int(&ok(&mut a, &["CLIENT", "ID"]));
    let idb = as_int(&ok(&mut b, &["CLIENT", "ID"]));
    let list = text(&ok(&mut a, &["CLIENT", "LIST"]));
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines.len() >= 2, "{list}");
    let la = lines
        .iter()
        .find(|l| l.starts_with(&format!("id={ida} ")))
        .unwrap_or_else(|| panic!("no line for id {ida} in {list}"));
    assert!(la.contains(" addr=127.0.0.1:"), "{la}");
    assert!(la.contains(&format!(" laddr={}", s.addr())), "{la}");
    assert!(la.contains(" name=alpha "), "{la}");
    assert!(la.contains(" db=0 "), "{la}");
    assert!(la.contains(" flags=N "), "{la}");
    assert!(la.contains(" cmd=client|list "), "{la}");
    assert!(la.contains(" user=default "), "{la}");
    // Redis 7.0's fields, in Redis's order (later versions add fields; order is kept).
    let want = [
        "id",
        "addr",
        "laddr",
        "fd",
        "name",
        "age",
        "idle",
        "flags",
        "db",
        "sub",
        "psub",
        "ssub",
        "multi",
        "qbuf",
        "qbuf-free",
        "argv-mem",
        "multi-mem",
        "rbs",
        "rbp",
        "obl",
        "oll",
        "omem",
        "tot-mem",
        "events",
        "cmd",
        "user",
        "redir",
        "resp",
    ];
    let got = field_names(la);
    let mut it = got.iter();
    for w in want {
        assert!(
            it.any(|g| g == w),
            "field {w} missing or out of order in {got:?}"
        );
    }
    let lb = text(&ok(&mut b, &["CLIENT", "INFO"]));
    assert!(lb.starts_with(&format!("id={idb} ")), "{lb}");
    assert!(lb.contains(" db=2 "), "{lb}");
    assert!(lb.contains(" cmd=client|info "), "{lb}");
    assert_eq!(lb.lines().count(), 1);
    // Filters.
    let only_b = text(&ok(&mut a, &["CLIENT", "LIST", "ID", &idb.to_string()]));
    assert_eq!(only_b.lines().count(), 1, "{only_b}");
    assert!(only_b.starts_with(&format!("id={idb} ")));
    let normal = text(&ok(&mut a, &["CLIENT", "LIST", "TYPE", "normal"]));
    assert!(normal.lines().count() >= 2);
    assert_eq!(
        err(&mut a, &["CLIENT", "LIST", "TYPE", "bogus"]),
        "ERR Unknown client type 'bogus'"
    );
}

#[test]
fn client_kill_closes_the_chosen_connection() {
    let s = TestServer::start();
    let mut killer = s.client();
    let mut victim = s.raw_conn();
    let vid = match victim.cmd(&["CLIENT", "ID"]) {
        Resp::Int(i) => i,
        other => panic!("CLIENT ID replied {other:?}"),
    };
    assert_eq!(
        ok(&mut killer, &["CLIENT", "KILL", "ID", &vid.to_string()]),
        int(1)
    );
    assert!(victim.closed_within(Duration::from_secs(2)));
    // Old style, by address.
    let mut v2 = s.raw_conn();
    let addr = v2.stream.local_addr().unwrap().to_string();
    assert_eq!(v2.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert_eq!(ok(&mut killer, &["CLIENT", "KILL", &addr]), Value::Okay);
    assert!(v2.closed_within(Duration::from_secs(2)));
    assert_eq!(
        err(&mut killer, &["CLIENT", "KILL", &addr]),
        "ERR No such client"
    );
    // New style by address counts; no match is 0; SKIPME (default yes) spares the caller.
    let mut v3 = s.raw_conn();
    let addr3 = v3.stream.local_addr().unwrap().to_string();
    assert_eq!(v3.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert_eq!(ok(&mut killer, &["CLIENT", "KILL", "ADDR", &addr3]), int(1));
    assert!(v3.closed_within(Duration::from_secs(2)));
    assert_eq!(ok(&mut killer, &["CLIENT", "KILL", "ID", "999999"]), int(0));
    let me = as_int(&ok(&mut killer, &["CLIENT", "ID"]));
    assert_eq!(
        ok(&mut killer, &["CLIENT", "KILL", "ID", &me.to_string()]),
        int(0)
    );
    assert_eq!(
        ok(&mut killer, &["PING"]),
        Value::SimpleString("PONG".into())
    );
    assert_eq!(
        err(&mut killer, &["CLIENT", "KILL", "FOO", "bar"]),
        "ERR syntax error"
    );
}

/// CLIENT SETINFO is Redis 7.2: with `TERN_IT_SERVER=redis` (Debian's 7.0) this one fails.
#[test]
fn client_setinfo_records_library_name_and_version() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(
        ok(&mut c, &["CLIENT", "SETINFO", "LIB-NAME", "tern-it"]),
        Value::Okay
    );
    assert_eq!(
        ok(&mut c, &["CLIENT", "SETINFO", "lib-ver", "1.2.3"]),
        Value::Okay
    );
    let info = text(&ok(&mut c, &["CLIENT", "INFO"]));
    assert!(info.contains(" lib-name=tern-it lib-ver=1.2.3"), "{info}");
    assert_eq!(
        err(&mut c, &["CLIENT", "SETINFO", "badger", "hamster"]),
        "ERR Unrecognized option 'badger'"
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "SETINFO", "lib-name", "a b"]),
        "ERR lib-name cannot contain spaces, newlines or special characters."
    );
    let info = text(&ok(&mut c, &["CLIENT", "INFO"]));
    assert!(info.contains(" lib-name=tern-it "), "{info}");
}

#[test]
fn client_reply_off_and_skip_suppress_replies() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    // OFF: nothing comes back until ON, which replies OK.
    r.send(&encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    r.send(&encode(&[b"SET", b"k", b"1"]));
    r.send(&encode(&[b"GET", b"k"]));
    assert_eq!(r.cmd(&["CLIENT", "REPLY", "ON"]), Resp::Simple("OK".into()));
    // SKIP: only the next command's reply is dropped.
    r.send(&encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
    r.send(&encode(&[b"INCR", b"k"]));
    assert_eq!(r.cmd(&["GET", "k"]), Resp::bulk("2"));
    assert_eq!(
        r.cmd(&["CLIENT", "REPLY", "MAYBE"]),
        Resp::Error("ERR syntax error".into())
    );
}

#[test]
fn client_pause_write_holds_writes_but_not_reads_until_unpause() {
    let s = TestServer::start();
    let mut admin = s.client();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "before"]);
    assert_eq!(
        ok(&mut admin, &["CLIENT", "PAUSE", "20000", "WRITE"]),
        Value::Okay
    );
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("before"));
    let url = s.url();
    let writer = std::thread::spawn(move || {
        let mut w = redis::Client::open(url).unwrap().get_connection().unwrap();
        w.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let t0 = Instant::now();
        let r: Value = redis::cmd("SET")
            .arg("k")
            .arg("after")
            .query(&mut w)
            .unwrap();
        (r, t0.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("before"));
    assert!(!writer.is_finished(), "SET ran while writes were paused");
    assert_eq!(ok(&mut admin, &["CLIENT", "UNPAUSE"]), Value::Okay);
    let (r, took) = writer.join().unwrap();
    assert_eq!(r, Value::Okay);
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("after"));
    assert_eq!(
        err(&mut admin, &["CLIENT", "PAUSE", "abc"]),
        "ERR timeout is not an integer or out of range"
    );
    assert_eq!(
        err(&mut admin, &["CLIENT", "PAUSE", "10", "FOO"]),
        "ERR CLIENT PAUSE mode must be WRITE or ALL"
    );
}

#[test]
fn client_pause_all_expires_by_itself() {
    let s = TestServer::start();
    let mut admin = s.client();
    let mut c = s.client();
    let t0 = Instant::now();
    ok(&mut admin, &["CLIENT", "PAUSE", "300"]);
    assert_eq!(ok(&mut c, &["PING"]), Value::SimpleString("PONG".into()));
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

// ---------------------------------------------------------------------------------------------
// INFO

#[test]
fn info_has_redis_sections_and_fields() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["CONFIG", "RESETSTAT"]);
    ok(&mut c, &["SET", "k", "v", "EX", "1000"]);
    ok(&mut c, &["SET", "k2", "v"]);
    ok(&mut c, &["GET", "k"]);
    ok(&mut c, &["GET", "nope"]);
    let _ = q(&mut c, &["NOSUCHCOMMAND"]);
    let all = info(&mut c, &[]);
    for section in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Keyspace",
    ] {
        assert!(all.contains(section), "INFO lacks {section}:\n{all}");
    }
    assert!(all.contains("\r\n"), "INFO lines end with CRLF");
    let server = info(&mut c, &["server"]);
    assert!(server.starts_with("# Server\r\n"), "{server}");
    assert!(!server.contains("# Clients"));
    assert!(info_field(&server, "redis_version")
        .unwrap()
        .starts_with('7'));
    assert_eq!(
        info_field(&server, "tcp_port").unwrap(),
        s.port().to_string()
    );
    assert_eq!(
        info_field(&server, "process_id").unwrap(),
        s.pid().to_string()
    );
    let clients = info(&mut c, &["clients"]);
    assert!(
        info_field(&clients, "connected_clients")
            .unwrap()
            .parse::<i64>()
            .unwrap()
            >= 1
    );
    let mem = info(&mut c, &["memory"]);
    assert!(
        info_field(&mem, "used_memory")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    let stats = info(&mut c, &["stats"]);
    assert!(
        info_field(&stats, "total_commands_processed")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 5
    );
    assert_eq!(info_field(&stats, "keyspace_hits").unwrap(), "1");
    assert_eq!(info_field(&stats, "keyspace_misses").unwrap(), "1");
    let ks = info(&mut c, &["keyspace"]);
    let db0 = info_field(&ks, "db0").unwrap();
    assert!(db0.starts_with("keys=2,expires=1,avg_ttl="), "{db0}");
    let cs = info(&mut c, &["commandstats"]);
    let set = info_field(&cs, "cmdstat_set").unwrap();
    assert!(set.starts_with("calls=2,usec="), "{set}");
    assert!(set.contains(",rejected_calls=0,failed_calls=0"), "{set}");
    let es = info(&mut c, &["errorstats"]);
    assert_eq!(info_field(&es, "errorstat_ERR").unwrap(), "count=1");
    // Several sections at once (Redis 7), and unknown sections give nothing.
    let two = info(&mut c, &["server", "clients"]);
    assert!(two.contains("# Server") && two.contains("# Clients") && !two.contains("# Memory"));
    assert_eq!(info(&mut c, &["nosuchsection"]), "");
    let everything = info(&mut c, &["everything"]);
    assert!(everything.contains("# Commandstats"));
}

// ---------------------------------------------------------------------------------------------
// CONFIG

#[test]
fn config_get_and_set_read_and_change_settings() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(
        ok(&mut c, &["CONFIG", "GET", "maxmemory"]),
        Value::Array(vec![bulk("maxmemory"), bulk("0")])
    );
    assert_eq!(
        ok(&mut c, &["CONFIG", "SET", "maxmemory", "10mb"]),
        Value::Okay
    );
    assert_eq!(
        as_map(&ok(&mut c, &["CONFIG", "GET", "maxmemory"]))["maxmemory"],
        bulk("10485760")
    );
    // Several parameters at once, and glob patterns.
    assert_eq!(
        ok(
            &mut c,
            &["CONFIG", "SET", "maxmemory", "0", "slowlog-max-len", "64"]
        ),
        Value::Okay
    );
    let m = as_map(&ok(&mut c, &["CONFIG", "GET", "slowlog-*", "maxmemory"]));
    assert_eq!(m["slowlog-max-len"], bulk("64"));
    assert_eq!(m["maxmemory"], bulk("0"));
    assert!(m.contains_key("slowlog-log-slower-than"));
    assert_eq!(
        ok(&mut c, &["CONFIG", "GET", "nosuchparam"]),
        Value::Array(vec![])
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "nosuchparam", "1"]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuchparam'"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "maxmemory", "lots"]),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "maxmemory"]),
        "ERR wrong number of arguments for 'config|set' command"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "GET"]),
        "ERR wrong number of arguments for 'config|get' command"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "FOO"]),
        "ERR unknown subcommand 'FOO'. Try CONFIG HELP."
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "daemonize", "yes"]),
        "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"
    );
}

#[test]
fn config_resetstat_zeroes_the_counters() {
    let s = TestServer::start();
    let mut c = s.client();
    for _ in 0..10 {
        ok(&mut c, &["GET", "x"]);
    }
    let _ = q(&mut c, &["NOSUCHCOMMAND"]);
    assert_eq!(ok(&mut c, &["CONFIG", "RESETSTAT"]), Value::Okay);
    let stats = info(&mut c, &["stats"]);
    let n: u64 = info_field(&stats, "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    assert!(n <= 2, "total_commands_processed {n} after RESETSTAT");
    assert_eq!(info_field(&stats, "keyspace_misses").unwrap(), "0");
    assert_eq!(info_field(&stats, "total_error_replies").unwrap(), "0");
    let cs = info(&mut c, &["commandstats"]);
    assert!(info_field(&cs, "cmdstat_get").is_none(), "{cs}");
}

#[test]
fn config_rewrite_needs_a_config_file_and_then_persists_changes() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(
        err(&mut c, &["CONFIG", "REWRITE"]),
        "ERR The server is running without a config file"
    );
    drop(c);
    drop(s);
    let dir = std::env::temp_dir().join(format!("tern-it-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tern.conf");
    std::fs::write(&path, "# test config\nmaxmemory-policy allkeys-lru\n").unwrap();
    let s = TestServer::start_with_config(&path, &[]);
    let mut c = s.client();
    assert_eq!(
        as_map(&ok(&mut c, &["CONFIG", "GET", "maxmemory-policy"]))["maxmemory-policy"],
        bulk("allkeys-lru")
    );
    ok(&mut c, &["CONFIG", "SET", "maxmemory", "2mb"]);
    ok(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "volatile-lru"],
    );
    assert_eq!(ok(&mut c, &["CONFIG", "REWRITE"]), Value::Okay);
    let written = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(written.contains("# test config"), "{written}");
    assert!(written.contains("\nmaxmemory 2mb\n"), "{written}");
    assert!(
        written.contains("maxmemory-policy volatile-lru\n"),
        "{written}"
    );
    assert!(!written.contains("allkeys-lru"), "{written}");
}

// ---------------------------------------------------------------------------------------------
// COMMAND

#[test]
fn command_count_list_and_info_describe_the_command_table() {
    let s = TestServer::start();
    let mut c = s.client();
    let count = as_int(&ok(&mut c, &["COMMAND", "COUNT"]));
    assert!(count >= 40, "COMMAND COUNT {count}");
    // COMMAND COUNT counts top-level commands; COMMAND LIST also lists `parent|sub`.
    let list = sorted_texts(&ok(&mut c, &["COMMAND", "LIST"]));
    let top = list.iter().filter(|n| !n.contains('|')).count();
    assert_eq!(top as i64, count);
    for name in [
        "get",
        "set",
        "ping",
        "client",
        "config",
        "command",
        "config|get",
    ] {
        assert!(list.iter().any(|n| n == name), "COMMAND LIST lacks {name}");
    }
    let get_like = sorted_texts(&ok(
        &mut c,
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "get*"],
    ));
    for name in ["get", "getdel", "getex", "getrange", "getset"] {
        assert!(get_like.iter().any(|n| n == name), "{get_like:?}");
    }
    assert!(
        get_like.iter().all(|n| n.starts_with("get")),
        "{get_like:?}"
    );
    let strings = sorted_texts(&ok(
        &mut c,
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "string"],
    ));
    assert!(strings.iter().any(|n| n == "incrbyfloat"), "{strings:?}");
    assert!(!strings.iter().any(|n| n == "ping"), "{strings:?}");

    let info = items(&ok(&mut c, &["COMMAND", "INFO", "get", "nosuchcmd", "SET"]));
    assert_eq!(info.len(), 3);
    assert_eq!(info[1], Value::Nil);
    let get = items(&info[0]);
    assert_eq!(
        get.len(),
        10,
        "Redis 7 COMMAND INFO rows have 10 fields: {get:?}"
    );
    assert_eq!(get[0], bulk("get"));
    assert_eq!(get[1], int(2));
    let flags: Vec<String> = items(&get[2]).iter().map(text).collect();
    assert!(flags.contains(&"readonly".to_string()), "{flags:?}");
    assert!(flags.contains(&"fast".to_string()), "{flags:?}");
    assert_eq!(&get[3..6], &[int(1), int(1), int(1)]);
    let cats: Vec<String> = items(&get[6]).iter().map(text).collect();
    for cat in ["@read", "@string", "@fast"] {
        assert!(cats.contains(&cat.to_string()), "{cats:?}");
    }
    let set = items(&info[2]);
    assert_eq!(set[0], bulk("set"));
    assert_eq!(set[1], int(-3));
    // Subcommands are listed under their parent as `parent|sub`.
    let config = items(&items(&ok(&mut c, &["COMMAND", "INFO", "config"]))[0]);
    let subs: Vec<String> = items(&config[9])
        .iter()
        .map(|row| text(&items(row)[0]))
        .collect();
    assert!(subs.contains(&"config|get".to_string()), "{subs:?}");
}

#[test]
fn command_docs_gives_summary_since_and_group() {
    let s = TestServer::start();
    let mut c = s.client();
    let docs = as_map(&ok(&mut c, &["COMMAND", "DOCS", "get"]));
    let get = as_map(&docs["get"]);
    // The summary's wording changed between Redis versions; it must be there.
    assert!(
        text(&get["summary"]).contains("value of a key"),
        "{:?}",
        get["summary"]
    );
    assert_eq!(text(&get["since"]), "1.0.0");
    assert_eq!(text(&get["group"]), "string");
    assert_eq!(
        ok(&mut c, &["COMMAND", "DOCS", "nosuchcmd"]),
        Value::Array(vec![])
    );
}

#[test]
fn command_getkeys_extracts_key_arguments() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(
        ok(&mut c, &["COMMAND", "GETKEYS", "SET", "a", "b"]),
        Value::Array(vec![bulk("a")])
    );
    assert_eq!(
        ok(&mut c, &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]),
        Value::Array(vec![bulk("a"), bulk("b")])
    );
    assert_eq!(
        ok(&mut c, &["COMMAND", "GETKEYS", "MGET", "x", "y", "z"]),
        Value::Array(vec![bulk("x"), bulk("y"), bulk("z")])
    );
    assert_eq!(
        err(&mut c, &["COMMAND", "GETKEYS", "PING", "x"]),
        "ERR The command has no key arguments"
    );
    assert_eq!(
        err(&mut c, &["COMMAND", "GETKEYS", "GET", "a", "b"]),
        "ERR Invalid number of arguments specified for command"
    );
    assert_eq!(
        err(&mut c, &["COMMAND", "GETKEYS", "nosuchcmd", "a"]),
        "ERR Invalid command specified"
    );
}

// ---------------------------------------------------------------------------------------------
// TIME MONITOR SLOWLOG DEBUG SHUTDOWN

#[test]
fn time_returns_unix_seconds_and_microseconds() {
    let s = TestServer::start();
    let mut c = s.client();
    let t = items(&ok(&mut c, &["TIME"]));
    assert_eq!(t.len(), 2);
    let secs: u64 = text(&t[0]).parse().unwrap();
    let micros: u64 = text(&t[1]).parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2, "{secs} vs {now}");
    assert!(micros < 1_000_000);
}

#[test]
fn monitor_streams_other_clients_commands() {
    let s = TestServer::start();
    // Connect first: the client's own set-up commands are not part of what we watch.
    let mut c = s.client();
    let port = c_port(&mut c);
    let mut m = s.raw_conn();
    assert_eq!(m.cmd(&["MONITOR"]), Resp::Simple("OK".into()));
    ok(&mut c, &["SET", "foo", "bar baz"]);
    ok(&mut c, &["SELECT", "1"]);
    ok(&mut c, &["GET", "foo\n"]);
    let lines: Vec<String> = (0..3)
        .map(|_| match m.read_reply() {
            Resp::Simple(s) => s,
            other => panic!("MONITOR sent {other:?}"),
        })
        .collect();
    let shape = |l: &str, db: u32, rest: &str| {
        let (ts, tail) = l.split_once(' ').unwrap();
        let (sec, us) = ts.split_once('.').expect("seconds.micros");
        assert!(sec.parse::<u64>().is_ok() && us.len() == 6, "{l}");
        assert_eq!(tail, format!("[{db} 127.0.0.1:{port}] {rest}"), "{l}");
    };
    shape(&lines[0], 0, r#""SET" "foo" "bar baz""#);
    // Redis feeds monitors after the command ran: SELECT shows the new database.
    shape(&lines[1], 1, r#""SELECT" "1""#);
    shape(&lines[2], 1, r#""GET" "foo\n""#);
}

/// The local port of a redis-crate connection, from CLIENT INFO.
fn c_port(c: &mut redis::Connection) -> String {
    let info = text(&ok(c, &["CLIENT", "INFO"]));
    let addr = info
        .split(' ')
        .find_map(|kv| kv.strip_prefix("addr="))
        .unwrap()
        .to_string();
    addr.rsplit_once(':').unwrap().1.to_string()
}

#[test]
fn slowlog_records_slow_commands_and_can_be_reset() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    ok(&mut c, &["CLIENT", "SETNAME", "slowpoke"]);
    ok(&mut c, &["SET", "slowkey", "v"]);
    ok(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    let len = as_int(&ok(&mut c, &["SLOWLOG", "LEN"]));
    assert!(len >= 2, "SLOWLOG LEN {len}");
    let entries = items(&ok(&mut c, &["SLOWLOG", "GET", "100"]));
    let entry = entries
        .iter()
        .map(items)
        .find(|e| items(&e[3]).first() == Some(&bulk("SET")))
        .expect("a SET entry");
    assert_eq!(entry.len(), 6, "{entry:?}");
    assert!(as_int(&entry[0]) >= 0);
    assert!(as_int(&entry[1]) > 1_600_000_000);
    assert!(as_int(&entry[2]) >= 0);
    assert_eq!(
        entry[3],
        Value::Array(vec![bulk("SET"), bulk("slowkey"), bulk("v")])
    );
    assert!(text(&entry[4]).starts_with("127.0.0.1:"));
    assert_eq!(entry[5], bulk("slowpoke"));
    // Newest first, and GET n limits.
    assert_eq!(items(&ok(&mut c, &["SLOWLOG", "GET", "1"])).len(), 1);
    assert_eq!(ok(&mut c, &["SLOWLOG", "RESET"]), Value::Okay);
    assert_eq!(ok(&mut c, &["SLOWLOG", "LEN"]), int(0));
    assert_eq!(ok(&mut c, &["SLOWLOG", "GET"]), Value::Array(vec![]));
}

#[test]
fn debug_sleep_object_and_digest_value_work() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = s.client();
    let t0 = Instant::now();
    assert_eq!(ok(&mut c, &["DEBUG", "SLEEP", "0.2"]), Value::Okay);
    assert!(t0.elapsed() >= Duration::from_millis(190));
    ok(&mut c, &["SET", "k", "hello"]);
    let obj = text(&ok(&mut c, &["DEBUG", "OBJECT", "k"]));
    assert!(obj.starts_with("Value at:"), "{obj}");
    assert!(
        obj.contains(" refcount:1 encoding:embstr serializedlength:6 lru:"),
        "{obj}"
    );
    assert!(obj.contains(" lru_seconds_idle:"), "{obj}");
    assert_eq!(
        err(&mut c, &["DEBUG", "OBJECT", "missing"]),
        "ERR no such key"
    );
    let d = ok(&mut c, &["DEBUG", "DIGEST-VALUE", "k", "missing"]);
    let d: Vec<String> = items(&d).iter().map(text).collect();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].len(), 40);
    assert!(d[0].chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(d[0], "0".repeat(40));
    assert_eq!(d[1], "0".repeat(40));
    ok(&mut c, &["SET", "k", "other"]);
    let d2 = text(&items(&ok(&mut c, &["DEBUG", "DIGEST-VALUE", "k"]))[0]);
    assert_ne!(d2, d[0]);
    ok(&mut c, &["SET", "k", "hello"]);
    let d3 = text(&items(&ok(&mut c, &["DEBUG", "DIGEST-VALUE", "k"]))[0]);
    assert_eq!(d3, d[0]);
}

#[test]
fn debug_digest_value_of_strings_matches_real_redis() {
    let tern = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let redis = RedisServer(TestServer::start_redis(
        None,
        &["--enable-debug-command", "yes"],
    ));
    let mut t = tern.client();
    let mut r = redis.client();
    for v in ["hello", "12345", "", &"z".repeat(100)[..]] {
        ok(&mut t, &["SET", "k", v]);
        ok(&mut r, &["SET", "k", v]);
        assert_eq!(
            ok(&mut t, &["DEBUG", "DIGEST-VALUE", "k"]),
            ok(&mut r, &["DEBUG", "DIGEST-VALUE", "k"]),
            "digest of {v:?}"
        );
    }
}

#[test]
fn debug_set_active_expire_0_stops_the_background_expiry() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = s.client();
    assert_eq!(
        ok(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]),
        Value::Okay
    );
    for i in 0..20 {
        ok(&mut c, &["SET", &format!("k{i}"), "v", "PX", "10"]);
    }
    std::thread::sleep(Duration::from_millis(400));
    // Nothing touched the keys and active expiry is off: they are still counted.
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(20));
    assert_eq!(
        ok(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]),
        Value::Okay
    );
    assert!(wait_for(
        || ok(&mut c, &["DBSIZE"]) == int(0),
        Duration::from_secs(3)
    ));
}

#[test]
fn shutdown_closes_the_connection_without_reply_and_exits_zero() {
    let mut s = TestServer::start();
    let mut c = s.client();
    assert_eq!(
        err(&mut c, &["SHUTDOWN", "ABORT"]),
        "ERR No shutdown in progress."
    );
    assert_eq!(err(&mut c, &["SHUTDOWN", "BOGUS"]), "ERR syntax error");
    let mut r = s.raw_conn();
    r.send(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
    assert!(r.closed_within(Duration::from_secs(5)));
    assert!(r.unread().is_empty(), "SHUTDOWN replied {:?}", r.unread());
    let status = s
        .wait_exit(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("still running after SHUTDOWN; log:\n{}", s.logs()));
    assert!(
        status.success(),
        "exit status {status:?}; log:\n{}",
        s.logs()
    );
}

#[test]
fn many_concurrent_async_clients_lose_no_increments() {
    let s = TestServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let mut con = s.async_client().await;
            tasks.push(tokio::spawn(async move {
                for _ in 0..250 {
                    let _: i64 = redis::cmd("INCR")
                        .arg("counter")
                        .query_async(&mut con)
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            tokio::time::timeout(Duration::from_secs(30), t)
                .await
                .expect("clients finished in time")
                .unwrap();
        }
    });
    assert_eq!(s.must_cmd(&["GET", "counter"]), bulk("2000"));
}

#[test]
fn command_getkeys_reads_key_counts() {
    let s = TestServer::start();
    let mut c = s.client();
    for (args, keys) in [
        (
            &["EVAL", "return 1", "2", "a", "b", "c"][..],
            &["a", "b"][..],
        ),
        (
            &["ZUNIONSTORE", "d", "2", "a", "b"][..],
            &["d", "a", "b"][..],
        ),
        (&["BLMPOP", "0", "2", "a", "b", "LEFT"][..], &["a", "b"][..]),
        (&["ZINTER", "2", "a", "b"][..], &["a", "b"][..]),
        (&["LMPOP", "1", "a", "LEFT"][..], &["a"][..]),
    ] {
        let mut a = vec!["COMMAND", "GETKEYS"];
        a.extend_from_slice(args);
        assert_eq!(
            sorted_texts(&ok(&mut c, &a)),
            {
                let mut k: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                k.sort();
                k
            },
            "{args:?}"
        );
    }
}
