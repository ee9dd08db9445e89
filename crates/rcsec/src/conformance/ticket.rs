//! The [`TicketSink`] conformance suite: `rcsec::ticket_sink_tests!(make)`.
//!
//! `make` is called once per test and returns a future of a [`TicketHarness`] (a fresh
//! backend each time). The rules checked:
//!
//! - **One incident, one ticket**: opening the same alert again (a re-fired alert, a retry)
//!   returns the same ticket and the backend holds one; a second replica of the sink with no
//!   shared memory finds it too (where the backend can correlate).
//! - **Typed errors**: `note`, `assign` and `resolve` on a ticket the backend does not know
//!   are [`TicketError::NotFound`], for a well-formed id and for garbage alike; on a known
//!   ticket they succeed.
//! - **Leak nothing**: no error (`Display`, `Debug`, sources) and not the sink's `Debug`
//!   contains the title, the note text or a configured secret, including when the backend is
//!   down.

use std::sync::Arc;

use async_trait::async_trait;
use rcsec_core::{AlertId, Severity};

use super::{assert_free_of, renderings};
use crate::ticket::{TicketError, TicketId, TicketSink};

/// Text put into titles and notes; no error may repeat it.
pub const CANARY: &str = "CANARY-conformance-ticket-hunter2";

/// A ticket sink under test and the backend behind it.
#[async_trait]
pub trait TicketHarness: Send + Sync + 'static {
    /// The sink, wired to this harness's backend.
    fn sink(&self) -> Arc<dyn TicketSink>;

    /// A second sink on the same backend sharing no memory with [`sink`](Self::sink) (another
    /// replica of the service), or `None` when the sink cannot find tickets it did not open.
    fn replica(&self) -> Option<Arc<dyn TicketSink>> {
        None
    }

    /// How many tickets the backend holds for `alert`.
    async fn tickets_for(&self, alert: &AlertId) -> usize;

    /// An id shaped like this backend's ticket ids that names no ticket.
    fn unknown_ticket(&self) -> TicketId;

    /// Makes every later call fail the way this backend's outage does (a 5xx); `false` when it
    /// cannot.
    async fn break_backend(&self) -> bool;

    /// Configured secrets (passwords, bearer tokens) that must never appear in an error or a
    /// `Debug` rendering.
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Expands one `#[test]` per ticket sink conformance check; see
/// [`crate::conformance::ticket`].
#[macro_export]
macro_rules! ticket_sink_tests {
    ($make:expr) => {
        $crate::__ticket_sink_tests!($make;
            open_is_idempotent_per_alert, replicas_find_the_open_ticket,
            lifecycle_succeeds_on_an_open_ticket, unknown_ticket_is_not_found,
            errors_leak_nothing_even_when_the_backend_is_down);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __ticket_sink_tests {
    ($make:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::run($make, |h| async move {
                    $crate::conformance::ticket::$name(::std::sync::Arc::new(h)).await
                });
            }
        )*
    };
}

/// The harness as the checks take it.
type Harness = Arc<dyn TicketHarness>;

fn alert(id: &str) -> AlertId {
    AlertId::new(id).expect("suite alert ids are valid")
}

fn title() -> String {
    format!("DiskFull on db-1 {CANARY}")
}

async fn open(sink: &dyn TicketSink, alert: &AlertId) -> TicketId {
    match sink.open(alert, Severity::P1, &title()).await {
        Ok(id) => id,
        Err(e) => panic!("open failed: {e:?}"),
    }
}

fn assert_leak_free(h: &Harness, errors: &[TicketError]) {
    let mut texts = vec![format!("{:?}", h.sink())];
    for e in errors {
        texts.extend(renderings(e));
    }
    let mut needles = vec![CANARY.to_owned(), "hunter2".to_owned()];
    needles.extend(h.secrets());
    assert_free_of("ticket error or Debug", &texts, &needles);
}

/// Opening an alert twice is one ticket; another alert is another ticket.
pub async fn open_is_idempotent_per_alert(h: Harness) {
    let sink = h.sink();
    let a = alert("c4a1b2d3e4f50617");
    let first = open(sink.as_ref(), &a).await;
    assert_eq!(
        open(sink.as_ref(), &a).await,
        first,
        "re-open gave a new ticket"
    );
    assert_eq!(h.tickets_for(&a).await, 1, "the backend holds two tickets");
    let b = alert("d5b2c3e4f5061728");
    let other = open(sink.as_ref(), &b).await;
    assert_ne!(other, first, "two alerts share a ticket");
    assert_eq!(h.tickets_for(&b).await, 1);
    assert_eq!(h.tickets_for(&a).await, 1);
}

/// A replica with no memory of its own finds the ticket another one opened.
pub async fn replicas_find_the_open_ticket(h: Harness) {
    let Some(replica) = h.replica() else {
        eprintln!("conformance: ticket harness has no replica; check skipped");
        return;
    };
    let a = alert("e6c3d4f5061728a9");
    let first = open(h.sink().as_ref(), &a).await;
    assert_eq!(open(replica.as_ref(), &a).await, first);
    assert_eq!(h.tickets_for(&a).await, 1);
}

/// Note, assign and resolve succeed on an open ticket.
pub async fn lifecycle_succeeds_on_an_open_ticket(h: Harness) {
    let sink = h.sink();
    let id = open(sink.as_ref(), &alert("f7d4e5061728a9b0")).await;
    sink.note(&id, "rcsec: delivered to +44•••••••23 (rcs_plain)")
        .await
        .expect("note");
    sink.assign(&id, "Alice").await.expect("assign");
    sink.resolve(&id, "rcsec: alert resolved")
        .await
        .expect("resolve");
}

/// Every operation on a ticket the backend does not know is `NotFound`, and says nothing.
pub async fn unknown_ticket_is_not_found(h: Harness) {
    let sink = h.sink();
    let mut errors = Vec::new();
    for id in [
        h.unknown_ticket(),
        TicketId::new("../../no-such-ticket?x=1#y"),
    ] {
        for result in [
            sink.note(&id, CANARY).await,
            sink.assign(&id, CANARY).await,
            sink.resolve(&id, CANARY).await,
        ] {
            match result {
                Err(e @ TicketError::NotFound) => errors.push(e),
                other => panic!("{id} is unknown, yet: {other:?}"),
            }
        }
    }
    assert_leak_free(&h, &errors);
}

/// A down backend fails every operation with an error that carries no ticket text.
pub async fn errors_leak_nothing_even_when_the_backend_is_down(h: Harness) {
    let sink = h.sink();
    let open_before = open(sink.as_ref(), &alert("a8e5f61728a9b0c1")).await;
    assert!(
        h.break_backend().await,
        "every harness must simulate a backend outage"
    );
    let mut errors = Vec::new();
    let fresh = alert("b9f61728a9b0c1d2");
    match sink.open(&fresh, Severity::P0, &title()).await {
        Err(e) => errors.push(e),
        Ok(id) => panic!("the backend is down, yet open gave {id}"),
    }
    for result in [
        sink.note(&open_before, CANARY).await,
        sink.assign(&open_before, CANARY).await,
        sink.resolve(&open_before, CANARY).await,
    ] {
        match result {
            Err(e) => errors.push(e),
            Ok(()) => panic!("the backend is down, yet an update succeeded"),
        }
    }
    assert_leak_free(&h, &errors);
}
