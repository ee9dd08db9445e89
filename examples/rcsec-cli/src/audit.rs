//! `rcsec audit verify|export PATH`: check a tamper-evident audit log, or export it for a SIEM.
//!
//! PATH is a JSON-lines log file, a directory of rotated `audit-NNNNNN.jsonl` files (read in
//! order as one log), or a SQLite database written by `rcsec_store_sqlite::SqliteAuditSink`
//! (`.db`/`.sqlite`/`.sqlite3`, or any file with the SQLite header), whose rows are the same
//! lines in sequence order.

use std::fs::File;
use std::io::{BufRead as _, BufReader, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rcsec_audit::export::ocsf::write_ocsf;
use rcsec_audit::export::syslog::{SyslogOptions, write_syslog};
use rcsec_audit::line::{LogLine, decode_line};
use rcsec_audit::{Checkpoint, Verified, Verifier, VerifyError, VerifyFailure};

use crate::failure::Failure;

/// Logs at least this large get a progress indicator (when stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 8 << 20;

/// Arguments of `rcsec audit`.
#[derive(Debug, clap::Args)]
pub(crate) struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain and Merkle tree, check every checkpoint signature, and print
    /// `verified N events, head HEX` (HEX: the Merkle root); exit 1 naming the first bad event.
    Verify(VerifyArgs),
    /// Verify, then write the events to stdout as OCSF 1.8 JSON lines or RFC 5424 syslog.
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The log: a JSON-lines file or a directory of rotated files.
    path: PathBuf,
    /// The checkpoint signer's Ed25519 public key (64 hex digits). Without it the log is only
    /// checked for self-consistency: all checkpoints must share one key.
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// A file holding the latest checkpoint line kept outside the log (e.g. from the previous
    /// run): detects truncation and rewritten history before it.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// OCSF 1.8 JSON, one object per line.
    Ocsf,
    /// RFC 5424 syslog, one message per line.
    Syslog,
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum)]
    format: Format,
    /// HOSTNAME field of syslog lines.
    #[arg(long, default_value = "-")]
    hostname: String,
    #[command(flatten)]
    verify: VerifyArgs,
}

pub(crate) fn run(args: AuditArgs) -> Result<(), Failure> {
    match args.command {
        AuditCommand::Verify(args) => {
            let verified = verify(&args)?;
            println!(
                "verified {} events, head {}",
                verified.head.size,
                verified.head.root.to_hex()
            );
            Ok(())
        }
        AuditCommand::Export(args) => export(&args),
    }
}

/// The files of the log at `path`, in order.
fn log_files(path: &Path) -> Result<Vec<PathBuf>, Failure> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("audit-") && n.ends_with(".jsonl"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Failure::input(format!(
            "{} holds no audit-*.jsonl files",
            path.display()
        )));
    }
    Ok(files)
}

/// A SQLite audit database: by extension, or by the SQLite header magic.
fn is_sqlite(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str());
    matches!(
        ext.map(str::to_ascii_lowercase).as_deref(),
        Some("db" | "sqlite" | "sqlite3")
    ) || rcsec_store_sqlite::audit::is_sqlite_file(path).unwrap_or(false)
}

/// Calls `each` with every line of the log (without its newline); a final line without a
/// newline is reported as torn. Shows progress on a terminal for large logs.
fn for_each_line(
    files: &[PathBuf],
    label: &'static str,
    mut each: impl FnMut(&[u8]) -> Result<(), Failure>,
    torn: impl Fn() -> Failure,
) -> Result<(), Failure> {
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let mut progress = Progress::new(total, label);
    let mut line = Vec::with_capacity(1024);
    for path in files {
        if is_sqlite(path) {
            let log = rcsec_store_sqlite::audit::read_all_lines(path)
                .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
            for line in log.split_inclusive(|&b| b == b'\n') {
                each(line.strip_suffix(b"\n").unwrap_or(line))?;
            }
            continue;
        }
        let file = File::open(path)
            .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
            if n == 0 {
                break;
            }
            progress.advance(n as u64);
            let Some(body) = line.strip_suffix(b"\n") else {
                progress.finish();
                return Err(torn());
            };
            if let Err(f) = each(body) {
                progress.finish();
                return Err(f);
            }
        }
    }
    progress.finish();
    Ok(())
}

fn verify(args: &VerifyArgs) -> Result<Verified, Failure> {
    let files = log_files(&args.path)?;
    let mut verifier = Verifier::new();
    if let Some(hex_key) = &args.key {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_key, &mut bytes)
            .map_err(|_| Failure::input("--key must be 64 hex digits"))?;
        let key = rcsec_audit::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| Failure::input("--key is not an Ed25519 public key"))?;
        verifier = verifier.pin_key(key);
    }
    if let Some(path) = &args.checkpoint {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
        let cp = Checkpoint::from_line(&text)
            .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
        verifier = verifier.expect_checkpoint(cp);
    }
    let size = std::cell::Cell::new(0u64);
    for_each_line(
        &files,
        "verifying audit log",
        |line| {
            verifier.push_line(line).map_err(Failure::check)?;
            size.set(verifier.size());
            Ok(())
        },
        || {
            Failure::check(VerifyError {
                index: size.get(),
                failure: VerifyFailure::TornLine,
            })
        },
    )?;
    let verified = verifier.finish().map_err(Failure::check)?;
    if args.key.is_none() && verified.checkpoints > 0 {
        eprintln!("rcsec: note: checkpoint signer not pinned (pass --key to check it)");
    }
    Ok(verified)
}

fn export(args: &ExportArgs) -> Result<(), Failure> {
    // Refuse to export a log that does not verify: exports feed SIEMs as evidence.
    verify(&args.verify)?;
    let files = log_files(&args.verify.path)?;
    let options = SyslogOptions {
        hostname: args.hostname.clone(),
        ..SyslogOptions::default()
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut buf = Vec::with_capacity(4096);
    for_each_line(
        &files,
        "exporting audit log",
        |line| {
            if let Ok(LogLine::Event { event, .. }) = decode_line(line) {
                buf.clear();
                match args.format {
                    Format::Ocsf => write_ocsf([&event], &mut buf),
                    Format::Syslog => write_syslog([&event], &options, &mut buf),
                }
                out.write_all(&buf)
                    .map_err(|e| Failure::input(format!("cannot write output: {e}")))?;
            }
            Ok(())
        },
        || Failure::check("log changed while exporting"),
    )?;
    out.flush()
        .map_err(|e| Failure::input(format!("cannot write output: {e}")))
}

/// A progress bar on stderr, only for large logs and only when stderr is a terminal:
/// `verifying audit log [#########...........]  45%  1234567 lines  850k lines/s`.
///
/// Redrawn at most every [`Progress::REDRAW`], so a fast verifier is not slowed by the
/// terminal; the event count comes from the lines seen (events and checkpoints alike).
struct Progress {
    total: u64,
    done: u64,
    lines: u64,
    label: &'static str,
    started: Instant,
    last_draw: Option<Instant>,
    enabled: bool,
}

impl Progress {
    const REDRAW: Duration = Duration::from_millis(100);
    /// Look at the clock only this often (in lines).
    const CHECK_EVERY: u64 = 1024;
    const WIDTH: u64 = 30;

    fn new(total: u64, label: &'static str) -> Self {
        Self {
            total,
            done: 0,
            lines: 0,
            label,
            started: Instant::now(),
            last_draw: None,
            enabled: total >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal(),
        }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        self.lines += 1;
        if !self.enabled || !self.lines.is_multiple_of(Self::CHECK_EVERY) {
            return;
        }
        let now = Instant::now();
        if self
            .last_draw
            .is_some_and(|t| now.duration_since(t) < Self::REDRAW)
        {
            return;
        }
        self.last_draw = Some(now);
        let line = render(
            self.label,
            self.done,
            self.total,
            self.lines,
            now.duration_since(self.started),
        );
        eprint!("\r{line}");
    }

    fn finish(&mut self) {
        if self.enabled && self.last_draw.is_some() {
            // Clear the bar so the one-line result or error stands alone.
            eprint!("\r{:width$}\r", "", width = 80);
            self.last_draw = None;
        }
    }
}

/// One frame of the progress bar.
fn render(label: &str, done: u64, total: u64, lines: u64, elapsed: Duration) -> String {
    let total = total.max(1);
    let done = done.min(total);
    let filled = done.saturating_mul(Progress::WIDTH) / total;
    let percent = done.saturating_mul(100) / total;
    let bar: String = (0..Progress::WIDTH)
        .map(|i| if i < filled { '#' } else { '.' })
        .collect();
    let secs = elapsed.as_secs_f64();
    #[allow(
        clippy::cast_precision_loss,
        reason = "a display rate; precision to a few digits is plenty"
    )]
    let rate = if secs > 0.0 { lines as f64 / secs } else { 0.0 };
    let rate = if rate >= 1e6 {
        format!("{:.1}M", rate / 1e6)
    } else {
        format!("{:.0}k", rate / 1e3)
    };
    format!("{label} [{bar}] {percent:3}%  {lines} lines  {rate} lines/s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_frames_show_bar_percent_count_and_rate() {
        let frame = render(
            "verifying audit log",
            50,
            200,
            1_000_000,
            Duration::from_millis(500),
        );
        assert_eq!(
            frame,
            "verifying audit log [#######.......................]  25%  1000000 lines  2.0M lines/s"
        );
        let done = render("x", 300, 200, 10, Duration::ZERO);
        assert!(
            done.contains(&format!("[{}] 100%", "#".repeat(30))),
            "{done}"
        );
        assert!(done.ends_with("0k lines/s"), "{done}");
        let slow = render("x", 1, 3, 1_500, Duration::from_secs(3));
        assert!(
            slow.contains(" 33% ") && slow.ends_with("0k lines/s"),
            "{slow}"
        );
    }
}
