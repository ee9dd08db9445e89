//! The JSON-lines sink: rotation keeps one chain, reopen verifies, torn tails are typed.

use std::io::Write as _;

use rcsec_audit::{JsonlAuditSink, JsonlOptions, SinkError, Verifier};

use crate::{clock, config, event, pseudonymizer, signer};

fn options(max: u64) -> JsonlOptions {
    JsonlOptions {
        max_file_bytes: max,
        checkpoints: Some(config(5, &clock())),
    }
}

#[test]
fn rotation_spreads_one_chain_over_several_files() {
    let dir = tempfile::tempdir().unwrap();
    let sink = JsonlAuditSink::open(dir.path(), options(2_000)).unwrap();
    let p = pseudonymizer();
    let mut head = None;
    for i in 0..40 {
        head = Some(sink.append_blocking(vec![event(&p, i)]).unwrap());
    }
    let files = sink.files().unwrap();
    assert!(files.len() >= 5, "{} files", files.len());
    let mut all = Vec::new();
    for f in &files {
        all.extend(std::fs::read(f).unwrap());
    }
    let verified = Verifier::new()
        .pin_key(signer().verifying_key())
        .verify_bytes(&all)
        .unwrap();
    assert_eq!(Some(verified.head), head);
    assert_eq!(verified.checkpoints, 8);
    // Each file alone (after the first) does not start the chain: it only verifies as part
    // of the whole.
    assert!(
        Verifier::new()
            .verify_bytes(&std::fs::read(&files[1]).unwrap())
            .is_err()
    );
}

#[test]
fn reopen_detects_a_torn_last_line_as_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let sink = JsonlAuditSink::open(dir.path(), options(1 << 20)).unwrap();
    let p = pseudonymizer();
    sink.append_blocking((0..3).map(|i| event(&p, i)).collect())
        .unwrap();
    let file = sink.files().unwrap().remove(0);
    drop(sink);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    f.write_all(b"{\"type\":\"event\",\"seq\":3,\"ti").unwrap();
    drop(f);
    match JsonlAuditSink::open(dir.path(), options(1 << 20)) {
        Err(SinkError::TruncatedTail { index }) => assert_eq!(index, 3),
        other => panic!("expected a truncated tail, got {other:?}"),
    }
}

#[test]
fn reopen_refuses_a_tampered_log_and_a_foreign_key() {
    let dir = tempfile::tempdir().unwrap();
    let sink = JsonlAuditSink::open(dir.path(), options(1 << 20)).unwrap();
    let p = pseudonymizer();
    sink.append_blocking((0..6).map(|i| event(&p, i)).collect())
        .unwrap();
    let file = sink.files().unwrap().remove(0);
    drop(sink);
    let text = std::fs::read_to_string(&file).unwrap();
    let tampered = text.replacen("\"provider\":\"rbm\"", "\"provider\":\"rbx\"", 1);
    std::fs::write(&file, &tampered).unwrap();
    match JsonlAuditSink::open(dir.path(), options(1 << 20)) {
        Err(SinkError::Corrupt(e)) => assert_eq!(e.index, 0),
        other => panic!("expected corruption, got {other:?}"),
    }
    std::fs::write(&file, &text).unwrap();
    let mut foreign = options(1 << 20);
    if let Some(cfg) = &mut foreign.checkpoints {
        cfg.signer = rcsec_audit::CheckpointSigner::from_seed(
            "audit-test",
            &rcsec_core::Secret::new([0x77; 32]),
        )
        .unwrap();
    }
    assert!(matches!(
        JsonlAuditSink::open(dir.path(), foreign),
        Err(SinkError::Corrupt(_))
    ));
    assert!(JsonlAuditSink::open(dir.path(), options(1 << 20)).is_ok());
}

#[test]
fn concurrent_appends_share_fdatasyncs_and_each_returns_durable() {
    const THREADS: u64 = 8;
    const BATCHES: u64 = 10;
    let dir = tempfile::tempdir().unwrap();
    let sink = JsonlAuditSink::open(dir.path(), options(1 << 20)).unwrap();
    let p = pseudonymizer();
    let heads = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (sink, p, heads) = (&sink, &p, &heads);
            s.spawn(move || {
                for b in 0..BATCHES {
                    let batch = (0..3).map(|i| event(p, t * 100 + b * 3 + i)).collect();
                    let head = sink.append_blocking(batch).unwrap();
                    // Durable when it returns: a fresh reader of the files sees at least it.
                    let mut all = Vec::new();
                    for f in sink.files().unwrap() {
                        all.extend(std::fs::read(f).unwrap());
                    }
                    let last = format!("{{\"type\":\"event\",\"seq\":{},", head.size - 1);
                    let text = String::from_utf8(all).unwrap();
                    assert!(text.contains(&last), "event {} not written", head.size - 1);
                    heads.lock().unwrap().push(head);
                }
            });
        }
    });
    let heads = heads.into_inner().unwrap();
    let mut sizes: Vec<u64> = heads.iter().map(|h| h.size).collect();
    sizes.sort_unstable();
    let expected: Vec<u64> = (1..=THREADS * BATCHES).map(|n| n * 3).collect();
    assert_eq!(sizes, expected, "every batch contiguous, one chain");
    let commits = sink.group_commits().unwrap();
    assert!((1..=THREADS * BATCHES).contains(&commits), "{commits}");
    drop(sink);
    let reopened = JsonlAuditSink::open(dir.path(), options(1 << 20)).unwrap();
    assert_eq!(reopened.group_commits().unwrap(), 0);
    let mut all = Vec::new();
    for f in reopened.files().unwrap() {
        all.extend(std::fs::read(f).unwrap());
    }
    let verified = Verifier::new().verify_bytes(&all).unwrap();
    assert_eq!(verified.head.size, THREADS * BATCHES * 3);
    assert!(heads.contains(&verified.head));
}
