//! Placeholder: the hll commands land here.

use crate::table::CommandTable;

/// Registers the hll commands.
pub fn register(_t: &mut CommandTable) {}
