//! The tern server: networking, the command table and dispatch, the command families,
//! the replication log, INFO and the cron. The binary calls [`net::run`].

pub mod acl;
pub mod aof;
pub mod aof_load;
pub mod args;
pub mod backlog_disk;
pub mod blocking;
pub mod busypoll;
pub mod clients;
pub mod conn;
pub mod cron;
pub mod ctx;
pub mod dispatch;
pub mod errors;
pub mod evict;
pub mod families;
pub mod fuzzing;
pub mod glob;
pub mod loader;
pub mod log;
pub mod net;
pub mod notify;
pub mod outlimit;
pub mod pubsub;
pub mod repl;
pub mod scripting;
pub mod server;
pub mod slowlog;
pub mod snapshot;
pub mod stats;
pub mod table;
pub mod testkit;
pub mod tls;
pub mod tracking;
pub mod watch;

pub use server::Server;
