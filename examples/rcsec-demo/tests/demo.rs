//! Runs the demo's main logic and checks what it prints.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

fn run(options: &rcsec_demo::Options) -> (rcsec_demo::Summary, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut out = Vec::new();
    let summary = rt.block_on(rcsec_demo::run(options, &mut out)).unwrap();
    (summary, String::from_utf8(out).unwrap())
}

#[test]
fn default_run_on_sqlite_shows_every_route_and_verifies() {
    let (summary, out) = run(&rcsec_demo::Options::default());
    for needle in [
        "rcs_e2ee",
        "rcs_plain",
        "sms_link",
        "encrypted_push",
        "blocked",
        "downgrade_detected",
        "carrier_no_e2ee",
        "no_rcs",
        "[redacted url_credentials]",
        "replay: refused (consumed)",
        "acknowledged alert 1",
        "Frank",
        "links revoked",
        "Canary: not found",
        "Audit log: verified",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    assert!(summary.canary_clean && summary.replay_refused);
    assert!(summary.audit_events > 20, "{summary:?}");
    assert!(
        !out.contains("Canary-Pa55w0rd"),
        "the canary is never printed"
    );
    assert!(!out.contains("7700900101"), "numbers are masked");
    assert!(
        !out.contains("#k=") || !out.contains("#k=A"),
        "link keys are not printed"
    );
}

#[test]
fn json_run_on_memory_stores_is_one_document() {
    let options = rcsec_demo::Options {
        json: true,
        memory: true,
        ..Default::default()
    };
    let (summary, out) = run(&options);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["canary_clean"], true);
    assert_eq!(doc["audit"]["events"].as_u64(), Some(summary.audit_events));
    assert_eq!(doc["alert1"].as_array().unwrap().len(), 5);
    assert_eq!(doc["redeem"]["replay"], "consumed");
}

#[test]
fn bad_roster_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.toml");
    std::fs::write(
        &path,
        "[[recipient]]\nname='x'\nnumber='nope'\nreach='rcs'\n",
    )
    .unwrap();
    let options = rcsec_demo::Options {
        roster: Some(path),
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(rcsec_demo::run(&options, &mut Vec::new()))
        .unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
