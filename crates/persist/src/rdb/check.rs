//! `tern check-rdb`: validates a whole RDB file and prints a report in the style of
//! `redis-check-rdb` (one `[offset N]` line per header item, then `[info]` totals), ending in
//! `\o/ RDB looks OK! \o/` or an `--- RDB ERROR DETECTED ---` block naming the offset.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::file::{ChecksumStatus, RdbFileReader, RdbItem};
use super::{ErrorClass, RdbError};

/// Totals gathered while checking a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckSummary {
    /// The file's RDB version (0 if the header was bad).
    pub version: u16,
    /// Keys read.
    pub keys: u64,
    /// Keys with an expire time.
    pub expires: u64,
    /// Keys whose expire time had passed at `now_ms`.
    pub already_expired: u64,
    /// Per database: (keys, expires).
    pub dbs: BTreeMap<u64, (u64, u64)>,
    /// Per data type, then per encoding (as Tern loads it): key counts.
    pub types: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
    /// Function libraries.
    pub functions: u64,
    /// Empty collections skipped.
    pub empty_keys_skipped: u64,
    /// How the checksum came out (None if the file did not get that far).
    pub checksum: Option<ChecksumStatus>,
    /// The error, if the file is not valid.
    pub error: Option<RdbError>,
}

/// What Redis-style report line heads an error of this class.
fn error_title(e: &RdbError) -> &'static str {
    match e.class() {
        ErrorClass::Truncated => "Unexpected EOF reading RDB file",
        ErrorClass::Corrupt => "Bad data format",
        ErrorClass::Checksum => "RDB CRC error",
        ErrorClass::Unsupported => "Unsupported data",
    }
}

/// Prints up to 60 bytes of `b`, escaping what is not printable.
fn shown(b: &[u8]) -> String {
    let mut s: String = b
        .iter()
        .take(60)
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect();
    if b.len() > 60 {
        s.push_str("...");
    }
    s
}

/// Checks the file in `buf`, writing the report to `out`. Keys whose expire time is before
/// `now_ms` count as already expired. Returns the summary; the file is valid when its
/// `error` is `None`.
pub fn check_file(buf: &[u8], now_ms: i64, out: &mut impl Write) -> io::Result<CheckSummary> {
    let mut sum = CheckSummary::default();
    let mut r = match RdbFileReader::new(buf) {
        Ok(r) => r,
        Err(e) => return report_error(out, sum, e),
    };
    sum.version = r.version();
    writeln!(out, "[offset 0] RDB version {}", r.version())?;
    let mut db = 0u64;
    loop {
        let at = r.position();
        let item = match r.next() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) => {
                sum.empty_keys_skipped = r.empty_keys_skipped();
                return report_error(out, sum, e);
            }
        };
        match item {
            RdbItem::Aux { key, value } => writeln!(
                out,
                "[offset {at}] AUX FIELD {} = '{}'",
                shown(&key),
                shown(&value)
            )?,
            RdbItem::SelectDb(n) => {
                db = n;
                sum.dbs.entry(n).or_default();
                writeln!(out, "[offset {at}] Selecting DB ID {n}")?;
            }
            RdbItem::ResizeDb { keys, expires } => writeln!(
                out,
                "[offset {at}] Resize DB: {keys} keys, {expires} expires (hints)"
            )?,
            RdbItem::SlotInfo {
                slot,
                keys,
                expires,
            } => writeln!(
                out,
                "[offset {at}] Slot info: slot {slot}, {keys} keys, {expires} expires"
            )?,
            RdbItem::Function(code) => {
                sum.functions += 1;
                let first = code.split(|&c| c == b'\n').next().unwrap_or_default();
                writeln!(out, "[offset {at}] Function library: {}", shown(first))?;
            }
            RdbItem::Key { value, meta, .. } => {
                sum.keys += 1;
                let d = sum.dbs.entry(db).or_default();
                d.0 += 1;
                if let Some(ms) = meta.expire_ms {
                    sum.expires += 1;
                    d.1 += 1;
                    if ms < now_ms {
                        sum.already_expired += 1;
                    }
                }
                *sum.types
                    .entry(value.type_name())
                    .or_default()
                    .entry(value.encoding())
                    .or_default() += 1;
            }
        }
    }
    sum.empty_keys_skipped = r.empty_keys_skipped();
    sum.checksum = r.checksum_status();
    let end = r.position();
    match sum.checksum {
        Some(ChecksumStatus::Verified(crc)) => {
            writeln!(out, "[offset {end}] Checksum OK ({crc:016x})")?
        }
        Some(ChecksumStatus::NotComputed) => writeln!(
            out,
            "[offset {end}] RDB file was saved with checksum disabled: no check performed."
        )?,
        Some(ChecksumStatus::Absent) | None => writeln!(
            out,
            "[offset {end}] No checksum (RDB version {} predates checksums)",
            sum.version
        )?,
    }
    if end < buf.len() {
        writeln!(
            out,
            "[offset {end}] {} bytes after the end of the file (ignored)",
            buf.len() - end
        )?;
    }
    writeln!(out, "[offset {end}] \\o/ RDB looks OK! \\o/")?;
    write_totals(out, &sum)?;
    Ok(sum)
}

fn write_totals(out: &mut impl Write, sum: &CheckSummary) -> io::Result<()> {
    for (db, (keys, expires)) in &sum.dbs {
        writeln!(out, "[info] db {db}: {keys} keys, {expires} expires")?;
    }
    for (ty, encs) in &sum.types {
        let total: u64 = encs.values().sum();
        let parts: Vec<String> = encs.iter().map(|(e, n)| format!("{e} {n}")).collect();
        writeln!(out, "[info] type {ty}: {total} keys ({})", parts.join(", "))?;
    }
    writeln!(out, "[info] {} keys read", sum.keys)?;
    writeln!(out, "[info] {} expires", sum.expires)?;
    writeln!(out, "[info] {} already expired", sum.already_expired)?;
    writeln!(out, "[info] {} function libraries", sum.functions)?;
    if sum.empty_keys_skipped > 0 {
        writeln!(out, "[info] {} empty keys skipped", sum.empty_keys_skipped)?;
    }
    Ok(())
}

fn report_error(
    out: &mut impl Write,
    mut sum: CheckSummary,
    e: RdbError,
) -> io::Result<CheckSummary> {
    writeln!(out, "--- RDB ERROR DETECTED ---")?;
    writeln!(out, "[offset {}] {}: {}", e.offset, error_title(&e), e.kind)?;
    writeln!(
        out,
        "[additional info] {} keys read before the error (all valid up to offset {})",
        sum.keys, e.offset
    )?;
    write_totals(out, &sum)?;
    sum.error = Some(e);
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::file::{FileOptions, KeyMeta, RdbFileWriter};
    use tern_keyspace::value::{Str, Value};

    fn sample() -> Vec<u8> {
        let mut w = RdbFileWriter::new(Vec::new(), FileOptions::default()).unwrap();
        w.aux(b"redis-ver", b"7.0.15").unwrap();
        w.select_db(2, 2, 1).unwrap();
        let v = Value::Str(Str::from_bytes(b"5"));
        w.key(b"a", &v, KeyMeta::default()).unwrap();
        let meta = KeyMeta {
            expire_ms: Some(1000),
            ..KeyMeta::default()
        };
        w.key(b"b", &Value::Str(Str::from_bytes(b"x")), meta)
            .unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn a_good_file_looks_ok() {
        let mut out = Vec::new();
        let sum = check_file(&sample(), 2000, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(sum.error.is_none(), "{text}");
        assert_eq!((sum.keys, sum.expires, sum.already_expired), (2, 1, 1));
        assert_eq!(sum.dbs[&2], (2, 1));
        assert_eq!(sum.types["string"]["int"], 1);
        assert!(text.contains("AUX FIELD redis-ver = '7.0.15'"), "{text}");
        assert!(text.contains("Checksum OK"), "{text}");
        assert!(text.contains("\\o/ RDB looks OK! \\o/"), "{text}");
    }

    #[test]
    fn a_truncated_file_names_its_offset() {
        let f = sample();
        let mut out = Vec::new();
        let sum = check_file(&f[..f.len() - 12], 0, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let e = sum.error.unwrap();
        assert!(e.is_truncation());
        assert!(text.contains("--- RDB ERROR DETECTED ---"), "{text}");
        assert!(
            text.contains(&format!("[offset {}] Unexpected EOF", e.offset)),
            "{text}"
        );
        assert!(!text.contains("looks OK"));
    }
}
