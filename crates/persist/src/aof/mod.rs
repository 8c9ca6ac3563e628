//! The append-only file's *files*: Redis 7.0's multi-part layout, in `appenddirname`
//! (default `appendonlydir`):
//!
//! ```text
//! appendonly.aof.manifest         which files make up the AOF, in order  (manifest.rs)
//! appendonly.aof.1.base.rdb       the base: an RDB snapshot (or .base.aof: commands)
//! appendonly.aof.1.incr.aof       commands appended after the base     (reader.rs)
//! appendonly.aof.2.incr.aof       ...opened when a rewrite started
//! ```
//!
//! * [`manifest`]: parse, serialize (byte-identical to Redis 7.0), the file names, and the
//!   manifest changes of opening an incr file and of finishing a rewrite; atomic persist.
//! * [`reader`]: the command stream of an incr or `.base.aof` file, as the loader or as
//!   redis-check-aof reads it, with the offsets needed to cut a truncated tail.
//!
//! The AOF writer and loader live in crates/server and call these; `tern check-aof` uses
//! both to validate a manifest and its files.

pub mod manifest;
pub mod reader;

#[cfg(test)]
mod tests;

pub use manifest::{AofInfo, BaseFormat, FileType, Manifest, ManifestError, ManifestErrorKind};
pub use reader::{AofReader, Command, Item, Mode, Problem, ReadError};

/// The default `appenddirname`.
pub const DEFAULT_DIR_NAME: &str = "appendonlydir";
/// The default `appendfilename`.
pub const DEFAULT_FILE_NAME: &str = "appendonly.aof";
