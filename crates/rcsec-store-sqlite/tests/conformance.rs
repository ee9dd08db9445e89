//! The trait crates' conformance suites, unchanged, each test on a fresh temporary database.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod token_store {
    use rcsec_store_sqlite::SqliteTokenStore;

    rcsec_link::token_store_tests!(|| SqliteTokenStore::open_temporary().unwrap());
}

mod blob_store {
    use rcsec_store_sqlite::SqliteBlobStore;

    rcsec_link::blob_store_tests!(|| SqliteBlobStore::open_temporary().unwrap());
}

mod audit_sink {
    use std::path::Path;
    use std::sync::Arc;

    use rcsec_audit::AuditSink;
    use rcsec_store_sqlite::{SqliteAuditSink, SqliteStore};

    // The suite hands each test a fresh directory and reopens the same one for `reopen`.
    fn open(dir: &Path) -> Arc<dyn AuditSink> {
        let store = SqliteStore::open(dir.join("audit.db")).unwrap();
        Arc::new(SqliteAuditSink::open(store).unwrap())
    }

    rcsec_audit::audit_sink_tests!(open);
}

mod pin_store {
    use rcsec_store_sqlite::SqlitePinStore;

    rcsec_capability::pin_store_tests!(|| SqlitePinStore::open_temporary().unwrap());
}

mod outbox {
    use rcsec_store_sqlite::SqliteOutbox;

    rcsec::outbox_tests!(|| SqliteOutbox::open_temporary().unwrap());
}

mod alert_state_store {
    use rcsec_store_sqlite::SqliteAlertStateStore;

    rcsec::alert_state_store_tests!(|| SqliteAlertStateStore::open_temporary().unwrap());
}

mod group_store {
    use rcsec_store_sqlite::SqliteGroupStore;

    rcsec::group_store_tests!(|| SqliteGroupStore::open_temporary().unwrap());
}

mod journal {
    use rcsec_store_sqlite::{SqliteAuditSink, SqliteJournal, SqliteStore};

    rcsec::journal_tests!(|| SqliteJournal::new(
        SqliteAuditSink::open(SqliteStore::open_temporary().unwrap()).unwrap()
    ));
}
