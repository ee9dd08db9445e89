//! The outbox conformance suite against the in-memory outbox.

rcsec::outbox_tests!(rcsec::MemoryOutbox::new);
