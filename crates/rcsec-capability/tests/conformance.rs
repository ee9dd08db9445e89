//! The `PinStore` conformance suite against the in-memory store.

rcsec_capability::pin_store_tests!(rcsec_capability::MemoryPinStore::new);
