//! `rcsec-demo`: runs the whole rcsec pipeline in a temporary directory and prints what it did.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Runs the rcsec pipeline end to end on SQLite in a temporary directory, with a loopback
/// provider simulating the recipients' phones: several alerts (one carrying a canary credential
/// and a log artifact) go to a roster with verified E2EE, plain RCS, SMS-only, an enrolled push
/// device and a pinned contact that gets downgraded. Prints a table per alert, redeems a link
/// (and shows the replay refused), acknowledges one alert, escalates another, resolves one,
/// checks the canary never leaked, and verifies the audit log.
///
/// Exit codes: 0 ok, 1 a check failed (audit verification, canary), 2 bad input.
#[derive(Debug, Parser)]
#[command(name = "rcsec-demo", version)]
struct Args {
    /// Roster TOML (default: the roster shipped with the demo, examples/rcsec-demo/roster.toml).
    #[arg(long, value_name = "FILE")]
    roster: Option<PathBuf>,
    /// Fallback policy TOML (default: rcsec-policy's default policy).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
    /// Use in-memory stores and a JSON-lines audit log instead of SQLite.
    #[arg(long)]
    memory: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = rcsec_demo::Options {
        roster: args.roster,
        policy: args.policy,
        json: args.json,
        memory: args.memory,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rcsec-demo: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    match runtime.block_on(rcsec_demo::run(&options, &mut out)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rcsec-demo: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
