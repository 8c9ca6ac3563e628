//! Redis-compatible serialization: the CRC-64 and LZF that Redis uses, the RDB object
//! encoding, and DUMP/RESTORE payloads.
//!
//! * [`crc64`]: Redis's CRC-64 (Jones polynomial), streaming and one-shot.
//! * [`lzf`]: LZF compression byte-identical to liblzf 3.6, and hardened decompression.
//! * [`rdb`]: RDB constants, length and string encodings, [`rdb::RdbWriter`] and
//!   [`rdb::RdbReader`], and per-type object encode/decode (including the ziplist and zipmap
//!   encodings of old files, [`rdb::ziplist`]).
//! * [`rdb::file`]: whole RDB files: [`rdb::file::RdbFileWriter`] (streaming, checksummed),
//!   [`rdb::file::encode_key_record`], and [`rdb::file::RdbFileReader`] (item by item, errors
//!   classified as truncation, corruption, checksum mismatch or unsupported data).
//! * [`rdb::check`]: the report of `tern check-rdb`.
//! * [`mod@dump`]: DUMP payloads ([`dump::dump`]) and RESTORE ([`dump::restore`]).

pub mod aof;
pub mod crc64;
pub mod dump;
pub mod lzf;
pub mod rdb;

pub use dump::{dump, restore, DumpError};
