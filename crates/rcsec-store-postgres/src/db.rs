//! The shared handle: a connection pool, an optional schema, and migrations applied lazily.
//!
//! # Why lazy
//! [`PgDatabase::new`] is synchronous and opens no connection (deadpool connects on first
//! checkout). The first operation of any store runs the migrations once per handle, behind a
//! [`tokio::sync::OnceCell`]: concurrent first calls wait for one migration run, and a failed
//! run is retried by the next call. So a handle can be built outside any async runtime (as the
//! conformance suites do) and a replica that starts before its database does not fail to boot;
//! the first operation reports [`PgError::Unreachable`] instead.
//!
//! Each runtime that uses the pool must be the same one: pooled connections run their I/O
//! task on the runtime that opened them.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio::sync::OnceCell;
use tokio_postgres::NoTls;

use crate::error::PgError;
use crate::migrate;

/// Connection settings for [`PgDatabase::new`].
#[derive(Clone)]
pub struct PgOptions {
    /// `postgres://user@host:port/db` or a key-value connection string.
    pub url: String,
    /// A schema to keep every table in (created by the migrations); `None` uses the server's
    /// default `search_path` (normally `public`). Lowercase ASCII letters, digits and `_`,
    /// 1-48 characters, not starting with a digit.
    pub schema: Option<String>,
    /// Most pooled connections.
    pub max_connections: usize,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
    /// How long a checkout may wait for a free connection.
    pub wait_timeout: Duration,
}

impl PgOptions {
    /// Defaults for `url`: no schema, 16 connections, 5 s connect and wait timeouts.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            schema: None,
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            wait_timeout: Duration::from_secs(5),
        }
    }

    /// Keeps every table in `schema`.
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Sets the pool size.
    #[must_use]
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }
}

/// The URL may carry a password: `Debug` shows only whether there is a schema.
impl fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgOptions")
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

/// A pool on one database (and schema), shared by every store built from it. Cheap to clone.
#[derive(Clone)]
pub struct PgDatabase {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    schema: Option<String>,
    migrated: OnceCell<()>,
    /// Something that must live as long as the pool (a test schema's drop guard); dropped
    /// after the pool.
    #[allow(dead_code, reason = "held only for its Drop")]
    attachment: Option<Arc<dyn fmt::Debug + Send + Sync>>,
}

impl fmt::Debug for PgDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.inner.pool.status();
        f.debug_struct("PgDatabase")
            .field("schema", &self.inner.schema)
            .field("pool_size", &status.size)
            .field("pool_max", &status.max_size)
            .finish_non_exhaustive()
    }
}

/// For how long after a connection loss every checkout is verified with a round trip.
///
/// deadpool's fast recycling drops connections whose driver task has ended, but a connection
/// the server just killed can be handed out again in the instant between its error reaching
/// the caller and its task ending. While a loss is recent (anywhere in the process; a server
/// restart kills every pooled connection at once), checkouts send an empty query first and
/// discard connections that fail it, so the next call after a loss does not fail for it.
const VERIFY_AFTER_LOSS: Duration = Duration::from_secs(2);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Milliseconds after [`epoch`] of the last connection loss, plus one (0 = never).
static LAST_LOSS: AtomicU64 = AtomicU64::new(0);

fn since_epoch_ms() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Records that a connection was found dead (called by the error classifier).
pub(crate) fn note_connection_loss() {
    LAST_LOSS.store(since_epoch_ms().saturating_add(1), Ordering::Relaxed);
}

fn loss_is_recent() -> bool {
    let last = LAST_LOSS.load(Ordering::Relaxed);
    last != 0
        && since_epoch_ms().saturating_add(1).saturating_sub(last)
            < u64::try_from(VERIFY_AFTER_LOSS.as_millis()).unwrap_or(u64::MAX)
}

/// Whether `s` is safe to splice into SQL as an identifier without quoting.
pub(crate) fn valid_schema(s: &str) -> bool {
    (1..=48).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

impl PgDatabase {
    /// A lazily connecting pool. Opens no connection and needs no runtime.
    ///
    /// # Errors
    /// [`PgError::Config`] for an unparsable URL or an invalid schema name.
    pub fn new(options: PgOptions) -> Result<Self, PgError> {
        Self::build(options, None)
    }

    pub(crate) fn build(
        options: PgOptions,
        attachment: Option<Arc<dyn fmt::Debug + Send + Sync>>,
    ) -> Result<Self, PgError> {
        let mut config: tokio_postgres::Config = options
            .url
            .parse()
            .map_err(|_| PgError::Config("unparsable postgres url"))?;
        config.connect_timeout(options.connect_timeout);
        // Operators name their services in `pg_stat_activity` through the URL
        // (`?application_name=payments-alertd`); without one, say who we are.
        if config.get_application_name().is_none() {
            config.application_name("rcsec");
        }
        if let Some(schema) = &options.schema {
            if !valid_schema(schema) {
                return Err(PgError::Config(
                    "schema name must match [a-z_][a-z0-9_]{0,47}",
                ));
            }
            // Every pooled connection starts with the schema first on its search path, so the
            // SQL in this crate stays unqualified.
            config.options(format!("-c search_path={schema}"));
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.wait_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|_| PgError::Config("connection pool could not be built"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                schema: options.schema,
                migrated: OnceCell::new(),
                attachment,
            }),
        })
    }

    /// The schema the tables live in, if one was configured.
    pub fn schema(&self) -> Option<&str> {
        self.inner.schema.as_deref()
    }

    /// Applies pending migrations now (otherwise the first operation does).
    ///
    /// # Errors
    /// [`PgError::Unreachable`], [`PgError::Database`] when a migration fails (it is rolled
    /// back as a whole).
    pub async fn migrate(&self) -> Result<(), PgError> {
        self.inner
            .migrated
            .get_or_try_init(|| async {
                let mut client = self.raw_client("migrate").await?;
                migrate::apply(&mut client, self.inner.schema.as_deref()).await
            })
            .await
            .map(|_| ())
    }

    async fn raw_client(&self, op: &'static str) -> Result<Object, PgError> {
        let max = self.inner.pool.status().max_size;
        for _ in 0..=max {
            let client = self
                .inner
                .pool
                .get()
                .await
                .map_err(|e| PgError::from_pool(op, &e))?;
            if !loss_is_recent() || client.batch_execute("").await.is_ok() {
                return Ok(client);
            }
            // Dead: keep it out of the pool and try the next one.
            drop(Object::take(client));
        }
        Err(PgError::Unreachable { op })
    }

    /// A pooled connection on a migrated database.
    pub(crate) async fn client(&self, op: &'static str) -> Result<Object, PgError> {
        self.migrate().await?;
        self.raw_client(op).await
    }
}
