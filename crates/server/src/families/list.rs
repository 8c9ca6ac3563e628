//! List commands. Placeholder: the commands land with the list type.

use crate::families::debug::Digest20;
use crate::table::CommandTable;
use tern_keyspace::List;

/// Registers the list commands.
pub fn register(_t: &mut CommandTable) {}

/// Mixes a list value into a DEBUG DIGEST(-VALUE) digest, as Redis does for this type.
pub fn digest(_d: &mut Digest20, _v: &List) {}
