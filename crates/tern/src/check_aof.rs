//! `tern check-aof [--fix] [--truncate-to-timestamp <ts>] <file.manifest|file.aof>`: validates
//! an append-only file the way Redis 7.0's redis-check-aof does, with the same report lines.
//!
//! A manifest (a file whose first non-comment line starts with `file`) is checked with every
//! file it lists, base first; any other file is an old-style AOF (commands, or an RDB preamble
//! followed by commands). For each file it prints `AOF analyzed: ... ok_up_to=...`. A file with
//! a bad or truncated tail is "not valid" (exit 1) unless `--fix`, which cuts it at `ok_up_to`
//! (the end of the last complete command outside a transaction) without asking, as
//! `redis-check-aof --fix` does after its prompt; only the last file may be cut.
//! `--truncate-to-timestamp` cuts the last file at the first `#TS:` annotation later than the
//! given Unix time.
//!
//! RDB parts (a `.base.rdb`, or an old-style preamble) are walked record by record with
//! tern-persist's RDB reader; where it meets a type it cannot decode (streams, modules) it
//! falls back to checking the header, the EOF byte and the CRC64 of the whole file.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tern_persist::aof::manifest::{LoadManifestError, Manifest, MANIFEST_MAX_LINE};
use tern_persist::aof::reader::{starts_with_rdb, AofReader, Item, Mode, Problem, ReadError};
use tern_persist::rdb::{object, RdbErrorKind, RdbReader};

/// How checking one file ended, when it did not end the program.
enum Outcome {
    Ok,
    Empty,
    Truncated,
    TimestampTruncated,
}

/// The program exits with status 1 (after printing why).
struct Exit;

struct Checker {
    fix: bool,
    to_timestamp: Option<i64>,
    /// redis-check-aof's global line counter (starts at 1, counts across files).
    line: u64,
}

/// Runs the check and returns the process exit status.
pub fn run(path: &Path, fix: bool, to_timestamp: Option<i64>) -> i32 {
    let mut c = Checker {
        fix,
        // redis-check-aof reads the timestamp with strtol; 0 means "not given".
        to_timestamp: to_timestamp.filter(|&t| t != 0),
        line: 1,
    };
    let result = if is_manifest(path) {
        c.check_multi_part(path)
    } else {
        c.check_old_style(path)
    };
    match result {
        Ok(()) => 0,
        Err(Exit) => 1,
    }
}

/// Whether the file's first non-comment line starts with `file` (redis-check-aof's
/// `fileIsManifest`).
fn is_manifest(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    bytes
        .split_inclusive(|&b| b == b'\n')
        .flat_map(|l| l.chunks(MANIFEST_MAX_LINE))
        .find(|l| l.first() != Some(&b'#'))
        .is_some_and(|l| l.starts_with(b"file"))
}

fn file_starts_with_rdb(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 5];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && starts_with_rdb(&head)
}

impl Checker {
    fn check_multi_part(&mut self, manifest_path: &Path) -> Result<(), Exit> {
        println!("Start checking Multi Part AOF");
        let m = match Manifest::load(manifest_path) {
            Ok(m) => m,
            Err(LoadManifestError::Invalid(e)) => {
                println!("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
                println!("{e}");
                return Err(Exit);
            }
            Err(e) => {
                println!("Fatal error: {e}");
                return Err(Exit);
            }
        };
        let dir = manifest_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let total = m.file_count();
        let mut index = 0;
        if let Some(base) = &m.base {
            index += 1;
            let path = base.path(&dir);
            let name = base.name_lossy();
            let preamble = file_starts_with_rdb(&path);
            println!(
                "Start to check BASE AOF ({} format).",
                if preamble { "RDB" } else { "RESP" }
            );
            let out = self.check_single(&name, &path, index == total, preamble)?;
            self.print_outcome(out, &name, "BASE AOF");
        }
        if !m.incr.is_empty() {
            println!("Start to check INCR files.");
            for incr in &m.incr {
                index += 1;
                let name = incr.name_lossy();
                let out = self.check_single(&name, &incr.path(&dir), index == total, false)?;
                self.print_outcome(out, &name, "INCR AOF");
            }
        }
        println!("All AOF files and manifest are valid");
        Ok(())
    }

    fn check_old_style(&mut self, path: &Path) -> Result<(), Exit> {
        println!("Start checking Old-Style AOF");
        let name = path.display().to_string();
        let preamble = file_starts_with_rdb(path);
        let out = self.check_single(&name, path, true, preamble)?;
        self.print_outcome(out, &name, "AOF");
        Ok(())
    }

    fn print_outcome(&self, out: Outcome, name: &str, what: &str) {
        match out {
            Outcome::Ok => println!("{what} {name} is valid"),
            Outcome::Empty => println!("{what} {name} is empty"),
            Outcome::Truncated => println!("Successfully truncated AOF {name}"),
            Outcome::TimestampTruncated => println!(
                "Successfully truncated AOF {name} to timestamp {}",
                self.to_timestamp.unwrap_or(0)
            ),
        }
    }

    /// redis-check-aof's `checkSingleAof`.
    fn check_single(
        &mut self,
        name: &str,
        path: &Path,
        last_file: bool,
        preamble: bool,
    ) -> Result<Outcome, Exit> {
        let mut file = match File::options().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) => {
                println!("Cannot open file {}: {e}, aborting...", path.display());
                return Err(Exit);
            }
        };
        let size = match file.metadata() {
            Ok(m) => m.len(),
            Err(_) => {
                println!("Cannot stat file: {name}, aborting...");
                return Err(Exit);
            }
        };
        if size == 0 {
            return Ok(Outcome::Empty);
        }
        let mut start = 0;
        if preamble {
            match check_rdb(path) {
                Ok(end) => {
                    println!("RDB preamble is OK, proceeding with AOF tail...");
                    start = end;
                }
                Err(()) => {
                    println!("RDB preamble of AOF file is not sane, aborting.");
                    return Err(Exit);
                }
            }
            if file.seek(SeekFrom::Start(start)).is_err() {
                println!("Failed to fseek in AOF {name}");
                return Err(Exit);
            }
        }
        let mut reader = AofReader::with_offset(&mut file, Mode::Check, start);
        let mut error: Option<String> = None;
        loop {
            match reader.next_item() {
                Ok(None) => break,
                Ok(Some(Item::Command(_))) => {}
                Ok(Some(Item::Annotation { line, start, .. })) => {
                    if let Some(out) = self.annotation(&line, start, path, last_file)? {
                        return Ok(out);
                    }
                }
                Err(ReadError::Io(e)) => {
                    println!("Failed to read from AOF {name}: {e}, aborting...");
                    return Err(Exit);
                }
                Err(ReadError::Corrupt {
                    problem: Problem::FormatError,
                    ..
                }) => {
                    println!("AOF {name} format error");
                    break;
                }
                // redis-check-aof says nothing when the file ends where a line should start.
                Err(ReadError::Truncated {
                    problem: Problem::UnexpectedEof,
                    ..
                }) => break,
                Err(ReadError::Corrupt { offset, problem })
                | Err(ReadError::Truncated { offset, problem }) => {
                    let mut e = format!("0x{offset:16x}: {problem}");
                    if matches!(problem, Problem::UnexpectedMulti | Problem::UnexpectedExec) {
                        e.push_str(&format!(" in AOF {}", path.display()));
                    }
                    error = Some(e);
                    break;
                }
            }
        }
        let pos = reader.ok_up_to();
        self.line += reader.newlines();
        drop(reader);
        if let Some(e) = error {
            println!("{e}");
        }
        let diff = size.saturating_sub(pos);
        if diff == 0 {
            if let Some(ts) = self.to_timestamp {
                println!("Truncate nothing in AOF {name} to timestamp {ts}");
                return Ok(Outcome::Ok);
            }
        }
        println!(
            "AOF analyzed: filename={name}, size={size}, ok_up_to={pos}, ok_up_to_line={}, diff={diff}",
            self.line
        );
        if diff == 0 {
            return Ok(Outcome::Ok);
        }
        if !self.fix {
            println!("AOF {name} is not valid. Use the --fix option to try fixing it.");
            return Err(Exit);
        }
        if !last_file {
            println!("Failed to truncate AOF {name} because it is not the last file");
            return Err(Exit);
        }
        println!(
            "This will shrink the AOF {name} from {size} bytes, with {diff} bytes, to {pos} bytes"
        );
        if file.set_len(pos).and_then(|()| file.sync_all()).is_err() {
            println!("Failed to truncate AOF {name}");
            return Err(Exit);
        }
        Ok(Outcome::Truncated)
    }

    /// redis-check-aof's `processAnnotations`: with `--truncate-to-timestamp`, cuts the file
    /// at the first `#TS:` later than the timestamp.
    fn annotation(
        &self,
        line: &[u8],
        start: u64,
        path: &Path,
        last_file: bool,
    ) -> Result<Option<Outcome>, Exit> {
        let Some(to) = self.to_timestamp else {
            return Ok(None);
        };
        let Some(rest) = line.strip_prefix(b"#TS:") else {
            return Ok(None);
        };
        let digits = rest
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'-')
            .count();
        let ts = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|s| s.parse::<i64>().ok());
        let (Some(ts), Some(b'\r')) = (ts, rest.get(digits)) else {
            println!("Invalid timestamp annotation");
            return Err(Exit);
        };
        if ts <= to {
            return Ok(None);
        }
        if start == 0 {
            println!(
                "AOF {} has nothing before timestamp {to}, aborting...",
                path.display()
            );
            return Err(Exit);
        }
        if !last_file {
            println!(
                "Failed to truncate AOF {} to timestamp {to} to offset {start} because it is not the last file.",
                path.display()
            );
            println!("If you insist, please delete all files after this file according to the manifest file and delete the corresponding records in manifest file manually. Then re-run redis-check-aof.");
            return Err(Exit);
        }
        let cut = File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(start).and_then(|()| f.sync_all()));
        if cut.is_err() {
            println!(
                "Failed to truncate AOF {} to timestamp {to}",
                path.display()
            );
            return Err(Exit);
        }
        Ok(Some(Outcome::TimestampTruncated))
    }
}

/// RDB opcodes (Redis's `RDB_OPCODE_*`).
mod opcode {
    pub const FUNCTION2: u8 = 245;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// Checks an RDB at the start of `path`, printing redis-check-rdb-style lines, and returns the
/// offset just past it (after the checksum).
fn check_rdb(path: &Path) -> Result<u64, ()> {
    let name = path.display();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            println!("--- RDB ERROR DETECTED ---\nCannot read {name}: {e}");
            return Err(());
        }
    };
    println!("[offset 0] Checking RDB file {name}");
    let fail = |off: usize, why: &str| {
        println!("--- RDB ERROR DETECTED ---\n[offset {off}] {why}");
    };
    if bytes.len() < 9
        || !bytes.starts_with(b"REDIS")
        || !bytes[5..9].iter().all(u8::is_ascii_digit)
    {
        fail(0, "Wrong signature trying to load DB from file");
        return Err(());
    }
    let version: u32 = std::str::from_utf8(&bytes[5..9])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if !(1..=12).contains(&version) {
        fail(5, &format!("Can't handle RDB format version {version}"));
        return Err(());
    }
    let mut r = RdbReader::new(&bytes[9..]);
    let at = |r: &RdbReader<'_>| 9 + r.position();
    let (mut keys, mut expires) = (0u64, 0u64);
    // Err: (offset, why, whether the reader merely lacks support for what is there).
    let walked: Result<usize, (usize, String, bool)> = (|| loop {
        let op_at = at(&r);
        let op = r.read_u8().map_err(|e| (op_at, e.to_string(), false))?;
        let e = |r: &RdbReader<'_>| {
            let off = at(r);
            move |err: tern_persist::rdb::RdbError| (off, err.to_string(), false)
        };
        match op {
            opcode::EOF => return Ok(at(&r)),
            opcode::AUX => {
                let k = r.read_string_bytes().map_err(e(&r))?.into_owned();
                let v = r.read_string_bytes().map_err(e(&r))?.into_owned();
                println!(
                    "[offset {op_at}] AUX FIELD {} = '{}'",
                    String::from_utf8_lossy(&k),
                    String::from_utf8_lossy(&v)
                );
            }
            opcode::SELECTDB => {
                r.read_len().map_err(e(&r))?;
            }
            opcode::RESIZEDB => {
                r.read_len().map_err(e(&r))?;
                r.read_len().map_err(e(&r))?;
            }
            opcode::EXPIRETIME_MS => {
                r.read_millis().map_err(e(&r))?;
                expires += 1;
            }
            opcode::EXPIRETIME => {
                r.read_seconds().map_err(e(&r))?;
                expires += 1;
            }
            opcode::IDLE => {
                r.read_len().map_err(e(&r))?;
            }
            opcode::FREQ => {
                r.read_u8().map_err(e(&r))?;
            }
            opcode::FUNCTION2 => {
                r.read_string_bytes().map_err(e(&r))?;
            }
            opcode::MODULE_AUX => {
                return Err((op_at, "module aux data is not supported".to_string(), true));
            }
            ty => {
                r.read_string_bytes().map_err(e(&r))?;
                match object::read_object(&mut r, ty) {
                    Ok(_) => keys += 1,
                    Err(err) => {
                        let unsupported = matches!(err.kind, RdbErrorKind::UnsupportedType(_));
                        return Err((9 + err.offset, err.to_string(), unsupported));
                    }
                }
            }
        }
    })();
    match walked {
        Ok(eof_end) => {
            let end = if version >= 5 {
                if bytes.len() < eof_end + 8 {
                    fail(eof_end, "Unexpected EOF reading RDB file");
                    return Err(());
                }
                let stored =
                    u64::from_le_bytes(bytes[eof_end..eof_end + 8].try_into().unwrap_or([0; 8]));
                let actual = tern_persist::crc64::crc64(&bytes[..eof_end]);
                if stored != 0 && stored != actual {
                    fail(eof_end, "RDB CRC error");
                    return Err(());
                }
                let end = eof_end + 8;
                if stored == 0 {
                    println!("[offset {end}] RDB file was saved with checksum disabled: no check performed.");
                } else {
                    println!("[offset {end}] Checksum OK");
                }
                eof_end + 8
            } else {
                eof_end
            };
            println!("[offset {end}] \\o/ RDB looks OK! \\o/");
            println!("[info] {keys} keys read");
            println!("[info] {expires} expires");
            Ok(end as u64)
        }
        Err((off, why, unsupported)) => {
            // A type the reader cannot decode: fall back to the EOF byte and the checksum of
            // the whole file (a pure RDB; an old-style preamble with a tail cannot be cut here).
            let n = bytes.len();
            if unsupported && n >= 18 && bytes[n - 9] == opcode::EOF {
                let stored = u64::from_le_bytes(bytes[n - 8..].try_into().unwrap_or([0; 8]));
                if stored != 0 && stored == tern_persist::crc64::crc64(&bytes[..n - 8]) {
                    println!("[offset {off}] {why}: checked the EOF marker and checksum only");
                    println!("[offset {n}] Checksum OK");
                    return Ok(n as u64);
                }
            }
            fail(off, &why);
            Err(())
        }
    }
}
