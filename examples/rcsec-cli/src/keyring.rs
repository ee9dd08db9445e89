//! `rcsec keyring new|rotate FILE`: create and rotate a link-token keyring file.
//!
//! The file is JSON, created with mode 0600 and replaced atomically on rotation. Output is one
//! JSON line naming key ids and states, never key bytes.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use rcsec_core::{Clock, SystemClock};
use rcsec_link::{KeyState, Keyring, KeyringPolicy, OsRandom};

use crate::failure::Failure;

/// Arguments of `rcsec keyring`.
#[derive(Debug, Args)]
pub(crate) struct KeyringArgs {
    #[command(subcommand)]
    command: KeyringCommand,
}

#[derive(Debug, Subcommand)]
enum KeyringCommand {
    /// Create a keyring file with one fresh key (fails if FILE exists).
    New(NewArgs),
    /// Make a fresh key active; the previous one verifies for `max_ttl`, then retires.
    ///
    /// Also retires keys whose grace window has ended.
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
struct NewArgs {
    /// Where to write the keyring (mode 0600).
    file: PathBuf,
    /// Longest token TTL in seconds (also the grace window after rotation).
    #[arg(long, default_value_t = 86_400)]
    max_ttl: u64,
}

#[derive(Debug, Args)]
struct RotateArgs {
    /// The keyring file to rotate in place.
    file: PathBuf,
}

pub(crate) fn run(args: KeyringArgs) -> Result<(), Failure> {
    let now = SystemClock.now();
    match args.command {
        KeyringCommand::New(a) => {
            let policy = KeyringPolicy {
                max_ttl: Duration::from_secs(a.max_ttl),
                ..KeyringPolicy::default()
            };
            let ring = Keyring::generate(policy, now, &OsRandom).map_err(Failure::input)?;
            ring.create_file(&a.file).map_err(Failure::input)?;
            print_summary(&ring, &[]);
            Ok(())
        }
        KeyringCommand::Rotate(a) => {
            let mut ring = Keyring::load_file(&a.file).map_err(Failure::input)?;
            let retired = ring.retire_due(now);
            ring.rotate(now, &OsRandom).map_err(Failure::input)?;
            ring.save_file(&a.file).map_err(Failure::input)?;
            print_summary(&ring, &retired);
            Ok(())
        }
    }
}

fn print_summary(ring: &Keyring, retired_now: &[rcsec_link::KeyId]) {
    let keys: Vec<_> = ring
        .keys()
        .map(|k| {
            let state = match k.state {
                KeyState::Active => "active",
                KeyState::VerifyOnly { .. } => "verify_only",
                KeyState::Retired { .. } => "retired",
            };
            serde_json::json!({"id": k.id, "state": state})
        })
        .collect();
    let line = serde_json::json!({
        "active_key_id": ring.active_key_id(),
        "retired_now": retired_now,
        "keys": keys,
    });
    println!("{line}");
}
