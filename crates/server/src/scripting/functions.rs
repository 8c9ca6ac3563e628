//! Redis 7.0 functions (functions.c): the registry of loaded libraries, the `#!lua name=<lib>`
//! metadata line, and the FUNCTION DUMP / RESTORE payloads.
//!
//! A library is validated by running its code once in a throwaway Lua state on the calling
//! thread ([`super::engine::validate_library`]): that collects the functions it registers
//! (name, description, flags) and catches every error FUNCTION LOAD reports. The registry
//! keeps only the code and that metadata; each engine that runs FCALL (one per thread that
//! runs scripts) loads the libraries into its own state when it sees [`Functions::epoch`]
//! change, so no Lua value crosses threads.
//!
//! For persistence, [`Functions::codes`] lists every library's code (what an RDB file stores
//! under opcode 245, `RDB_OPCODE_FUNCTION2`) and [`Functions::load_code`] loads one back.

use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The RDB opcode of a library in an RDB file or a FUNCTION DUMP payload.
pub const RDB_OPCODE_FUNCTION2: u8 = 245;
/// The opcode of Redis 7.0 release candidates' function format.
pub const RDB_OPCODE_FUNCTION_PRE_GA: u8 = 246;
/// FUNCTION LOAD gives up on library code that runs longer than this (Redis's LOAD_TIMEOUT_MS).
pub const LOAD_TIMEOUT_MS: i64 = 500;

/// The `flags` a function may declare, in Redis's order (FUNCTION LIST shows them so).
pub const FLAG_NAMES: &[(u32, &str)] = &[
    (NO_WRITES, "no-writes"),
    (ALLOW_OOM, "allow-oom"),
    (ALLOW_STALE, "allow-stale"),
    (NO_CLUSTER, "no-cluster"),
    (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
];
/// `no-writes`: the function never writes (FCALL_RO may run it).
pub const NO_WRITES: u32 = 1 << 0;
/// `allow-oom`: may run when used memory is over `maxmemory`.
pub const ALLOW_OOM: u32 = 1 << 1;
/// `allow-stale`: may run on a stale replica.
pub const ALLOW_STALE: u32 = 1 << 2;
/// `no-cluster`: refused in cluster mode.
pub const NO_CLUSTER: u32 = 1 << 3;
/// `allow-cross-slot-keys`: may touch keys of several slots.
pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;

/// What a library registered for one function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionMeta {
    /// The name as registered (FCALL looks it up ignoring case).
    pub name: String,
    /// `description`, if given.
    pub desc: Option<Vec<u8>>,
    /// `flags`, a set of the constants above.
    pub flags: u32,
}

/// One loaded library.
#[derive(Debug)]
pub struct Library {
    /// The name from the metadata line (case-sensitive, as in Redis).
    pub name: String,
    /// The whole code, metadata line included (FUNCTION LIST WITHCODE, DUMP, RDB).
    pub code: Arc<[u8]>,
    /// Where the Lua code starts: just after the metadata line, at its newline, so that line
    /// numbers in errors count the metadata line as line 1.
    pub body_at: usize,
    /// The functions it registered, in registration order.
    pub functions: Vec<FunctionMeta>,
}

impl Library {
    /// The Lua code (without the metadata line).
    pub fn body(&self) -> &[u8] {
        &self.code[self.body_at..]
    }
}

/// The loaded libraries and an index of their functions.
#[derive(Default, Clone)]
struct State {
    /// By library name.
    libs: BTreeMap<String, Arc<Library>>,
    /// Lowercased function name -> (library, index in its `functions`).
    funcs: HashMap<String, (Arc<Library>, usize)>,
}

impl State {
    fn link(&mut self, lib: Arc<Library>) {
        for (i, f) in lib.functions.iter().enumerate() {
            self.funcs
                .entry(f.name.to_ascii_lowercase())
                .or_insert_with(|| (lib.clone(), i));
        }
        self.libs.insert(lib.name.clone(), lib);
    }

    fn unlink(&mut self, name: &str) -> Option<Arc<Library>> {
        let lib = self.libs.remove(name)?;
        for f in &lib.functions {
            let key = f.name.to_ascii_lowercase();
            if self
                .funcs
                .get(&key)
                .is_some_and(|(l, _)| Arc::ptr_eq(l, &lib))
            {
                self.funcs.remove(&key);
            }
        }
        Some(lib)
    }

    /// Adds every library of `src`, as Redis's `libraryJoin`: an existing library is an error
    /// unless `replace`, and no function may collide with another library's.
    fn join(&mut self, src: State, replace: bool) -> Result<(), String> {
        let mut next = self.clone();
        for name in src.libs.keys() {
            if next.libs.contains_key(name) {
                if !replace {
                    return Err(format!("Library {name} already exists"));
                }
                next.unlink(name);
            }
        }
        for lib in src.libs.values() {
            for f in &lib.functions {
                if next.funcs.contains_key(&f.name.to_ascii_lowercase()) {
                    return Err(format!("Function {} already exists", f.name));
                }
            }
        }
        for lib in src.libs.into_values() {
            next.link(lib);
        }
        *self = next;
        Ok(())
    }
}

/// What FUNCTION RESTORE does with libraries that already exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Drop every existing library first.
    Flush,
    /// Add; a library that exists is an error (the default).
    Append,
    /// Add; a library that exists is replaced.
    Replace,
}

/// The function registry (`Scripts::functions`).
#[derive(Default)]
pub struct Functions {
    state: RwLock<State>,
    /// Bumped by every change; engines reload their libraries when it moves.
    epoch: AtomicU64,
}

/// Splits the `#!<engine> name=<lib>` line off `code`: (engine, library name, offset of the
/// code after the line). Errors are Redis 7.0's texts (without "ERR ").
pub fn parse_metadata(code: &[u8]) -> Result<(String, String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = tern_resp::request::split_args(&code[..end]).ok_or("Invalid library metadata")?;
    if parts.is_empty() {
        return Err("Invalid library metadata".into());
    }
    let engine = String::from_utf8_lossy(parts[0].get(2..).unwrap_or_default()).into_owned();
    let mut name: Option<String> = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(String::from_utf8_lossy(&p[5..]).into_owned());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(p)
        ));
    }
    let name = name.ok_or("Library name was not given")?;
    Ok((engine, name, end))
}

/// True if `name` is a valid library or function name: letters, digits and `_`, not empty.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Redis's text for a bad library (or function) name.
pub const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// Parses and validates a library: metadata, engine, name, then its code run once to collect
/// the functions it registers. `timeout_ms` bounds that run (0: none).
pub fn build_library(code: &[u8], timeout_ms: i64) -> Result<Library, String> {
    let (engine, name, body_at) = parse_metadata(code)?;
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("Engine '{engine}' not found"));
    }
    if !valid_name(&name) {
        return Err(BAD_NAME.into());
    }
    let functions = super::engine::validate_library(&code[body_at..], timeout_ms)?;
    if functions.is_empty() {
        return Err("No functions registered".into());
    }
    Ok(Library {
        name,
        code: Arc::from(code),
        body_at,
        functions,
    })
}

impl Functions {
    /// The current epoch (see [`Functions::snapshot`]).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// The epoch and every library, read together.
    pub fn snapshot(&self) -> (u64, Vec<Arc<Library>>) {
        let st = self.state.read();
        (self.epoch(), st.libs.values().cloned().collect())
    }

    /// The library and function FCALL `name` refers to (ignoring case).
    pub fn lookup(&self, name: &[u8]) -> Option<(Arc<Library>, usize)> {
        let key = String::from_utf8_lossy(name).to_ascii_lowercase();
        self.state.read().funcs.get(&key).cloned()
    }

    /// True if a library of that name is loaded.
    pub fn exists(&self, name: &str) -> bool {
        self.state.read().libs.contains_key(name)
    }

    /// (libraries, functions) counts, for FUNCTION STATS.
    pub fn counts(&self) -> (usize, usize) {
        let st = self.state.read();
        let funcs = st.libs.values().map(|l| l.functions.len()).sum();
        (st.libs.len(), funcs)
    }

    /// Every library, by name.
    pub fn libraries(&self) -> Vec<Arc<Library>> {
        self.state.read().libs.values().cloned().collect()
    }

    fn bump(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Adds a validated library (FUNCTION LOAD after [`build_library`]); `then` runs under
    /// the registry lock once the library is in (the caller logs the command there, so the
    /// log order matches the order of changes). Returns the library's name.
    pub fn add(&self, lib: Library, replace: bool, then: impl FnOnce()) -> Result<String, String> {
        let mut st = self.state.write();
        if st.libs.contains_key(&lib.name) && !replace {
            return Err(format!("Library '{}' already exists", lib.name));
        }
        let mut next = st.clone();
        next.unlink(&lib.name);
        for f in &lib.functions {
            if next.funcs.contains_key(&f.name.to_ascii_lowercase()) {
                return Err(format!("Function {} already exists", f.name));
            }
        }
        let name = lib.name.clone();
        next.link(Arc::new(lib));
        *st = next;
        self.bump();
        then();
        Ok(name)
    }

    /// FUNCTION DELETE: false if there is no such library.
    pub fn delete(&self, name: &str, then: impl FnOnce()) -> bool {
        let mut st = self.state.write();
        if st.unlink(name).is_none() {
            return false;
        }
        self.bump();
        then();
        true
    }

    /// FUNCTION FLUSH.
    pub fn flush(&self, then: impl FnOnce()) {
        let mut st = self.state.write();
        *st = State::default();
        self.bump();
        then();
    }

    /// Every library's code, metadata line included, by library name: what an RDB file
    /// stores, one `RDB_OPCODE_FUNCTION2` entry each.
    pub fn codes(&self) -> Vec<Arc<[u8]>> {
        self.state
            .read()
            .libs
            .values()
            .map(|l| l.code.clone())
            .collect()
    }

    /// [`Functions::codes`] and `f()` (a snapshot reads the replication offset there) read
    /// together: FUNCTION LOAD/DELETE/FLUSH/RESTORE log themselves under the registry lock, so
    /// the libraries returned are exactly those whose changes were logged before what `f`
    /// reads.
    pub fn codes_and<T>(&self, f: impl FnOnce() -> T) -> (Vec<Arc<[u8]>>, T) {
        let st = self.state.read();
        let codes = st.libs.values().map(|l| l.code.clone()).collect();
        (codes, f())
    }

    /// Loads one library's code (an RDB file's `RDB_OPCODE_FUNCTION2` entry, or AOF/replica
    /// input), with no load timeout as Redis does for those. `replace` replaces a library of
    /// the same name instead of failing. Returns the library's name, or Redis's error text.
    pub fn load_code(&self, code: &[u8], replace: bool) -> Result<String, String> {
        let lib = build_library(code, 0)?;
        self.add(lib, replace, || {})
    }

    /// FUNCTION DUMP: every library as `RDB_OPCODE_FUNCTION2` + code (an RDB string), then the
    /// RDB version (10) and the CRC-64 of it all, as Redis 7.0 writes it.
    pub fn dump(&self) -> Vec<u8> {
        let mut w = tern_persist::rdb::RdbWriter::new(Vec::new());
        for code in self.codes() {
            w.write_u8(RDB_OPCODE_FUNCTION2).expect("a Vec");
            w.write_string(&code).expect("a Vec");
        }
        let mut out = w.into_inner();
        out.extend_from_slice(&tern_persist::dump::DUMP_RDB_VERSION.to_le_bytes());
        let crc = tern_persist::crc64::crc64(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// FUNCTION RESTORE: loads every library of a DUMP payload, then applies `policy`. On any
    /// error nothing changes. `then` runs under the registry lock after a change.
    pub fn restore(
        &self,
        payload: &[u8],
        policy: RestorePolicy,
        then: impl FnOnce(),
    ) -> Result<(), String> {
        const BAD: &str = "DUMP payload version or checksum are wrong";
        let (version, body) = tern_persist::dump::verify_payload(payload).map_err(|_| BAD)?;
        if version > tern_persist::dump::DUMP_RDB_VERSION {
            return Err(BAD.into());
        }
        let mut src = State::default();
        let mut r = tern_persist::rdb::RdbReader::new(body);
        while !r.is_at_end() {
            let ty = r.read_u8().map_err(|_| "can not read data type")?;
            if ty == RDB_OPCODE_FUNCTION_PRE_GA {
                // Redis 7.0 release candidates wrote the library name, then the engine name,
                // ...: Redis 7.0 still reads that far before failing; tern reads no further.
                r.read_string().map_err(|_| "Failed loading library name")?;
                r.read_string().map_err(|_| "Failed loading engine name")?;
                return Err("Pre-GA function format not supported".into());
            }
            if ty != RDB_OPCODE_FUNCTION2 {
                return Err("given type is not a function".into());
            }
            let code = r
                .read_string()
                .map_err(|_| "Failed loading library payload")?
                .into_bytes();
            let lib = build_library(&code, 0)?;
            if src.libs.contains_key(&lib.name) {
                return Err(format!("Library '{}' already exists", lib.name));
            }
            for f in &lib.functions {
                if src.funcs.contains_key(&f.name.to_ascii_lowercase()) {
                    return Err(format!("Function {} already exists", f.name));
                }
            }
            src.link(Arc::new(lib));
        }
        let mut st = self.state.write();
        match policy {
            RestorePolicy::Flush => *st = src,
            RestorePolicy::Append => st.join(src, false)?,
            RestorePolicy::Replace => st.join(src, true)?,
        }
        self.bump();
        then();
        Ok(())
    }
}
