//! Each detector on a made-up value in its documented format, and the placeholders that must
//! not count.

use rcsec_policy::{FindingKind as K, Sensitivity};

fn kinds(text: &str) -> Vec<K> {
    crate::classifier()
        .classify(text)
        .findings
        .iter()
        .map(|f| f.kind)
        .collect()
}

#[test]
fn documented_formats_are_found() {
    let cases: &[(&str, K)] = &[
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7Hq3b9Lw0z2Yf1m\n-----END RSA PRIVATE KEY-----",
            K::PrivateKey,
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ (truncated)",
            K::PrivateKey,
        ),
        (
            "export AWS_ACCESS_KEY_ID=AKIAZ3MSJV4WYKHGQNMX",
            K::AwsAccessKeyId,
        ),
        (
            "aws_secret_access_key = Zk3v9Qm1Lp7Xw2Rt5Yb8Nc4Hd6Jf0Gs1Ae3Ui9Oq",
            K::AwsSecretKey,
        ),
        (
            "maps key AIzaSyD9x3Kq7Lm2Np5Rt8Vw1Xz4Bc6Df9Gh2Jk in page",
            K::GcpKey,
        ),
        (
            "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRg==;",
            K::AzureKey,
        ),
        (
            "GITHUB_TOKEN=ghp_R8x2Kq9Lm4Np7Ts1Vw3Xz6Bc0Df5Gh8Jk2Mn",
            K::GithubToken,
        ),
        (
            "pat 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",
            K::GithubToken,
        ),
        ("CI_TOKEN=glpat-Rx8Kq2Lm9Np4Ts7Vw1Xz", K::GitlabToken),
        (
            "xoxb-1234567890123-1234567890123-R8x2Kq9Lm4Np7Ts1Vw3Xz6Bc",
            K::SlackToken,
        ),
        (
            "https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/R8x2Kq9Lm4Np7Ts1Vw3Xz6Bc",
            K::SlackWebhook,
        ),
        ("stripe sk_live_R8x2Kq9Lm4Np7Ts1Vw3Xz6Bc0Df", K::StripeKey),
        (
            "twilio sid AC3f9a1c7e2b8d4f6a0c5e9b1d7f3a8c2e",
            K::TwilioKey,
        ),
        (
            "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",
            K::SendgridKey,
        ),
        (
            "//registry.npmjs.org/:_authToken=npm_R8x2Kq9Lm4Np7Ts1Vw3Xz6Bc0Df5Gh8Jk2Mn",
            K::NpmToken,
        ),
        (
            "TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmcCJGE4ZjE2NmI1LWUzNDgtNDA5Yi05OTFkLWFjNmE5YjBjMGZmZQ",
            K::PypiToken,
        ),
        (
            "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            K::Jwt,
        ),
        (
            "REDIS_URL=redis://default:R8x2Kq9Lm4Np@cache-1:6379/0",
            K::UrlCredentials,
        ),
        (
            "Server=db;Database=app;User Id=sa;Password=Tr0ub4dor&3;",
            K::CredentialAssignment,
        ),
        ("db_password: 'hunter2!'", K::CredentialAssignment),
        (
            "curl -u admin:S3cr3tPass https://api.internal",
            K::CredentialAssignment,
        ),
        (
            "Authorization: Basic YWRtaW46aHVudGVyMg==",
            K::CredentialAssignment,
        ),
        (
            "SENTRY_AUTH_TOKEN=9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            K::HighEntropySecret,
        ),
        ("card 4111 1111 1111 1111 declined", K::PaymentCard),
        ("amex 3782 822463 10005", K::PaymentCard),
        ("IBAN DE89 3704 0044 0532 0130 00", K::Iban),
        ("ssn 123-45-6789", K::UsSsn),
        ("contact oncall@example.com", K::Email),
        ("call +44 7700 900123", K::Phone),
        ("call (415) 555-0132", K::Phone),
    ];
    let wrong: Vec<_> = cases
        .iter()
        .filter(|(text, kind)| kinds(text) != [*kind])
        .map(|(text, kind)| format!("{kind:?} not found alone in {text:?}: {:?}", kinds(text)))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn vendor_keyword_credentials_are_found() {
    // Made-up values in each vendor's documented shape, assigned to a key naming the vendor.
    let cases: &[&str] = &[
        "CLOUDFLARE_API_KEY=\"9c1e04b7a2f35d86e0c4b19a7d3f52e8a61c0\"",
        "cloudflare_api_token: Xq7_Lm2vR9tKp4Wz8Nc1Hd6Jf3Gs0Ae5Ui2Oq7Bk",
        "export SUMO_ACCESS_ID=\"suR7kP2mX9qL4w\"",
        "{\"sumo_access_id\": \"suT3nV8bQ1zK6d\"}",
        "SOURCEGRAPH_TOKEN = 3f9a1c7e5b2d8046a1e9c3b7f5d2a8e4c6b0917d",
        "cloudant_password = \"7a3f9c1e5b2d80469e1a3c7b5f2d8a4e6c0b9172d3e5f7a1c9b3d5e7f1a2c4b6\"",
        "CLOUDANT_APIKEY: qzvmrtkwpxhjlbnfsdgcyaeu",
        "graph api call with 123456789012345|Zk3v9Qm1Lp7Xw2Rt5Yb8Nc4Hd6J (facebook)",
        "facebook_app_secret = \"e4b2a9c71d3f5068b9a1c3e5d7f20486\"",
        "runner register --token GR1348941Xq7Lm2vR9tKp4Wz8Nc1Hd6Jf3Gs0Ae5",
    ];
    for text in cases {
        let found = kinds(text);
        assert!(
            found == [K::VendorToken] || found == [K::GitlabToken],
            "{text}: {found:?}"
        );
    }
}

#[test]
fn vendor_names_next_to_benign_values_are_not_findings() {
    for text in [
        // A commit, a zone id, a digest: hex under keys that say what they are.
        "SOURCEGRAPH_COMMIT=3f9a1c7e5b2d8046a1e9c3b7f5d2a8e4c6b0917d",
        "cloudflare_zone_id: 9c1e04b7a2f35d86e0c4b19a7d3f52e8",
        "cloudflare_cache_sha = \"9c1e04b7a2f35d86e0c4b19a7d3f52e8a61c0b7d\"",
        // The vendor named in prose, with no value assigned to it.
        "deploying sourcegraph 3f9a1c7e5b2d8046a1e9c3b7f5d2a8e4c6b0917d to prod",
        "sumo logic collector suR7kP2mX9qL4w restarted",
        // Placeholders and low-entropy values.
        "CLOUDFLARE_API_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "cloudant_apikey = aaaaaaaaaaaaaaaaaaaaaaaa",
        // Digits and a pipe that are not an app access token.
        "facebook ids 123456789012345|page|42",
    ] {
        assert_eq!(kinds(text), [], "{text}");
    }
}

#[test]
fn placeholders_and_near_misses_are_not_findings() {
    for text in [
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "password = ${DB_PASSWORD}",
        "password: <your-password>",
        "api_key = \"\"",
        "token_type: bearer",
        "secret_name: db-credentials",
        "password reset requested for user 4512",
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
        "card 4111 1111 1111 1112",
        "IBAN DE89 3704 0044 0532 0130 01",
        "ssn 666-45-6789",
        "ssn 078-05-1120",
        "version 1.22.3 at 10.0.12.34 on 2026-11-22",
        "stripe pk_live_R8x2Kq9Lm4Np7Ts1Vw3Xz6Bc0Df",
        "postgres://app@db:5432/app",
        "https://user:${PASSWORD}@host/",
    ] {
        assert_eq!(kinds(text), [], "{text}");
    }
}

#[test]
fn sensitivity_follows_the_strongest_finding() {
    let c = crate::classifier();
    assert_eq!(c.classify("nothing here").sensitivity, Sensitivity::None);
    assert_eq!(
        c.classify("mail a@example.com").sensitivity,
        Sensitivity::Low
    );
    assert_eq!(
        c.classify("mail a@example.com password=Hunter2!x")
            .sensitivity,
        Sensitivity::High
    );
}

#[test]
fn findings_carry_spans_never_text() {
    let text =
        "deploy failed, token ghp_R8x2Kq9Lm4Np7Ts1Vw3Xz6Bc0Df5Gh8Jk2Mn card 4111111111111111";
    let c = crate::classifier().classify(text);
    assert_eq!(c.findings.len(), 2);
    assert_eq!(
        &text[c.findings[0].span.clone()],
        "ghp_R8x2Kq9Lm4Np7Ts1Vw3Xz6Bc0Df5Gh8Jk2Mn"
    );
    assert_eq!(&text[c.findings[1].span.clone()], "4111111111111111");
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("R8x2Kq9") && !debug.contains("411111"),
        "{debug}"
    );
    assert_eq!(c.findings[0].redacted_preview(), "[redacted github_token]");
    assert_eq!(
        c.findings[1].redacted_preview(),
        "[redacted payment_card ****1111]"
    );
}

#[test]
fn specific_detectors_win_overlaps() {
    // A GitHub token assigned to `token=` is reported once, as a GitHub token.
    assert_eq!(
        kinds("token=ghp_R8x2Kq9Lm4Np7Ts1Vw3Xz6Bc0Df5Gh8Jk2Mn"),
        [K::GithubToken]
    );
}

#[test]
fn kind_names_are_stable_and_unique() {
    let names: std::collections::BTreeSet<_> = K::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names.len(), K::ALL.len());
    assert!(names.contains("private_key") && names.contains("payment_card"));
    assert!(K::ALL.iter().filter(|k| !k.is_secret()).count() == 5);
}

mod properties {
    use std::sync::LazyLock;

    use proptest::prelude::*;
    use rcsec_policy::{Classifier, FindingKind, redact};

    /// Built once: compiling the detectors is the expensive part in debug builds.
    static CLASSIFIER: LazyLock<Classifier> = LazyLock::new(Classifier::default);

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any text: no panic, and redaction leaves no finding's text behind.
        #[test]
        fn redaction_removes_every_finding(text in "\\PC{0,200}") {
            let c = CLASSIFIER.classify(&text);
            let redacted = redact(&text, &c);
            for f in &c.findings {
                let found = &text[f.span.clone()];
                prop_assert!(found.len() < 8 || !redacted.contains(found));
            }
        }

        /// A token dropped into benign text is found exactly where it was put.
        #[test]
        fn a_planted_token_is_found(
            prefix in "[a-z ]{0,40}",
            body in "[A-Za-z0-9]{36}",
            suffix in "[a-z ]{0,40}",
        ) {
            prop_assume!(body.bytes().any(|b| b.is_ascii_digit()) && !body.to_lowercase().contains("xxxx"));
            let text = format!("{prefix} ghp_{body} {suffix}");
            let c = CLASSIFIER.classify(&text);
            let f = c.findings.iter().find(|f| f.kind == FindingKind::GithubToken);
            prop_assert!(f.is_some(), "{}", text);
            let start = prefix.len() + 1;
            prop_assert_eq!(f.map(|f| f.span.clone()), Some(start..start + 40));
        }
    }
}
