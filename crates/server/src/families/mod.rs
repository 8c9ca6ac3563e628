//! Command families, one file each, like Redis's `t_*.c`. Each registers its rows in the
//! command table.

pub mod acl;
pub mod bitmap;
pub mod blocking_cmds;
pub mod client;
pub mod command;
pub mod config_cmd;
pub mod connection;
pub mod db;
pub mod debug;
pub mod function;
pub mod hash;
pub mod hll;
pub mod info;
pub mod keys;
pub mod list;
pub mod multi;
pub mod persist;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod set;
pub mod slowlog;
pub mod sort;
pub mod string;
#[cfg(test)]
mod string_tests;
pub mod zset;

use crate::table::CommandTable;

/// Registers every family's commands.
pub fn register_all(t: &mut CommandTable) {
    string::register(t);
    connection::register(t);
    server::register(t);
    info::register(t);
    keys::register(t);
    db::register(t);
    command::register(t);
    config_cmd::register(t);
    client::register(t);
    slowlog::register(t);
    debug::register(t);
    list::register(t);
    hash::register(t);
    set::register(t);
    zset::register(t);
    bitmap::register(t);
    hll::register(t);
    blocking_cmds::register(t);
    multi::register(t);
    sort::register(t);
    pubsub::register(t);
    scripting::register(t);
    function::register(t);
    persist::register(t);
    acl::register(t);
    crate::repl::commands::register(t);
}
