//! Loading the AOF at start-up: the manifest, then the base file (RDB preamble or commands),
//! then each incremental file, replayed through dispatch by a client that neither replies nor
//! propagates (Redis's fake AOF client). The commands are parsed by the same RESP request
//! parser that serves clients.

use std::path::Path;
use std::sync::Arc;

use tern_resp::request::{Parsed, RequestLimits, RequestParser};
use tern_resp::ReplyWriter;

use crate::aof::{configured_layout, Layout};
use crate::ctx::Client;
use crate::dispatch;
use crate::server::{now_ms, Server};
use tern_persist::aof::Manifest;

/// Reads the manifest (if any) and loads the files it names. Returns the layout found, for
/// the AOF writer to continue from (an empty layout when there is no AOF yet).
pub fn load(srv: &Arc<Server>) -> anyhow::Result<Layout> {
    let mut layout = configured_layout(srv);
    let manifest = layout
        .dir
        .join(tern_persist::aof::manifest::manifest_name(&layout.prefix));
    let text = match std::fs::read(&manifest) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(layout),
        Err(e) => anyhow::bail!("Can't open the AOF manifest {}: {e}", manifest.display()),
    };
    layout.m = Manifest::parse(&text)
        .map_err(|e| anyhow::anyhow!("Invalid AOF manifest {}: {e}", manifest.display()))?;
    let truncated_ok = srv
        .config
        .read()
        .get_bool("aof-load-truncated")
        .unwrap_or(true);
    let started = std::time::Instant::now();
    let files: Vec<_> = layout.m.files_to_load().cloned().collect();
    let n = files.len();
    for (i, f) in files.iter().enumerate() {
        // Only the last file may end early (a crash while appending).
        load_file(srv, &f.path(&layout.dir), truncated_ok && i + 1 == n)?;
        tracing::info!(
            "DB loaded from {} file {}: {:.3} seconds",
            if f.file_type == tern_persist::aof::FileType::Base {
                "base"
            } else {
                "incr"
            },
            f.name_lossy(),
            started.elapsed().as_secs_f64()
        );
    }
    tracing::info!(
        "DB loaded from append only file: {:.3} seconds",
        started.elapsed().as_secs_f64()
    );
    Ok(layout)
}

/// Loads one AOF file: an RDB preamble if it starts with `REDIS`, then commands.
fn load_file(srv: &Arc<Server>, path: &Path, truncated_ok: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).map_err(|e| {
        anyhow::anyhow!(
            "Fatal error: can't open the append log file {} for reading: {e}",
            path.display()
        )
    })?;
    let mut start = 0;
    if bytes.starts_with(b"REDIS") {
        let loaded = crate::loader::load_rdb_bytes(srv, &bytes, false, &path.display().to_string())
            .map_err(|e| anyhow::anyhow!("{e} ({})", path.display()))?;
        crate::loader::load_functions(srv, &loaded.functions);
        // Commands may follow the preamble (an AOF written by Redis's rewrite).
        start = loaded.bytes as usize;
        if start >= bytes.len() {
            return Ok(());
        }
    }
    match replay(srv, &bytes[start..]) {
        Replay::Done => Ok(()),
        Replay::Truncated { valid } if truncated_ok => {
            let keep = (start + valid) as u64;
            tracing::warn!(
                "!!! Warning: short read while loading the AOF file {}!!! AOF loaded anyway because aof-load-truncated is enabled; truncating the file to {keep} bytes",
                path.display()
            );
            let f = std::fs::OpenOptions::new().write(true).open(path)?;
            f.set_len(keep)?;
            f.sync_all()?;
            Ok(())
        }
        Replay::Truncated { valid } => anyhow::bail!(
            "Unexpected end of file reading the append only file {} at offset {}. You can: 1) Make a backup of your AOF file, then use ./tern check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
            path.display(),
            start + valid
        ),
        Replay::Bad { at, msg } => anyhow::bail!(
            "Bad file format reading the append only file {} at offset {}: {msg}. Make a backup of your AOF file, then use ./tern check-aof --fix <filename.manifest>",
            path.display(),
            start + at
        ),
    }
}

/// How replaying a command stream ended.
enum Replay {
    /// Every command was complete.
    Done,
    /// The stream ends inside a command or a MULTI without EXEC; `valid` bytes hold whole
    /// commands outside any unfinished transaction.
    Truncated { valid: usize },
    /// Not a command stream at `at`.
    Bad { at: usize, msg: String },
}

/// Runs every command of `bytes` through dispatch as the AOF client.
fn replay(srv: &Arc<Server>, bytes: &[u8]) -> Replay {
    let info = srv.clients.register("aof".into(), String::new(), -1);
    srv.clients.unregister(info.id);
    let stats = srv.stats.new_worker(srv.table.ids());
    let mut cl = Client::new(info, stats, true).internal();
    cl.replaying = true;
    let mut out = ReplyWriter::new();
    let mut parser = RequestParser::new();
    let limits = RequestLimits {
        max_bulk_len: u64::MAX,
        unauthenticated: false,
    };
    let mut pos = 0;
    // Where the last complete command outside a transaction ended.
    let mut valid = 0;
    while pos < bytes.len() {
        if bytes[pos] == b'#' {
            // An annotation line (`#TS:...`), as Redis 7 writes with aof-timestamp-enabled.
            match memchr::memchr(b'\n', &bytes[pos..]) {
                Some(n) => {
                    pos += n + 1;
                    if cl.multi.is_none() {
                        valid = pos;
                    }
                    continue;
                }
                None => return Replay::Truncated { valid },
            }
        }
        if bytes[pos] != b'*' {
            return Replay::Bad {
                at: pos,
                msg: "expected '*'".into(),
            };
        }
        match parser.parse(&bytes[pos..], &limits) {
            Ok(Parsed::Complete(used)) => {
                let req = &parser.request;
                let base = &bytes[pos..];
                let args: smallvec::SmallVec<[&[u8]; 8]> =
                    (0..req.len()).map(|i| req.arg(base, i)).collect();
                if !args.is_empty() {
                    out.buf.clear();
                    dispatch::execute(srv, &mut cl, &mut out, &args, now_ms());
                }
                pos += used;
                if cl.multi.is_none() {
                    valid = pos;
                }
            }
            Ok(Parsed::Incomplete { .. }) => {
                if cl.multi.is_some() {
                    tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file");
                }
                return Replay::Truncated { valid };
            }
            Err(e) => {
                return Replay::Bad {
                    at: pos,
                    msg: e.to_string(),
                }
            }
        }
    }
    if cl.multi.is_some() {
        tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file");
        return Replay::Truncated { valid };
    }
    Replay::Done
}
