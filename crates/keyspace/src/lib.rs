//! The keyspace: databases of keys mapping to values, expiry, and pure data-type operations.
//! It never sees a RESP frame: the server's command families call into it.

pub mod db;
pub mod dict;
pub mod longdouble;
pub mod value;

pub use db::{Db, Entry, Expired, Key, Keyspace, Shard, ShardGuard};
pub use value::{Str, Value};
