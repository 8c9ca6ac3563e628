//! Values stored in the keyspace and their Redis-visible encodings.
//!
//! A [`Value`] is what a key maps to. Strings keep Redis's three encodings visible through
//! `OBJECT ENCODING`: `int` (a canonical decimal that fits an `i64`), `embstr` (at most 44
//! bytes, created whole) and `raw` (longer, or grown in place by APPEND/SETRANGE).

/// Byte strings of up to 23 bytes live inline in 24 bytes (no allocation); longer ones spill to
/// the heap. Most keys and many values are that short, which saves an allocation and a cache
/// miss per lookup.
pub type SmallBytes = compact_bytes::CompactBytes;

/// The longest string Redis stores as `embstr`.
pub const EMBSTR_MAX: usize = 44;

/// A string value in one of Redis's encodings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Str {
    /// A canonical decimal integer that fits in an `i64` (`OBJECT ENCODING` "int").
    Int(i64),
    /// Bytes; `raw` is true when Redis would report "raw" rather than "embstr".
    Bytes { data: SmallBytes, raw: bool },
}

/// A value of any type.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Str),
    List(crate::List),
    Hash(crate::Hash),
    Set(crate::Set),
    ZSet(crate::ZSet),
}

impl Str {
    /// Builds a string from bytes the way Redis's `tryObjectEncoding` does for SET:
    /// canonical integers become `Int`, short strings `embstr`, long ones `raw`.
    pub fn from_bytes(b: &[u8]) -> Str {
        if let Some(i) = parse_canonical_i64(b) {
            return Str::Int(i);
        }
        Str::Bytes {
            data: SmallBytes::new(b),
            raw: b.len() > EMBSTR_MAX,
        }
    }

    /// Builds a string without trying the integer encoding (`embstr` up to 44 bytes, else
    /// `raw`), as Redis's `createStringObject` does for results such as INCRBYFLOAT's.
    pub fn from_bytes_unencoded(b: &[u8]) -> Str {
        Str::Bytes {
            data: SmallBytes::new(b),
            raw: b.len() > EMBSTR_MAX,
        }
    }

    /// Builds a string that Redis would hold as a raw (mutable) sds, as after APPEND.
    pub fn raw(data: SmallBytes) -> Str {
        Str::Bytes { data, raw: true }
    }

    /// The length in bytes of the string's value.
    pub fn len(&self) -> usize {
        match self {
            Str::Int(i) => {
                let mut buf = itoa::Buffer::new();
                buf.format(*i).len()
            }
            Str::Bytes { data, .. } => data.len(),
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with the string's bytes (formatting an integer on the stack).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Str::Int(i) => {
                let mut buf = itoa::Buffer::new();
                f(buf.format(*i).as_bytes())
            }
            Str::Bytes { data, .. } => f(data),
        }
    }

    /// The string's bytes as an owned vector.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Bytes { raw: false, .. } => "embstr",
            Str::Bytes { raw: true, .. } => "raw",
        }
    }
}

impl Value {
    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }
}

/// Parses `b` as an `i64` only if it is in canonical form (what `INCR` accepts and what Redis
/// stores as an int-encoded string): Redis's `string2ll` rules, shared with the protocol parser.
pub fn parse_canonical_i64(b: &[u8]) -> Option<i64> {
    tern_resp::request::parse_i64(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers_parse_and_others_do_not() {
        assert_eq!(parse_canonical_i64(b"0"), Some(0));
        assert_eq!(parse_canonical_i64(b"-1"), Some(-1));
        assert_eq!(parse_canonical_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_canonical_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_canonical_i64(b"9223372036854775808"), None);
        assert_eq!(parse_canonical_i64(b"01"), None);
        assert_eq!(parse_canonical_i64(b"-0"), None);
        assert_eq!(parse_canonical_i64(b"+1"), None);
        assert_eq!(parse_canonical_i64(b" 1"), None);
        assert_eq!(parse_canonical_i64(b""), None);
        assert_eq!(parse_canonical_i64(b"-"), None);
    }

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(Str::from_bytes(b"123").encoding(), "int");
        assert_eq!(Str::from_bytes(b"abc").encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'a'; 45]).encoding(), "raw");
        assert_eq!(Str::from_bytes(b"-12").len(), 3);
    }
}
