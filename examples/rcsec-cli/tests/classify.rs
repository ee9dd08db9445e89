//! `rcsec classify`: the JSON-lines contract, and that the matched text never comes back.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

const CANARY: &str = "ghp_R8x2Kq9Lm4Np7Ts1Vw3Xz6Bc0Df5Gh8Jk2Mn";

fn classify(stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rcsec"))
        .arg("classify")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn one_output_line_per_input_line() {
    let input = format!(
        "{}\n{}\n\n{}\n",
        serde_json::json!({"text": format!("deploy token {CANARY}")}),
        serde_json::json!({"text": "all good at 2026-11-22T01:57:20Z", "id": 7}),
        serde_json::json!({"text": "card 4111 1111 1111 1111, mail ops@example.com"}),
    );
    let out = classify(&input);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains(CANARY) && !stdout.contains("4111"));
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "blank lines are skipped");
    assert_eq!(
        lines[0],
        serde_json::json!({"sensitive": true, "findings": [{"kind": "github_token", "start": 13, "end": 53}]})
    );
    assert_eq!(
        lines[1],
        serde_json::json!({"sensitive": false, "findings": []})
    );
    let kinds: Vec<_> = lines[2]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["payment_card", "email"]);
}

#[test]
fn malformed_line_exits_2_naming_the_line_without_echoing_it() {
    let input = format!(
        "{}\n{{\"text\": \"{CANARY}\"\n",
        serde_json::json!({"text": "fine"})
    );
    let out = classify(&input);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(!err.contains(CANARY) && !err.contains("R8x2"), "{err}");
    // The line before the bad one was still answered.
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);

    for bad in [
        "[1, 2]\n",
        "{\"txt\": \"x\"}\n",
        "{\"text\": 5}\n",
        "not json\n",
    ] {
        let out = classify(bad);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8(out.stderr).unwrap().contains("line 1"));
    }
}
