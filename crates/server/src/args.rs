//! Argument parsing helpers shared by the command families, with Redis's error texts.

use crate::errors::{CmdError, NOT_FLOAT, NOT_INTEGER};

/// Parses an integer argument as Redis's `getLongLongFromObject` does (strict `string2ll`).
#[inline]
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    tern_resp::request::parse_i64(arg).ok_or(CmdError::Static(NOT_INTEGER))
}

/// Parses an integer that must be >= 0, with Redis's wording for the error.
pub fn non_negative(arg: &[u8], what: &str) -> Result<i64, CmdError> {
    let n = int(arg)?;
    if n < 0 {
        return Err(CmdError::Msg(format!(
            "ERR {what} is out of range, must be positive"
        )));
    }
    Ok(n)
}

/// Parses a float argument as Redis's `getLongDoubleFromObject`/`strtold` does: no spaces, no
/// empty string, `inf`/`-inf`/`infinity` accepted, NaN refused.
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    parse_float(arg).ok_or(CmdError::Static(NOT_FLOAT))
}

/// Like [`float`] but returning None on failure.
pub fn parse_float(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || arg.len() > 5120 {
        return None;
    }
    if arg[0].is_ascii_whitespace() || arg[arg.len() - 1].is_ascii_whitespace() {
        return None;
    }
    let s = std::str::from_utf8(arg).ok()?;
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        l if l.contains("nan") => return None,
        // Rust accepts forms strtold rejects ("1_0" no, but "+.5" yes in both); hex floats are
        // not accepted by Rust, which Redis users never send.
        _ => s.parse().ok()?,
    };
    Some(v)
}

/// True if `arg` equals `word` ignoring ASCII case.
#[inline]
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// C's `strtod` on `arg` (up to its first NUL byte, as C sees it): the value, the bytes
/// consumed and whether it set ERANGE.
pub fn strtod(arg: &[u8]) -> (f64, usize, bool) {
    let mut buf = Vec::with_capacity(arg.len() + 1);
    buf.extend_from_slice(arg);
    buf.push(0);
    let start = buf.as_ptr() as *const libc::c_char;
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `buf` is NUL-terminated and outlives the call; errno is thread-local.
    unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(start, &mut end);
        let erange = *libc::__errno_location() == libc::ERANGE;
        (v, end.offset_from(start) as usize, erange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_follow_strtold_rules() {
        assert_eq!(parse_float(b"1.5"), Some(1.5));
        assert_eq!(parse_float(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float(b"1e3"), Some(1000.0));
        assert_eq!(parse_float(b" 1"), None);
        assert_eq!(parse_float(b""), None);
        assert_eq!(parse_float(b"nan"), None);
        assert_eq!(parse_float(b"abc"), None);
    }
}
