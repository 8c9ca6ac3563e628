//! Reads an AOF command stream (an incr file, a `.base.aof`, or the tail after an RDB
//! preamble) as a sequence of commands: `*<argc>\r\n` then `$<len>\r\n<bytes>\r\n` per
//! argument, with `#...` annotation lines (such as `#TS:<unix time>`) in between.
//!
//! Two modes, because Redis 7.0 has two readers that disagree at the edges:
//! * [`Mode::Load`] is `loadSingleAppendOnlyFile`, what the server does at start-up: lines
//!   are read `fgets`-style (at most 1023 bytes), the counts are read with `atoi`/`strtol`
//!   and nothing after the digits is checked, and the two bytes after each argument are
//!   skipped unchecked. A short read is a truncated tail, anything else wrong is "Bad file
//!   format".
//! * [`Mode::Check`] is `redis-check-aof`: every `\r\n` is checked, a negative length is an
//!   error, and MULTI inside MULTI or EXEC outside one is an error.
//!
//! The reader tracks the offsets the callers need to cut a file: [`AofReader::valid_up_to`]
//! (end of the last complete command; the loader truncates there when `aof-load-truncated
//! yes` and the tail is short), [`AofReader::unfinished_multi`] (where the loader cuts a
//! MULTI left without EXEC at the end of the last file), and [`AofReader::ok_up_to`]
//! (redis-check-aof's cut: the last complete item outside a transaction).
//!
//! Nothing here panics on any input, and no allocation is sized by a count in the file
//! before the bytes behind it have been read.

use std::fmt;
use std::io::{self, Read};

use thiserror::Error;

/// Length of the longest line Redis's loader reads in one piece, newline included
/// (`AOF_ANNOTATION_LINE_MAX_LEN` - 1 bytes, as `fgets` keeps one for the NUL).
pub const LOAD_LINE_MAX: usize = 1023;
/// The same for redis-check-aof's `*`/`$` lines (its buffer is 128 bytes).
pub const CHECK_NUMBER_LINE_MAX: usize = 127;

/// Which Redis reader to imitate (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The server's loader (`loadSingleAppendOnlyFile`).
    Load,
    /// `redis-check-aof`.
    Check,
}

/// Whether the first bytes of a file are an RDB header (`REDIS`): a `.base.rdb`, or an
/// old-style AOF with an RDB preamble. The caller loads the RDB part and then, for an
/// old-style file, reads the command tail with [`AofReader::with_offset`].
pub fn starts_with_rdb(prefix: &[u8]) -> bool {
    prefix.starts_with(b"REDIS")
}

/// One command read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The arguments, name first.
    pub args: Vec<Vec<u8>>,
    /// Offset of the `*` that starts it.
    pub start: u64,
    /// Offset just past its last byte.
    pub end: u64,
}

/// What the reader found next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A complete command.
    Command(Command),
    /// An annotation line starting with `#` (for example `#TS:1700000000\r\n`), kept whole.
    Annotation {
        /// The line, newline included.
        line: Vec<u8>,
        /// Its offset.
        start: u64,
        /// Offset just past it.
        end: u64,
    },
}

/// What is wrong with the file at an offset; the texts follow redis-check-aof's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A line that does not start with the expected `*` or `$`.
    ExpectedPrefix {
        /// `*` or `$`.
        expected: u8,
        /// The byte found (0 at a NUL).
        got: u8,
    },
    /// No `\r\n` where one must be (after a count, or after an argument's bytes).
    ExpectedNewline {
        /// The two bytes found (0 where the file ended).
        got: [u8; 2],
    },
    /// A `$` length below 0 (or too large to be a length).
    BadLength(i64),
    /// A `*` count below 1 (loader only; redis-check-aof accepts `*0`).
    BadArgc(i64),
    /// An argument shorter than its `$` length: the file ended.
    ShortRead {
        /// Bytes the argument (plus its `\r\n` in check mode) needs.
        expected: u64,
        /// Bytes that were left.
        got: u64,
    },
    /// The file ended inside a `*` or `$` line, or before an announced argument.
    UnexpectedEof,
    /// A NUL right after `*` (Redis's loader calls this a read error).
    NulAfterStar,
    /// An item that starts with neither `#` nor `*` (check mode) .
    FormatError,
    /// MULTI inside a MULTI (check mode).
    UnexpectedMulti,
    /// EXEC without MULTI (check mode).
    UnexpectedExec,
    /// The file ended inside MULTI ... EXEC (check mode; the loader reports this through
    /// [`AofReader::unfinished_multi`] instead).
    EofInMulti,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::ExpectedPrefix { expected, got } => write!(
                f,
                "Expected prefix '{}', got: '{}'",
                *expected as char,
                String::from_utf8_lossy(&[*got])
            ),
            Problem::ExpectedNewline { got } => {
                write!(f, "Expected \\r\\n, got: {:02x}{:02x}", got[0], got[1])
            }
            Problem::BadLength(n) => write!(
                f,
                "Expected to read string of {n} bytes, which is not in the suitable range"
            ),
            Problem::BadArgc(n) => write!(f, "Invalid argument count {n}"),
            Problem::ShortRead { expected, got } => {
                write!(f, "Expected to read {expected} bytes, got {got} bytes")
            }
            Problem::UnexpectedEof => f.write_str("Unexpected end of file"),
            Problem::NulAfterStar => f.write_str("Unexpected NUL after '*'"),
            Problem::FormatError => f.write_str("format error"),
            Problem::UnexpectedMulti => f.write_str("Unexpected MULTI"),
            Problem::UnexpectedExec => f.write_str("Unexpected EXEC"),
            Problem::EofInMulti => f.write_str("Reached EOF before reading EXEC for MULTI"),
        }
    }
}

/// Why reading stopped before a clean end.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The file ends inside an item: a truncated tail. Redis's loader cuts the file at
    /// [`AofReader::valid_up_to`] when `aof-load-truncated yes`.
    #[error("unexpected end of file at offset {offset}: {problem}")]
    Truncated {
        /// Where the unfinished item starts (load mode), or the line or argument that was
        /// short (check mode).
        offset: u64,
        /// What was short.
        problem: Problem,
    },
    /// The bytes are not an AOF ("Bad file format reading the append only file").
    #[error("bad file format at offset {offset}: {problem}")]
    Corrupt {
        /// The offset of the offending line or field.
        offset: u64,
        /// What is wrong.
        problem: Problem,
    },
    /// The underlying reader failed.
    #[error("read error: {0}")]
    Io(#[from] io::Error),
}

/// The result of parsing one item from a buffer.
enum Step {
    /// An item of `len` bytes; `newlines` counts the `\r\n` redis-check-aof consumed, and
    /// `epos` is where its last field started (redis-check-aof's `epos`).
    Item {
        item: Parsed,
        len: usize,
        newlines: u64,
        epos: usize,
        /// Where the first argument's bytes start (check mode).
        first_epos: usize,
    },
    /// The buffer ends inside an item and more input may come; at least `need` bytes in all.
    NeedMore { need: usize },
    /// The input ends inside an item (`at` is relative to the buffer start).
    Truncated {
        at: usize,
        problem: Problem,
        newlines: u64,
    },
    /// Bad bytes at `at`.
    Corrupt {
        at: usize,
        problem: Problem,
        newlines: u64,
    },
}

enum Parsed {
    /// The arguments as (offset, length) in the parsed buffer: nothing is copied until the
    /// whole command is there, so re-parsing after a refill stays cheap.
    Command(Vec<(usize, usize)>),
    Annotation,
}

/// An `fgets(max + 1)` line at `pos`: up to `max` bytes, or through the first newline. At
/// the end of input a partial line is returned; `None` means "read more" (or nothing at all
/// at the end, which the caller tells apart by `pos == buf.len()`).
fn fgets(buf: &[u8], pos: usize, max: usize, eof: bool) -> Option<&[u8]> {
    let rest = &buf[pos.min(buf.len())..];
    let window = &rest[..rest.len().min(max)];
    match window.iter().position(|&b| b == b'\n') {
        Some(i) => Some(&rest[..=i]),
        None if window.len() == max || (eof && !window.is_empty()) => Some(window),
        None => None,
    }
}

/// The part of `s` before the first NUL (what C string functions see).
fn cstr(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// C `strtol(s, &end, 10)` with glibc's saturation; returns the value and how many bytes
/// were consumed (0 when there are no digits, as `end` is then `s`).
pub(crate) fn strtol(s: &[u8]) -> (i64, usize) {
    let s = cstr(s);
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits_start = i;
    let mut v: i64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
        let d = i64::from(d - b'0');
        match v.checked_mul(10).and_then(|x| {
            if neg {
                x.checked_sub(d)
            } else {
                x.checked_add(d)
            }
        }) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return (0, 0);
    }
    if overflow {
        v = if neg { i64::MIN } else { i64::MAX };
    }
    (v, i)
}

/// Parses one item at the start of `buf` (`eof`: nothing follows `buf`).
fn parse_item(buf: &[u8], eof: bool, mode: Mode) -> Step {
    match mode {
        Mode::Load => parse_load(buf, eof),
        Mode::Check => parse_check(buf, eof),
    }
}

/// Redis's loader, step by step (`loadSingleAppendOnlyFile`).
fn parse_load(buf: &[u8], eof: bool) -> Step {
    let Some(line) = fgets(buf, 0, LOAD_LINE_MAX, eof) else {
        return Step::NeedMore {
            need: buf.len() + 1,
        };
    };
    let mut pos = line.len();
    if line[0] == b'#' {
        return Step::Item {
            item: Parsed::Annotation,
            len: pos,
            newlines: 0,
            epos: 0,
            first_epos: 0,
        };
    }
    let corrupt = |at, problem| Step::Corrupt {
        at,
        problem,
        newlines: 0,
    };
    let truncated = |problem| Step::Truncated {
        at: 0,
        problem,
        newlines: 0,
    };
    if line[0] != b'*' {
        return corrupt(
            0,
            Problem::ExpectedPrefix {
                expected: b'*',
                got: line[0],
            },
        );
    }
    if line.len() == 1 {
        // "*" alone: fgets stopped at the end of the file (a line always has its newline or
        // is LOAD_LINE_MAX long otherwise).
        return truncated(Problem::UnexpectedEof);
    }
    if line[1] == 0 {
        return corrupt(0, Problem::NulAfterStar);
    }
    // atoi(): strtol truncated to an int.
    let argc = strtol(&line[1..]).0 as i32;
    if argc < 1 {
        return corrupt(0, Problem::BadArgc(i64::from(argc)));
    }
    let mut args = Vec::with_capacity((argc as usize).min(64));
    for _ in 0..argc {
        let Some(line) = fgets(buf, pos, LOAD_LINE_MAX, eof) else {
            if eof {
                return truncated(Problem::UnexpectedEof);
            }
            return Step::NeedMore {
                need: buf.len() + 1,
            };
        };
        if line[0] != b'$' {
            return corrupt(
                pos,
                Problem::ExpectedPrefix {
                    expected: b'$',
                    got: line[0],
                },
            );
        }
        let len = strtol(&line[1..]).0;
        if len < 0 {
            // Redis would try to allocate ~2^64 bytes and abort; refusing is kinder.
            return corrupt(pos, Problem::BadLength(len));
        }
        pos += line.len();
        // The argument and the two bytes after it (which the loader does not check).
        let need = (len as u64).saturating_add(2);
        let have = (buf.len() - pos) as u64;
        if have < need {
            if eof {
                return truncated(Problem::ShortRead {
                    expected: need,
                    got: have,
                });
            }
            return Step::NeedMore {
                need: usize::try_from(need)
                    .ok()
                    .and_then(|n| n.checked_add(pos))
                    .unwrap_or(usize::MAX),
            };
        }
        let len = len as usize;
        args.push((pos, len));
        pos += len + 2;
    }
    Step::Item {
        item: Parsed::Command(args),
        len: pos,
        newlines: 0,
        epos: 0,
        first_epos: 0,
    }
}

/// redis-check-aof's `processRESP` / `processAnnotations`.
fn parse_check(buf: &[u8], eof: bool) -> Step {
    if buf[0] == b'#' {
        let Some(line) = fgets(buf, 0, LOAD_LINE_MAX, eof) else {
            return Step::NeedMore {
                need: buf.len() + 1,
            };
        };
        return Step::Item {
            item: Parsed::Annotation,
            len: line.len(),
            newlines: 0,
            epos: 0,
            first_epos: 0,
        };
    }
    if buf[0] != b'*' {
        return Step::Corrupt {
            at: 0,
            problem: Problem::FormatError,
            newlines: 0,
        };
    }
    let mut pos = 0;
    let mut newlines = 0u64;
    let mut epos = 0;
    let mut first_epos = 0;
    // readLong(): a line of at most 127 bytes, the prefix, strtol, then "\r\n".
    macro_rules! read_long {
        ($prefix:expr) => {{
            let Some(line) = fgets(buf, pos, CHECK_NUMBER_LINE_MAX, eof) else {
                if eof {
                    return Step::Truncated {
                        at: pos,
                        problem: Problem::UnexpectedEof,
                        newlines,
                    };
                }
                return Step::NeedMore {
                    need: buf.len() + 1,
                };
            };
            if line[0] != $prefix {
                return Step::Corrupt {
                    at: pos,
                    problem: Problem::ExpectedPrefix {
                        expected: $prefix,
                        got: line[0],
                    },
                    newlines,
                };
            }
            let (v, used) = strtol(&line[1..]);
            let after = cstr(&line[1 + used..]);
            if !after.starts_with(b"\r\n") {
                let got = [
                    after.first().copied().unwrap_or(0),
                    after.get(1).copied().unwrap_or(0),
                ];
                // A line cut short by the end of the file is a truncation; anything else
                // is corruption.
                let short = eof && pos + line.len() == buf.len() && !line.ends_with(b"\n");
                if short {
                    return Step::Truncated {
                        at: pos,
                        problem: Problem::ExpectedNewline { got },
                        newlines,
                    };
                }
                return Step::Corrupt {
                    at: pos,
                    problem: Problem::ExpectedNewline { got },
                    newlines,
                };
            }
            newlines += 1;
            pos += 1 + used + 2;
            v
        }};
    }
    let argc = read_long!(b'*');
    let mut args = Vec::with_capacity(argc.clamp(0, 64) as usize);
    for _ in 0..argc.max(0) {
        let line_at = pos;
        let len = read_long!(b'$');
        if !(0..=i64::MAX - 2).contains(&len) {
            return Step::Corrupt {
                at: line_at,
                problem: Problem::BadLength(len),
                newlines,
            };
        }
        let need = len as u64 + 2;
        let have = (buf.len() - pos) as u64;
        if have < need {
            if eof {
                return Step::Truncated {
                    at: pos,
                    problem: Problem::ShortRead {
                        expected: need,
                        got: have,
                    },
                    newlines,
                };
            }
            return Step::NeedMore {
                need: usize::try_from(need)
                    .ok()
                    .and_then(|n| n.checked_add(pos))
                    .unwrap_or(usize::MAX),
            };
        }
        let len = len as usize;
        let nl = &buf[pos + len..pos + len + 2];
        if nl != b"\r\n" {
            return Step::Corrupt {
                at: pos,
                problem: Problem::ExpectedNewline {
                    got: [nl[0], nl[1]],
                },
                newlines,
            };
        }
        newlines += 1;
        epos = pos;
        if args.is_empty() {
            first_epos = pos;
        }
        args.push((pos, len));
        pos += len + 2;
    }
    Step::Item {
        item: Parsed::Command(args),
        len: pos,
        newlines,
        epos,
        first_epos,
    }
}

/// Reads commands from any [`Read`] (a file, or `&[u8]`), buffering as it goes.
///
/// ```
/// use tern_persist::aof::reader::{AofReader, Item, Mode};
/// let mut r = AofReader::new(&b"*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nPING\r\n"[..], Mode::Load);
/// while let Some(item) = r.next_item().unwrap() {
///     if let Item::Command(c) = item { assert!(c.args.len() == 1); }
/// }
/// // The file ended inside a transaction: Redis cuts it where the MULTI started.
/// assert_eq!(r.unfinished_multi(), Some(0));
/// ```
pub struct AofReader<R> {
    inner: R,
    mode: Mode,
    buf: Vec<u8>,
    /// Start of the unparsed bytes in `buf`.
    head: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
    done: bool,
    valid_up_to: u64,
    ok_up_to: u64,
    /// (offset of MULTI, valid_up_to before it) while a MULTI is open.
    multi: Option<(u64, u64)>,
    newlines: u64,
    /// Where the last field read started (check mode).
    epos: u64,
}

const READ_CHUNK: usize = 64 * 1024;

impl<R: Read> AofReader<R> {
    /// A reader at offset 0.
    pub fn new(inner: R, mode: Mode) -> AofReader<R> {
        AofReader::with_offset(inner, mode, 0)
    }

    /// A reader whose input starts at file offset `offset` (the tail after an RDB preamble):
    /// every offset it reports counts from the file's start.
    pub fn with_offset(inner: R, mode: Mode, offset: u64) -> AofReader<R> {
        AofReader {
            inner,
            mode,
            buf: Vec::new(),
            head: 0,
            base: offset,
            eof: false,
            done: false,
            valid_up_to: offset,
            ok_up_to: offset,
            multi: None,
            newlines: 0,
            epos: offset,
        }
    }

    /// End of the last complete command (not annotation): where Redis's loader truncates a
    /// short tail. Starts at the reader's start offset.
    pub fn valid_up_to(&self) -> u64 {
        self.valid_up_to
    }

    /// redis-check-aof's `ok_up_to`: the end of the last complete item outside a
    /// transaction, or the start of the open MULTI. `--fix` truncates here.
    pub fn ok_up_to(&self) -> u64 {
        self.ok_up_to
    }

    /// When a MULTI is open (no EXEC yet): the end of the last command before it, where
    /// Redis's loader cuts a file that ends inside the transaction ("Revert incomplete
    /// MULTI/EXEC transaction").
    pub fn unfinished_multi(&self) -> Option<u64> {
        self.multi.map(|(_, before)| before)
    }

    /// The offset of the open MULTI command itself, if any.
    pub fn multi_start(&self) -> Option<u64> {
        self.multi.map(|(start, _)| start)
    }

    /// The number of `\r\n` redis-check-aof has consumed (check mode; its `ok_up_to_line`
    /// is this plus one, counted across all files).
    pub fn newlines(&self) -> u64 {
        self.newlines
    }

    /// The file offset of the next unread byte.
    pub fn position(&self) -> u64 {
        self.base + self.head as u64
    }

    /// Drops the parsed bytes, then reads until at least `need` unparsed bytes are buffered
    /// (or the input ends). It reads more than asked: at least [`READ_CHUNK`], and at least
    /// the buffer's size again (up to 64 MiB), so an item spanning many reads is re-parsed
    /// O(log n) times rather than once per read.
    fn fill(&mut self, need: usize) -> io::Result<()> {
        if self.head > 0 {
            self.buf.drain(..self.head);
            self.base += self.head as u64;
            self.head = 0;
        }
        let grow = self.buf.len().clamp(READ_CHUNK, 64 * 1024 * 1024);
        let target = need.max(self.buf.len().saturating_add(grow));
        while self.buf.len() < target && !self.eof {
            let old = self.buf.len();
            // Read in steps of at most 64 MiB, so a huge claimed length in a corrupt file
            // costs memory only as the file really has bytes.
            let step = (target - old).min(64 * 1024 * 1024);
            self.buf.resize(old + step, 0);
            let n = loop {
                match self.inner.read(&mut self.buf[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(old);
                        return Err(e);
                    }
                }
            };
            self.buf.truncate(old + n);
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// The next command or annotation; `Ok(None)` at a clean end of input. In check mode a
    /// transaction still open at the end is an error ([`Problem::EofInMulti`]); in load mode
    /// the caller asks [`AofReader::unfinished_multi`]. After an error, every later call
    /// returns `Ok(None)`.
    pub fn next_item(&mut self) -> Result<Option<Item>, ReadError> {
        if self.done {
            return Ok(None);
        }
        loop {
            if self.head == self.buf.len() {
                self.fill(1)?;
                if self.buf.is_empty() {
                    self.done = true;
                    if self.mode == Mode::Check && self.multi.is_some() {
                        return Err(ReadError::Truncated {
                            offset: self.epos,
                            problem: Problem::EofInMulti,
                        });
                    }
                    return Ok(None);
                }
            }
            let start = self.position();
            match parse_item(&self.buf[self.head..], self.eof, self.mode) {
                Step::NeedMore { need } => {
                    // fill() drops the parsed bytes first, so `need` (relative to the item's
                    // start) is what the buffer must hold; it reads until then or the end.
                    self.fill(need)?;
                }
                Step::Item {
                    item,
                    len,
                    newlines,
                    epos,
                    first_epos,
                } => {
                    self.newlines += newlines;
                    self.epos = start + epos as u64;
                    let end = start + len as u64;
                    let out = match item {
                        Parsed::Annotation => Item::Annotation {
                            line: self.buf[self.head..self.head + len].to_vec(),
                            start,
                            end,
                        },
                        Parsed::Command(ranges) => {
                            let item = &self.buf[self.head..self.head + len];
                            let args: Vec<Vec<u8>> = ranges
                                .iter()
                                .map(|&(at, n)| item[at..at + n].to_vec())
                                .collect();
                            if let Err(problem) = self.track_multi(&args, start) {
                                // redis-check-aof stops right after the command's name: three
                                // "\r\n" read, the error at the name's bytes.
                                self.newlines = self.newlines - newlines + newlines.min(3);
                                self.done = true;
                                return Err(ReadError::Corrupt {
                                    offset: start + first_epos as u64,
                                    problem,
                                });
                            }
                            self.valid_up_to = end;
                            Item::Command(Command { args, start, end })
                        }
                    };
                    self.head += len;
                    if self.multi.is_none() {
                        self.ok_up_to = end;
                    }
                    return Ok(Some(out));
                }
                Step::Truncated {
                    at,
                    problem,
                    newlines,
                } => {
                    self.newlines += newlines;
                    self.done = true;
                    // redis-check-aof reports a file ending where a line should start (which
                    // it otherwise passes over in silence) as the end of an open transaction.
                    let problem = match problem {
                        Problem::UnexpectedEof
                            if self.mode == Mode::Check && self.multi.is_some() =>
                        {
                            Problem::EofInMulti
                        }
                        p => p,
                    };
                    return Err(ReadError::Truncated {
                        offset: start + at as u64,
                        problem,
                    });
                }
                Step::Corrupt {
                    at,
                    problem,
                    newlines,
                } => {
                    self.newlines += newlines;
                    self.done = true;
                    return Err(ReadError::Corrupt {
                        offset: start + at as u64,
                        problem,
                    });
                }
            }
        }
    }

    /// The next command, skipping annotations.
    pub fn next_command(&mut self) -> Result<Option<Command>, ReadError> {
        loop {
            match self.next_item()? {
                Some(Item::Command(c)) => return Ok(Some(c)),
                Some(Item::Annotation { .. }) => continue,
                None => return Ok(None),
            }
        }
    }

    fn track_multi(&mut self, args: &[Vec<u8>], start: u64) -> Result<(), Problem> {
        let Some(name) = args.first() else {
            return Ok(());
        };
        if name.eq_ignore_ascii_case(b"multi") {
            if self.multi.is_some() && self.mode == Mode::Check {
                return Err(Problem::UnexpectedMulti);
            }
            if self.multi.is_none() {
                self.multi = Some((start, self.valid_up_to));
            }
        } else if name.eq_ignore_ascii_case(b"exec") {
            if self.multi.is_none() && self.mode == Mode::Check {
                return Err(Problem::UnexpectedExec);
            }
            self.multi = None;
        } else if name.eq_ignore_ascii_case(b"discard") && self.mode == Mode::Load {
            self.multi = None;
        }
        Ok(())
    }
}

/// Everything in a byte slice: the commands read, and how reading ended (`Ok(())` for a
/// clean end, which in load mode may still leave a MULTI open: see the reader).
pub fn read_all(
    bytes: &[u8],
    mode: Mode,
) -> (Vec<Command>, AofReader<&[u8]>, Result<(), ReadError>) {
    let mut r = AofReader::new(bytes, mode);
    let mut out = Vec::new();
    loop {
        match r.next_command() {
            Ok(Some(c)) => out.push(c),
            Ok(None) => return (out, r, Ok(())),
            Err(e) => return (out, r, Err(e)),
        }
    }
}

/// Encodes a command the way Redis appends it to the AOF (`catAppendOnlyGenericCommand`).
pub fn encode_command(args: &[impl AsRef<[u8]>], out: &mut Vec<u8>) {
    let mut ib = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(ib.format(args.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(ib.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}
