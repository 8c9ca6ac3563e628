//! RDB encoding of list values. Placeholder: lands with the list type.

use std::io::{self, Write};

use tern_keyspace::List;

use super::{RdbError, RdbErrorKind, RdbReader, RdbWriter};

/// The RDB object type byte Redis writes for `v` in its current encoding.
pub fn type_of(_v: &List) -> u8 {
    super::object_type::LIST
}

/// Writes `v`'s payload (without the type byte).
pub fn write<W: Write>(_w: &mut RdbWriter<W>, _v: &List) -> io::Result<()> {
    Err(io::Error::other("list values cannot be serialized yet"))
}

/// Reads the payload of a list object of type `ty` (its type byte already read).
pub fn read(r: &mut RdbReader<'_>, ty: u8) -> Result<List, RdbError> {
    Err(r.error_at(r.position(), RdbErrorKind::UnsupportedType(ty)))
}
