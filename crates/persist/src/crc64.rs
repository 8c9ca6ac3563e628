//! Redis's CRC-64: the Jones polynomial (`0xad93d23594c935a9`), reflected input and output,
//! initial value 0 and no final xor. RDB files end with it and DUMP payloads carry it in their
//! footer, both stored little-endian.
//!
//! The implementation is slicing-by-8 over tables computed at compile time, so there is no
//! start-up cost and no locking. The check value (CRC of `"123456789"`) is
//! `0xe9c6d914c4b8d9ca`.

use std::io::{self, Write};

/// The Jones polynomial in its reflected (LSB-first) form: `0xad93d23594c935a9` bit-reversed.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

/// `TABLES[k][b]` is the CRC contribution of byte `b` followed by `k` zero bytes.
static TABLES: [[u64; 256]; 8] = build_tables();

const fn build_tables() -> [[u64; 256]; 8] {
    let mut t = [[0u64; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

/// Advances `crc` over `bytes` (no pre- or post-conditioning: Redis's CRC-64 has none).
fn update(mut crc: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = crc ^ u64::from_le_bytes(word);
        crc = TABLES[7][(x & 0xff) as usize]
            ^ TABLES[6][((x >> 8) & 0xff) as usize]
            ^ TABLES[5][((x >> 16) & 0xff) as usize]
            ^ TABLES[4][((x >> 24) & 0xff) as usize]
            ^ TABLES[3][((x >> 32) & 0xff) as usize]
            ^ TABLES[2][((x >> 40) & 0xff) as usize]
            ^ TABLES[1][((x >> 48) & 0xff) as usize]
            ^ TABLES[0][(x >> 56) as usize];
    }
    for &b in chunks.remainder() {
        crc = TABLES[0][((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// The CRC-64 of `bytes`, as Redis computes it for RDB files and DUMP payloads.
pub fn crc64(bytes: &[u8]) -> u64 {
    update(0, bytes)
}

/// A running CRC-64 over data that arrives in pieces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Crc64 {
    crc: u64,
}

impl Crc64 {
    /// A CRC over no data yet (value 0).
    pub const fn new() -> Crc64 {
        Crc64 { crc: 0 }
    }

    /// Resumes from a CRC already computed over earlier data.
    pub const fn from_value(crc: u64) -> Crc64 {
        Crc64 { crc }
    }

    /// Feeds more data.
    pub fn update(&mut self, bytes: &[u8]) {
        self.crc = update(self.crc, bytes);
    }

    /// The CRC of everything fed so far.
    pub const fn value(&self) -> u64 {
        self.crc
    }
}

/// A writer that passes everything through to `inner` while keeping a CRC-64 of it, the way
/// an RDB file's trailing checksum covers every byte written before it.
#[derive(Debug)]
pub struct Crc64Writer<W> {
    inner: W,
    crc: Crc64,
}

impl<W: Write> Crc64Writer<W> {
    /// Wraps `inner`, starting from an empty CRC.
    pub fn new(inner: W) -> Crc64Writer<W> {
        Crc64Writer {
            inner,
            crc: Crc64::new(),
        }
    }

    /// The CRC of every byte written so far.
    pub fn crc(&self) -> u64 {
        self.crc.value()
    }

    /// The wrapped writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The wrapped writer, mutably. Bytes written through it directly are not checksummed.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Unwraps, returning the inner writer and the CRC.
    pub fn into_parts(self) -> (W, u64) {
        (self.inner, self.crc.value())
    }
}

impl<W: Write> Write for Crc64Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bit-at-a-time reference implementation straight from the definition.
    fn reference(bytes: &[u8]) -> u64 {
        let mut crc = 0u64;
        for &b in bytes {
            crc ^= b as u64;
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ POLY_REFLECTED
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn check_value() {
        assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(reference(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64(b""), 0);
    }

    #[test]
    fn reflected_polynomial_matches_jones() {
        assert_eq!(POLY_REFLECTED.reverse_bits(), 0xad93_d235_94c9_35a9);
    }

    #[test]
    fn writer_tracks_crc() {
        let mut w = Crc64Writer::new(Vec::new());
        w.write_all(b"1234").unwrap();
        w.write_all(b"56789").unwrap();
        let (buf, crc) = w.into_parts();
        assert_eq!(buf, b"123456789");
        assert_eq!(crc, 0xe9c6_d914_c4b8_d9ca);
    }

    proptest! {
        #[test]
        fn matches_reference_and_streams(data in proptest::collection::vec(any::<u8>(), 0..300), split in 0usize..300) {
            let split = split.min(data.len());
            prop_assert_eq!(crc64(&data), reference(&data));
            let mut c = Crc64::new();
            c.update(&data[..split]);
            c.update(&data[split..]);
            prop_assert_eq!(c.value(), crc64(&data));
        }
    }
}
