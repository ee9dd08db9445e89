//! Token minting and every verification outcome, rotation and retirement.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rcsec_link::{
    IpBinding, IpPrefix, KeyState, MintError, MintRequest, OsRandom, RejectReason, TOKEN_CHARS,
    VerifyContext, VerifyError,
};

use super::common::{T0, alice, at, bob, ring};

const TTL: Duration = Duration::from_secs(600);

#[test]
fn reason_codes_are_exactly_the_contract() {
    let codes: Vec<_> = RejectReason::ALL.iter().map(|r| r.reason_code()).collect();
    assert_eq!(
        codes,
        [
            "malformed",
            "unknown_key",
            "bad_signature",
            "expired",
            "not_yet_valid",
            "binding_mismatch",
            "consumed",
            "revoked"
        ]
    );
    assert_eq!(VerifyError::NotYetValid.reason_code(), "not_yet_valid");
    assert_eq!(RejectReason::Consumed.to_string(), "consumed");
}

#[test]
fn minted_token_is_64_url_safe_chars_and_verifies() {
    let ring = ring();
    let a = alice();
    let prefix: IpPrefix = "203.0.113.0/24".parse().unwrap();
    let minted = ring
        .mint(&MintRequest::new(&a, TTL).bind_ip(prefix), T0, &OsRandom)
        .unwrap();
    let text = minted.token.as_str();
    assert_eq!(text.len(), TOKEN_CHARS);
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert!(!text.contains(&a.expose_digits()[..6]));
    let ctx = VerifyContext::at(at(10))
        .recipient(&a)
        .client_ip("203.0.113.200".parse().unwrap());
    let v = ring.verify(text, &ctx).unwrap();
    assert!(v.recipient_checked);
    assert_eq!(v.claims, minted.claims);
    assert_eq!(v.claims.expires_at, at(600));
    assert_eq!(v.claims.not_before, T0);
    assert_eq!(v.claims.ip_binding, Some(IpBinding::V4(24)));
    assert_eq!(v.claims.key_id, ring.active_key_id());
    // Without a recipient the token still verifies, reporting it unchecked.
    let v = ring
        .verify(
            text,
            &VerifyContext::at(at(10)).client_ip("203.0.113.1".parse().unwrap()),
        )
        .unwrap();
    assert!(!v.recipient_checked);
    // Two mints never share a link id.
    let again = ring
        .mint(&MintRequest::new(&a, TTL), T0, &OsRandom)
        .unwrap();
    assert_ne!(again.claims.link_id, minted.claims.link_id);
}

#[test]
fn malformed_inputs() {
    let ring = ring();
    let good = ring
        .mint(&MintRequest::new(&alice(), TTL), T0, &OsRandom)
        .unwrap();
    let text = good.token.as_str();
    let ctx = VerifyContext::at(at(1));
    let mut wrong_version = URL_SAFE_NO_PAD.decode(text).unwrap();
    wrong_version[0] = 2;
    let mut bad_ip_code = URL_SAFE_NO_PAD.decode(text).unwrap();
    bad_ip_code[23] = 200;
    for bad in [
        String::new(),
        text[..63].to_owned(),
        format!("{text}A"),
        format!("{}=", &text[..63]),
        format!("{}+", &text[..63]),
        format!("{}é", &text[..62]),
        " ".repeat(64),
        URL_SAFE_NO_PAD.encode(wrong_version),
        URL_SAFE_NO_PAD.encode(bad_ip_code),
    ] {
        assert_eq!(
            ring.verify(&bad, &ctx),
            Err(VerifyError::Malformed),
            "{bad:?}"
        );
    }
}

#[test]
fn unknown_key_and_bad_signature() {
    let ring = ring();
    let other = super::common::ring();
    let minted = ring
        .mint(&MintRequest::new(&alice(), TTL), T0, &OsRandom)
        .unwrap();
    let ctx = VerifyContext::at(at(1));
    // Same key id, different key bytes: the tag fails.
    assert_eq!(
        other.verify(minted.token.as_str(), &ctx),
        Err(VerifyError::BadSignature)
    );
    // Every single-byte change is refused, by the stage that owns that byte.
    let raw = URL_SAFE_NO_PAD.decode(minted.token.as_str()).unwrap();
    for i in 0..raw.len() {
        let mut t = raw.clone();
        t[i] ^= 0x01;
        let err = ring.verify(&URL_SAFE_NO_PAD.encode(&t), &ctx).unwrap_err();
        let expected = match i {
            0 => VerifyError::Malformed,
            1 => VerifyError::UnknownKey,
            _ => VerifyError::BadSignature,
        };
        assert_eq!(err, expected, "byte {i}");
    }
}

#[test]
fn expired_and_not_yet_valid() {
    let ring = ring();
    let a = alice();
    let minted = ring
        .mint(&MintRequest::new(&a, TTL), T0, &OsRandom)
        .unwrap();
    let t = minted.token.as_str();
    assert!(ring.verify(t, &VerifyContext::at(at(599))).is_ok());
    assert_eq!(
        ring.verify(t, &VerifyContext::at(at(600))),
        Err(VerifyError::Expired)
    );
    assert_eq!(
        ring.verify(t, &VerifyContext::at(at(6000))),
        Err(VerifyError::Expired)
    );

    let later = ring
        .mint(
            &MintRequest::new(&a, TTL).not_before(at(300)),
            T0,
            &OsRandom,
        )
        .unwrap();
    let t = later.token.as_str();
    assert_eq!(later.claims.not_before, at(300));
    assert_eq!(
        ring.verify(t, &VerifyContext::at(T0)),
        Err(VerifyError::NotYetValid)
    );
    assert_eq!(
        ring.verify(t, &VerifyContext::at(at(269))),
        Err(VerifyError::NotYetValid)
    );
    // Within the 30 s leeway.
    assert!(ring.verify(t, &VerifyContext::at(at(271))).is_ok());
    assert_eq!(
        ring.verify(t, &VerifyContext::at(at(900))),
        Err(VerifyError::Expired)
    );
    // Verification order: a token that is both expired and forged is reported forged.
    let mut raw = URL_SAFE_NO_PAD.decode(t).unwrap();
    raw[40] ^= 0xFF;
    assert_eq!(
        ring.verify(&URL_SAFE_NO_PAD.encode(raw), &VerifyContext::at(at(9000))),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn recipient_and_ip_bindings() {
    let ring = ring();
    let (a, b) = (alice(), bob());
    let v4: IpPrefix = "198.51.100.0/24".parse().unwrap();
    let t = ring
        .mint(&MintRequest::new(&a, TTL).bind_ip(v4), T0, &OsRandom)
        .unwrap();
    let t = t.token.as_str();
    let inside = "198.51.100.77".parse().unwrap();
    let now = at(1);
    assert!(
        ring.verify(t, &VerifyContext::at(now).recipient(&a).client_ip(inside))
            .is_ok()
    );
    assert!(
        ring.verify(
            t,
            &VerifyContext::at(now).client_ip("::ffff:198.51.100.5".parse().unwrap())
        )
        .is_ok()
    );
    for ctx in [
        VerifyContext::at(now).recipient(&b).client_ip(inside),
        VerifyContext::at(now)
            .recipient(&a)
            .client_ip("198.51.101.77".parse().unwrap()),
        VerifyContext::at(now)
            .recipient(&a)
            .client_ip("2001:db8::1".parse().unwrap()),
        // An IP-bound token presented without an address fails closed.
        VerifyContext::at(now).recipient(&a),
    ] {
        assert_eq!(
            ring.verify(t, &ctx),
            Err(VerifyError::BindingMismatch),
            "{ctx:?}"
        );
    }
    let v6: IpPrefix = "2001:db8:aa::/48".parse().unwrap();
    let t = ring
        .mint(&MintRequest::new(&a, TTL).bind_ip(v6), T0, &OsRandom)
        .unwrap();
    let ok = ring
        .verify(
            t.token.as_str(),
            &VerifyContext::at(now).client_ip("2001:db8:aa:1::9".parse().unwrap()),
        )
        .unwrap();
    assert_eq!(ok.claims.ip_binding, Some(IpBinding::V6(48)));
    assert_eq!(
        ring.verify(
            t.token.as_str(),
            &VerifyContext::at(now).client_ip("2001:db8:ab::9".parse().unwrap())
        ),
        Err(VerifyError::BindingMismatch)
    );
}

#[test]
fn ttl_limits() {
    let ring = ring();
    let a = alice();
    for ttl in [
        Duration::ZERO,
        Duration::from_millis(999),
        Duration::from_secs(3601),
    ] {
        assert_eq!(
            ring.mint(&MintRequest::new(&a, ttl), T0, &OsRandom)
                .unwrap_err(),
            MintError::TtlOutOfRange
        );
    }
    assert!(
        ring.mint(
            &MintRequest::new(&a, Duration::from_secs(3600)),
            T0,
            &OsRandom
        )
        .is_ok()
    );
    let far = rcsec_core::Timestamp::from_secs(u64::from(u32::MAX));
    assert_eq!(
        ring.mint(&MintRequest::new(&a, TTL), far, &OsRandom)
            .unwrap_err(),
        MintError::ExpiryOutOfRange
    );
}

#[test]
fn rotation_keeps_old_tokens_for_the_grace_window_then_retires() {
    let mut ring = ring();
    let a = alice();
    let old_id = ring.active_key_id();
    let old = ring
        .mint(
            &MintRequest::new(&a, Duration::from_secs(3600)),
            T0,
            &OsRandom,
        )
        .unwrap();
    let new_id = ring.rotate(at(60), &OsRandom).unwrap();
    assert_ne!(new_id, old_id);
    assert_eq!(ring.active_key_id(), new_id);
    let new = ring
        .mint(&MintRequest::new(&a, TTL), at(60), &OsRandom)
        .unwrap();
    assert_eq!(new.claims.key_id, new_id);
    // The old key verifies its tokens during the grace window (≥ the longest TTL).
    assert!(
        ring.verify(old.token.as_str(), &VerifyContext::at(at(3599)))
            .is_ok()
    );
    let states: Vec<_> = ring.keys().map(|k| (k.id, k.state)).collect();
    assert!(states.contains(&(
        old_id,
        KeyState::VerifyOnly {
            retire_at: at(60 + 3600)
        }
    )));
    // Past the window the old key refuses even before housekeeping runs (key lookup comes
    // before the time checks)...
    assert_eq!(
        ring.verify(old.token.as_str(), &VerifyContext::at(at(3660))),
        Err(VerifyError::UnknownKey)
    );
    // ...and retire_due destroys it.
    assert_eq!(ring.retire_due(at(3660)), vec![old_id]);
    assert!(
        ring.keys()
            .any(|k| k.id == old_id && matches!(k.state, KeyState::Retired { .. }))
    );
    assert!(
        ring.verify(new.token.as_str(), &VerifyContext::at(at(100)))
            .is_ok()
    );
}

#[test]
fn retiring_a_key_revokes_its_links_at_once() {
    let mut ring = ring();
    let a = alice();
    let old_id = ring.active_key_id();
    let old = ring
        .mint(&MintRequest::new(&a, TTL), T0, &OsRandom)
        .unwrap();
    assert!(
        ring.retire(old_id, T0).is_err(),
        "the active key cannot be retired"
    );
    ring.rotate(at(1), &OsRandom).unwrap();
    assert!(
        ring.verify(old.token.as_str(), &VerifyContext::at(at(2)))
            .is_ok()
    );
    ring.retire(old_id, at(2)).unwrap();
    // Documented choice: a retired key's tokens are `unknown_key` (bytes destroyed).
    assert_eq!(
        ring.verify(old.token.as_str(), &VerifyContext::at(at(3))),
        Err(VerifyError::UnknownKey)
    );
    assert!(ring.retire(old_id, at(3)).is_err());
    // Retired ids are not reused by the next rotations.
    let mut seen = vec![old_id];
    for i in 0..5 {
        let id = ring.rotate(at(10 + i), &OsRandom).unwrap();
        assert!(!seen.contains(&id));
        seen.push(id);
    }
}

#[test]
fn not_before_is_conservative_for_long_tokens() {
    let mut policy = super::common::policy();
    policy.max_ttl = Duration::from_secs(24 * 3600);
    let ring = rcsec_link::Keyring::generate(policy, T0, &OsRandom).unwrap();
    let t = ring
        .mint(
            &MintRequest::new(&alice(), Duration::from_secs(5 * 3600 + 1)),
            T0,
            &OsRandom,
        )
        .unwrap();
    assert!(t.claims.not_before <= T0);
    assert!(T0.saturating_duration_since(t.claims.not_before) < Duration::from_secs(3600));
    assert_eq!(t.claims.expires_at, at(5 * 3600 + 1));
}

proptest::proptest! {
    /// Arbitrary text never panics and is `malformed` unless it is 64 base64url characters.
    #[test]
    fn arbitrary_text_is_refused_without_panicking(s in "\\PC{0,80}") {
        let ring = ring();
        let err = ring.verify(&s, &VerifyContext::at(T0)).unwrap_err();
        if s.len() != TOKEN_CHARS {
            proptest::prop_assert_eq!(err, VerifyError::Malformed);
        }
    }

    /// Any change to a genuine token's text is refused.
    #[test]
    fn any_text_change_is_refused(i in 0usize..64, c in "[A-Za-z0-9_-]") {
        let ring = ring();
        let t = ring.mint(&MintRequest::new(&alice(), TTL), T0, &OsRandom).unwrap();
        let mut text = t.token.as_str().to_owned();
        let c = c.chars().next().unwrap();
        proptest::prop_assume!(text.chars().nth(i) != Some(c));
        text.replace_range(i..=i, &c.to_string());
        proptest::prop_assert!(ring.verify(&text, &VerifyContext::at(at(1))).is_err());
    }
}
