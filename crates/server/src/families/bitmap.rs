//! Bitmap commands (Redis's bitops.c): SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
//! BITFIELD_RO. A bitmap is a plain string value; bit 0 is the most significant bit of the
//! first byte, and commands that write bits grow the string with zero bytes as needed.
//!
//! Encodings follow Redis 7.0: every write leaves the string "raw" (Redis unshares it into a
//! mutable sds), reads never change it.
//!
//! Propagated forms (Redis 7.0 propagates every bitmap write as the client sent it):
//! - SETBIT only when the string grew or the bit changed;
//! - BITFIELD only when some SET/INCRBY changed a value or the string grew;
//! - BITOP when it stored a result or deleted an existing destination.

use crate::args;
use crate::ctx::{Ctx, Locked};
use crate::errors::{CmdError, CmdResult, SYNTAX, WRONG_TYPE};
use crate::table::{flags::*, CommandTable, Group, Spec};
use std::sync::atomic::Ordering::Relaxed;
use tern_keyspace::value::SmallBytes;
use tern_keyspace::{Entry, Str, Value};

#[cfg(test)]
#[path = "bitmap_tests.rs"]
mod tests;

/// Bad bit offsets, and offsets beyond `proto-max-bulk-len`.
pub const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
/// SETBIT values other than 0 and 1.
pub const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
/// BITFIELD types that do not parse.
pub const BITFIELD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// Registers the bitmap commands.
pub fn register(t: &mut CommandTable) {
    let s = |name, arity, flags| {
        Spec::new(name, arity, flags)
            .group(Group::Bitmap)
            .keys(1, 1, 1)
    };
    t.add(
        s("setbit", 4, WRITE | DENYOOM)
            .doc(
                "2.2.0",
                "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
            )
            .handler(setbit),
    );
    t.add(
        s("getbit", 3, READONLY | FAST)
            .doc("2.2.0", "Returns a bit value by offset.")
            .handler(getbit),
    );
    t.add(
        s("bitcount", -2, READONLY)
            .doc(
                "2.6.0",
                "Counts the number of set bits (population counting) in a string.",
            )
            .handler(bitcount),
    );
    t.add(
        s("bitpos", -3, READONLY)
            .doc(
                "2.8.7",
                "Finds the first set (1) or clear (0) bit in a string.",
            )
            .handler(bitpos),
    );
    t.add(
        s("bitop", -4, WRITE | DENYOOM)
            .keys(2, -1, 1)
            .doc(
                "2.6.0",
                "Performs bitwise operations on multiple strings, and stores the result.",
            )
            .handler(bitop),
    );
    t.add(
        s("bitfield", -2, WRITE | DENYOOM)
            .doc(
                "3.2.0",
                "Performs arbitrary bitfield integer operations on strings.",
            )
            .handler(bitfield),
    );
    t.add(
        s("bitfield_ro", -2, READONLY | FAST)
            .doc(
                "6.0.0",
                "Performs arbitrary read-only bitfield integer operations on strings.",
            )
            .handler(bitfield_ro),
    );
}

// ---------------------------------------------------------------------------------------------
// Pure bit helpers (shared with the tests).
// ---------------------------------------------------------------------------------------------

/// The number of set bits in `b`, a 64-bit word at a time.
pub fn popcount(b: &[u8]) -> u64 {
    let mut chunks = b.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        n += u64::from_ne_bytes(c.try_into().unwrap()).count_ones() as u64;
    }
    n + chunks
        .remainder()
        .iter()
        .map(|x| x.count_ones() as u64)
        .sum::<u64>()
}

/// The position of the first bit equal to `bit` in `b` (Redis's `redisBitpos`). Looking for a
/// 0 the string counts as zero-padded on the right, so the answer is at most `8 * len`;
/// looking for a 1 that is not there gives -1.
pub fn first_bit(b: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0u8 } else { 0xff };
    let skip64 = if bit { 0u64 } else { u64::MAX };
    // Runs of all-0 (or all-1) bytes are skipped 32 bytes at a time, then 8 at a time.
    let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().unwrap()) ^ skip64;
    let mut i = b
        .chunks_exact(32)
        .position(|c| word(&c[..8]) | word(&c[8..16]) | word(&c[16..24]) | word(&c[24..]) != 0)
        .unwrap_or(b.len() / 32)
        * 32;
    while i + 8 <= b.len() && word(&b[i..i + 8]) == 0 {
        i += 8;
    }
    while i < b.len() {
        if b[i] != skip {
            let x = if bit { b[i] } else { !b[i] };
            return (i * 8) as i64 + x.leading_zeros() as i64;
        }
        i += 1;
    }
    if bit {
        -1
    } else {
        (b.len() * 8) as i64
    }
}

/// Reads `bits` bits at bit `offset` as an unsigned integer (bit 0 = MSB of byte 0). Bytes
/// past the end of `p` read as zero.
pub fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v: u64 = 0;
    for j in 0..bits as u64 {
        let o = offset + j;
        let byte = (o >> 3) as usize;
        let b = p.get(byte).map_or(0, |x| (x >> (7 - (o & 7))) & 1);
        v = (v << 1) | b as u64;
    }
    v
}

/// Reads `bits` bits at `offset` as a two's complement signed integer.
pub fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let u = get_unsigned(p, offset, bits);
    if bits < 64 && u & (1u64 << (bits - 1)) != 0 {
        (u | (u64::MAX << bits)) as i64
    } else {
        u as i64
    }
}

/// Writes the low `bits` bits of `value` at bit `offset`; `p` must be long enough.
pub fn set_unsigned(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let bitval = (value >> (bits as u64 - 1 - j)) & 1;
        let o = offset + j;
        let byte = (o >> 3) as usize;
        let sh = 7 - (o & 7);
        p[byte] = (p[byte] & !(1 << sh)) | ((bitval as u8) << sh);
    }
}

/// BITFIELD overflow behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Redis's `checkUnsignedBitfieldOverflow`: `Some(v)` when `value + incr` does not fit in
/// `bits` unsigned bits, with `v` the wrapped or saturated result (unused for FAIL).
pub fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max: u64 = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || {
        let mask = if bits == 64 { 0 } else { u64::MAX << bits };
        value.wrapping_add(incr as u64) & !mask
    };
    if value > max || (incr > 0 && incr > maxincr) {
        return Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        });
    }
    if incr < 0 && incr < minincr {
        return Some(match ow {
            Overflow::Wrap => wrap(),
            _ => 0,
        });
    }
    None
}

/// Redis's `checkSignedBitfieldOverflow`, the signed counterpart of [`unsigned_overflow`].
pub fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                (c | mask) as i64
            } else {
                (c & !mask) as i64
            }
        } else {
            c as i64
        }
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        return Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        });
    }
    if value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
        return Some(match ow {
            Overflow::Wrap => wrap(),
            _ => min,
        });
    }
    None
}

/// BITCOUNT over `p` with Redis's range rules; `range` is (start, end, is_bit).
pub fn count_range(p: &[u8], range: Option<(i64, i64, bool)>) -> i64 {
    let (mut start, mut end, isbit) = match range {
        None => (0, p.len() as i64 - 1, false),
        Some(r) => r,
    };
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if range.is_some() {
        if start < 0 && end < 0 && start > end {
            return 0;
        }
        let mut totlen = p.len() as i64;
        if isbit {
            totlen <<= 3;
        }
        if start < 0 {
            start += totlen;
        }
        if end < 0 {
            end += totlen;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= totlen {
            end = totlen - 1;
        }
        if isbit && start <= end {
            first_mask = !((1u16 << (8 - (start & 7))) - 1) as u8;
            last_mask = ((1u16 << (7 - (end & 7))) - 1) as u8;
            start >>= 3;
            end >>= 3;
        }
    }
    if start > end {
        return 0;
    }
    let (s, e) = (start as usize, end as usize);
    let mut n = popcount(&p[s..=e]) as i64;
    n -= (p[s] & first_mask).count_ones() as i64;
    n -= (p[e] & last_mask).count_ones() as i64;
    n
}

/// BITPOS over `p` with Redis's range rules. `start`/`end` as given (end None when omitted).
pub fn pos_range(p: &[u8], bit: bool, start: Option<i64>, end: Option<i64>, isbit: bool) -> i64 {
    let (mut s, mut e);
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    let end_given = end.is_some();
    match start {
        None => {
            s = 0;
            e = p.len() as i64 - 1;
        }
        Some(st) => {
            let mut totlen = p.len() as i64;
            s = st;
            e = match end {
                Some(e) => e,
                None if isbit => (totlen << 3) + 7,
                None => totlen - 1,
            };
            if isbit {
                totlen <<= 3;
            }
            if s < 0 {
                s += totlen;
            }
            if e < 0 {
                e += totlen;
            }
            s = s.max(0);
            e = e.max(0);
            if e >= totlen {
                e = totlen - 1;
            }
            if isbit && s <= e {
                first_mask = !((1u16 << (8 - (s & 7))) - 1) as u8;
                last_mask = ((1u16 << (7 - (e & 7))) - 1) as u8;
                s >>= 3;
                e >>= 3;
            }
        }
    }
    if s > e {
        return -1;
    }
    // Masks bits outside the range so they cannot match: forced to 0 when looking for a 1,
    // to 1 when looking for a 0.
    let fix = |x: u8, mask: u8| if bit { x & !mask } else { x | mask };
    let (s, e) = (s as usize, e as usize);
    let bytes = e - s + 1;
    let pos = if first_mask == 0 && last_mask == 0 {
        first_bit(&p[s..=e], bit)
    } else {
        // The edge bytes are searched as fixed-up copies, the bytes between in place.
        let found = |r: i64, n: usize| if bit { r != -1 } else { r != (n as i64) << 3 };
        let mut head = fix(p[s], first_mask);
        if s == e {
            head = fix(head, last_mask);
        }
        let r = first_bit(&[head], bit);
        if s == e || found(r, 1) {
            r
        } else {
            let mid = &p[s + 1..e];
            let r = first_bit(mid, bit);
            if found(r, mid.len()) {
                8 + r
            } else {
                let r = first_bit(&[fix(p[e], last_mask)], bit);
                if found(r, 1) {
                    (((e - s) as i64) << 3) + r
                } else if bit {
                    -1
                } else {
                    (bytes as i64) << 3
                }
            }
        }
    };
    if end_given && !bit && pos == (bytes as i64) << 3 {
        return -1;
    }
    if pos != -1 {
        pos + ((s as i64) << 3)
    } else {
        pos
    }
}

// ---------------------------------------------------------------------------------------------
// Commands.
// ---------------------------------------------------------------------------------------------

/// Parses a bit offset as Redis's `getBitOffsetFromArgument`: `#N` (when `bits` > 0) means
/// N * bits; negative offsets and offsets whose byte is beyond `proto-max-bulk-len` fail.
fn bit_offset(cx: &Ctx, arg: &[u8], bits: u32) -> Result<u64, CmdError> {
    let hash = bits > 0 && arg.first() == Some(&b'#');
    let n = tern_resp::request::parse_i64(if hash { &arg[1..] } else { arg })
        .ok_or(CmdError::Static(BIT_OFFSET))?;
    let n = if hash { n.wrapping_mul(bits as i64) } else { n };
    if n < 0 || (n as u64 >> 3) >= cx.srv.hot.proto_max_bulk_len.load(Relaxed) {
        return Err(BIT_OFFSET.into());
    }
    Ok(n as u64)
}

/// Makes `s` a raw string of at least `min_len` bytes (zero-padded) and returns its bytes and
/// whether it grew, as Redis's `dbUnshareStringValue` + `sdsgrowzero`.
fn make_writable(s: &mut Str, min_len: usize) -> (&mut [u8], bool) {
    if let Str::Int(i) = s {
        *s = Str::raw(SmallBytes::new(itoa::Buffer::new().format(*i).as_bytes()));
    }
    let Str::Bytes { data, raw } = s else {
        unreachable!("integers were converted above")
    };
    *raw = true;
    let grew = data.len() < min_len;
    if grew {
        let mut v = std::mem::take(data).into_vec();
        v.resize(min_len, 0);
        *data = SmallBytes::from(v);
    }
    (data.as_mut_slice(), grew)
}

/// The string in an entry, or WRONGTYPE.
fn as_str_mut(e: &mut Entry) -> Result<&mut Str, CmdError> {
    match &mut e.value {
        Value::Str(s) => Ok(s),
        #[allow(unreachable_patterns)]
        _ => Err(CmdError::Static(WRONG_TYPE)),
    }
}

/// Redis's `lookupStringForBitCommand`: finds or creates the string at `key`, raw and long
/// enough to address bit `maxbit`, then runs `f` on its bytes. Returns whether the key was
/// created or grew, and what `f` returned.
fn with_bits_for_write<R>(
    cx: &Ctx,
    lk: &mut Locked<'_>,
    h: u64,
    key: &[u8],
    maxbit: u64,
    f: impl FnOnce(&mut [u8], bool) -> R,
) -> Result<(bool, R), CmdError> {
    let db = cx.db();
    let need = (maxbit >> 3) as usize + 1;
    if let Some(e) = lk.lookup(db, h, key, cx.now_ms) {
        let (bytes, grew) = make_writable(as_str_mut(e)?, need);
        return Ok((grew, f(bytes, grew)));
    }
    let mut data = vec![0u8; need];
    let r = f(&mut data, true);
    lk.db(db).insert(
        h,
        key,
        Entry::new(Value::Str(Str::raw(SmallBytes::from(data)))),
    );
    Ok((true, r))
}

/// Calls `f` with the bytes of the string at `key` (None when missing), for reads.
fn with_bits_for_read<R>(
    cx: &Ctx,
    key: &[u8],
    f: impl FnOnce(Option<&[u8]>) -> R,
) -> Result<R, CmdError> {
    let (mut lk, h) = cx.lock_key(key);
    match lk.lookup(cx.db(), h, key, cx.now_ms) {
        None => {
            cx.hit(false);
            Ok(f(None))
        }
        Some(e) => {
            cx.hit(true);
            match &e.value {
                Value::Str(s) => Ok(s.with_bytes(|b| f(Some(b)))),
                #[allow(unreachable_patterns)]
                _ => Err(WRONG_TYPE.into()),
            }
        }
    }
}

/// SETBIT key offset value
fn setbit(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let off = bit_offset(cx, cx.arg(2), 0)?;
    let on = match tern_resp::request::parse_i64(cx.arg(3)) {
        Some(v @ (0 | 1)) => v == 1,
        _ => return Err(BIT_VALUE.into()),
    };
    let (mut lk, h) = cx.lock_key(key);
    let (dirty, (old, changed)) = with_bits_for_write(cx, &mut lk, h, key, off, |p, _| {
        let byte = (off >> 3) as usize;
        let mask = 1u8 << (7 - (off & 7));
        let old = p[byte] & mask != 0;
        if on {
            p[byte] |= mask;
        } else {
            p[byte] &= !mask;
        }
        (old, old != on)
    })?;
    if dirty || changed {
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.int(old as i64);
    Ok(())
}

/// GETBIT key offset
fn getbit(cx: &mut Ctx) -> CmdResult {
    let off = bit_offset(cx, cx.arg(2), 0)?;
    let v = with_bits_for_read(cx, cx.arg(1), |b| {
        b.and_then(|b| b.get((off >> 3) as usize))
            .is_some_and(|x| x & (1 << (7 - (off & 7))) != 0)
    })?;
    cx.out.int(v as i64);
    Ok(())
}

/// Parses BIT|BYTE.
fn bit_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if args::is(arg, "bit") {
        Ok(true)
    } else if args::is(arg, "byte") {
        Ok(false)
    } else {
        Err(SYNTAX.into())
    }
}

/// BITCOUNT key [start end [BYTE | BIT]]
fn bitcount(cx: &mut Ctx) -> CmdResult {
    let argc = cx.argc();
    let a = cx.args;
    // Redis 7.0 looks the key up (a missing key counts 0) before it parses the range.
    let r = with_bits_for_read(cx, a[1], |b| -> Result<i64, CmdError> {
        let Some(b) = b else { return Ok(0) };
        let range = match argc {
            2 => None,
            4 | 5 => {
                let start = args::int(a[2])?;
                let end = args::int(a[3])?;
                if start < 0 && end < 0 && start > end {
                    return Ok(0);
                }
                let isbit = if argc == 5 { bit_unit(a[4])? } else { false };
                Some((start, end, isbit))
            }
            _ => return Err(SYNTAX.into()),
        };
        Ok(count_range(b, range))
    })??;
    cx.out.int(r);
    Ok(())
}

/// BITPOS key bit [start [end [BYTE | BIT]]]
fn bitpos(cx: &mut Ctx) -> CmdResult {
    let argc = cx.argc();
    let a = cx.args;
    let bit = match args::int(a[2])? {
        0 => false,
        1 => true,
        _ => return Err("ERR The bit argument must be 1 or 0.".into()),
    };
    let r = with_bits_for_read(cx, a[1], |b| -> Result<i64, CmdError> {
        let Some(b) = b else {
            return Ok(if bit { -1 } else { 0 });
        };
        match argc {
            3 => Ok(pos_range(b, bit, None, None, false)),
            4..=6 => {
                let start = args::int(a[3])?;
                let isbit = if argc == 6 { bit_unit(a[5])? } else { false };
                let end = if argc >= 5 {
                    Some(args::int(a[4])?)
                } else {
                    None
                };
                Ok(pos_range(b, bit, Some(start), end, isbit))
            }
            _ => Err(SYNTAX.into()),
        }
    })??;
    cx.out.int(r);
    Ok(())
}

/// The BITOP operations.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Computes BITOP over `srcs` (missing keys are empty strings); the result is as long as the
/// longest input, shorter inputs counting as zero-padded.
pub fn bitop_compute(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut res = vec![0u8; maxlen];
    if maxlen == 0 {
        return res;
    }
    res[..srcs[0].len()].copy_from_slice(srcs[0]);
    match op {
        BitOp::Not => res.iter_mut().for_each(|x| *x = !*x),
        BitOp::And => {
            for s in &srcs[1..] {
                for (r, x) in res.iter_mut().zip(s.iter()) {
                    *r &= x;
                }
                res[s.len()..].fill(0);
            }
        }
        BitOp::Or => {
            for s in &srcs[1..] {
                for (r, x) in res.iter_mut().zip(s.iter()) {
                    *r |= x;
                }
            }
        }
        BitOp::Xor => {
            for s in &srcs[1..] {
                for (r, x) in res.iter_mut().zip(s.iter()) {
                    *r ^= x;
                }
            }
        }
    }
    res
}

/// BITOP <AND | OR | XOR | NOT> destkey key [key ...]
fn bitop(cx: &mut Ctx) -> CmdResult {
    let name = cx.arg(1);
    let op = if args::is(name, "and") {
        BitOp::And
    } else if args::is(name, "or") {
        BitOp::Or
    } else if args::is(name, "xor") {
        BitOp::Xor
    } else if args::is(name, "not") {
        BitOp::Not
    } else {
        return Err(SYNTAX.into());
    };
    if op == BitOp::Not && cx.argc() != 4 {
        return Err("ERR BITOP NOT must be called with a single source key.".into());
    }
    let db = cx.db();
    let keys = &cx.args[2..];
    let mut ml = cx.lock_keys(keys);
    // Copies of the sources: the destination may be one of them.
    let mut srcs: Vec<Vec<u8>> = Vec::with_capacity(keys.len() - 1);
    for (i, k) in keys.iter().enumerate().skip(1) {
        let h = ml.hashes[i];
        let found = ml.shard(h).lookup(db, h, k, cx.now_ms);
        cx.hit(found.is_some());
        match found {
            None => srcs.push(Vec::new()),
            Some(e) => match &e.value {
                Value::Str(s) => srcs.push(s.to_vec()),
                #[allow(unreachable_patterns)]
                _ => return Err(WRONG_TYPE.into()),
            },
        }
    }
    let refs: Vec<&[u8]> = srcs.iter().map(|v| v.as_slice()).collect();
    let res = bitop_compute(op, &refs);
    let n = res.len();
    let (dest, h) = (keys[0], ml.hashes[0]);
    let sh = ml.shard(h);
    if n > 0 {
        sh.db(db).insert(
            h,
            dest,
            Entry::new(Value::Str(Str::raw(SmallBytes::from(res)))),
        );
        ml.flush_expired();
        cx.propagate(ml.first(), cx.args);
    } else if sh.lookup(db, h, dest, cx.now_ms).is_some() {
        sh.db(db).remove(h, dest);
        ml.flush_expired();
        cx.propagate(ml.first(), cx.args);
    }
    cx.out.int(n as i64);
    Ok(())
}

/// One BITFIELD operation.
#[derive(Clone, Copy, Debug)]
enum FieldOp {
    Get,
    Set(i64),
    Incr(i64),
}

/// A parsed BITFIELD operation.
#[derive(Clone, Copy, Debug)]
struct Field {
    op: FieldOp,
    offset: u64,
    bits: u32,
    signed: bool,
    ow: Overflow,
}

/// Parses `i<1..64>` or `u<1..63>`.
fn bitfield_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(BITFIELD_TYPE.into()),
    };
    // Redis reads the digits as a C string: they stop at a NUL byte.
    let digits = &arg[1..];
    let digits = &digits[..digits.iter().position(|&c| c == 0).unwrap_or(digits.len())];
    match tern_resp::request::parse_i64(digits) {
        Some(n) if n >= 1 && ((signed && n <= 64) || (!signed && n <= 63)) => {
            Ok((signed, n as u32))
        }
        _ => Err(BITFIELD_TYPE.into()),
    }
}

/// BITFIELD key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset
/// value | INCRBY encoding offset increment> [GET encoding offset | ...]]
fn bitfield(cx: &mut Ctx) -> CmdResult {
    bitfield_generic(cx, false)
}

/// BITFIELD_RO key [GET encoding offset [GET encoding offset ...]]
fn bitfield_ro(cx: &mut Ctx) -> CmdResult {
    bitfield_generic(cx, true)
}

fn bitfield_generic(cx: &mut Ctx, ro: bool) -> CmdResult {
    let a = cx.args;
    let mut ops: Vec<Field> = Vec::new();
    let mut ow = Overflow::Wrap;
    let mut readonly = true;
    let mut highest: u64 = 0;
    let mut j = 2;
    while j < a.len() {
        let rem = a.len() - j - 1;
        let sub = a[j];
        let op = if args::is(sub, "get") && rem >= 2 {
            FieldOp::Get
        } else if args::is(sub, "set") && rem >= 3 {
            FieldOp::Set(0)
        } else if args::is(sub, "incrby") && rem >= 3 {
            FieldOp::Incr(0)
        } else if args::is(sub, "overflow") && rem >= 1 {
            let t = a[j + 1];
            ow = if args::is(t, "wrap") {
                Overflow::Wrap
            } else if args::is(t, "sat") {
                Overflow::Sat
            } else if args::is(t, "fail") {
                Overflow::Fail
            } else {
                return Err("ERR Invalid OVERFLOW type specified".into());
            };
            j += 2;
            continue;
        } else {
            return Err(SYNTAX.into());
        };
        let (signed, bits) = bitfield_type(a[j + 1])?;
        let offset = bit_offset(cx, a[j + 2], bits)?;
        let op = match op {
            FieldOp::Get => op,
            FieldOp::Set(_) | FieldOp::Incr(_) => {
                readonly = false;
                highest = highest.max(offset + bits as u64 - 1);
                let v = args::int(a[j + 3])?;
                if matches!(op, FieldOp::Set(_)) {
                    FieldOp::Set(v)
                } else {
                    FieldOp::Incr(v)
                }
            }
        };
        ops.push(Field {
            op,
            offset,
            bits,
            signed,
            ow,
        });
        j += if matches!(op, FieldOp::Get) { 3 } else { 4 };
    }

    let key = a[1];
    if readonly {
        let vals = with_bits_for_read(cx, key, |b| {
            let b = b.unwrap_or(&[]);
            ops.iter()
                .map(|f| {
                    if f.signed {
                        get_signed(b, f.offset, f.bits)
                    } else {
                        get_unsigned(b, f.offset, f.bits) as i64
                    }
                })
                .collect::<Vec<i64>>()
        })?;
        cx.out.array(vals.len());
        for v in vals {
            cx.out.int(v);
        }
        return Ok(());
    }
    if ro {
        return Err("ERR BITFIELD_RO only supports the GET subcommand".into());
    }
    let (mut lk, h) = cx.lock_key(key);
    let (_, (replies, changes)) = with_bits_for_write(cx, &mut lk, h, key, highest, |p, dirty| {
        let mut changes = 0u64;
        let mut out: Vec<Option<i64>> = Vec::with_capacity(ops.len());
        for f in &ops {
            let (arg, incr) = match f.op {
                FieldOp::Get => {
                    out.push(Some(if f.signed {
                        get_signed(p, f.offset, f.bits)
                    } else {
                        get_unsigned(p, f.offset, f.bits) as i64
                    }));
                    continue;
                }
                FieldOp::Set(v) => (v, false),
                FieldOp::Incr(v) => (v, true),
            };
            // Returns (old, new, reply, overflowed) in unsigned bit patterns.
            let (old, new, reply, overflow) = if f.signed {
                let old = get_signed(p, f.offset, f.bits);
                if incr {
                    let o = signed_overflow(old, arg, f.bits, f.ow);
                    let new = o.unwrap_or(old.wrapping_add(arg));
                    (old as u64, new as u64, new, o.is_some())
                } else {
                    let o = signed_overflow(arg, 0, f.bits, f.ow);
                    (old as u64, o.unwrap_or(arg) as u64, old, o.is_some())
                }
            } else {
                let old = get_unsigned(p, f.offset, f.bits);
                if incr {
                    let o = unsigned_overflow(old, arg, f.bits, f.ow);
                    let new = o.unwrap_or(old.wrapping_add(arg as u64));
                    (old, new, new as i64, o.is_some())
                } else {
                    let o = unsigned_overflow(arg as u64, 0, f.bits, f.ow);
                    (old, o.unwrap_or(arg as u64), old as i64, o.is_some())
                }
            };
            if overflow && f.ow == Overflow::Fail {
                out.push(None);
            } else {
                out.push(Some(reply));
                set_unsigned(p, f.offset, f.bits, new);
                if dirty || old != new {
                    changes += 1;
                }
            }
        }
        (out, changes)
    })?;
    cx.out.array(replies.len());
    for r in replies {
        match r {
            Some(v) => cx.out.int(v),
            None => cx.out.null(),
        }
    }
    // Redis counts a change per op that wrote a different value, or any written op when the
    // string was created or grew; it propagates only then. So FAIL-only calls on a missing
    // key create it without propagating, as in Redis.
    if changes > 0 {
        cx.propagate(&mut lk, cx.args);
        // Redis adds one to `dirty` per change (INFO rdb_changes_since_last_save).
        cx.srv.dirty.fetch_add(changes - 1, Relaxed);
    }
    Ok(())
}
