//! Write-through of alert state to an [`AlertStateStore`], and recovery after a restart.
//!
//! Each step that changes an alert (intake, a page step, an acknowledgement, an escalation,
//! a quiet-hours hold or release, resolution) writes that alert's whole record once: one
//! sealed snapshot per alert per step, never one per recipient. Page steps write it after
//! their audit batch and before their outbox batch, so by the time a message can be sent the
//! record that maps its provider events back to the alert is durable.
//!
//! Records carry a revision taken under the state lock with the snapshot, so concurrent steps
//! on one alert cannot leave an older snapshot on top of a newer one (the store keeps the
//! highest revision). Revisions start from the clock at build time and from the highest stored
//! revision on [`Orchestrator::recover`], so a restarted process writes above its predecessor.
//!
//! A resolved alert leaves a small closed record (a tombstone, sealed but empty) so that a
//! late write of an older open snapshot cannot bring it back; tombstones are pruned after
//! [`TOMBSTONE_TTL_MS`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rcsec_audit::EventKind;
use rcsec_core::{AlertId, Timestamp};

use super::{Orchestrator, OrchestratorError};
use crate::state::record::{AlertSnapshot, KIND, Restored, VERSION};
use crate::state::{AlertStateStore, StateError, StateRecord, StateSealer};

/// How long a resolved alert's tombstone is kept (a day, in milliseconds).
pub(crate) const TOMBSTONE_TTL_MS: u64 = 24 * 3600 * 1000;
/// How often `tick` prunes tombstones (hourly, in milliseconds).
const PRUNE_EVERY_MS: u64 = 3600 * 1000;
/// The record kind of a tombstone (bound into its seal; it holds no content).
const CLOSED_KIND: &str = "alert-closed";

/// The configured store, the sealer, and the write order.
#[derive(Debug)]
pub(crate) struct Durable {
    store: Arc<dyn AlertStateStore>,
    sealer: StateSealer,
    next_revision: AtomicU64,
    last_prune_ms: AtomicU64,
}

impl Durable {
    pub(crate) fn new(
        store: Arc<dyn AlertStateStore>,
        sealer: StateSealer,
        now: Timestamp,
    ) -> Self {
        // Room for 1024 writes per millisecond above the previous process's clock-based start.
        Self {
            store,
            sealer,
            next_revision: AtomicU64::new(now.as_millis().saturating_mul(1024)),
            last_prune_ms: AtomicU64::new(now.as_millis()),
        }
    }
}

/// A stored record that could not be restored. It is left in the store untouched (an operator
/// with the right key can still read it) and audited; the alert is not escalated by this
/// process until Alertmanager sends it again.
#[derive(Debug)]
pub struct UnreadableRecord {
    /// The alert the record is about.
    pub alert: AlertId,
    /// Why it could not be restored.
    pub error: StateError,
}

/// What [`Orchestrator::recover`] restored.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// Open alerts restored (escalation, acknowledgement, dedup and resolution resume).
    pub alerts: usize,
    /// Messages whose provider events map back to their alert again.
    pub messages: usize,
    /// Pages held by quiet hours, released by `tick` when their window ends.
    pub held: usize,
    /// Resolved alerts' tombstones seen (nothing to restore).
    pub closed: usize,
    /// Records that could not be restored (each is audited as `failed`/`state_unreadable`).
    pub unreadable: Vec<UnreadableRecord>,
}

impl Orchestrator {
    /// Writes the current state of each of `alerts` through to the state store, if one is
    /// configured: one sealed record per alert.
    pub(crate) async fn persist(&self, alerts: &[AlertId]) -> Result<(), OrchestratorError> {
        let Some(d) = &self.durable else {
            return Ok(());
        };
        let now = self.now();
        let mut snapshots = Vec::with_capacity(alerts.len());
        {
            let state = self.lock()?;
            for id in alerts {
                let Some(a) = state.alerts.get(id) else {
                    continue;
                };
                let revision = d.next_revision.fetch_add(1, Ordering::SeqCst);
                let snapshot = (!a.resolved).then(|| {
                    AlertSnapshot::capture(
                        a,
                        a.messages
                            .iter()
                            .filter_map(|m| state.messages.get_key_value(m)),
                        state.dedup.last_paged(id),
                        state.held.iter().filter(|h| &h.alert == id),
                    )
                });
                snapshots.push((id.clone(), revision, snapshot));
            }
        }
        for (alert, revision, snapshot) in snapshots {
            let open = snapshot.is_some();
            let sealed = match snapshot {
                Some(s) => {
                    let plaintext = s.encode().map_err(StateError::from)?;
                    drop(s);
                    d.sealer.seal(KIND, alert.as_str(), VERSION, &plaintext)
                }
                None => d.sealer.seal(CLOSED_KIND, alert.as_str(), VERSION, &[]),
            }
            .map_err(StateError::from)?;
            let record = StateRecord {
                open,
                alert,
                revision,
                updated_at: now,
                sealed,
            };
            d.store.put(&record).await.map_err(StateError::from)?;
        }
        Ok(())
    }

    /// Loads every open alert from the state store, so that `tick` escalates it, `on_event`
    /// maps its messages back, a repeat inside the dedup window is recognised, a resolution
    /// revokes its links, and its quiet-hours holds are released. Call it once, after
    /// [`build`](super::OrchestratorBuilder::build) and before handling alerts or events;
    /// alerts this process already knows are left as they are. Without a state store it
    /// restores nothing.
    ///
    /// A record that cannot be opened or decoded (a wrong state key, a tampered or corrupt
    /// record, a format from a newer build) does not stop recovery: it is listed in
    /// [`RecoveryReport::unreadable`], audited, and left in the store.
    ///
    /// # Errors
    /// [`OrchestratorError::State`] when the store cannot be read;
    /// [`OrchestratorError::Audit`] when an unreadable record cannot be audited.
    pub async fn recover(&self) -> Result<RecoveryReport, OrchestratorError> {
        let mut report = RecoveryReport::default();
        let Some(d) = &self.durable else {
            return Ok(report);
        };
        let now = self.now();
        let records = d.store.load().await.map_err(StateError::from)?;
        if let Some(max) = records.iter().map(|r| r.revision).max() {
            d.next_revision
                .fetch_max(max.saturating_add(1), Ordering::SeqCst);
        }
        let mut restored = Vec::new();
        for record in records {
            if !record.open {
                report.closed += 1;
                continue;
            }
            match self.restore_record(d, &record) {
                Ok(r) => restored.push(r),
                Err(error) => report.unreadable.push(UnreadableRecord {
                    alert: record.alert,
                    error,
                }),
            }
        }
        {
            let mut state = self.lock()?;
            for r in restored {
                let id = r.alert.alert.id.clone();
                if state.alerts.contains_key(&id) {
                    continue;
                }
                report.alerts += 1;
                report.messages += r.messages.len();
                report.held += r.held.len();
                state.messages.extend(r.messages);
                if let Some(at) = r.last_paged {
                    state.dedup.restore(id.clone(), at);
                }
                state.held.extend(r.held);
                state.alerts.insert(id, r.alert);
            }
        }
        let mut events = Vec::with_capacity(report.unreadable.len());
        for u in &report.unreadable {
            let reason = match u.error {
                StateError::Seal(_) => "state_unreadable",
                _ => "state_invalid",
            };
            let e = self.event(EventKind::Failed, now);
            events.push(
                e.alert(u.alert.clone())
                    .outcome("state_unreadable")
                    .reason(reason)
                    .build()?,
            );
        }
        self.record_all(events).await?;
        Ok(report)
    }

    fn restore_record(&self, d: &Durable, record: &StateRecord) -> Result<Restored, StateError> {
        let opened = d.sealer.open(KIND, record.alert.as_str(), &record.sealed)?;
        let snapshot = AlertSnapshot::decode(opened.version, &record.alert, &opened.plaintext)?;
        Ok(snapshot.restore(&self.classifier)?)
    }

    /// Deletes tombstones older than [`TOMBSTONE_TTL_MS`], at most once per hour.
    pub(crate) async fn prune_state(&self) -> Result<(), OrchestratorError> {
        let Some(d) = &self.durable else {
            return Ok(());
        };
        let now = self.now();
        let last = d.last_prune_ms.load(Ordering::SeqCst);
        if now.as_millis() < last.saturating_add(PRUNE_EVERY_MS) {
            return Ok(());
        }
        if d.last_prune_ms
            .compare_exchange(last, now.as_millis(), Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Ok(());
        }
        let before = Timestamp::from_millis(now.as_millis().saturating_sub(TOMBSTONE_TTL_MS));
        d.store
            .prune_closed(before)
            .await
            .map_err(StateError::from)?;
        Ok(())
    }
}
