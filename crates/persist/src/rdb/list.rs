//! RDB encoding of list values, as Redis 7.0 writes and reads them.
//!
//! A list is written as `RDB_TYPE_LIST_QUICKLIST_2` (18): the node count, then for each node
//! its container (2 = packed) and its listpack bytes as an RDB string (LZF-compressed by
//! `rdbSaveRawString` when compression is on and it pays). Reading accepts that and, as Redis
//! 7.0's loader does, the types of older versions:
//! - 1 (`RDB_TYPE_LIST`, Redis < 3.2): the count, then each element as a string, pushed one by
//!   one (so nodes follow the list's fill);
//! - 10 (`RDB_TYPE_LIST_ZIPLIST`, Redis < 3.2): one ziplist, its elements pushed one by one;
//! - 14 (`RDB_TYPE_LIST_QUICKLIST`, Redis 3.2 to 6.2): the node count, then each node as a
//!   ziplist string, each becoming one listpack node (empty ones skipped).
//!
//! A list without elements is [`RdbErrorKind::EmptyKey`] (a file loader skips the key).

use std::io::{self, Write};

use tern_keyspace::listpack::Listpack;
use tern_keyspace::List;

use super::ziplist::{decode_ziplist, ZlEntry};
use super::{object_type, RdbError, RdbErrorKind, RdbReader, RdbWriter};

/// `QUICKLIST_NODE_CONTAINER_PLAIN`: a node holding one large element as raw bytes.
const CONTAINER_PLAIN: u64 = 1;
/// `QUICKLIST_NODE_CONTAINER_PACKED`: a node holding a listpack.
const CONTAINER_PACKED: u64 = 2;

/// The RDB object type byte Redis 7.0 writes for `v` (always a quicklist).
pub fn type_of(_v: &List) -> u8 {
    object_type::LIST_QUICKLIST_2
}

/// Writes `v`'s payload (without the type byte).
pub fn write<W: Write>(w: &mut RdbWriter<W>, v: &List) -> io::Result<()> {
    w.write_len(v.nodes().len() as u64)?;
    for node in v.nodes() {
        w.write_len(CONTAINER_PACKED)?;
        w.write_string(node.as_bytes())?;
    }
    Ok(())
}

/// Reads the payload of a list object of type `ty` (its type byte already read).
pub fn read(r: &mut RdbReader<'_>, ty: u8) -> Result<List, RdbError> {
    let start = r.position();
    let mut list = List::new_unset();
    match ty {
        object_type::LIST_QUICKLIST_2 => {
            // Each node takes at least two bytes (container and string length).
            let n = r.read_count(2)?;
            for _ in 0..n {
                let at = r.position();
                let container = r.read_len()?;
                let data = r.read_string_bytes()?;
                if data.is_empty() {
                    return Err(r.error_at(at, RdbErrorKind::Invalid("empty quicklist node")));
                }
                match container {
                    CONTAINER_PACKED => {
                        let lp = Listpack::from_bytes(data.into_owned()).map_err(|_| {
                            r.error_at(at, RdbErrorKind::Invalid("listpack integrity check failed"))
                        })?;
                        // Redis skips empty listpacks silently.
                        list.append_node(lp);
                    }
                    CONTAINER_PLAIN => {
                        // A plain node holds one element of 1 GiB or more; tern keeps it in a
                        // packed node of its own.
                        let mut lp = Listpack::new();
                        lp.push_back(&data);
                        list.append_node(lp);
                    }
                    _ => {
                        return Err(r.error_at(
                            at,
                            RdbErrorKind::Invalid("quicklist integrity check failed"),
                        ))
                    }
                }
            }
        }
        object_type::LIST => {
            // Each element takes at least one byte (its length).
            let n = r.read_count(1)?;
            for _ in 0..n {
                list.push_back(&r.read_string_bytes()?);
            }
        }
        object_type::LIST_ZIPLIST => {
            let (blob, base) = r.read_blob()?;
            for e in decode_ziplist(&blob, base)? {
                match e {
                    ZlEntry::Str(s) => list.push_back(s),
                    ZlEntry::Int(v) => list.push_back(itoa::Buffer::new().format(v).as_bytes()),
                }
            }
        }
        object_type::LIST_QUICKLIST => {
            // Each node takes at least one byte (its string length).
            let n = r.read_count(1)?;
            for _ in 0..n {
                let (blob, base) = r.read_blob()?;
                let mut lp = Listpack::new();
                for e in decode_ziplist(&blob, base)? {
                    match e {
                        ZlEntry::Str(s) => lp.push_back(s),
                        ZlEntry::Int(v) => lp.push_back_int(v),
                    }
                }
                list.append_node(lp);
            }
        }
        _ => return Err(r.error_at(start, RdbErrorKind::UnsupportedType(ty))),
    }
    if list.is_empty() {
        return Err(r.error_at(start, RdbErrorKind::EmptyKey));
    }
    Ok(list)
}
