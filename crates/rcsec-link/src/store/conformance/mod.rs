//! Conformance suites every `TokenStore` and `BlobStore` adapter runs unchanged.
//!
//! ```text
//! // tests/conformance.rs of a store crate
//! rcsec_link::token_store_tests!(MySqlTokenStore::for_tests);
//! rcsec_link::blob_store_tests!(MySqlBlobStore::for_tests);
//! ```
//! The argument is any expression callable with no arguments that returns the store; it is
//! called once per test, so each test starts from an empty store. Each expanded test is a
//! plain `#[test]` running on a multi-threaded tokio runtime this crate provides, so the
//! calling crate needs no tokio dependency of its own.

use std::future::Future;

use rcsec_core::{AlertId, Timestamp};

use crate::rng::OsRandom;
use crate::store::{BlobId, LinkRecord, RecipientPseudonym};
use crate::token::LinkId;

/// Runs a suite future on a fresh 4-worker runtime.
///
/// # Panics
/// When the runtime cannot start or the suite fails: these are tests.
#[allow(
    clippy::expect_used,
    reason = "test harness: failing loudly is the point"
)]
pub fn block_on<F: Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f);
}

/// Expands one `#[test]` per token-store conformance check.
#[macro_export]
macro_rules! token_store_tests {
    ($ctor:expr) => {
        $crate::__token_store_tests!($ctor;
            insert_get_and_duplicate, consume_once_then_consumed, consume_outcomes_in_order,
            multi_use_counts_down, revoke_and_revoke_alert, extend_code_attempts_and_grant,
            extend_refusals, sweep_expired_keeps_claimable, concurrent_consume_race,
            concurrent_multi_use_race, concurrent_extend_spends_each_attempt_once);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __token_store_tests {
    ($ctor:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let store: ::std::sync::Arc<dyn $crate::store::TokenStore> =
                    ::std::sync::Arc::new(($ctor)());
                $crate::store::conformance::block_on(
                    $crate::store::conformance::token_store::$name(store),
                );
            }
        )*
    };
}

/// Expands one `#[test]` per blob-store conformance check.
#[macro_export]
macro_rules! blob_store_tests {
    ($ctor:expr) => {
        $crate::__blob_store_tests!($ctor;
            put_take_single_read, max_reads_then_gone, expiry_deletes, delete_and_sweep,
            concurrent_take_race);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __blob_store_tests {
    ($ctor:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let store: ::std::sync::Arc<dyn $crate::store::BlobStore> =
                    ::std::sync::Arc::new(($ctor)());
                $crate::store::conformance::block_on(
                    $crate::store::conformance::blob_store::$name(store),
                );
            }
        )*
    };
}

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

fn at(secs: u64) -> Timestamp {
    Timestamp::from_millis(T0.as_millis() + secs * 1000)
}

#[allow(clippy::expect_used, reason = "test data")]
fn record(alert: &str, expires_in: u64) -> LinkRecord {
    LinkRecord::new(
        LinkId::random(&OsRandom).expect("rng"),
        AlertId::new(alert).expect("alert id"),
        RecipientPseudonym::from_bytes([7; 32]),
        BlobId::random(&OsRandom).expect("rng"),
        at(expires_in),
    )
}

pub mod blob_store;
pub mod token_store;
