//! HyperLogLog commands (Redis's hyperloglog.c): PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST.
//!
//! An HLL is a plain string in Redis's exact representation, so values move between tern and
//! Redis (GET/SET, DUMP/RESTORE, replication) unchanged:
//!
//! ```text
//! +------+---+-----+----------+-----------------------------------------+
//! | HYLL | E | N/U | Cardin.  | registers: dense (16384 x 6 bits) or sparse |
//! +------+---+-----+----------+-----------------------------------------+
//! ```
//!
//! `E` is 0 (dense) or 1 (sparse); `Cardin.` caches the last PFCOUNT result, little endian,
//! with its top bit set when stale. Dense registers are packed 6 bits each, LSB first. The
//! sparse form is a run-length code of ZERO (`00xxxxxx`, 1..64 zero registers), XZERO
//! (`01xxxxxx yyyyyyyy`, 1..16384 zero registers) and VAL (`1vvvvvxx`, 1..4 registers of value
//! 1..32) opcodes. A new HLL is sparse; it becomes dense when a register needs a value over 32
//! or the string would outgrow `hll-sparse-max-bytes`. Elements are hashed with MurmurHash64A
//! (seed 0xadc83b19): the low 14 bits pick the register, the run of zeros above them (plus one)
//! is the candidate value. Counting uses Ertl's improved estimator, as Redis 7.0 does.
//!
//! Propagated forms: PFADD, PFMERGE and PFCOUNT (when it refreshed the cached cardinality,
//! which changes the stored bytes) as sent; PFDEBUG GETREG/TODENSE when they converted the
//! value to dense.

use crate::ctx::Ctx;
use crate::errors::{CmdError, CmdResult, WRONG_TYPE};
use crate::table::{flags::*, CommandTable, Group, Spec};
use tern_keyspace::value::SmallBytes;
use tern_keyspace::{Entry, Str, Value};

#[cfg(test)]
#[path = "hll_tests.rs"]
mod tests;

/// A string that is not an HLL given to an HLL command.
pub const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// A sparse HLL whose opcodes do not add up to 16384 registers.
pub const INVALID_HLL: &str = "INVALIDOBJ Corrupted HLL object detected";

/// Bits of the hash that select the register.
const P: u32 = 14;
/// Bits of the hash left for the zero run.
const Q: u32 = 64 - P;
/// The number of registers.
pub const REGISTERS: usize = 1 << P;
/// Bits per dense register.
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Header size.
pub const HDR: usize = 16;
/// The size of a dense HLL string.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
/// Encoding byte values.
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;

const XZERO_BIT: u8 = 0x40;
const VAL_BIT: u8 = 0x80;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// Registers the HyperLogLog commands.
pub fn register(t: &mut CommandTable) {
    let s = |name, arity, flags| {
        Spec::new(name, arity, flags)
            .group(Group::HyperLogLog)
            .keys(1, 1, 1)
    };
    t.add(
        s("pfadd", -2, WRITE | DENYOOM | FAST)
            .doc(
                "2.8.9",
                "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.",
            )
            .handler(pfadd),
    );
    t.add(
        s("pfcount", -2, READONLY)
            .keys(1, -1, 1)
            .doc("2.8.9", "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).")
            .handler(pfcount),
    );
    t.add(
        s("pfmerge", -2, WRITE | DENYOOM)
            .keys(1, -1, 1)
            .doc(
                "2.8.9",
                "Merges one or more HyperLogLog values into a single key.",
            )
            .handler(pfmerge),
    );
    t.add(
        s("pfdebug", 3, WRITE | DENYOOM | ADMIN)
            .keys(2, 2, 1)
            .doc(
                "2.8.9",
                "Internal commands for debugging HyperLogLog values.",
            )
            .handler(pfdebug),
    );
    t.add(
        s("pfselftest", 1, ADMIN)
            .keys(0, 0, 0)
            .doc(
                "2.8.9",
                "An internal command for testing HyperLogLog values.",
            )
            .handler(pfselftest),
    );
}

// ---------------------------------------------------------------------------------------------
// The data structure (pure functions on the string's bytes).
// ---------------------------------------------------------------------------------------------

/// A sparse HLL whose opcodes do not describe exactly 16384 registers, or run past the last
/// ([`walk_sparse`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash2, 64-bit version, reading 8-byte blocks little endian as Redis does on every
/// architecture.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().unwrap());
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        for (i, &b) in rest.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element maps to and the length of its `000..1` pattern (1..=Q+1).
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Dense register `i` of the register bytes `r`.
#[inline]
pub fn dense_get(r: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = r[byte] as u16;
    let b1 = *r.get(byte + 1).unwrap_or(&0) as u16;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u16) as u8
}

/// Sets dense register `i` of `r` to `v`.
#[inline]
pub fn dense_set(r: &mut [u8], i: usize, v: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = v as u16;
    r[byte] &= !((REGISTER_MAX as u16) << fb) as u8;
    r[byte] |= (v << fb) as u8;
    if byte + 1 < r.len() {
        let fb8 = 8 - fb;
        r[byte + 1] &= !((REGISTER_MAX as u16) >> fb8) as u8;
        r[byte + 1] |= (v >> fb8) as u8;
    }
}

/// A new, empty (sparse) HLL: header plus XZERO:16384, cached cardinality 0 (valid).
pub fn new_hll() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let l = XZERO_MAX_LEN - 1;
    v.push((l >> 8) as u8 | XZERO_BIT);
    v.push((l & 0xff) as u8);
    v
}

/// True if `b` passes Redis's `isHLLObjectOrReply` checks (magic, encoding, dense length).
pub fn is_hll(b: &[u8]) -> bool {
    b.len() >= HDR
        && &b[..4] == b"HYLL"
        && b[4] <= SPARSE
        && (b[4] != DENSE || b.len() == DENSE_SIZE)
}

/// Marks the cached cardinality stale.
#[inline]
pub fn invalidate_cache(b: &mut [u8]) {
    b[15] |= 0x80;
}

/// The cached cardinality, if valid.
pub fn cached_card(b: &[u8]) -> Option<u64> {
    (b[15] & 0x80 == 0).then(|| u64::from_le_bytes(b[8..16].try_into().unwrap()))
}

/// One sparse opcode: (registers covered, value, bytes used).
#[inline]
fn sparse_op(s: &[u8], p: usize) -> (usize, u8, usize) {
    let b = s[p];
    if b & 0xc0 == 0 {
        ((b & 0x3f) as usize + 1, 0, 1)
    } else if b & 0xc0 == XZERO_BIT {
        let lo = *s.get(p + 1).unwrap_or(&0) as usize;
        ((((b & 0x3f) as usize) << 8 | lo) + 1, 0, 2)
    } else {
        ((b & 0x3) as usize + 1, ((b >> 2) & 0x1f) + 1, 1)
    }
}

fn val_op(v: u8, len: usize) -> u8 {
    ((v - 1) << 2 | (len as u8 - 1)) | VAL_BIT
}

fn push_zeros(out: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        let l = len - 1;
        out.push((l >> 8) as u8 | XZERO_BIT);
        out.push((l & 0xff) as u8);
    } else {
        out.push((len - 1) as u8);
    }
}

/// Walks the opcodes of the sparse HLL `b`, calling `f(first register, run, value)` for each.
/// Err if the runs do not cover exactly 16384 registers, or if one would go past the last
/// register even where the total comes out right: Redis's walks (since the CVE-2025-32023 fix,
/// in Debian's 7.0.15 too) stop and call the HLL corrupt at the first opcode that overflows.
fn walk_sparse(b: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    let mut p = HDR;
    while p < b.len() {
        let (run, val, n) = sparse_op(b, p);
        if idx + run > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, run, val);
        idx += run;
        p += n;
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Converts a sparse HLL to dense (Redis's `hllSparseToDense`), keeping the header (and so
/// the cached cardinality). None if the sparse HLL is corrupt ([`walk_sparse`]).
pub fn sparse_to_dense(s: &[u8]) -> Option<Vec<u8>> {
    let mut d = vec![0u8; DENSE_SIZE];
    d[..HDR].copy_from_slice(&s[..HDR]);
    d[4] = DENSE;
    let regs = &mut d[HDR..];
    walk_sparse(s, |first, run, val| {
        if val > 0 {
            for i in first..first + run {
                dense_set(regs, i, val);
            }
        }
    })
    .ok()?;
    Some(d)
}

/// Raises register `index` to `count` in the HLL `b` (either encoding), as Redis's
/// `hllDenseSet`/`hllSparseSet`: Ok(true) if it changed, Err on a corrupt sparse HLL. A sparse
/// HLL is promoted to dense when `count` > 32 or the update would make it longer than
/// `sparse_max`.
pub fn set_register(
    b: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    if b[4] == DENSE {
        return Ok(dense_raise(&mut b[HDR..], index, count));
    }
    if count > VAL_MAX_VALUE {
        return promote(b, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let end = b.len();
    let mut p = HDR;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    while p < end {
        let (run, _, n) = sparse_op(b, p);
        span = run;
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += n;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let (runlen, curval, oplen) = sparse_op(b, p);
    let is_val = b[p] & VAL_BIT != 0;
    let is_zero = b[p] & 0xc0 == 0;
    // Step 2: the trivial in-place updates.
    if is_val {
        if curval >= count {
            return Ok(false);
        }
        if runlen == 1 {
            b[p] = val_op(count, 1);
            merge_vals(b, prev);
            return Ok(true);
        }
    }
    if is_zero && runlen == 1 {
        b[p] = val_op(count, 1);
        merge_vals(b, prev);
        return Ok(true);
    }
    // The general case: split the opcode into up to three.
    let last = first + span - 1;
    let mut seq: Vec<u8> = Vec::with_capacity(5);
    if !is_val {
        if index != first {
            push_zeros(&mut seq, index - first);
        }
        seq.push(val_op(count, 1));
        if index != last {
            push_zeros(&mut seq, last - index);
        }
    } else {
        if index != first {
            seq.push(val_op(curval, index - first));
        }
        seq.push(val_op(count, 1));
        if index != last {
            seq.push(val_op(curval, last - index));
        }
    }
    // Step 3: substitute, unless that outgrows the sparse limit.
    if seq.len() > oplen && b.len() + seq.len() - oplen > sparse_max {
        return promote(b, index, count);
    }
    b.splice(p..p + oplen, seq);
    merge_vals(b, prev);
    Ok(true)
}

/// Step 4 of Redis's `hllSparseSet`: merges adjacent VAL opcodes of equal value, scanning up
/// to 5 opcodes from `prev` (or the start).
fn merge_vals(b: &mut Vec<u8>, prev: Option<usize>) {
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < b.len() && scan > 0 {
        scan -= 1;
        if b[p] & 0xc0 == XZERO_BIT {
            p += 2;
            continue;
        } else if b[p] & 0xc0 == 0 {
            p += 1;
            continue;
        }
        if p + 1 < b.len() && b[p + 1] & VAL_BIT != 0 {
            let (l1, v1, _) = sparse_op(b, p);
            let (l2, v2, _) = sparse_op(b, p + 1);
            if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                b[p + 1] = val_op(v1, l1 + l2);
                b.remove(p);
                // Retry at the same place: the merged opcode may merge again.
                continue;
            }
        }
        p += 1;
    }
    invalidate_cache(b);
}

fn dense_raise(r: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_get(r, index) {
        dense_set(r, index, count);
        true
    } else {
        false
    }
}

fn promote(b: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    let mut d = sparse_to_dense(b).ok_or(Corrupt)?;
    dense_raise(&mut d[HDR..], index, count);
    *b = d;
    Ok(true)
}

/// Adds an element; Ok(true) if a register changed.
pub fn add(b: &mut Vec<u8>, ele: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    set_register(b, index, count, sparse_max)
}

/// Raises `max[i]` to register i of the HLL `b` (Redis's `hllMerge`); Err if a sparse HLL is
/// corrupt.
pub fn merge_into(max: &mut [u8; REGISTERS], b: &[u8]) -> Result<(), Corrupt> {
    if b[4] == DENSE {
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(&b[HDR..], i));
        }
        return Ok(());
    }
    walk_sparse(b, |first, run, val| {
        if val > 0 {
            for m in &mut max[first..first + run] {
                *m = (*m).max(val);
            }
        }
    })
}

/// The register histogram of an HLL; Err for a corrupt sparse HLL ([`walk_sparse`]).
pub fn histogram(b: &[u8]) -> Result<[u32; 64], Corrupt> {
    let mut h = [0u32; 64];
    let r = &b[HDR..];
    if b[4] == DENSE {
        for chunk in r[..REGISTERS * BITS / 8].chunks_exact(3) {
            let (x, y, z) = (chunk[0], chunk[1], chunk[2]);
            h[(x & 63) as usize] += 1;
            h[((x >> 6 | y << 2) & 63) as usize] += 1;
            h[((y >> 4 | z << 4) & 63) as usize] += 1;
            h[(z >> 2) as usize] += 1;
        }
        return Ok(h);
    }
    walk_sparse(b, |_, run, val| h[val as usize] += run as u32)?;
    Ok(h)
}

/// The histogram of raw (one byte each) registers.
pub fn raw_histogram(max: &[u8; REGISTERS]) -> [u32; 64] {
    let mut h = [0u32; 64];
    for &v in max.iter() {
        h[(v & 63) as usize] += 1;
    }
    h
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let zp = z;
        z += x * y;
        y += y;
        if zp == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let zp = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if zp == z {
            return z / 3.0;
        }
    }
}

/// The estimated cardinality from a register histogram (Ertl's estimator, as Redis's
/// `hllCount`).
pub fn estimate(h: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

// ---------------------------------------------------------------------------------------------
// Commands.
// ---------------------------------------------------------------------------------------------

/// `hll-sparse-max-bytes`.
fn sparse_max(cx: &Ctx) -> usize {
    cx.srv
        .config
        .read()
        .get_i64("hll-sparse-max-bytes")
        .unwrap_or(3000)
        .max(0) as usize
}

/// Checks that an entry holds an HLL (WRONGTYPE texts as Redis's `isHLLObjectOrReply`).
fn check_hll(e: &Entry) -> Result<(), CmdError> {
    match &e.value {
        Value::Str(Str::Bytes { data, .. }) if is_hll(data) => Ok(()),
        Value::Str(_) => Err(NOT_HLL.into()),
        #[allow(unreachable_patterns)]
        _ => Err(WRONG_TYPE.into()),
    }
}

/// Takes the bytes of an HLL entry out (zero-copy when on the heap) to modify them; the
/// caller puts them back with [`put_back`].
fn take_bytes(e: &mut Entry) -> Vec<u8> {
    match &mut e.value {
        Value::Str(Str::Bytes { data, .. }) => std::mem::take(data).into_vec(),
        _ => unreachable!("checked by check_hll"),
    }
}

/// Stores modified HLL bytes back, as a raw string (Redis unshares HLLs it writes to).
fn put_back(e: &mut Entry, b: Vec<u8>) {
    e.value = Value::Str(Str::raw(SmallBytes::from(b)));
}

/// PFADD key [element [element ...]]
fn pfadd(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let db = cx.db();
    let max = sparse_max(cx);
    let (mut lk, h) = cx.lock_key(key);
    let mut updated = 0u64;
    let mut hll = match lk.lookup(db, h, key, cx.now_ms) {
        None => {
            updated += 1;
            new_hll()
        }
        Some(e) => {
            check_hll(e)?;
            take_bytes(e)
        }
    };
    let mut corrupt = false;
    for ele in &cx.args[2..] {
        match add(&mut hll, ele, max) {
            Ok(true) => updated += 1,
            Ok(false) => {}
            Err(Corrupt) => {
                corrupt = true;
                break;
            }
        }
    }
    if updated > 0 && !corrupt {
        invalidate_cache(&mut hll);
    }
    match lk.lookup(db, h, key, cx.now_ms) {
        Some(e) => put_back(e, hll),
        None => {
            lk.db(db).insert(
                h,
                key,
                Entry::new(Value::Str(Str::raw(SmallBytes::from(hll)))),
            );
        }
    }
    if corrupt {
        return Err(INVALID_HLL.into());
    }
    if updated > 0 {
        cx.propagate(&mut lk, cx.args);
        cx.srv
            .dirty
            .fetch_add(updated - 1, std::sync::atomic::Ordering::Relaxed);
    }
    cx.out.int((updated > 0) as i64);
    Ok(())
}

/// PFCOUNT key [key ...]
fn pfcount(cx: &mut Ctx) -> CmdResult {
    let db = cx.db();
    if cx.argc() > 2 {
        // The union of several HLLs: merged into one-byte registers, nothing is cached.
        let keys = &cx.args[1..];
        let mut ml = cx.lock_keys(keys);
        let mut max = Box::new([0u8; REGISTERS]);
        for (i, k) in keys.iter().enumerate() {
            let h = ml.hashes[i];
            let Some(e) = ml.shard(h).lookup(db, h, k, cx.now_ms) else {
                cx.hit(false);
                continue;
            };
            cx.hit(true);
            check_hll(e)?;
            let Value::Str(s) = &e.value else {
                unreachable!()
            };
            s.with_bytes(|b| merge_into(&mut max, b))
                .map_err(|Corrupt| CmdError::Static(INVALID_HLL))?;
        }
        cx.out.int(estimate(&raw_histogram(&max)) as i64);
        return Ok(());
    }
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let Some(e) = lk.lookup(db, h, key, cx.now_ms) else {
        cx.hit(false);
        cx.out.int(0);
        return Ok(());
    };
    cx.hit(true);
    check_hll(e)?;
    let mut b = take_bytes(e);
    let (card, refreshed) = match cached_card(&b) {
        Some(c) => (c, false),
        None => match histogram(&b) {
            Ok(hist) => {
                let c = estimate(&hist);
                b[8..16].copy_from_slice(&c.to_le_bytes());
                (c, true)
            }
            Err(Corrupt) => {
                put_back(e, b);
                return Err(INVALID_HLL.into());
            }
        },
    };
    // Redis unshares the value (making it raw) even when the cache was valid.
    put_back(e, b);
    if refreshed {
        // The cached cardinality changed the stored bytes: replicas must see it too.
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.int(card as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey [sourcekey ...]]
fn pfmerge(cx: &mut Ctx) -> CmdResult {
    let db = cx.db();
    let sparse_limit = sparse_max(cx);
    let keys = &cx.args[1..];
    let mut ml = cx.lock_keys(keys);
    let mut max = Box::new([0u8; REGISTERS]);
    let mut use_dense = false;
    // The destination is a source too (it comes first).
    for (i, k) in keys.iter().enumerate() {
        let h = ml.hashes[i];
        let Some(e) = ml.shard(h).lookup(db, h, k, cx.now_ms) else {
            cx.hit(false);
            continue;
        };
        cx.hit(true);
        check_hll(e)?;
        let Value::Str(s) = &e.value else {
            unreachable!()
        };
        s.with_bytes(|b| {
            use_dense |= b[4] == DENSE;
            merge_into(&mut max, b)
        })
        .map_err(|Corrupt| CmdError::Static(INVALID_HLL))?;
    }
    let (dest, h) = (keys[0], ml.hashes[0]);
    let sh = ml.shard(h);
    let mut b = match sh.lookup(db, h, dest, cx.now_ms) {
        Some(e) => take_bytes(e),
        None => new_hll(),
    };
    let result = (|| {
        if use_dense && b[4] == SPARSE {
            b = sparse_to_dense(&b).ok_or(Corrupt)?;
        }
        for (j, &m) in max.iter().enumerate() {
            if m != 0 {
                // Redis ignores a failure here (the sources were validated above).
                let _ = set_register(&mut b, j, m, sparse_limit);
            }
        }
        invalidate_cache(&mut b);
        Ok::<(), Corrupt>(())
    })();
    match sh.lookup(db, h, dest, cx.now_ms) {
        Some(e) => put_back(e, b),
        None => {
            sh.db(db).insert(
                h,
                dest,
                Entry::new(Value::Str(Str::raw(SmallBytes::from(b)))),
            );
        }
    }
    result.map_err(|Corrupt| CmdError::Static(INVALID_HLL))?;
    ml.flush_expired();
    cx.propagate(ml.first(), cx.args);
    cx.out.ok();
    Ok(())
}

/// PFDEBUG <GETREG | DECODE | ENCODING | TODENSE> key
fn pfdebug(cx: &mut Ctx) -> CmdResult {
    let sub = cx.arg(1);
    let key = cx.arg(2);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(e) = lk.lookup(db, h, key, cx.now_ms) else {
        return Err("ERR The specified key does not exist".into());
    };
    check_hll(e)?;
    let mut b = take_bytes(e);
    let is = |w: &str| sub.eq_ignore_ascii_case(w.as_bytes());
    let mut converted = false;
    let mut res: CmdResult = Ok(());
    if is("getreg") || is("todense") {
        if b[4] == SPARSE {
            match sparse_to_dense(&b) {
                Some(d) => {
                    b = d;
                    converted = true;
                }
                None => res = Err(INVALID_HLL.into()),
            }
        }
        if res.is_ok() {
            if is("getreg") {
                cx.out.array(REGISTERS);
                for i in 0..REGISTERS {
                    cx.out.int(dense_get(&b[HDR..], i) as i64);
                }
            } else {
                cx.out.int(converted as i64);
            }
        }
    } else if is("decode") {
        if b[4] != SPARSE {
            res = Err("ERR HLL encoding is not sparse".into());
        } else {
            let mut text = String::new();
            let mut p = HDR;
            while p < b.len() {
                let (run, val, n) = sparse_op(&b, p);
                if val > 0 {
                    text.push_str(&format!("v:{val},{run} "));
                } else if n == 2 {
                    text.push_str(&format!("Z:{run} "));
                } else {
                    text.push_str(&format!("z:{run} "));
                }
                p += n;
            }
            cx.out.bulk(text.trim_matches(' ').as_bytes());
        }
    } else if is("encoding") {
        cx.out
            .simple(if b[4] == DENSE { "dense" } else { "sparse" });
    } else {
        res = Err(CmdError::Msg(format!(
            "ERR Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(sub)
        )));
    }
    if let Some(e) = lk.lookup(db, h, key, cx.now_ms) {
        put_back(e, b);
    }
    res?;
    if converted {
        cx.propagate(&mut lk, cx.args);
    }
    Ok(())
}

/// PFSELFTEST: checks register access and the estimator's error on both encodings.
fn pfselftest(cx: &mut Ctx) -> CmdResult {
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut bytes = vec![0u8; REGISTERS];
    let mut seed: u64 = cx.now_ms as u64 | 1;
    let mut rnd = move || {
        // xorshift64*: any decent generator will do for this test.
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    for _ in 0..100 {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (rnd() & REGISTER_MAX as u64) as u8;
            dense_set(&mut dense[HDR..], i, *b);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let v = dense_get(&dense[HDR..], i);
            if v != b {
                return Err(CmdError::Msg(format!(
                    "TESTFAILED Register {i} should be {b} but is {v}"
                )));
            }
        }
    }
    dense[HDR..].fill(0);
    let mut sparse = new_hll();
    let max = sparse_max(cx);
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint = 1u64;
    let base = rnd();
    for j in 1..=1_000_000u64 {
        let ele = (j ^ base).to_le_bytes();
        let _ = add(&mut dense, &ele, max);
        let _ = add(&mut sparse, &ele, max);
        if j == checkpoint {
            if (j as usize) < max / 2 && sparse[4] != SPARSE {
                return Err("TESTFAILED sparse encoding not used".into());
            }
            let cd = estimate(&histogram(&dense).unwrap_or([0; 64]));
            let cs = estimate(&histogram(&sparse).unwrap_or([0; 64]));
            if cd != cs {
                return Err("TESTFAILED dense/sparse disagree".into());
            }
            let abserr = (checkpoint as i64 - cd as i64).unsigned_abs();
            let maxerr = if j == 10 {
                1
            } else {
                (relerr * 6.0 * checkpoint as f64).ceil() as u64
            };
            if abserr > maxerr {
                return Err(CmdError::Msg(format!(
                    "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
                )));
            }
            checkpoint *= 10;
        }
    }
    cx.out.ok();
    Ok(())
}
