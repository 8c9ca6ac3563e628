//! Whole objects: the type byte that goes with a [`Value`], and dispatch from a value or a
//! type byte to the per-type encode and decode functions.

use std::io::{self, Write};

use tern_keyspace::value::Value;

use super::{
    hash, list, object_type, set, string, zset, RdbError, RdbErrorKind, RdbReader, RdbWriter,
};

/// The RDB object type byte Redis writes for `value` in its current encoding.
pub fn type_of(value: &Value) -> u8 {
    match value {
        Value::Str(_) => object_type::STRING,
        Value::List(v) => list::type_of(v),
        Value::Hash(v) => hash::type_of(v),
        Value::Set(v) => set::type_of(v),
        Value::ZSet(v) => zset::type_of(v),
    }
}

/// Writes `value`'s payload (without the type byte, see [`type_of`]).
pub fn write_object<W: Write>(w: &mut RdbWriter<W>, value: &Value) -> io::Result<()> {
    match value {
        Value::Str(s) => string::write_string_value(w, s),
        Value::List(v) => list::write(w, v),
        Value::Hash(v) => hash::write(w, v),
        Value::Set(v) => set::write(w, v),
        Value::ZSet(v) => zset::write(w, v),
    }
}

/// Writes `value`'s type byte and payload, as a DUMP payload or an RDB key entry has them.
pub fn write_typed_object<W: Write>(w: &mut RdbWriter<W>, value: &Value) -> io::Result<()> {
    w.write_u8(type_of(value))?;
    write_object(w, value)
}

/// Reads the payload of an object of type `ty` (its type byte already read). Known types not
/// loadable yet fail with [`RdbErrorKind::UnsupportedType`], other bytes with
/// [`RdbErrorKind::UnknownType`]; either error points at the payload's first byte.
pub fn read_object(r: &mut RdbReader<'_>, ty: u8) -> Result<Value, RdbError> {
    match ty {
        object_type::STRING => Ok(Value::Str(string::read_string_value(r)?)),
        object_type::LIST
        | object_type::LIST_ZIPLIST
        | object_type::LIST_QUICKLIST
        | object_type::LIST_QUICKLIST_2 => Ok(Value::List(list::read(r, ty)?)),
        object_type::HASH
        | object_type::HASH_ZIPMAP
        | object_type::HASH_ZIPLIST
        | object_type::HASH_LISTPACK => Ok(Value::Hash(hash::read(r, ty)?)),
        object_type::SET | object_type::SET_INTSET | object_type::SET_LISTPACK => {
            Ok(Value::Set(set::read(r, ty)?))
        }
        object_type::ZSET
        | object_type::ZSET_2
        | object_type::ZSET_ZIPLIST
        | object_type::ZSET_LISTPACK => Ok(Value::ZSet(zset::read(r, ty)?)),
        t if object_type::is_object_type(t) => {
            Err(r.error_at(r.position(), RdbErrorKind::UnsupportedType(t)))
        }
        t => Err(r.error_at(r.position(), RdbErrorKind::UnknownType(t))),
    }
}

/// Reads a type byte and the object after it.
pub fn read_typed_object(r: &mut RdbReader<'_>) -> Result<Value, RdbError> {
    let at = r.position();
    let ty = r.read_u8()?;
    if !object_type::is_object_type(ty) {
        return Err(r.error_at(at, RdbErrorKind::UnknownType(ty)));
    }
    read_object(r, ty)
}
