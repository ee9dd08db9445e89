use rcsec_core::Timestamp;

use super::*;
use crate::capability::{Reach, Source};
use crate::hints::{Carrier, ClientHints};

const MATRIX: &str = r#"
[[carrier]]
id = "acme-de"
carrier = "Acme Mobile"
region = "de"
e2ee = "disabled"
note = "RCS yes, E2EE disabled by carrier policy: treat as public"

[[carrier]]
id = "acme-any"
carrier = "acme mobile"
e2ee = "unverified"

[[carrier]]
id = "region-fr"
region = "FR"
rcs = false

[[client]]
id = "old-messages"
client = "Google-Messages"
below = "20240101"
e2ee = "disabled"

[[client]]
id = "strict-versions"
client = "other-app"
below = "2.0"
e2ee = "unverified"
match_unknown_version = false
"#;

fn verified() -> Capability {
    Capability::new(
        Reach::Rcs,
        E2ee::Verified,
        Source::Provider,
        Timestamp::from_secs(5),
    )
}

fn region(code: &str) -> Region {
    Region::parse(code).unwrap()
}

#[test]
fn carrier_rules_match_name_and_region() {
    let m = CarrierMatrix::parse(MATRIX).unwrap();
    let de = verified().with_carrier(Carrier::new("ACME Mobile").with_region(region("DE")));
    let (cap, o) = m.apply(de);
    assert_eq!((cap.reach(), cap.e2ee()), (Reach::Rcs, E2ee::Unavailable));
    assert_eq!(o.carrier_rule.as_deref(), Some("acme-de"));
    assert_eq!(o.client_rule, None);

    // Same carrier elsewhere: the second, weaker rule.
    let at = verified().with_carrier(Carrier::new("acme mobile").with_region(region("AT")));
    let (cap, o) = m.apply(at);
    assert_eq!(cap.e2ee(), E2ee::Unverified);
    assert_eq!(o.carrier_rule.as_deref(), Some("acme-any"));

    // Region-only rule: not RCS at all.
    let fr = verified().with_carrier(Carrier::new("other").with_region(region("FR")));
    let (cap, o) = m.apply(fr);
    assert_eq!(
        (cap.reach(), cap.e2ee()),
        (Reach::SmsOnly, E2ee::Unavailable)
    );
    assert_eq!(o.carrier_rule.as_deref(), Some("region-fr"));

    // No carrier reported, or an unlisted one: unchanged.
    for cap in [verified(), verified().with_carrier(Carrier::new("other"))] {
        let (out, o) = m.apply(cap.clone());
        assert_eq!(out, cap);
        assert!(o.is_empty());
    }
}

#[test]
fn client_rules_compare_versions() {
    let m = CarrierMatrix::parse(MATRIX).unwrap();
    let with = |name: &str, version: Option<&str>| {
        let mut hints = ClientHints::client(name);
        if let Some(v) = version {
            hints = hints.with_version(ClientVersion::parse(v).unwrap());
        }
        m.apply(verified().with_client(hints))
    };
    let (cap, o) = with("google-messages", Some("20231231.5"));
    assert_eq!(cap.e2ee(), E2ee::Unavailable);
    assert_eq!(o.client_rule.as_deref(), Some("old-messages"));
    let (cap, o) = with("google-messages", Some("20240101"));
    assert_eq!(cap.e2ee(), E2ee::Verified);
    assert!(o.is_empty());
    // Unknown version matches by default (fail closed) ...
    let (cap, _) = with("google-messages", None);
    assert_eq!(cap.e2ee(), E2ee::Unavailable);
    // ... unless the rule opts out.
    let (cap, o) = with("other-app", None);
    assert_eq!(cap.e2ee(), E2ee::Verified);
    assert!(o.is_empty());
    let (cap, o) = with("other-app", Some("1.9"));
    assert_eq!(cap.e2ee(), E2ee::Unverified);
    assert_eq!(o.client_rule.as_deref(), Some("strict-versions"));
}

#[test]
fn both_tables_can_apply_and_rules_never_strengthen() {
    let m = CarrierMatrix::parse(MATRIX).unwrap();
    let cap = verified()
        .with_carrier(Carrier::new("acme mobile").with_region(region("AT")))
        .with_client(ClientHints::client("google-messages"));
    let (out, o) = m.apply(cap);
    assert_eq!(out.e2ee(), E2ee::Unavailable);
    assert_eq!(o.carrier_rule.as_deref(), Some("acme-any"));
    assert_eq!(o.client_rule.as_deref(), Some("old-messages"));

    let unverified = Capability::new(
        Reach::Rcs,
        E2ee::Unknown,
        Source::Provider,
        Timestamp::EPOCH,
    )
    .with_carrier(Carrier::new("acme mobile"));
    assert_eq!(m.apply(unverified).0.e2ee(), E2ee::Unknown);
    assert!(CarrierMatrix::empty().is_empty());
    assert!(CarrierMatrix::parse("").unwrap().is_empty());
}

#[test]
fn errors_carry_line_and_column() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        (
            "[[carrier]]\nid = \"a\"\ncolour = 1\n",
            (3, 1),
            "unknown field",
        ),
        (
            "[[carrier]]\nid = \"a\"\nregion = \"DE\"\ne2ee = \"off\"\n",
            (4, 8),
            "unknown variant",
        ),
        (
            "[[carrier]]\nid = \"a\"\nregion = \"DEU\"\ne2ee = \"disabled\"\n",
            (3, 10),
            "region",
        ),
        (
            "[[carrier]]\nid = \"a\"\ne2ee = \"disabled\"\n",
            (2, 6),
            "carrier or region",
        ),
        (
            "[[carrier]]\nid = \"a\"\nregion = \"DE\"\n",
            (2, 6),
            "no effect",
        ),
        (
            "[[carrier]]\nid = \"a\"\nregion = \"DE\"\nrcs = true\n",
            (4, 7),
            "only weaken",
        ),
        (
            "[[client]]\nid = \"x\"\nclient = \"c\"\ne2ee = \"disabled\"\n\
             [[client]]\nid = \"x\"\nclient = \"d\"\ne2ee = \"disabled\"\n",
            (6, 6),
            "duplicate",
        ),
        (
            "[[client]]\nid = \"x\"\nclient = \"c\"\nbelow = \"1.x\"\ne2ee = \"disabled\"\n",
            (4, 9),
            "version",
        ),
        (
            "[[client]]\nid = \"\"\nclient = \"c\"\ne2ee = \"disabled\"\n",
            (2, 6),
            "rule id",
        ),
        (
            "[[client]]\nid = \"y\"\ne2ee = \"disabled\"\n",
            (1, 1),
            "missing field",
        ),
        ("[[carrier]\n", (1, 11), "expected"),
        ("# é\n[[carrier]]\nid = 5\n", (3, 6), "invalid type"),
    ];
    for (text, pos, needle) in cases {
        let err = CarrierMatrix::parse(text).unwrap_err();
        assert_eq!(err.position(), *pos, "{text:?}: {err}");
        assert!(err.to_string().contains(needle), "{text:?}: {err}");
        let prefix = format!("carrier matrix {}:{}: ", pos.0, pos.1);
        assert!(err.to_string().starts_with(&prefix), "{err}");
    }
}

#[test]
fn positions_count_characters() {
    assert_eq!(position("ab\ncé d", 7), (2, 4));
    assert_eq!(position("abc", 99), (1, 4));
    assert_eq!(position("é", 1), (1, 1));
}
