//! The `tern` binary: a thin wrapper that parses the subcommand and hands over to the library
//! crates. `tern server [config-file] [--directive value ...]` runs the server.

use clap::{Parser, Subcommand};

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
    }
}
