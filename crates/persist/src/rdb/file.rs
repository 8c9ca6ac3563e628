//! Whole RDB files: [`RdbFileWriter`] streams one to any [`Write`] (a file, or a replica's
//! socket), [`RdbFileReader`] walks one held in memory, item by item.
//!
//! # Layout (what Redis 7.0's `rdbSaveRio` writes)
//!
//! ```text
//! "REDIS" + 4 version digits            REDIS0010
//! AUX (250) key value                   redis-ver, redis-bits, ctime, used-mem,
//!                                       [repl-stream-db, repl-id, repl-offset,] aof-base
//! FUNCTION2 (245) library-code          one per function library
//! SELECTDB (254) db                     for each non-empty database:
//! RESIZEDB (251) keys expires
//! [EXPIRETIME_MS (252) ms-LE64]         for each key: its expire time,
//! [IDLE (248) seconds]                  LRU idle time (maxmemory-policy *-lru),
//! [FREQ (249) counter-u8]               or LFU counter (*-lfu),
//! type key value                        then the object (see `object`)
//! EOF (255) CRC-64-LE                   CRC of every byte before it, 0 if rdbchecksum no
//! ```
//!
//! Older files may also hold `EXPIRETIME` (253, seconds as a 4-byte LE integer); files of
//! version < 5 have no checksum after EOF; Redis 7.4 cluster nodes write `SLOT_INFO` (244).
//!
//! The reader is an iterator over [`RdbItem`]s, so a loader can keep what it has read when a
//! later item fails and report the failure's byte offset and [`ErrorClass`]. It never panics
//! on hostile input.

use std::borrow::Cow;
use std::io::{self, Write};

use tern_keyspace::value::Value;

use super::{
    object, object_type, opcode, ErrorClass, RdbError, RdbErrorKind, RdbReader, RdbWriter,
    RDB_VERSION_7_0, RDB_VERSION_7_4,
};
use crate::crc64::{crc64, Crc64};

/// The oldest RDB version the reader accepts.
pub const MIN_READ_VERSION: u16 = 1;
/// The newest RDB version the reader accepts (Redis 7.4's).
pub const MAX_READ_VERSION: u16 = RDB_VERSION_7_4;
/// The first RDB version with a checksum after the EOF opcode.
pub const FIRST_CHECKSUM_VERSION: u16 = 5;

/// How a file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileOptions {
    /// The version in the header. Only the header changes: objects are always written in the
    /// encodings of Redis 7.0 (version 10), which versions 11 and 12 read too.
    pub version: u16,
    /// LZF-compress long strings when that pays (`rdbcompression`).
    pub compress: bool,
    /// Write the CRC-64 after EOF (`rdbchecksum`); when off, 8 zero bytes, as Redis does.
    pub checksum: bool,
}

impl Default for FileOptions {
    /// Redis 7.0's defaults: version 10, compression and checksum on.
    fn default() -> FileOptions {
        FileOptions {
            version: RDB_VERSION_7_0,
            compress: true,
            checksum: true,
        }
    }
}

/// What a file records about a key besides its value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyMeta {
    /// Absolute expire time in Unix milliseconds (`EXPIRETIME_MS`, or `EXPIRETIME` * 1000).
    pub expire_ms: Option<i64>,
    /// LRU idle time in seconds (`IDLE`), written under an `*-lru` maxmemory policy.
    pub lru_idle_secs: Option<u64>,
    /// LFU counter (`FREQ`), written under an `*-lfu` maxmemory policy.
    pub lfu_freq: Option<u8>,
}

/// The replication fields of the standard aux set (written when the server has a
/// replication backlog or a primary, as Redis's `rdbPopulateSaveInfo` decides).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplAux<'a> {
    /// `repl-stream-db`: the database the replication stream last selected.
    pub stream_db: i64,
    /// `repl-id`: the 40-character replication id.
    pub repl_id: &'a str,
    /// `repl-offset`: the replication offset the snapshot corresponds to.
    pub repl_offset: i64,
}

/// The aux fields Redis 7.0 writes at the start of every file, in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StandardAux<'a> {
    /// `redis-ver`: the version Tern reports as `redis_version`.
    pub redis_ver: &'a str,
    /// `redis-bits`: 64 or 32.
    pub redis_bits: i64,
    /// `ctime`: the save time in Unix seconds.
    pub ctime: i64,
    /// `used-mem`: bytes of memory in use.
    pub used_mem: i64,
    /// Replication fields, if any.
    pub repl: Option<ReplAux<'a>>,
    /// `aof-base`: 1 when the file is the base of an AOF.
    pub aof_base: bool,
}

/// How many bytes the writer gathers before passing them on (Redis's `rio` writes through a
/// buffered `FILE` in the same way): records are written in many small pieces.
const WRITE_BUFFER: usize = 64 * 1024;

/// A buffering [`Write`] that keeps a CRC-64 of what passes through only when asked to, as
/// Redis updates `rio`'s checksum only with `rdbchecksum yes`.
#[derive(Debug)]
struct CrcSink<W> {
    inner: W,
    crc: Option<Crc64>,
    buf: Vec<u8>,
    written: u64,
}

impl<W: Write> CrcSink<W> {
    /// Checksums and passes on the buffered bytes.
    fn drain(&mut self) -> io::Result<()> {
        if let Some(c) = &mut self.crc {
            c.update(&self.buf);
        }
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

impl<W: Write> Write for CrcSink<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.written += data.len() as u64;
        if self.buf.len() + data.len() > WRITE_BUFFER {
            self.drain()?;
            if data.len() >= WRITE_BUFFER {
                // Large pieces skip the buffer.
                if let Some(c) = &mut self.crc {
                    c.update(data);
                }
                self.inner.write_all(data)?;
                return Ok(data.len());
            }
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.inner.flush()
    }
}

/// Streams an RDB file to `W`: header, then items in the order the caller gives them, then
/// EOF and the checksum in [`RdbFileWriter::finish`]. Writes reach `W` in chunks of about
/// 64 KiB (so `W` need not be buffered); nothing is complete until `finish` returns.
#[derive(Debug)]
pub struct RdbFileWriter<W: Write> {
    w: RdbWriter<CrcSink<W>>,
}

impl<W: Write> RdbFileWriter<W> {
    /// Starts a file: writes `REDIS` and the version as four digits.
    pub fn new(inner: W, opts: FileOptions) -> io::Result<RdbFileWriter<W>> {
        let sink = CrcSink {
            inner,
            crc: opts.checksum.then(Crc64::new),
            buf: Vec::with_capacity(WRITE_BUFFER),
            written: 0,
        };
        let mut w = RdbWriter::with_compression(sink, opts.compress);
        w.write_raw(format!("REDIS{:04}", opts.version).as_bytes())?;
        Ok(RdbFileWriter { w })
    }

    /// Bytes written so far, header included (for progress reports).
    pub fn bytes_written(&self) -> u64 {
        self.w.get_ref().written
    }

    /// Passes everything written so far on to the inner writer and flushes it.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.get_mut().flush()
    }

    /// Writes an aux field (`rdbSaveAuxField`): both strings as `rdbSaveRawString` writes
    /// them (integer-encoded or compressed when they qualify).
    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.w.write_u8(opcode::AUX)?;
        self.w.write_string(key)?;
        self.w.write_string(value)
    }

    /// Writes an integer aux field (`rdbSaveAuxFieldStrInt`): the decimal string, which the
    /// string encoding stores as an integer when it fits in 32 bits.
    pub fn aux_int(&mut self, key: &[u8], value: i64) -> io::Result<()> {
        self.aux(key, itoa::Buffer::new().format(value).as_bytes())
    }

    /// Writes the aux fields Redis 7.0's `rdbSaveInfoAuxFields` writes, in its order.
    pub fn standard_aux(&mut self, a: &StandardAux<'_>) -> io::Result<()> {
        self.aux(b"redis-ver", a.redis_ver.as_bytes())?;
        self.aux_int(b"redis-bits", a.redis_bits)?;
        self.aux_int(b"ctime", a.ctime)?;
        self.aux_int(b"used-mem", a.used_mem)?;
        if let Some(r) = &a.repl {
            self.aux_int(b"repl-stream-db", r.stream_db)?;
            self.aux(b"repl-id", r.repl_id.as_bytes())?;
            self.aux_int(b"repl-offset", r.repl_offset)?;
        }
        self.aux_int(b"aof-base", a.aof_base as i64)
    }

    /// Starts database `db`: `SELECTDB db`, then `RESIZEDB keys expires` (the sizes a loader
    /// can presize its tables with).
    pub fn select_db(&mut self, db: u64, keys: u64, expires: u64) -> io::Result<()> {
        self.w.write_u8(opcode::SELECTDB)?;
        self.w.write_len(db)?;
        self.w.write_u8(opcode::RESIZEDB)?;
        self.w.write_len(keys)?;
        self.w.write_len(expires)
    }

    /// Writes one key: its metadata opcodes, type byte, name and value (see
    /// [`encode_key_record`]).
    pub fn key(&mut self, key: &[u8], value: &Value, meta: KeyMeta) -> io::Result<()> {
        write_key_record(&mut self.w, key, value, meta)
    }

    /// Writes a function library (`RDB_OPCODE_FUNCTION2` and its code as a string).
    pub fn function(&mut self, library_code: &[u8]) -> io::Result<()> {
        self.w.write_u8(opcode::FUNCTION2)?;
        self.w.write_string(library_code)
    }

    /// Writes pre-encoded bytes (records from [`encode_key_record`]), checksummed as any.
    pub fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.w.write_raw(bytes)
    }

    /// Ends the file: the EOF opcode and the CRC-64 of everything before it, little-endian
    /// (zero with the checksum off). Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.write_u8(opcode::EOF)?;
        let mut sink = self.w.into_inner();
        sink.drain()?;
        let crc = sink.crc.map_or(0, |c| c.value());
        sink.inner.write_all(&crc.to_le_bytes())?;
        sink.inner.flush()?;
        Ok(sink.inner)
    }
}

/// Writes a key record to any RDB writer, as `rdbSaveKeyValuePair` does.
fn write_key_record<W: Write>(
    w: &mut RdbWriter<W>,
    key: &[u8],
    value: &Value,
    meta: KeyMeta,
) -> io::Result<()> {
    if let Some(ms) = meta.expire_ms {
        w.write_u8(opcode::EXPIRETIME_MS)?;
        w.write_millis(ms)?;
    }
    if let Some(idle) = meta.lru_idle_secs {
        w.write_u8(opcode::IDLE)?;
        w.write_len(idle)?;
    }
    if let Some(freq) = meta.lfu_freq {
        w.write_u8(opcode::FREQ)?;
        w.write_u8(freq)?;
    }
    w.write_u8(object::type_of(value))?;
    w.write_string(key)?;
    object::write_object(w, value)
}

/// Encodes one key record (`EXPIRETIME_MS`/`IDLE`/`FREQ` opcodes, type byte, key, value) into
/// `out`, exactly what [`RdbFileWriter::key`] writes. The server serializes keys with this
/// under the shard lock and writes the bytes out later with [`RdbFileWriter::raw`].
pub fn encode_key_record(
    out: &mut Vec<u8>,
    key: &[u8],
    value: &Value,
    meta: KeyMeta,
    compress: bool,
) {
    let mut w = RdbWriter::with_compression(out, compress);
    write_key_record(&mut w, key, value, meta).expect("writing to a Vec cannot fail");
}

/// One item of an RDB file, in file order.
#[derive(Clone, Debug, PartialEq)]
pub enum RdbItem<'a> {
    /// An aux field. Redis 7.0 writes `redis-ver`, `redis-bits`, `ctime`, `used-mem`,
    /// `repl-stream-db`, `repl-id`, `repl-offset`, `aof-base`; older versions also `lua`
    /// (a script body, which 7.0 ignores on load).
    Aux {
        /// The field's name.
        key: Cow<'a, [u8]>,
        /// The field's value (integers in decimal).
        value: Cow<'a, [u8]>,
    },
    /// The following keys belong to this database.
    SelectDb(u64),
    /// Size hints for the current database.
    ResizeDb {
        /// Number of keys.
        keys: u64,
        /// Number of keys with an expire time.
        expires: u64,
    },
    /// Redis 7.4 cluster slot sizes (a hint; safe to ignore).
    SlotInfo {
        /// The slot.
        slot: u64,
        /// Keys in it.
        keys: u64,
        /// Keys with an expire time in it.
        expires: u64,
    },
    /// A key and its value. Expired keys are returned too: whether to drop them (a primary
    /// does, a replica does not) is the loader's decision.
    Key {
        /// The key's name.
        key: Cow<'a, [u8]>,
        /// The value, in the encoding Redis 7.0 would give it on load.
        value: Value,
        /// Expire time, LRU idle time, LFU counter.
        meta: KeyMeta,
    },
    /// A function library's code (`FUNCTION LOAD` source, starting with the `#!` line).
    Function(Cow<'a, [u8]>),
}

/// How the checksum at the end of a file came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChecksumStatus {
    /// The stored CRC-64 matches the file.
    Verified(u64),
    /// The stored checksum is zero: the file was saved with `rdbchecksum no`.
    NotComputed,
    /// The file's version (< 5) has no checksum.
    Absent,
}

/// Reads an RDB file held in memory, one [`RdbItem`] at a time.
///
/// Empty collections are skipped silently, as Redis 7.0 skips them (counted by
/// [`RdbFileReader::empty_keys_skipped`]).
#[derive(Clone, Debug)]
pub struct RdbFileReader<'a> {
    r: RdbReader<'a>,
    version: u16,
    checksum: Option<ChecksumStatus>,
    empty_keys: u64,
    /// Metadata opcodes read since the last key. As in Redis, they stay pending across
    /// other items (an aux field between EXPIRETIME_MS and its key does not drop it).
    pending: KeyMeta,
}

/// Whether `prefix` could still become a valid header (`REDIS` and digits so far).
fn is_header_prefix(prefix: &[u8]) -> bool {
    prefix.iter().enumerate().all(|(i, &b)| {
        if i < 5 {
            b == b"REDIS"[i]
        } else {
            b.is_ascii_digit()
        }
    })
}

impl<'a> RdbFileReader<'a> {
    /// Checks the header: `REDIS` and a four-digit version from 1 to 12.
    pub fn new(buf: &'a [u8]) -> Result<RdbFileReader<'a>, RdbError> {
        let err = |kind| RdbError { offset: 0, kind };
        if buf.len() < 9 {
            return Err(if is_header_prefix(buf) {
                err(RdbErrorKind::UnexpectedEof {
                    needed: 9,
                    available: buf.len(),
                })
            } else {
                err(RdbErrorKind::BadMagic)
            });
        }
        if !is_header_prefix(&buf[..9]) {
            return Err(err(RdbErrorKind::BadMagic));
        }
        let version = buf[5..9]
            .iter()
            .fold(0u32, |v, &d| v * 10 + (d - b'0') as u32);
        if !(MIN_READ_VERSION as u32..=MAX_READ_VERSION as u32).contains(&version) {
            return Err(RdbError {
                offset: 5,
                kind: RdbErrorKind::UnsupportedVersion(version),
            });
        }
        let mut r = RdbReader::new(buf);
        r.read_bytes(9)?;
        Ok(RdbFileReader {
            r,
            version: version as u16,
            checksum: None,
            empty_keys: 0,
            pending: KeyMeta::default(),
        })
    }

    /// The file's RDB version.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The offset of the next byte to read (for progress reports).
    pub fn position(&self) -> usize {
        self.r.position()
    }

    /// The checksum's status, once [`RdbFileReader::next`] has returned `None`.
    pub fn checksum_status(&self) -> Option<ChecksumStatus> {
        self.checksum
    }

    /// How many empty collections were skipped.
    pub fn empty_keys_skipped(&self) -> u64 {
        self.empty_keys
    }

    /// The next item, or `None` after the EOF opcode and a checksum that matches (or is zero,
    /// meaning "not computed", or absent before version 5). Bytes after the checksum are
    /// ignored, as Redis ignores them. After an error, the reader should not be used again.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<RdbItem<'a>>, RdbError> {
        if self.checksum.is_some() {
            return Ok(None);
        }
        let r = &mut self.r;
        let meta = &mut self.pending;
        loop {
            let at = r.position();
            let t = r.read_u8()?;
            match t {
                opcode::EXPIRETIME_MS => meta.expire_ms = Some(r.read_millis()?),
                opcode::EXPIRETIME => meta.expire_ms = Some(r.read_seconds()? as i64 * 1000),
                opcode::IDLE => meta.lru_idle_secs = Some(r.read_len()?),
                opcode::FREQ => meta.lfu_freq = Some(r.read_u8()?),
                opcode::SELECTDB => return Ok(Some(RdbItem::SelectDb(r.read_len()?))),
                opcode::RESIZEDB => {
                    let keys = r.read_len()?;
                    let expires = r.read_len()?;
                    return Ok(Some(RdbItem::ResizeDb { keys, expires }));
                }
                opcode::SLOT_INFO => {
                    let slot = r.read_len()?;
                    let keys = r.read_len()?;
                    let expires = r.read_len()?;
                    return Ok(Some(RdbItem::SlotInfo {
                        slot,
                        keys,
                        expires,
                    }));
                }
                opcode::AUX => {
                    let key = r.read_string_bytes()?;
                    let value = r.read_string_bytes()?;
                    return Ok(Some(RdbItem::Aux { key, value }));
                }
                opcode::FUNCTION2 => return Ok(Some(RdbItem::Function(r.read_string_bytes()?))),
                opcode::FUNCTION_PRE_GA => {
                    return Err(r.error_at(at, RdbErrorKind::UnsupportedType(t)))
                }
                opcode::MODULE_AUX => {
                    return Err(r.error_at(at, RdbErrorKind::ModuleUnsupported(t)))
                }
                opcode::EOF => {
                    self.checksum = Some(self.read_checksum(at)?);
                    return Ok(None);
                }
                object_type::MODULE_PRE_GA | object_type::MODULE_2 => {
                    return Err(r.error_at(at, RdbErrorKind::ModuleUnsupported(t)))
                }
                t if object_type::is_object_type(t) => {
                    let key = r.read_string_bytes()?;
                    match object::read_object(r, t) {
                        Ok(value) => {
                            let meta = std::mem::take(meta);
                            return Ok(Some(RdbItem::Key { key, value, meta }));
                        }
                        Err(e) if e.kind == RdbErrorKind::EmptyKey => {
                            self.empty_keys += 1;
                            *meta = KeyMeta::default();
                        }
                        // The record's type byte is the useful place to point at.
                        Err(e) if e.class() == ErrorClass::Unsupported => {
                            return Err(r.error_at(at, e.kind))
                        }
                        Err(e) => return Err(e),
                    }
                }
                t if object_type::is_hash_field_expiry_type(t) => {
                    return Err(r.error_at(at, RdbErrorKind::UnsupportedType(t)))
                }
                t => return Err(r.error_at(at, RdbErrorKind::UnknownType(t))),
            }
        }
    }

    /// Reads and checks the checksum after the EOF opcode at `eof_at`.
    fn read_checksum(&mut self, eof_at: usize) -> Result<ChecksumStatus, RdbError> {
        if self.version < FIRST_CHECKSUM_VERSION {
            return Ok(ChecksumStatus::Absent);
        }
        let at = self.r.position();
        let stored = self.r.read_millis()? as u64;
        if stored == 0 {
            return Ok(ChecksumStatus::NotComputed);
        }
        let data = &self.r.input()[..eof_at + 1];
        let computed = crc64(data);
        if stored != computed {
            return Err(self
                .r
                .error_at(at, RdbErrorKind::ChecksumMismatch { stored, computed }));
        }
        Ok(ChecksumStatus::Verified(stored))
    }
}

#[cfg(test)]
mod tests;
