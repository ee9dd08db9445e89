//! Embedded, versioned migrations.
//!
//! The schema version lives in SQLite's `user_version` header field and the file is marked as
//! rcsec's with `application_id`. [`migrate`] applies every missing step in one `BEGIN
//! IMMEDIATE` transaction (all or nothing, safe against a second process migrating at the same
//! moment) and refuses a file from a newer build or another application without touching it.

use rusqlite::{Connection, TransactionBehavior};

use crate::SqliteError;

/// `application_id` of rcsec databases: ASCII `rcsq`.
pub(crate) const APPLICATION_ID: i32 = 0x7263_7371;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Step `i` takes the schema from version `i` to `i + 1`. Never edit a released step: add one.
const MIGRATIONS: &[&str] = &[
    // 1: links, blobs, audit events, pins, outbox.
    "
    CREATE TABLE links (
        link_id BLOB PRIMARY KEY NOT NULL CHECK (length(link_id) = 16),
        alert_id TEXT NOT NULL,
        recipient BLOB NOT NULL CHECK (length(recipient) = 32),
        blob_id BLOB NOT NULL CHECK (length(blob_id) = 16),
        ip_prefix TEXT,
        user_agent_hash BLOB CHECK (user_agent_hash IS NULL OR length(user_agent_hash) = 32),
        device_id TEXT,
        max_uses INTEGER NOT NULL CHECK (max_uses >= 0),
        uses INTEGER NOT NULL CHECK (uses >= 0),
        expires_at INTEGER NOT NULL,
        revoked INTEGER NOT NULL CHECK (revoked IN (0, 1)),
        ext_code_digest BLOB CHECK (ext_code_digest IS NULL OR length(ext_code_digest) = 32),
        ext_attempts_left INTEGER,
        ext_claim_until INTEGER,
        ext_used INTEGER
    ) STRICT;
    CREATE INDEX links_by_alert ON links (alert_id);
    CREATE INDEX links_by_expiry ON links (expires_at);

    CREATE TABLE blobs (
        blob_id BLOB PRIMARY KEY NOT NULL CHECK (length(blob_id) = 16),
        ciphertext BLOB NOT NULL,
        expires_at INTEGER NOT NULL,
        reads_left INTEGER NOT NULL CHECK (reads_left >= 0)
    ) STRICT;
    CREATE INDEX blobs_by_expiry ON blobs (expires_at);

    CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 0),
        line BLOB NOT NULL
    ) STRICT;
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

    CREATE TABLE pins (
        number_key BLOB PRIMARY KEY NOT NULL CHECK (length(number_key) = 32),
        pinned_at INTEGER NOT NULL,
        source TEXT NOT NULL
    ) STRICT;

    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL UNIQUE,
        message BLOB NOT NULL,
        expires_at INTEGER NOT NULL,
        state TEXT NOT NULL
            CHECK (state IN ('pending', 'in_flight', 'sent', 'failed', 'expired')),
        attempts INTEGER NOT NULL CHECK (attempts >= 0),
        next_attempt_at INTEGER NOT NULL,
        lease_until INTEGER NOT NULL,
        provider TEXT,
        delivery_id TEXT,
        last_error TEXT
    ) STRICT;
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at, seq);
    ",
    // 2: signed audit checkpoints, each with the Merkle frontier at its size (to resume from).
    "
    CREATE TABLE audit_checkpoints (
        size INTEGER PRIMARY KEY NOT NULL CHECK (size > 0),
        line BLOB NOT NULL,
        frontier BLOB NOT NULL CHECK (length(frontier) % 32 = 0)
    ) STRICT;
    CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
    CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
    ",
    // 3: the orchestrator's sealed per-alert state (rcsec::state), ordered by revision.
    "
    CREATE TABLE alert_state (
        alert_id TEXT PRIMARY KEY NOT NULL,
        revision INTEGER NOT NULL CHECK (revision >= 0),
        open INTEGER NOT NULL CHECK (open IN (0, 1)),
        updated_at INTEGER NOT NULL,
        sealed BLOB NOT NULL
    ) STRICT;
    CREATE INDEX alert_state_closed ON alert_state (open, updated_at);
    ",
    // 4: MLS team-group states for the push protector, sealed (AES-256-GCM) by the caller.
    "
    CREATE TABLE mls_groups (
        group_id BLOB PRIMARY KEY NOT NULL CHECK (length(group_id) > 0),
        version INTEGER NOT NULL CHECK (version > 0),
        sealed BLOB NOT NULL
    ) STRICT;
    ",
];

/// Brings the database to [`SCHEMA_VERSION`].
///
/// # Errors
/// [`SqliteError::NotADatabase`], [`SqliteError::ForeignDatabase`],
/// [`SqliteError::NewerSchema`], [`SqliteError::ReadOnly`] (a file that needs migrating but
/// cannot be written), or another [`SqliteError`]. On error nothing was changed.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), SqliteError> {
    // Cheap read-only check first, so an up-to-date database opened read-only works.
    let (app, version) = header(conn)?;
    check_header(app, version)?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Re-read under the write lock: another process may have migrated meanwhile.
    let (app, version) = header(&tx)?;
    check_header(app, version)?;
    if version == 0 {
        let tables: i64 = tx.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        if tables != 0 {
            // Someone else's database that never set an application_id: leave it alone.
            return Err(SqliteError::ForeignDatabase { found: app });
        }
    }
    let start = usize::try_from(version).map_err(|_| SqliteError::Internal)?;
    for step in MIGRATIONS.iter().skip(start) {
        tx.execute_batch(step)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

fn header(conn: &Connection) -> Result<(i32, i64), SqliteError> {
    let app = conn.pragma_query_value(None, "application_id", |r| r.get::<_, i32>(0))?;
    let version = conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))?;
    Ok((app, version))
}

fn check_header(app: i32, version: i64) -> Result<(), SqliteError> {
    if app != 0 && app != APPLICATION_ID {
        return Err(SqliteError::ForeignDatabase { found: app });
    }
    if version > SCHEMA_VERSION {
        return Err(SqliteError::NewerSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < 0 {
        return Err(SqliteError::CorruptRow {
            table: "header",
            what: "user_version",
        });
    }
    Ok(())
}
