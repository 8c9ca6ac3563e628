//! Command families, one file each, like Redis's `t_*.c`. Each registers its rows in the
//! command table.

pub mod connection;
pub mod info;
pub mod server;
pub mod string;

use crate::table::CommandTable;

/// Registers every family's commands.
pub fn register_all(t: &mut CommandTable) {
    string::register(t);
    connection::register(t);
    server::register(t);
    info::register(t);
}
