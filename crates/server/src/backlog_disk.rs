//! The replication backlog on disk: the stream kept in segment files under `dir/backlog/`,
//! bounded by `repl-backlog-size` (which may be many GB), while the newest bytes also stay in
//! the in-memory ring (`repl-backlog-memory`) that most reads hit.
//!
//! Segments are named by the stream offset of their first byte and hold up to
//! [`SEGMENT_BYTES`] each; a file `replid` names the replication history they belong to. A
//! thread appends what the log hands it every few milliseconds (`ReplLog::disk_take`) and
//! deletes the oldest segments beyond the size bound. No fsync: the backlog is a cache of the
//! stream; after a restart, [`DiskBacklog::recover`] keeps it only up to the offset of the
//! dataset that was loaded, and only if it belongs to the same history.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

/// Bytes per segment file.
pub const SEGMENT_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone)]
struct Segment {
    start: u64,
    len: u64,
    path: PathBuf,
}

#[derive(Debug)]
struct Inner {
    segments: Vec<Segment>,
    file: Option<File>,
}

/// The on-disk part of the backlog.
#[derive(Debug)]
pub struct DiskBacklog {
    /// A write failed: the segments may miss bytes, so nothing is served from them (readers fall
    /// back to a full sync) and nothing more is written, until the next reset (the log's
    /// flusher tries one every second, see `ReplLog::flush_disk`).
    broken: std::sync::atomic::AtomicBool,
    /// The history the segments belong to (for a reset after a failure).
    replid: Mutex<String>,
    dir: PathBuf,
    max_bytes: u64,
    seg_bytes: u64,
    inner: Mutex<Inner>,
}

fn seg_path(dir: &Path, start: u64) -> PathBuf {
    dir.join(format!("{start:020}.seg"))
}

impl DiskBacklog {
    /// Opens (creating) `dir`, empty, for the history `replid` starting at `offset`.
    pub fn create(
        dir: &Path,
        max_bytes: u64,
        replid: &str,
        offset: u64,
    ) -> io::Result<DiskBacklog> {
        fs::create_dir_all(dir)?;
        let b = DiskBacklog {
            broken: Default::default(),
            replid: Mutex::new(replid.to_string()),
            dir: dir.to_path_buf(),
            max_bytes,
            seg_bytes: SEGMENT_BYTES.min(max_bytes.max(1 << 20) / 4).max(1 << 20),
            inner: Mutex::new(Inner {
                segments: Vec::new(),
                file: None,
            }),
        };
        b.reset(replid, offset)?;
        Ok(b)
    }

    /// Opens `dir` after a restart: keeps the segments of history `replid` up to `offset`
    /// (the loaded dataset's), if they reach it; otherwise starts empty at `offset`.
    pub fn recover(
        dir: &Path,
        max_bytes: u64,
        replid: &str,
        offset: u64,
    ) -> io::Result<DiskBacklog> {
        let same = fs::read_to_string(dir.join("replid")).is_ok_and(|id| id.trim() == replid);
        let mut segs: Vec<Segment> = Vec::new();
        if same {
            for e in fs::read_dir(dir)? {
                let e = e?;
                let name = e.file_name().to_string_lossy().into_owned();
                let Some(start) = name
                    .strip_suffix(".seg")
                    .and_then(|n| n.parse::<u64>().ok())
                else {
                    continue;
                };
                segs.push(Segment {
                    start,
                    len: e.metadata()?.len(),
                    path: e.path(),
                });
            }
            segs.sort_by_key(|s| s.start);
            // Keep only a contiguous run that reaches `offset`, cut at `offset`.
            segs.retain(|s| s.start <= offset);
            let contiguous = segs.windows(2).all(|w| w[0].start + w[0].len == w[1].start);
            let reaches = segs.last().is_some_and(|s| s.start + s.len >= offset);
            if !contiguous || !reaches {
                segs.clear();
            }
        }
        if segs.is_empty() {
            return DiskBacklog::create(dir, max_bytes, replid, offset);
        }
        // Drop what lies beyond `offset` (written after the snapshot that was loaded).
        for e in fs::read_dir(dir)? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "seg") && !segs.iter().any(|s| s.path == p) {
                let _ = fs::remove_file(p);
            }
        }
        let last = segs.last_mut().expect("not empty");
        last.len = offset - last.start;
        let f = OpenOptions::new().write(true).open(&last.path)?;
        f.set_len(last.len)?;
        drop(f);
        let file = OpenOptions::new().append(true).open(&last.path)?;
        Ok(DiskBacklog {
            broken: Default::default(),
            replid: Mutex::new(replid.to_string()),
            dir: dir.to_path_buf(),
            max_bytes,
            seg_bytes: SEGMENT_BYTES.min(max_bytes.max(1 << 20) / 4).max(1 << 20),
            inner: Mutex::new(Inner {
                segments: segs,
                file: Some(file),
            }),
        })
    }

    /// Forgets everything and starts history `replid` at `offset`.
    pub fn reset(&self, replid: &str, offset: u64) -> io::Result<()> {
        let mut g = self.inner.lock();
        self.broken
            .store(true, std::sync::atomic::Ordering::Relaxed);
        g.file = None;
        for s in g.segments.drain(..) {
            let _ = fs::remove_file(&s.path);
        }
        for e in fs::read_dir(&self.dir)? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "seg") {
                let _ = fs::remove_file(p);
            }
        }
        fs::write(self.dir.join("replid"), replid)?;
        *self.replid.lock() = replid.to_string();
        let path = seg_path(&self.dir, offset);
        g.file = Some(OpenOptions::new().create(true).append(true).open(&path)?);
        g.segments.push(Segment {
            start: offset,
            len: 0,
            path,
        });
        self.broken
            .store(false, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Starts again, empty, at `offset` of the same history, after a failed write: the
    /// directory is made again if it went away. The history before `offset` is not served.
    pub fn restart(&self, offset: u64) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let replid = self.replid.lock().clone();
        self.reset(&replid, offset)
    }

    /// True after a failed write, until a reset.
    pub fn is_broken(&self) -> bool {
        self.broken.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The first offset it can serve, unless it is broken.
    pub fn first(&self) -> Option<u64> {
        if self.broken.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        Some(self.range().0)
    }

    /// The offsets held: `(first, end)` (the first byte held is at `first`, 0-based).
    pub fn range(&self) -> (u64, u64) {
        let g = self.inner.lock();
        match (g.segments.first(), g.segments.last()) {
            (Some(a), Some(b)) => (a.start, b.start + b.len),
            _ => (0, 0),
        }
    }

    /// Appends stream bytes (they continue exactly at the end of what is held). A failure
    /// marks the backlog broken (see `broken`).
    pub fn append(&self, bytes: &[u8]) -> io::Result<()> {
        if self.broken.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        let r = self.append_inner(bytes);
        if r.is_err() {
            self.broken
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        r
    }

    fn append_inner(&self, mut bytes: &[u8]) -> io::Result<()> {
        let mut g = self.inner.lock();
        if g.segments.is_empty() || g.file.is_none() {
            // A reset that failed left no segment open: nothing can be appended until the
            // next reset (readers then find the offsets missing and fall back to a full sync).
            return Err(io::Error::other("the disk backlog has no open segment"));
        }
        while !bytes.is_empty() {
            let (start, len) = {
                let last = g.segments.last().expect("checked above: a current segment");
                (last.start, last.len)
            };
            if len >= self.seg_bytes {
                let path = seg_path(&self.dir, start + len);
                g.file = Some(OpenOptions::new().create(true).append(true).open(&path)?);
                g.segments.push(Segment {
                    start: start + len,
                    len: 0,
                    path,
                });
                continue;
            }
            let n = ((self.seg_bytes - len) as usize).min(bytes.len());
            let Some(f) = g.file.as_mut() else {
                return Err(io::Error::other("the disk backlog has no open segment"));
            };
            f.write_all(&bytes[..n])?;
            g.segments.last_mut().expect("a current segment").len += n as u64;
            bytes = &bytes[n..];
        }
        // Keep at most `max_bytes` (whole segments; the current one always stays).
        let mut total: u64 = g.segments.iter().map(|s| s.len).sum();
        while g.segments.len() > 1 && total - g.segments[0].len >= self.max_bytes {
            let s = g.segments.remove(0);
            total -= s.len;
            let _ = fs::remove_file(&s.path);
        }
        Ok(())
    }

    /// Up to `max` bytes from offset `from`, if held.
    pub fn read(&self, from: u64, max: usize) -> Option<Vec<u8>> {
        if self.broken.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        let g = self.inner.lock();
        let s = g
            .segments
            .iter()
            .find(|s| from >= s.start && from < s.start + s.len)?
            .clone();
        drop(g);
        let n = ((s.start + s.len - from) as usize).min(max);
        let mut f = File::open(&s.path).ok()?;
        f.seek(SeekFrom::Start(from - s.start)).ok()?;
        let mut buf = vec![0u8; n];
        f.read_exact(&mut buf).ok()?;
        Some(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("tern-backlog-test-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn appends_read_back_across_segments_and_old_segments_are_trimmed() {
        let d = dir("trim");
        let b = DiskBacklog::create(&d, 4 << 20, "id", 100).unwrap();
        let data: Vec<u8> = (0..(6u32 << 20)).map(|i| (i % 251) as u8).collect();
        for c in data.chunks(100_000) {
            b.append(c).unwrap();
        }
        let (first, end) = b.range();
        assert_eq!(end, 100 + data.len() as u64);
        assert!(first > 100, "old segments were deleted");
        assert!(end - first >= 4 << 20, "at least max_bytes kept");
        let from = end - 3_000_000;
        let mut got = Vec::new();
        let mut at = from;
        while at < end {
            let c = b.read(at, 777_777).unwrap();
            at += c.len() as u64;
            got.extend_from_slice(&c);
        }
        assert_eq!(got, &data[(from - 100) as usize..]);
        assert!(b.read(50, 10).is_none());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn recovery_keeps_the_same_history_up_to_the_loaded_offset_only() {
        let d = dir("recover");
        let b = DiskBacklog::create(&d, 64 << 20, "id-a", 0).unwrap();
        b.append(&[7u8; 5000]).unwrap();
        drop(b);
        let b = DiskBacklog::recover(&d, 64 << 20, "id-a", 3000).unwrap();
        assert_eq!(b.range(), (0, 3000));
        assert_eq!(b.read(2990, 100).unwrap().len(), 10);
        b.append(&[8u8; 10]).unwrap();
        assert_eq!(b.read(3000, 100).unwrap(), vec![8u8; 10]);
        drop(b);
        // Another history: nothing kept.
        let b = DiskBacklog::recover(&d, 64 << 20, "id-b", 3010).unwrap();
        assert_eq!(b.range(), (3010, 3010));
        drop(b);
        // An offset beyond what is held: nothing kept either.
        let b = DiskBacklog::recover(&d, 64 << 20, "id-b", 9999).unwrap();
        assert_eq!(b.range(), (9999, 9999));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_failed_write_stops_serving_until_a_restart() {
        let d = dir("broken");
        let b = DiskBacklog::create(&d, 4 << 20, "id", 0).unwrap();
        b.append(&[1u8; 1000]).unwrap();
        assert_eq!(b.first(), Some(0));
        // The directory goes away: rolling over to a new segment fails.
        fs::remove_dir_all(&d).unwrap();
        assert!(b.append(&vec![2u8; 2 << 20]).is_err());
        assert_eq!(b.first(), None, "a backlog with a hole serves nothing");
        assert!(b.read(0, 10).is_none());
        assert!(
            b.append(&[3u8; 10]).is_ok(),
            "later appends are dropped quietly"
        );
        // A restart makes the directory again and serves what follows.
        assert!(b.is_broken());
        b.restart(5000).unwrap();
        assert!(!b.is_broken());
        b.append(&[4u8; 10]).unwrap();
        assert_eq!(b.first(), Some(5000));
        assert_eq!(b.read(5000, 100).unwrap(), vec![4u8; 10]);
        assert_eq!(fs::read_to_string(d.join("replid")).unwrap(), "id");
        let _ = fs::remove_dir_all(&d);
    }
}
