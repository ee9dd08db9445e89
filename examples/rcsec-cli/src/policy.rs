//! `rcsec policy check FILE`: validate a fallback policy file.
//!
//! Exit 0 with a one-line summary when the policy is valid; exit 1 with
//! `FILE:LINE:COLUMN: message` when it is not (a failed check); exit 2 when the file cannot
//! be read or is not UTF-8 (bad input).

use std::path::PathBuf;

use rcsec_policy::Policy;

use crate::failure::Failure;

/// Arguments of `rcsec policy`.
#[derive(Debug, clap::Args)]
pub(crate) struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PolicyCommand {
    /// Validate a policy file; errors carry line and column.
    Check {
        /// The TOML policy file.
        file: PathBuf,
    },
}

pub(crate) fn run(args: &PolicyArgs) -> Result<(), Failure> {
    match &args.command {
        PolicyCommand::Check { file } => check(file),
    }
}

fn check(file: &PathBuf) -> Result<(), Failure> {
    let shown = file.display();
    let bytes =
        std::fs::read(file).map_err(|e| Failure::input(format!("cannot read {shown}: {e}")))?;
    let source =
        String::from_utf8(bytes).map_err(|_| Failure::input(format!("{shown}: not UTF-8 text")))?;
    let policy = Policy::from_toml(&source).map_err(|e| Failure::check(format!("{shown}:{e}")))?;
    println!("ok: {shown}: {}", policy.summary());
    Ok(())
}
