//! Crash safety: a child process appends audit batches and enqueues, claims and sends outbox
//! messages, printing one acknowledgement line after each call returns; the parent SIGKILLs it
//! mid-stream, reopens the database and checks that nothing acknowledged is lost, the chain
//! verifies, and no outbox message can be delivered twice.
//!
//! The binary is its own child: with `RCSEC_SQLITE_CRASH_CHILD=<db path>` set, `main` runs
//! the child loop instead of the test. Three kill points, each resuming the previous database.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rcsec::outbox::conformance::message;
use rcsec::{MessageId, Outbox, OutboxState};
use rcsec_audit::sink::conformance::events;
use rcsec_audit::{AuditSink, Verifier};
use rcsec_core::Timestamp;
use rcsec_store_sqlite::{SqliteAuditSink, SqliteOutbox, SqliteStore};

const CHILD_ENV: &str = "RCSEC_SQLITE_CRASH_CHILD";
const ROUND_ENV: &str = "RCSEC_SQLITE_CRASH_ROUND";
const T0: Timestamp = Timestamp::from_secs(1_800_000_000);
const LEASE: Duration = Duration::from_secs(30);

fn main() {
    match std::env::var_os(CHILD_ENV) {
        Some(path) => child(Path::new(&path)),
        None => parent(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs until killed. Each line is printed only after the call it reports has returned Ok.
fn child(path: &Path) {
    let round: u32 = std::env::var(ROUND_ENV).unwrap().parse().unwrap();
    runtime().block_on(async {
        let store = SqliteStore::open(path).unwrap();
        let sink = SqliteAuditSink::open(store.clone()).unwrap();
        let outbox = SqliteOutbox::new(store);
        let mut out = std::io::stdout().lock();
        for i in 0.. {
            let head = sink
                .append(events(1 + (i % 7) as usize, "crash"))
                .await
                .unwrap();
            writeln!(out, "audit {}", head.size).unwrap();
            let m = message(round * 1_000_000 + i);
            assert!(outbox.enqueue(&m, T0).await.unwrap());
            writeln!(out, "enqueued {}", m.id.as_str()).unwrap();
            for claim in outbox.claim_due(T0, LEASE, 1).await.unwrap() {
                let token = claim.token();
                let id = claim.message.id;
                writeln!(out, "claimed {}", id.as_str()).unwrap();
                // Every third claimed message is left in flight, as if the sender died.
                if i % 3 != 0 {
                    outbox.mark_sent(&token, "loopback", "d", T0).await.unwrap();
                    writeln!(out, "sent {}", id.as_str()).unwrap();
                }
            }
            out.flush().unwrap();
        }
    });
}

#[derive(Default)]
struct Acks {
    audit_size: u64,
    enqueued: BTreeSet<String>,
    claimed: BTreeSet<String>,
    sent: BTreeSet<String>,
}

impl Acks {
    fn take(&mut self, line: &str) {
        let (kind, value) = line.split_once(' ').expect("ack line");
        match kind {
            "audit" => self.audit_size = self.audit_size.max(value.parse().unwrap()),
            "enqueued" => assert!(self.enqueued.insert(value.to_owned())),
            "claimed" => assert!(self.claimed.insert(value.to_owned())),
            "sent" => assert!(self.sent.insert(value.to_owned())),
            other => panic!("unknown ack {other}"),
        }
    }
}

/// Runs the child until it has printed `kill_after` acks, SIGKILLs it, and returns every ack it
/// printed (the ones still in the pipe were acknowledged too).
fn run_child(path: &Path, round: u32, kill_after: usize) -> Acks {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, path)
        .env(ROUND_ENV, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut acks = Acks::default();
    for _ in 0..kill_after {
        let line = complete_line(&mut reader).expect("child exited before being killed");
        acks.take(&line);
    }
    // std's Child::kill sends SIGKILL on Unix: no destructors, no flush, no WAL checkpoint.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "child was not killed: {status:?}");
    // Lines still in the pipe were acknowledged too; a line cut short by the kill was not.
    while let Some(line) = complete_line(&mut reader) {
        acks.take(&line);
    }
    acks
}

/// The next newline-terminated line, without its newline; `None` at EOF or for a torn tail.
fn complete_line(reader: &mut impl BufRead) -> Option<String> {
    let mut buf = Vec::new();
    reader.read_until(b'\n', &mut buf).unwrap();
    let line = buf.strip_suffix(b"\n")?;
    Some(String::from_utf8(line.to_vec()).unwrap())
}

fn check(path: &Path, acks: &Acks, previous: &mut BTreeMap<String, OutboxState>) {
    runtime().block_on(async {
        let store = SqliteStore::open(path).unwrap();
        // Reopening verifies every stored line and resumes the chain.
        let sink = SqliteAuditSink::open(store.clone()).unwrap();
        let head = sink.head().await.unwrap();
        assert!(
            head.size >= acks.audit_size,
            "acknowledged audit events lost: {} stored, {} acknowledged",
            head.size,
            acks.audit_size
        );
        // The audit crate's own verifier over the stored lines agrees with the sink.
        let lines = rcsec_store_sqlite::audit::read_all_lines(path).unwrap();
        let verified = Verifier::new().verify_bytes(&lines).unwrap();
        assert_eq!(verified.head, head);

        let outbox = SqliteOutbox::new(store);
        for id in &acks.enqueued {
            let id = MessageId::new(id.clone()).unwrap();
            assert!(
                outbox.status(&id, T0).await.unwrap().is_some(),
                "lost {id:?}"
            );
        }
        for id in &acks.sent {
            let status = outbox
                .status(&MessageId::new(id.clone()).unwrap(), T0)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(status.state, OutboxState::Sent, "{id}");
        }
        // While leases live, only messages the child never claimed are due: in-flight claims
        // survived the crash.
        for claim in outbox.claim_due(T0, LEASE, 10_000).await.unwrap() {
            let id = claim.message.id.as_str();
            assert!(
                !acks.claimed.contains(id),
                "{id} handed out twice under a live lease"
            );
            assert_eq!(claim.attempt, 1, "{id}");
        }
        // After the leases run out, every unsent message comes back exactly once, and no
        // sent one does.
        let later = T0.saturating_add(LEASE);
        let reclaims = outbox.claim_due(later, LEASE, 10_000).await.unwrap();
        let reclaimed: BTreeSet<String> = reclaims
            .iter()
            .map(|c| c.message.id.as_str().to_owned())
            .collect();
        assert!(
            reclaimed.is_disjoint(&acks.sent),
            "a sent message came back"
        );
        for id in acks.claimed.difference(&acks.sent) {
            assert!(reclaimed.contains(id), "in-flight {id} not reclaimable");
        }
        assert!(
            outbox
                .claim_due(later, LEASE, 10_000)
                .await
                .unwrap()
                .is_empty()
        );
        // Settle this round's messages so the next round starts clean.
        for claim in &reclaims {
            outbox
                .mark_sent(&claim.token(), "loopback", "d", later)
                .await
                .unwrap();
        }
        for id in acks.enqueued.iter().chain(&reclaimed) {
            previous.insert(id.clone(), OutboxState::Sent);
        }
        // Earlier rounds' messages stay sent.
        for id in previous.keys() {
            let status = outbox
                .status(&MessageId::new(id.clone()).unwrap(), later)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(status.state, OutboxState::Sent, "{id}");
        }
        assert_eq!(outbox.depth().await.unwrap(), 0);
    });
}

fn parent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let mut settled = BTreeMap::new();
    let started = Instant::now();
    for (round, kill_after) in [(1, 97), (2, 250), (3, 613)] {
        let acks = run_child(&path, round, kill_after);
        assert!(acks.audit_size > 0 && !acks.enqueued.is_empty());
        check(&path, &acks, &mut settled);
        println!(
            "crash round {round}: killed after {kill_after} acks; {} audit events, {} enqueued, \
             {} sent, {} left in flight: all present, chain verifies, no double delivery",
            acks.audit_size,
            acks.enqueued.len(),
            acks.sent.len(),
            acks.claimed.difference(&acks.sent).count()
        );
    }
    println!(
        "crash: 3 kill/reopen rounds in {:.2} s",
        started.elapsed().as_secs_f64()
    );
}
