//! Sealed payloads: round trips, every tampering class, key transport, constant memory.

use std::io::{self, Read, Write};

use rcsec_keying::hpke;
use rcsec_link::sealed::{
    OpenError, OpeningReader, RECORD_SIZE, SealContext, SealingWriter, link_url, open_to_vec,
    seal_to_vec,
};
use rcsec_link::{LinkId, OsRandom, PayloadKey};

const CT: &str = "application/octet-stream";
const TAG: usize = 16;
const HEADER: usize = 29;

fn setup() -> (PayloadKey, LinkId) {
    (
        PayloadKey::generate(&OsRandom).unwrap(),
        LinkId::random(&OsRandom).unwrap(),
    )
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect()
}

/// Byte range of record `i` in a sealed stream whose records are all full but the last.
fn record(i: usize) -> std::ops::Range<usize> {
    let start = HEADER + i * (RECORD_SIZE + TAG);
    start..start + RECORD_SIZE + TAG
}

#[test]
fn round_trips_at_record_boundaries() {
    let (key, link) = setup();
    let ctx = SealContext::new(&link, CT);
    for len in [
        0,
        1,
        RECORD_SIZE - 1,
        RECORD_SIZE,
        RECORD_SIZE + 1,
        3 * RECORD_SIZE + 17,
    ] {
        let plain = pattern(len);
        let sealed = seal_to_vec(&key, &ctx, &plain, &OsRandom).unwrap();
        let records = len / RECORD_SIZE + 1;
        assert_eq!(sealed.len(), HEADER + len + records * TAG, "len {len}");
        assert_eq!(
            open_to_vec(&key, &ctx, &sealed).unwrap(),
            plain,
            "len {len}"
        );
    }
    // The in-memory sealer and the streaming writer produce the same format.
    for len in [0, RECORD_SIZE, 2 * RECORD_SIZE + 3] {
        let plain = pattern(len);
        let mut w = SealingWriter::new(&key, &ctx, Vec::new(), &OsRandom).unwrap();
        for piece in plain.chunks(1000) {
            w.write_all(piece).unwrap();
        }
        let streamed = w.finish().unwrap();
        let direct = seal_to_vec(&key, &ctx, &plain, &OsRandom).unwrap();
        assert_eq!(streamed.len(), direct.len());
        assert_eq!(open_to_vec(&key, &ctx, &streamed).unwrap(), plain);
        let mut opened = Vec::new();
        OpeningReader::new(&key, &ctx, &direct[..])
            .unwrap()
            .read_to_end(&mut opened)
            .unwrap();
        assert_eq!(opened, plain);
    }
    // Fresh nonce prefix each time: sealing twice never gives the same bytes.
    let a = seal_to_vec(&key, &ctx, b"same", &OsRandom).unwrap();
    let b = seal_to_vec(&key, &ctx, b"same", &OsRandom).unwrap();
    assert_ne!(a, b);
}

#[test]
fn wrong_link_content_type_or_key_is_wrong_context() {
    let (key, link) = setup();
    let sealed = seal_to_vec(&key, &SealContext::new(&link, CT), b"payload", &OsRandom).unwrap();
    let other_link = LinkId::random(&OsRandom).unwrap();
    let other_key = PayloadKey::generate(&OsRandom).unwrap();
    for (k, l, ct) in [
        (&key, &other_link, CT),
        (&key, &link, "text/plain"),
        (&other_key, &link, CT),
    ] {
        assert!(matches!(
            open_to_vec(k, &SealContext::new(l, ct), &sealed),
            Err(OpenError::WrongContext)
        ));
    }
    assert!(seal_to_vec(&key, &SealContext::new(&link, ""), b"x", &OsRandom).is_err());
    assert!(seal_to_vec(&key, &SealContext::new(&link, "a\nb"), b"x", &OsRandom).is_err());
}

#[test]
fn truncation_reordering_duplication_and_tampering_are_detected() {
    let (key, link) = setup();
    let ctx = SealContext::new(&link, CT);
    let sealed = seal_to_vec(&key, &ctx, &pattern(3 * RECORD_SIZE + 100), &OsRandom).unwrap();
    let open = |bytes: &[u8]| open_to_vec(&key, &ctx, bytes);

    // Cut at a record boundary (final record dropped): truncated.
    assert!(matches!(
        open(&sealed[..record(2).end]),
        Err(OpenError::Truncated)
    ));
    assert!(matches!(
        open(&sealed[..record(0).end]),
        Err(OpenError::Truncated)
    ));
    // Header only, or less.
    assert!(matches!(open(&sealed[..HEADER]), Err(OpenError::Truncated)));
    assert!(matches!(open(&sealed[..10]), Err(OpenError::Truncated)));
    // Cut inside a record.
    assert!(matches!(
        open(&sealed[..record(1).start + 1000]),
        Err(OpenError::Corrupt { record: 1 })
    ));
    assert!(matches!(
        open(&sealed[..sealed.len() - 1]),
        Err(OpenError::Corrupt { record: 3 })
    ));

    // Records 0 and 1 swapped.
    let mut swapped = sealed.clone();
    swapped[record(0)].copy_from_slice(&sealed[record(1)]);
    swapped[record(1)].copy_from_slice(&sealed[record(0)]);
    assert!(matches!(
        open(&swapped),
        Err(OpenError::Corrupt { record: 0 })
    ));

    // Record 0 duplicated.
    let mut dup = sealed[..record(0).end].to_vec();
    dup.extend_from_slice(&sealed[record(0)]);
    dup.extend_from_slice(&sealed[record(1).start..]);
    assert!(matches!(open(&dup), Err(OpenError::Corrupt { record: 1 })));

    // Record 1 dropped from the middle.
    let mut dropped = sealed[..record(0).end].to_vec();
    dropped.extend_from_slice(&sealed[record(2).start..]);
    assert!(matches!(
        open(&dropped),
        Err(OpenError::Corrupt { record: 1 })
    ));

    // Trailing bytes after the final record.
    let mut trailing = sealed.clone();
    trailing.extend_from_slice(b"extra");
    assert!(open(&trailing).is_err());

    // Any single flipped bit in the body.
    for pos in [
        HEADER,
        record(1).start + 5,
        record(2).end - 1,
        sealed.len() - 1,
    ] {
        let mut t = sealed.clone();
        t[pos] ^= 0x80;
        assert!(
            matches!(open(&t), Err(OpenError::Corrupt { .. })),
            "pos {pos}"
        );
    }
    // Header tampering.
    let mut t = sealed.clone();
    t[0] = b'X';
    assert!(matches!(open(&t), Err(OpenError::BadHeader)));
    let mut t = sealed.clone();
    t[8] ^= 1; // nonce prefix
    assert!(matches!(open(&t), Err(OpenError::WrongContext)));
}

#[test]
fn reader_reports_typed_errors_and_never_releases_a_bad_record() {
    let (key, link) = setup();
    let ctx = SealContext::new(&link, CT);
    let mut sealed = seal_to_vec(&key, &ctx, &pattern(2 * RECORD_SIZE + 5), &OsRandom).unwrap();
    sealed[record(1).start + 3] ^= 1;
    let mut reader = OpeningReader::new(&key, &ctx, &sealed[..]).unwrap();
    let mut out = Vec::new();
    let err = reader.read_to_end(&mut out).unwrap_err();
    assert!(matches!(
        OpenError::from_io(err),
        OpenError::Corrupt { record: 1 }
    ));
    assert_eq!(
        out,
        pattern(RECORD_SIZE),
        "only the authenticated first record was released"
    );
    assert!(reader.read(&mut [0u8; 10]).is_err(), "errors are sticky");
}

/// A reader producing `len` bytes of a pattern without holding them.
struct Source {
    left: u64,
    next: u8,
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = usize::try_from(self.left.min(buf.len() as u64)).unwrap();
        for b in &mut buf[..n] {
            *b = self.next;
            self.next = self.next.wrapping_mul(31).wrapping_add(7);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Bytes pass through a pipe of bounded size between the sealer and the opener: the whole
/// payload is never in memory at once.
#[test]
fn streams_64_mib_in_constant_memory() {
    let (key, link) = setup();
    let ctx = SealContext::new(&link, CT);
    const LEN: u64 = 64 << 20;
    // Seal into a file-backed temp so memory stays bounded, then open from it.
    let mut file = tempfile::tempfile().unwrap();
    let mut writer =
        SealingWriter::new(&key, &ctx, io::BufWriter::new(&mut file), &OsRandom).unwrap();
    let copied = io::copy(&mut Source { left: LEN, next: 1 }, &mut writer).unwrap();
    assert_eq!(copied, LEN);
    writer.finish().unwrap().flush().unwrap();
    use std::io::Seek;
    file.rewind().unwrap();
    let mut reader = OpeningReader::new(&key, &ctx, io::BufReader::new(file)).unwrap();
    let mut expect = Source { left: LEN, next: 1 };
    let (mut got, mut want) = (vec![0u8; 100_000], vec![0u8; 100_000]);
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut got).unwrap();
        if n == 0 {
            break;
        }
        expect.read_exact(&mut want[..n]).unwrap();
        assert_eq!(got[..n], want[..n]);
        total += n as u64;
    }
    assert_eq!(total, LEN);
}

#[test]
fn fragment_and_url() {
    let (key, link) = setup();
    let frag = key.to_fragment();
    assert!(frag.starts_with("k=") && frag.len() == 45);
    assert_eq!(PayloadKey::from_fragment(&frag).unwrap(), key);
    assert_eq!(
        PayloadKey::from_fragment(&format!("#x=1&{}", &*frag)).unwrap(),
        key
    );
    for bad in ["", "k=", "#k=abc", "x=1", &format!("{}A", &*frag)] {
        assert!(PayloadKey::from_fragment(bad).is_err(), "{bad}");
    }
    let ring = super::common::ring();
    let a = super::common::alice();
    let minted = ring
        .mint(
            &rcsec_link::MintRequest::new(&a, std::time::Duration::from_secs(60)),
            super::common::T0,
            &OsRandom,
        )
        .unwrap();
    let base = url::Url::parse("https://links.example/alerts/?utm=x").unwrap();
    let u = link_url(&base, &minted.token, &key).unwrap();
    let parsed = url::Url::parse(u.expose()).unwrap();
    assert_eq!(
        parsed.path(),
        format!("/alerts/l/{}", minted.token.as_str())
    );
    assert_eq!(parsed.query(), None);
    assert_eq!(
        PayloadKey::from_fragment(parsed.fragment().unwrap()).unwrap(),
        key
    );
    assert_eq!(format!("{u:?}"), "LinkUrl(<redacted>)");
    assert!(
        link_url(
            &url::Url::parse("mailto:x@example.com").unwrap(),
            &minted.token,
            &key
        )
        .is_err()
    );
    let _ = link;
}

#[test]
fn key_sealed_to_a_device_with_hpke() {
    let (key, link) = setup();
    let (sk, pk) = hpke::generate_key_pair().unwrap();
    let envelope = key.seal_for_device(&link, &pk).unwrap();
    assert_eq!(envelope.open(&link, &sk).unwrap(), key);
    let other_link = LinkId::random(&OsRandom).unwrap();
    assert!(
        envelope.open(&other_link, &sk).is_err(),
        "bound to the link id"
    );
    let (sk2, _) = hpke::generate_key_pair().unwrap();
    assert!(envelope.open(&link, &sk2).is_err());
    let mut tampered = envelope;
    tampered.ciphertext[0] ^= 1;
    assert!(tampered.open(&link, &sk).is_err());
}

/// Canary: no key, token, code, number or plaintext in any Debug or error output.
#[tokio::test]
async fn canary_never_leaks_through_debug_or_errors() {
    use rcsec_core::{AlertId, Secret};
    use rcsec_link::{
        Gateway, IssueRequest, MemoryBlobStore, MemoryTokenStore, RecipientPseudonym, RedeemContext,
    };
    use std::sync::Arc;
    const CANARY: &[u8] = b"CANARY-7f3a9c-do-not-leak";
    let ring = super::common::ring();
    let gw = Gateway::new(
        Arc::new(ring),
        Arc::new(MemoryTokenStore::new()),
        Arc::new(MemoryBlobStore::new()),
        Arc::new(OsRandom),
    );
    let a = super::common::alice();
    let pseudonym = RecipientPseudonym::keyed(&Secret::new([1; 32]), &a);
    let req = IssueRequest::new(
        AlertId::new("x").unwrap(),
        &a,
        pseudonym,
        std::time::Duration::from_secs(60),
        CT,
    )
    .with_extended_access();
    let link = gw.issue(req, CANARY, super::common::T0).await.unwrap();
    let ctx = RedeemContext::at(super::common::at(1));
    let preview = gw.preview(link.token.as_str(), &ctx).await.unwrap();
    let redeemed = gw.confirm(link.token.as_str(), &ctx).await.unwrap();
    let again = gw.confirm(link.token.as_str(), &ctx).await.unwrap_err();
    let wrong_key = PayloadKey::generate(&OsRandom).unwrap();
    let open_err = open_to_vec(
        &wrong_key,
        &SealContext::new(&link.link_id, CT),
        &redeemed.ciphertext,
    )
    .unwrap_err();
    let (_, pk) = hpke::generate_key_pair().unwrap();
    let envelope = link.key.seal_for_device(&link.link_id, &pk).unwrap();
    let shown = format!(
        "{link:?} {preview:?} {redeemed:?} {again} {again:?} {open_err} {open_err:?} {envelope:?} {gw:?} {:?}",
        link.key
    );
    let key_b64 = link.key.to_fragment()[2..].to_owned();
    let code = link.code.as_ref().unwrap().expose().to_owned();
    for needle in [
        std::str::from_utf8(CANARY).unwrap(),
        link.token.as_str(),
        &link.token.as_str()[..20],
        &key_b64,
        &key_b64[..12],
        &hex::encode(link.key.expose_secret()),
        &code,
        a.expose_e164(),
        a.expose_digits(),
    ] {
        assert!(!shown.contains(needle), "leaked {needle}: {shown}");
    }
    // The ciphertext itself does not contain the plaintext.
    assert!(
        !redeemed
            .ciphertext
            .windows(CANARY.len())
            .any(|w| w == CANARY)
    );
}

/// Records what it is given; fails exactly once, on the `fail_at`-th call.
struct Flaky {
    seen: Vec<u8>,
    calls: usize,
    fail_at: usize,
}

impl Write for Flaky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls == self.fail_at {
            return Err(io::Error::other("disk full"));
        }
        self.seen.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A failed record write poisons the writer: retrying must not re-encrypt the already
/// encrypted buffer under the same nonce (which would emit the plaintext).
#[test]
fn a_failed_write_poisons_the_writer_and_never_emits_plaintext() {
    let (key, link) = setup();
    let ctx = SealContext::new(&link, CT);
    let plain = vec![0x41u8; RECORD_SIZE + 10];
    // Call 1 and 2 write the header; call 3 is the first record's body.
    let sink = Flaky {
        seen: Vec::new(),
        calls: 0,
        fail_at: 3,
    };
    let mut w = SealingWriter::new(&key, &ctx, sink, &OsRandom).unwrap();
    assert!(w.write_all(&plain).is_err());
    for _ in 0..3 {
        assert!(w.write(&plain).is_err());
    }
    assert!(matches!(
        w.finish(),
        Err(rcsec_link::sealed::SealError::Poisoned)
    ));
}

#[test]
fn poisoned_writer_output_holds_no_plaintext() {
    let (key, link) = setup();
    let ctx = SealContext::new(&link, CT);
    let plain = vec![0x41u8; 2 * RECORD_SIZE];
    let mut sink = Flaky {
        seen: Vec::new(),
        calls: 0,
        fail_at: 3,
    };
    {
        let mut w = SealingWriter::new(&key, &ctx, &mut sink, &OsRandom).unwrap();
        let _ = w.write_all(&plain);
        let _ = w.write_all(&plain);
    }
    assert!(!sink.seen.windows(64).any(|win| win == &plain[..64]));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Any length round-trips; any single flipped byte is refused.
    #[test]
    fn any_length_round_trips_and_any_flip_is_refused(
        len in 0usize..(3 * RECORD_SIZE),
        pos in proptest::prelude::any::<proptest::sample::Index>(),
    ) {
        let (key, link) = setup();
        let ctx = SealContext::new(&link, CT);
        let plain = pattern(len);
        let sealed = seal_to_vec(&key, &ctx, &plain, &OsRandom).unwrap();
        proptest::prop_assert_eq!(open_to_vec(&key, &ctx, &sealed).unwrap(), plain);
        let mut t = sealed.clone();
        let i = pos.index(t.len());
        t[i] ^= 0x01;
        proptest::prop_assert!(open_to_vec(&key, &ctx, &t).is_err());
        let cut = pos.index(sealed.len());
        proptest::prop_assert!(open_to_vec(&key, &ctx, &sealed[..cut]).is_err());
    }
}
