//! RDB encoding primitives: the constants of the format, the length and string encodings,
//! a writer over any [`std::io::Write`] and a bounds-checked reader over a byte slice.
//!
//! Each value type has its own module with an encode and a decode function ([`string`] for
//! now); [`object`] dispatches on the value or on the type byte.
//!
//! The reader never panics and never allocates more than the remaining input can justify: a
//! length is checked against what is left before anything is reserved, and an LZF string may
//! claim at most [`lzf::MAX_EXPANSION`] bytes per compressed byte. Every error carries the
//! byte offset (from the start of the reader's slice) of the item that could not be read.

pub mod check;
pub mod file;
pub mod hash;
pub mod list;
pub mod object;
pub mod set;
pub mod string;
pub mod ziplist;
pub mod zset;

use std::borrow::Cow;
use std::io::{self, Write};

use thiserror::Error;

use crate::lzf::{self, LzfError};

/// RDB format version written by Redis 7.0 (and accepted by it in DUMP payloads).
pub const RDB_VERSION_7_0: u16 = 10;
/// RDB format version written by Redis 7.2.
pub const RDB_VERSION_7_2: u16 = 11;
/// RDB format version written by Redis 7.4.
pub const RDB_VERSION_7_4: u16 = 12;

/// Object type bytes (`RDB_TYPE_*`): what precedes a key/value pair in an RDB file and opens a
/// DUMP payload.
pub mod object_type {
    /// A string (any encoding).
    pub const STRING: u8 = 0;
    /// A list as a sequence of strings (before quicklists).
    pub const LIST: u8 = 1;
    /// A set as a sequence of strings.
    pub const SET: u8 = 2;
    /// A sorted set with scores as decimal strings (old).
    pub const ZSET: u8 = 3;
    /// A hash as field/value strings.
    pub const HASH: u8 = 4;
    /// A sorted set with binary double scores.
    pub const ZSET_2: u8 = 5;
    /// A module value, pre-GA format (not loadable).
    pub const MODULE_PRE_GA: u8 = 6;
    /// A module value.
    pub const MODULE_2: u8 = 7;
    /// A hash as a zipmap (Redis < 2.6).
    pub const HASH_ZIPMAP: u8 = 9;
    /// A list as a ziplist.
    pub const LIST_ZIPLIST: u8 = 10;
    /// A set as an intset.
    pub const SET_INTSET: u8 = 11;
    /// A sorted set as a ziplist.
    pub const ZSET_ZIPLIST: u8 = 12;
    /// A hash as a ziplist.
    pub const HASH_ZIPLIST: u8 = 13;
    /// A list as a quicklist of ziplists.
    pub const LIST_QUICKLIST: u8 = 14;
    /// A stream as listpacks (Redis 5).
    pub const STREAM_LISTPACKS: u8 = 15;
    /// A hash as a listpack (Redis 7.0).
    pub const HASH_LISTPACK: u8 = 16;
    /// A sorted set as a listpack (Redis 7.0).
    pub const ZSET_LISTPACK: u8 = 17;
    /// A list as a quicklist of listpacks (Redis 7.0).
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// A stream as listpacks with consumer-group metadata (Redis 7.0).
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// A set as a listpack (Redis 7.2).
    pub const SET_LISTPACK: u8 = 20;
    /// A stream with consumer active-time metadata (Redis 7.2).
    pub const STREAM_LISTPACKS_3: u8 = 21;
    /// A hash with field expiry metadata, pre-GA format (Redis 7.4 release candidates).
    pub const HASH_METADATA_PRE_GA: u8 = 22;
    /// A listpack hash with field expiry times, pre-GA format (Redis 7.4 release candidates).
    pub const HASH_LISTPACK_EX_PRE_GA: u8 = 23;
    /// A hash with field expiry metadata (Redis 7.4).
    pub const HASH_METADATA: u8 = 24;
    /// A listpack hash with field expiry times (Redis 7.4).
    pub const HASH_LISTPACK_EX: u8 = 25;

    /// True for every object type byte Redis 7.0 and 7.2 know (0..=7 and 9..=21): what
    /// RESTORE accepts as a type.
    pub fn is_object_type(t: u8) -> bool {
        matches!(t, 0..=7 | 9..=21)
    }

    /// A short description of type byte `t` for error messages ("stream", "module", ...).
    pub fn describe(t: u8) -> &'static str {
        match t {
            HASH_METADATA_PRE_GA | HASH_LISTPACK_EX_PRE_GA | HASH_METADATA | HASH_LISTPACK_EX => {
                "hash with field expiration, Redis 7.4"
            }
            super::opcode::FUNCTION_PRE_GA => "pre-GA function library",
            t => data_type(t).unwrap_or("unknown"),
        }
    }

    /// True for the hash-with-field-expiry types of Redis 7.4 (22..=25), which Tern cannot
    /// load: an RDB file reader reports them as unsupported rather than unknown.
    pub fn is_hash_field_expiry_type(t: u8) -> bool {
        matches!(
            t,
            HASH_METADATA_PRE_GA | HASH_LISTPACK_EX_PRE_GA | HASH_METADATA | HASH_LISTPACK_EX
        )
    }

    /// The Redis data type (as `TYPE` names it) an object type byte holds, if any.
    pub fn data_type(t: u8) -> Option<&'static str> {
        Some(match t {
            STRING => "string",
            LIST | LIST_ZIPLIST | LIST_QUICKLIST | LIST_QUICKLIST_2 => "list",
            SET | SET_INTSET | SET_LISTPACK => "set",
            ZSET | ZSET_2 | ZSET_ZIPLIST | ZSET_LISTPACK => "zset",
            HASH
            | HASH_ZIPMAP
            | HASH_ZIPLIST
            | HASH_LISTPACK
            | HASH_METADATA_PRE_GA
            | HASH_LISTPACK_EX_PRE_GA
            | HASH_METADATA
            | HASH_LISTPACK_EX => "hash",
            MODULE_PRE_GA | MODULE_2 => "module",
            STREAM_LISTPACKS | STREAM_LISTPACKS_2 | STREAM_LISTPACKS_3 => "stream",
            _ => return None,
        })
    }
}

/// Opcodes (`RDB_OPCODE_*`): bytes in a type position of an RDB file that are not objects.
pub mod opcode {
    /// Cluster slot sizes (Redis 7.4, RDB 12): slot id, keys, expiring keys, as lengths.
    pub const SLOT_INFO: u8 = 244;
    /// A function library (Redis 7.0 format).
    pub const FUNCTION2: u8 = 245;
    /// A function library, pre-GA format.
    pub const FUNCTION_PRE_GA: u8 = 246;
    /// Module auxiliary data.
    pub const MODULE_AUX: u8 = 247;
    /// The next key's LRU idle time.
    pub const IDLE: u8 = 248;
    /// The next key's LFU frequency.
    pub const FREQ: u8 = 249;
    /// An auxiliary field (two strings).
    pub const AUX: u8 = 250;
    /// Hash table size hints for the current database.
    pub const RESIZEDB: u8 = 251;
    /// The next key's expire time in milliseconds (8 bytes, little-endian).
    pub const EXPIRETIME_MS: u8 = 252;
    /// The next key's expire time in seconds (4 bytes, little-endian; old).
    pub const EXPIRETIME: u8 = 253;
    /// Switch to another database.
    pub const SELECTDB: u8 = 254;
    /// End of the file (the 8-byte checksum follows).
    pub const EOF: u8 = 255;
}

/// The top two bits of a length byte: a 6-bit length in the rest of the byte.
pub const LEN_6BIT: u8 = 0;
/// A 14-bit length: the low 6 bits of this byte and the whole next byte.
pub const LEN_14BIT: u8 = 1;
/// This whole byte announces a 32-bit big-endian length.
pub const LEN_32BIT: u8 = 0x80;
/// This whole byte announces a 64-bit big-endian length.
pub const LEN_64BIT: u8 = 0x81;
/// The top two bits marking a special encoding (the low 6 bits say which).
pub const ENCVAL: u8 = 3;
/// Special encoding: an 8-bit signed integer follows.
pub const ENC_INT8: u8 = 0;
/// Special encoding: a 16-bit little-endian signed integer follows.
pub const ENC_INT16: u8 = 1;
/// Special encoding: a 32-bit little-endian signed integer follows.
pub const ENC_INT32: u8 = 2;
/// Special encoding: an LZF-compressed string follows (compressed length, plain length, data).
pub const ENC_LZF: u8 = 3;

/// Strings this long or shorter are never compressed (Redis: "under 20 bytes it's unable to
/// compress even aaaaaaaaaaaaaaaaaa").
pub const LZF_MIN_LEN_EXCLUSIVE: usize = 20;
/// Strings longer than this are never tried as integers (`-2147483648` has 11 bytes).
pub const INT_ENC_MAX_LEN: usize = 11;

/// Encodes `len` the way `rdbSaveLen` does into `buf`, returning how many bytes it used (1, 2,
/// 5 or 9).
pub fn encode_len(len: u64, buf: &mut [u8; 9]) -> usize {
    if len < 1 << 6 {
        buf[0] = (LEN_6BIT << 6) | len as u8;
        1
    } else if len < 1 << 14 {
        buf[0] = (LEN_14BIT << 6) | (len >> 8) as u8;
        buf[1] = len as u8;
        2
    } else if len <= u32::MAX as u64 {
        buf[0] = LEN_32BIT;
        buf[1..5].copy_from_slice(&(len as u32).to_be_bytes());
        5
    } else {
        buf[0] = LEN_64BIT;
        buf[1..9].copy_from_slice(&len.to_be_bytes());
        9
    }
}

/// Encodes `v` as an `RDB_ENC_INT8/16/32` special encoding (`rdbEncodeInteger`) when it fits
/// in 32 bits, returning the bytes used (2, 3 or 5).
pub fn encode_int(v: i64, buf: &mut [u8; 5]) -> Option<usize> {
    if let Ok(b) = i8::try_from(v) {
        buf[0] = (ENCVAL << 6) | ENC_INT8;
        buf[1] = b as u8;
        Some(2)
    } else if let Ok(h) = i16::try_from(v) {
        buf[0] = (ENCVAL << 6) | ENC_INT16;
        buf[1..3].copy_from_slice(&h.to_le_bytes());
        Some(3)
    } else if let Ok(w) = i32::try_from(v) {
        buf[0] = (ENCVAL << 6) | ENC_INT32;
        buf[1..5].copy_from_slice(&w.to_le_bytes());
        Some(5)
    } else {
        None
    }
}

/// Writes RDB-encoded items to any [`Write`].
///
/// String compression follows Redis's `rdbcompression` setting (on by default).
#[derive(Debug)]
pub struct RdbWriter<W> {
    inner: W,
    compress: bool,
    scratch: Vec<u8>,
}

impl<W: Write> RdbWriter<W> {
    /// A writer with LZF compression on (Redis's default `rdbcompression yes`).
    pub fn new(inner: W) -> RdbWriter<W> {
        RdbWriter::with_compression(inner, true)
    }

    /// A writer with LZF compression of long strings on or off.
    pub fn with_compression(inner: W, compress: bool) -> RdbWriter<W> {
        RdbWriter {
            inner,
            compress,
            scratch: Vec::new(),
        }
    }

    /// Whether long strings are LZF-compressed when that saves space.
    pub fn compression(&self) -> bool {
        self.compress
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The underlying writer, mutably.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Unwraps the underlying writer.
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Writes bytes as they are.
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_all(bytes)
    }

    /// Writes one byte (an object type or an opcode).
    pub fn write_u8(&mut self, b: u8) -> io::Result<()> {
        self.inner.write_all(&[b])
    }

    /// Writes a length (`rdbSaveLen`).
    pub fn write_len(&mut self, len: u64) -> io::Result<()> {
        let mut buf = [0u8; 9];
        let n = encode_len(len, &mut buf);
        self.inner.write_all(&buf[..n])
    }

    /// Writes a string the way `rdbSaveRawString` does: a canonical decimal integer of at
    /// most 11 bytes that fits in 32 bits as `INT8/16/32`; else, with compression on and more
    /// than 20 bytes, LZF if the result is at least 4 bytes shorter (liblzf given
    /// `len - 4` bytes of room); else the length and the bytes.
    pub fn write_string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= INT_ENC_MAX_LEN {
            if let Some(v) = tern_keyspace::value::parse_canonical_i64(s) {
                let mut buf = [0u8; 5];
                if let Some(n) = encode_int(v, &mut buf) {
                    return self.inner.write_all(&buf[..n]);
                }
            }
        }
        if self.compress && s.len() > LZF_MIN_LEN_EXCLUSIVE && self.write_lzf(s)? {
            return Ok(());
        }
        self.write_len(s.len() as u64)?;
        self.inner.write_all(s)
    }

    /// Writes `s` LZF-compressed (`rdbSaveLzfStringObject`) if that saves at least 4 bytes;
    /// returns whether it did (nothing is written otherwise). `s` must be longer than 4 bytes.
    fn write_lzf(&mut self, s: &[u8]) -> io::Result<bool> {
        self.scratch.clear();
        if !lzf::compress_into(s, s.len() - 4, &mut self.scratch) {
            return Ok(false);
        }
        let mut head = [0u8; 19];
        head[0] = (ENCVAL << 6) | ENC_LZF;
        let mut buf = [0u8; 9];
        let n1 = encode_len(self.scratch.len() as u64, &mut buf);
        head[1..1 + n1].copy_from_slice(&buf[..n1]);
        let n2 = encode_len(s.len() as u64, &mut buf);
        head[1 + n1..1 + n1 + n2].copy_from_slice(&buf[..n2]);
        self.inner.write_all(&head[..1 + n1 + n2])?;
        self.inner.write_all(&self.scratch)?;
        Ok(true)
    }

    /// Writes an integer-valued string (`rdbSaveLongLongAsStringObject`): `INT8/16/32` when it
    /// fits in 32 bits, else its decimal digits as a plain string.
    pub fn write_int_string(&mut self, v: i64) -> io::Result<()> {
        let mut buf = [0u8; 5];
        if let Some(n) = encode_int(v, &mut buf) {
            return self.inner.write_all(&buf[..n]);
        }
        let mut digits = itoa::Buffer::new();
        let d = digits.format(v).as_bytes();
        self.write_len(d.len() as u64)?;
        self.inner.write_all(d)
    }

    /// Writes a millisecond time as 8 bytes little-endian (`rdbSaveMillisecondTime`).
    pub fn write_millis(&mut self, ms: i64) -> io::Result<()> {
        self.inner.write_all(&ms.to_le_bytes())
    }

    /// Writes a double as 8 bytes little-endian IEEE 754 (`rdbSaveBinaryDoubleValue`).
    pub fn write_binary_double(&mut self, v: f64) -> io::Result<()> {
        self.inner.write_all(&v.to_le_bytes())
    }
}

/// An error reading RDB data: what went wrong and at which byte offset.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{kind} at byte offset {offset}")]
pub struct RdbError {
    /// Offset from the start of the reader's input of the item that could not be read.
    pub offset: usize,
    /// What went wrong.
    pub kind: RdbErrorKind,
}

/// What went wrong reading RDB data.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RdbErrorKind {
    /// The input ends before the item does.
    #[error("unexpected end of input: {needed} bytes needed, {available} left")]
    UnexpectedEof {
        /// Bytes the item needs.
        needed: u64,
        /// Bytes left in the input.
        available: usize,
    },
    /// A length byte of the reserved forms `0x82..=0xbf`.
    #[error("unknown length encoding 0x{0:02x}")]
    BadLengthEncoding(u8),
    /// A special (integer or LZF) encoding where a plain length was required.
    #[error("special encoding {0} where a length was expected")]
    UnexpectedEncoding(u8),
    /// A special string encoding other than INT8, INT16, INT32 and LZF.
    #[error("unknown string encoding {0}")]
    UnknownStringEncoding(u8),
    /// A length or count larger than the remaining input could hold.
    #[error("length {0} exceeds the remaining input")]
    LengthTooLarge(u64),
    /// A compressed string that does not decompress to its announced length.
    #[error("invalid LZF compressed string: {0}")]
    Lzf(LzfError),
    /// A type byte that is no RDB object type.
    #[error("unknown object type {0}")]
    UnknownType(u8),
    /// An object type this implementation cannot load yet.
    #[error("unsupported object type {0} ({desc})", desc = object_type::describe(*.0))]
    UnsupportedType(u8),
    /// Bytes left over after an object that should fill its input.
    #[error("{0} unexpected bytes after the object")]
    TrailingBytes(usize),
    /// Structurally invalid data of another kind.
    #[error("invalid data: {0}")]
    Invalid(&'static str),
    /// A collection without elements. RESTORE refuses it; a file loader skips the key, as
    /// Redis 7.0 does ("rdbLoadObject skipping empty key").
    #[error("empty key")]
    EmptyKey,
    /// A file that does not start with `REDIS` and four version digits.
    #[error("wrong signature trying to load DB from file")]
    BadMagic,
    /// A file of an RDB version this implementation cannot read.
    #[error("can't handle RDB format version {0}")]
    UnsupportedVersion(u32),
    /// The CRC-64 at the end of the file does not match its contents.
    #[error("wrong RDB checksum: expected {computed:016x}, got {stored:016x}")]
    ChecksumMismatch {
        /// The checksum stored in the file.
        stored: u64,
        /// The checksum of the file's contents.
        computed: u64,
    },
    /// Module data (a module-type key or module auxiliary data), which needs the module.
    #[error("module data (opcode or type {0}) cannot be loaded: modules are not supported")]
    ModuleUnsupported(u8),
}

/// What kind of failure an [`RdbError`] is, for a loader deciding what to report and whether
/// the items before it can be kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The input ends early (a file cut short): everything before the offset was valid.
    Truncated,
    /// The bytes are wrong (Redis: "Bad data format" / "Internal error in RDB reading").
    Corrupt,
    /// The whole file was read but its checksum does not match.
    Checksum,
    /// Valid data this implementation cannot load (streams, modules, newer versions).
    Unsupported,
}

impl RdbError {
    /// Classifies the error. When reading a whole file, a count larger than the remaining
    /// input can hold ([`RdbErrorKind::LengthTooLarge`]) is also a sign of truncation: Redis
    /// reports both as "Short read or OOM loading DB".
    pub fn class(&self) -> ErrorClass {
        match self.kind {
            RdbErrorKind::UnexpectedEof { .. } | RdbErrorKind::LengthTooLarge(_) => {
                ErrorClass::Truncated
            }
            RdbErrorKind::ChecksumMismatch { .. } => ErrorClass::Checksum,
            RdbErrorKind::UnsupportedType(_)
            | RdbErrorKind::UnsupportedVersion(_)
            | RdbErrorKind::ModuleUnsupported(_) => ErrorClass::Unsupported,
            _ => ErrorClass::Corrupt,
        }
    }

    /// True when the input ended early (see [`RdbError::class`]).
    pub fn is_truncation(&self) -> bool {
        self.class() == ErrorClass::Truncated
    }
}

/// A length-position item: a plain length, or the number of a special encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// A plain length.
    Len(u64),
    /// A special encoding (`ENC_INT8`, `ENC_INT16`, `ENC_INT32`, `ENC_LZF`).
    Encoded(u8),
}

/// A string as read, keeping Redis's distinction between integer-encoded and byte strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RdbString<'a> {
    /// An `INT8/16/32`-encoded integer.
    Int(i64),
    /// Bytes, borrowed from the input when stored plainly, owned when decompressed.
    Bytes(Cow<'a, [u8]>),
}

impl RdbString<'_> {
    /// The string's bytes (integers in decimal).
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            RdbString::Int(v) => itoa::Buffer::new().format(v).as_bytes().to_vec(),
            RdbString::Bytes(b) => b.into_owned(),
        }
    }
}

/// Reads RDB-encoded items from a byte slice, tracking the position.
#[derive(Clone, Debug)]
pub struct RdbReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> RdbReader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> RdbReader<'a> {
        RdbReader { buf, pos: 0 }
    }

    /// The offset of the next byte to be read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte has been read.
    pub fn is_at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// The whole input, read and unread.
    pub fn input(&self) -> &'a [u8] {
        self.buf
    }

    /// The unread bytes.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// An error of `kind` at `offset`.
    pub fn error_at(&self, offset: usize, kind: RdbErrorKind) -> RdbError {
        RdbError { offset, kind }
    }

    /// Fails with [`RdbErrorKind::TrailingBytes`] unless every byte has been read.
    pub fn expect_end(&self) -> Result<(), RdbError> {
        if self.is_at_end() {
            Ok(())
        } else {
            Err(self.error_at(self.pos, RdbErrorKind::TrailingBytes(self.remaining())))
        }
    }

    /// Reads `n` bytes, borrowing them from the input.
    pub fn read_bytes(&mut self, n: u64) -> Result<&'a [u8], RdbError> {
        let available = self.remaining();
        if n > available as u64 {
            return Err(self.error_at(
                self.pos,
                RdbErrorKind::UnexpectedEof {
                    needed: n,
                    available,
                },
            ));
        }
        let n = n as usize;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn read_array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.read_bytes(N as u64)?);
        Ok(a)
    }

    /// Reads one byte.
    pub fn read_u8(&mut self) -> Result<u8, RdbError> {
        Ok(self.read_array::<1>()?[0])
    }

    /// Reads a length or a special-encoding marker (`rdbLoadLenByRef`).
    pub fn read_length(&mut self) -> Result<Length, RdbError> {
        let at = self.pos;
        let b = self.read_u8()?;
        match b >> 6 {
            LEN_6BIT => Ok(Length::Len((b & 0x3f) as u64)),
            LEN_14BIT => {
                let lo = self.read_u8().map_err(|e| self.error_at(at, e.kind))?;
                Ok(Length::Len((((b & 0x3f) as u64) << 8) | lo as u64))
            }
            ENCVAL => Ok(Length::Encoded(b & 0x3f)),
            _ => match b {
                LEN_32BIT => {
                    let v = self
                        .read_array::<4>()
                        .map_err(|e| self.error_at(at, e.kind))?;
                    Ok(Length::Len(u32::from_be_bytes(v) as u64))
                }
                LEN_64BIT => {
                    let v = self
                        .read_array::<8>()
                        .map_err(|e| self.error_at(at, e.kind))?;
                    Ok(Length::Len(u64::from_be_bytes(v)))
                }
                _ => Err(self.error_at(at, RdbErrorKind::BadLengthEncoding(b))),
            },
        }
    }

    /// Reads a plain length (`rdbLoadLen`); a special encoding here is an error.
    pub fn read_len(&mut self) -> Result<u64, RdbError> {
        let at = self.pos;
        match self.read_length()? {
            Length::Len(n) => Ok(n),
            Length::Encoded(e) => Err(self.error_at(at, RdbErrorKind::UnexpectedEncoding(e))),
        }
    }

    /// Reads an element count for a collection whose every element takes at least
    /// `min_item_bytes` bytes, refusing counts the remaining input cannot hold, so a caller
    /// may reserve `count` slots safely.
    pub fn read_count(&mut self, min_item_bytes: usize) -> Result<usize, RdbError> {
        let at = self.pos;
        let n = self.read_len()?;
        let cap = (self.remaining() / min_item_bytes.max(1)) as u64;
        if n > cap {
            return Err(self.error_at(at, RdbErrorKind::LengthTooLarge(n)));
        }
        Ok(n as usize)
    }

    /// Reads a string in any of its encodings (`rdbGenericLoadStringObject`), keeping
    /// integer-encoded ones as integers.
    pub fn read_string(&mut self) -> Result<RdbString<'a>, RdbError> {
        let at = self.pos;
        match self.read_length()? {
            Length::Len(n) => {
                let bytes = self.read_bytes(n).map_err(|e| self.error_at(at, e.kind))?;
                Ok(RdbString::Bytes(Cow::Borrowed(bytes)))
            }
            Length::Encoded(ENC_INT8) => {
                let [b] = self
                    .read_array::<1>()
                    .map_err(|e| self.error_at(at, e.kind))?;
                Ok(RdbString::Int(b as i8 as i64))
            }
            Length::Encoded(ENC_INT16) => {
                let v = self
                    .read_array::<2>()
                    .map_err(|e| self.error_at(at, e.kind))?;
                Ok(RdbString::Int(i16::from_le_bytes(v) as i64))
            }
            Length::Encoded(ENC_INT32) => {
                let v = self
                    .read_array::<4>()
                    .map_err(|e| self.error_at(at, e.kind))?;
                Ok(RdbString::Int(i32::from_le_bytes(v) as i64))
            }
            Length::Encoded(ENC_LZF) => self
                .read_lzf_body(at)
                .map(|v| RdbString::Bytes(Cow::Owned(v))),
            Length::Encoded(e) => Err(self.error_at(at, RdbErrorKind::UnknownStringEncoding(e))),
        }
    }

    /// Reads a string in any encoding as bytes (integers formatted in decimal).
    pub fn read_string_bytes(&mut self) -> Result<Cow<'a, [u8]>, RdbError> {
        Ok(match self.read_string()? {
            RdbString::Int(v) => Cow::Owned(itoa::Buffer::new().format(v).as_bytes().to_vec()),
            RdbString::Bytes(b) => b,
        })
    }

    /// Reads a string holding an encoded structure (ziplist, zipmap, ...) and the offset to
    /// report positions inside it from: where its bytes start in the input when stored
    /// plainly, or where the string starts when it was compressed (its bytes are then not in
    /// the input).
    pub fn read_blob(&mut self) -> Result<(Cow<'a, [u8]>, usize), RdbError> {
        let at = self.pos;
        let s = self.read_string_bytes()?;
        let base = match &s {
            Cow::Borrowed(b) => self.pos - b.len(),
            Cow::Owned(_) => at,
        };
        Ok((s, base))
    }

    /// The rest of an LZF string after its marker byte at `at`: compressed length, plain
    /// length, compressed bytes.
    fn read_lzf_body(&mut self, at: usize) -> Result<Vec<u8>, RdbError> {
        let clen = self.read_len()?;
        let len = self.read_len()?;
        let data = self.read_bytes(clen)?;
        let len = usize::try_from(len)
            .map_err(|_| self.error_at(at, RdbErrorKind::LengthTooLarge(len)))?;
        lzf::decompress(data, len).map_err(|e| self.error_at(at, RdbErrorKind::Lzf(e)))
    }

    /// Reads an 8-byte little-endian millisecond time (`rdbLoadMillisecondTime`).
    pub fn read_millis(&mut self) -> Result<i64, RdbError> {
        Ok(i64::from_le_bytes(self.read_array::<8>()?))
    }

    /// Reads a 4-byte little-endian time in seconds (`rdbLoadTime`, for `EXPIRETIME`).
    pub fn read_seconds(&mut self) -> Result<i32, RdbError> {
        Ok(i32::from_le_bytes(self.read_array::<4>()?))
    }

    /// Reads an 8-byte little-endian IEEE 754 double (`rdbLoadBinaryDoubleValue`).
    pub fn read_binary_double(&mut self) -> Result<f64, RdbError> {
        Ok(f64::from_le_bytes(self.read_array::<8>()?))
    }
}

#[cfg(test)]
mod tests;
