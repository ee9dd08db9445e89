//! `rcsec keyring` and `rcsec token`: every verify outcome and the exit-code contract.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

fn rcsec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rcsec"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .trim()
        .to_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn new_ring(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    let p = path.to_str().unwrap().to_owned();
    let out = rcsec(&["keyring", "new", &p]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    p
}

fn mint(ring: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "token",
        "mint",
        "--keyring",
        ring,
        "--recipient",
        "+15550109999",
        "--ttl",
        "600",
    ];
    args.extend_from_slice(extra);
    let out = rcsec(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

/// Runs verify; returns (exit code, stdout, stderr).
fn verify(ring: &str, extra: &[&str], token: &str) -> (Option<i32>, String, String) {
    let mut args = vec!["token", "verify", "--keyring", ring];
    args.extend_from_slice(extra);
    args.push(token);
    let out = rcsec(&args);
    (out.status.code(), stdout(&out), stderr(&out))
}

fn assert_rejected(result: (Option<i32>, String, String), reason: &str) {
    let (code, out, err) = result;
    assert_eq!(code, Some(1), "stdout {out} stderr {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.trim_end().ends_with(reason),
        "expected {reason}, got {err}"
    );
    assert!(out.is_empty());
}

#[test]
fn keyring_new_is_0600_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let ring = new_ring(dir.path(), "ring.json");
    assert_eq!(
        std::fs::metadata(&ring).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = rcsec(&["keyring", "new", &ring]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1);
}

#[test]
fn mint_then_verify_prints_claims() {
    let dir = tempfile::tempdir().unwrap();
    let ring = new_ring(dir.path(), "ring.json");
    let token = mint(&ring, &["--bind-ip", "203.0.113.0/24"]);
    assert_eq!(token.len(), 64);
    assert!(!token.contains("5550109999"));
    let (code, out, err) = verify(
        &ring,
        &["--recipient", "+1 555 010 9999", "--ip", "203.0.113.7"],
        &token,
    );
    assert_eq!(code, Some(0), "{err}");
    let claims: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(claims["version"], 1);
    assert_eq!(claims["key_id"], 1);
    assert_eq!(claims["recipient_checked"], true);
    assert_eq!(claims["ip_binding"]["v4"], 24);
    assert_eq!(claims["link_id"].as_str().unwrap().len(), 32);
    let exp = claims["expires_at"].as_u64().unwrap() / 1000;
    assert!(exp >= now() + 590 && exp <= now() + 600, "{exp}");
    assert!(!out.contains("5550109999"));
}

#[test]
fn every_rejection_reason() {
    let dir = tempfile::tempdir().unwrap();
    let ring = new_ring(dir.path(), "ring.json");
    let other = new_ring(dir.path(), "other.json");
    let token = mint(&ring, &[]);

    assert_rejected(verify(&ring, &[], "not-a-token"), "malformed");
    assert_rejected(verify(&ring, &[], &format!("{token}A")), "malformed");
    // Same key id, other key bytes.
    assert_rejected(verify(&other, &[], &token), "bad_signature");
    let mut forged = token.clone().into_bytes();
    forged[50] = if forged[50] == b'x' { b'y' } else { b'x' };
    assert_rejected(
        verify(&ring, &[], std::str::from_utf8(&forged).unwrap()),
        "bad_signature",
    );
    // A key id the verifying keyring never had.
    let rotated = new_ring(dir.path(), "rotated.json");
    assert_eq!(
        rcsec(&["keyring", "rotate", &rotated]).status.code(),
        Some(0)
    );
    let from_key_2 = mint(&rotated, &[]);
    assert_rejected(verify(&ring, &[], &from_key_2), "unknown_key");
    let later = (now() + 3600).to_string();
    assert_rejected(verify(&ring, &["--at", &later], &token), "expired");
    let earlier = (now() - 3600).to_string();
    assert_rejected(verify(&ring, &["--at", &earlier], &token), "not_yet_valid");
    assert_rejected(
        verify(&ring, &["--recipient", "+447700900123"], &token),
        "binding_mismatch",
    );
    let bound = mint(&ring, &["--bind-ip", "198.51.100.0/24"]);
    assert_rejected(
        verify(&ring, &["--ip", "198.51.101.1"], &bound),
        "binding_mismatch",
    );
    assert_rejected(verify(&ring, &[], &bound), "binding_mismatch");
    assert_eq!(verify(&ring, &["--ip", "198.51.100.1"], &bound).0, Some(0));
}

#[test]
fn rotation_keeps_old_tokens_verifying() {
    let dir = tempfile::tempdir().unwrap();
    let ring = new_ring(dir.path(), "ring.json");
    let old = mint(&ring, &[]);
    let out = rcsec(&["keyring", "rotate", &ring]);
    assert_eq!(out.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary["active_key_id"], 2);
    assert_eq!(summary["keys"][0]["state"], "verify_only");
    assert!(!stdout(&out).contains("secret"));
    assert_eq!(
        std::fs::metadata(&ring).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let new = mint(&ring, &[]);
    let (code, out, _) = verify(&ring, &[], &new);
    assert_eq!(code, Some(0));
    assert!(out.contains("\"key_id\":2"));
    assert_eq!(verify(&ring, &[], &old).0, Some(0));
}

#[test]
fn bad_usage_and_input_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let ring = new_ring(dir.path(), "ring.json");
    let missing = dir.path().join("missing.json");
    for args in [
        vec!["token", "mint", "--keyring", &ring, "--ttl", "60"],
        vec![
            "token",
            "mint",
            "--keyring",
            &ring,
            "--recipient",
            "+15550109999",
            "--ttl",
            "x",
        ],
        vec![
            "token",
            "mint",
            "--keyring",
            &ring,
            "--recipient",
            "call me",
            "--ttl",
            "60",
        ],
        vec![
            "token",
            "mint",
            "--keyring",
            &ring,
            "--recipient",
            "+15550109999",
            "--ttl",
            "0",
        ],
        vec![
            "token",
            "mint",
            "--keyring",
            &ring,
            "--recipient",
            "+15550109999",
            "--ttl",
            "999999",
        ],
        vec![
            "token",
            "mint",
            "--keyring",
            &ring,
            "--recipient",
            "+15550109999",
            "--ttl",
            "60",
            "--bind-ip",
            "1.2.3.4/40",
        ],
        vec![
            "token",
            "verify",
            "--keyring",
            missing.to_str().unwrap(),
            "tok",
        ],
        vec![
            "token",
            "verify",
            "--keyring",
            &ring,
            "--ip",
            "not-an-ip",
            "tok",
        ],
        vec!["token", "verify", "--keyring", &ring],
        vec!["keyring", "rotate", missing.to_str().unwrap()],
        vec!["keyring"],
    ] {
        let out = rcsec(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("5550109999"));
    }
    std::fs::set_permissions(&ring, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = rcsec(&[
        "token",
        "mint",
        "--keyring",
        &ring,
        "--recipient",
        "+15550109999",
        "--ttl",
        "60",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("0600"));
}
