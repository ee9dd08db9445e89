//! Compiles the server-backed conformance tests in only when a server is configured.
//!
//! The trait crates' conformance macros build the store and run every check with no way to
//! skip, so `tests/conformance.rs` is gated on `cfg(rcsec_redis_tests)`, set here when
//! `RCSEC_TEST_REDIS_URL` is set (a skip notice test stands in otherwise).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(rcsec_redis_tests)");
    println!("cargo::rerun-if-env-changed=RCSEC_TEST_REDIS_URL");
    if std::env::var_os("RCSEC_TEST_REDIS_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=rcsec_redis_tests");
    }
}
