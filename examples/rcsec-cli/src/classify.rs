//! `rcsec classify`: JSON lines in, one JSON line of findings out per input line.
//!
//! Input: `{"text": "..."}` per line (other fields are ignored; blank lines are skipped).
//! Output: `{"sensitive": bool, "findings": [{"kind": "...", "start": n, "end": n}]}` with
//! byte offsets into the UTF-8 text. The matched text is never written anywhere: not to
//! stdout, and not to stderr when a line is malformed (exit 2 naming the line number).

use std::io::{BufRead, BufWriter, Write};

use rcsec_policy::Classifier;

use crate::failure::Failure;

/// Arguments of `rcsec classify` (none: it reads stdin).
#[derive(Debug, clap::Args)]
pub(crate) struct ClassifyArgs {}

#[derive(serde::Deserialize)]
struct Input {
    text: String,
}

#[derive(serde::Serialize)]
struct Output {
    sensitive: bool,
    findings: Vec<OutFinding>,
}

#[derive(serde::Serialize)]
struct OutFinding {
    kind: &'static str,
    start: usize,
    end: usize,
}

pub(crate) fn run(_args: &ClassifyArgs) -> Result<(), Failure> {
    let classifier = Classifier::default();
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (index, line) in stdin.split(b'\n').enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| Failure::input(format!("reading stdin: {e}")))?;
        let result = classify_line(&classifier, &line, number);
        let written = match result {
            Ok(None) => Ok(()),
            Ok(Some(json)) => writeln!(out, "{json}"),
            Err(failure) => {
                let _ = out.flush();
                return Err(failure);
            }
        };
        written.map_err(|e| Failure::input(format!("writing stdout: {e}")))?;
    }
    out.flush()
        .map_err(|e| Failure::input(format!("writing stdout: {e}")))
}

fn classify_line(
    classifier: &Classifier,
    line: &[u8],
    number: usize,
) -> Result<Option<String>, Failure> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    // The error names the line and what is wrong with it, never its content.
    let input: Input = serde_json::from_slice(line).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "expected an object with a string \"text\"",
            serde_json::error::Category::Eof => "truncated JSON",
            _ => "not valid JSON",
        };
        Failure::input(format!("line {number}: {what}"))
    })?;
    let classification = classifier.classify(&input.text);
    let output = Output {
        sensitive: classification.is_sensitive(),
        findings: classification
            .findings
            .iter()
            .map(|f| OutFinding {
                kind: f.kind.as_str(),
                start: f.span.start,
                end: f.span.end,
            })
            .collect(),
    };
    serde_json::to_string(&output)
        .map(Some)
        .map_err(|e| Failure::input(format!("line {number}: encoding output: {e}")))
}
