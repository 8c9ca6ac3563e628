//! The AOF manifest (`<appendfilename>.manifest` in `appenddirname`), as Redis 7.0 reads and
//! writes it: one line per file, `file <name> seq <n> type <b|h|i>`.
//!
//! Parsing follows Redis 7.0's `aofLoadManifestFromFile` quirk for quirk, because a manifest
//! that Redis accepts must load here and one it refuses must be refused with the same words:
//! lines are read `fgets`-style in chunks of at most [`MANIFEST_MAX_LINE`] bytes, a chunk that
//! starts with `#` is a comment, a chunk without a newline (a long line, or a last line with no
//! newline) is an error, keys are case-insensitive and may come in any order, unknown keys are
//! ignored, the seq is read with `atoll` and the type is the first byte of its value.
//!
//! Serialization is byte-identical to Redis 7.0's `getAofManifestAsString`: the base first,
//! then history files, then incr files, names quoted with `sdscatrepr` when they need it.
//!
//! The server (crates/server) owns the one [`Manifest`] of a running instance and calls
//! [`Manifest::new_incr`] when it opens a new incr file, [`Manifest::new_base`] and
//! [`Manifest::mark_rewritten_incr_as_history`] when a rewrite finishes (see
//! [`Manifest::start_rewrite`] / [`Manifest::finish_rewrite`]), and [`Manifest::persist`]
//! after each change.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Longest manifest line Redis reads in one piece (`MANIFEST_MAX_LINE`), newline excluded.
pub const MANIFEST_MAX_LINE: usize = 1024;

/// Suffix of the manifest's name after `appendfilename`.
pub const MANIFEST_NAME_SUFFIX: &str = ".manifest";
/// Prefix of temporary files (`temp-<appendfilename>.manifest`, `temp-<appendfilename>.incr`).
pub const TEMP_FILE_NAME_PREFIX: &str = "temp-";

/// The kind of a file listed in the manifest (the `type` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    /// `b`: the base file (an RDB or an AOF written by a rewrite). At most one.
    Base,
    /// `h`: a file superseded by a rewrite, waiting to be deleted.
    History,
    /// `i`: an incremental file of commands appended after the base.
    Incr,
}

impl FileType {
    /// The byte Redis writes for this type.
    pub fn as_byte(self) -> u8 {
        match self {
            FileType::Base => b'b',
            FileType::History => b'h',
            FileType::Incr => b'i',
        }
    }

    /// The type of a manifest `type` byte, if Redis knows it.
    pub fn from_byte(b: u8) -> Option<FileType> {
        match b {
            b'b' => Some(FileType::Base),
            b'h' => Some(FileType::History),
            b'i' => Some(FileType::Incr),
            _ => None,
        }
    }
}

/// One line of the manifest (Redis's `aofInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofInfo {
    /// The file name, relative to `appenddirname` (never a path). Bytes, because a manifest
    /// may name any file its `\xHH` escapes can spell.
    pub name: Vec<u8>,
    /// The sequence number (base and incr files count separately).
    pub seq: i64,
    /// Base, history or incr.
    pub file_type: FileType,
}

impl AofInfo {
    /// The file's path in `dir` (the `appenddirname` directory).
    pub fn path(&self, dir: &Path) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        dir.join(std::ffi::OsStr::from_bytes(&self.name))
    }

    /// The name as text, lossily (for log lines).
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// Appends this entry's manifest line (Redis's `aofInfoFormat`), newline included.
    pub fn format_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"file ");
        if needs_repr(&self.name) {
            cat_repr(out, &self.name);
        } else {
            out.extend_from_slice(&self.name);
        }
        out.extend_from_slice(b" seq ");
        out.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        out.extend_from_slice(b" type ");
        out.push(self.file_type.as_byte());
        out.push(b'\n');
    }
}

/// Why a manifest was refused. The texts are Redis 7.0's, word for word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestErrorKind {
    /// The file has no lines at all.
    Empty,
    /// A line longer than [`MANIFEST_MAX_LINE`], or a last line without a newline.
    TooLongLine,
    /// A blank line, unbalanced quotes, fewer than 6 or an odd number of fields, or a
    /// missing (or zero) name, seq or type.
    InvalidFormat,
    /// A `file` value containing `/` or `\`.
    FileIsPath,
    /// A second `type b` line.
    DuplicateBase,
    /// An incr line whose seq is not above every earlier incr seq (and above 0).
    NonMonotonicSeq,
    /// A type other than `b`, `h` or `i`.
    UnknownType,
}

impl ManifestErrorKind {
    /// Redis's message for this error.
    pub fn message(self) -> &'static str {
        match self {
            ManifestErrorKind::Empty => "Found an empty AOF manifest",
            ManifestErrorKind::TooLongLine => "The AOF manifest file contains too long line",
            ManifestErrorKind::InvalidFormat => "Invalid AOF manifest file format",
            ManifestErrorKind::FileIsPath => "File can't be a path, just a filename",
            ManifestErrorKind::DuplicateBase => "Found duplicate base file information",
            ManifestErrorKind::NonMonotonicSeq => "Found a non-monotonic sequence number",
            ManifestErrorKind::UnknownType => "Unknown AOF file type",
        }
    }
}

/// A manifest Redis 7.0 would refuse: the reason and, as Redis logs it, the line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct ManifestError {
    /// What is wrong.
    pub kind: ManifestErrorKind,
    /// The 1-based line number and the trimmed line, when Redis names them (it does not for
    /// [`ManifestErrorKind::Empty`] and [`ManifestErrorKind::TooLongLine`]).
    pub line: Option<(usize, Vec<u8>)>,
}

impl fmt::Display for ManifestError {
    /// Redis's log lines for the error: `Reading the manifest file, at line N`, `>>> '<line>'`,
    /// then the message (only the message when no line is named).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((n, line)) = &self.line {
            write!(
                f,
                "Reading the manifest file, at line {n}\n>>> '{}'\n",
                String::from_utf8_lossy(line)
            )?;
        }
        f.write_str(self.kind.message())
    }
}

/// Errors of [`Manifest::load`].
#[derive(Debug, Error)]
pub enum LoadManifestError {
    /// The file could not be opened or read.
    #[error("can't open the AOF manifest file {path} for reading: {source}")]
    Io {
        /// The manifest's path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file was read and refused.
    #[error("{0}")]
    Invalid(#[from] ManifestError),
}

/// The manifest: which files make up the AOF, in Redis's `aofManifest` shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any.
    pub base: Option<AofInfo>,
    /// Incr files in ascending seq order (the last one is the one being appended to).
    pub incr: Vec<AofInfo>,
    /// History files, to be deleted, in the order Redis lists them.
    pub history: Vec<AofInfo>,
    /// The seq of the latest base file (0 before the first rewrite).
    pub curr_base_seq: i64,
    /// The seq of the latest incr file (0 before the first).
    pub curr_incr_seq: i64,
}

/// Which format a new base file has (`aof-use-rdb-preamble`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseFormat {
    /// `.base.rdb`: an RDB snapshot (`aof-use-rdb-preamble yes`, the default).
    Rdb,
    /// `.base.aof`: commands (`aof-use-rdb-preamble no`).
    Aof,
}

/// The manifest's file name: `<appendfilename>.manifest`.
pub fn manifest_name(appendfilename: &str) -> String {
    format!("{appendfilename}{MANIFEST_NAME_SUFFIX}")
}

/// The temporary manifest written before the rename: `temp-<appendfilename>.manifest`.
pub fn temp_manifest_name(appendfilename: &str) -> String {
    format!("{TEMP_FILE_NAME_PREFIX}{appendfilename}{MANIFEST_NAME_SUFFIX}")
}

/// The incr file Redis appends to while a rewrite started by `BGREWRITEAOF` with AOF
/// turned on at run time is in progress: `temp-<appendfilename>.incr`.
pub fn temp_incr_name(appendfilename: &str) -> String {
    format!("{TEMP_FILE_NAME_PREFIX}{appendfilename}.incr")
}

/// A base file's name: `<appendfilename>.<seq>.base.rdb` or `.base.aof`.
pub fn base_name(appendfilename: &str, seq: i64, format: BaseFormat) -> String {
    let ext = match format {
        BaseFormat::Rdb => ".rdb",
        BaseFormat::Aof => ".aof",
    };
    format!("{appendfilename}.{seq}.base{ext}")
}

/// An incr file's name: `<appendfilename>.<seq>.incr.aof`.
pub fn incr_name(appendfilename: &str, seq: i64) -> String {
    format!("{appendfilename}.{seq}.incr.aof")
}

impl Manifest {
    /// An empty manifest (no files, both seqs 0).
    pub fn new() -> Manifest {
        Manifest::default()
    }

    /// Reads and parses the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, LoadManifestError> {
        let bytes = std::fs::read(path).map_err(|source| LoadManifestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Manifest::parse(&bytes)?)
    }

    /// Parses a manifest exactly as Redis 7.0's `aofLoadManifestFromFile` does.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::new();
        let mut max_incr_seq: i64 = 0;
        let mut linenum = 0usize;
        let mut rest = bytes;
        while !rest.is_empty() {
            // fgets(buf, MANIFEST_MAX_LINE + 1): up to 1024 bytes, or through the newline.
            let take = match rest
                .iter()
                .take(MANIFEST_MAX_LINE)
                .position(|&b| b == b'\n')
            {
                Some(i) => i + 1,
                None => rest.len().min(MANIFEST_MAX_LINE),
            };
            let chunk = &rest[..take];
            rest = &rest[take..];
            linenum += 1;
            if chunk[0] == b'#' {
                continue;
            }
            // Redis handles the chunk as a C string: it ends at the first NUL.
            let cstr = match chunk.iter().position(|&b| b == 0) {
                Some(i) => &chunk[..i],
                None => chunk,
            };
            if !cstr.contains(&b'\n') {
                return Err(ManifestError {
                    kind: ManifestErrorKind::TooLongLine,
                    line: None,
                });
            }
            let line = trim(cstr);
            let fail = |kind| ManifestError {
                kind,
                line: Some((linenum, line.to_vec())),
            };
            if line.is_empty() {
                return Err(fail(ManifestErrorKind::InvalidFormat));
            }
            let argv = match split_args(line) {
                Some(a) if a.len() >= 6 && a.len() % 2 == 0 => a,
                _ => return Err(fail(ManifestErrorKind::InvalidFormat)),
            };
            let mut name: Option<Vec<u8>> = None;
            let mut seq: i64 = 0;
            let mut ty: u8 = 0;
            for kv in argv.chunks(2) {
                let (k, v) = (&kv[0], &kv[1]);
                if k.eq_ignore_ascii_case(b"file") {
                    // sdsnew() stops at a NUL that a \x00 escape produced.
                    let n = match v.iter().position(|&b| b == 0) {
                        Some(i) => v[..i].to_vec(),
                        None => v.clone(),
                    };
                    if n.contains(&b'/') || n.contains(&b'\\') {
                        return Err(fail(ManifestErrorKind::FileIsPath));
                    }
                    name = Some(n);
                } else if k.eq_ignore_ascii_case(b"seq") {
                    seq = atoll(v);
                } else if k.eq_ignore_ascii_case(b"type") {
                    ty = v.first().copied().unwrap_or(0);
                }
            }
            let (Some(name), true, true) = (name, seq != 0, ty != 0) else {
                return Err(fail(ManifestErrorKind::InvalidFormat));
            };
            match FileType::from_byte(ty) {
                Some(FileType::Base) => {
                    if m.base.is_some() {
                        return Err(fail(ManifestErrorKind::DuplicateBase));
                    }
                    m.base = Some(AofInfo {
                        name,
                        seq,
                        file_type: FileType::Base,
                    });
                    m.curr_base_seq = seq;
                }
                Some(FileType::History) => m.history.push(AofInfo {
                    name,
                    seq,
                    file_type: FileType::History,
                }),
                Some(FileType::Incr) => {
                    if seq <= max_incr_seq {
                        return Err(fail(ManifestErrorKind::NonMonotonicSeq));
                    }
                    m.incr.push(AofInfo {
                        name,
                        seq,
                        file_type: FileType::Incr,
                    });
                    m.curr_incr_seq = seq;
                    max_incr_seq = seq;
                }
                None => return Err(fail(ManifestErrorKind::UnknownType)),
            }
        }
        if linenum == 0 {
            return Err(ManifestError {
                kind: ManifestErrorKind::Empty,
                line: None,
            });
        }
        Ok(m)
    }

    /// The manifest's text, byte-identical to Redis 7.0's: base, then history, then incr.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for info in self.base.iter().chain(&self.history).chain(&self.incr) {
            info.format_into(&mut out);
        }
        out
    }

    /// The number of files the AOF is made of now (base + incr; history excluded).
    pub fn file_count(&self) -> usize {
        self.base.is_some() as usize + self.incr.len()
    }

    /// Whether there is neither a base nor an incr file (Redis then starts a fresh AOF).
    pub fn is_empty(&self) -> bool {
        self.file_count() == 0
    }

    /// The files to load, in order: the base (if any), then every incr file.
    pub fn files_to_load(&self) -> impl Iterator<Item = &AofInfo> {
        self.base.iter().chain(&self.incr)
    }

    /// The incr file being appended to (the last one), if any.
    pub fn last_incr(&self) -> Option<&AofInfo> {
        self.incr.last()
    }

    /// Adds the next incr file (Redis's `getNewIncrAofName`): seq `curr_incr_seq + 1`, name
    /// `<appendfilename>.<seq>.incr.aof`, appended to the incr list. Returns the new entry.
    pub fn new_incr(&mut self, appendfilename: &str) -> &AofInfo {
        self.curr_incr_seq += 1;
        let seq = self.curr_incr_seq;
        self.incr.push(AofInfo {
            name: incr_name(appendfilename, seq).into_bytes(),
            seq,
            file_type: FileType::Incr,
        });
        self.incr.last().expect("just pushed")
    }

    /// Makes a new base entry and turns the previous base (if any) into the first history
    /// entry (Redis's `getNewBaseFileNameAndMarkPreAsHistory`). Returns the new base.
    pub fn new_base(&mut self, appendfilename: &str, format: BaseFormat) -> &AofInfo {
        if let Some(mut old) = self.base.take() {
            old.file_type = FileType::History;
            self.history.insert(0, old);
        }
        self.curr_base_seq += 1;
        let seq = self.curr_base_seq;
        self.base.insert(AofInfo {
            name: base_name(appendfilename, seq, format).into_bytes(),
            seq,
            file_type: FileType::Base,
        })
    }

    /// Moves incr files into history (Redis's `markRewrittenIncrAofAsHistory`): all of them
    /// when `keep_last` is false (AOF off), all but the last when it is true (AOF on: the last
    /// one is the file opened when the rewrite started, still being appended to). They go to
    /// the front of the history list, in ascending seq order.
    pub fn mark_rewritten_incr_as_history(&mut self, keep_last: bool) {
        let keep = usize::from(keep_last && !self.incr.is_empty());
        let moved = self.incr.len() - keep;
        let mut hist: Vec<AofInfo> = self
            .incr
            .drain(..moved)
            .map(|mut i| {
                i.file_type = FileType::History;
                i
            })
            .collect();
        hist.append(&mut self.history);
        self.history = hist;
    }

    /// The manifest change when a rewrite starts with AOF on (Redis's
    /// `openNewIncrAofForAppend`): a new incr file, which receives every write from now on.
    /// The caller persists the manifest, then switches its appends to the returned file.
    /// Redis makes no manifest change when AOF is off, and while AOF is being turned on at
    /// run time (`AOF_WAIT_REWRITE`) it appends to [`temp_incr_name`] instead, unlisted.
    pub fn start_rewrite(&mut self, appendfilename: &str) -> &AofInfo {
        self.new_incr(appendfilename)
    }

    /// The manifest change when a rewrite succeeds (Redis's `backgroundRewriteDoneHandler`):
    /// a new base named `<appendfilename>.<curr_base_seq+1>.base.{rdb,aof}`; the previous base
    /// and every incr file but the one opened at [`Manifest::start_rewrite`] (`aof_on` true;
    /// all of them when AOF is off) become history. Returns the new base's name: the caller
    /// renames the rewritten temp file to it, persists the manifest, then deletes the history
    /// files with [`Manifest::take_history`]. Work on a clone and swap it in only when every
    /// step succeeded, as Redis does with its dup'ed manifest.
    ///
    /// When AOF was being turned on (`AOF_WAIT_REWRITE`), Redis also lists the temp incr file:
    /// call [`Manifest::new_base`], then [`Manifest::new_incr`] (rename `temp-...incr` to the
    /// name it returns), then [`Manifest::mark_rewritten_incr_as_history`]`(true)`.
    pub fn finish_rewrite(
        &mut self,
        appendfilename: &str,
        format: BaseFormat,
        aof_on: bool,
    ) -> Vec<u8> {
        let name = self.new_base(appendfilename, format).name.clone();
        self.mark_rewritten_incr_as_history(aof_on);
        name
    }

    /// Empties the history list and returns what it held (Redis's `aofDelHistoryFiles`): the
    /// caller deletes those files and persists the manifest again.
    pub fn take_history(&mut self) -> Vec<AofInfo> {
        std::mem::take(&mut self.history)
    }

    /// Writes the manifest atomically into `dir` (Redis's `writeAofManifestFile`): the text
    /// goes to `temp-<appendfilename>.manifest`, which is fsynced and renamed over
    /// `<appendfilename>.manifest`, and then the directory is fsynced.
    pub fn persist(&self, dir: &Path, appendfilename: &str) -> io::Result<()> {
        let tmp = dir.join(temp_manifest_name(appendfilename));
        let target = dir.join(manifest_name(appendfilename));
        {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(&self.to_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &target)?;
        fsync_dir(dir)
    }
}

/// Fsyncs a directory, so that a file created or renamed in it survives a crash.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Trims `" \t\r\n"` from both ends (sdstrim).
fn trim(mut s: &[u8]) -> &[u8] {
    const CUT: &[u8] = b" \t\r\n";
    while let [first, rest @ ..] = s {
        if !CUT.contains(first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !CUT.contains(last) {
            break;
        }
        s = rest;
    }
    s
}

/// C `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Splits a line into arguments as Redis's `sdssplitargs` does: blanks separate arguments,
/// `"..."` accepts `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a` and `\<any>`, `'...'` accepts `\'`,
/// and a closing quote must be followed by a blank or the end. `None` for unbalanced quotes
/// or a closing quote followed by something else.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // The input is a C string: it ends at the first NUL.
    let line = match line.iter().position(|&b| b == 0) {
        Some(i) => &line[..i],
        None => line,
    };
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            let c = at(p);
            if inq {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(at(p + 2)), hex_val(at(p + 3))) {
                        cur.push(h * 16 + l);
                        p += 4;
                        continue;
                    }
                }
                if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        o => o,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            p += 1;
        }
        out.push(cur);
    }
}

/// C `isprint` in the C locale.
fn is_print(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

/// Whether a name must be quoted: Redis's `sdsneedsrepr`, plus `'`. Redis 7.0 writes a name
/// with a `'` bare, and then cannot read its own manifest (`sdssplitargs` takes the `'` for
/// an opening quote); quoted, the name reads back in Redis and here. This is the one place
/// where the bytes differ from Redis's, and only for manifests Redis could not load.
pub fn needs_repr(s: &[u8]) -> bool {
    s.iter()
        .any(|&b| matches!(b, b'\\' | b'"' | b'\'') || !is_print(b) || is_space(b))
}

/// Appends `s` quoted and escaped (Redis's `sdscatrepr`).
pub fn cat_repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            _ if is_print(b) => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// C `atoll` as glibc does it: leading whitespace, an optional sign, digits up to the first
/// non-digit (or NUL); saturates on overflow; 0 when there are no digits.
pub fn atoll(s: &[u8]) -> i64 {
    super::reader::strtol(s).0
}
