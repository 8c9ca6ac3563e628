//! Command errors, with texts byte-identical to Redis 7's (clients and tests match on them).
//!
//! A handler returns `Err(CmdError)`; dispatch writes it as one `-...` reply and the connection
//! goes on. Protocol errors (which close the connection) live in `tern_resp::ParseError`.

/// `-WRONGTYPE ...`
pub const WRONG_TYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
/// `-ERR syntax error`
pub const SYNTAX: &str = "ERR syntax error";
/// Integer arguments that do not parse.
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
/// Float arguments that do not parse.
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
/// INCR family overflow.
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
/// Key lookups that need an existing key.
pub const NO_SUCH_KEY: &str = "ERR no such key";
/// SELECT/MOVE with a bad index.
pub const DB_INDEX: &str = "ERR DB index is out of range";
/// Expiry arguments out of range.
pub const INVALID_EXPIRE: &str = "ERR invalid expire time in '{}' command";
/// AUTH needed.
pub const NOAUTH: &str = "NOAUTH Authentication required.";
/// Bad password.
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
/// String growth beyond proto-max-bulk-len.
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
/// Offsets out of range in SETRANGE.
pub const OFFSET_RANGE: &str = "ERR offset is out of range";

/// RENAME/COPY/MOVE onto the same key and database.
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
/// RESTORE onto an existing key without REPLACE.
pub const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
/// SCAN cursors that do not parse.
pub const INVALID_CURSOR: &str = "ERR invalid cursor";

/// `getIntFromObjectOrReply` for integers outside the `int` range.
pub const INT_RANGE: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";

/// An error a command replies with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    /// A fixed Redis error text (the whole line after '-').
    Static(&'static str),
    /// A formatted error text (the whole line after '-').
    Msg(String),
}

impl CmdError {
    /// The whole error line after '-'.
    pub fn text(&self) -> &str {
        match self {
            CmdError::Static(s) => s,
            CmdError::Msg(s) => s,
        }
    }

    /// `ERR unknown command 'x', with args beginning with: 'a' 'b' `
    pub fn unknown_command(name: &[u8], args: &[&[u8]]) -> CmdError {
        let mut s = format!(
            "ERR unknown command '{}', with args beginning with: ",
            lossy_trunc(name)
        );
        for a in args.iter().take(128) {
            s.push_str(&format!("'{}' ", lossy_trunc(a)));
        }
        CmdError::Msg(s)
    }

    /// `ERR wrong number of arguments for 'get' command`
    pub fn arity(name: &str) -> CmdError {
        CmdError::Msg(format!(
            "ERR wrong number of arguments for '{}' command",
            name.to_ascii_lowercase()
        ))
    }

    /// `ERR unknown subcommand 'x'. Try CONFIG HELP.`
    pub fn unknown_subcommand(sub: &[u8], cmd: &str) -> CmdError {
        CmdError::Msg(format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            lossy_trunc(sub),
            cmd.to_ascii_uppercase()
        ))
    }

    /// `ERR invalid expire time in 'set' command`
    pub fn invalid_expire(cmd: &str) -> CmdError {
        CmdError::Msg(INVALID_EXPIRE.replace("{}", &cmd.to_ascii_lowercase()))
    }
}

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> Self {
        CmdError::Static(s)
    }
}

/// What a handler returns.
pub type CmdResult = Result<(), CmdError>;

/// Redis truncates names echoed in errors to 128 bytes and sanitizes them.
fn lossy_trunc(b: &[u8]) -> String {
    let b = &b[..b.len().min(128)];
    String::from_utf8_lossy(b).replace(['\r', '\n'], " ")
}

/// Writes refused after a failed background save (`stop-writes-on-bgsave-error`).
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// The reply to a connection refused by `protected-mode` (Redis 7.0's text, with "Redis"
/// replaced by "Tern" where the server names itself; the rest, typo included, is Redis's so
/// that anything matching on it still does).
pub const DENIED_PROTECTED_MODE: &str = "-DENIED Tern is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Tern you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Tern from the same host the server is running, however MAKE SURE Tern is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Tern configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
