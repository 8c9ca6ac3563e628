//! Text helpers shared by the config parser, CONFIG GET and CONFIG REWRITE:
//! splitting a redis.conf line into arguments, quoting a value so it reads back
//! the same, Redis-style glob matching, and the number/memory-size syntaxes.

/// Splits one configuration line into arguments the way redis.conf is read: Redis's
/// `sdssplitargs`, the same rules as inline commands, so both share one implementation.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    tern_resp::request::split_args(line)
}

/// Quotes `value` in double quotes with escapes so that [`split_args`] reads
/// it back as exactly one argument equal to `value`.
pub(crate) fn repr(value: &[u8]) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('"');
    for &b in value {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// Writes `value` bare when it reads back unchanged as a single argument,
/// otherwise quoted with [`repr`]. Used for command-line error messages and
/// for multi-word directive values such as `bind`.
pub(crate) fn bare_or_repr(value: &[u8]) -> String {
    let plain = !value.is_empty()
        && value
            .iter()
            .all(|&b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\'' && b != b'\\');
    if plain {
        String::from_utf8_lossy(value).into_owned()
    } else {
        repr(value)
    }
}

/// Redis-style glob match: `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` and `\x`.
pub(crate) fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let mut p = 0;
    let mut i = 0;
    while p < pattern.len() {
        match pattern[p] {
            b'*' => {
                while p + 1 < pattern.len() && pattern[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pattern.len() {
                    return true;
                }
                return (i..=s.len())
                    .any(|start| glob_match(&pattern[p + 1..], &s[start..], nocase));
            }
            b'?' => {
                if i >= s.len() {
                    return false;
                }
                i += 1;
                p += 1;
            }
            b'[' => {
                if i >= s.len() {
                    return false;
                }
                let c = s[i];
                p += 1;
                let negate = p < pattern.len() && pattern[p] == b'^';
                if negate {
                    p += 1;
                }
                let mut matched = false;
                while p < pattern.len() && pattern[p] != b']' {
                    if pattern[p] == b'\\' && p + 1 < pattern.len() {
                        if pattern[p + 1] == c {
                            matched = true;
                        }
                        p += 2;
                    } else if p + 2 < pattern.len() && pattern[p + 1] == b'-' {
                        let (mut lo, mut hi) = (pattern[p], pattern[p + 2]);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        let mut ch = c;
                        if nocase {
                            lo = lo.to_ascii_lowercase();
                            hi = hi.to_ascii_lowercase();
                            ch = ch.to_ascii_lowercase();
                        }
                        if lo <= ch && ch <= hi {
                            matched = true;
                        }
                        p += 3;
                    } else {
                        if eq(pattern[p], c) {
                            matched = true;
                        }
                        p += 1;
                    }
                }
                // Skip the closing bracket (an unterminated class ends the pattern).
                p += 1;
                if matched == negate {
                    return false;
                }
                i += 1;
            }
            b'\\' if p + 1 < pattern.len() => {
                if i >= s.len() || !eq(pattern[p + 1], s[i]) {
                    return false;
                }
                i += 1;
                p += 2;
            }
            c => {
                if i >= s.len() || !eq(c, s[i]) {
                    return false;
                }
                i += 1;
                p += 1;
            }
        }
    }
    i == s.len()
}

/// True when a CONFIG GET argument is a pattern rather than a plain name.
pub(crate) fn is_glob(pattern: &[u8]) -> bool {
    pattern.iter().any(|&b| matches!(b, b'*' | b'?' | b'['))
}

/// Strict integer syntax as Redis's `string2ll`: an optional `-`, then digits
/// with no leading zero (except `0` itself), no spaces, no `+`.
pub(crate) fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || digits.len() != s.len()) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Lenient integer syntax as `strtoll` with the whole string consumed: an
/// optional sign and at least one digit; leading zeros allowed.
pub(crate) fn parse_i64_lenient(s: &[u8]) -> Option<i64> {
    let body = s
        .strip_prefix(b"+")
        .or_else(|| s.strip_prefix(b"-"))
        .unwrap_or(s);
    if body.is_empty() || !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    text.strip_prefix('+').unwrap_or(text).parse().ok()
}

/// Memory-size syntax: digits then an optional case-insensitive unit:
/// `b` (1), `k` (1000), `kb` (1024), `m` (10^6), `mb` (2^20), `g` (10^9), `gb` (2^30).
pub(crate) fn parse_memory(s: &[u8]) -> Option<u64> {
    let split = s
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    if digits.is_empty() {
        return None;
    }
    let unit = unit.to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    n.checked_mul(mul)
}

/// Formats a byte count for redis.conf, using the largest of `gb`, `mb`, `kb`
/// that divides it exactly.
pub(crate) fn format_memory(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    const GB: u64 = 1024 * 1024 * 1024;
    let divides = |unit: u64| bytes != 0 && (bytes / unit) * unit == bytes;
    if divides(GB) {
        format!("{}gb", bytes / GB)
    } else if divides(MB) {
        format!("{}mb", bytes / MB)
    } else if divides(KB) {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

/// An I/O error's message without Rust's " (os error N)" suffix, so it reads
/// like C's `strerror`.
pub(crate) fn strerror(err: &std::io::Error) -> String {
    let s = err.to_string();
    match s.find(" (os error ") {
        Some(at) => s[..at].to_string(),
        None => s,
    }
}
