//! RDB encoding of zset values. Placeholder: lands with the zset type.

use std::io::{self, Write};

use tern_keyspace::ZSet;

use super::{RdbError, RdbErrorKind, RdbReader, RdbWriter};

/// The RDB object type byte Redis writes for `v` in its current encoding.
pub fn type_of(_v: &ZSet) -> u8 {
    super::object_type::ZSET
}

/// Writes `v`'s payload (without the type byte).
pub fn write<W: Write>(_w: &mut RdbWriter<W>, _v: &ZSet) -> io::Result<()> {
    Err(io::Error::other("zset values cannot be serialized yet"))
}

/// Reads the payload of a zset object of type `ty` (its type byte already read).
pub fn read(r: &mut RdbReader<'_>, ty: u8) -> Result<ZSet, RdbError> {
    Err(r.error_at(r.position(), RdbErrorKind::UnsupportedType(ty)))
}
