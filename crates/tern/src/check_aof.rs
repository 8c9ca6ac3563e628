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
//! RDB parts (a `.base.rdb`, or an old-style preamble) are checked with tern-persist's RDB
//! checker, the one behind `tern check-rdb`.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tern_persist::aof::manifest::{LoadManifestError, Manifest, MANIFEST_MAX_LINE};
use tern_persist::aof::reader::{starts_with_rdb, AofReader, Item, Mode, Problem, ReadError};
use tern_persist::rdb::check::check_file;
use tern_persist::rdb::file::RdbFileReader;

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

/// Checks the RDB at the start of `path` with tern-persist's RDB checker (the report of
/// `tern check-rdb`), and returns the offset just past it (after the checksum), where an
/// old-style AOF's command tail starts.
fn check_rdb(path: &Path) -> Result<u64, ()> {
    println!("[offset 0] Checking RDB file {}", path.display());
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            println!("--- RDB ERROR DETECTED ---");
            println!("[offset 0] Cannot read {}: {e}", path.display());
            return Err(());
        }
    };
    // Where the RDB ends: the reader stops after the EOF opcode and the checksum. On an error
    // the checker below reports it on the whole file.
    let end = match RdbFileReader::new(&bytes) {
        Ok(mut r) => loop {
            match r.next() {
                Ok(Some(_)) => {}
                Ok(None) => break r.position(),
                Err(_) => break bytes.len(),
            }
        },
        Err(_) => bytes.len(),
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    match check_file(&bytes[..end], now_ms, &mut std::io::stdout().lock()) {
        Ok(sum) if sum.error.is_none() => Ok(end as u64),
        _ => Err(()),
    }
}
