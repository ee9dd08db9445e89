//! Embedded, versioned migrations.
//!
//! Each migration is one SQL batch with a version number. [`apply`] runs, in ONE transaction:
//! take a transaction-scoped advisory lock (so two replicas starting at once apply each
//! migration exactly once: the second waits, then finds nothing left to do), create the
//! schema and the `schema_version` table if missing, and apply every migration above the
//! recorded version in order. PostgreSQL DDL is transactional, so a failing migration leaves
//! the database exactly as it was.

use deadpool_postgres::Object;

use crate::error::{OpContext as _, PgError};

/// Advisory lock key for migrations: the bytes "rcsecmig" as an i64.
const MIGRATION_LOCK: i64 = i64::from_be_bytes(*b"rcsecmig");

/// Every migration, in order. Never edit a released one: add the next.
pub(crate) const MIGRATIONS: &[(i32, &str)] = &[(1, V1), (2, V2), (3, V3)];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i32 = 3;

const V1: &str = r"
CREATE TABLE links (
    link_id          bytea    PRIMARY KEY CHECK (octet_length(link_id) = 16),
    alert_id         text     NOT NULL,
    recipient        bytea    NOT NULL CHECK (octet_length(recipient) = 32),
    blob_id          bytea    NOT NULL CHECK (octet_length(blob_id) = 16),
    ip_prefix        text,
    user_agent_hash  bytea,
    device_id        text,
    max_uses         bigint   NOT NULL CHECK (max_uses >= 0),
    uses             bigint   NOT NULL CHECK (uses >= 0),
    expires_at       bigint   NOT NULL,
    revoked          boolean  NOT NULL DEFAULT false,
    ext_digest       bytea,
    ext_attempts     smallint,
    ext_claim_until  bigint,
    ext_used         boolean,
    -- LinkRecord::sweepable_at, kept by the database itself.
    sweep_at bigint GENERATED ALWAYS AS (
        CASE WHEN ext_digest IS NOT NULL AND NOT ext_used AND ext_attempts > 0
             THEN GREATEST(expires_at, ext_claim_until)
             ELSE expires_at END) STORED
);
CREATE INDEX links_alert ON links (alert_id);
CREATE INDEX links_sweep ON links (sweep_at);

CREATE TABLE blobs (
    blob_id     bytea   PRIMARY KEY CHECK (octet_length(blob_id) = 16),
    ciphertext  bytea   NOT NULL,
    expires_at  bigint  NOT NULL,
    reads_left  bigint  NOT NULL CHECK (reads_left >= 0)
);
CREATE INDEX blobs_expiry ON blobs (expires_at);

-- One row: the audit log's size and last chain hash. Appenders lock it FOR UPDATE.
CREATE TABLE audit_head (
    id     smallint PRIMARY KEY CHECK (id = 1),
    size   bigint   NOT NULL,
    chain  bytea    NOT NULL
);
INSERT INTO audit_head (id, size, chain) VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');
-- Each event as its JSON line (canonical event plus chain member), verifiable as a file.
CREATE TABLE audit_events (
    seq    bigint PRIMARY KEY CHECK (seq >= 0),
    line   bytea  NOT NULL,
    chain  bytea  NOT NULL
);

CREATE TABLE pins (
    number_key  bytea   PRIMARY KEY CHECK (octet_length(number_key) = 32),
    pinned_at   bigint  NOT NULL,
    source      text    NOT NULL
);
CREATE TABLE pin_history (
    id          bigserial PRIMARY KEY,
    number_key  bytea   NOT NULL,
    pinned_at   bigint  NOT NULL,
    source      text    NOT NULL,
    actor       text    NOT NULL,
    unpinned_at bigint  NOT NULL
);

CREATE TABLE outbox (
    id               text    PRIMARY KEY,
    seq              bigserial,
    body             bytea   NOT NULL,
    state            text    NOT NULL
                     CHECK (state IN ('pending', 'in_flight', 'sent', 'failed', 'expired')),
    attempts         bigint  NOT NULL DEFAULT 0,
    next_attempt_at  bigint  NOT NULL,
    lease_until      bigint  NOT NULL DEFAULT 0,
    expires_at       bigint  NOT NULL,
    provider         text,
    delivery_id      text,
    last_error       text
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, seq)
    WHERE state IN ('pending', 'in_flight');
";

/// Signed audit checkpoints, each with the Merkle frontier at its size: where a sink resumes.
const V2: &str = r"
CREATE TABLE audit_checkpoints (
    size      bigint PRIMARY KEY CHECK (size > 0),
    line      bytea  NOT NULL,
    frontier  bytea  NOT NULL CHECK (octet_length(frontier) % 32 = 0)
);
";

/// The orchestrator's sealed per-alert state (`rcsec::state`), ordered by revision.
const V3: &str = r"
CREATE TABLE alert_state (
    alert_id    text    PRIMARY KEY,
    revision    bigint  NOT NULL CHECK (revision >= 0),
    open        boolean NOT NULL,
    updated_at  bigint  NOT NULL,
    sealed      bytea   NOT NULL
);
CREATE INDEX alert_state_closed ON alert_state (updated_at) WHERE NOT open;
";

/// Brings the database to [`SCHEMA_VERSION`].
pub(crate) async fn apply(client: &mut Object, schema: Option<&str>) -> Result<(), PgError> {
    const OP: &str = "migrate";
    let tx = client.transaction().await.op(OP)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .op(OP)?;
    if let Some(schema) = schema {
        // `schema` was validated as [a-z_][a-z0-9_]*: safe to splice.
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .op(OP)?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .op(OP)?;
    let row = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await
        .op(OP)?;
    let current: i32 = row.try_get(0).op(OP)?;
    if current > SCHEMA_VERSION {
        return Err(PgError::Config("database schema is newer than this build"));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql).await.op(OP)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[version],
        )
        .await
        .op(OP)?;
    }
    tx.commit().await.op(OP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_up_to_the_current_version() {
        let versions: Vec<i32> = MIGRATIONS.iter().map(|(v, _)| *v).collect();
        let expected: Vec<i32> = (1..=SCHEMA_VERSION).collect();
        assert_eq!(versions, expected);
    }
}
