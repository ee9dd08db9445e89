//! Crash safety: a child process appends audit batches and enqueues outbox messages against
//! PostgreSQL, printing an acknowledgement after each call returns; the parent SIGKILLs it
//! mid-stream, reopens, and checks that every acknowledged append is there, the chain
//! verifies, and every acknowledged message is delivered exactly once.
//!
//! The child is this same test binary, re-run with `RCSEC_CRASH_CHILD_SCHEMA` set; without
//! that variable `child_entry_point` returns at once (it is an entry point, not a check).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::time::Duration;

use rcsec::outbox::Outbox as _;
use rcsec::{MessageBody, MessageId, OutboundMessage};
use rcsec_audit::{AuditKey, AuditSink as _, EventKind, PendingEvent, Pseudonymizer, Verifier};
use rcsec_capability::Route;
use rcsec_core::{AlertId, Msisdn, Redacted, Secret, Timestamp};
use rcsec_store_postgres::testing::{URL_VAR, admin_connection, fresh_database, url_or_skip};
use rcsec_store_postgres::{PgAuditSink, PgDatabase, PgOptions, PgOutbox};

const CHILD_VAR: &str = "RCSEC_CRASH_CHILD_SCHEMA";
const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

fn events(n: usize, batch: u64) -> Vec<PendingEvent> {
    let p = Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([9; 32])));
    let to = Msisdn::parse("+447700900123").unwrap();
    (0..n)
        .map(|_| {
            p.event(EventKind::MessageSent, T0)
                .alert(AlertId::new(format!("batch-{batch}")).unwrap())
                .recipient(&to)
                .message(b"disk full on db-1")
                .route("rcs_e2ee")
                .build()
                .unwrap()
        })
        .collect()
}

fn message(n: u64) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::new(format!("crash-{n}")).unwrap(),
        alert: AlertId::new("crash-alert").unwrap(),
        recipient: Msisdn::parse("+447700900123").unwrap(),
        route: Route::SmsLink,
        body: MessageBody::Sms {
            text: Redacted::new("text", format!("P1 alert {n}: https://x.test/l/t")),
        },
        created_at: T0,
        expires_at: T0.saturating_add(Duration::from_secs(3600)),
    }
}

/// How many server backends carry `application_name`.
async fn backend_count(url: &str, application_name: &str) -> i64 {
    let admin = admin_connection(url).await.unwrap();
    let row = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&application_name],
        )
        .await
        .unwrap();
    row.get(0)
}

/// Waits (up to 60 s) until no server backend carries `application_name`.
async fn wait_for_backends_to_end(url: &str, application_name: &str) {
    for _ in 0..600 {
        if backend_count(url, application_name).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the killed child's database sessions did not end within 60 s");
}

/// The child: appends and enqueues forever, acknowledging each success on stdout.
#[test]
fn child_entry_point() {
    let Ok(schema) = std::env::var(CHILD_VAR) else {
        return;
    };
    let url = std::env::var(URL_VAR).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = PgDatabase::new(PgOptions::new(&url).schema(schema)).unwrap();
        let sink = PgAuditSink::new(db.clone());
        let outbox = PgOutbox::new(db);
        let mut out = std::io::stdout().lock();
        for n in 0u64.. {
            let head = sink.append(events(10, n)).await.unwrap();
            writeln!(out, "audit {}", head.size).unwrap();
            assert!(outbox.enqueue(&message(n), T0).await.unwrap());
            writeln!(out, "outbox {n}").unwrap();
            out.flush().unwrap();
        }
    });
}

#[test]
fn sigkill_mid_stream_loses_nothing_acknowledged() {
    let Some(url) = url_or_skip("sigkill_mid_stream_loses_nothing_acknowledged") else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = fresh_database(&url);
    rt.block_on(db.migrate()).unwrap();
    let schema = db.schema().unwrap().to_owned();
    // The child's connections carry a name of their own, so the parent can wait for them.
    let child_app = format!("rcsec_crash_{schema}");
    let separator = if url.contains('?') { '&' } else { '?' };
    let child_url = format!("{url}{separator}application_name={child_app}");

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_entry_point",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, &schema)
        .env(URL_VAR, &child_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut acked_size, mut acked_messages) = (0u64, Vec::new());
    while acked_messages.len() < 40 {
        let line = lines.next().expect("child ended early").unwrap();
        if let Some(size) = line.strip_prefix("audit ") {
            acked_size = size.parse().unwrap();
        } else if let Some(n) = line.strip_prefix("outbox ") {
            acked_messages.push(n.parse::<u64>().unwrap());
        }
    }
    // The URL's application_name reached the server (else the wait below would prove nothing).
    assert!(
        rt.block_on(backend_count(&url, &child_app)) > 0,
        "the child's sessions are not visible under their application_name"
    );
    child.kill().unwrap(); // SIGKILL on Unix: no destructor, no flush, mid-call.
    child.wait().unwrap();

    rt.block_on(async {
        // A COMMIT the child sent just before it died still completes on the server. Inspect
        // only once every backend of the child has ended, so what we read is final.
        wait_for_backends_to_end(&url, &child_app).await;
        let sink = PgAuditSink::new(db.clone());
        let head = sink.head().await.unwrap();
        assert!(
            head.size >= acked_size,
            "{} < acked {acked_size}",
            head.size
        );
        assert_eq!(head.size % 10, 0, "a batch was half-written");
        // The stored lines, concatenated, are a log the verifier accepts with this head.
        let admin = admin_connection(&url).await.unwrap();
        let rows = admin
            .query(
                &format!("SELECT line FROM {schema}.audit_events ORDER BY seq"),
                &[],
            )
            .await
            .unwrap();
        let mut log = Vec::new();
        for row in rows {
            log.extend_from_slice(row.get::<_, &[u8]>(0));
            log.push(b'\n');
        }
        assert_eq!(Verifier::new().verify_bytes(&log).unwrap().head, head);

        // Every acknowledged message is there and is handed out exactly once.
        let outbox = PgOutbox::new(db.clone());
        let claims = outbox
            .claim_due(T0, Duration::from_secs(30), 10_000)
            .await
            .unwrap();
        let mut claimed: Vec<String> = claims
            .iter()
            .map(|c| c.message.id.as_str().to_owned())
            .collect();
        claimed.sort();
        let before = claimed.len();
        claimed.dedup();
        assert_eq!(before, claimed.len(), "a message was claimed twice");
        for n in &acked_messages {
            assert!(
                claimed.contains(&format!("crash-{n}")),
                "acked message {n} lost"
            );
        }
        assert!(
            outbox
                .claim_due(T0, Duration::from_secs(30), 10_000)
                .await
                .unwrap()
                .is_empty()
        );
        for c in &claims {
            outbox.mark_sent(&c.token(), "p", "d", T0).await.unwrap();
        }
        assert_eq!(outbox.depth().await.unwrap(), 0);
    });
}
