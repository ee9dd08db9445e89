//! [`RedisConnection`]: a lazily opened, self-healing multiplexed connection and a key prefix.
//!
//! [`RedisConnection::new`] only parses the URL, so it needs no runtime (the conformance
//! suites build stores outside one). The first command connects; a connection that drops is
//! forgotten and the next command opens a new one. One multiplexed connection pipelines
//! every concurrent command of a process; separate handles are separate connections.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use tokio::sync::Mutex;

use crate::error::{OpContext as _, RedisError};

/// A Redis server, a key prefix, and the connection to it. Cheap to clone (clones share the
/// connection).
#[derive(Clone)]
pub struct RedisConnection {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    prefix: String,
    config: AsyncConnectionConfig,
    conn: Mutex<Option<MultiplexedConnection>>,
    /// Something that must live as long as the connection (a test prefix's clean-up guard).
    #[allow(dead_code, reason = "held only for its Drop")]
    attachment: Option<Arc<dyn fmt::Debug + Send + Sync>>,
}

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConnection")
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

/// Whether `prefix` is a safe key prefix: 1-64 printable ASCII characters, no spaces.
fn valid_prefix(prefix: &str) -> bool {
    (1..=64).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_graphic())
}

impl RedisConnection {
    /// A handle on `url` (`redis://host:port/db`) whose keys all start with `prefix`
    /// (e.g. `rcsec:`), with 2 s connect and response timeouts. Opens no connection.
    ///
    /// # Errors
    /// [`RedisError::Config`] for an unparsable URL or an invalid prefix.
    pub fn new(url: &str, prefix: &str) -> Result<Self, RedisError> {
        Self::build(url, prefix, None)
    }

    pub(crate) fn build(
        url: &str,
        prefix: &str,
        attachment: Option<Arc<dyn fmt::Debug + Send + Sync>>,
    ) -> Result<Self, RedisError> {
        if !valid_prefix(prefix) {
            return Err(RedisError::Config(
                "key prefix must be 1-64 printable characters",
            ));
        }
        let client =
            redis::Client::open(url).map_err(|_| RedisError::Config("unparsable redis url"))?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                prefix: prefix.to_owned(),
                config,
                conn: Mutex::new(None),
                attachment,
            }),
        })
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// `prefix + suffix`.
    pub(crate) fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.inner.prefix)
    }

    /// The shared connection, opened if needed.
    pub(crate) async fn get(&self, op: &'static str) -> Result<MultiplexedConnection, RedisError> {
        let mut slot = self.inner.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&self.inner.config)
            .await
            .map_err(|e| {
                let mapped = RedisError::from_driver(op, &e);
                match mapped {
                    RedisError::ConnectionLost { op } | RedisError::Refused { op } => {
                        RedisError::Unreachable { op }
                    }
                    other => other,
                }
            })?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Runs `f` on the connection; forgets the connection if it failed at the transport level.
    pub(crate) async fn run<T, F, Fut>(&self, op: &'static str, f: F) -> Result<T, RedisError>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.get(op).await?;
        let result = f(conn).await.op(op);
        if matches!(result, Err(RedisError::ConnectionLost { .. })) {
            *self.inner.conn.lock().await = None;
        }
        result
    }
}
