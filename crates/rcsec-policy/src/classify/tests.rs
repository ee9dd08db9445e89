use super::*;

#[test]
fn benign_text_has_no_findings() {
    let c = Classifier::default();
    let r =
        c.classify("2024-05-01T12:00:00Z INFO request_id=3636dd46-ea21-11e9-81b4-2a2ae2dbcce4 ok");
    assert_eq!(r.findings, []);
    assert_eq!(r.sensitivity, Sensitivity::None);
}

/// The candidate-driven personal-data scan against its byte-at-a-time specification, on
/// synthetic logs (whole and per line, so blocks start at every alignment) and on dense
/// number-like text where candidates crowd block boundaries.
#[test]
fn pii_scan_equals_its_specification() {
    let check = |text: &str| {
        let (fast, reference) = pii_fast_and_reference(text);
        assert!(fast == reference, "{text:?}");
    };
    for per_mille in [0, 50, 500] {
        let text = crate::synthetic::log(256 * 1024, 7, per_mille);
        check(&text);
        for line in text.lines().take(2000) {
            check(line);
        }
    }
    let mut rng = crate::synthetic::Rng::new(11);
    let alphabet = b"0123456789 -.()+@aZA_:/#=\nGBDE\xc3\xa9";
    for _ in 0..20_000 {
        let len = 1 + rng.below(150);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                let pick = rng.below(alphabet.len() as u64);
                alphabet[usize::try_from(pick).unwrap_or(0)]
            })
            .collect();
        check(&String::from_utf8_lossy(&bytes));
    }
    for text in [
        "card 4111 1111 1111 1111 ok",
        "+44 7700 900123",
        "(415) 555-0132",
        "pay to GB82 WEST 1234 5698 7654 32 now",
        "ops@example.com",
        "",
        "7",
    ] {
        check(text);
        // The same text straddling a block boundary at every offset.
        for pad in 55..70 {
            check(&format!(
                "{}{text}",
                "x ".repeat(pad / 2) + &" ".repeat(pad % 2)
            ));
        }
    }
}
