//! The server-side reply writer.
//!
//! Handlers write replies straight into the connection's output buffer through
//! [`ReplyWriter`]; nothing builds an intermediate tree. The writer knows the connection's
//! protocol version and maps RESP3-only types onto RESP2 the way Redis does:
//!
//! | RESP3            | RESP2                         |
//! |------------------|-------------------------------|
//! | `_` null         | `$-1` (or `*-1` for arrays)   |
//! | `%` map of n     | `*` array of 2n               |
//! | `~` set          | `*` array                     |
//! | `,` double       | `$` bulk string               |
//! | `#` boolean      | `:` integer 1/0               |
//! | `=` verbatim     | `$` bulk string               |
//! | `>` push         | `*` array                     |

/// The protocol a connection speaks, switched by `HELLO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Proto {
    /// RESP2, the default for new connections.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

/// Writes replies into an output buffer.
#[derive(Debug, Default)]
pub struct ReplyWriter {
    /// Encoded replies waiting to be written to the socket.
    pub buf: Vec<u8>,
    /// The connection's protocol.
    pub proto: Proto,
}

impl ReplyWriter {
    /// Creates a writer for a new RESP2 connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when the connection speaks RESP3.
    #[inline]
    pub fn resp3(&self) -> bool {
        self.proto == Proto::Resp3
    }

    /// `+OK`.
    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string, `+text`. The text must not contain CR or LF.
    #[inline]
    pub fn simple(&mut self, s: &str) {
        self.simple_bytes(s.as_bytes());
    }

    /// A simple string from bytes; CR and LF are replaced by spaces as Redis does.
    pub fn simple_bytes(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.push_line_safe(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply. `msg` is the whole text after '-', e.g. "ERR syntax error" or
    /// "WRONGTYPE Operation against...". CR and LF are replaced by spaces.
    pub fn error(&mut self, msg: &str) {
        self.buf.push(b'-');
        self.push_line_safe(msg.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    fn push_line_safe(&mut self, s: &[u8]) {
        if s.iter().any(|&c| c == b'\r' || c == b'\n') {
            self.buf.extend(
                s.iter()
                    .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
            );
        } else {
            self.buf.extend_from_slice(s);
        }
    }

    /// An integer, `:n`.
    #[inline]
    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    /// A bulk string.
    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        self.header(b'$', b.len() as i64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer formatted as a bulk string (as GET returns an int-encoded value).
    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        self.bulk(b.format(n).as_bytes());
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    #[inline]
    pub fn null(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    /// An array header of `n` elements; the caller writes the elements.
    #[inline]
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map header of `n` key/value pairs (`*2n` in RESP2).
    pub fn map(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// A set header of `n` elements (`*n` in RESP2).
    pub fn set(&mut self, n: usize) {
        self.header(if self.resp3() { b'~' } else { b'*' }, n as i64);
    }

    /// A push header of `n` elements (`*n` in RESP2, as pub/sub messages are).
    pub fn push(&mut self, n: usize) {
        self.header(if self.resp3() { b'>' } else { b'*' }, n as i64);
    }

    /// A double: `,x` in RESP3, a bulk string in RESP2, formatted like Redis 7.0 (`%.17g`).
    pub fn double(&mut self, d: f64) {
        let s = format_double(d);
        if self.resp3() {
            self.buf.push(b',');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.resp3() {
            self.buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// A verbatim string with a three-letter format ("txt"): `=` in RESP3, bulk in RESP2.
    pub fn verbatim(&mut self, format: &str, text: &[u8]) {
        if self.resp3() {
            self.header(b'=', (text.len() + 4) as i64);
            self.buf.extend_from_slice(format.as_bytes());
            self.buf.push(b':');
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// Appends bytes that are already RESP-encoded.
    pub fn raw(&mut self, encoded: &[u8]) {
        self.buf.extend_from_slice(encoded);
    }

    #[inline]
    fn header(&mut self, kind: u8, n: i64) {
        let mut b = itoa::Buffer::new();
        self.buf.push(kind);
        self.buf.extend_from_slice(b.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }
}

/// Formats a double as C's `%.17g` does, with Redis's spellings `inf`, `-inf` and `nan`.
pub fn format_double(d: f64) -> String {
    format_g(d, 17)
}

/// Formats a double as C's `%.<precision>g`.
pub fn format_g(d: f64, precision: usize) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let p = precision.max(1);
    // Round to p significant digits first; the exponent of the rounded value decides the style.
    let e = format!("{:.*e}", p - 1, d);
    let (mantissa, exp) = e.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    if exp < -4 || exp >= p as i32 {
        let m = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{:.*}", decimals, d)).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_and_resp3_shapes() {
        let mut w = ReplyWriter::new();
        w.map(2);
        w.null();
        w.boolean(true);
        w.double(1.5);
        assert_eq!(w.buf, b"*4\r\n$-1\r\n:1\r\n$3\r\n1.5\r\n");
        let mut w = ReplyWriter {
            proto: Proto::Resp3,
            ..Default::default()
        };
        w.map(2);
        w.null();
        w.boolean(true);
        w.double(1.5);
        assert_eq!(w.buf, b"%2\r\n_\r\n#t\r\n,1.5\r\n");
    }

    #[test]
    fn errors_never_break_the_line() {
        let mut w = ReplyWriter::new();
        w.error("ERR a\r\nb");
        assert_eq!(w.buf, b"-ERR a  b\r\n");
    }

    #[test]
    fn doubles_format_like_printf_g17() {
        assert_eq!(format_double(1.1), "1.1000000000000001");
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(-2.5), "-2.5");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(1.5e-7), "1.4999999999999999e-07");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(
            format_double(123456789012345678.0),
            "1.2345678901234568e+17"
        );
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_g(0.1, 17), "0.10000000000000001");
    }
}
