//! The gateway: preview safety, one-time confirm, revocation, bindings, extended access.

use std::sync::Arc;
use std::time::Duration;

use rcsec_core::{AlertId, DeviceId, Secret};
use rcsec_link::sealed::{SealContext, open_to_vec};
use rcsec_link::{
    ExtendedAccessPolicy, ExtensionDenied, Gateway, IssueRequest, Keyring, LinkBinding, LinkState,
    MemoryBlobStore, MemoryTokenStore, MintError, OsRandom, RecipientPseudonym, RedeemContext,
    RedeemError, RejectReason, user_agent_hash,
};

use super::common::{T0, alice, at, bob, ring};

const TTL: Duration = Duration::from_secs(900);
const CT: &str = "application/gzip";

struct Fixture {
    gw: Gateway,
    tokens: MemoryTokenStore,
    blobs: MemoryBlobStore,
}

fn fixture_with(ring: Keyring) -> Fixture {
    let tokens = MemoryTokenStore::new();
    let blobs = MemoryBlobStore::new();
    let policy = ExtendedAccessPolicy {
        window: Duration::from_secs(1800),
        claim_period: Duration::from_secs(3600),
        max_attempts: 5,
    };
    let gw = Gateway::new(
        Arc::new(ring),
        Arc::new(tokens.clone()),
        Arc::new(blobs.clone()),
        Arc::new(OsRandom),
    )
    .with_extended_access(policy);
    Fixture { gw, tokens, blobs }
}

fn fixture() -> Fixture {
    fixture_with(ring())
}

fn request<'a>(recipient: &'a rcsec_core::Msisdn, alert: &str) -> IssueRequest<'a> {
    let pseudonym = RecipientPseudonym::keyed(&Secret::new([42; 32]), recipient);
    IssueRequest::new(AlertId::new(alert).unwrap(), recipient, pseudonym, TTL, CT)
}

fn reason(r: Result<impl std::fmt::Debug, RedeemError>) -> &'static str {
    r.unwrap_err()
        .reason()
        .expect("a link rejection")
        .reason_code()
}

#[tokio::test]
async fn previews_never_consume_and_confirm_works_exactly_once() {
    let f = fixture();
    let a = alice();
    let link =
        f.gw.issue(request(&a, "alert-1"), b"stack trace", T0)
            .await
            .unwrap();
    let t = link.token.as_str();
    let ctx = RedeemContext::at(at(5));
    for _ in 0..50 {
        let p = f.gw.preview(t, &ctx).await.unwrap();
        assert_eq!(p.state, LinkState::Valid { uses_left: 1 });
        assert_eq!(p.link_id, link.link_id);
        assert!(!p.extension_available);
    }
    let got = f.gw.confirm(t, &ctx).await.unwrap();
    assert_eq!(got.uses_left, 0);
    let plain = open_to_vec(
        &link.key,
        &SealContext::new(&link.link_id, CT),
        &got.ciphertext,
    )
    .unwrap();
    assert_eq!(plain, b"stack trace");
    assert!(f.blobs.is_empty(), "ciphertext deleted after its last read");
    assert_eq!(reason(f.gw.confirm(t, &ctx).await), "consumed");
    assert_eq!(f.gw.preview(t, &ctx).await.unwrap().state, LinkState::Used);
}

#[tokio::test]
async fn concurrent_confirms_have_one_winner() {
    let f = fixture();
    let a = alice();
    for _ in 0..20 {
        let link = f.gw.issue(request(&a, "alert-1"), b"x", T0).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (gw, token) = (f.gw.clone(), link.token.clone());
            tasks.push(tokio::spawn(async move {
                gw.confirm(token.as_str(), &RedeemContext::at(at(1))).await
            }));
        }
        let mut wins = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => wins += 1,
                Err(e) => assert_eq!(e.reason(), Some(RejectReason::Consumed)),
            }
        }
        assert_eq!(wins, 1);
    }
}

#[tokio::test]
async fn each_rejection_reason_through_the_gateway() {
    let f = fixture();
    let a = alice();
    let link = f.gw.issue(request(&a, "alert-1"), b"x", T0).await.unwrap();
    let t = link.token.as_str();
    assert_eq!(
        reason(f.gw.confirm("short", &RedeemContext::at(at(1))).await),
        "malformed"
    );
    let mut forged = t.to_owned().into_bytes();
    forged[60] = if forged[60] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(
        reason(f.gw.confirm(&forged, &RedeemContext::at(at(1))).await),
        "bad_signature"
    );
    assert_eq!(
        reason(f.gw.preview(&forged, &RedeemContext::at(at(1))).await),
        "bad_signature"
    );
    assert_eq!(
        reason(f.gw.confirm(t, &RedeemContext::at(at(900))).await),
        "expired"
    );
    let b = bob();
    assert_eq!(
        reason(
            f.gw.confirm(t, &RedeemContext::at(at(1)).recipient(&b))
                .await
        ),
        "binding_mismatch"
    );
    let other = fixture();
    assert_eq!(
        reason(other.gw.confirm(t, &RedeemContext::at(at(1))).await),
        "bad_signature"
    );
    // The failed attempts above consumed nothing.
    assert!(
        f.gw.confirm(t, &RedeemContext::at(at(1)).recipient(&a))
            .await
            .is_ok()
    );
    assert_eq!(
        reason(f.gw.confirm(t, &RedeemContext::at(at(2))).await),
        "consumed"
    );
    // A token verified by a keyring whose store never saw it is treated as revoked.
    let ring2 = ring();
    let lone = ring2
        .mint(&rcsec_link::MintRequest::new(&a, TTL), T0, &OsRandom)
        .unwrap();
    let g2 = fixture_with(ring2);
    assert_eq!(
        reason(
            g2.gw
                .confirm(lone.token.as_str(), &RedeemContext::at(at(1)))
                .await
        ),
        "revoked"
    );
}

#[tokio::test]
async fn revoke_and_revoke_alert() {
    let f = fixture();
    let a = alice();
    let one = f.gw.issue(request(&a, "alert-1"), b"1", T0).await.unwrap();
    let two = f.gw.issue(request(&a, "alert-2"), b"2", T0).await.unwrap();
    let three = f.gw.issue(request(&a, "alert-2"), b"3", T0).await.unwrap();
    let ctx = RedeemContext::at(at(1));
    assert!(f.gw.revoke(&one.link_id).await.unwrap());
    assert_eq!(
        f.gw.preview(one.token.as_str(), &ctx).await.unwrap().state,
        LinkState::Revoked
    );
    assert_eq!(
        reason(f.gw.confirm(one.token.as_str(), &ctx).await),
        "revoked"
    );
    use rcsec_link::TokenStore as _;
    assert_eq!(
        f.tokens
            .revoke_alert(&AlertId::new("alert-2").unwrap())
            .await
            .unwrap(),
        2
    );
    for link in [&two, &three] {
        assert_eq!(
            reason(f.gw.confirm(link.token.as_str(), &ctx).await),
            "revoked"
        );
    }
}

#[tokio::test]
async fn record_bindings_are_checked_before_consuming() {
    let f = fixture();
    let a = alice();
    let phone = DeviceId::new("pixel-8:alice").unwrap();
    let mut binding = LinkBinding::default();
    binding.user_agent_hash = Some(user_agent_hash("Mozilla/5.0 (Alice)"));
    binding.device_id = Some(phone.clone());
    let req = request(&a, "alert-1")
        .bind_ip("192.0.2.0/24".parse().unwrap())
        .binding(binding);
    let link = f.gw.issue(req, b"x", T0).await.unwrap();
    let t = link.token.as_str();
    let ip = "192.0.2.44".parse().unwrap();
    let other_phone = DeviceId::new("pixel-8:mallory").unwrap();
    for ctx in [
        RedeemContext::at(at(1))
            .user_agent("Mozilla/5.0 (Alice)")
            .device(&phone),
        RedeemContext::at(at(1)).client_ip(ip).device(&phone),
        RedeemContext::at(at(1))
            .client_ip(ip)
            .user_agent("Mozilla/5.0 (Bot)")
            .device(&phone),
        RedeemContext::at(at(1))
            .client_ip(ip)
            .user_agent("Mozilla/5.0 (Alice)")
            .device(&other_phone),
        RedeemContext::at(at(1))
            .client_ip("192.0.3.1".parse().unwrap())
            .user_agent("Mozilla/5.0 (Alice)")
            .device(&phone),
    ] {
        assert_eq!(
            reason(f.gw.confirm(t, &ctx).await),
            "binding_mismatch",
            "{ctx:?}"
        );
    }
    let ok = RedeemContext::at(at(1))
        .client_ip(ip)
        .user_agent("Mozilla/5.0 (Alice)")
        .device(&phone);
    assert!(f.gw.confirm(t, &ok).await.is_ok());
}

#[tokio::test]
async fn extended_access_grants_one_longer_window_with_bounded_attempts() {
    let f = fixture();
    let a = alice();
    let link =
        f.gw.issue(
            request(&a, "alert-1").with_extended_access(),
            b"late reader",
            T0,
        )
        .await
        .unwrap();
    let code = link.code.as_ref().unwrap().expose().to_owned();
    let t = link.token.as_str();
    // The link expires unread; the preview says so and offers the extension.
    let late = RedeemContext::at(at(1000));
    let p = f.gw.preview(t, &late).await.unwrap();
    assert_eq!(p.state, LinkState::Expired);
    assert!(p.extension_available);
    assert_eq!(reason(f.gw.confirm(t, &late).await), "expired");
    // Wrong codes (malformed ones too) spend attempts.
    let wrong = if code == "bababab" {
        "bababad"
    } else {
        "bababab"
    };
    for (guess, left) in [(wrong, 4), ("not a code", 3)] {
        assert!(matches!(
            f.gw.extend(t, guess, &late).await,
            Err(RedeemError::ExtensionDenied(ExtensionDenied::WrongCode { attempts_left })) if attempts_left == left
        ));
    }
    let extended =
        f.gw.extend(t, &format!(" {} ", code.to_uppercase()), &late)
            .await
            .unwrap();
    assert_eq!(extended.expires_at, at(1000 + 1800));
    assert!(matches!(
        f.gw.extend(t, &code, &late).await,
        Err(RedeemError::ExtensionDenied(
            ExtensionDenied::AlreadyExtended
        ))
    ));
    let nt = extended.token.as_str();
    assert_ne!(nt, t);
    assert_eq!(
        f.gw.preview(nt, &late).await.unwrap().state,
        LinkState::Valid { uses_left: 1 }
    );
    let got =
        f.gw.confirm(nt, &RedeemContext::at(at(2000)).recipient(&a))
            .await
            .unwrap();
    let plain = open_to_vec(
        &link.key,
        &SealContext::new(&link.link_id, CT),
        &got.ciphertext,
    )
    .unwrap();
    assert_eq!(plain, b"late reader");
    assert_eq!(
        reason(f.gw.confirm(nt, &RedeemContext::at(at(2001))).await),
        "consumed"
    );
    assert_eq!(
        reason(f.gw.confirm(nt, &RedeemContext::at(at(2800))).await),
        "expired"
    );
}

#[tokio::test]
async fn extended_access_locks_after_five_wrong_codes_and_has_a_deadline() {
    let f = fixture();
    let a = alice();
    let link =
        f.gw.issue(request(&a, "a").with_extended_access(), b"x", T0)
            .await
            .unwrap();
    let code = link.code.as_ref().unwrap().expose().to_owned();
    let wrong = if code == "bababab" {
        "bababad"
    } else {
        "bababab"
    };
    let t = link.token.as_str();
    let ctx = RedeemContext::at(at(1000));
    for left in (0..5).rev() {
        assert!(matches!(
            f.gw.extend(t, wrong, &ctx).await,
            Err(RedeemError::ExtensionDenied(ExtensionDenied::WrongCode { attempts_left })) if attempts_left == left
        ));
    }
    assert!(matches!(
        f.gw.extend(t, &code, &ctx).await,
        Err(RedeemError::ExtensionDenied(ExtensionDenied::Locked))
    ));
    assert!(!f.gw.preview(t, &ctx).await.unwrap().extension_available);

    let other =
        f.gw.issue(request(&a, "a").with_extended_access(), b"x", T0)
            .await
            .unwrap();
    let code = other.code.as_ref().unwrap().expose().to_owned();
    assert!(matches!(
        f.gw.extend(
            other.token.as_str(),
            &code,
            &RedeemContext::at(at(900 + 3601))
        )
        .await,
        Err(RedeemError::ExtensionDenied(ExtensionDenied::ClaimExpired))
    ));
    let plain = f.gw.issue(request(&a, "a"), b"x", T0).await.unwrap();
    assert!(matches!(
        f.gw.extend(plain.token.as_str(), "bababab", &ctx).await,
        Err(RedeemError::ExtensionDenied(ExtensionDenied::NotOffered))
    ));
}

#[tokio::test]
async fn extension_after_rotation_needs_the_recipient_and_burns_nothing_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring.json");
    let mut ring = ring();
    ring.create_file(&path).unwrap();
    let a = alice();
    // Issue under the first key, then rotate in a second gateway sharing the stores.
    let f = fixture_with(Keyring::load_file(&path).unwrap());
    let link =
        f.gw.issue(request(&a, "a").with_extended_access(), b"x", T0)
            .await
            .unwrap();
    ring.rotate(at(10), &OsRandom).unwrap();
    let rotated = Gateway::new(
        Arc::new(ring),
        Arc::new(f.tokens.clone()),
        Arc::new(f.blobs.clone()),
        Arc::new(OsRandom),
    );
    let code = link.code.as_ref().unwrap().expose().to_owned();
    let t = link.token.as_str();
    assert!(matches!(
        rotated.extend(t, &code, &RedeemContext::at(at(1000))).await,
        Err(RedeemError::Mint(MintError::RecipientRequired))
    ));
    let b = bob();
    assert_eq!(
        reason(
            rotated
                .extend(t, &code, &RedeemContext::at(at(1000)).recipient(&b))
                .await
        ),
        "binding_mismatch"
    );
    let ext = rotated
        .extend(t, &code, &RedeemContext::at(at(1000)).recipient(&a))
        .await
        .unwrap();
    let v = rotated.keyring().verify(
        ext.token.as_str(),
        &rcsec_link::VerifyContext::at(at(1001)).recipient(&a),
    );
    assert_eq!(v.unwrap().claims.key_id, rotated.keyring().active_key_id());
    assert!(
        rotated
            .confirm(ext.token.as_str(), &RedeemContext::at(at(1001)))
            .await
            .is_ok()
    );
}

/// A store that counts every call, to prove refusals never reach it.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryTokenStore,
    calls: std::sync::atomic::AtomicUsize,
}

impl Counting {
    fn hit(&self) {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl rcsec_link::TokenStore for Counting {
    async fn insert(&self, r: rcsec_link::LinkRecord) -> Result<(), rcsec_link::StoreError> {
        self.hit();
        self.inner.insert(r).await
    }
    async fn get(
        &self,
        id: &rcsec_link::LinkId,
    ) -> Result<Option<rcsec_link::LinkRecord>, rcsec_link::StoreError> {
        self.hit();
        self.inner.get(id).await
    }
    async fn consume(
        &self,
        id: &rcsec_link::LinkId,
        now: rcsec_core::Timestamp,
    ) -> Result<rcsec_link::ConsumeOutcome, rcsec_link::StoreError> {
        self.hit();
        self.inner.consume(id, now).await
    }
    async fn revoke(&self, id: &rcsec_link::LinkId) -> Result<bool, rcsec_link::StoreError> {
        self.hit();
        self.inner.revoke(id).await
    }
    async fn revoke_alert(&self, a: &AlertId) -> Result<usize, rcsec_link::StoreError> {
        self.hit();
        self.inner.revoke_alert(a).await
    }
    async fn extend(
        &self,
        id: &rcsec_link::LinkId,
        d: &rcsec_link::CodeDigest,
        e: rcsec_core::Timestamp,
        now: rcsec_core::Timestamp,
    ) -> Result<rcsec_link::ExtendOutcome, rcsec_link::StoreError> {
        self.hit();
        self.inner.extend(id, d, e, now).await
    }
    async fn sweep_expired(
        &self,
        now: rcsec_core::Timestamp,
    ) -> Result<usize, rcsec_link::StoreError> {
        self.hit();
        self.inner.sweep_expired(now).await
    }
}

#[tokio::test]
async fn refused_tokens_never_touch_the_store() {
    let store = Arc::new(Counting::default());
    let gw = Gateway::new(
        Arc::new(ring()),
        store.clone(),
        Arc::new(MemoryBlobStore::new()),
        Arc::new(OsRandom),
    );
    let a = alice();
    let b = bob();
    let req = request(&a, "alert-1").bind_ip("192.0.2.0/24".parse().unwrap());
    let link = gw.issue(req, b"x", T0).await.unwrap();
    let before = store.calls.load(std::sync::atomic::Ordering::SeqCst);
    let t = link.token.as_str();
    let mut forged = t.to_owned().into_bytes();
    forged[63] = if forged[63] == b'A' { b'Q' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let ip = "192.0.2.1".parse().unwrap();
    let cases = [
        ("garbage", RedeemContext::at(at(1)).client_ip(ip)),
        (forged.as_str(), RedeemContext::at(at(1)).client_ip(ip)),
        (t, RedeemContext::at(at(900)).client_ip(ip)),
        (t, RedeemContext::at(at(1))),
        (
            t,
            RedeemContext::at(at(1)).client_ip("192.0.3.1".parse().unwrap()),
        ),
        (t, RedeemContext::at(at(1)).client_ip(ip).recipient(&b)),
    ];
    for (i, (token, ctx)) in cases.iter().enumerate() {
        assert!(gw.confirm(token, ctx).await.is_err(), "case {i}");
        // Expired-but-authentic tokens are the one refusal preview and extend must look up
        // (to report the state and to judge the code); every other refusal stays stateless.
        if i != 2 {
            assert!(gw.preview(token, ctx).await.is_err(), "case {i}");
            assert!(gw.extend(token, "bababab", ctx).await.is_err(), "case {i}");
        }
    }
    assert_eq!(
        store.calls.load(std::sync::atomic::Ordering::SeqCst),
        before
    );
    assert!(
        gw.confirm(t, &RedeemContext::at(at(1)).client_ip(ip))
            .await
            .is_ok()
    );
}
