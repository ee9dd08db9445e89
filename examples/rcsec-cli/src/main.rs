//! `rcsec`: the command-line face of the rcsec libraries.
//!
//! The contract (ARCHITECTURE.md, "The rcsec CLI contract") is stable because scripts depend on
//! it: every subcommand exits 0 on success, 1 on a failed check and 2 on bad usage or input,
//! with a one-line error on stderr. Each subcommand group lives in its own module and returns
//! a [`Failure`] instead of exiting, so `main` is the only place that maps outcomes to codes.

#![forbid(unsafe_code)]

mod audit;
mod classify;
mod failure;
mod hpke;
mod keyring;
mod policy;
mod token;
mod vectors;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::failure::Failure;

/// rcsec: secure incident alerts over RCS, with fail-closed fallbacks.
#[derive(Debug, Parser)]
#[command(name = "rcsec", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check an E.164 number and print its normalised, masked form.
    Msisdn(MsisdnArgs),
    /// Run official conformance vectors (HPKE, MLS, Merkle) and print `N passed, M failed`.
    Vectors(vectors::VectorsArgs),
    /// HPKE (RFC 9180) base mode: generate X25519 keys, seal to and open from the shell.
    Hpke(hpke::HpkeArgs),
    /// Link-token keyrings: `new FILE` creates one (mode 0600), `rotate FILE` rotates keys.
    Keyring(keyring::KeyringArgs),
    /// One-time link tokens: `mint` prints a token, `verify` prints its claims or the reason.
    Token(token::TokenArgs),
    /// Verify a tamper-evident audit log, or export it as OCSF JSON or RFC 5424 syslog.
    Audit(audit::AuditArgs),
    /// Classify JSON lines `{"text": ...}` from stdin; prints findings, never the text.
    Classify(classify::ClassifyArgs),
    /// Fallback policies: `check FILE` validates one (errors carry line and column).
    Policy(policy::PolicyArgs),
    // Subcommand groups are added here, one module each (hpke, keyring, token, classify,
    // audit, policy), with one arm in `run` below.
}

/// Arguments of `rcsec msisdn`.
#[derive(Debug, clap::Args)]
struct MsisdnArgs {
    /// The number, e.g. "+1 (555) 010-9999".
    number: String,
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Msisdn(args) => {
            let number = rcsec_core::Msisdn::parse(&args.number).map_err(Failure::input)?;
            println!("{number}");
            Ok(())
        }
        Command::Vectors(args) => vectors::run(&args),
        Command::Audit(args) => audit::run(args),
        Command::Hpke(args) => hpke::run(args),
        Command::Keyring(args) => keyring::run(args),
        Command::Token(args) => token::run(args),
        Command::Classify(args) => classify::run(&args),
        Command::Policy(args) => policy::run(&args),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version are successes; everything else is bad usage (exit 2).
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("rcsec: {}", failure.message());
            ExitCode::from(failure.code())
        }
    }
}
