//! A restart between two orchestrators on the same database file: what the first one paged,
//! the second one acknowledges, escalates, de-duplicates, resolves and releases.
//!
//! Orchestrator A pages and is dropped (with every handle on the file); orchestrator B is
//! built on the same file with the same keys and a manual clock, and calls `recover`. The
//! phones (the loopback simulator), the ticket system and the link keyring outlive both, as
//! they would in production.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcsec::audit::{AuditKey, Pseudonymizer};
use rcsec::capability::Resolver;
use rcsec::core::{AlertId, Clock, ManualClock, Msisdn, Redacted, Secret, Severity, Timestamp};
use rcsec::link::{Keyring, KeyringPolicy, OsRandom, RedeemContext};
use rcsec::state::{AlertStateStore, StateError};
use rcsec::{
    ActionKind, Alert, AlertOutcome, AlertStatus, Artifact, DeliveryStatus, MemoryTicketSink,
    Orchestrator, OrchestratorConfig, ProviderEvent, ProviderEventKind, QuietHours, RecoveryReport,
    Responder,
};
use rcsec_provider_loopback::{LoopbackProvider, Roster};
use rcsec_store_sqlite::{
    SqliteAlertStateStore, SqliteAuditSink, SqliteBlobStore, SqliteOutbox, SqliteStore,
    SqliteTokenStore,
};

/// 08:00 UTC.
const T0: Timestamp = Timestamp::from_secs(1_800_000_000);
const STATE_KEY: [u8; 32] = [0x5a; 32];
const CANARY_SECRET: &str = "postgres://app:Restart-Canary-Pa55-Qx7@db-7:5432/app";
const CANARY_LOG: &str = "RESTART-CANARY-LOG-LINE-4f1e";

const ROSTER: &str = r#"
[[recipient]]
name = "Alice"
number = "+447700900101"
reach = "rcs"
e2ee = "verified"
consent = ["incident"]

[[recipient]]
name = "Bob"
number = "+447700900102"
reach = "rcs"
e2ee = "unverified"
consent = ["incident"]

[[recipient]]
name = "Carol"
number = "+447700900103"
reach = "sms_only"

[[recipient]]
name = "Frank"
number = "+447700900106"
reach = "rcs"
e2ee = "verified"
step = 1
"#;

/// What outlives a restart: the file, the phones, the ticket system, the keys, the clock.
struct World {
    dir: tempfile::TempDir,
    clock: ManualClock,
    phones: Arc<LoopbackProvider>,
    tickets: Arc<MemoryTicketSink>,
    keyring: Arc<Keyring>,
    quiet_hours: Option<QuietHours>,
}

fn world() -> World {
    let clock = ManualClock::new(T0);
    let roster = Roster::from_toml(ROSTER).unwrap();
    World {
        dir: tempfile::tempdir().unwrap(),
        phones: Arc::new(LoopbackProvider::new(&roster, Arc::new(clock.clone())).unwrap()),
        clock,
        tickets: Arc::new(MemoryTicketSink::new()),
        keyring: Arc::new(Keyring::generate(KeyringPolicy::default(), T0, &OsRandom).unwrap()),
        quiet_hours: None,
    }
}

impl World {
    fn db(&self) -> PathBuf {
        self.dir.path().join("rcsec.db")
    }

    /// Builds an orchestrator on the file (under `key`) and recovers its state.
    async fn start_with_key(&self, key: [u8; 32]) -> (Orchestrator, RecoveryReport) {
        self.start_on(key, self.tickets.clone()).await
    }

    /// As [`World::start_with_key`] with its own ticket system.
    async fn start_on(
        &self,
        key: [u8; 32],
        tickets: Arc<MemoryTicketSink>,
    ) -> (Orchestrator, RecoveryReport) {
        let store = SqliteStore::open(self.db()).unwrap();
        let resolver = Resolver::builder(Arc::new(self.clock.clone()))
            .provider(self.phones.clone(), Duration::from_secs(2))
            .build()
            .unwrap();
        let mut config = OrchestratorConfig::new("https://alerts.example/".parse().unwrap());
        config.quiet_hours = self.quiet_hours;
        let orch = Orchestrator::builder()
            .clock(Arc::new(self.clock.clone()))
            .resolver(Arc::new(resolver))
            .links(
                Arc::clone(&self.keyring),
                Arc::new(SqliteTokenStore::new(store.clone())),
                Arc::new(SqliteBlobStore::new(store.clone())),
            )
            .audit(
                Arc::new(SqliteAuditSink::open(store.clone()).unwrap()),
                Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([9; 32]))),
            )
            .outbox(Arc::new(SqliteOutbox::new(store.clone())))
            .tickets(tickets)
            .link_pseudonym_key(Secret::new([3; 32]))
            .state_store(
                Arc::new(SqliteAlertStateStore::new(store)),
                Secret::new(key),
            )
            .provider(self.phones.clone())
            .config(config)
            .build()
            .unwrap();
        let report = orch.recover().await.unwrap();
        (orch, report)
    }

    async fn start(&self) -> (Orchestrator, RecoveryReport) {
        self.start_with_key(STATE_KEY).await
    }

    fn responders(&self, names: &[&str]) -> Vec<Responder> {
        self.phones
            .responders()
            .into_iter()
            .filter(|r| names.contains(&r.name.as_str()))
            .collect()
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    fn sent_to(&self, n: u8) -> usize {
        self.phones.sent_to(&number(n)).len()
    }
}

fn number(n: u8) -> Msisdn {
    Msisdn::parse(&format!("+4477009001{n:02}")).unwrap()
}

fn alert(id: &str, severity: Severity) -> Alert {
    let mut a = Alert::firing(
        AlertId::new(id).unwrap(),
        severity,
        "HighErrorRate",
        "checkout 5xx above 5%",
    );
    a.details = Redacted::new("details", format!("DATABASE_URL={CANARY_SECRET}"));
    a.artifacts.push(Artifact::new(
        "checkout.log",
        "text/plain",
        format!("12:00:01 {CANARY_LOG}\n").into_bytes(),
    ));
    a
}

fn resolved(mut a: Alert) -> Alert {
    a.status = AlertStatus::Resolved;
    a
}

fn file_contains(path: &Path, needle: &str) -> bool {
    let mut bytes = std::fs::read(path).unwrap();
    let wal = path.with_extension("db-wal");
    if let Ok(more) = std::fs::read(wal) {
        bytes.extend(more);
    }
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn an_ack_for_a_page_sent_before_the_restart_acknowledges() {
    let w = world();
    runtime().block_on(async {
        let (a, _) = w.start().await;
        let report = a
            .handle_alert(
                alert("r-ack", Severity::P1),
                w.responders(&["Alice", "Frank"]),
            )
            .await
            .unwrap();
        let message = report.deliveries[0].message_id.clone().unwrap();
        drop(a);

        let (b, recovered) = w.start().await;
        assert_eq!((recovered.alerts, recovered.messages), (1, 1));
        assert!(recovered.unreadable.is_empty());
        let event = ProviderEvent::new(message, ProviderEventKind::Action(ActionKind::Acknowledge));
        b.on_event(event).await.unwrap();
        let view = b.escalation(&report.alert).unwrap();
        assert!(view.acknowledged);
        assert!(
            w.tickets
                .ticket(&report.alert)
                .unwrap()
                .notes
                .iter()
                .any(|n| n.contains("acknowledged"))
        );

        // Acknowledged before the restart's deadline: nobody further is paged, even after
        // another restart.
        drop(b);
        let (c, _) = w.start().await;
        w.advance(3600);
        assert!(c.tick().await.unwrap().escalated.is_empty());
        assert_eq!(w.sent_to(6), 0);
    });
}

#[test]
fn an_unacknowledged_alert_escalates_after_the_restart() {
    let w = world();
    runtime().block_on(async {
        let (a, _) = w.start().await;
        let report = a
            .handle_alert(
                alert("r-esc", Severity::P1),
                w.responders(&["Alice", "Frank"]),
            )
            .await
            .unwrap();
        assert_eq!((w.sent_to(1), w.sent_to(6)), (1, 0));
        drop(a);

        let (b, _) = w.start().await;
        w.advance(299);
        assert!(b.tick().await.unwrap().escalated.is_empty());
        w.advance(1);
        let tick = b.tick().await.unwrap();
        assert_eq!(tick.escalated.len(), 1);
        assert_eq!(tick.escalated[0].name, "Frank");
        assert_eq!(w.sent_to(6), 1);
        let view = b.escalation(&report.alert).unwrap();
        assert_eq!((view.step, view.round), (1, 0));

        // The new position survives the next restart too: no double page of Frank.
        drop(b);
        let (c, _) = w.start().await;
        assert!(c.tick().await.unwrap().escalated.is_empty());
        assert_eq!(c.escalation(&report.alert).unwrap().step, 1);
    });
}

#[test]
fn a_re_sent_group_inside_the_dedup_window_does_not_page_after_the_restart() {
    let w = world();
    runtime().block_on(async {
        let (a, _) = w.start().await;
        a.handle_alert(alert("r-dup", Severity::P1), w.responders(&["Alice"]))
            .await
            .unwrap();
        drop(a);

        let (b, _) = w.start().await;
        w.advance(60);
        let again = b
            .handle_alert(alert("r-dup", Severity::P1), w.responders(&["Alice"]))
            .await
            .unwrap();
        assert_eq!(again.outcome, AlertOutcome::Deduplicated);
        assert_eq!(w.sent_to(1), 1);
    });
}

#[test]
fn resolving_after_the_restart_revokes_the_links_issued_before_it() {
    let w = world();
    runtime().block_on(async {
        let (a, _) = w.start().await;
        let fired = a
            .handle_alert(
                alert("r-res", Severity::P1),
                w.responders(&["Bob", "Carol"]),
            )
            .await
            .unwrap();
        // (token, recipient) of every link issued before the restart.
        let tokens: Vec<(String, Msisdn)> = fired
            .deliveries
            .iter()
            .flat_map(|d| {
                d.links.iter().map(|l| {
                    let url = l.url.expose();
                    let path = url.split('#').next().unwrap();
                    (
                        path.rsplit('/').next().unwrap().to_owned(),
                        d.recipient.clone(),
                    )
                })
            })
            .collect();
        assert!(tokens.len() >= 2, "bob and carol each got a link");
        drop(a);

        let (b, _) = w.start().await;
        let r = b
            .handle_alert(resolved(alert("r-res", Severity::P1)), Vec::new())
            .await
            .unwrap();
        let AlertOutcome::Resolved { links_revoked } = r.outcome else {
            panic!("{:?}", r.outcome)
        };
        assert_eq!(links_revoked, tokens.len());
        assert_eq!(
            r.deliveries.len(),
            2,
            "everyone paged before the restart is told"
        );
        for (token, recipient) in &tokens {
            let ctx = RedeemContext::at(w.clock.now()).recipient(recipient);
            let err = b.gateway().confirm(token, &ctx).await.unwrap_err();
            assert_eq!(err.reason().unwrap().reason_code(), "revoked");
        }
        assert!(w.tickets.ticket(&r.alert).unwrap().resolved);

        // Resolved stays resolved across the next restart: nothing to recover, no escalation.
        drop(b);
        let (c, recovered) = w.start().await;
        assert_eq!((recovered.alerts, recovered.closed), (0, 1));
        w.advance(3600);
        assert!(c.tick().await.unwrap().escalated.is_empty());
    });
}

#[test]
fn a_page_held_by_quiet_hours_is_released_after_the_restart() {
    let mut w = world();
    // T0 is 08:00 UTC; quiet until 09:00.
    w.quiet_hours = Some(QuietHours::new((22, 0), (9, 0)));
    runtime().block_on(async {
        let (a, _) = w.start().await;
        let r = a
            .handle_alert(alert("r-qh", Severity::P2), w.responders(&["Alice"]))
            .await
            .unwrap();
        assert!(matches!(
            r.deliveries[0].status,
            DeliveryStatus::Held { .. }
        ));
        drop(a);

        let (b, recovered) = w.start().await;
        assert_eq!(recovered.held, 1);
        assert!(b.is_held(&r.alert, &number(1)));
        w.advance(3599);
        assert!(b.tick().await.unwrap().released.is_empty());
        w.advance(1);
        let tick = b.tick().await.unwrap();
        assert_eq!(tick.released.len(), 1);
        assert!(matches!(
            tick.released[0].status,
            DeliveryStatus::Sent { .. }
        ));
        assert_eq!(w.sent_to(1), 1);
        assert!(!b.is_held(&r.alert, &number(1)));

        // Released means released: another restart does not send it again.
        drop(b);
        let (c, recovered) = w.start().await;
        assert_eq!(recovered.held, 0);
        c.tick().await.unwrap();
        assert_eq!(w.sent_to(1), 1);
    });
}

#[test]
fn the_alert_content_is_not_in_the_database_file() {
    let w = world();
    runtime().block_on(async {
        let (a, _) = w.start().await;
        a.handle_alert(
            alert("r-canary", Severity::P1),
            w.responders(&["Bob", "Carol"]),
        )
        .await
        .unwrap();
        // The state is really there (under the key), not merely absent.
        let store = SqliteAlertStateStore::new(SqliteStore::open(w.db()).unwrap());
        assert_eq!(store.load().await.unwrap().len(), 1);
        drop((a, store));
        for needle in [CANARY_SECRET, "Restart-Canary-Pa55", CANARY_LOG] {
            assert!(
                !file_contains(&w.db(), needle),
                "{needle} found in the database file"
            );
        }
    });
}

#[test]
fn a_tampered_record_is_reported_audited_and_kept_while_the_rest_recovers() {
    let w = world();
    runtime().block_on(async {
        let (a, _) = w.start().await;
        for id in ["r-good", "r-bad"] {
            a.handle_alert(alert(id, Severity::P1), w.responders(&["Alice", "Frank"]))
                .await
                .unwrap();
        }
        drop(a);
        let raw = rusqlite::Connection::open(w.db()).unwrap();
        let mut sealed: Vec<u8> = raw
            .query_row(
                "SELECT sealed FROM alert_state WHERE alert_id = 'r-bad'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        sealed[40] ^= 0x01;
        raw.execute(
            "UPDATE alert_state SET sealed = ?1 WHERE alert_id = 'r-bad'",
            [sealed],
        )
        .unwrap();
        drop(raw);

        let (b, recovered) = w.start().await;
        assert_eq!(recovered.alerts, 1);
        assert_eq!(recovered.unreadable.len(), 1);
        let bad = &recovered.unreadable[0];
        assert_eq!(bad.alert.as_str(), "r-bad");
        assert!(matches!(bad.error, StateError::Seal(_)), "{:?}", bad.error);
        // The good alert escalates; the bad one is not silently dropped from the store.
        w.advance(300);
        assert_eq!(b.tick().await.unwrap().escalated.len(), 1);
        drop(b);
        let store = SqliteAlertStateStore::new(SqliteStore::open(w.db()).unwrap());
        assert!(
            store
                .load()
                .await
                .unwrap()
                .iter()
                .any(|r| r.alert.as_str() == "r-bad")
        );
        drop(store);

        // The audit log names the record's alert and why, and nothing of its content.
        let raw = rusqlite::Connection::open(w.db()).unwrap();
        let lines: Vec<String> = raw
            .prepare("SELECT line FROM audit_events ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .unwrap()
            .map(|l| String::from_utf8(l.unwrap()).unwrap())
            .collect();
        let unreadable: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("state_unreadable"))
            .collect();
        assert_eq!(unreadable.len(), 1);
        assert!(unreadable[0].contains("r-bad"));
    });
}

#[test]
fn the_wrong_state_key_restores_nothing_and_says_so() {
    let w = world();
    runtime().block_on(async {
        let (a, _) = w.start().await;
        a.handle_alert(alert("r-key", Severity::P1), w.responders(&["Alice"]))
            .await
            .unwrap();
        drop(a);
        let (_b, recovered) = w.start_with_key([0x11; 32]).await;
        assert_eq!(recovered.alerts, 0);
        assert_eq!(recovered.unreadable.len(), 1);
        assert!(!format!("{:?}", recovered.unreadable).contains("Restart-Canary"));
    });
}

#[test]
fn a_ticket_system_that_forgot_the_ticket_does_not_stop_the_escalation() {
    let w = world();
    runtime().block_on(async {
        let (a, _) = w.start().await;
        let report = a
            .handle_alert(alert("r-tkt", Severity::P1), w.responders(&["Alice", "Frank"]))
            .await
            .unwrap();
        drop(a);

        // An in-memory ticket system restarted with the process: the ticket is unknown to it.
        let (b, _) = w
            .start_on(STATE_KEY, Arc::new(MemoryTicketSink::new()))
            .await;
        w.advance(300);
        let tick = b.tick().await.unwrap();
        assert_eq!(tick.escalated.len(), 1, "Frank is paged regardless");
        assert_eq!(w.sent_to(6), 1);
        // Resolution completes too (links revoked, follow-ups sent).
        let r = b
            .handle_alert(resolved(alert("r-tkt", Severity::P1)), Vec::new())
            .await
            .unwrap();
        assert!(matches!(r.outcome, AlertOutcome::Resolved { .. }));
        assert!(b.escalation(&report.alert).unwrap().resolved);
        drop(b);

        // Both failed ticket updates are in the audit log, with their reason.
        let raw = rusqlite::Connection::open(w.db()).unwrap();
        let failed: i64 = raw
            .query_row(
                "SELECT count(*) FROM audit_events WHERE CAST(line AS TEXT) LIKE '%ticket_not_found%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(failed, 2);
    });
}
