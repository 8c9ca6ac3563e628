//! RESP values as a tree, with a decoder and an encoder.
//!
//! The server never builds frames on its hot path (see [`crate::reply`]); frames are for the
//! other side of the wire: clients, tests, and replication consumers that must read whatever a
//! server sends, RESP2 or RESP3.

use std::fmt;

/// One RESP2 or RESP3 value.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// `+text`
    Simple(String),
    /// `-text`
    Error(String),
    /// `:n`
    Integer(i64),
    /// `$len bytes`
    Bulk(Vec<u8>),
    /// `$-1`, `*-1` or RESP3 `_`
    Null,
    /// `*n ...`
    Array(Vec<Frame>),
    /// RESP3 `%n` key/value pairs
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~n`
    Set(Vec<Frame>),
    /// RESP3 `,x`
    Double(f64),
    /// RESP3 `#t` / `#f`
    Boolean(bool),
    /// RESP3 `(digits`
    BigNumber(String),
    /// RESP3 `=len fmt:text`
    Verbatim(String, Vec<u8>),
    /// RESP3 `>n` out-of-band push
    Push(Vec<Frame>),
}

/// Why a buffer could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The buffer ends inside a frame: read more bytes and try again. Control flow, not failure.
    #[error("incomplete frame")]
    Incomplete,
    /// The bytes are not RESP.
    #[error("invalid frame: {0}")]
    Invalid(String),
}

const MAX_DEPTH: usize = 512;

impl Frame {
    /// Decodes one frame from the start of `buf`, returning it and the number of bytes used.
    pub fn decode(buf: &[u8]) -> Result<(Frame, usize), DecodeError> {
        let mut pos = 0;
        let f = decode_at(buf, &mut pos, 0)?;
        Ok((f, pos))
    }

    /// Encodes the frame as RESP (RESP3 types are written as RESP3).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Simple(s) => line(out, b'+', s.as_bytes()),
            Frame::Error(s) => line(out, b'-', s.as_bytes()),
            Frame::Integer(n) => line(out, b':', n.to_string().as_bytes()),
            Frame::Bulk(b) => {
                line(out, b'$', b.len().to_string().as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Null => out.extend_from_slice(b"_\r\n"),
            Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
                let kind = match self {
                    Frame::Array(_) => b'*',
                    Frame::Set(_) => b'~',
                    _ => b'>',
                };
                line(out, kind, v.len().to_string().as_bytes());
                v.iter().for_each(|f| f.encode(out));
            }
            Frame::Map(v) => {
                line(out, b'%', v.len().to_string().as_bytes());
                for (k, val) in v {
                    k.encode(out);
                    val.encode(out);
                }
            }
            Frame::Double(d) => line(out, b',', crate::reply::format_double(*d).as_bytes()),
            Frame::Boolean(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Frame::BigNumber(s) => line(out, b'(', s.as_bytes()),
            Frame::Verbatim(fmt, text) => {
                line(out, b'=', (text.len() + 4).to_string().as_bytes());
                out.extend_from_slice(fmt.as_bytes());
                out.push(b':');
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// Encodes a command (an array of bulk strings), as clients send requests.
    pub fn command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
        let mut out = Vec::new();
        line(&mut out, b'*', args.len().to_string().as_bytes());
        for a in args {
            let a = a.as_ref();
            line(&mut out, b'$', a.len().to_string().as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// The bytes of a bulk, simple or verbatim string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::Bulk(b) | Frame::Verbatim(_, b) => Some(b),
            Frame::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Frame::Simple(s) => write!(f, "{s}"),
            Frame::Error(s) => write!(f, "(error) {s}"),
            Frame::Integer(n) => write!(f, "(integer) {n}"),
            Frame::Bulk(b) | Frame::Verbatim(_, b) => write!(f, "\"{}\"", b.escape_ascii()),
            Frame::Null => write!(f, "(nil)"),
            Frame::Double(d) => write!(f, "(double) {d}"),
            Frame::Boolean(b) => write!(f, "({b})"),
            Frame::BigNumber(s) => write!(f, "(big number) {s}"),
            Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
                write!(f, "[")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{x}")?;
                }
                write!(f, "]")
            }
            Frame::Map(v) => {
                write!(f, "{{")?;
                for (i, (k, x)) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}: {x}")?;
                }
                write!(f, "}}")
            }
        }
    }
}

fn line(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
    out.push(kind);
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
}

fn read_line<'a>(buf: &'a [u8], pos: &mut usize) -> Result<&'a [u8], DecodeError> {
    let start = *pos;
    let rest = buf.get(start..).ok_or(DecodeError::Incomplete)?;
    let i = memchr::memchr(b'\n', rest).ok_or(DecodeError::Incomplete)?;
    if i == 0 || rest[i - 1] != b'\r' {
        return Err(DecodeError::Invalid("line not terminated by CRLF".into()));
    }
    *pos = start + i + 1;
    Ok(&rest[..i - 1])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn int(b: &[u8]) -> Result<i64, DecodeError> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| DecodeError::Invalid(format!("bad integer {:?}", text(b))))
}

fn bytes(buf: &[u8], pos: &mut usize, len: i64) -> Result<Vec<u8>, DecodeError> {
    let len = usize::try_from(len).map_err(|_| DecodeError::Invalid("negative length".into()))?;
    let end = pos.checked_add(len).ok_or(DecodeError::Incomplete)?;
    if buf.len() < end + 2 {
        return Err(DecodeError::Incomplete);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err(DecodeError::Invalid("bulk not terminated by CRLF".into()));
    }
    let v = buf[*pos..end].to_vec();
    *pos = end + 2;
    Ok(v)
}

fn items(buf: &[u8], pos: &mut usize, n: i64, depth: usize) -> Result<Vec<Frame>, DecodeError> {
    // Never trust a declared count for the allocation: each element takes at least 3 bytes.
    let mut v = Vec::with_capacity((n.max(0) as usize).min(buf.len() / 3 + 1));
    for _ in 0..n {
        v.push(decode_at(buf, pos, depth + 1)?);
    }
    Ok(v)
}

fn decode_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Frame, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::Invalid("nesting too deep".into()));
    }
    let kind = *buf.get(*pos).ok_or(DecodeError::Incomplete)?;
    *pos += 1;
    let l = read_line(buf, pos)?;
    Ok(match kind {
        b'+' => Frame::Simple(text(l)),
        b'-' => Frame::Error(text(l)),
        b':' => Frame::Integer(int(l)?),
        b'$' => match int(l)? {
            -1 => Frame::Null,
            n => Frame::Bulk(bytes(buf, pos, n)?),
        },
        b'*' => match int(l)? {
            -1 => Frame::Null,
            n => Frame::Array(items(buf, pos, n, depth)?),
        },
        b'~' => Frame::Set(items(buf, pos, int(l)?, depth)?),
        b'>' => Frame::Push(items(buf, pos, int(l)?, depth)?),
        b'%' => {
            let v = items(buf, pos, int(l)?.saturating_mul(2), depth)?;
            let mut it = v.into_iter();
            let mut m = Vec::new();
            while let (Some(k), Some(x)) = (it.next(), it.next()) {
                m.push((k, x));
            }
            Frame::Map(m)
        }
        b'|' => {
            // An attribute map precedes the real reply; decode and drop it.
            items(buf, pos, int(l)?.saturating_mul(2), depth)?;
            decode_at(buf, pos, depth + 1)?
        }
        b'_' => Frame::Null,
        b'#' => Frame::Boolean(l == b"t"),
        b',' => Frame::Double(match l {
            b"inf" => f64::INFINITY,
            b"-inf" => f64::NEG_INFINITY,
            _ => text(l)
                .parse()
                .map_err(|_| DecodeError::Invalid("bad double".into()))?,
        }),
        b'(' => Frame::BigNumber(text(l)),
        b'=' | b'!' => {
            let b = bytes(buf, pos, int(l)?)?;
            if kind == b'!' {
                Frame::Error(text(&b))
            } else if b.len() >= 4 && b[3] == b':' {
                Frame::Verbatim(text(&b[..3]), b[4..].to_vec())
            } else {
                Frame::Bulk(b)
            }
        }
        other => {
            return Err(DecodeError::Invalid(format!(
                "unknown type byte {other:#04x}"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_frame() -> impl Strategy<Value = Frame> {
        let leaf = prop_oneof![
            "[a-z ]{0,8}".prop_map(Frame::Simple),
            "[A-Z ]{0,8}".prop_map(Frame::Error),
            any::<i64>().prop_map(Frame::Integer),
            proptest::collection::vec(any::<u8>(), 0..16).prop_map(Frame::Bulk),
            Just(Frame::Null),
            any::<bool>().prop_map(Frame::Boolean),
            (-1e10f64..1e10).prop_map(Frame::Double),
        ];
        leaf.prop_recursive(3, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Frame::Array),
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Frame::Push),
                proptest::collection::vec((inner.clone(), inner), 0..3).prop_map(Frame::Map),
            ]
        })
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(f in arb_frame()) {
            let mut out = Vec::new();
            f.encode(&mut out);
            let (g, n) = Frame::decode(&out).unwrap();
            prop_assert_eq!(n, out.len());
            // Doubles go through %.17g, which round-trips exactly.
            prop_assert_eq!(g, f);
        }

        #[test]
        fn every_strict_prefix_is_incomplete(f in arb_frame()) {
            let mut out = Vec::new();
            f.encode(&mut out);
            for cut in 0..out.len() {
                prop_assert_eq!(Frame::decode(&out[..cut]).unwrap_err(), DecodeError::Incomplete);
            }
        }

        #[test]
        fn garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Frame::decode(&b);
        }
    }

    #[test]
    fn resp2_nulls_decode_as_null() {
        assert_eq!(Frame::decode(b"$-1\r\n").unwrap().0, Frame::Null);
        assert_eq!(Frame::decode(b"*-1\r\n").unwrap().0, Frame::Null);
    }
}
