//! The ticketing seam: every paged alert has a ticket that follows acks, owners and resolution.
//!
//! Ticket systems are not end-to-end encrypted, so the pipeline only ever passes them redacted
//! text, masked numbers and fixed phrases.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use rcsec_core::{AlertId, Severity};

/// A ticket's id in the ticket system.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TicketId(String);

impl TicketId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a ticket operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TicketError {
    /// No such ticket.
    #[error("no such ticket")]
    NotFound,
    /// The backend failed.
    #[error("ticket backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A ticket system (Jira, ServiceNow, an incident tracker).
///
/// # Contract
/// - `open` is idempotent per alert: a repeat (a re-fired alert, a retry after a timeout)
///   returns the ticket already open for it, so one incident has one ticket.
/// - Everything passed in is already safe for a system without end-to-end encryption: titles
///   and notes are redacted by the pipeline, owners are names or masked numbers. An adapter
///   adds nothing of its own from the alert.
/// - Failures are [`TicketError`]s whose sources carry no ticket text; an operation on a
///   ticket the system does not know is [`TicketError::NotFound`].
///
/// `rcsec::ticket_sink_tests!` (feature `test-utils`) checks an adapter against these rules
/// through a harness.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use rcsec::core::{AlertId, Severity};
/// use rcsec::{MemoryTicketSink, TicketSink};
///
/// let tickets = MemoryTicketSink::new();
/// let alert = AlertId::new("a1")?;
/// let id = tickets.open(&alert, Severity::P1, "PostgresDown").await?;
/// assert_eq!(tickets.open(&alert, Severity::P1, "PostgresDown").await?, id);
///
/// tickets.assign(&id, "Alice").await?;
/// tickets.note(&id, "acknowledged by Alice over rcs_e2ee").await?;
/// tickets.resolve(&id, "resolved at source").await?;
/// let ticket = tickets.ticket(&alert).expect("opened");
/// assert!(ticket.resolved);
/// assert_eq!(ticket.owner.as_deref(), Some("Alice"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait]
pub trait TicketSink: Send + Sync + fmt::Debug + 'static {
    /// Opens a ticket for `alert`; `title` is already redacted. Opening the same alert twice
    /// returns the existing ticket.
    ///
    /// # Errors
    /// [`TicketError::Backend`].
    async fn open(
        &self,
        alert: &AlertId,
        severity: Severity,
        title: &str,
    ) -> Result<TicketId, TicketError>;

    /// Adds a note (already redacted).
    ///
    /// # Errors
    /// [`TicketError`].
    async fn note(&self, ticket: &TicketId, note: &str) -> Result<(), TicketError>;

    /// Sets the owner (a masked number or a name).
    ///
    /// # Errors
    /// [`TicketError`].
    async fn assign(&self, ticket: &TicketId, owner: &str) -> Result<(), TicketError>;

    /// Closes the ticket with a note.
    ///
    /// # Errors
    /// [`TicketError`].
    async fn resolve(&self, ticket: &TicketId, note: &str) -> Result<(), TicketError>;
}

#[cfg(test)]
fn _obj_safe(_: &dyn TicketSink) {}

/// One ticket as [`MemoryTicketSink`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Its id.
    pub id: TicketId,
    /// The alert.
    pub alert: AlertId,
    /// Severity at opening.
    pub severity: Severity,
    /// Redacted title.
    pub title: String,
    /// Notes in order.
    pub notes: Vec<String>,
    /// Current owner.
    pub owner: Option<String>,
    /// Whether it is resolved.
    pub resolved: bool,
}

/// Tickets in memory, for tests and the demo. It passes `rcsec::ticket_sink_tests!`.
///
/// `Debug` shows how many tickets it holds, not their text.
#[derive(Default)]
pub struct MemoryTicketSink {
    inner: Mutex<HashMap<AlertId, Ticket>>,
    outage: AtomicBool,
}

impl fmt::Debug for MemoryTicketSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTicketSink")
            .field("tickets", &self.inner.lock().map(|t| t.len()).ok())
            .field("outage", &self.outage.load(Ordering::SeqCst))
            .finish()
    }
}

impl MemoryTicketSink {
    /// No tickets.
    pub fn new() -> Self {
        Self::default()
    }

    /// The ticket for `alert`, if one was opened.
    pub fn ticket(&self, alert: &AlertId) -> Option<Ticket> {
        self.inner.lock().ok()?.get(alert).cloned()
    }

    /// Simulates the ticket system being down (`true`): every call fails with
    /// [`TicketError::Backend`] until it is back (`false`).
    pub fn set_outage(&self, down: bool) {
        self.outage.store(down, Ordering::SeqCst);
    }

    fn lock(&self) -> Result<MutexGuard<'_, HashMap<AlertId, Ticket>>, TicketError> {
        if self.outage.load(Ordering::SeqCst) {
            return Err(TicketError::Backend("ticket system unavailable".into()));
        }
        self.inner
            .lock()
            .map_err(|_| TicketError::Backend("ticket lock poisoned".into()))
    }

    fn with<T>(&self, id: &TicketId, f: impl FnOnce(&mut Ticket) -> T) -> Result<T, TicketError> {
        let mut inner = self.lock()?;
        let ticket = inner
            .values_mut()
            .find(|t| &t.id == id)
            .ok_or(TicketError::NotFound)?;
        Ok(f(ticket))
    }
}

#[async_trait]
impl TicketSink for MemoryTicketSink {
    async fn open(
        &self,
        alert: &AlertId,
        severity: Severity,
        title: &str,
    ) -> Result<TicketId, TicketError> {
        let mut inner = self.lock()?;
        let next = inner.len() + 1;
        let ticket = inner.entry(alert.clone()).or_insert_with(|| Ticket {
            id: TicketId::new(format!("INC-{next}")),
            alert: alert.clone(),
            severity,
            title: title.to_owned(),
            notes: Vec::new(),
            owner: None,
            resolved: false,
        });
        Ok(ticket.id.clone())
    }

    async fn note(&self, ticket: &TicketId, note: &str) -> Result<(), TicketError> {
        self.with(ticket, |t| t.notes.push(note.to_owned()))
    }

    async fn assign(&self, ticket: &TicketId, owner: &str) -> Result<(), TicketError> {
        self.with(ticket, |t| t.owner = Some(owner.to_owned()))
    }

    async fn resolve(&self, ticket: &TicketId, note: &str) -> Result<(), TicketError> {
        self.with(ticket, |t| {
            t.notes.push(note.to_owned());
            t.resolved = true;
        })
    }
}
