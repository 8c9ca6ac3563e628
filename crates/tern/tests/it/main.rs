//! Integration tests: the real `tern` binary driven by real clients (the `redis` crate, raw
//! TCP, redis-cli) and compared with Debian's real redis-server.
//!
//! Run: `cargo test -p tern --test it`. redis-server and redis-cli must be installed
//! (`./scripts/test` installs them; tests that need them fail, never skip, when missing).
//! `TERN_IT_SERVER=redis cargo test -p tern --test it` runs the same tests against the real
//! redis-server, which checks the tests themselves (all pass there but the one test of CLIENT
//! SETINFO, a Redis 7.2 command that Debian's 7.0 lacks).

mod acl;
mod aof;
mod aof_files;
mod bitmaps;
mod blocking;
mod differential;
mod eviction;
mod functions;
mod harness;
mod hashes;
mod hll;
mod hostile;
mod keys;
mod limits;
mod lists;
mod notifications;
mod persistence;
mod protocol;
mod pubsub;
mod rdb_files;
mod redis_cli;
mod replication;
mod scripting;
mod server_cmds;
mod sets;
mod sort;
mod startup;
mod strings;
mod tail;
mod tls;
mod tracking;
mod transactions;
mod wan;
mod zsets;
