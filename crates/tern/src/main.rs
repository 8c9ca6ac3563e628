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
#[allow(clippy::large_enum_variant)] // parsed once at start-up
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
    /// Follows a primary (tern or Redis) as a replication consumer and prints its stream as
    /// JSON lines: `{"offset":..,"db":..,"command":..,"args":[..]}`, after a first line saying
    /// whether the primary continued from `--offset` or started over with a snapshot.
    Tail {
        /// The primary's host.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// The primary's port.
        #[arg(long, default_value_t = 6379)]
        port: u16,
        /// AUTH password.
        #[arg(long)]
        password: Option<String>,
        /// AUTH user.
        #[arg(long)]
        user: Option<String>,
        /// Resume: the replication id of an earlier run (its first line), with --offset.
        #[arg(long, requires = "offset")]
        replid: Option<String>,
        /// Resume after this offset (the `offset` of the last line printed).
        #[arg(long, requires = "replid")]
        offset: Option<u64>,
        /// Stop after this many commands.
        #[arg(long)]
        count: Option<u64>,
        /// Connect over TLS (the primary's `tls-port`), as `redis-cli --tls`.
        #[arg(long)]
        tls: bool,
        /// CA certificate file to verify the primary with.
        #[arg(long, requires = "tls")]
        cacert: Option<String>,
        /// Directory of CA certificates to verify the primary with.
        #[arg(long, requires = "tls")]
        cacertdir: Option<String>,
        /// Client certificate, for a primary with `tls-auth-clients yes`.
        #[arg(long, requires_all = ["tls", "key"])]
        cert: Option<String>,
        /// The client certificate's private key.
        #[arg(long, requires_all = ["tls", "cert"])]
        key: Option<String>,
        /// Do not verify the primary's certificate.
        #[arg(long, requires = "tls")]
        insecure: bool,
        /// Server name to send (SNI) and verify.
        #[arg(long, requires = "tls")]
        sni: Option<String>,
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

/// `tern tail`: returns the process exit code.
fn tail(addr: &str, opts: tern_tail::Options, count: Option<u64>) -> i32 {
    use std::io::Write;
    let mut t = match tern_tail::Tail::connect(addr, &opts) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tern tail: {e}");
            return 1;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut n = 0;
    loop {
        match t.next_event() {
            Ok(Some(ev)) => {
                let is_cmd = matches!(ev, tern_tail::Event::Command { .. });
                if writeln!(out, "{}", tern_tail::to_json(&ev))
                    .and_then(|()| out.flush())
                    .is_err()
                {
                    return 0;
                }
                if is_cmd {
                    n += 1;
                    if count.is_some_and(|c| n >= c) {
                        return 0;
                    }
                }
            }
            Ok(None) => return 0,
            Err(e) => {
                eprintln!("tern tail: {e}");
                return 1;
            }
        }
    }
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
        Command::Tail {
            host,
            port,
            password,
            user,
            replid,
            offset,
            count,
            tls,
            cacert,
            cacertdir,
            cert,
            key,
            insecure,
            sni,
        } => {
            let opts = tern_tail::Options {
                password,
                user,
                resume: replid.zip(offset),
                tls: tls.then_some(tern_tls::ClientOptions {
                    ca_file: cacert,
                    ca_dir: cacertdir,
                    cert,
                    key,
                    insecure,
                    sni,
                }),
            };
            std::process::exit(tail(&format!("{host}:{port}"), opts, count))
        }
        Command::CheckAof {
            fix,
            truncate_to_timestamp,
            file,
        } => std::process::exit(check_aof::run(&file, fix, truncate_to_timestamp)),
    }
}
