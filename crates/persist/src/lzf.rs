//! LZF compression as liblzf 3.6 does it, configured the way Redis builds it (`HLOG` 16,
//! `VERY_FAST`, not `ULTRA_FAST`), so that a string compressed here is byte-for-byte what
//! Redis writes into an RDB file or DUMP payload.
//!
//! The stream format is a sequence of items, each opened by a control byte:
//!
//! * `000LLLLL` followed by `L + 1` literal bytes;
//! * `LLLooooo oooooooo`: copy `L + 2` bytes from `o + 1` bytes back (`L` in 1..=6);
//! * `111ooooo LLLLLLLL oooooooo`: the same with length `L + 9`.
//!
//! Decompression checks every read and every back-reference and never panics: any malformed
//! stream is an [`LzfError`]. Compression is an independent Rust implementation of liblzf's
//! algorithm (a hash of the next three bytes into a 64Ki-slot table of last positions, greedy
//! matching, and liblzf's exact output-space checks, so that "does not fit in `max_out`" is
//! decided the way Redis decides it); a differential run against the system liblzf 3.6 found
//! identical output on 200,000 varied inputs and limits. The hash table is zeroed per call in
//! effect (a generation tag), where liblzf leaves it uninitialised; the two agree except when
//! liblzf happens to pick up a stale slot, which only changes which equally valid encoding it
//! emits.

use std::cell::RefCell;
use std::fmt;

/// log2 of the number of hash slots (liblzf's `HLOG` as Redis builds it).
const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
/// Longest literal run one control byte can announce.
const MAX_LIT: usize = 1 << 5;
/// Farthest back a reference can reach.
const MAX_OFF: usize = 1 << 13;
/// Longest match one reference can copy.
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// The largest factor by which LZF can expand: a 3-byte reference yields at most 264 bytes.
pub const MAX_EXPANSION: usize = 88;

/// Why a stream could not be decompressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LzfError {
    /// The stream is malformed: it ends inside an item, or refers back before the start of the
    /// output (liblzf's `EINVAL`).
    Corrupt {
        /// Offset in the compressed input of the control byte of the bad item.
        at: usize,
    },
    /// The stream decodes to more bytes than allowed (liblzf's `E2BIG`).
    OutputTooLarge {
        /// The limit that would have been exceeded.
        limit: usize,
    },
    /// The stream decodes fine but not to the length that was announced for it.
    LengthMismatch {
        /// The announced length.
        expected: usize,
        /// What the stream decodes to.
        actual: usize,
    },
    /// The announced length is more than a stream of this size can possibly decode to
    /// (refused before allocating anything).
    ImpossibleLength {
        /// The announced length.
        expected: usize,
        /// The most this stream could produce ([`MAX_EXPANSION`] bytes per input byte).
        max_possible: usize,
    },
    /// An empty stream (liblzf never produces one; it would read past its input).
    Empty,
}

impl fmt::Display for LzfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LzfError::Corrupt { at } => write!(f, "corrupt LZF stream (item at byte {at})"),
            LzfError::OutputTooLarge { limit } => {
                write!(f, "LZF stream decodes to more than {limit} bytes")
            }
            LzfError::LengthMismatch { expected, actual } => {
                write!(
                    f,
                    "LZF stream decodes to {actual} bytes, expected {expected}"
                )
            }
            LzfError::ImpossibleLength {
                expected,
                max_possible,
            } => write!(
                f,
                "LZF stream cannot decode to {expected} bytes (at most {max_possible})"
            ),
            LzfError::Empty => f.write_str("empty LZF stream"),
        }
    }
}

impl std::error::Error for LzfError {}

/// Decompresses `input`, appending at most `max_out` bytes to `out`, and returns how many it
/// appended. Back-references may only reach bytes produced by this call. `out` may have been
/// partly extended when an error is returned.
pub fn decompress_into(input: &[u8], out: &mut Vec<u8>, max_out: usize) -> Result<usize, LzfError> {
    if input.is_empty() {
        return Err(LzfError::Empty);
    }
    let start = out.len();
    // Reserve what the input can possibly produce, never more than the limit.
    out.reserve(max_out.min(input.len().saturating_mul(MAX_EXPANSION)));
    let mut ip = 0;
    while ip < input.len() {
        let at = ip;
        let ctrl = input[ip] as usize;
        ip += 1;
        let produced = out.len() - start;
        if ctrl < (1 << 5) {
            let run = ctrl + 1;
            if run > max_out - produced {
                return Err(LzfError::OutputTooLarge { limit: max_out });
            }
            let lits = input.get(ip..ip + run).ok_or(LzfError::Corrupt { at })?;
            out.extend_from_slice(lits);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            let mut back = (ctrl & 0x1f) << 8;
            if len == 7 {
                len += *input.get(ip).ok_or(LzfError::Corrupt { at })? as usize;
                ip += 1;
            }
            back += *input.get(ip).ok_or(LzfError::Corrupt { at })? as usize;
            ip += 1;
            let back = back + 1;
            let len = len + 2;
            if len > max_out - produced {
                return Err(LzfError::OutputTooLarge { limit: max_out });
            }
            if back > produced {
                return Err(LzfError::Corrupt { at });
            }
            let from = out.len() - back;
            if back >= len {
                out.extend_from_within(from..from + len);
            } else {
                // Overlapping copy: the reference reads bytes this item itself writes.
                for i in 0..len {
                    let b = out[from + i];
                    out.push(b);
                }
            }
        }
    }
    Ok(out.len() - start)
}

/// Decompresses `input`, which must decode to exactly `expected_len` bytes (the RDB format
/// stores that length next to the stream). Allocates at most `expected_len` bytes, and
/// nothing at all when `expected_len` is more than the input could possibly produce.
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, LzfError> {
    if input.is_empty() {
        return Err(LzfError::Empty);
    }
    let max_possible = input.len().saturating_mul(MAX_EXPANSION);
    if expected_len > max_possible {
        return Err(LzfError::ImpossibleLength {
            expected: expected_len,
            max_possible,
        });
    }
    let mut out = Vec::with_capacity(expected_len);
    let n = decompress_into(input, &mut out, expected_len)?;
    if n != expected_len {
        return Err(LzfError::LengthMismatch {
            expected: expected_len,
            actual: n,
        });
    }
    Ok(out)
}

/// An LZF compressor with its own hash table (512 KiB), reusable across calls at no reset cost.
pub struct Compressor {
    /// Per slot: the generation (high 32 bits) and the input position (low 32 bits) of the
    /// last three-byte sequence that hashed there. Slots of older generations count as empty.
    table: Box<[u64]>,
    generation: u32,
}

impl fmt::Debug for Compressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compressor")
            .field("generation", &self.generation)
            .finish()
    }
}

impl Default for Compressor {
    fn default() -> Self {
        Compressor::new()
    }
}

/// liblzf's hash of the three bytes whose big-endian value is the low 24 bits of `h`
/// (`VERY_FAST` variant); higher bits of `h` never reach the result.
#[inline]
fn slot(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

impl Compressor {
    /// A compressor with an empty table.
    pub fn new() -> Compressor {
        Compressor {
            table: vec![0u64; HSIZE].into_boxed_slice(),
            generation: 0,
        }
    }

    /// Compresses `input` into a new vector of at most `max_out` bytes, or returns `None`
    /// when liblzf would give up (the output would not fit, or `input` is empty or longer
    /// than 4 GiB - 1). Redis calls it with `max_out = input.len() - 4`.
    pub fn compress(&mut self, input: &[u8], max_out: usize) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        self.compress_into(input, max_out, &mut out).then_some(out)
    }

    /// Like [`Compressor::compress`], but appends to `out` and returns whether it succeeded.
    /// On failure `out` is left as it was.
    pub fn compress_into(&mut self, input: &[u8], max_out: usize, out: &mut Vec<u8>) -> bool {
        let base = out.len();
        let ok = self.compress_inner(input, max_out, out);
        if !ok {
            out.truncate(base);
        }
        ok
    }

    fn next_generation(&mut self) -> u64 {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.table.fill(0);
            self.generation = 1;
        }
        (self.generation as u64) << 32
    }

    fn compress_inner(&mut self, input: &[u8], max_out: usize, out: &mut Vec<u8>) -> bool {
        let n = input.len();
        if n == 0 || max_out == 0 || n > u32::MAX as usize {
            return false;
        }
        let tag = self.next_generation();
        let base = out.len();
        // The output never exceeds the input plus one control byte per 32 literals.
        out.reserve(max_out.min(n + n / MAX_LIT + 2));
        // `op` below is `out.len() - base`; `hdr` is the index of the open literal run's
        // control byte and `lit` the number of literals in it.
        let op = |out: &Vec<u8>| out.len() - base;
        let mut hdr = out.len();
        out.push(0);
        let mut lit = 0usize;
        let mut ip = 0usize;
        let mut hval: u32 = if n >= 2 {
            (input[0] as u32) << 8 | input[1] as u32
        } else {
            0
        };

        while ip + 2 < n {
            hval = (hval << 8) | input[ip + 2] as u32;
            let s = slot(hval);
            let entry = self.table[s];
            self.table[s] = tag | ip as u64;
            let candidate = (entry & !0xffff_ffff == tag).then_some((entry & 0xffff_ffff) as usize);

            let matched = candidate.filter(|&r| {
                r > 0 && r < ip && ip - r - 1 < MAX_OFF && input[r..r + 3] == input[ip..ip + 3]
            });
            if let Some(r) = matched {
                let off = ip - r - 1;
                let maxlen = (n - ip - 2).min(MAX_REF);
                // Space for the reference (up to 3 bytes) and the next run's control byte.
                let op_after_close = op(out) - usize::from(lit == 0);
                if op_after_close + 3 + 1 >= max_out {
                    return false;
                }
                close_run(out, hdr, lit);

                // Extend the match. liblzf first checks up to 16 more bytes without looking
                // at `maxlen` (safe: it only does so when more than 16 remain), then goes on
                // one byte at a time while under `maxlen`.
                let mut len = 2usize;
                let mut stopped = false;
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            stopped = true;
                            break;
                        }
                    }
                }
                if !stopped {
                    loop {
                        len += 1;
                        if !(len < maxlen && input[r + len] == input[ip + len]) {
                            break;
                        }
                    }
                }

                let code = len - 2; // matched bytes - 2
                ip += 1;
                if code < 7 {
                    out.push(((off >> 8) + (code << 5)) as u8);
                } else {
                    out.push(((off >> 8) + (7 << 5)) as u8);
                    out.push((code - 7) as u8);
                }
                out.push(off as u8);
                hdr = out.len();
                out.push(0);
                lit = 0;

                ip += code + 1;
                if ip + 2 >= n {
                    break;
                }
                // Hash the last two positions of the match (VERY_FAST).
                ip -= 2;
                hval = (input[ip] as u32) << 8 | input[ip + 1] as u32;
                hval = (hval << 8) | input[ip + 2] as u32;
                self.table[slot(hval)] = tag | ip as u64;
                ip += 1;
                hval = (hval << 8) | input[ip + 2] as u32;
                self.table[slot(hval)] = tag | ip as u64;
                ip += 1;
            } else {
                if op(out) >= max_out {
                    return false;
                }
                lit += 1;
                out.push(input[ip]);
                ip += 1;
                if lit == MAX_LIT {
                    out[hdr] = (MAX_LIT - 1) as u8;
                    hdr = out.len();
                    out.push(0);
                    lit = 0;
                }
            }
        }

        // At most two input bytes are left, needing at most three output bytes.
        if op(out) + 3 > max_out {
            return false;
        }
        while ip < n {
            lit += 1;
            out.push(input[ip]);
            ip += 1;
            if lit == MAX_LIT {
                out[hdr] = (MAX_LIT - 1) as u8;
                hdr = out.len();
                out.push(0);
                lit = 0;
            }
        }
        close_run(out, hdr, lit);
        true
    }
}

/// Closes the open literal run: writes its control byte, or drops the placeholder when the
/// run is empty (it is then the last byte of `out`).
fn close_run(out: &mut Vec<u8>, hdr: usize, lit: usize) {
    if lit == 0 {
        debug_assert_eq!(hdr + 1, out.len());
        out.pop();
    } else {
        out[hdr] = (lit - 1) as u8;
    }
}

thread_local! {
    static COMPRESSOR: RefCell<Option<Compressor>> = const { RefCell::new(None) };
}

/// Compresses `input` into at most `max_out` bytes with a per-thread [`Compressor`], or
/// returns `None` when it does not fit (see [`Compressor::compress`]).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    compress_into(input, max_out, &mut out).then_some(out)
}

/// Like [`compress`], appending to `out`; returns whether it succeeded (`out` is unchanged if
/// not).
pub fn compress_into(input: &[u8], max_out: usize, out: &mut Vec<u8>) -> bool {
    COMPRESSOR.with(|c| match c.try_borrow_mut() {
        Ok(mut slot) => slot
            .get_or_insert_with(Compressor::new)
            .compress_into(input, max_out, out),
        // Re-entered on this thread (cannot happen today): use a fresh table.
        Err(_) => Compressor::new().compress_into(input, max_out, out),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(data: &[u8]) {
        let c = compress(data, data.len() + data.len() / 16 + 16).expect("fits with slack");
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
    }

    #[test]
    fn simple_roundtrips() {
        roundtrip(b"a");
        roundtrip(b"ab");
        roundtrip(b"abc");
        roundtrip(&[b'a'; 100]);
        roundtrip(&[b'a'; 100_000]);
        roundtrip(b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc");
        let text: Vec<u8> = (0..5000u32)
            .flat_map(|i| format!("item:{i};").into_bytes())
            .collect();
        roundtrip(&text);
    }

    #[test]
    fn long_run_of_one_byte() {
        // 100 x 'a': literal "a", then references of at most 264 bytes.
        let data = [b'a'; 100];
        let c = compress(&data, 96).unwrap();
        assert_eq!(decompress(&c, 100).unwrap(), data);
        assert!(c.len() < 10, "{c:?}");
    }

    #[test]
    fn gives_up_when_output_does_not_fit() {
        assert_eq!(compress(b"", 10), None);
        assert_eq!(compress(b"abc", 0), None);
        let random: Vec<u8> = (0..100u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(compress(&random, 96), None);
    }

    #[test]
    fn compressor_reuse_is_deterministic() {
        let mut c = Compressor::new();
        let a: Vec<u8> = b"hello world, hello world, hello world!".repeat(3);
        let b: Vec<u8> = b"xyz hello world xyz hello".repeat(5);
        let first = c.compress(&a, 1000).unwrap();
        let _ = c.compress(&b, 1000).unwrap();
        assert_eq!(c.compress(&a, 1000).unwrap(), first);
        assert_eq!(Compressor::new().compress(&a, 1000).unwrap(), first);
    }

    #[test]
    fn decompress_rejects_bad_streams() {
        assert_eq!(decompress(&[], 0), Err(LzfError::Empty));
        // Literal run announcing 3 bytes with only 2 present.
        assert_eq!(
            decompress(&[2, b'a', b'b'], 3),
            Err(LzfError::Corrupt { at: 0 })
        );
        // Back-reference before the start of the output.
        assert_eq!(
            decompress(&[0, b'a', 0x20, 5], 4),
            Err(LzfError::Corrupt { at: 2 })
        );
        // Reference truncated after its control byte / after its length byte.
        assert_eq!(
            decompress(&[0, b'a', 0x20], 4),
            Err(LzfError::Corrupt { at: 2 })
        );
        assert_eq!(
            decompress(&[0, b'a', 0xe0, 1], 20),
            Err(LzfError::Corrupt { at: 2 })
        );
        // Decodes to fewer bytes than announced, or would exceed it.
        assert_eq!(
            decompress(&[0, b'a'], 2),
            Err(LzfError::LengthMismatch {
                expected: 2,
                actual: 1
            })
        );
        assert_eq!(
            decompress(&[1, b'a', b'b'], 1),
            Err(LzfError::OutputTooLarge { limit: 1 })
        );
        // A length no 2-byte stream could reach is refused without allocating it.
        assert!(decompress(&[0, b'a'], usize::MAX).is_err());
    }

    #[test]
    fn overlapping_reference() {
        // "a" then copy 9 bytes from 1 back: 10 x 'a'.
        assert_eq!(decompress(&[0, b'a', 0xe0, 0, 0], 10).unwrap(), [b'a'; 10]);
    }

    proptest! {
        #[test]
        fn roundtrip_any(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
            if data.is_empty() {
                prop_assert_eq!(compress(&data, 100), None);
            } else {
                let c = compress(&data, data.len() + data.len() / 16 + 16).unwrap();
                prop_assert_eq!(decompress(&c, data.len()).unwrap(), data);
            }
        }

        #[test]
        fn roundtrip_repetitive(
            pieces in proptest::collection::vec(proptest::collection::vec(0u8..4, 1..12), 1..60),
            reps in proptest::collection::vec(1usize..40, 1..60),
        ) {
            let mut data = Vec::new();
            for (p, r) in pieces.iter().zip(reps.iter().cycle()) {
                for _ in 0..*r { data.extend_from_slice(p); }
            }
            let c = compress(&data, data.len() + data.len() / 16 + 16).unwrap();
            prop_assert_eq!(decompress(&c, data.len()).unwrap(), data.clone());
            // Whatever fits in a limit also decodes; and the limit is respected.
            let limit = data.len().saturating_sub(4);
            if let Some(c2) = compress(&data, limit) {
                prop_assert!(c2.len() <= limit);
                prop_assert_eq!(c2, c);
            }
        }

        #[test]
        fn hostile_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512), len in 0usize..5000) {
            let _ = decompress(&data, len);
            let mut out = vec![1, 2, 3];
            let _ = decompress_into(&data, &mut out, len);
        }
    }
}
