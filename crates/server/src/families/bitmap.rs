//! Placeholder: the bitmap commands land here.

use crate::table::CommandTable;

/// Registers the bitmap commands.
pub fn register(_t: &mut CommandTable) {}
