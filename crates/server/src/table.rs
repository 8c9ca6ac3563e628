//! The command table: one row per command (and per subcommand, as in Redis 7), with the
//! metadata that drives dispatch, `COMMAND INFO/DOCS/LIST/GETKEYS`, and later ACLs.
//!
//! Each command family registers its rows in its own `register` function
//! (`families::string::register`, ...). A row is built with [`Spec::new`] and its builder
//! methods: `Spec::new("set", -3, WRITE | DENYOOM).keys(1, 1, 1).group(STRING).handler(set)`.
//! Arity follows Redis: `N` means exactly N arguments counting the name, `-N` at least N.

use crate::ctx::Ctx;
use crate::errors::CmdResult;
use std::collections::HashMap;

/// The table is read on every command: a fast hash beats SipHash's flooding resistance here,
/// since command names come from a fixed set and lookups of unknown names do not insert.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// A command handler: parses `cx.args`, runs the command and writes its reply.
pub type Handler = fn(&mut Ctx<'_>) -> CmdResult;

/// Command flags (Redis's `CMD_*`), as reported by COMMAND INFO.
pub mod flags {
    /// Modifies the dataset.
    pub const WRITE: u32 = 1 << 0;
    /// Only reads the dataset.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory: refused when over maxmemory with noeviction.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative (dangerous) command.
    pub const ADMIN: u32 = 1 << 3;
    /// Pub/sub command.
    pub const PUBSUB: u32 = 1 << 4;
    /// Not allowed inside scripts.
    pub const NOSCRIPT: u32 = 1 << 5;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 6;
    /// Allowed while loading the dataset.
    pub const LOADING: u32 = 1 << 7;
    /// Allowed on a replica with stale data.
    pub const STALE: u32 = 1 << 8;
    /// Not shown to MONITOR clients.
    pub const SKIP_MONITOR: u32 = 1 << 9;
    /// Not recorded in the slow log.
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    /// O(1) or O(log N) and never blocks.
    pub const FAST: u32 = 1 << 11;
    /// Allowed before authentication.
    pub const NO_AUTH: u32 = 1 << 12;
    /// May propagate to replicas even though not a write.
    pub const MAY_REPLICATE: u32 = 1 << 13;
    /// Not allowed inside MULTI.
    pub const NO_MULTI: u32 = 1 << 14;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: u32 = 1 << 15;
    /// Key positions are not fixed (COMMAND GETKEYS must parse the arguments).
    pub const MOVABLE_KEYS: u32 = 1 << 16;

    /// Names in COMMAND INFO order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
        (MOVABLE_KEYS, "movablekeys"),
    ];
}

/// Command groups, as in COMMAND DOCS; each also gives an ACL category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Commands on any key.
    Generic,
    /// String commands.
    String,
    /// Connection commands.
    Connection,
    /// Server commands.
    Server,
    /// List commands.
    List,
    /// Hash commands.
    Hash,
    /// Set commands.
    Set,
    /// Sorted set commands.
    SortedSet,
    /// Bitmap commands.
    Bitmap,
    /// HyperLogLog commands.
    HyperLogLog,
    /// MULTI, EXEC and friends.
    Transactions,
    /// Pub/sub commands.
    PubSub,
    /// EVAL, SCRIPT and friends.
    Scripting,
}

impl Group {
    /// The name COMMAND DOCS reports.
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::List => "list",
            Group::Hash => "hash",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Bitmap => "bitmap",
            Group::HyperLogLog => "hyperloglog",
            Group::Transactions => "transactions",
            Group::PubSub => "pubsub",
            Group::Scripting => "scripting",
        }
    }

    fn acl_category(self) -> &'static str {
        match self {
            Group::Generic => "@keyspace",
            Group::String => "@string",
            Group::Connection => "@connection",
            Group::Server => "",
            Group::List => "@list",
            Group::Hash => "@hash",
            Group::Set => "@set",
            Group::SortedSet => "@sortedset",
            Group::Bitmap => "@bitmap",
            Group::HyperLogLog => "@hyperloglog",
            Group::Transactions => "@transaction",
            Group::PubSub => "@pubsub",
            Group::Scripting => "@scripting",
        }
    }
}

/// One command or subcommand.
#[derive(Clone)]
pub struct Spec {
    /// Index into per-command statistics, assigned when the table is built.
    pub id: usize,
    /// Lowercase name; subcommands are named `parent|sub`.
    pub name: String,
    /// Redis arity.
    pub arity: i32,
    /// `flags::*` bits.
    pub flags: u32,
    /// Position of the first key, 0 for none.
    pub first_key: i32,
    /// Position of the last key; -1 means the last argument, -2 the one before.
    pub last_key: i32,
    /// Step between keys.
    pub step: i32,
    /// For commands whose keys follow a count (`EVAL script numkeys key...`, `ZUNION numkeys
    /// key...`): the position of that count. The keys from `first_key` up to it (a STORE
    /// destination) come first.
    pub keynum: Option<usize>,
    /// Group for COMMAND DOCS and ACL categories.
    pub group: Group,
    /// Extra ACL categories, e.g. "@dangerous".
    pub extra_acl: &'static [&'static str],
    /// The Redis version that introduced the command.
    pub since: &'static str,
    /// One-line summary for COMMAND DOCS.
    pub summary: &'static str,
    /// The handler; None only for parent commands that dispatch on subcommands.
    pub handler: Option<Handler>,
    /// Subcommands (CONFIG GET, CLIENT LIST...).
    pub subcommands: Vec<Spec>,
    /// The access each key spec needs, one letter per spec (see `acl::keyperms`); empty when
    /// Redis's table has no entry (derived from the flags then).
    pub key_perms: &'static [u8],
    /// Which arguments are pub/sub channels an ACL check must look at (`acl::CHAN_*`; 0: none).
    pub acl_chan: u8,
}

impl Spec {
    /// A command with no keys and no handler yet.
    pub fn new(name: &str, arity: i32, flags: u32) -> Spec {
        Spec {
            id: 0,
            name: name.to_ascii_lowercase(),
            arity,
            flags,
            first_key: 0,
            last_key: 0,
            step: 0,
            keynum: None,
            group: Group::Generic,
            extra_acl: &[],
            since: "1.0.0",
            summary: "",
            handler: None,
            subcommands: Vec::new(),
            key_perms: &[],
            acl_chan: 0,
        }
    }

    /// Sets the key positions.
    pub fn keys(mut self, first: i32, last: i32, step: i32) -> Spec {
        self.first_key = first;
        self.last_key = last;
        self.step = step;
        self
    }

    /// Declares that the keys follow a count at argument `at` (see [`Spec::keynum`]).
    pub fn keynum(mut self, at: usize) -> Spec {
        self.keynum = Some(at);
        self
    }

    /// The key positions of a concrete invocation, reading a key count where the command has
    /// one (COMMAND GETKEYS, WATCH, tracking, notifications, blocked clients).
    pub fn key_positions_in(&self, args: &[&[u8]]) -> Vec<usize> {
        let Some(at) = self.keynum else {
            let mut v = self.key_positions(args.len());
            // SORT ... STORE dest also names dest (Redis's sortGetKeys): WATCH, tracking and
            // keyspace events see it change.
            if self.name == "sort" {
                let store = (2..args.len().saturating_sub(1))
                    .rev()
                    .find(|&i| args[i].eq_ignore_ascii_case(b"store"));
                v.extend(store.map(|i| i + 1));
            }
            return v;
        };
        let mut v: Vec<usize> = if self.first_key > 0 {
            (self.first_key as usize..at.min(args.len())).collect()
        } else {
            Vec::new()
        };
        let n = args
            .get(at)
            .and_then(|a| tern_resp::request::parse_i64(a))
            .filter(|&n| n > 0)
            .unwrap_or(0) as usize;
        v.extend((at + 1..).take(n).take_while(|&i| i < args.len()));
        v
    }

    /// Sets the group.
    pub fn group(mut self, g: Group) -> Spec {
        self.group = g;
        self
    }

    /// Adds ACL categories beyond those derived from flags and group.
    pub fn acl(mut self, cats: &'static [&'static str]) -> Spec {
        self.extra_acl = cats;
        self
    }

    /// Sets the version and summary shown by COMMAND DOCS.
    pub fn doc(mut self, since: &'static str, summary: &'static str) -> Spec {
        self.since = since;
        self.summary = summary;
        self
    }

    /// Sets the handler.
    pub fn handler(mut self, h: Handler) -> Spec {
        self.handler = Some(h);
        self
    }

    /// Adds a subcommand; its name is given without the parent prefix.
    pub fn subcommand(mut self, mut s: Spec) -> Spec {
        s.name = format!("{}|{}", self.name, s.name);
        s.group = self.group;
        self.subcommands.push(s);
        self
    }

    /// True if the command has the flag.
    #[inline]
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// The ACL categories, derived from flags and group as Redis does, plus extras.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.handler.is_none() && !self.subcommands.is_empty() {
            // A container (OBJECT, CLIENT, CONFIG...) has only @slow, as in Redis; its
            // subcommands carry the real categories.
            return vec!["@slow"];
        }
        if self.name == "pubsub|help" {
            return vec!["@slow"];
        }
        if self.has(flags::WRITE) {
            v.push("@write");
        }
        // Scripting commands never get @read (Redis's setImplicitACLCategories).
        if self.has(flags::READONLY) && self.group != Group::Scripting {
            v.push("@read");
        }
        if self.has(flags::ADMIN) {
            v.push("@admin");
            v.push("@dangerous");
        }
        if self.has(flags::PUBSUB) {
            v.push("@pubsub");
        }
        if self.has(flags::FAST) {
            v.push("@fast");
        } else {
            v.push("@slow");
        }
        if self.has(flags::BLOCKING) {
            v.push("@blocking");
        }
        // SORT's categories are its types' (extras), and PUBSUB HELP has none, as in Redis.
        let g = match self.name.as_str() {
            "sort" | "sort_ro" => "",
            _ => self.group.acl_category(),
        };
        if !g.is_empty() && !v.contains(&g) {
            v.push(g);
        }
        for c in self.extra_acl {
            if !v.contains(c) {
                v.push(c);
            }
        }
        v
    }

    /// The key positions of a concrete invocation (for COMMAND GETKEYS and, later, ACLs).
    pub fn key_positions(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 {
            return Vec::new();
        }
        let last = if self.last_key < 0 {
            argc as i32 + self.last_key
        } else {
            self.last_key
        };
        let mut v = Vec::new();
        let mut i = self.first_key;
        while i <= last && (i as usize) < argc {
            v.push(i as usize);
            i += self.step.max(1);
        }
        v
    }
}

/// What the ACL code needs to know of each command id.
#[derive(Clone, Debug, Default)]
pub struct AclMeta {
    /// The full name (`get`, `config|get`).
    pub name: String,
    /// Category bits (`acl::CATEGORIES` order).
    pub cats: u32,
    /// The parent's id, for a subcommand.
    pub parent: Option<usize>,
    /// The subcommands' ids, for a container.
    pub subs: Vec<usize>,
}

/// All commands by lowercase name.
#[derive(Default)]
pub struct CommandTable {
    map: FastMap<Vec<u8>, Spec>,
    /// Full names (`config|get`) by `Spec::id`.
    names: Vec<String>,
    /// ACL metadata by `Spec::id`.
    acl: Vec<AclMeta>,
}

impl CommandTable {
    /// Builds the table from every family.
    pub fn new() -> CommandTable {
        let mut t = CommandTable::default();
        crate::families::register_all(&mut t);
        // Commands whose keys follow a count: (name, position of the count, has a STORE
        // destination before it). COMMAND INFO reports 0 0 0 (or the destination alone) for
        // them, as Redis does; `Spec::key_positions_in` finds their keys.
        const KEYNUM: &[(&str, usize, bool)] = &[
            ("eval", 2, false),
            ("evalsha", 2, false),
            ("eval_ro", 2, false),
            ("evalsha_ro", 2, false),
            ("fcall", 2, false),
            ("fcall_ro", 2, false),
            ("sintercard", 1, false),
            ("zunion", 1, false),
            ("zinter", 1, false),
            ("zdiff", 1, false),
            ("zintercard", 1, false),
            ("lmpop", 1, false),
            ("zmpop", 1, false),
            ("blmpop", 2, false),
            ("bzmpop", 2, false),
            ("zunionstore", 2, true),
            ("zinterstore", 2, true),
            ("zdiffstore", 2, true),
        ];
        for &(name, at, dst) in KEYNUM {
            if let Some(spec) = t.map.get_mut(name.as_bytes()) {
                spec.keynum = Some(at);
                (spec.first_key, spec.last_key, spec.step) =
                    if dst { (1, 1, 1) } else { (0, 0, 0) };
            }
        }
        let perms: FastMap<&str, &'static [u8]> =
            crate::acl::keyperms::KEY_PERMS.iter().copied().collect();
        let cats = |spec: &Spec| {
            spec.acl_categories()
                .iter()
                .filter_map(|c| crate::acl::category_bit(c.trim_start_matches('@').as_bytes()))
                .fold(0, |a, b| a | b)
        };
        let mut names = Vec::new();
        let mut acl = Vec::new();
        let mut keys: Vec<Vec<u8>> = t.map.keys().cloned().collect();
        keys.sort();
        for k in keys {
            let spec = t.map.get_mut(&k).expect("key from the map");
            spec.id = names.len();
            names.push(spec.name.clone());
            spec.key_perms = perms.get(spec.name.as_str()).copied().unwrap_or(&[]);
            spec.acl_chan = match spec.name.as_str() {
                "publish" | "spublish" => crate::acl::CHAN_FIRST,
                "subscribe" | "ssubscribe" => crate::acl::CHAN_ALL,
                "psubscribe" => crate::acl::CHAN_PATTERNS,
                "sunsubscribe" => crate::acl::CHAN_UNCHECKED,
                _ => 0,
            };
            let pid = spec.id;
            acl.push(AclMeta {
                name: spec.name.clone(),
                cats: cats(spec),
                parent: None,
                subs: Vec::new(),
            });
            for sub in &mut spec.subcommands {
                sub.id = names.len();
                names.push(sub.name.clone());
                sub.key_perms = perms.get(sub.name.as_str()).copied().unwrap_or(&[]);
                acl[pid].subs.push(sub.id);
                acl.push(AclMeta {
                    name: sub.name.clone(),
                    cats: cats(sub),
                    parent: Some(pid),
                    subs: Vec::new(),
                });
            }
        }
        t.names = names;
        t.acl = acl;
        t
    }

    /// The ACL metadata of command id `id`.
    pub fn acl_meta(&self, id: usize) -> &AclMeta {
        &self.acl[id]
    }

    /// The number of ids (commands plus subcommands), the size of per-command stat arrays.
    pub fn ids(&self) -> usize {
        self.names.len()
    }

    /// The full name of the command with this id.
    pub fn name_of(&self, id: usize) -> Option<&str> {
        self.names.get(id).map(|s| s.as_str())
    }

    /// Adds a row. Panics on a duplicate (a programming error caught by the table test).
    pub fn add(&mut self, spec: Spec) {
        let key = spec.name.as_bytes().to_vec();
        assert!(
            self.map.insert(key, spec).is_none(),
            "command registered twice"
        );
    }

    /// Finds a command by name, case-insensitively, without allocating.
    #[inline]
    pub fn get(&self, name: &[u8]) -> Option<&Spec> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.map.get(&*lower)
    }

    /// Every top-level command.
    pub fn iter(&self) -> impl Iterator<Item = &Spec> {
        self.map.values()
    }

    /// The number of top-level commands.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Finds a subcommand of `spec` by name, case-insensitively.
pub fn find_sub<'a>(spec: &'a Spec, sub: &[u8]) -> Option<&'a Spec> {
    let parent_len = spec.name.len() + 1;
    spec.subcommands
        .iter()
        .find(|s| s.name.as_bytes()[parent_len..].eq_ignore_ascii_case(sub))
}

/// True if `argc` satisfies `arity`.
#[inline]
pub fn arity_ok(arity: i32, argc: usize) -> bool {
    if arity >= 0 {
        argc == arity as usize
    } else {
        argc >= (-arity) as usize
    }
}
