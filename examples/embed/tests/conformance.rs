//! The trait crate's conformance suite, unchanged, against our token store.

mod token_store {
    rcsec::link::token_store_tests!(rcsec_embed::ShardedTokenStore::new);
}
