//! Runs the `rcsec` binary the way scripts do and checks the exit-code contract.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::process::Command;

fn rcsec(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rcsec"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn msisdn_prints_only_the_masked_form() {
    let out = rcsec(&["msisdn", "+44 7700 900123"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "+**********23"
    );
}

#[test]
fn bad_input_exits_2_with_one_line_that_does_not_echo_it() {
    let out = rcsec(&["msisdn", "+44 7700 900123 ext 9"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("7700"));
}

#[test]
fn bad_usage_exits_2_and_help_exits_0() {
    assert_eq!(rcsec(&["no-such-command"]).status.code(), Some(2));
    assert_eq!(rcsec(&["--help"]).status.code(), Some(0));
}
