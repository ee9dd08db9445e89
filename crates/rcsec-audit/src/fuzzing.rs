//! Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API).

/// Decodes arbitrary bytes as a log line; never panics, and every accepted line is canonical:
/// re-encoding what was decoded gives back exactly the input.
///
/// # Panics
/// When the property fails: that is the bug the fuzzer is looking for.
pub fn audit_line_decode(data: &[u8]) {
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
