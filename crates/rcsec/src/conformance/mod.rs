//! Conformance suites for the adapter seams of the pipeline itself: what every
//! [`MessagingProvider`](crate::MessagingProvider) and every [`TicketSink`](crate::TicketSink)
//! must do, whoever wrote it.
//!
//! Each suite is a macro an adapter crate expands in one of its tests, handing it a *harness*:
//! the adapter wired to a backend the harness controls (a local fake server for the HTTP
//! adapters, the simulator's own state for in-process ones), so the suite can ask what really
//! reached the backend and make it fail on command.
//!
//! ```text
//! // tests/conformance.rs of an adapter crate
//! rcsec::messaging_provider_tests!(MyHarness::start);   // async fn start() -> MyHarness
//! rcsec::ticket_sink_tests!(MyTicketHarness::start);
//! ```
//!
//! Each expanded test is a plain `#[test]` on a multi-threaded tokio runtime this crate
//! provides; the harness is built inside it (so a fake server can bind and spawn), once per
//! test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test suite"
)]

pub mod provider;
pub mod ticket;

use std::future::Future;

/// Builds a harness on a fresh 4-worker runtime and runs one check against it.
pub fn run<H, M, MF, C, CF>(make: M, check: C)
where
    M: FnOnce() -> MF,
    MF: Future<Output = H>,
    C: FnOnce(H) -> CF,
    CF: Future<Output = ()>,
{
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(async move { check(make().await).await });
}

/// Panics when any rendering in `texts` contains one of `needles`, naming which.
fn assert_free_of(what: &str, texts: &[String], needles: &[String]) {
    for text in texts {
        for needle in needles.iter().filter(|n| !n.is_empty()) {
            assert!(
                !text.contains(needle.as_str()),
                "{what} leaks {needle:?}: {text}"
            );
        }
    }
}

/// `Display` and `Debug` of an error and of every source under it.
fn renderings(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        out.push(format!("{e}"));
        out.push(format!("{e:?}"));
        next = e.source();
    }
    out
}
