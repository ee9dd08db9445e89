//! The store conformance suites, run against the in-memory stores (as every adapter runs them).

use rcsec_link::{MemoryBlobStore, MemoryTokenStore};

mod token_store {
    rcsec_link::token_store_tests!(super::MemoryTokenStore::new);
}

mod blob_store {
    rcsec_link::blob_store_tests!(super::MemoryBlobStore::new);
}
