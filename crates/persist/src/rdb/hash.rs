//! RDB encoding of hash values. Placeholder: lands with the hash type.

use std::io::{self, Write};

use tern_keyspace::Hash;

use super::{RdbError, RdbErrorKind, RdbReader, RdbWriter};

/// The RDB object type byte Redis writes for `v` in its current encoding.
pub fn type_of(_v: &Hash) -> u8 {
    super::object_type::HASH
}

/// Writes `v`'s payload (without the type byte).
pub fn write<W: Write>(_w: &mut RdbWriter<W>, _v: &Hash) -> io::Result<()> {
    Err(io::Error::other("hash values cannot be serialized yet"))
}

/// Reads the payload of a hash object of type `ty` (its type byte already read).
pub fn read(r: &mut RdbReader<'_>, ty: u8) -> Result<Hash, RdbError> {
    Err(r.error_at(r.position(), RdbErrorKind::UnsupportedType(ty)))
}
