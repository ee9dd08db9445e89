//! The stores the demo runs on: SQLite in the temporary directory, or memory + JSONL.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcsec::audit::{AuditSink, JsonlAuditSink, JsonlOptions};
use rcsec::capability::{MemoryPinStore, PinStore};
use rcsec::core::Secret;
use rcsec::link::{BlobStore, MemoryBlobStore, MemoryTokenStore, TokenStore};
use rcsec::{MemoryOutbox, Outbox};
use rcsec_store_sqlite::{
    SqliteAuditSink, SqliteBlobStore, SqliteOutbox, SqlitePinStore, SqliteStore, SqliteTokenStore,
};

use crate::{DemoError, pipeline};

/// Where the audit log can be read back from for verification.
#[derive(Debug)]
pub(crate) enum AuditLocation {
    Sqlite(PathBuf),
    Jsonl(JsonlAuditSink),
}

#[derive(Debug)]
pub(crate) struct Stores {
    pub(crate) tokens: Arc<dyn TokenStore>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) audit: Arc<dyn AuditSink>,
    pub(crate) pins: Arc<dyn PinStore>,
    pub(crate) outbox: Arc<dyn Outbox>,
    pub(crate) location: AuditLocation,
    pub(crate) description: String,
}

impl Stores {
    pub(crate) fn open(dir: &Path, memory: bool) -> Result<Self, DemoError> {
        if memory {
            let sink = JsonlAuditSink::open(dir.join("audit"), JsonlOptions::default())
                .map_err(pipeline)?;
            return Ok(Self {
                tokens: Arc::new(MemoryTokenStore::new()),
                blobs: Arc::new(MemoryBlobStore::new()),
                audit: Arc::new(sink.clone()),
                pins: Arc::new(MemoryPinStore::new()),
                outbox: Arc::new(MemoryOutbox::new()),
                location: AuditLocation::Jsonl(sink),
                description: "memory stores, JSON-lines audit log in a temporary directory"
                    .to_owned(),
            });
        }
        let path = dir.join("rcsec.db");
        let store = SqliteStore::open(&path).map_err(pipeline)?;
        let mut pin_key = Secret::new([0u8; 32]);
        rcsec::link::RandomSource::fill(&rcsec::link::OsRandom, pin_key.expose_secret_mut())
            .map_err(pipeline)?;
        Ok(Self {
            tokens: Arc::new(SqliteTokenStore::new(store.clone())),
            blobs: Arc::new(SqliteBlobStore::new(store.clone())),
            audit: Arc::new(SqliteAuditSink::open(store.clone()).map_err(pipeline)?),
            pins: Arc::new(SqlitePinStore::new(store.clone(), &pin_key)),
            outbox: Arc::new(SqliteOutbox::new(store)),
            location: AuditLocation::Sqlite(path),
            description: "SQLite (WAL) in a temporary directory".to_owned(),
        })
    }

    /// The audit log as JSON lines.
    pub(crate) fn audit_bytes(&self) -> Result<Vec<u8>, DemoError> {
        match &self.location {
            AuditLocation::Sqlite(path) => {
                rcsec_store_sqlite::audit::read_all_lines(path).map_err(pipeline)
            }
            AuditLocation::Jsonl(sink) => {
                let mut all = Vec::new();
                for file in sink.files().map_err(pipeline)? {
                    all.extend(std::fs::read(file)?);
                }
                Ok(all)
            }
        }
    }
}
