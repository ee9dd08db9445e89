//! `rcsec token mint|verify`: one-time link tokens from the shell.
//!
//! `verify` checks what can be checked without a store — format, key, tag, expiry, binding —
//! and prints the claims as one JSON line, or exits 1 with the reason code (`malformed`,
//! `unknown_key`, `bad_signature`, `expired`, `not_yet_valid`, `binding_mismatch`) on stderr.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use rcsec_core::{Clock, Msisdn, SystemClock, Timestamp};
use rcsec_link::{IpPrefix, Keyring, MintRequest, OsRandom, VerifyContext};

use crate::failure::Failure;

/// Arguments of `rcsec token`.
#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Mint a token with the keyring's active key and print it.
    Mint(MintArgs),
    /// Verify a token; print its claims as JSON, or exit 1 with the reason code.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
struct MintArgs {
    /// The keyring file.
    #[arg(long)]
    keyring: PathBuf,
    /// The recipient's number (E.164); only a keyed commitment enters the token.
    #[arg(long)]
    recipient: String,
    /// Lifetime in seconds (at most the keyring's max_ttl).
    #[arg(long)]
    ttl: u64,
    /// Bind to clients in this prefix, e.g. 203.0.113.0/24.
    #[arg(long)]
    bind_ip: Option<String>,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The keyring file.
    #[arg(long)]
    keyring: PathBuf,
    /// Check the token is bound to this recipient.
    #[arg(long)]
    recipient: Option<String>,
    /// The client address (required for an IP-bound token).
    #[arg(long)]
    ip: Option<IpAddr>,
    /// Verify as of this Unix time in seconds instead of now.
    #[arg(long)]
    at: Option<u64>,
    /// The token.
    token: String,
}

pub(crate) fn run(args: TokenArgs) -> Result<(), Failure> {
    match args.command {
        TokenCommand::Mint(a) => mint(&a),
        TokenCommand::Verify(a) => verify(&a),
    }
}

fn mint(a: &MintArgs) -> Result<(), Failure> {
    let ring = Keyring::load_file(&a.keyring).map_err(Failure::input)?;
    let recipient = Msisdn::parse(&a.recipient).map_err(Failure::input)?;
    let mut req = MintRequest::new(&recipient, Duration::from_secs(a.ttl));
    if let Some(cidr) = &a.bind_ip {
        req = req.bind_ip(cidr.parse::<IpPrefix>().map_err(Failure::input)?);
    }
    let minted = ring
        .mint(&req, SystemClock.now(), &OsRandom)
        .map_err(Failure::input)?;
    println!("{}", minted.token.as_str());
    Ok(())
}

fn verify(a: &VerifyArgs) -> Result<(), Failure> {
    let ring = Keyring::load_file(&a.keyring).map_err(Failure::input)?;
    let recipient = a
        .recipient
        .as_deref()
        .map(Msisdn::parse)
        .transpose()
        .map_err(Failure::input)?;
    let now = a.at.map_or_else(|| SystemClock.now(), Timestamp::from_secs);
    let mut ctx = VerifyContext::at(now);
    if let Some(r) = &recipient {
        ctx = ctx.recipient(r);
    }
    if let Some(ip) = a.ip {
        ctx = ctx.client_ip(ip);
    }
    let verified = ring
        .verify(a.token.trim(), &ctx)
        .map_err(|e| Failure::check(e.reason_code()))?;
    let json = serde_json::to_string(&verified).map_err(Failure::input)?;
    println!("{json}");
    Ok(())
}
