//! The string type (`RDB_TYPE_STRING`, 0): one string in any of the string encodings.

use std::io::{self, Write};

use tern_keyspace::value::Str;

use super::{RdbError, RdbReader, RdbString, RdbWriter};

/// Writes a string value's payload as `rdbSaveStringObject` does: an int-encoded value via
/// `rdbSaveLongLongAsStringObject`, bytes via `rdbSaveRawString` (which still picks the
/// integer encoding for canonical decimals that fit in 32 bits).
pub fn write_string_value<W: Write>(w: &mut RdbWriter<W>, s: &Str) -> io::Result<()> {
    match s {
        Str::Int(v) => w.write_int_string(*v),
        Str::Bytes { data, .. } => w.write_string(data),
    }
}

/// Reads a string value's payload and gives it the encoding Redis's `tryObjectEncoding`
/// would: integer-encoded payloads and canonical decimals become `Int`, other strings
/// `embstr` or `raw` by length.
pub fn read_string_value(r: &mut RdbReader<'_>) -> Result<Str, RdbError> {
    Ok(match r.read_string()? {
        RdbString::Int(v) => Str::Int(v),
        RdbString::Bytes(b) => Str::from_bytes(&b),
    })
}
