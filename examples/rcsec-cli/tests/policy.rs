//! `rcsec policy check FILE`: 0 with a summary, 1 with `FILE:LINE:COL: message`, 2 when the
//! file cannot be read.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::process::{Command, Output};

fn check(path: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rcsec"))
        .args(["policy", "check"])
        .arg(path)
        .output()
        .unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, body: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn the_shipped_default_policy_checks_ok() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/rcsec-policy/default-policy.toml");
    let out = check(&path);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("ok: ") && stdout.contains("1 rules"),
        "{stdout}"
    );
}

#[test]
fn invalid_policies_fail_the_check_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "unknown.toml",
            "version = 1\n[overrides]\nenabled = true\nallow_everything = true\n",
            ":4:1: ",
        ),
        (
            "template.toml",
            "version = 1\n[sms]\ntemplate = \"{summary} {link}\"\n",
            ":3:12: ",
        ),
        ("syntax.toml", "version = 1\n[[rule]\n", ":2:"),
        (
            "effect.toml",
            "version = 1\n[[rule]]\nname = \"x\"\neffect = \"allow\"\n",
            ":4:10: ",
        ),
    ];
    for (name, body, location) in cases {
        let path = write(&dir, name, body);
        let out = check(&path);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&format!("{name}{location}")), "{name}: {err}");
    }
}

#[test]
fn unreadable_files_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = check(&dir.path().join("missing.toml"));
    assert_eq!(out.status.code(), Some(2));
    let binary = write(&dir, "binary.toml", "");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    assert_eq!(check(&binary).status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_rcsec"))
        .args(["policy", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "missing FILE is bad usage");
}
