//! The trait crates' conformance suites, run unchanged against PostgreSQL.
//!
//! Compiled in only when `RCSEC_TEST_POSTGRES_URL` is set at build time (see `build.rs`): the
//! suites' macros cannot skip. Each test runs in a fresh schema, dropped afterwards.
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

#[cfg(rcsec_postgres_tests)]
mod postgres {
    use rcsec_core::Secret;
    use rcsec_store_postgres::testing::{database_for_dir, fresh_database, url};
    use rcsec_store_postgres::{
        NumberKeyer, PgAlertStateStore, PgAuditSink, PgBlobStore, PgOutbox, PgPinStore,
        PgTokenStore,
    };

    fn tokens() -> PgTokenStore {
        PgTokenStore::new(fresh_database(&url()))
    }

    fn blobs() -> PgBlobStore {
        PgBlobStore::new(fresh_database(&url()))
    }

    fn pins() -> PgPinStore {
        PgPinStore::new(
            fresh_database(&url()),
            NumberKeyer::new(&Secret::new([0x42; 32])),
        )
    }

    fn outbox() -> PgOutbox {
        PgOutbox::new(fresh_database(&url()))
    }

    mod token_store {
        rcsec_link::token_store_tests!(super::tokens);
    }

    mod blob_store {
        rcsec_link::blob_store_tests!(super::blobs);
    }

    mod pin_store {
        rcsec_capability::pin_store_tests!(super::pins);
    }

    mod outbox {
        rcsec::outbox_tests!(super::outbox);
    }

    fn alert_state() -> PgAlertStateStore {
        PgAlertStateStore::new(fresh_database(&url()))
    }

    mod alert_state_store {
        rcsec::alert_state_store_tests!(super::alert_state);
    }

    mod audit_sink {
        use std::sync::Arc;

        use rcsec_audit::AuditSink;

        rcsec_audit::audit_sink_tests!(|dir: &std::path::Path| {
            let db = super::database_for_dir(&super::url(), dir);
            let sink: Arc<dyn AuditSink> = Arc::new(super::PgAuditSink::new(db));
            sink
        });
    }
}

#[cfg(not(rcsec_postgres_tests))]
#[test]
fn conformance_suites_skipped() {
    eprintln!(
        "skipped the PostgreSQL conformance suites: RCSEC_TEST_POSTGRES_URL was not set when \
         this test was built"
    );
}
