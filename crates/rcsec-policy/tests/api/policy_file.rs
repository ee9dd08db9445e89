//! The policy file format: strict keys, typed values, and errors located by line and column.

use rcsec_policy::{DEFAULT_POLICY_TOML, Policy, PolicyError, Route};

fn error(source: &str) -> PolicyError {
    Policy::from_toml(source).unwrap_err()
}

fn at(source: &str) -> (usize, usize, String) {
    let e = error(source);
    let (line, column) = e.location();
    (line, column, e.to_string())
}

#[test]
fn shipped_default_is_valid_and_documented() {
    let policy = Policy::from_toml(DEFAULT_POLICY_TOML).unwrap();
    assert_eq!(policy, Policy::default());
    assert_eq!(policy.rules().len(), 1);
    assert!(policy.summary().starts_with("1 rules; overrides enabled"));
    assert!(
        DEFAULT_POLICY_TOML.contains("rcs_plain carries the text with every classifier finding")
    );
}

#[test]
fn unknown_keys_are_rejected_with_their_position() {
    let (line, column, msg) =
        at("version = 1\n\n[sms]\ntemplate = \"x {link}\"\ncolour = \"red\"\n");
    assert_eq!((line, column), (5, 1), "{msg}");
    assert!(
        msg.starts_with("5:1: ") && msg.contains("unknown field"),
        "{msg}"
    );

    let src = "version = 1\n[[rule]]\nname = \"a\"\neffect = \"deny\"\nseverity_min = \"P1\"\n";
    let (line, column, msg) = at(src);
    assert_eq!((line, column), (5, 1), "{msg}");

    let (line, _, msg) = at("version = 1\nrules = []\n");
    assert_eq!(line, 2, "{msg}");
}

#[test]
fn wrong_values_are_located() {
    let cases = [
        (
            "version = 1\n[[rule]]\nname = \"a\"\nseverity = [\"P5\"]\neffect = \"deny\"\n",
            4,
            13,
        ),
        (
            "version = 1\n[[rule]]\nname = \"a\"\nroute = [\"carrier_pigeon\"]\neffect = \"deny\"\n",
            4,
            10,
        ),
        (
            "version = 1\n[[rule]]\nname = \"a\"\neffect = \"allow\"\n",
            4,
            10,
        ),
        (
            "version = 1\n[[rule]]\nname = \"a\"\nsensitivity = \"high\"\neffect = \"deny\"\n",
            4,
            15,
        ),
        ("version = \"1\"\n", 1, 11),
    ];
    for (src, line, column) in cases {
        let e = error(src);
        assert!(matches!(e, PolicyError::Syntax { .. }), "{e}");
        assert_eq!(e.location(), (line, column), "{src}: {e}");
    }
}

#[test]
fn toml_syntax_errors_are_located() {
    let e = error("version = 1\n[sms\ntemplate = 1\n");
    assert!(matches!(e, PolicyError::Syntax { .. }));
    assert_eq!(e.location().0, 2, "{e}");
    let e = error("version = 1\nx = = 2\n");
    assert_eq!(e.location().0, 2, "{e}");
}

#[test]
fn missing_required_keys() {
    let e = error("[sms]\ntemplate = \"{link}\"\n");
    assert!(e.to_string().contains("version"), "{e}");
    let e = error("version = 1\n[[rule]]\nname = \"a\"\n");
    assert!(e.to_string().contains("effect"), "{e}");
    assert_eq!(e.location().0, 2, "{e}");
}

#[test]
fn validation_errors_are_located() {
    let long = format!(
        "version = 1\n[sms]\ntemplate = \"{}{{link}}\"\n",
        "a".repeat(120)
    );
    let cases: [(&str, usize, usize, &str); 12] = [
        (
            "version = 1\n[consent]\nterms_version = \" \"\n",
            3,
            17,
            "terms_version must not be empty",
        ),
        (
            "version = 1\n[[rule]]\nname = \"a\"\ngroup = [\"sre\", \"\"]\neffect = \"deny\"\n",
            4,
            17,
            "group names must not be empty",
        ),
        (
            "version = 1\n[sms]\ntemplate = \"{severity} {severity} {link}\"\n",
            3,
            12,
            "{severity} at most once",
        ),
        (long.as_str(), 3, 12, "at most 36 characters besides {link}"),
        (
            "version = 1\n[sms]\ntemplate = \"alert\\n{link}\"\n",
            3,
            12,
            "one line",
        ),
        ("version = 2\n", 1, 11, "unsupported policy version"),
        (
            "version = 1\n[sms]\ntemplate = \"alert: {summary} {link}\"\n",
            3,
            12,
            "placeholders",
        ),
        (
            "version = 1\n[sms]\ntemplate = \"no link here\"\n",
            3,
            12,
            "{link}",
        ),
        (
            "version = 1\n[[rule]]\nname = \"a\"\neffect = \"deny\"\n[[rule]]\nname = \"a\"\neffect = \"deny\"\n",
            6,
            8,
            "duplicate rule name",
        ),
        (
            "version = 1\n[[rule]]\nname = \"  \"\neffect = \"deny\"\n",
            3,
            8,
            "must not be empty",
        ),
        (
            "version = 1\n[residency]\nrecipient_regions = [\"DE\", \"Europe/Berlin\"]\n",
            3,
            28,
            "region",
        ),
        (
            "version = 1\n[[rule]]\nname = \"a\"\nroute = [\"blocked\"]\neffect = \"deny\"\n",
            4,
            10,
            "blocked",
        ),
    ];
    for (src, line, column, needle) in cases {
        let e = error(src);
        assert!(matches!(e, PolicyError::Invalid { .. }), "{src}: {e}");
        assert_eq!(e.location(), (line, column), "{src}: {e}");
        assert!(e.to_string().contains(needle), "{e}");
    }
}

#[test]
fn a_full_policy_round_trips_its_settings() {
    let policy = Policy::from_toml(
        r#"
version = 1
[sms]
template = "Alert ({severity}): {link}"
[overrides]
enabled = false
[consent]
terms_version = "2025-01"
[residency]
recipient_regions = ["de", "FR"]
artifact_regions = ["EU"]
[[rule]]
name = "no-plain-for-finance"
description = "Finance on-call gets links only over unencrypted RCS."
group = ["finance-oncall"]
route = ["rcs_plain"]
effect = "link_only"
"#,
    )
    .unwrap();
    assert_eq!(policy.sms_template(), "Alert ({severity}): {link}");
    assert!(!policy.overrides().enabled);
    assert_eq!(policy.consent().terms_version.as_deref(), Some("2025-01"));
    let regions: Vec<_> = policy
        .residency()
        .recipient_regions
        .iter()
        .map(|r| r.as_str())
        .collect();
    assert_eq!(regions, ["DE", "FR"]);
    assert_eq!(policy.rules()[0].when.route, [Route::RcsPlain]);
    assert_eq!(
        policy.summary(),
        "1 rules; overrides disabled; recipient regions DE,FR; artifact regions EU"
    );
}
