//! The server-side request parser.
//!
//! A client's query buffer holds zero or more complete requests followed by at most one partial
//! request. [`RequestParser::parse`] looks at the buffer, and either finds one complete request
//! (returning how many bytes it used and where each argument lies), or says it needs more bytes,
//! or reports a protocol error. Arguments are returned as byte ranges into the caller's buffer,
//! so a pipeline of thousands of commands is parsed without copying or allocating per argument.
//!
//! Two request forms exist, as in Redis:
//! - multibulk: `*<argc>\r\n` then `argc` times `$<len>\r\n<bytes>\r\n` (what every client sends);
//! - inline: a line of space-separated words with optional quotes (what telnet users type).
//!
//! The error texts are byte-identical to Redis's because clients and tests match on them. A
//! protocol error is fatal for the connection: the server replies with the error and closes it.

use std::ops::Range;

/// Inline requests and multibulk/bulk headers longer than this without a newline are refused
/// (Redis's PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// The limits a request must respect; the server fills them from its config.
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    /// `proto-max-bulk-len`: the largest single argument accepted (default 512 MiB).
    pub max_bulk_len: u64,
    /// When true (the client has not authenticated but must), Redis's stricter limits apply:
    /// at most 10 arguments of at most 16 KiB each.
    pub unauthenticated: bool,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_bulk_len: 512 * 1024 * 1024,
            unauthenticated: false,
        }
    }
}

/// A protocol error. `Display` gives the text after `-ERR ` exactly as Redis sends it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    #[error("Protocol error: expected '$', got '{0}'")]
    ExpectedDollar(char),
    #[error("Protocol error: too big mbulk count string")]
    TooBigMbulkCount,
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    #[error("Protocol error: too big inline request")]
    TooBigInline,
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulk,
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulk,
}

/// One parsed request: argument ranges into the parsed buffer, or owned arguments for inline
/// requests whose quotes and escapes had to be rewritten.
#[derive(Debug, Default)]
pub struct Request {
    /// Ranges of the arguments within the buffer passed to `parse` (multibulk and plain inline).
    pub ranges: Vec<Range<usize>>,
    /// Arguments that needed unescaping (inline requests with quotes); when non-empty these are
    /// the arguments and `ranges` is empty.
    pub owned: Vec<Vec<u8>>,
}

impl Request {
    /// The number of arguments, the command name included.
    pub fn len(&self) -> usize {
        if self.owned.is_empty() {
            self.ranges.len()
        } else {
            self.owned.len()
        }
    }

    /// True when the request has no arguments (an empty line or `*0`), which servers ignore.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Argument `i` given the buffer the request was parsed from.
    pub fn arg<'a>(&'a self, buf: &'a [u8], i: usize) -> &'a [u8] {
        if self.owned.is_empty() {
            &buf[self.ranges[i].clone()]
        } else {
            &self.owned[i]
        }
    }

    fn clear(&mut self) {
        self.ranges.clear();
        self.owned.clear();
    }
}

/// The outcome of one call to [`RequestParser::parse`].
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole request was parsed from the first `n` bytes (it may have zero arguments).
    Complete(usize),
    /// The buffer ends inside a request; read more and call again. `hint` is the total number of
    /// bytes the request is known to need so far, so the caller can reserve space once for a
    /// large argument instead of growing its buffer many times.
    Incomplete { hint: usize },
}

/// A reusable request parser. It keeps no state between calls except scratch allocations: each
/// call parses from the start of the buffer it is given.
#[derive(Debug, Default)]
pub struct RequestParser {
    /// The request found by the last successful `parse`.
    pub request: Request,
}

impl RequestParser {
    /// Creates a parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses one request at the start of `buf`. On `Complete(n)` the request is in
    /// `self.request` and its ranges refer to `buf`; the caller consumes `n` bytes after it is
    /// done with the arguments.
    pub fn parse(&mut self, buf: &[u8], limits: &RequestLimits) -> Result<Parsed, ParseError> {
        self.request.clear();
        match buf.first() {
            None => Ok(Parsed::Incomplete { hint: 0 }),
            Some(b'*') => self.parse_multibulk(buf, limits),
            Some(_) => self.parse_inline(buf),
        }
    }

    fn parse_multibulk(
        &mut self,
        buf: &[u8],
        limits: &RequestLimits,
    ) -> Result<Parsed, ParseError> {
        let Some(nl) = find_crlf(buf, 1) else {
            if buf.len() > INLINE_MAX_SIZE {
                return Err(ParseError::TooBigMbulkCount);
            }
            return Ok(Parsed::Incomplete { hint: 0 });
        };
        let argc = match parse_i64(&buf[1..nl]) {
            Some(n) if n <= i32::MAX as i64 => n,
            _ => return Err(ParseError::InvalidMultibulkLength),
        };
        if argc > 10 && limits.unauthenticated {
            return Err(ParseError::UnauthenticatedMultibulk);
        }
        let mut pos = nl + 2;
        if argc <= 0 {
            return Ok(Parsed::Complete(pos));
        }
        // Reserve lazily: a hostile client may declare a huge count and send nothing.
        self.request.ranges.reserve((argc as usize).min(1024));
        for _ in 0..argc {
            let Some(&first) = buf.get(pos) else {
                return Ok(Parsed::Incomplete { hint: 0 });
            };
            if first != b'$' {
                return Err(ParseError::ExpectedDollar(first as char));
            }
            let Some(nl) = find_crlf(buf, pos + 1) else {
                if buf.len() - pos > INLINE_MAX_SIZE {
                    return Err(ParseError::TooBigBulkCount);
                }
                return Ok(Parsed::Incomplete { hint: 0 });
            };
            let len = match parse_i64(&buf[pos + 1..nl]) {
                Some(n) if n >= 0 && (n as u64) <= limits.max_bulk_len => n as usize,
                _ => return Err(ParseError::InvalidBulkLength),
            };
            if len > 16384 && limits.unauthenticated {
                return Err(ParseError::UnauthenticatedBulk);
            }
            let start = nl + 2;
            let end = start + len;
            if buf.len() < end + 2 {
                return Ok(Parsed::Incomplete { hint: end + 2 });
            }
            // Redis does not check the two bytes after the payload; neither do we, so a client
            // sending "\n" alone still works the same way against both.
            self.request.ranges.push(start..end);
            pos = end + 2;
        }
        Ok(Parsed::Complete(pos))
    }

    fn parse_inline(&mut self, buf: &[u8]) -> Result<Parsed, ParseError> {
        let Some(nl) = memchr::memchr(b'\n', buf) else {
            if buf.len() > INLINE_MAX_SIZE {
                return Err(ParseError::TooBigInline);
            }
            return Ok(Parsed::Incomplete { hint: 0 });
        };
        let mut line_end = nl;
        if line_end > 0 && buf[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let line = &buf[..line_end];
        if line.iter().any(|&c| c == b'"' || c == b'\'') {
            self.request.owned = split_args(line).ok_or(ParseError::UnbalancedQuotes)?;
        } else {
            let mut i = 0;
            while i < line.len() {
                while i < line.len() && is_space(line[i]) {
                    i += 1;
                }
                let start = i;
                while i < line.len() && !is_space(line[i]) {
                    i += 1;
                }
                if i > start {
                    self.request.ranges.push(start..i);
                }
            }
        }
        Ok(Parsed::Complete(nl + 1))
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' | 0)
}

/// Finds "\r\n" at or after `from`, returning the index of the '\r'.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let i = at + memchr::memchr(b'\r', buf.get(at..)?)?;
        if buf.get(i + 1) == Some(&b'\n') {
            return Some(i);
        }
        if i + 1 >= buf.len() {
            return None;
        }
        at = i + 1;
    }
}

/// Encodes a command as a RESP array of bulk strings, as clients send it and as a replication
/// stream carries it.
pub fn encode_command(out: &mut Vec<u8>, argv: &[&[u8]]) {
    let mut b = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(b.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(b.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Parses a decimal integer as Redis's `string2ll` does: optional '-', digits, no spaces, no
/// '+', no leading zeros except "0" itself, and no overflow.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let (neg, digits) = if b[0] == b'-' {
        (true, &b[1..])
    } else {
        (false, b)
    };
    if digits.is_empty() || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Splits an inline line into arguments the way Redis's `sdssplitargs` does: whitespace
/// separates words; "double quotes" support \n \r \t \b \a \\ \" and \xHH escapes; 'single
/// quotes' support only \'; a closing quote must be followed by a space or the end of line.
/// Returns None for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(h), Some(l)) = (hex(line[i + 2]), hex(line[i + 3])) {
                        cur.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    // The closing quote must be followed by a space or nothing.
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
                i += 1;
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    cur.push(b'\'');
                    i += 2;
                    continue;
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    c if is_space(c) => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
                i += 1;
            }
        }
        out.push(cur);
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests;
