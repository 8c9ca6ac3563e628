//! Unit tests of the rule parser, the describer and the matcher, against a real command table.

use super::*;
use crate::testkit::TestDb;
use tern_resp::Frame;

fn table() -> &'static CommandTable {
    static T: OnceLock<CommandTable> = OnceLock::new();
    T.get_or_init(CommandTable::new)
}

fn user(rules: &str) -> User {
    let t = table();
    let mut u = User::new(t, b"u", false);
    for r in rules.split_whitespace() {
        u.apply(t, r.as_bytes(), false)
            .unwrap_or_else(|e| panic!("{r}: {}", e.text()));
    }
    u
}

fn spec(name: &str) -> &'static Spec {
    crate::families::command::lookup(table(), name.as_bytes()).unwrap()
}

fn check(u: &User, args: &[&str]) -> Result<(), Denied> {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let mut s = table().get(argv[0]).unwrap();
    if !s.subcommands.is_empty() {
        s = crate::table::find_sub(s, argv[1]).unwrap();
    }
    u.check(s, &argv)
}

#[test]
fn rule_errors_have_redis_texts() {
    let t = table();
    let mut u = User::new(t, b"u", false);
    let err = |u: &mut User, r: &str| u.apply(t, r.as_bytes(), false).unwrap_err();
    assert_eq!(err(&mut u, "badrule"), RuleError::Syntax);
    assert_eq!(err(&mut u, "+nosuch"), RuleError::Unknown);
    assert_eq!(err(&mut u, "+@nosuch"), RuleError::Unknown);
    assert_eq!(err(&mut u, "-get|x"), RuleError::Unknown);
    assert_eq!(err(&mut u, "+config|nosuch"), RuleError::Unknown);
    assert_eq!(err(&mut u, "+config|get|x"), RuleError::SubcommandFirstArg);
    assert_eq!(err(&mut u, "%X~a"), RuleError::Syntax);
    assert_eq!(err(&mut u, "%~a"), RuleError::Syntax);
    assert_eq!(err(&mut u, "%R"), RuleError::Syntax);
    assert_eq!(err(&mut u, "#abc"), RuleError::BadHash);
    assert_eq!(err(&mut u, "<nopw"), RuleError::NoSuchPassword);
    u.apply(t, b"allkeys", false).unwrap();
    assert_eq!(err(&mut u, "~a"), RuleError::KeyAfterAll);
    u.apply(t, b"allchannels", false).unwrap();
    assert_eq!(err(&mut u, "&a"), RuleError::ChannelAfterAll);
}

#[test]
fn describe_follows_redis_best_fit() {
    let t = table();
    let d = |r: &str| user(r).root.describe_commands(t);
    assert_eq!(d(""), "-@all");
    assert_eq!(d("+@all"), "+@all");
    assert_eq!(d("+@all -get +@read"), "+@all");
    // Single commands come in table order (Redis: its command dict's hash order).
    assert_eq!(
        d("-@all +get +set +config|get -@read"),
        "-@all +config|get +set"
    );
    assert_eq!(d("+@hash -hset +select|0"), "-@all +@hash -hset +select|0");
    assert_eq!(d("-@all +@slow"), "-@all +@slow");
    assert_eq!(d("-@all +@read +@write"), "-@all +@write +@read");
    assert_eq!(d("-@all +@hash +@set"), "-@all +@set +@hash");
    assert_eq!(
        d("-@all +@fast +@hash"),
        "-@all +@fast +hgetall +hkeys +hrandfield +hscan +hvals"
    );
    assert_eq!(d("-@all +@string -get +get"), "-@all +@string");
    assert_eq!(d("-@all +config"), "-@all +config");
    assert_eq!(d("-@all +config -config|get"), "-@all +config -config|get");
    assert_eq!(d("+@all -@dangerous"), "+@all -@dangerous");
    assert_eq!(d("+@all -config|get"), "+@all -config|get");
}

#[test]
fn user_line_matches_acl_list() {
    let t = table();
    assert_eq!(User::default_user(t).describe(t), "on nopass ~* &* +@all");
    let u = user("on >p1 +@all ~k* %R~r* &ch*");
    assert_eq!(
        u.describe(t),
        format!(
            "on #{} ~k* %R~r* resetchannels &ch* +@all",
            hash_password(b"p1")
        )
    );
    let u = user("reset %RW~a %R~b %W~c ~d");
    assert_eq!(
        u.describe(t),
        "off sanitize-payload ~a %R~b %W~c ~d resetchannels -@all"
    );
    assert_eq!(u.root.describe_keys(), "~a %R~b %W~c ~d");
    let u = user("%R~a %W~a");
    assert_eq!(u.root.describe_keys(), "~a");
}

#[test]
fn passwords_are_hashed_deduplicated_and_removable() {
    let u = user("on >a >b <a >c >c");
    assert_eq!(u.passwords, vec![hash_password(b"b"), hash_password(b"c")]);
    assert!(u.password_ok(b"b") && u.password_ok(b"c") && !u.password_ok(b"a"));
    let u = user("on >a nopass");
    assert!(u.passwords.is_empty() && u.password_ok(b"anything"));
    let u = user("on nopass >x");
    assert!(!u.nopass && !u.password_ok(b"y"));
    let h = hash_password(b"secret");
    let u = user(&format!("on #{h}"));
    assert!(u.password_ok(b"secret"));
    let u = user(&format!("on #{h} !{h}"));
    assert!(!u.password_ok(b"secret"));
    let u = user("off >a");
    assert!(!u.password_ok(b"a"), "a disabled user never authenticates");
    assert_eq!(
        hash_password(b"a"),
        "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
    );
}

#[test]
fn commands_categories_and_subcommands() {
    let u = user("+get +@hash -hset +config|get +select|0");
    assert_eq!(check(&u, &["get", "k"]), Err(Denied::Key(1)));
    let u = user("allkeys +get +@hash -hset +config|get +select|0");
    assert!(check(&u, &["get", "k"]).is_ok());
    assert_eq!(check(&u, &["set", "k", "v"]), Err(Denied::Command));
    assert!(check(&u, &["hget", "k", "f"]).is_ok());
    assert_eq!(check(&u, &["hset", "k", "f", "v"]), Err(Denied::Command));
    assert!(check(&u, &["config", "get", "x"]).is_ok());
    assert_eq!(
        check(&u, &["config", "set", "x", "y"]),
        Err(Denied::Command)
    );
    assert!(check(&u, &["select", "0"]).is_ok());
    assert_eq!(check(&u, &["select", "1"]), Err(Denied::Command));
    // Commands that need no authentication are always allowed.
    assert!(check(&u, &["auth", "a", "b"]).is_ok());
    let u = user("allkeys +@all -@dangerous");
    assert!(check(&u, &["get", "k"]).is_ok());
    assert_eq!(check(&u, &["flushall"]), Err(Denied::Command));
    assert_eq!(
        check(&u, &["config", "set", "a", "b"]),
        Err(Denied::Command)
    );
}

#[test]
fn key_patterns_with_read_and_write_permissions() {
    let u = user("+@all %R~r* %W~w* ~b*");
    assert!(check(&u, &["get", "r1"]).is_ok());
    assert_eq!(check(&u, &["set", "r1", "v"]), Err(Denied::Key(1)));
    assert!(
        check(&u, &["set", "w1", "v"]).is_ok(),
        "SET without GET only writes"
    );
    assert_eq!(check(&u, &["set", "w1", "v", "GET"]), Err(Denied::Key(1)));
    assert_eq!(check(&u, &["get", "w1"]), Err(Denied::Key(1)));
    assert!(
        check(&u, &["exists", "w1"]).is_ok(),
        "EXISTS neither reads nor writes"
    );
    assert!(check(&u, &["lpush", "w1", "x"]).is_ok());
    assert_eq!(check(&u, &["lpop", "w1"]), Err(Denied::Key(1)));
    assert!(check(&u, &["incr", "b1"]).is_ok());
    assert_eq!(check(&u, &["incr", "w1"]), Err(Denied::Key(1)));
    // COPY reads its source and writes its destination.
    assert!(check(&u, &["copy", "r1", "w1"]).is_ok());
    assert_eq!(check(&u, &["copy", "w1", "r1"]), Err(Denied::Key(1)));
    // The *STORE commands write the destination and read the sources.
    assert!(check(&u, &["sinterstore", "w1", "r1", "r2"]).is_ok());
    assert_eq!(check(&u, &["sinterstore", "r0", "r1"]), Err(Denied::Key(1)));
    assert!(check(&u, &["zunionstore", "w1", "2", "r1", "r2"]).is_ok());
    assert_eq!(
        check(&u, &["zunionstore", "w1", "2", "r1", "x"]),
        Err(Denied::Key(4))
    );
    // SORT ... STORE reads the key and writes the destination.
    assert!(check(&u, &["sort", "r1", "STORE", "w1"]).is_ok());
    assert_eq!(
        check(&u, &["sort", "r1", "STORE", "r2"]),
        Err(Denied::Key(3))
    );
    // LMOVE reads and writes the source, writes the destination.
    assert!(check(&u, &["lmove", "b1", "w1", "LEFT", "LEFT"]).is_ok());
    assert_eq!(
        check(&u, &["lmove", "w1", "w2", "LEFT", "LEFT"]),
        Err(Denied::Key(1))
    );
    // EVAL's keys need both.
    assert!(check(&u, &["eval", "return 1", "1", "b1"]).is_ok());
    assert_eq!(
        check(&u, &["eval", "return 1", "1", "w1"]),
        Err(Denied::Key(3))
    );
    // BITFIELD with only GET reads.
    assert!(check(&u, &["bitfield", "r1", "GET", "u8", "0"]).is_ok());
    assert_eq!(
        check(&u, &["bitfield", "r1", "SET", "u8", "0", "1"]),
        Err(Denied::Key(1))
    );
}

#[test]
fn channels_and_patterns() {
    let u = user("+@all &news.* &lit");
    assert!(check(&u, &["publish", "news.1", "m"]).is_ok());
    assert_eq!(
        check(&u, &["publish", "sports", "m"]),
        Err(Denied::Channel(1))
    );
    assert!(check(&u, &["subscribe", "news.a", "lit"]).is_ok());
    assert_eq!(
        check(&u, &["subscribe", "news.a", "x"]),
        Err(Denied::Channel(2))
    );
    assert!(check(&u, &["psubscribe", "news.*"]).is_ok());
    assert_eq!(
        check(&u, &["psubscribe", "news.a*"]),
        Err(Denied::Channel(1))
    );
    assert!(check(&u, &["unsubscribe", "x"]).is_ok());
    assert!(check(&u, &["spublish", "news.x", "m"]).is_ok());
    assert_eq!(check(&u, &["ssubscribe", "y"]), Err(Denied::Channel(1)));
    let u = user("+@all allchannels");
    assert!(check(&u, &["publish", "anything", "m"]).is_ok());
}

#[test]
fn selectors_add_permissions() {
    let t = table();
    let mut u = user("+get ~a*");
    u.apply(t, b"(+set ~b*)", false).unwrap();
    assert!(check(&u, &["get", "a1"]).is_ok());
    assert!(check(&u, &["set", "b1", "v"]).is_ok());
    assert_eq!(check(&u, &["set", "a1", "v"]), Err(Denied::Key(1)));
    assert_eq!(check(&u, &["del", "a1"]), Err(Denied::Command));
    assert_eq!(
        u.describe(t),
        "off ~a* resetchannels -@all +get (~b* resetchannels -@all +set)"
    );
    assert_eq!(
        merge_selector_args(&[b"on", b"(~a", b"+get)", b"+set"]).unwrap(),
        vec![b"on".to_vec(), b"(~a +get)".to_vec(), b"+set".to_vec()]
    );
    assert_eq!(merge_selector_args(&[b"on", b"(~a", b"+get"]), Err(1));
}

#[test]
fn reset_and_pubsub_default() {
    let t = table();
    let mut u = User::new(t, b"u", true);
    assert_eq!(u.root.describe_channels(), "&*");
    u.apply(t, b"reset", false).unwrap();
    assert_eq!(u.root.describe_channels(), "");
    assert_eq!(u.flag_names(), vec!["off", "sanitize-payload"]);
    u.apply(t, b"reset", true).unwrap();
    assert_eq!(u.root.describe_channels(), "&*");
}

#[test]
fn acl_file_parsing_collects_every_error() {
    let t = table();
    let ok = parse_users(
        t,
        "user default on nopass ~* &* +@all\nuser a on >p ~a* +get\n",
        "f",
        false,
    )
    .unwrap();
    assert_eq!(ok.len(), 2);
    let err = parse_users(
        t,
        "user a on +nosuch\nfoo bar\nuser b (~x\nuser a on\nuser\n",
        "f",
        false,
    )
    .unwrap_err();
    assert_eq!(
        err,
        "f:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
         f:2 should start with user keyword followed by the username. \
         f:3: Unmatched parenthesis in selector definition.\
         WARNING: Duplicate user 'a' found on line 4. \
         f:5 should start with user keyword followed by the username. "
    );
}

#[test]
fn key_perms_table_names_existing_commands() {
    // Every command tern has that Redis lists with key specs gets its permissions; a name in
    // the table that is not a command is fine (tern does not have every Redis command).
    let t = table();
    for s in t.iter() {
        if s.first_key > 0 && s.name != "set" && s.name != "bitfield" {
            assert!(!s.key_perms.is_empty(), "{} has no key permissions", s.name);
        }
    }
    assert_eq!(spec("copy").key_perms, b"rw");
}

#[test]
fn dispatch_refuses_and_logs() {
    let mut t = TestDb::new();
    t.run(&["ACL", "SETUSER", "a", "on", ">p", "+get", "~k*"]);
    assert_eq!(t.run(&["AUTH", "a", "p"]), Frame::Simple("OK".into()));
    assert_eq!(t.run(&["GET", "k1"]), Frame::Null);
    assert_eq!(
        t.run(&["SET", "k1", "v"]),
        Frame::Error("NOPERM this user has no permissions to run the 'set' command".into())
    );
    assert_eq!(
        t.run(&["GET", "x"]),
        Frame::Error(
            "NOPERM this user has no permissions to access one of the keys used as arguments"
                .into()
        )
    );
    assert_eq!(
        t.run(&["AUTH", "a", "wrong"]),
        Frame::Error("WRONGPASS invalid username-password pair or user is disabled.".into())
    );
    let log = t.srv.acl.log_entries(10);
    let got: Vec<(&str, &str, String, String)> = log
        .iter()
        .map(|e| {
            (
                e.reason,
                e.context,
                String::from_utf8_lossy(&e.object).into_owned(),
                String::from_utf8_lossy(&e.username).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("auth", "toplevel", "AUTH".into(), "a".into()),
            ("key", "toplevel", "x".into(), "a".into()),
            ("command", "toplevel", "set".into(), "a".into()),
        ]
    );
    assert!(
        log[0].client_info.contains(" user=a "),
        "{}",
        log[0].client_info
    );
    // A change to the user applies at the next command.
    t.srv.acl.put({
        let mut u = (*t.srv.acl.get(b"a").unwrap()).clone();
        u.apply(&t.srv.table, b"+set", false).unwrap();
        u
    });
    assert_eq!(t.run(&["SET", "k1", "v"]), Frame::Simple("OK".into()));
    // Equal entries within a minute are counted together.
    t.run(&["GET", "x"]);
    assert_eq!(t.srv.acl.log_entries(10)[0].count, 2);
}

#[test]
fn slowlog_redacts_acl_setuser_arguments() {
    let mut t = TestDb::new();
    t.run(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    t.run(&["ACL", "SETUSER", "zz", "on", ">pw", "+get"]);
    let Frame::Array(entries) = t.run(&["SLOWLOG", "GET", "-1"]) else {
        panic!("array")
    };
    let texts: Vec<String> = entries
        .iter()
        .map(|e| {
            let Frame::Array(f) = e else { panic!("entry") };
            let Frame::Array(a) = &f[3] else {
                panic!("args")
            };
            a.iter()
                .map(|x| String::from_utf8_lossy(x.as_bytes().unwrap()).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert!(
        texts.contains(&"ACL SETUSER (redacted) (redacted) (redacted) (redacted)".to_string()),
        "{texts:?}"
    );
}
