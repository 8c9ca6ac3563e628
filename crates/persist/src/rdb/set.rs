//! RDB encoding of set values. Placeholder: lands with the set type.

use std::io::{self, Write};

use tern_keyspace::Set;

use super::{RdbError, RdbErrorKind, RdbReader, RdbWriter};

/// The RDB object type byte Redis writes for `v` in its current encoding.
pub fn type_of(_v: &Set) -> u8 {
    super::object_type::SET
}

/// Writes `v`'s payload (without the type byte).
pub fn write<W: Write>(_w: &mut RdbWriter<W>, _v: &Set) -> io::Result<()> {
    Err(io::Error::other("set values cannot be serialized yet"))
}

/// Reads the payload of a set object of type `ty` (its type byte already read).
pub fn read(r: &mut RdbReader<'_>, ty: u8) -> Result<Set, RdbError> {
    Err(r.error_at(r.position(), RdbErrorKind::UnsupportedType(ty)))
}
