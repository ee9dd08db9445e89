//! The token-store conformance suite, run unchanged against Redis.
//!
//! Compiled in only when `RCSEC_TEST_REDIS_URL` is set at build time (see `build.rs`): the
//! suite's macro cannot skip. Each test runs under a fresh key prefix, deleted afterwards.

#[cfg(rcsec_redis_tests)]
mod redis {
    use rcsec_store_redis::RedisTokenStore;
    use rcsec_store_redis::testing::{fresh_connection, url};

    fn tokens() -> RedisTokenStore {
        RedisTokenStore::new(fresh_connection(&url()))
    }

    mod token_store {
        rcsec_link::token_store_tests!(super::tokens);
    }
}

#[cfg(not(rcsec_redis_tests))]
#[test]
fn conformance_suite_skipped() {
    eprintln!(
        "skipped the Redis token-store conformance suite: RCSEC_TEST_REDIS_URL was not set when \
         this test was built"
    );
}
