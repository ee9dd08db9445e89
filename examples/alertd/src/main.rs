//! `alertd --config /etc/alertd/alertd.toml`: run the daemon until SIGINT or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use alertd::logging::{self, LogFormat};
use alertd::{App, Config};
use clap::Parser;

/// The rcsec daemon: Alertmanager webhook in, secure links out.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The TOML configuration file.
    #[arg(long, short)]
    config: PathBuf,
    /// Check the configuration and exit.
    #[arg(long)]
    check: bool,
    /// Human-readable logs instead of JSON lines.
    #[arg(long)]
    text_logs: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let format = if args.text_logs {
        LogFormat::Text
    } else {
        LogFormat::Json
    };
    if let Err(e) = logging::init(format, std::io::stderr, "info") {
        eprintln!("alertd: cannot start logging: {e}");
        return ExitCode::from(2);
    }
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("alertd: {e}");
            return ExitCode::from(2);
        }
    };
    if args.check {
        println!("config ok");
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("alertd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "alertd stopped with an error");
            eprintln!("alertd: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let app = Arc::new(App::from_config(&config)?);
    app.recover().await?;
    let listener = tokio::net::TcpListener::bind(config.server.listen).await?;
    let running = alertd::start(app, listener)?;
    shutdown_signal().await?;
    tracing::info!("shutdown requested; draining in-flight requests");
    running.shutdown().await?;
    tracing::info!("alertd stopped");
    Ok(())
}

async fn shutdown_signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}
