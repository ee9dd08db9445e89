//! Behaviour of the MLS building blocks beyond the official vectors: replay, tampering,
//! out-of-order delivery, wrong keys and groups, and byte-exact codec round trips over the
//! upstream `messages.json` corpus.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;

use rcsec_core::Secret;
use rcsec_keying::mls::codec::{CodecError, Decode, Encode};
use rcsec_keying::mls::crypto::{SignaturePublicKey, SignatureSecretKey};
use rcsec_keying::mls::framing::{
    Commit, Content, FramedContent, FramingError, MlsMessage, PrivateMessage, Proposal,
    PublicMessage, Sender,
};
use rcsec_keying::mls::group_context::GroupContext;
use rcsec_keying::mls::secret_tree::{SecretTree, SecretTreeConfig, SecretTreeError};
use rcsec_keying::mls::tree_math::{LeafIndex, TreeSize};
use rcsec_keying::mls::welcome::GroupSecrets;

const SDS: [u8; 32] = [9; 32];
const MEMBERSHIP: [u8; 32] = [8; 32];

struct Fixture {
    gc: GroupContext,
    signer: SignatureSecretKey,
    public: SignaturePublicKey,
    sender_tree: SecretTree,
    receiver_tree: SecretTree,
}

fn tree() -> SecretTree {
    SecretTree::new(
        Secret::new([5; 32]),
        TreeSize::new(4).unwrap(),
        SecretTreeConfig::default(),
    )
}

fn fixture() -> Fixture {
    let signer = SignatureSecretKey::generate().unwrap();
    Fixture {
        gc: GroupContext::new(b"team".to_vec(), 3, vec![1; 32], vec![2; 32]),
        public: signer.public_key(),
        signer,
        sender_tree: tree(),
        receiver_tree: tree(),
    }
}

fn app(gc: &GroupContext, data: &[u8]) -> FramedContent {
    FramedContent {
        group_id: gc.group_id.clone(),
        epoch: gc.epoch,
        sender: Sender::Member(LeafIndex(2)),
        authenticated_data: b"aad".to_vec(),
        content: Content::Application(data.to_vec()),
    }
}

impl Fixture {
    fn protect(&mut self, data: &[u8], padding: usize) -> PrivateMessage {
        PrivateMessage::protect(
            &app(&self.gc, data),
            None,
            &self.gc,
            &self.signer,
            &SDS,
            &mut self.sender_tree,
            padding,
        )
        .unwrap()
    }

    fn unprotect(&mut self, msg: &PrivateMessage) -> Result<Vec<u8>, FramingError> {
        let key = self.public;
        let got = msg.unprotect(&self.gc, &SDS, &mut self.receiver_tree, |leaf| {
            (leaf == LeafIndex(2)).then_some(key)
        })?;
        match got.content.content {
            Content::Application(data) => Ok(data),
            other => panic!("unexpected content {other:?}"),
        }
    }
}

#[test]
fn private_messages_round_trip_out_of_order_and_reject_replay() {
    let mut f = fixture();
    let m0 = f.protect(b"disk full", 0);
    let m1 = f.protect(b"disk fuller", 64);
    assert_eq!(f.unprotect(&m1).unwrap(), b"disk fuller");
    assert_eq!(f.unprotect(&m0).unwrap(), b"disk full");
    assert_eq!(
        f.unprotect(&m0).unwrap_err(),
        FramingError::SecretTree(SecretTreeError::Consumed)
    );
    // The padded message is longer on the wire but decrypts to the same data.
    assert!(m1.ciphertext.len() >= m0.ciphertext.len() + 64);
    let wire = MlsMessage::Private(m1).to_bytes().unwrap();
    assert!(!wire.windows(9).any(|w| w == b"disk full"));
}

#[test]
fn forged_messages_do_not_burn_keys() {
    let mut f = fixture();
    let good = f.protect(b"page the on-call", 0);
    let mut forged = good.clone();
    let last = forged.ciphertext.len() - 1;
    forged.ciphertext[last] ^= 1;
    assert!(matches!(f.unprotect(&forged), Err(FramingError::Crypto(_))));
    let mut wrong_aad = good.clone();
    wrong_aad.authenticated_data = b"other".to_vec();
    assert!(matches!(
        f.unprotect(&wrong_aad),
        Err(FramingError::Crypto(_))
    ));
    assert_eq!(f.unprotect(&good).unwrap(), b"page the on-call");
}

#[test]
fn wrong_epoch_wrong_signer_and_unknown_sender_fail() {
    let mut f = fixture();
    let msg = f.protect(b"x", 0);
    let mut other_epoch = msg.clone();
    other_epoch.epoch += 1;
    assert_eq!(
        f.unprotect(&other_epoch).unwrap_err(),
        FramingError::WrongGroup
    );

    let stranger = SignatureSecretKey::generate().unwrap().public_key();
    let err = msg
        .unprotect(&f.gc, &SDS, &mut f.receiver_tree, |_| Some(stranger))
        .unwrap_err();
    assert_eq!(err, FramingError::BadSignature);

    let msg = f.protect(b"y", 0);
    let err = msg
        .unprotect(&f.gc, &SDS, &mut f.receiver_tree, |_| None)
        .unwrap_err();
    assert_eq!(err, FramingError::UnknownSender);
}

#[test]
fn a_jump_beyond_the_forward_bound_is_refused() {
    let mut f = fixture();
    f.receiver_tree = SecretTree::new(
        Secret::new([5; 32]),
        TreeSize::new(4).unwrap(),
        SecretTreeConfig {
            out_of_order_tolerance: 4,
            max_forward_distance: 3,
        },
    );
    let msgs: Vec<_> = (0..6).map(|i| f.protect(&[i], 0)).collect();
    assert_eq!(
        f.unprotect(&msgs[5]).unwrap_err(),
        FramingError::SecretTree(SecretTreeError::TooFarAhead)
    );
    assert_eq!(f.unprotect(&msgs[3]).unwrap(), [3]);
    assert_eq!(f.unprotect(&msgs[5]).unwrap(), [5]);
    assert_eq!(f.unprotect(&msgs[0]).unwrap(), [0]);
}

#[test]
fn public_messages_refuse_application_data_and_check_tags() {
    let f = fixture();
    let err =
        PublicMessage::protect(app(&f.gc, b"x"), None, &f.gc, &f.signer, &MEMBERSHIP).unwrap_err();
    assert_eq!(err, FramingError::ApplicationAsPublic);

    let mut proposal = app(&f.gc, b"");
    proposal.content = Content::Proposal(Proposal::Remove { removed: 1 });
    let msg =
        PublicMessage::protect(proposal.clone(), None, &f.gc, &f.signer, &MEMBERSHIP).unwrap();
    msg.unprotect(&f.gc, &MEMBERSHIP, &f.public).unwrap();
    assert_eq!(
        msg.unprotect(&f.gc, &[0; 32], &f.public).unwrap_err(),
        FramingError::BadMembershipTag
    );
    let mut untagged = msg.clone();
    untagged.membership_tag = None;
    assert_eq!(
        untagged
            .unprotect(&f.gc, &MEMBERSHIP, &f.public)
            .unwrap_err(),
        FramingError::BadMembershipTag
    );
    let mut tampered = msg;
    tampered.content.authenticated_data = b"changed".to_vec();
    assert_eq!(
        tampered
            .unprotect(&f.gc, &MEMBERSHIP, &f.public)
            .unwrap_err(),
        FramingError::BadMembershipTag
    );

    let mut commit = proposal;
    commit.content = Content::Commit(Box::new(Commit {
        proposals: Vec::new(),
        path: None,
    }));
    let err =
        PublicMessage::protect(commit.clone(), None, &f.gc, &f.signer, &MEMBERSHIP).unwrap_err();
    assert_eq!(err, FramingError::ConfirmationTag);
    PublicMessage::protect(commit, Some(vec![0; 32]), &f.gc, &f.signer, &MEMBERSHIP).unwrap();
}

#[test]
fn malformed_input_gets_typed_errors() {
    assert_eq!(MlsMessage::from_bytes(&[]), Err(CodecError::Truncated));
    assert!(matches!(
        MlsMessage::from_bytes(&[0, 2, 0, 1]),
        Err(CodecError::UnknownValue { .. })
    ));
    assert!(matches!(
        MlsMessage::from_bytes(&[0, 1, 0, 9]),
        Err(CodecError::UnknownValue { .. })
    ));
    // PrivateMessage with a group id length over the limit.
    assert_eq!(
        MlsMessage::from_bytes(&[0, 1, 0, 2, 0xbf, 0xff, 0xff, 0xff]),
        Err(CodecError::LengthOverLimit)
    );
    assert_eq!(
        MlsMessage::from_bytes(&[0, 1, 0, 2, 0x40, 0x01]),
        Err(CodecError::NonMinimalVarint)
    );
}

#[derive(serde::Deserialize)]
struct Messages {
    mls_welcome: String,
    mls_group_info: String,
    mls_key_package: String,
    group_secrets: String,
    add_proposal: String,
    update_proposal: String,
    remove_proposal: String,
    pre_shared_key_proposal: String,
    re_init_proposal: String,
    external_init_proposal: String,
    group_context_extensions_proposal: String,
    commit: String,
    public_message_application: String,
    public_message_proposal: String,
    public_message_commit: String,
    private_message: String,
}

fn round_trip<T: Decode + Encode>(hex_value: &str) {
    let bytes = hex::decode(hex_value).unwrap();
    let value = T::from_bytes(&bytes).unwrap();
    assert_eq!(value.to_bytes().unwrap(), bytes);
}

/// A proposal body from the corpus, decoded as a full `Proposal` with its type prepended.
fn proposal_round_trip(proposal_type: u16, hex_value: &str) {
    let mut bytes = proposal_type.to_be_bytes().to_vec();
    bytes.extend(hex::decode(hex_value).unwrap());
    let value = Proposal::from_bytes(&bytes).unwrap();
    assert_eq!(value.to_bytes().unwrap(), bytes);
}

#[test]
fn upstream_messages_decode_and_re_encode_byte_exact() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/mls/messages.json");
    let entries: Vec<Messages> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(entries.len(), 300);
    for m in &entries {
        for msg in [
            &m.mls_welcome,
            &m.mls_group_info,
            &m.mls_key_package,
            &m.public_message_application,
            &m.public_message_proposal,
            &m.public_message_commit,
            &m.private_message,
        ] {
            round_trip::<MlsMessage>(msg);
        }
        round_trip::<Commit>(&m.commit);
        assert!(GroupSecrets::from_bytes(&hex::decode(&m.group_secrets).unwrap()).is_ok());
        proposal_round_trip(1, &m.add_proposal);
        proposal_round_trip(2, &m.update_proposal);
        proposal_round_trip(3, &m.remove_proposal);
        proposal_round_trip(4, &m.pre_shared_key_proposal);
        proposal_round_trip(5, &m.re_init_proposal);
        proposal_round_trip(6, &m.external_init_proposal);
        proposal_round_trip(7, &m.group_context_extensions_proposal);
    }
}

#[test]
fn welcome_checks_recipient_and_signer() {
    use rcsec_keying::mls::crypto::HpkeSecretKey;
    use rcsec_keying::mls::welcome::WelcomeError;
    #[derive(serde::Deserialize)]
    struct W {
        init_priv: String,
        signer_pub: String,
        key_package: String,
        welcome: String,
    }
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/mls/welcome.json");
    let v: Vec<W> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let v = &v[0];
    let decode = |h: &str| MlsMessage::from_bytes(&hex::decode(h).unwrap()).unwrap();
    let (MlsMessage::KeyPackage(kp), MlsMessage::Welcome(welcome)) =
        (decode(&v.key_package), decode(&v.welcome))
    else {
        panic!("unexpected message types");
    };
    let init = HpkeSecretKey::from_bytes(&hex::decode(&v.init_priv).unwrap()).unwrap();
    let signer = SignaturePublicKey::from_bytes(&hex::decode(&v.signer_pub).unwrap()).unwrap();

    let joined = welcome
        .join(&kp, &init, |_| None, |_| Some(signer))
        .unwrap();
    assert!(joined.group_secrets.psks.is_empty());
    assert_eq!(format!("{:?}", joined.epoch), "EpochSecrets { .. }");

    let stranger = SignatureSecretKey::generate().unwrap().public_key();
    let err = welcome
        .join(&kp, &init, |_| None, |_| Some(stranger))
        .unwrap_err();
    assert_eq!(err, WelcomeError::BadSignature);
    let err = welcome.join(&kp, &init, |_| None, |_| None).unwrap_err();
    assert_eq!(err, WelcomeError::UnknownSigner);

    let mut other_kp = kp.clone();
    other_kp.signature[0] ^= 1;
    let err = welcome
        .join(&other_kp, &init, |_| None, |_| Some(signer))
        .unwrap_err();
    assert_eq!(err, WelcomeError::NotForUs);

    let (wrong_init, _) = rcsec_keying::hpke::generate_key_pair().unwrap();
    let err = welcome
        .join(&kp, &wrong_init, |_| None, |_| Some(signer))
        .unwrap_err();
    assert!(matches!(err, WelcomeError::Crypto(_)), "{err:?}");
}
