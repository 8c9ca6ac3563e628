//! Redis's `long double` arithmetic for INCRBYFLOAT and HINCRBYFLOAT, in portable Rust.
//!
//! Redis adds the two operands in C `long double`, which on x86-64 is the x87 80-bit extended
//! format: a 64-bit significand with an explicit integer bit, a 15-bit exponent, rounding to
//! nearest with ties to even. It parses with `strtold` (correctly rounded) and prints the sum
//! with `%.17Lf` (exact decimal expansion, rounded half-to-even) before trimming trailing zeros,
//! so its replies show extended-precision noise such as `1000.09999999999999998`. This module
//! reproduces those bits exactly without x87 instructions: every value is `mant * 2^exp` with a
//! `u64` significand, and parsing, adding and printing are done on exact integers (`u128` on
//! the common paths, [`BigUint`] for long or extreme inputs) and rounded once.

use std::cmp::Ordering;
use std::fmt::Write as _;

use num_bigint::BigUint;
use smallvec::SmallVec;

/// Redis's `MAX_LONG_DOUBLE_CHARS`: `string2ld` rejects inputs of this length or longer.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Exponent of the significand's least significant bit for subnormals and for the smallest
/// normal binade (the smallest normal value is `2^63 * 2^MIN_EXP = 2^-16382`).
const MIN_EXP: i64 = -16445;
/// Exponent of the significand's least significant bit in the largest binade (the largest
/// finite value is `(2^64 - 1) * 2^MAX_EXP`, about 1.19e4932).
const MAX_EXP: i64 = 16320;

/// Decimal exponents are saturated here while parsing; anything this far out has long since
/// overflowed or underflowed.
const EXP_SATURATE: i64 = 1_000_000_000;

/// `10^17`: `%.17Lf` prints 17 digits after the point.
const TEN_POW_17: u128 = 100_000_000_000_000_000;

/// `10^i` for `i` in `0..=19`.
const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `mant * 2^exp`. Normal values have bit 63 of `mant` set and `exp` in
    /// `MIN_EXP..=MAX_EXP`; subnormals and zero have `exp == MIN_EXP` and `mant < 2^63`.
    /// The representation is therefore canonical.
    Finite {
        mant: u64,
        exp: i32,
    },
    Inf,
    Nan,
}

/// An x87 80-bit extended-precision value (`long double` on x86-64 Linux), held exactly as
/// sign, exponent and 64-bit significand, or infinity, or NaN (only produced by `inf + -inf`).
///
/// Equality is structural: it tells `+0` from `-0` and makes NaN equal to itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongDouble {
    neg: bool,
    kind: Kind,
}

impl LongDouble {
    fn zero(neg: bool) -> LongDouble {
        LongDouble {
            neg,
            kind: Kind::Finite {
                mant: 0,
                exp: MIN_EXP as i32,
            },
        }
    }

    fn inf(neg: bool) -> LongDouble {
        LongDouble {
            neg,
            kind: Kind::Inf,
        }
    }

    /// Whether the value is neither infinite nor NaN.
    pub fn is_finite(&self) -> bool {
        matches!(self.kind, Kind::Finite { .. })
    }

    /// Whether the value is NaN.
    pub fn is_nan(&self) -> bool {
        self.kind == Kind::Nan
    }

    /// Whether the value is `+0` or `-0`.
    pub fn is_zero(&self) -> bool {
        matches!(self.kind, Kind::Finite { mant: 0, .. })
    }

    /// Whether the sign bit is set (true for `-0` too).
    pub fn is_sign_negative(&self) -> bool {
        self.neg
    }

    /// The exact sum rounded to 64 significant bits, ties to even, as the x87 FPU adds in its
    /// default (extended precision, round-to-nearest) mode: overflow gives infinity,
    /// `inf + -inf` gives NaN, and an exact zero sum of nonzero values is `+0`.
    pub fn add(&self, other: &LongDouble) -> LongDouble {
        let (am, ae, bm, be) = match (self.kind, other.kind) {
            (Kind::Nan, _) | (_, Kind::Nan) => {
                return LongDouble {
                    neg: false,
                    kind: Kind::Nan,
                }
            }
            (Kind::Inf, Kind::Inf) if self.neg != other.neg => {
                return LongDouble {
                    neg: true,
                    kind: Kind::Nan,
                }
            }
            (Kind::Inf, _) => return *self,
            (_, Kind::Inf) => return *other,
            (Kind::Finite { mant: am, exp: ae }, Kind::Finite { mant: bm, exp: be }) => {
                (am, ae, bm, be)
            }
        };
        if am == 0 && bm == 0 {
            return LongDouble::zero(self.neg && other.neg);
        }
        if am == 0 {
            return *other;
        }
        if bm == 0 {
            return *self;
        }
        // `big` has the larger (or equal) exponent.
        let ((big_neg, big_m, big_e), (small_neg, small_m, small_e)) = if ae >= be {
            ((self.neg, am, ae), (other.neg, bm, be))
        } else {
            ((other.neg, bm, be), (self.neg, am, ae))
        };
        let diff = (big_e - small_e) as u32;
        // Both aligned to exponent big_e - 63: the big operand takes bits 63..127 (below 2^127,
        // so a sum cannot overflow u128); the small one is shifted right from there, the bits
        // shifted out kept only as a sticky flag (only possible when diff > 63).
        let a = (big_m as u128) << 63;
        let s = (small_m as u128) << 63;
        let (b, sticky) = if diff == 0 {
            (s, false)
        } else if diff < 128 {
            (s >> diff, s & ((1u128 << diff) - 1) != 0)
        } else {
            (0, true)
        };
        let e = big_e as i64 - 63;
        if big_neg == small_neg {
            // sticky means the true sum is a + b + (something in (0, 1)).
            return round(big_neg, a + b, e, sticky);
        }
        match a.cmp(&b) {
            // sticky implies diff > 63, so a > b here and a - b - 1 >= 2^125.
            Ordering::Greater => round(big_neg, a - b - sticky as u128, e, sticky),
            Ordering::Less => round(small_neg, b - a, e, false),
            Ordering::Equal if sticky => round(big_neg, a - b - 1, e, true),
            Ordering::Equal => LongDouble::zero(false),
        }
    }

    /// `printf("%.17Lf")` of the value with trailing zeros and a trailing '.' trimmed, as
    /// Redis's `ld2string(..., LD_STR_HUMAN)` prints it: `-0` (also any negative value that
    /// prints as zero) becomes `0`, infinities are `inf` and `-inf`, NaN is `nan`.
    pub fn to_human_string(&self) -> String {
        let (mant, exp) = match self.kind {
            Kind::Inf => return if self.neg { "-inf" } else { "inf" }.to_string(),
            Kind::Nan => return "nan".to_string(),
            Kind::Finite { mant, exp } => (mant, exp as i64),
        };
        let mut out = String::new();
        if exp >= 0 {
            // An integer: no fractional digits at all.
            if mant == 0 {
                return "0".to_string();
            }
            if self.neg {
                out.push('-');
            }
            if exp <= 64 {
                let _ = write!(out, "{}", (mant as u128) << exp);
            } else {
                let _ = write!(out, "{}", BigUint::from(mant) << (exp as usize));
            }
            return out;
        }
        // value * 10^17 = x / 2^sh, rounded half to even. x < 2^64 * 10^17 < 2^121.
        let x = mant as u128 * TEN_POW_17;
        let sh = (-exp) as u32;
        let r = if sh >= 122 {
            0 // x < 2^121 <= 2^(sh - 1): below one half.
        } else {
            let q = x >> sh;
            let rem = x & ((1u128 << sh) - 1);
            let half = 1u128 << (sh - 1);
            if rem > half || (rem == half && q & 1 == 1) {
                q + 1
            } else {
                q
            }
        };
        let int = r / TEN_POW_17;
        let frac = r % TEN_POW_17;
        if int == 0 && frac == 0 {
            return "0".to_string();
        }
        if self.neg {
            out.push('-');
        }
        let _ = write!(out, "{int}");
        if frac != 0 {
            let _ = write!(out, ".{frac:017}");
            let trimmed = out.trim_end_matches('0').len();
            out.truncate(trimmed);
        }
        out
    }
}

/// Rounds `(n + t) * 2^e` to a [`LongDouble`], where `t` is 0 if `!sticky` and some value in
/// `(0, 1)` if `sticky`. With `sticky`, `n` must be at least 2^64 so that at least one bit is
/// rounded off (the sticky part then only ever breaks ties).
fn round(neg: bool, n: u128, e: i64, sticky: bool) -> LongDouble {
    debug_assert!(!sticky || n >> 64 != 0);
    if n == 0 {
        return LongDouble::zero(neg);
    }
    let bits = 128 - n.leading_zeros() as i64;
    let mut exp = (bits - 64 + e).max(MIN_EXP);
    let shift = exp - e;
    let mant = if shift <= 0 {
        // Exact: shift >= bits - 64 > -64, and the result fits in 64 bits.
        (n << (-shift) as u32) as u64
    } else {
        let (q, half, lower) = if shift > 128 {
            (0, false, true)
        } else if shift == 128 {
            (0, n >> 127 != 0, n & (u128::MAX >> 1) != 0)
        } else {
            let s = shift as u32;
            (
                n >> s,
                (n >> (s - 1)) & 1 != 0,
                n & ((1u128 << (s - 1)) - 1) != 0,
            )
        };
        let mut mant = q as u64;
        if half && (lower || sticky || mant & 1 != 0) {
            mant = match mant.checked_add(1) {
                Some(m) => m,
                None => {
                    exp += 1;
                    1 << 63
                }
            };
        }
        mant
    };
    if exp > MAX_EXP {
        return LongDouble::inf(neg);
    }
    LongDouble {
        neg,
        kind: Kind::Finite {
            mant,
            exp: exp as i32,
        },
    }
}

/// [`round`] for a big integer: keeps its top 128 bits, the rest folded into `sticky`.
fn round_big(neg: bool, n: &BigUint, e: i64, sticky: bool) -> LongDouble {
    let bits = n.bits();
    if bits <= 128 {
        return round(neg, to_u128(n), e, sticky);
    }
    let drop = bits - 128;
    let top = to_u128(&(n >> drop));
    let lost = n.trailing_zeros().is_some_and(|tz| tz < drop);
    round(neg, top, e + drop as i64, sticky || lost)
}

fn to_u128(n: &BigUint) -> u128 {
    let mut digits = n.iter_u64_digits();
    let lo = digits.next().unwrap_or(0) as u128;
    let hi = digits.next().unwrap_or(0) as u128;
    debug_assert!(digits.next().is_none());
    lo | hi << 64
}

/// Parses a number as Redis's `string2ld` does with glibc's `strtold`: the whole input must be
/// one number (no leading or trailing space or garbage, no embedded NUL), shorter than 5120
/// bytes; `[+-]` then `inf`/`infinity` (any case), a decimal with optional `.` and exponent, or
/// a hex float (`0x1.8p3`); correctly rounded to nearest-even. NaN is rejected, and so are
/// values that overflow (ERANGE with +-inf) or underflow to zero (ERANGE with zero); tiny values
/// that round to a nonzero subnormal are accepted. An exact zero (`0e-99999`, `-0`) is fine.
pub fn parse(s: &[u8]) -> Option<LongDouble> {
    if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
        return None;
    }
    let (neg, rest) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
        return Some(LongDouble::inf(neg));
    }
    let v = if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        // strtold reads "0x" without hex digits as "0" followed by garbage: rejected too.
        parse_hex(neg, &rest[2..])?
    } else {
        parse_decimal(neg, rest)?
    };
    match v.kind {
        Kind::Finite { .. } => Some(v),
        _ => None,
    }
}

/// Parses an optional `[+-]digits` exponent that must run to the end of `s` (strtold leaves a
/// bare `e`/`p` unread, which then counts as trailing garbage). Saturates at ±[`EXP_SATURATE`].
fn parse_exponent(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = (v * 10 + (c - b'0') as i64).min(EXP_SATURATE);
    }
    Some(if neg { -v } else { v })
}

/// Significant digits (leading zeros dropped, trailing zeros moved into the exponent), the
/// scale applied to the mantissa by the digits after the point, and the rest of the input.
struct Mantissa<'a> {
    digits: SmallVec<[u8; 40]>,
    /// Value = digits * base^scale (before the explicit exponent).
    scale: i64,
    rest: &'a [u8],
}

fn scan_mantissa(s: &[u8], is_digit: fn(u8) -> bool) -> Option<Mantissa<'_>> {
    let mut digits: SmallVec<[u8; 40]> = SmallVec::new();
    let mut seen_digit = false;
    let mut seen_point = false;
    let mut scale: i64 = 0;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if is_digit(c) {
            seen_digit = true;
            if seen_point {
                scale -= 1;
            }
            if !(digits.is_empty() && c == b'0') {
                digits.push(c);
            }
        } else if c == b'.' && !seen_point {
            seen_point = true;
        } else {
            break;
        }
        i += 1;
    }
    if !seen_digit {
        return None;
    }
    while digits.last() == Some(&b'0') {
        digits.pop();
        scale += 1;
    }
    Some(Mantissa {
        digits,
        scale,
        rest: &s[i..],
    })
}

fn parse_decimal(neg: bool, s: &[u8]) -> Option<LongDouble> {
    let m = scan_mantissa(s, |c| c.is_ascii_digit())?;
    let exp = match m.rest.first() {
        None => 0,
        Some(b'e' | b'E') => parse_exponent(&m.rest[1..])?,
        Some(_) => return None,
    };
    if m.digits.is_empty() {
        return Some(LongDouble::zero(neg));
    }
    let nd = m.digits.len() as i64;
    let k = m.scale + exp; // value = D * 10^k
                           // D * 10^k lies in [10^(nd + k - 1), 10^(nd + k)).
    if nd + k - 1 > 4933 {
        return None; // >= 10^4933: overflow.
    }
    if nd + k < -4952 {
        return None; // < 10^-4952, below half the smallest subnormal: underflow to zero.
    }
    let v = decimal_value(neg, &m.digits, k, true);
    if v.is_zero() {
        return None; // Nonzero input rounded to zero: ERANGE.
    }
    Some(v)
}

/// Rounds `D * 10^k` (`D` given by its ASCII decimal digits) to a [`LongDouble`]. `fast` allows
/// the `u128` shortcut for up to 19 digits and `|k|` up to 18 or 19 (tests compare both paths).
fn decimal_value(neg: bool, digits: &[u8], k: i64, fast: bool) -> LongDouble {
    if fast && digits.len() <= 19 && (-18..=19).contains(&k) {
        let d = digits
            .iter()
            .fold(0u64, |acc, &c| acc * 10 + (c - b'0') as u64);
        if k >= 0 {
            round(neg, d as u128 * POW10[k as usize] as u128, 0, false)
        } else {
            // Scale D up to bit 127 so the quotient keeps >= 67 bits (10^18 < 2^60).
            let sh = d.leading_zeros() + 64;
            let n = (d as u128) << sh;
            let p = POW10[(-k) as usize] as u128;
            let q = n / p;
            round(neg, q, -(sh as i64), q * p != n)
        }
    } else {
        let d = BigUint::parse_bytes(digits, 10).expect("ASCII digits");
        if k >= 0 {
            let n = d * BigUint::from(10u32).pow(k as u32);
            round_big(neg, &n, 0, false)
        } else {
            let p = BigUint::from(10u32).pow((-k) as u32);
            // Enough bits that the quotient is at least 2^64.
            let sh = (p.bits() as i64 - d.bits() as i64 + 65).max(0);
            let n = d << (sh as usize);
            let q = &n / &p;
            let sticky = &q * &p != n;
            round_big(neg, &q, -sh, sticky)
        }
    }
}

fn parse_hex(neg: bool, s: &[u8]) -> Option<LongDouble> {
    let m = scan_mantissa(s, |c| c.is_ascii_hexdigit())?;
    let exp = match m.rest.first() {
        None => 0,
        Some(b'p' | b'P') => parse_exponent(&m.rest[1..])?,
        Some(_) => return None,
    };
    if m.digits.is_empty() {
        return Some(LongDouble::zero(neg));
    }
    let h = BigUint::parse_bytes(&m.digits, 16)?;
    let e = 4 * m.scale + exp; // value = H * 2^e
    let bits = h.bits() as i64;
    let top = bits - 1 + e; // value in [2^top, 2^(top + 1))
    if top > 16383 {
        return None; // Overflow.
    }
    if top < MIN_EXP - 1 {
        return None; // Below half the smallest subnormal: underflow to zero.
    }
    // glibc's strtold, for a hex input in [2^-16446, 2^-16445) (half the smallest subnormal up
    // to it), ignores the bit just below the 64 significant bits it reads: 2^-16446 * (1 + 2^-64)
    // is taken for the exact half and rounds to zero (ERANGE), where the exact value would round
    // up. Decimal inputs cannot hit this (their exact value needs far more than 5119 digits).
    if top == MIN_EXP - 1 && bits >= 65 && h.count_ones() == 2 && h.bit((bits - 65) as u64) {
        return None;
    }
    let v = round_big(neg, &h, e, false);
    if v.is_zero() {
        return None;
    }
    Some(v)
}

/// INCRBYFLOAT's arithmetic: parses both operands as [`parse`] does (None if either fails:
/// "ERR value is not a valid float"), adds them, and returns the reply/new value text, or
/// `Err(())` when the sum is NaN or infinite ("ERR increment would produce NaN or Infinity").
///
/// HINCRBYFLOAT (Redis 7.0) orders its checks differently, so it should call [`parse`] itself:
/// an increment that does not parse is "ERR value is not a valid float", an infinite increment
/// is "ERR value is NaN or Infinity", then a stored value that does not parse is "ERR hash
/// value is not a float" (a missing field counts as 0); the sum and its text are as here.
pub fn incr_by_float(current: &[u8], incr: &[u8]) -> Option<Result<String, ()>> {
    let a = parse(current)?;
    let b = parse(incr)?;
    let sum = a.add(&b);
    if !sum.is_finite() {
        return Some(Err(()));
    }
    Some(Ok(sum.to_human_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    fn incr(a: &str, b: &str) -> String {
        match incr_by_float(a.as_bytes(), b.as_bytes()) {
            None => "ERR value is not a valid float".to_string(),
            Some(Err(())) => "ERR increment would produce NaN or Infinity".to_string(),
            Some(Ok(s)) => s,
        }
    }

    fn human(s: &str) -> String {
        parse(s.as_bytes()).expect(s).to_human_string()
    }

    #[test]
    fn examples_from_redis() {
        assert_eq!(incr("1000", "0.1"), "1000.09999999999999998");
        assert_eq!(incr("123456.7", "0.3"), "123457");
        assert_eq!(incr("10.5", "0.1"), "10.6");
        assert_eq!(incr("3001", "0.123456789"), "3001.12345678900000001");
        assert_eq!(
            incr("1e300", "1"),
            "1000000000000000000008997324079559193870523944273290747938260082321265646596180\
             935755849152083750497190350372508614274835903592556184672983913096260520748646\
             287327135641843653294084255107606016789726652932370030551382947620994540294772\
             781889620606179267611627097410650567187386105690089424915104006144"
        );
        assert_eq!(incr("9223372036854775807", "0.1"), "9223372036854775807");
        assert_eq!(incr("0.1", "0.2"), "0.3");
        assert_eq!(incr("-1", "1"), "0");
        assert_eq!(incr("-0", "-0"), "0");
        assert_eq!(incr("-1e-20", "0"), "0");
        assert_eq!(incr("+5", ".5"), "5.5");
        assert_eq!(incr("5.", "1"), "6");
        assert_eq!(incr("0e-99999", "1"), "1");
        assert_eq!(incr("0x1.8p3", "0"), "12");
        assert_eq!(incr("0x.8", "0"), "0.5");
        assert_eq!(incr("0x1P+2", "0"), "4");
        assert_eq!(incr("1E+2", "0"), "100");
        // 2^-18 = 0.000003814697265625: a tie at the 17th decimal, to even.
        assert_eq!(incr("0.000003814697265625", "0"), "0.00000381469726562");
        assert_eq!(incr("0x3p-18", "0"), "0.00001144409179688");
    }

    #[test]
    fn errors() {
        let bad = "ERR value is not a valid float";
        let nan = "ERR increment would produce NaN or Infinity";
        for s in [
            "",
            " 1",
            "1 ",
            "abc",
            "nan",
            "NaN",
            "-nan",
            "1e5000",
            "1e-5000",
            ".",
            "1e",
            "1e+",
            "0x",
            "0xp1",
            "0x1p",
            "1\u{0}",
            "\u{0}",
            "infinit",
            "in",
            "--1",
            "+-1",
            "1..2",
            "1e4933",
            "1.18973149535723176508e4932",
            "1.2e4932",
            "1e-4951",
            "0x1p16384",
            "0x1p-16446",
            "0x1.0000000000000001p-16446",
            "-0x1.0000000000000001p-16446",
            "0x2.0000000000000002p-16447",
            "0x3p-16448",
            "0x1.8p-16447",
            "1.8225997659412373012642029668097e-4951",
        ] {
            assert_eq!(incr(s, "1"), bad, "{s:?}");
            assert_eq!(incr("1", s), bad, "{s:?}");
        }
        assert_eq!(incr("1e4932", "1e4932"), nan);
        assert_eq!(incr("-1e4932", "-1e4932"), nan);
        assert_eq!(incr("inf", "-inf"), nan);
        assert_eq!(incr("INFINITY", "-inf"), nan);
        assert_eq!(incr("inf", "1"), nan);
        assert_eq!(incr("1", "-Infinity"), nan);
        let long_ok = format!("{}1", "0".repeat(5118));
        assert_eq!(incr(&long_ok, "0"), "1");
        let long_bad = format!("{}1", "0".repeat(5119));
        assert_eq!(incr(&long_bad, "0"), bad);
    }

    #[test]
    fn range_edges() {
        // The largest finite value, (2^64 - 1) * 2^16320, is accepted; the first decimal past
        // the halfway point to 2^16384 overflows.
        let max = parse(b"1.18973149535723176502e4932").unwrap();
        assert_eq!(
            max.kind,
            Kind::Finite {
                mant: u64::MAX,
                exp: MAX_EXP as i32
            }
        );
        assert!(human("1.18973149535723176502e4932").starts_with("118973149535723176502126"));
        assert!(parse(b"1.189731495357231765053e4932").unwrap().is_finite());
        assert_eq!(parse(b"1.189731495357231765054e4932"), None);
        // The smallest subnormal and its rounding boundary.
        let tiny = parse(b"2e-4951").unwrap();
        assert_eq!(
            tiny.kind,
            Kind::Finite {
                mant: 1,
                exp: MIN_EXP as i32
            }
        );
        assert_eq!(parse(b"0x1p-16445"), Some(tiny));
        assert_eq!(
            parse(b"1.8225997659412373012642029668098e-4951"),
            Some(tiny)
        );
        assert_eq!(parse(b"0x1.00000000000000008p-16446"), Some(tiny));
        assert_eq!(parse(b"0x1.0000000000000003p-16446"), Some(tiny));
        assert_eq!(parse(b"0x1.fffffffffffffffffp-16446"), Some(tiny));
        assert_eq!(human("0x1p-16383"), "0");
        assert_eq!(human("-0x1p-16383"), "0");
        // The smallest normal, and subnormal + subnormal crossing into the normal range.
        let min_normal = parse(b"0x1p-16382").unwrap();
        let half = parse(b"0x1p-16383").unwrap();
        assert_eq!(half.add(&half), min_normal);
        // max + max overflows; max + 1 does not.
        assert!(!max.add(&max).is_finite());
        assert_eq!(max.add(&parse(b"1").unwrap()), max);
    }

    #[test]
    fn hex_rounding() {
        // 2^100 plus fractions of its ulp (2^37).
        assert_eq!(
            human("0x1.0000000000000001p100"),
            "1267650600228229401496703205376"
        );
        assert_eq!(
            human("0x1.0000000000000003p100"),
            "1267650600228229401771581112320"
        );
        assert_eq!(
            human("0x1.00000000000000018p100"),
            "1267650600228229401634142158848"
        );
        assert_eq!(
            human("0x1.0000000000000000800000000000000000000000000000001p100"),
            "1267650600228229401496703205376"
        );
    }

    #[test]
    fn add_signs_and_zeros() {
        let p = |s: &str| parse(s.as_bytes()).unwrap();
        assert!(!p("-0").add(&p("0")).is_sign_negative());
        assert!(p("-0").add(&p("-0")).is_sign_negative());
        assert!(!p("1.5").add(&p("-1.5")).is_sign_negative());
        assert!(p("-1").add(&p("0.5")).is_sign_negative());
        assert!(p("inf").add(&p("-inf")).is_nan());
        assert_eq!(human("-2.5"), "-2.5");
        assert_eq!(incr("1", "-1.5"), "-0.5");
        // A tiny negative addend: 1 - 2^-70 rounds back to 1; 2^63 + 0.5 ties to even.
        assert_eq!(incr("1", "-0x1p-70"), "1");
        assert_eq!(incr("9223372036854775808", "0.5"), "9223372036854775808");
        assert_eq!(incr("9223372036854775808", "1.5"), "9223372036854775810");
        assert_eq!(incr("18446744073709551615", "0.5"), "18446744073709551616");
        // Just below 2^64 minus a sticky amount: (2^64 - 1) - 2^-80 stays 2^64 - 1.
        assert_eq!(
            incr("18446744073709551615", "-0x1p-80"),
            "18446744073709551615"
        );
        // 2^64 - 2^-80: the ulp below 2^64 is 1, so it rounds up to 2^64.
        assert_eq!(
            incr("18446744073709551616", "-0x1p-80"),
            "18446744073709551616"
        );
    }

    /// The exact sum, computed on big integers and rounded once.
    fn add_reference(a: &LongDouble, b: &LongDouble) -> LongDouble {
        let (Kind::Finite { mant: am, exp: ae }, Kind::Finite { mant: bm, exp: be }) =
            (a.kind, b.kind)
        else {
            unreachable!()
        };
        let e = ae.min(be) as i64;
        let x = BigUint::from(am) << (ae as i64 - e) as usize;
        let y = BigUint::from(bm) << (be as i64 - e) as usize;
        if am == 0 && bm == 0 {
            return LongDouble::zero(a.neg && b.neg);
        }
        if a.neg == b.neg {
            return round_big(a.neg, &(x + y), e, false);
        }
        match x.cmp(&y) {
            Ordering::Greater => round_big(a.neg, &(x - y), e, false),
            Ordering::Less => round_big(b.neg, &(y - x), e, false),
            Ordering::Equal => LongDouble::zero(false),
        }
    }

    fn random_mant(rng: &mut SmallRng) -> u64 {
        match rng.gen_range(0..10) {
            0 => 1 << 63,
            1 => (1 << 63) + 1,
            2 => u64::MAX,
            3 => (3 << 62) - 1,
            4 => (1 << 63) | (1 << rng.gen_range(0..63)),
            5 => rng.gen::<u64>() >> rng.gen_range(0..64), // subnormal when at MIN_EXP
            _ => rng.gen::<u64>() | 1 << 63,
        }
    }

    #[test]
    fn add_matches_exact_reference() {
        let mut rng = SmallRng::seed_from_u64(0x1d_0b1e);
        for _ in 0..100_000 {
            let ae = match rng.gen_range(0..4) {
                0 => MIN_EXP + rng.gen_range(0..140),
                1 => MAX_EXP - rng.gen_range(0..140),
                _ => rng.gen_range(-200..200),
            };
            let be = (ae - rng.gen_range(0..140)).max(MIN_EXP);
            let a = round(rng.gen(), random_mant(&mut rng) as u128, ae, false);
            let b = round(rng.gen(), random_mant(&mut rng) as u128, be, false);
            if !a.is_finite() || !b.is_finite() {
                continue;
            }
            let want = add_reference(&a, &b);
            assert_eq!(a.add(&b), want, "{a:?} + {b:?}");
            assert_eq!(b.add(&a), want, "{b:?} + {a:?}");
        }
    }

    #[test]
    fn decimal_fast_path_matches_big_path() {
        let mut rng = SmallRng::seed_from_u64(0xdec1);
        for _ in 0..100_000 {
            let n = rng.gen_range(1..=19);
            let mut digits: Vec<u8> = (0..n).map(|_| b'0' + rng.gen_range(0..10)).collect();
            digits[0] = b'1' + rng.gen_range(0..9);
            let k = rng.gen_range(-18..=19);
            let neg = rng.gen();
            assert_eq!(
                decimal_value(neg, &digits, k, true),
                decimal_value(neg, &digits, k, false),
                "{}e{k}",
                String::from_utf8_lossy(&digits)
            );
        }
    }
}
