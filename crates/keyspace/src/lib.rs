//! The keyspace: databases of keys mapping to values, expiry, and pure data-type operations.
//! It never sees a RESP frame: the server's command families call into it.

pub mod db;
pub mod dict;
pub mod hash;
pub mod intset;
pub mod limits;
pub mod list;
pub mod listpack;
pub mod longdouble;
pub mod quicklist;
pub mod set;
pub mod value;
pub mod zset;

pub use db::{
    set_write_intent, Db, DbSnap, EncodeFn, Entry, Expired, HoldAll, Key, Keyspace, Shard,
    ShardGuard,
};
pub use hash::Hash;
pub use limits::EncodingLimits;
pub use list::List;
pub use listpack::{Listpack, LpValue};
pub use set::Set;
pub use value::{Str, Value};
pub use zset::ZSet;
