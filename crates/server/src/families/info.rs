//! INFO and memory accounting.

use crate::table::CommandTable;

/// Registers INFO.
pub fn register(_t: &mut CommandTable) {}

/// Bytes allocated by the process (jemalloc's `stats.allocated`; Redis's used_memory).
pub fn used_memory() -> u64 {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    stats::allocated::read().map(|v| v as u64).unwrap_or(0)
}
