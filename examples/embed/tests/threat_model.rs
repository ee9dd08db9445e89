//! THREAT_MODEL.md cites code and tests by path; this keeps every citation true.
//!
//! Each `` `path` `` must exist in the repository, and each `` `path::name` `` must name a
//! function in that file, so a renamed or deleted test turns into a failing build instead of
//! a claim nobody backs. Every threat section must cite at least one test.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(path, Some(test name))` for every backticked span that starts with a repository folder.
fn citations(text: &str) -> Vec<(String, Option<String>)> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| {
            ["crates/", "examples/", "benches/", "fuzz/", "scripts/"]
                .iter()
                .any(|dir| span.starts_with(dir))
        })
        .map(|span| match span.split_once("::") {
            Some((path, name)) => (path.to_owned(), Some(name.to_owned())),
            None => (span.to_owned(), None),
        })
        .collect()
}

#[test]
fn every_cited_path_and_test_exists() {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("THREAT_MODEL.md")).unwrap();
    let cited = citations(&text);
    assert!(cited.len() > 100, "parsed only {} citations", cited.len());
    let mut missing = Vec::new();
    for (path, name) in &cited {
        let file = root.join(path);
        match name {
            None if file.exists() => {}
            None => missing.push(path.clone()),
            Some(name) => {
                let source = std::fs::read_to_string(&file).unwrap_or_default();
                let found = [format!("fn {name}("), format!("fn {name}<")]
                    .iter()
                    .any(|needle| source.contains(needle.as_str()));
                if !found {
                    missing.push(format!("{path}::{name}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "THREAT_MODEL.md cites what does not exist: {missing:#?}"
    );
}

#[test]
fn every_threat_cites_a_test_and_states_what_is_open() {
    let text = std::fs::read_to_string(repo_root().join("THREAT_MODEL.md")).unwrap();
    let sections: Vec<&str> = text
        .split("\n## ")
        .filter(|s| s.starts_with(char::is_numeric))
        .collect();
    assert_eq!(sections.len(), 11, "one section per threat of issue 12");
    for section in sections {
        let title = section.lines().next().unwrap_or_default();
        let (_, proof) = section.split_once("*Proof.*").expect(title);
        let (proof, _) = proof.split_once("*Open.*").expect(title);
        assert!(
            citations(proof).iter().any(|(_, name)| name.is_some()),
            "section {title} cites no test"
        );
    }
}
