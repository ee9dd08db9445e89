//! Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API).

/// Decodes arbitrary bytes as a log line; never panics, every accepted line is canonical
/// (re-encoding what was decoded gives back exactly the input), and the verifier's event
/// parse, which finds and checks label, alert id and hash values in one pass, decides exactly
/// as the careful parse (same event or same error).
///
/// # Panics
/// When the property fails: that is the bug the fuzzer is looking for.
pub fn audit_line_decode(data: &[u8]) {
    if let Some((body, _)) = crate::line::split_event_line(data) {
        let (fast, careful) = crate::line::decode_event_body_both_ways(body);
        assert_eq!(
            fast, careful,
            "one-pass value checks must not change the decision"
        );
    }
    let Ok(line) = crate::line::decode_line(data) else {
        return;
    };
    let mut again = Vec::new();
    match &line {
        crate::line::LogLine::Event { event, chain } => {
            crate::line::encode_event(event, &mut again);
            crate::line::append_chain_member(&mut again, chain);
        }
        crate::line::LogLine::Checkpoint(cp) => crate::line::encode_checkpoint(cp, &mut again),
    }
    assert_eq!(
        again, data,
        "decoded lines must re-encode to the same bytes"
    );
}
