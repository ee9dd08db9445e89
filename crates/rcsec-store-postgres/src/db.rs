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
use std::sync::Arc;
use std::time::Duration;

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
        config.application_name("rcsec");
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
        self.inner
            .pool
            .get()
            .await
            .map_err(|e| PgError::from_pool(op, &e))
    }

    /// A pooled connection on a migrated database.
    pub(crate) async fn client(&self, op: &'static str) -> Result<Object, PgError> {
        self.migrate().await?;
        self.raw_client(op).await
    }
}
