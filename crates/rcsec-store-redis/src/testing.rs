//! Test helpers (feature `test-utils`): find the server, isolate each test under its own
//! key prefix, and delete that prefix's keys when the last handle goes away.

use std::fmt;
use std::sync::Arc;

use rcsec_link::{OsRandom, RandomSource as _};

use crate::conn::RedisConnection;

/// The variable that points tests at a server: `redis://127.0.0.1:6379/`.
pub const URL_VAR: &str = "RCSEC_TEST_REDIS_URL";

/// The server URL, or `None` (after printing a skip notice naming `test`) when unset.
pub fn url_or_skip(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("skipped {test}: {URL_VAR} is not set (no Redis to test against)");
            None
        }
    }
}

/// The server URL for suites that cannot skip.
///
/// # Panics
/// When [`URL_VAR`] is unset (the conformance tests are compiled in only when it was set at
/// build time; see `build.rs`).
#[allow(clippy::expect_used, reason = "test helper: fails the test loudly")]
pub fn url() -> String {
    std::env::var(URL_VAR).expect("RCSEC_TEST_REDIS_URL was set at build time but not now")
}

/// A fresh prefix `rcsec_test:<16 random hex digits>:`.
///
/// # Panics
/// When the OS RNG fails.
#[allow(clippy::expect_used, reason = "test helper")]
pub fn unique_prefix() -> String {
    let mut r = [0u8; 8];
    OsRandom.fill(&mut r).expect("os rng");
    format!("rcsec_test:{}:", hex::encode(r))
}

struct PrefixGuard {
    url: String,
    prefix: String,
}

impl fmt::Debug for PrefixGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrefixGuard")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Drop for PrefixGuard {
    fn drop(&mut self) {
        let (url, prefix) = (
            std::mem::take(&mut self.url),
            std::mem::take(&mut self.prefix),
        );
        // Drop may run on a runtime worker: clean up on a thread of its own, synchronously.
        let done = std::thread::spawn(move || {
            let Ok(client) = redis::Client::open(url.as_str()) else {
                return;
            };
            let Ok(mut conn) = client.get_connection() else {
                return;
            };
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query(&mut conn)
                .unwrap_or_default();
            for chunk in keys.chunks(500) {
                let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(chunk).query(&mut conn);
            }
        });
        if done.join().is_err() {
            eprintln!("test key clean-up panicked");
        }
    }
}

/// A connection under a fresh prefix whose keys are deleted with the last handle.
///
/// # Panics
/// When the URL does not parse.
#[allow(clippy::expect_used, reason = "test helper")]
pub fn fresh_connection(url: &str) -> RedisConnection {
    let prefix = unique_prefix();
    let guard = PrefixGuard {
        url: url.to_owned(),
        prefix: prefix.clone(),
    };
    RedisConnection::build(url, &prefix, Some(Arc::new(guard))).expect("test redis options")
}

/// A second, independent connection on the same prefix as `conn` (another replica).
///
/// # Panics
/// When the URL does not parse.
#[allow(clippy::expect_used, reason = "test helper")]
pub fn second_connection(url: &str, conn: &RedisConnection) -> RedisConnection {
    RedisConnection::new(url, conn.prefix()).expect("test redis options")
}
