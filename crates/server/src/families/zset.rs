//! ZSet commands. Placeholder: the commands land with the zset type.

use crate::families::debug::Digest20;
use crate::table::CommandTable;
use tern_keyspace::ZSet;

/// Registers the zset commands.
pub fn register(_t: &mut CommandTable) {}

/// Mixes a zset value into a DEBUG DIGEST(-VALUE) digest, as Redis does for this type.
pub fn digest(_d: &mut Digest20, _v: &ZSet) {}
