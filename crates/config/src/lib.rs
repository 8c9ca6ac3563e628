//! Tern's configuration: Redis 7.2's directives and redis.conf syntax.
//!
//! A [`Config`] holds the current value of every directive in a static table
//! (see `table.rs`). It is built from defaults, a config file and the command
//! line ([`Config::from_args`]), and serves CONFIG GET ([`Config::get`]),
//! CONFIG SET ([`Config::set`]) and CONFIG REWRITE ([`Config::rewrite`]).
//! Typed accessors ([`Config::port`], [`Config::hz`], ...) and generic ones
//! ([`Config::get_u64`], [`Config::get_str`], ...) read values for the server.
//!
//! Differences from Redis 7.2, on purpose:
//! - `bind` defaults to `127.0.0.1`, `syslog-ident` to `tern`, and
//!   `enable-debug-command` to `yes` (so DEBUG works without setup).
//! - `port` is immutable (tern cannot move its listener at run time).
//! - `daemonize` is accepted and stored but tern never daemonizes itself.
//! - `dir` is not a `chdir`: it must name an existing directory, is stored as
//!   an absolute path (the default stays `./`), and the server joins file
//!   names onto it.
//! - `save ""` always clears the save points, even after other `save` lines.
//! - `notify-keyspace-events` shows `n` after `A` (Redis drops it there).
//! - Values are only stored; applying them (rebinding, resizing, ...) is the
//!   server's job, helped by the list of changed names [`Config::set`] returns.

#![warn(missing_docs)]

pub mod notify;
mod rewrite;
mod table;
mod text;
mod value;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use table::{Directive, Kind, DEPRECATED, HIDDEN, IMMUTABLE, PROTECTED, SENSITIVE, TABLE};
use text::{bare_or_repr, glob_match, is_glob, split_args, strerror};
use value::Value;

/// The `file` of a [`ConfigError::Directive`] raised by a command-line option.
pub const COMMAND_LINE: &str = "command line";

const VERSION: &str = env!("CARGO_PKG_VERSION");
const MAX_INCLUDE_DEPTH: usize = 16;

/// Why the configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A line of a config file (or a command-line option) was rejected.
    #[error("{}", directive_message(file, *line, text, reason))]
    Directive {
        /// The file's path as given, or [`COMMAND_LINE`].
        file: String,
        /// 1-based line number in the file, or option number on the command line.
        line: usize,
        /// The offending line (or option with its values).
        text: String,
        /// Redis's reason, e.g. "Bad directive or wrong number of arguments".
        reason: String,
    },
    /// A config file could not be read.
    #[error("Fatal error, can't open config file '{}': {reason}", path.display())]
    Open {
        /// The file that could not be read.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The command line itself is malformed (e.g. `--config` without a file).
    #[error("{0}")]
    Usage(String),
}

fn directive_message(file: &str, line: usize, text: &str, reason: &str) -> String {
    let place = if file == COMMAND_LINE {
        format!("Reading the command line, at option {line}")
    } else {
        format!("Reading the configuration file '{file}', at line {line}")
    };
    format!("\n*** FATAL CONFIG FILE ERROR (tern {VERSION}) ***\n{place}\n>>> '{text}'\n{reason}")
}

/// Log verbosity (`loglevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// `debug`: everything.
    Debug,
    /// `verbose`: much rarely useful information.
    Verbose,
    /// `notice`: moderately verbose, what production wants.
    Notice,
    /// `warning`: only very important or critical messages.
    Warning,
    /// `nothing`: nothing is logged.
    Nothing,
}

/// Who may use a protected feature (`enable-debug-command`,
/// `enable-module-command`, `enable-protected-configs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtectedAction {
    /// Nobody.
    No,
    /// Everybody.
    Yes,
    /// Only clients connected over loopback or a Unix socket.
    Local,
}

impl ProtectedAction {
    /// Whether a client (local or not) is allowed.
    pub fn allows(self, client_is_local: bool) -> bool {
        match self {
            ProtectedAction::No => false,
            ProtectedAction::Yes => true,
            ProtectedAction::Local => client_is_local,
        }
    }
}

/// The client classes of `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientClass {
    /// Ordinary clients.
    Normal,
    /// Replicas (`slave` / `replica`).
    Replica,
    /// Clients subscribed to a channel or pattern.
    PubSub,
}

/// One class's output-buffer limits: disconnect at `hard` bytes, or after
/// `soft_seconds` continuously over `soft` bytes. Zero disables a limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OutputBufferLimit {
    /// Hard limit in bytes.
    pub hard: u64,
    /// Soft limit in bytes.
    pub soft: u64,
    /// How long the soft limit may be exceeded, in seconds.
    pub soft_seconds: u64,
}

/// Every directive's current value, plus where the configuration came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// One value per [`TABLE`] row, in table order.
    values: Vec<Value>,
    /// The file CONFIG REWRITE writes (absolute).
    config_file: Option<PathBuf>,
    /// A `save` line has been loaded: later ones add to it instead of
    /// replacing the defaults.
    save_loaded: bool,
    /// Accepted directives that are not in the table (`rename-command`,
    /// `user`, `loadmodule`, module configs), with their arguments.
    extra: Vec<Vec<Vec<u8>>>,
}

/// Name (primary or alias, lowercase) -> (table row, the name as registered).
fn names() -> &'static HashMap<&'static str, (usize, &'static str)> {
    static NAMES: OnceLock<HashMap<&'static str, (usize, &'static str)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut map = HashMap::new();
        for (idx, row) in TABLE.iter().enumerate() {
            map.insert(row.name, (idx, row.name));
            if let Some(alias) = row.alias {
                map.insert(alias, (idx, alias));
            }
        }
        map
    })
}

/// Finds a directive by name, case-insensitively.
pub(crate) fn lookup(name: &[u8]) -> Option<(usize, &'static str)> {
    let lower = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    names().get(lower.as_str()).copied()
}

fn default_value(row: &Directive) -> Value {
    match row.kind {
        Kind::Dir => Value::Str(Some(row.default.as_bytes().to_vec())),
        Kind::ReplicaOf => Value::ReplicaOf(None),
        kind => {
            let args = if kind.multi_arg() && !row.default.is_empty() {
                split_args(row.default.as_bytes()).unwrap_or_default()
            } else {
                vec![row.default.as_bytes().to_vec()]
            };
            let base = Value::Obuf([OutputBufferLimit::default(); 3]);
            let value = value::parse(kind, &args, &base)
                .unwrap_or_else(|e| panic!("bad default for {}: {e}", row.name));
            normalize(row, value)
        }
    }
}

/// Every directive's default value, in table order.
pub(crate) fn defaults() -> &'static [Value] {
    static DEFAULTS: OnceLock<Vec<Value>> = OnceLock::new();
    DEFAULTS.get_or_init(|| TABLE.iter().map(default_value).collect())
}

/// Adjusts a parsed value the way Redis does after setting it.
fn normalize(row: &Directive, value: Value) -> Value {
    match (row.name, value) {
        // hz is a hint: out-of-range values are capped rather than refused.
        ("hz", Value::Int(hz)) => Value::Int(hz.clamp(1, 500)),
        (_, value) => value,
    }
}

/// Why loading one directive failed.
enum LoadError {
    /// Report the current line with this reason.
    Reason(String),
    /// An error from an included file, reported as is.
    Nested(ConfigError),
}

impl From<String> for LoadError {
    fn from(reason: String) -> Self {
        LoadError::Reason(reason)
    }
}

impl From<&str> for LoadError {
    fn from(reason: &str) -> Self {
        LoadError::Reason(reason.to_string())
    }
}

impl Default for Config {
    /// Redis 7.2's defaults, with tern's deviations listed in the crate docs.
    fn default() -> Config {
        Config {
            values: defaults().to_vec(),
            config_file: None,
            save_loaded: false,
            extra: Vec::new(),
        }
    }
}

impl Config {
    /// Builds the configuration from command-line arguments (without the
    /// program name), as redis-server reads them:
    ///
    /// - an optional first argument not starting with `-` names a config file
    ///   (`-` reads the config from standard input); `--config FILE` does too;
    /// - `--name value [value ...]` sets any directive; its values run until
    ///   the next argument starting with `--`; `--save` alone means `save ""`.
    ///
    /// The file is loaded first, then the options in order, so later settings
    /// override earlier ones and the command line overrides the file.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        let mut file: Option<String> = None;
        let mut options: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
        let mut i = 0;
        if let Some(first) = args.first() {
            if first == "-" || !first.starts_with('-') {
                file = Some(first.clone());
                i = 1;
            }
        }
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            let Some(name) = arg.strip_prefix("--").filter(|n| !n.is_empty()) else {
                // A value with no option before it.
                options.push((String::new(), vec![arg.as_bytes().to_vec()]));
                continue;
            };
            let mut values = Vec::new();
            while i < args.len() && !args[i].starts_with("--") {
                values.push(args[i].as_bytes().to_vec());
                i += 1;
            }
            if name.eq_ignore_ascii_case("config") {
                match values.as_slice() {
                    [path] if file.is_none() => {
                        file = Some(String::from_utf8_lossy(path).into_owned());
                    }
                    [_] => {
                        return Err(ConfigError::Usage(
                            "only one config file may be given".to_string(),
                        ))
                    }
                    _ => {
                        return Err(ConfigError::Usage(
                            "--config needs exactly one file name".to_string(),
                        ))
                    }
                }
                continue;
            }
            if values.is_empty() && name.eq_ignore_ascii_case("save") {
                values.push(Vec::new());
            }
            options.push((name.to_string(), values));
        }

        match file.as_deref() {
            Some("-") => {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                    ConfigError::Open {
                        path: PathBuf::from("-"),
                        reason: strerror(&e),
                    }
                })?;
                cfg.load_str(&text, "stdin")?;
            }
            Some(path) => cfg.load_file(Path::new(path))?,
            None => {}
        }

        for (n, (name, values)) in options.into_iter().enumerate() {
            let mut argv = Vec::with_capacity(values.len() + 1);
            let mut text = String::new();
            if !name.is_empty() {
                argv.push(name.as_bytes().to_vec());
                text.push_str(&name);
            }
            for v in &values {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(&bare_or_repr(v));
            }
            argv.extend(values);
            cfg.load_argv(argv, 0).map_err(|e| match e {
                LoadError::Reason(reason) => ConfigError::Directive {
                    file: COMMAND_LINE.to_string(),
                    line: n + 1,
                    text,
                    reason,
                },
                LoadError::Nested(err) => err,
            })?;
        }
        Ok(cfg)
    }

    /// Loads redis.conf text: `name value ...` lines, `#` comments, blank
    /// lines, quoted values (`"..."` with `\n`, `\t`, `\xHH`, ... escapes, and
    /// `'...'`), `include path` (wildcards allowed in the file name) and
    /// case-insensitive names. `source` names the text in error messages.
    /// Directives are applied in order; on error, earlier lines stay applied.
    pub fn load_str(&mut self, text: &str, source: &str) -> Result<(), ConfigError> {
        self.load_text(text, source, 0)
    }

    /// Loads a config file (see [`Config::load_str`]) and remembers it as the
    /// file CONFIG REWRITE writes.
    pub fn load_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        self.load_path(path, 0)?;
        self.config_file = Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
        Ok(())
    }

    /// The file CONFIG REWRITE writes, if any.
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// Sets (or clears) the file CONFIG REWRITE writes.
    pub fn set_config_file(&mut self, path: Option<PathBuf>) {
        self.config_file = path;
    }

    /// Directives that were accepted but are not configuration values:
    /// `rename-command`, `user`, `loadmodule` and module configs (`a.b`), each
    /// as its arguments with the lowercased name first, in file order.
    pub fn extra_directives(&self) -> &[Vec<Vec<u8>>] {
        &self.extra
    }

    fn load_path(&mut self, path: &Path, depth: usize) -> Result<(), ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError::Open {
            path: path.to_path_buf(),
            reason: strerror(&e),
        })?;
        let text = String::from_utf8_lossy(&bytes);
        self.load_text(&text, &path.display().to_string(), depth)
    }

    fn load_text(&mut self, text: &str, source: &str, depth: usize) -> Result<(), ConfigError> {
        for (n, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let result = match split_args(line.as_bytes()) {
                None => Err(LoadError::from("Unbalanced quotes in configuration line")),
                Some(argv) if argv.is_empty() => Ok(()),
                Some(argv) => self.load_argv(argv, depth),
            };
            result.map_err(|e| match e {
                LoadError::Reason(reason) => ConfigError::Directive {
                    file: source.to_string(),
                    line: n + 1,
                    text: line.to_string(),
                    reason,
                },
                LoadError::Nested(err) => err,
            })?;
        }
        Ok(())
    }

    /// Applies one directive read from a file or the command line.
    fn load_argv(&mut self, mut argv: Vec<Vec<u8>>, depth: usize) -> Result<(), LoadError> {
        const BAD: &str = "Bad directive or wrong number of arguments";
        if argv.is_empty() {
            return Err(BAD.into());
        }
        argv[0].make_ascii_lowercase();
        let name = String::from_utf8_lossy(&argv[0]).into_owned();
        let argc = argv.len();
        if let Some((idx, _)) = lookup(&argv[0]) {
            let row = &TABLE[idx];
            let mut args = argv.split_off(1);
            if row.kind.multi_arg() {
                // `save "3600 1 300 100"` and `--save "3600 1"` name several values.
                if args.len() == 1 && !args[0].is_empty() {
                    args = split_args(&args[0]).ok_or("Unbalanced quotes in configuration line")?;
                }
            } else if args.len() != 1 {
                return Err("wrong number of arguments".into());
            }
            let mut value = value::parse(row.kind, &args, &self.values[idx])?;
            if let (Value::Save(new), Value::Save(old)) = (&mut value, &self.values[idx]) {
                // The first `save` replaces the defaults; later ones add save points.
                if self.save_loaded && !new.is_empty() {
                    let mut all = old.clone();
                    all.append(new);
                    *new = all;
                }
                self.save_loaded = true;
            }
            self.values[idx] = normalize(row, value);
            return Ok(());
        }
        if argc == 2 && DEPRECATED.contains(&name.as_str()) {
            return Ok(());
        }
        match (name.as_str(), argc) {
            ("include", 2) => self.include(&argv[1], depth),
            ("rename-command", 3) | ("user", 2..) | ("loadmodule", 2..) => {
                self.extra.push(argv);
                Ok(())
            }
            ("sentinel", _) => Err("sentinel directive while not in sentinel mode".into()),
            (n, _) if n.contains('.') => {
                if argc < 2 {
                    return Err("Module config specified without value".into());
                }
                self.extra.push(argv);
                Ok(())
            }
            _ => Err(BAD.into()),
        }
    }

    /// `include`: a relative path is relative to the working directory, as in Redis.
    fn include(&mut self, target: &[u8], depth: usize) -> Result<(), LoadError> {
        if depth >= MAX_INCLUDE_DEPTH {
            return Err("Too many nested includes".into());
        }
        let path = value::path_from_bytes(target);
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let wildcard = file_name.as_deref().is_some_and(|n| is_glob(n.as_bytes()));
        if !wildcard {
            return self.load_path(&path, depth + 1).map_err(LoadError::Nested);
        }
        // A wildcard in the file name: include every match in name order;
        // no match is not an error (an empty conf.d directory is fine).
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let pattern = file_name.unwrap_or_default();
        let mut matches: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter(|e| glob_match(pattern.as_bytes(), e.file_name().as_encoded_bytes(), false))
                .map(|e| dir.join(e.file_name()))
                .collect(),
            Err(_) => Vec::new(),
        };
        matches.sort();
        for m in matches {
            self.load_path(&m, depth + 1).map_err(LoadError::Nested)?;
        }
        Ok(())
    }

    /// CONFIG GET: every (name, value) whose name matches one of `patterns`
    /// (Redis globs, case-insensitive; aliases such as
    /// `hash-max-ziplist-entries` are names of their own). A pattern without
    /// `*`, `?` or `[` is an exact name and also finds hidden directives.
    /// Values are formatted as Redis does: memory sizes in bytes, `yes`/`no`,
    /// lowercase enum names, `save` as `3600 1 300 100 60 10000`, and so on.
    /// Each name appears once, in pattern then table order.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut seen: HashSet<&'static str> = HashSet::new();
        for pattern in patterns {
            if !is_glob(pattern) {
                if let Some((idx, name)) = lookup(pattern) {
                    if seen.insert(name) {
                        out.push((name.to_string(), self.format_idx(idx)));
                    }
                }
                continue;
            }
            for (idx, row) in TABLE.iter().enumerate() {
                if row.flags & HIDDEN != 0 {
                    continue;
                }
                for name in std::iter::once(row.name).chain(row.alias) {
                    if !seen.contains(name) && glob_match(pattern, name.as_bytes(), true) {
                        seen.insert(name);
                        out.push((name.to_string(), self.format_idx(idx)));
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET from a client that is not local (see
    /// [`Config::set_from_client`]).
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_from_client(pairs, false)
    }

    /// CONFIG SET `name value [name value ...]`, all or nothing. Multi-value
    /// directives (`save`, `bind`, `client-output-buffer-limit`, ...) take
    /// their values space-separated in one argument. Protected directives
    /// (`dir`, `dbfilename`) are allowed as `enable-protected-configs` says for
    /// a client that is (or is not) local.
    ///
    /// Returns the primary names of the directives whose value changed, for
    /// the server to apply. Errors are Redis's replies, e.g.
    /// `ERR Unknown option or number of arguments for CONFIG SET - 'foo'` or
    /// `ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value`.
    pub fn set_from_client(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        client_is_local: bool,
    ) -> Result<Vec<&'static str>, String> {
        let failed = |name: &str, reason: &str| {
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
        };
        let protected_ok = self.enable_protected_configs().allows(client_is_local);
        let mut found: Vec<(usize, &'static str)> = Vec::with_capacity(pairs.len());
        for (name, _) in pairs {
            let typed = String::from_utf8_lossy(name);
            let Some((idx, registered)) = lookup(name) else {
                return Err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{typed}'"
                ));
            };
            let row = &TABLE[idx];
            if row.flags & IMMUTABLE != 0 {
                return Err(failed(&typed, "can't set immutable config"));
            }
            if row.flags & PROTECTED != 0 && !protected_ok {
                return Err(failed(&typed, "can't set protected config"));
            }
            if found.iter().any(|(i, _)| *i == idx) {
                return Err(failed(&typed, "duplicate parameter"));
            }
            found.push((idx, registered));
        }

        let mut staged = Vec::with_capacity(found.len());
        for ((idx, registered), (_, raw)) in found.into_iter().zip(pairs) {
            let row = &TABLE[idx];
            let args: Vec<Vec<u8>> = if row.kind.multi_arg() {
                raw.split(|&b| b == b' ')
                    .filter(|a| !a.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect()
            } else {
                vec![raw.to_vec()]
            };
            let value = value::parse(row.kind, &args, &self.values[idx])
                .map_err(|reason| failed(registered, &reason))?;
            staged.push((idx, normalize(row, value)));
        }

        let mut changed = Vec::new();
        for (idx, value) in staged {
            if self.values[idx] != value {
                self.values[idx] = value;
                changed.push(TABLE[idx].name);
            }
        }
        Ok(changed)
    }

    /// CONFIG REWRITE: rewrites the config file, keeping its comments and the
    /// lines it does not own, replacing each directive's lines in place
    /// (blanking extra ones), and appending directives that differ from their
    /// defaults after a `# Generated by CONFIG REWRITE` line. The new text
    /// replaces the file atomically.
    pub fn rewrite(&self) -> Result<(), String> {
        self.rewrite_with_users(None)
    }

    /// [`Config::rewrite`], replacing the file's `user` lines with `users` when given.
    pub fn rewrite_with_users(&self, users: Option<&[String]>) -> Result<(), String> {
        let path = self
            .config_file
            .as_deref()
            .ok_or_else(|| "ERR The server is running without a config file".to_string())?;
        let failed = |e: std::io::Error| format!("ERR Rewriting config file: {}", strerror(&e));
        let old = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(failed(e)),
        };
        let content = rewrite::rewrite_content(self, &old, users);
        write_atomically(path, content.as_bytes()).map_err(failed)
    }

    /// Whether a directive's value is secret (`requirepass`, `masterauth`,
    /// ...), so command logs should redact it.
    pub fn is_sensitive(name: &[u8]) -> bool {
        lookup(name).is_some_and(|(idx, _)| TABLE[idx].flags & SENSITIVE != 0)
    }

    /// Every directive as (primary name, alias), in table order.
    pub fn directives() -> impl Iterator<Item = (&'static str, Option<&'static str>)> {
        TABLE.iter().map(|row| (row.name, row.alias))
    }

    fn format_idx(&self, idx: usize) -> Vec<u8> {
        value::format(TABLE[idx].kind, &self.values[idx])
    }

    fn value_of(&self, name: &str) -> Option<&Value> {
        lookup(name.as_bytes()).map(|(idx, _)| &self.values[idx])
    }

    /// A directive's value as CONFIG GET shows it, as bytes.
    pub fn get_bytes(&self, name: &str) -> Option<Vec<u8>> {
        lookup(name.as_bytes()).map(|(idx, _)| self.format_idx(idx))
    }

    /// A directive's value as CONFIG GET shows it (lossy UTF-8).
    pub fn get_str(&self, name: &str) -> Option<String> {
        self.get_bytes(name)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// A numeric directive's value (memory sizes in bytes); `None` for other
    /// kinds, unknown names and negative values.
    pub fn get_u64(&self, name: &str) -> Option<u64> {
        match self.value_of(name)? {
            Value::Int(v) => u64::try_from(*v).ok(),
            Value::Mem(v) => Some(*v),
            _ => None,
        }
    }

    /// A numeric directive's value; `None` for other kinds, unknown names and
    /// memory sizes beyond `i64::MAX`. (`maxmemory-clients` is negative for a
    /// percentage.)
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        match self.value_of(name)? {
            Value::Int(v) => Some(*v),
            Value::Mem(v) => i64::try_from(*v).ok(),
            _ => None,
        }
    }

    /// A yes/no directive's value; `None` for other kinds and unknown names.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        match self.value_of(name)? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A string directive's value (`None` when unset, unknown or not a string).
    pub fn get_string_bytes(&self, name: &str) -> Option<Vec<u8>> {
        match self.value_of(name)? {
            Value::Str(s) => s.clone(),
            _ => None,
        }
    }

    fn int(&self, name: &str) -> i64 {
        self.get_i64(name)
            .unwrap_or_else(|| panic!("{name} is not numeric"))
    }

    fn flag(&self, name: &str) -> bool {
        self.get_bool(name)
            .unwrap_or_else(|| panic!("{name} is not yes/no"))
    }

    fn enum_index(&self, name: &str) -> usize {
        match self.value_of(name) {
            Some(Value::Enum(i)) => *i,
            _ => panic!("{name} is not an enum"),
        }
    }

    fn protected_action(&self, name: &str) -> ProtectedAction {
        match self.enum_index(name) {
            1 => ProtectedAction::Yes,
            2 => ProtectedAction::Local,
            _ => ProtectedAction::No,
        }
    }

    fn string(&self, name: &str) -> String {
        self.get_string_bytes(name)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// `port`: the TCP port (0 = do not listen on TCP).
    pub fn port(&self) -> u16 {
        self.int("port") as u16
    }

    /// `bind`: the addresses to listen on (may be empty).
    pub fn bind(&self) -> Vec<String> {
        match self.value_of("bind") {
            Some(Value::Bind(addrs)) => addrs
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `tcp-backlog`.
    pub fn tcp_backlog(&self) -> u32 {
        self.int("tcp-backlog") as u32
    }

    /// `unixsocket`, if set.
    pub fn unixsocket(&self) -> Option<PathBuf> {
        self.get_string_bytes("unixsocket")
            .map(|b| value::path_from_bytes(&b))
    }

    /// `unixsocketperm` (0 = leave the default permissions).
    pub fn unixsocketperm(&self) -> u32 {
        self.int("unixsocketperm") as u32
    }

    /// `protected-mode`.
    pub fn protected_mode(&self) -> bool {
        self.flag("protected-mode")
    }

    /// `timeout`: idle seconds before a client is closed (0 = never).
    pub fn timeout(&self) -> u64 {
        self.int("timeout") as u64
    }

    /// `tcp-keepalive`, in seconds (0 = off).
    pub fn tcp_keepalive(&self) -> u64 {
        self.int("tcp-keepalive") as u64
    }

    /// `databases`.
    pub fn databases(&self) -> usize {
        self.int("databases") as usize
    }

    /// `requirepass`, if set.
    pub fn requirepass(&self) -> Option<Vec<u8>> {
        self.get_string_bytes("requirepass")
    }

    /// `masterauth`, if set.
    pub fn masterauth(&self) -> Option<Vec<u8>> {
        self.get_string_bytes("masterauth")
    }

    /// `masteruser`, if set.
    pub fn masteruser(&self) -> Option<Vec<u8>> {
        self.get_string_bytes("masteruser")
    }

    /// `maxclients`.
    pub fn maxclients(&self) -> u64 {
        self.int("maxclients") as u64
    }

    /// `dir`: where the RDB and AOF files live (absolute once set; default `./`).
    pub fn dir(&self) -> PathBuf {
        match self.value_of("dir") {
            Some(Value::Str(Some(raw))) => value::path_from_bytes(raw),
            _ => PathBuf::from("./"),
        }
    }

    /// `dbfilename`.
    pub fn dbfilename(&self) -> String {
        self.string("dbfilename")
    }

    /// `appendonly`.
    pub fn appendonly(&self) -> bool {
        self.flag("appendonly")
    }

    /// `appendfilename`.
    pub fn appendfilename(&self) -> String {
        self.string("appendfilename")
    }

    /// `appenddirname`.
    pub fn appenddirname(&self) -> String {
        self.string("appenddirname")
    }

    /// `appendfsync`: `everysec`, `always` or `no`.
    pub fn appendfsync(&self) -> &'static str {
        self.enum_name("appendfsync")
    }

    /// `save`: the (seconds, changes) save points; empty disables snapshots.
    pub fn save_params(&self) -> Vec<(u64, u64)> {
        match self.value_of("save") {
            Some(Value::Save(params)) => params.clone(),
            _ => Vec::new(),
        }
    }

    /// `loglevel`.
    pub fn loglevel(&self) -> LogLevel {
        match self.enum_index("loglevel") {
            0 => LogLevel::Debug,
            1 => LogLevel::Verbose,
            2 => LogLevel::Notice,
            3 => LogLevel::Warning,
            _ => LogLevel::Nothing,
        }
    }

    /// `logfile` (empty = standard output).
    pub fn logfile(&self) -> String {
        self.string("logfile")
    }

    /// `daemonize` (accepted for compatibility; tern never daemonizes).
    pub fn daemonize(&self) -> bool {
        self.flag("daemonize")
    }

    /// `pidfile`, if set.
    pub fn pidfile(&self) -> Option<PathBuf> {
        self.get_string_bytes("pidfile")
            .map(|b| value::path_from_bytes(&b))
    }

    /// `proto-max-bulk-len`: the largest bulk string a request may carry.
    pub fn proto_max_bulk_len(&self) -> u64 {
        self.int("proto-max-bulk-len") as u64
    }

    /// `client-query-buffer-limit`: the largest query buffer per client.
    pub fn client_query_buffer_limit(&self) -> u64 {
        self.int("client-query-buffer-limit") as u64
    }

    /// `client-output-buffer-limit` for one class.
    pub fn client_output_buffer_limit(&self, class: ClientClass) -> OutputBufferLimit {
        match self.value_of("client-output-buffer-limit") {
            Some(Value::Obuf(limits)) => limits[class as usize],
            _ => OutputBufferLimit::default(),
        }
    }

    /// `hz`: background task frequency, already capped to 1..=500.
    pub fn hz(&self) -> u32 {
        self.int("hz") as u32
    }

    /// `dynamic-hz`.
    pub fn dynamic_hz(&self) -> bool {
        self.flag("dynamic-hz")
    }

    /// `slowlog-log-slower-than`, in microseconds (negative = off, 0 = log all).
    pub fn slowlog_log_slower_than(&self) -> i64 {
        self.int("slowlog-log-slower-than")
    }

    /// `slowlog-max-len`.
    pub fn slowlog_max_len(&self) -> u64 {
        self.int("slowlog-max-len") as u64
    }

    /// `latency-monitor-threshold`, in milliseconds (0 = off).
    pub fn latency_monitor_threshold(&self) -> u64 {
        self.int("latency-monitor-threshold") as u64
    }

    /// `maxmemory`, in bytes (0 = no limit).
    pub fn maxmemory(&self) -> u64 {
        self.get_u64("maxmemory").unwrap_or(0)
    }

    /// `maxmemory-policy`, e.g. `noeviction` or `allkeys-lru`.
    pub fn maxmemory_policy(&self) -> &'static str {
        self.enum_name("maxmemory-policy")
    }

    /// `maxmemory-samples`.
    pub fn maxmemory_samples(&self) -> u64 {
        self.int("maxmemory-samples") as u64
    }

    /// `active-expire-effort` (1..=10).
    pub fn active_expire_effort(&self) -> u32 {
        self.int("active-expire-effort") as u32
    }

    /// `busy-reply-threshold` (alias `lua-time-limit`), in milliseconds.
    pub fn busy_reply_threshold(&self) -> u64 {
        self.int("busy-reply-threshold") as u64
    }

    /// `io-threads`.
    pub fn io_threads(&self) -> usize {
        self.int("io-threads") as usize
    }

    /// `notify-keyspace-events` as flag bits (see [`notify`]).
    pub fn notify_keyspace_events(&self) -> u32 {
        match self.value_of("notify-keyspace-events") {
            Some(Value::Notify(bits)) => *bits,
            _ => 0,
        }
    }

    /// `replicaof`: the master's host and port, if this is a replica.
    pub fn replicaof(&self) -> Option<(String, u16)> {
        match self.value_of("replicaof") {
            Some(Value::ReplicaOf(Some((host, port)))) => {
                Some((String::from_utf8_lossy(host).into_owned(), *port))
            }
            _ => None,
        }
    }

    /// `enable-debug-command`.
    pub fn enable_debug_command(&self) -> ProtectedAction {
        self.protected_action("enable-debug-command")
    }

    /// `enable-module-command`.
    pub fn enable_module_command(&self) -> ProtectedAction {
        self.protected_action("enable-module-command")
    }

    /// `enable-protected-configs`.
    pub fn enable_protected_configs(&self) -> ProtectedAction {
        self.protected_action("enable-protected-configs")
    }

    /// An enum directive's value name, e.g. `get_enum("appendfsync")`.
    pub fn get_enum(&self, name: &str) -> Option<&'static str> {
        let (idx, _) = lookup(name.as_bytes())?;
        match (TABLE[idx].kind, &self.values[idx]) {
            (Kind::Enum(list), Value::Enum(i)) => Some(value::enum_name(list, *i)),
            _ => None,
        }
    }

    fn enum_name(&self, name: &str) -> &'static str {
        self.get_enum(name)
            .unwrap_or_else(|| panic!("{name} is not an enum"))
    }
}

/// Replaces `path` with `content` through a temporary file and a rename.
fn write_atomically(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp-{}-{nanos}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(content)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
