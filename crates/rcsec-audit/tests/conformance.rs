//! The AuditSink conformance suite against both in-crate sinks.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod memory {
    use std::path::Path;
    use std::sync::Arc;

    use rcsec_audit::{AuditSink, MemoryAuditSink};

    // One shared log per test: "reopening" returns another handle on it.
    rcsec_audit::audit_sink_tests!({
        let shared = MemoryAuditSink::new();
        move |_: &Path| -> Arc<dyn AuditSink> { Arc::new(shared.clone()) }
    });
}

mod jsonl {
    use std::path::Path;
    use std::sync::Arc;

    use rcsec_audit::{AuditSink, JsonlAuditSink, JsonlOptions};

    rcsec_audit::audit_sink_tests!(|dir: &Path| -> Arc<dyn AuditSink> {
        Arc::new(JsonlAuditSink::open(dir, JsonlOptions::default()).unwrap())
    });
}

mod jsonl_rotating {
    use std::path::Path;
    use std::sync::Arc;

    use rcsec_audit::{AuditSink, JsonlAuditSink, JsonlOptions};

    // Tiny files: nearly every batch starts a new file, so the chain must cross files.
    rcsec_audit::audit_sink_tests!(|dir: &Path| -> Arc<dyn AuditSink> {
        let options = JsonlOptions {
            max_file_bytes: 600,
            ..JsonlOptions::default()
        };
        Arc::new(JsonlAuditSink::open(dir, options).unwrap())
    });
}
