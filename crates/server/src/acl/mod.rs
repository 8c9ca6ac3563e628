//! ACL: users, their rules (Redis 7.0's `ACL SETUSER` language), the permission check that
//! dispatch runs before a restricted user's command, and the ACL log.
//!
//! A user is an immutable value: `ACL SETUSER` builds a new [`User`] and swaps it into the
//! [`Acl`] store, bumping [`Acl::epoch`]. A connection keeps an `Arc<User>` and the epoch it saw;
//! dispatch compares the epoch once per command and re-reads its user when it moved, so
//! changes apply to connected clients at their next command, as in Redis. A user that may run
//! every command on every key and channel (the default user) sets `Client::acl_all`, and
//! dispatch then skips the check entirely: one flag test per command.
//!
//! Command permissions are a bitset over command ids (`Spec::id`, subcommands included) plus
//! one bit for "commands added in the future" (set by `+@all`, as Redis's reserved bit), so
//! `ACL GETUSER` can describe them Redis's way: start from `+@all` or `-@all`, add or remove
//! the categories that cover most of the difference, then fix single commands.

pub mod keyperms;
#[cfg(test)]
mod tests;

use crate::table::{flags, CommandTable, Spec};
use parking_lot::{Mutex, RwLock};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// ACL categories in Redis's order (its category bit order): ACL CAT lists them so.
pub const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The bit of a category name (without `@`), if it is one.
pub fn category_bit(name: &[u8]) -> Option<u32> {
    CATEGORIES
        .iter()
        .position(|c| c.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// Selector flag: every command (`+@all`, `allcommands`) until a `-` rule.
pub const ALLCOMMANDS: u8 = 1;
/// Selector flag: every key (`~*`, `allkeys`).
pub const ALLKEYS: u8 = 2;
/// Selector flag: every channel (`&*`, `allchannels`).
pub const ALLCHANNELS: u8 = 4;

/// Key permission: the command reads the key.
pub const READ: u8 = 1;
/// Key permission: the command writes the key.
pub const WRITE: u8 = 2;

/// Why a rule was refused; the text is Redis's (`ACLSetUserStringError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// ENOENT.
    Unknown,
    /// EINVAL.
    Syntax,
    /// EEXIST.
    KeyAfterAll,
    /// EISDIR.
    ChannelAfterAll,
    /// ENODEV.
    NoSuchPassword,
    /// EBADMSG.
    BadHash,
    /// ECHILD.
    SubcommandFirstArg,
}

impl RuleError {
    /// Redis's text.
    pub fn text(self) -> &'static str {
        match self {
            RuleError::Unknown => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and \
                 does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::ChannelAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid \
                 and does not have any effect. Try 'resetchannels' to start with an empty list \
                 of channels"
            }
            RuleError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase \
                 hexadecimal characters"
            }
            RuleError::SubcommandFirstArg => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// A key pattern with the access it grants (`~p` is READ|WRITE, `%R~p` READ, `%W~p` WRITE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    /// The glob pattern.
    pub pat: Vec<u8>,
    /// READ and/or WRITE.
    pub perm: u8,
}

/// One set of permissions: the root selector of a user, or a `(...)` selector.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    /// ALLCOMMANDS, ALLKEYS, ALLCHANNELS.
    pub flags: u8,
    /// Allowed command ids; bit `ids` is the "future commands" bit.
    cmds: Vec<u64>,
    /// Commands allowed only with one of these first arguments (`+select|0`).
    firstargs: Vec<(usize, Vec<Vec<u8>>)>,
    /// Key patterns, in the order added.
    pub keys: Vec<KeyPattern>,
    /// Channel patterns, in the order added.
    pub channels: Vec<Vec<u8>>,
}

impl Selector {
    fn new(t: &CommandTable, flags: u8) -> Selector {
        Selector {
            flags,
            cmds: vec![0; (t.ids() + 1).div_ceil(64)],
            ..Default::default()
        }
    }

    fn bit(&self, id: usize) -> bool {
        self.cmds
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if let Some(w) = self.cmds.get_mut(id / 64) {
            if on {
                *w |= 1 << (id % 64);
            } else {
                *w &= !(1 << (id % 64));
            }
        }
    }

    /// Allows or forbids a command and all its subcommands (`ACLChangeSelectorPerm`).
    fn change_perm(&mut self, t: &CommandTable, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.firstargs.retain(|(i, _)| *i != id);
        for &sub in &t.acl_meta(id).subs {
            self.set_bit(sub, allow);
        }
    }

    fn set_all(&mut self, allow: bool) {
        for w in &mut self.cmds {
            *w = if allow { !0 } else { 0 };
        }
        self.firstargs.clear();
        if allow {
            self.flags |= ALLCOMMANDS;
        } else {
            self.flags &= !ALLCOMMANDS;
        }
    }

    fn set_category(&mut self, t: &CommandTable, cat: u32, allow: bool) {
        for id in 0..t.ids() {
            if t.acl_meta(id).cats & cat != 0 {
                self.change_perm(t, id, allow);
            }
        }
        if !allow {
            self.flags &= !ALLCOMMANDS;
        }
    }

    /// Applies one selector rule (`ACLSetSelector`).
    pub fn apply(&mut self, t: &CommandTable, op: &[u8]) -> Result<(), RuleError> {
        let word = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if word("allkeys") || op == b"~*" {
            self.flags |= ALLKEYS;
            self.keys.clear();
        } else if word("resetkeys") {
            self.flags &= !ALLKEYS;
            self.keys.clear();
        } else if word("allchannels") || op == b"&*" {
            self.flags |= ALLCHANNELS;
            self.channels.clear();
        } else if word("resetchannels") {
            self.flags &= !ALLCHANNELS;
            self.channels.clear();
        } else if word("allcommands") || word("+@all") {
            self.set_all(true);
        } else if word("nocommands") || word("-@all") {
            self.set_all(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            if self.flags & ALLKEYS != 0 {
                return Err(RuleError::KeyAfterAll);
            }
            let (perm, pat) = if op[0] == b'%' {
                let mut perm = 0;
                let mut rest = None;
                for (i, &c) in op.iter().enumerate().skip(1) {
                    match c.to_ascii_uppercase() {
                        b'R' if perm & READ == 0 => perm |= READ,
                        b'W' if perm & WRITE == 0 => perm |= WRITE,
                        b'~' => {
                            rest = Some(&op[i + 1..]);
                            break;
                        }
                        _ => return Err(RuleError::Syntax),
                    }
                }
                match rest {
                    Some(p) if perm != 0 => (perm, p),
                    _ => return Err(RuleError::Syntax),
                }
            } else {
                (READ | WRITE, &op[1..])
            };
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            match self.keys.iter_mut().find(|k| k.pat == pat) {
                Some(k) => k.perm |= perm,
                None => self.keys.push(KeyPattern {
                    pat: pat.to_vec(),
                    perm,
                }),
            }
        } else if op[0] == b'&' {
            if self.flags & ALLCHANNELS != 0 {
                return Err(RuleError::ChannelAfterAll);
            }
            let pat = &op[1..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pat) {
                self.channels.push(pat.to_vec());
            }
        } else if op.len() >= 2 && (op[0] == b'+' || op[0] == b'-') && op[1] == b'@' {
            let cat = category_bit(&op[2..]).ok_or(RuleError::Unknown)?;
            self.set_category(t, cat, op[0] == b'+');
        } else if op[0] == b'+' {
            let name = &op[1..];
            match name.iter().rposition(|&c| c == b'|') {
                None => {
                    let id = lookup_id(t, name).ok_or(RuleError::Unknown)?;
                    self.change_perm(t, id, true);
                }
                Some(bar) => {
                    let (parent, sub) = (&name[..bar], &name[bar + 1..]);
                    let pid = lookup_id(t, parent).ok_or(RuleError::Unknown)?;
                    if t.acl_meta(pid).parent.is_some() {
                        return Err(RuleError::SubcommandFirstArg);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if !t.acl_meta(pid).subs.is_empty() {
                        let id = lookup_id(t, name).ok_or(RuleError::Unknown)?;
                        self.change_perm(t, id, true);
                    } else {
                        let lower = sub.to_ascii_lowercase();
                        match self.firstargs.iter_mut().find(|(i, _)| *i == pid) {
                            Some((_, v)) => {
                                if !v.contains(&lower) {
                                    v.push(lower)
                                }
                            }
                            None => self.firstargs.push((pid, vec![lower])),
                        }
                    }
                }
            }
        } else if op[0] == b'-' {
            let id = lookup_id(t, &op[1..]).ok_or(RuleError::Unknown)?;
            self.change_perm(t, id, false);
            self.flags &= !ALLCOMMANDS;
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// The command rules as Redis describes them (`ACLDescribeSelectorCommandRules`).
    pub fn describe_commands(&self, t: &CommandTable) -> String {
        let ids = t.ids();
        let mut fake = Selector::new(t, 0);
        let additive = !self.bit(ids);
        let mut rules = String::new();
        if additive {
            rules.push_str("-@all ");
            fake.set_all(false);
        } else {
            rules.push_str("+@all ");
            fake.set_all(true);
        }
        // Best fit, one category at a time: the category with the fewest commands that
        // differ from what is still unexplained (ties: the most in common), as long as it has
        // more in common than different. `rest` is the user's bitmap with the categories
        // emitted so far taken out (added back for the subtractive form).
        let mut rest = self.clone();
        loop {
            let mut best: Option<(usize, usize, usize)> = None;
            for i in 0..CATEGORIES.len() {
                let bit = 1u32 << i;
                let (mut on, mut off) = (0usize, 0usize);
                for id in 0..ids {
                    if t.acl_meta(id).cats & bit != 0 {
                        if rest.bit(id) {
                            on += 1;
                        } else {
                            off += 1;
                        }
                    }
                }
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && best.is_none_or(|(_, d, s)| diff < d || (diff == d && same > s)) {
                    best = Some((i, diff, same));
                }
            }
            let Some((i, _, _)) = best else { break };
            let bit = 1u32 << i;
            rules.push(if additive { '+' } else { '-' });
            rules.push('@');
            rules.push_str(CATEGORIES[i]);
            rules.push(' ');
            fake.set_category(t, bit, additive);
            rest.set_category(t, bit, !additive);
        }
        for id in 0..ids {
            let user = self.bit(id);
            if user != fake.bit(id) {
                rules.push(if user { '+' } else { '-' });
                rules.push_str(&t.acl_meta(id).name);
                rules.push(' ');
                fake.change_perm(t, id, user);
            }
            if !user {
                if let Some((_, args)) = self.firstargs.iter().find(|(i, _)| *i == id) {
                    for a in args {
                        rules.push('+');
                        rules.push_str(&t.acl_meta(id).name);
                        rules.push('|');
                        rules.push_str(&String::from_utf8_lossy(a));
                        rules.push(' ');
                    }
                }
            }
        }
        rules.pop();
        rules
    }

    /// The key patterns as GETUSER shows them (`~*` for allkeys).
    pub fn describe_keys(&self) -> String {
        if self.flags & ALLKEYS != 0 {
            return "~*".into();
        }
        let v: Vec<String> = self.keys.iter().map(pattern_string).collect();
        v.join(" ")
    }

    /// The channel patterns as GETUSER shows them.
    pub fn describe_channels(&self) -> String {
        if self.flags & ALLCHANNELS != 0 {
            return "&*".into();
        }
        let v: Vec<String> = self
            .channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect();
        v.join(" ")
    }

    /// The whole selector in rule form (`ACLDescribeSelector`), as ACL LIST prints it.
    pub fn describe(&self, t: &CommandTable) -> String {
        let mut s = String::new();
        if self.flags & ALLKEYS != 0 {
            s.push_str("~* ");
        } else {
            for k in &self.keys {
                s.push_str(&pattern_string(k));
                s.push(' ');
            }
        }
        if self.flags & ALLCHANNELS != 0 {
            s.push_str("&* ");
        } else {
            s.push_str("resetchannels ");
            for c in &self.channels {
                s.push('&');
                s.push_str(&String::from_utf8_lossy(c));
                s.push(' ');
            }
        }
        s.push_str(&self.describe_commands(t));
        s
    }

    /// Checks one command against this selector (`ACLSelectorCheckCmd`).
    pub fn check(&self, spec: &Spec, args: &[&[u8]]) -> Result<(), Denied> {
        if self.flags & ALLCOMMANDS == 0 && !spec.has(flags::NO_AUTH) && !self.bit(spec.id) {
            let idx = if spec.name.contains('|') { 2 } else { 1 };
            let ok = args.len() >= 2
                && args.get(idx).is_some_and(|a| {
                    self.firstargs
                        .iter()
                        .find(|(i, _)| *i == spec.id)
                        .is_some_and(|(_, v)| v.iter().any(|f| f.eq_ignore_ascii_case(a)))
                });
            if !ok {
                return Err(Denied::Command);
            }
        }
        // Pub/sub commands name shard channels in key positions (NOT_KEY key specs): no keys.
        if self.flags & ALLKEYS == 0
            && spec.acl_chan == 0
            && (spec.first_key > 0 || spec.keynum.is_some())
        {
            for (j, pos) in spec.key_positions_in(args).into_iter().enumerate() {
                let need = key_perm(spec, j, args);
                let key = args[pos];
                let ok = self
                    .keys
                    .iter()
                    .any(|k| k.perm & need == need && crate::glob::matches(&k.pat, key));
                if !ok {
                    return Err(Denied::Key(pos));
                }
            }
        }
        if self.flags & ALLCHANNELS == 0 && matches!(spec.acl_chan, 1..=3) {
            let positions = if spec.acl_chan == CHAN_FIRST {
                1..2.min(args.len())
            } else {
                1..args.len()
            };
            let pattern = spec.acl_chan == CHAN_PATTERNS;
            for pos in positions {
                let ch = args[pos];
                let ok = self.channels.iter().any(|p| {
                    if pattern {
                        p.as_slice() == ch
                    } else {
                        crate::glob::matches(p, ch)
                    }
                });
                if !ok {
                    return Err(Denied::Channel(pos));
                }
            }
        }
        Ok(())
    }

    /// True if a subscriber to `channels` (literal channels) and `patterns` may keep them.
    fn allows_subscriptions(&self, channels: &[&[u8]], patterns: &[&[u8]]) -> bool {
        if self.flags & ALLCHANNELS != 0 {
            return true;
        }
        channels
            .iter()
            .all(|c| self.channels.iter().any(|p| crate::glob::matches(p, c)))
            && patterns
                .iter()
                .all(|c| self.channels.iter().any(|p| p.as_slice() == *c))
    }
}

/// `Spec::acl_chan`: PUBLISH / SPUBLISH name one channel, their first argument.
pub const CHAN_FIRST: u8 = 1;
/// `Spec::acl_chan`: SUBSCRIBE / SSUBSCRIBE name channels, every argument.
pub const CHAN_ALL: u8 = 2;
/// `Spec::acl_chan`: PSUBSCRIBE names patterns, matched literally against the user's.
pub const CHAN_PATTERNS: u8 = 3;
/// `Spec::acl_chan`: SUNSUBSCRIBE names shard channels, which are not keys; nothing to check.
pub const CHAN_UNCHECKED: u8 = 4;

/// The access a command needs to its `j`-th key (`READ`, `WRITE`, both or none), from the
/// command's key specs ([`keyperms::KEY_PERMS`]); SET and BITFIELD decide from their arguments
/// as Redis's `setGetKeys` / `bitfieldGetKeys` do.
pub fn key_perm(spec: &Spec, j: usize, args: &[&[u8]]) -> u8 {
    match spec.name.as_str() {
        "set" => {
            if args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get")) {
                READ | WRITE
            } else {
                WRITE
            }
        }
        "bitfield" => {
            let mut i = 2;
            let mut readonly = true;
            while i < args.len() {
                let rem = args.len() - i - 1;
                let a = args[i];
                if a.eq_ignore_ascii_case(b"get") && rem >= 2 {
                    i += 3;
                } else if a.eq_ignore_ascii_case(b"overflow") && rem >= 1 {
                    i += 2;
                } else {
                    readonly = false;
                    break;
                }
            }
            if readonly {
                READ
            } else {
                READ | WRITE
            }
        }
        _ => {
            let p = spec.key_perms;
            if p.is_empty() {
                // Not in Redis's table: derive from the command's flags.
                return if spec.has(flags::WRITE) {
                    READ | WRITE
                } else if spec.has(flags::READONLY) {
                    READ
                } else {
                    0
                };
            }
            match p[j.min(p.len() - 1)] {
                b'r' => READ,
                b'w' => WRITE,
                b'b' => READ | WRITE,
                _ => 0,
            }
        }
    }
}

fn pattern_string(k: &KeyPattern) -> String {
    let prefix = match k.perm {
        READ => "%R~",
        WRITE => "%W~",
        _ => "~",
    };
    format!("{prefix}{}", String::from_utf8_lossy(&k.pat))
}

/// True if `s` has a space or a NUL (Redis refuses them in usernames and patterns).
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&c| c == 0 || c.is_ascii_whitespace())
}

/// The id of a command by full name (`get`, `config|get`), case-insensitively.
fn lookup_id(t: &CommandTable, name: &[u8]) -> Option<usize> {
    crate::families::command::lookup(t, name).map(|s| s.id)
}

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// The command (or subcommand) is not allowed.
    Command,
    /// The key at this argument position is not allowed.
    Key(usize),
    /// The channel at this argument position is not allowed.
    Channel(usize),
}

impl Denied {
    /// The ACL LOG reason.
    pub fn reason(self) -> &'static str {
        match self {
            Denied::Command => "command",
            Denied::Key(_) => "key",
            Denied::Channel(_) => "channel",
        }
    }

    fn rank(self) -> u8 {
        match self {
            Denied::Command => 1,
            Denied::Key(_) => 2,
            Denied::Channel(_) => 4,
        }
    }

    /// The NOPERM error a refused command gets (Redis 7.0's texts).
    pub fn error(self, spec: &Spec) -> String {
        match self {
            Denied::Command => format!(
                "NOPERM this user has no permissions to run the '{}' command",
                spec.name
            ),
            Denied::Key(_) => {
                "NOPERM this user has no permissions to access one of the keys used as arguments"
                    .into()
            }
            Denied::Channel(_) => {
                "NOPERM this user has no permissions to access one of the channels used as \
                 arguments"
                    .into()
            }
        }
    }

    /// The error of a queued command refused at EXEC time.
    pub fn exec_error(self) -> String {
        let reason = match self {
            Denied::Command => "no permission to execute the command or subcommand",
            Denied::Key(_) => "no permission to touch the specified keys",
            Denied::Channel(_) => "no permission to access one of the channels used as arguments",
        };
        format!(
            "NOPERM ACLs rules changed between the moment the transaction was accumulated and \
             the EXEC call. This command is no longer allowed for the following reason: {reason}"
        )
    }

    /// The error `redis.call` gets inside a script.
    pub fn script_error(self) -> &'static str {
        match self {
            Denied::Command => {
                "ERR The user executing the script can't run this command or subcommand"
            }
            Denied::Key(_) => {
                "ERR The user executing the script can't access at least one of the keys \
                 mentioned in the command"
            }
            Denied::Channel(_) => {
                "ERR The user executing the script can't publish to the channel mentioned in \
                 the command"
            }
        }
    }

    /// ACL DRYRUN's reply for a refusal.
    pub fn dryrun_text(self, spec: &Spec, args: &[&[u8]]) -> String {
        match self {
            Denied::Command => format!(
                "This user has no permissions to run the '{}' command",
                spec.name
            ),
            Denied::Key(i) => format!(
                "This user has no permissions to access the '{}' key",
                String::from_utf8_lossy(args[i])
            ),
            Denied::Channel(i) => format!(
                "This user has no permissions to access the '{}' channel",
                String::from_utf8_lossy(args[i])
            ),
        }
    }
}

/// A user.
#[derive(Clone, Debug)]
pub struct User {
    /// The name.
    pub name: Vec<u8>,
    /// `on` (may authenticate) or `off`.
    pub on: bool,
    /// `nopass`: any password authenticates.
    pub nopass: bool,
    /// 0: neither; 1: `skip-sanitize-payload`; 2: `sanitize-payload`.
    pub sanitize: u8,
    /// SHA-256 hashes of the passwords, lowercase hex, in the order added.
    pub passwords: Vec<String>,
    /// The root selector.
    pub root: Selector,
    /// `(...)` selectors.
    pub selectors: Vec<Selector>,
}

/// An internal client's user: everything allowed (scripts, the AOF loader, a primary's link).
pub fn superuser() -> Arc<User> {
    static SU: OnceLock<Arc<User>> = OnceLock::new();
    SU.get_or_init(|| {
        Arc::new(User {
            name: b"default".to_vec(),
            on: true,
            nopass: true,
            sanitize: 0,
            passwords: Vec::new(),
            root: Selector {
                flags: ALLCOMMANDS | ALLKEYS | ALLCHANNELS,
                cmds: Vec::new(),
                ..Default::default()
            },
            selectors: Vec::new(),
        })
    })
    .clone()
}

/// SHA-256 of a password, lowercase hex (the form ACL GETUSER shows).
pub fn hash_password(p: &[u8]) -> String {
    hex::encode(Sha256::digest(p))
}

/// Splits `(` ... `)` selectors that span several arguments back together
/// (`ACLMergeSelectorArguments`); Err(index) of an unclosed one.
pub fn merge_selector_args(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, a) in args.iter().enumerate() {
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(a);
            if a.last() == Some(&b')') {
                out.push(open.take().expect("open").1);
            }
            continue;
        }
        if a.first() == Some(&b'(') && a.last() != Some(&b')') {
            open = Some((j, a.to_vec()));
            continue;
        }
        out.push(a.to_vec());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

impl User {
    /// A new user as `ACL SETUSER` creates it: off, no passwords, no commands, no keys, and
    /// channels as `acl-pubsub-default` says.
    pub fn new(t: &CommandTable, name: &[u8], pubsub_all: bool) -> User {
        User {
            name: name.to_vec(),
            on: false,
            nopass: false,
            sanitize: 0,
            passwords: Vec::new(),
            root: Selector::new(t, if pubsub_all { ALLCHANNELS } else { 0 }),
            selectors: Vec::new(),
        }
    }

    /// The default user of a fresh server: `on nopass ~* &* +@all`.
    pub fn default_user(t: &CommandTable) -> User {
        let mut u = User::new(t, b"default", false);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            u.apply(t, op.as_bytes(), false).expect("valid rule");
        }
        u
    }

    /// True if the user may run any command on any key and channel: dispatch skips the
    /// check for its clients.
    pub fn unrestricted(&self) -> bool {
        self.root.flags == ALLCOMMANDS | ALLKEYS | ALLCHANNELS
    }

    /// Applies one rule (`ACLSetUser`); `(...)` adds a selector.
    pub fn apply(
        &mut self,
        t: &CommandTable,
        op: &[u8],
        pubsub_all: bool,
    ) -> Result<(), RuleError> {
        if op.is_empty() {
            return Err(RuleError::Syntax);
        }
        let word = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if word("on") {
            self.on = true;
        } else if word("off") {
            self.on = false;
        } else if word("skip-sanitize-payload") {
            self.sanitize = 1;
        } else if word("sanitize-payload") {
            self.sanitize = 2;
        } else if word("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if word("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let h = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                let h = &op[1..];
                if h.len() != 64 || !h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(h).into_owned()
            };
            if !self.passwords.contains(&h) {
                self.passwords.push(h);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let h = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                let h = &op[1..];
                if h.len() != 64 || !h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(h).into_owned()
            };
            match self.passwords.iter().position(|p| *p == h) {
                Some(i) => {
                    self.passwords.remove(i);
                }
                None => return Err(RuleError::NoSuchPassword),
            }
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut sel = Selector::new(t, if pubsub_all { ALLCHANNELS } else { 0 });
            for part in op[1..op.len() - 1].split(|&c| c == b' ') {
                if !part.is_empty() {
                    sel.apply(t, part)?;
                }
            }
            self.selectors.push(sel);
        } else if word("clearselectors") {
            self.selectors.clear();
        } else if word("reset") {
            for op in ["resetpass", "resetkeys", "resetchannels"] {
                self.apply(t, op.as_bytes(), pubsub_all)?;
            }
            if pubsub_all {
                self.apply(t, b"allchannels", pubsub_all)?;
            }
            for op in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                self.apply(t, op.as_bytes(), pubsub_all)?;
            }
        } else {
            self.root.apply(t, op)?;
        }
        Ok(())
    }

    /// The flags GETUSER lists, in Redis's order.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut v = vec![if self.on { "on" } else { "off" }];
        if self.nopass {
            v.push("nopass");
        }
        match self.sanitize {
            1 => v.push("skip-sanitize-payload"),
            2 => v.push("sanitize-payload"),
            _ => {}
        }
        v
    }

    /// The user in rule form, as ACL LIST and the ACL file show it (without `user <name> `).
    pub fn describe(&self, t: &CommandTable) -> String {
        let mut s = String::new();
        for f in self.flag_names() {
            s.push_str(f);
            s.push(' ');
        }
        for p in &self.passwords {
            s.push('#');
            s.push_str(p);
            s.push(' ');
        }
        s.push_str(&self.root.describe(t));
        for sel in &self.selectors {
            s.push_str(" (");
            s.push_str(&sel.describe(t));
            s.push(')');
        }
        s
    }

    /// Checks a command: allowed if the root or any selector allows it; otherwise the most
    /// relevant refusal (`ACLCheckAllUserCommandPerm`).
    pub fn check(&self, spec: &Spec, args: &[&[u8]]) -> Result<(), Denied> {
        let mut worst = match self.root.check(spec, args) {
            Ok(()) => return Ok(()),
            Err(d) => d,
        };
        for sel in &self.selectors {
            match sel.check(spec, args) {
                Ok(()) => return Ok(()),
                Err(d) if d.rank() > worst.rank() => worst = d,
                Err(_) => {}
            }
        }
        Err(worst)
    }

    /// True if a selector that allows this command also reads every key (`allkeys`, or a `*`
    /// pattern with read access): SORT's BY and GET patterns need it, as in Redis
    /// (`ACLUserCheckCmdWithUnrestrictedKeyAccess`).
    pub fn reads_every_key(&self, spec: &Spec, args: &[&[u8]]) -> bool {
        std::iter::once(&self.root).chain(&self.selectors).any(|s| {
            s.check(spec, args).is_ok()
                && (s.flags & ALLKEYS != 0
                    || s.keys.iter().any(|k| k.pat == b"*" && k.perm & READ != 0))
        })
    }

    /// True if `pass` authenticates this user (a disabled user never authenticates).
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if !self.on {
            return false;
        }
        if self.nopass {
            return true;
        }
        let h = hash_password(pass);
        // Compare every stored hash in full, whatever matches, so timing tells nothing.
        let mut found = false;
        for p in &self.passwords {
            let eq = p
                .bytes()
                .zip(h.bytes())
                .fold(p.len() ^ h.len(), |acc, (a, b)| acc | (a ^ b) as usize);
            found |= eq == 0;
        }
        found
    }

    /// True if a client subscribed to these may keep its subscriptions.
    pub fn allows_subscriptions(&self, channels: &[&[u8]], patterns: &[&[u8]]) -> bool {
        self.root.allows_subscriptions(channels, patterns)
            || self
                .selectors
                .iter()
                .any(|s| s.allows_subscriptions(channels, patterns))
    }
}

/// One ACL LOG entry.
#[derive(Clone, Debug)]
pub struct LogEntry {
    /// How many times it happened (within a minute of each other).
    pub count: u64,
    /// `command`, `key`, `channel` or `auth`.
    pub reason: &'static str,
    /// `toplevel`, `multi` or `lua`.
    pub context: &'static str,
    /// The command, key, channel, or AUTH's name.
    pub object: Vec<u8>,
    /// The user.
    pub username: Vec<u8>,
    /// Unix ms of the last occurrence.
    pub ctime_ms: i64,
    /// The client's CLIENT LIST line at the last occurrence.
    pub client_info: String,
}

/// Entries closer than this are grouped (Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA).
const LOG_GROUPING_MS: i64 = 60_000;

/// An atomic alone in its cache line: read by every command on every core, it must not share
/// a line with the log's mutex, which refusals write.
#[repr(align(64))]
#[derive(Debug, Default)]
pub struct Epoch(pub AtomicU64);

impl std::ops::Deref for Epoch {
    type Target = AtomicU64;
    fn deref(&self) -> &AtomicU64 {
        &self.0
    }
}

/// All users, the ACL log, and the epoch that tells connections to re-read their user.
pub struct Acl {
    users: RwLock<BTreeMap<Vec<u8>, Arc<User>>>,
    /// Bumped by every change of any user.
    pub epoch: Epoch,
    log: Mutex<VecDeque<LogEntry>>,
}

impl Acl {
    /// The store of a fresh server: only the default user.
    pub fn new(t: &CommandTable) -> Acl {
        let mut users = BTreeMap::new();
        users.insert(b"default".to_vec(), Arc::new(User::default_user(t)));
        Acl {
            users: RwLock::new(users),
            epoch: Epoch(AtomicU64::new(1)),
            log: Mutex::new(VecDeque::new()),
        }
    }

    /// The user with this name.
    pub fn get(&self, name: &[u8]) -> Option<Arc<User>> {
        self.users.read().get(name).cloned()
    }

    /// The default user.
    pub fn default_user(&self) -> Arc<User> {
        self.get(b"default").unwrap_or_else(superuser)
    }

    /// Every user, by name.
    pub fn all(&self) -> Vec<Arc<User>> {
        self.users.read().values().cloned().collect()
    }

    /// Replaces (or adds) a user.
    pub fn put(&self, u: User) {
        self.users.write().insert(u.name.clone(), Arc::new(u));
        self.epoch.fetch_add(1, Ordering::Release);
    }

    /// Removes a user; true if it existed.
    pub fn remove(&self, name: &[u8]) -> bool {
        let had = self.users.write().remove(name).is_some();
        if had {
            self.epoch.fetch_add(1, Ordering::Release);
        }
        had
    }

    /// Replaces every user at once (ACL LOAD); a missing default user is recreated.
    pub fn replace_all(&self, t: &CommandTable, mut users: BTreeMap<Vec<u8>, Arc<User>>) {
        users
            .entry(b"default".to_vec())
            .or_insert_with(|| Arc::new(User::default_user(t)));
        *self.users.write() = users;
        self.epoch.fetch_add(1, Ordering::Release);
    }

    /// Adds an entry to the ACL log, or counts it into a recent equal one.
    pub fn log(&self, mut e: LogEntry, max_len: usize) {
        let mut log = self.log.lock();
        // Like Redis, only the 10 newest entries are looked at for a match.
        if let Some(i) = log.iter().take(10).position(|x| {
            x.reason == e.reason
                && x.context == e.context
                && x.object == e.object
                && x.username == e.username
                && e.ctime_ms - x.ctime_ms < LOG_GROUPING_MS
        }) {
            let old = log.remove(i).expect("found");
            e.count = old.count + 1;
        }
        log.push_front(e);
        log.truncate(max_len);
    }

    /// The newest `n` entries.
    pub fn log_entries(&self, n: usize) -> Vec<LogEntry> {
        self.log.lock().iter().take(n).cloned().collect()
    }

    /// ACL LOG RESET.
    pub fn log_reset(&self) {
        self.log.lock().clear();
    }
}

/// Parses ACL file text (or the config's `user` lines) into users, with Redis's error
/// messages (`ACLLoadFromFile`), each prefixed by `source:line: `; Err holds them all.
pub fn parse_users(
    t: &CommandTable,
    text: &str,
    source: &str,
    pubsub_all: bool,
) -> Result<BTreeMap<Vec<u8>, Arc<User>>, String> {
    let mut users: BTreeMap<Vec<u8>, Arc<User>> = BTreeMap::new();
    let mut errors = String::new();
    for (n, raw) in text.split('\n').enumerate() {
        let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        let linenum = n + 1;
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line
            .as_bytes()
            .split(|&c| c == b' ')
            .filter(|a| !a.is_empty())
            .collect();
        if argv.is_empty() {
            continue;
        }
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!(
                "{source}:{linenum} should start with user keyword followed by the username. "
            ));
            continue;
        }
        let name = argv[1];
        if has_spaces(name) {
            errors.push_str(&format!(
                "'{source}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        if users.contains_key(name) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {linenum}. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        let ops = match merge_selector_args(&argv[2..]) {
            Ok(v) => v,
            Err(j) => {
                errors.push_str(&format!(
                    "{source}:{linenum}: Unmatched parenthesis in selector definition."
                ));
                let _ = j;
                continue;
            }
        };
        let mut u = User::new(t, name, pubsub_all);
        for op in ops {
            if let Err(e) = u.apply(t, &op, pubsub_all) {
                errors.push_str(&format!(
                    "{source}:{linenum}: Error in applying operation '{}': {}. ",
                    String::from_utf8_lossy(&op),
                    e.text()
                ));
            }
        }
        users.insert(name.to_vec(), Arc::new(u));
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        Err(errors)
    }
}

/// Records an ACL LOG entry for client `cl` running `spec` (`addACLLogEntry`): `client-info`
/// is its CLIENT LIST line with the command being refused.
#[allow(clippy::too_many_arguments)]
pub fn log_event(
    srv: &crate::server::Server,
    cl: &crate::ctx::Client,
    spec: &Spec,
    args: &[&[u8]],
    reason: &'static str,
    context: &'static str,
    object: &[u8],
    username: &[u8],
    now_ms: i64,
) {
    let cur = crate::families::client::Current {
        db: cl.db,
        cmd: &spec.name,
        argv_mem: args.iter().map(|a| a.len()).sum(),
    };
    log_event_for(
        srv, &cl.info, &cur, reason, context, object, username, now_ms,
    );
}

/// [`log_event`] for a client known by its published info (a script's caller).
#[allow(clippy::too_many_arguments)]
pub fn log_event_for(
    srv: &crate::server::Server,
    info: &crate::clients::ClientInfo,
    cur: &crate::families::client::Current,
    reason: &'static str,
    context: &'static str,
    object: &[u8],
    username: &[u8],
    now_ms: i64,
) {
    let client_info = crate::families::client::client_line(srv, info, Some(cur));
    let max = srv.config.read().get_u64("acllog-max-len").unwrap_or(128) as usize;
    srv.acl.log(
        LogEntry {
            count: 1,
            reason,
            context,
            object: object.to_vec(),
            username: username.to_vec(),
            ctime_ms: now_ms,
            client_info,
        },
        max,
    );
}
