//! The `tern` binary: a thin wrapper that parses the subcommand and hands over to the library
//! crates. `tern server [config-file] [--directive value ...]` runs the server;
//! `tern check-rdb <file>` checks an RDB file as `redis-check-rdb` does, and
//! `tern check-aof [--fix] <manifest|file>` an AOF as `redis-check-aof` does.

use clap::{Parser, Subcommand};

mod check_aof;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Tern: a Redis-compatible in-memory data store built to run everywhere.
#[derive(Parser)]
#[command(name = "tern", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server. Arguments follow redis-server: an optional config file, then any
    /// directive as `--name value` (for example `--port 7000 --save ""`).
    Server {
        /// Config file and `--directive value` pairs, as redis-server accepts them.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Checks an RDB file (as redis-check-rdb does): prints its version, aux fields, databases,
    /// key counts per type and the checksum status, then `RDB looks OK!` (exit 0) or the
    /// error and its byte offset (exit 1).
    CheckRdb {
        /// The RDB file.
        file: std::path::PathBuf,
    },
    /// Checks an append-only file like redis-check-aof: a manifest and every file it lists,
    /// or a single AOF. Exits 1 when something is wrong.
    CheckAof {
        /// Truncates a bad or truncated tail of the last file (without asking).
        #[arg(long)]
        fix: bool,
        /// Truncates the last file at the first `#TS:` annotation after this Unix time.
        #[arg(long, value_name = "TIMESTAMP", conflicts_with = "fix")]
        truncate_to_timestamp: Option<i64>,
        /// The manifest (`appendonlydir/appendonly.aof.manifest`) or an AOF file.
        file: std::path::PathBuf,
    },
}

/// `tern check-rdb`: returns the process exit code.
fn check_rdb(path: &std::path::Path) -> i32 {
    println!("[offset 0] Checking RDB file {}", path.display());
    let buf = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            println!("--- RDB ERROR DETECTED ---");
            println!("[offset 0] Cannot read {}: {e}", path.display());
            return 1;
        }
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let stdout = std::io::stdout();
    match tern_persist::rdb::check::check_file(&buf, now_ms, &mut stdout.lock()) {
        Ok(sum) if sum.error.is_none() => 0,
        Ok(_) => 1,
        Err(e) => {
            eprintln!("tern check-rdb: {e}");
            1
        }
    }
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Server { args } => {
            let config = match tern_config::Config::from_args(&args) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            };
            if let Err(e) = tern_server::net::run(config) {
                eprintln!("tern: {e:#}");
                std::process::exit(1);
            }
        }
        Command::CheckRdb { file } => std::process::exit(check_rdb(&file)),
        Command::CheckAof {
            fix,
            truncate_to_timestamp,
            file,
        } => std::process::exit(check_aof::run(&file, fix, truncate_to_timestamp)),
    }
}
