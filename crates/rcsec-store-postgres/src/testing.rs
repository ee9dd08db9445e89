//! Test helpers (feature `test-utils`): find the server, isolate each test in its own schema.
//!
//! Tests read [`URL_VAR`]. Unset: a test prints why it is skipped and returns. Set: the
//! server must answer, or the test fails. Each test gets a fresh schema
//! `rcsec_test_<time>_<random>` (every pooled connection has it as its `search_path`), dropped
//! when the last handle on the database goes away. Schemas a crashed or killed run left
//! behind are dropped by later runs once they are an hour old.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcsec_link::{OsRandom, RandomSource as _};
use sha2::{Digest as _, Sha256};
use tokio_postgres::NoTls;

use crate::db::{PgDatabase, PgOptions};

/// The variable that points tests at a server: `postgres://postgres@127.0.0.1:5432/test`.
pub const URL_VAR: &str = "RCSEC_TEST_POSTGRES_URL";

/// Leftover test schemas older than this are dropped by later runs.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// The server URL, or `None` (after printing a skip notice naming `test`) when unset.
pub fn url_or_skip(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("skipped {test}: {URL_VAR} is not set (no PostgreSQL to test against)");
            None
        }
    }
}

/// The server URL for suites that cannot skip.
///
/// # Panics
/// When [`URL_VAR`] is unset: the conformance tests are only compiled in when it was set at
/// build time (see this crate's `build.rs`).
#[allow(clippy::expect_used, reason = "test helper: fails the test loudly")]
pub fn url() -> String {
    std::env::var(URL_VAR).expect("RCSEC_TEST_POSTGRES_URL was set at build time but not now")
}

/// A fresh schema name: `rcsec_test_<unix seconds>_<16 random hex digits>`.
///
/// # Panics
/// When the OS RNG fails.
#[allow(clippy::expect_used, reason = "test helper")]
pub fn unique_schema() -> String {
    let mut r = [0u8; 8];
    OsRandom.fill(&mut r).expect("os rng");
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("rcsec_test_{secs}_{}", hex::encode(r))
}

/// Drops a test schema when the last database handle holding it is dropped.
struct SchemaGuard {
    url: String,
    schema: Option<String>,
}

impl fmt::Debug for SchemaGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaGuard")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let url = std::mem::take(&mut self.url);
        let schema = self.schema.take();
        // Drop may run on a runtime worker: do the clean-up on a thread of its own.
        let done = std::thread::spawn(move || cleanup(&url, schema.as_deref()));
        if done.join().is_err() {
            eprintln!("test schema clean-up panicked");
        }
    }
}

/// Drops `schema` (if any) and every test schema older than an hour. Best effort.
fn cleanup(url: &str, schema: Option<&str>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    rt.block_on(async {
        let Ok((client, conn)) = tokio_postgres::connect(url, NoTls).await else {
            return;
        };
        let task = tokio::spawn(conn);
        if let Some(schema) = schema {
            // Names come from `unique_schema`/`schema_for_dir`: [a-z0-9_] only.
            if client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await
                .is_err()
            {
                eprintln!("could not drop test schema {schema}");
            }
        }
        let _ = client.batch_execute(&stale_sweep_sql()).await;
        drop(client);
        let _ = task.await;
    });
}

fn stale_sweep_sql() -> String {
    let secs = STALE_AFTER.as_secs();
    format!(
        "DO $$ DECLARE s text; t timestamptz; BEGIN \
           FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rcsec\\_test\\_%' LOOP \
             BEGIN \
               EXECUTE format('SELECT min(applied_at) FROM %I.schema_version', s) INTO t; \
             EXCEPTION WHEN undefined_table THEN t := NULL; END; \
             IF t IS NULL OR t < now() - interval '{secs} seconds' THEN \
               BEGIN EXECUTE format('DROP SCHEMA %I CASCADE', s); \
               EXCEPTION WHEN others THEN NULL; END; \
             END IF; \
           END LOOP; END $$"
    )
}

/// A database on `url` in a fresh schema, dropped with the last handle.
///
/// # Panics
/// When the URL does not parse.
#[allow(clippy::expect_used, reason = "test helper")]
pub fn fresh_database(url: &str) -> PgDatabase {
    let schema = unique_schema();
    let guard = SchemaGuard {
        url: url.to_owned(),
        schema: Some(schema.clone()),
    };
    PgDatabase::build(PgOptions::new(url).schema(schema), Some(Arc::new(guard)))
        .expect("test database options")
}

/// A second handle (its own pool) on the same schema as `db`, for multi-replica tests.
///
/// # Panics
/// When `db` has no schema.
#[allow(clippy::expect_used, reason = "test helper")]
pub fn second_pool(url: &str, db: &PgDatabase) -> PgDatabase {
    let schema = db
        .schema()
        .expect("test databases have a schema")
        .to_owned();
    PgDatabase::new(PgOptions::new(url).schema(schema)).expect("test database options")
}

/// A database whose schema is derived from `dir`, so calling this again with the same `dir`
/// reopens the same tables (what the audit-sink suite needs to test reopening). These schemas
/// are not dropped when the handle goes (the suite reopens after dropping); later runs drop
/// them once stale.
///
/// # Panics
/// When the URL does not parse.
#[allow(clippy::expect_used, reason = "test helper")]
pub fn database_for_dir(url: &str, dir: &Path) -> PgDatabase {
    let digest = Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let schema = format!("rcsec_test_dir_{}", hex::encode(&digest[..12]));
    let guard = SchemaGuard {
        url: url.to_owned(),
        schema: None,
    };
    PgDatabase::build(PgOptions::new(url).schema(schema), Some(Arc::new(guard)))
        .expect("test database options")
}

/// Opens a plain connection to `url` (for admin statements in tests); the connection task
/// runs on the current runtime.
///
/// # Errors
/// The driver's error when the server is unreachable.
pub async fn admin_connection(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}
