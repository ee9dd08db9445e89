//! Benign log text must produce no findings at all; the same logs with secrets must have
//! every secret line flagged.

use rcsec_policy::synthetic::{Rng, benign_line, log, secret_line};

/// Hand-written lines of the kinds alerts quote.
const LINES: &[&str] = &[
    "2026-11-22T01:57:20.123Z INFO request_id=3636dd46-ea21-11e9-81b4-2a2ae2dbcce4 completed in 23ms",
    "Nov 22 01:57:20 web-03 kernel: [12345.678901] eth0: link up, 1000 Mbps, full duplex",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 (HEAD -> main, origin/main)",
    "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
    "pod/checkout-7c9d8f6b5-x2k4q in namespace prod restarted 3 times (OOMKilled)",
    "ip-10-0-12-34.eu-west-1.compute.internal NotReady since 2026-11-22 01:50:00 +0000 UTC",
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "payload=Q2hlY2tvdXQgc2VydmljZSBoZWFsdGh5IGFuZCBzZXJ2aW5nIHRyYWZmaWM= bytes=48",
    "X-Request-Id: 01HF8Z3K9Q5W2R7T4Y6U8V0X1P latency_p99=1.234s",
    "GET /api/v1/orders/4512?page=2&per_page=50 HTTP/1.1 200 1534 0.023",
    "disk /dev/nvme0n1p1 at 91% (183.2 GiB of 200 GiB) on db-7.prod.internal",
    "etcd member 8e9e05c52164694d is healthy: took 2.1ms at 1732240640000",
    "token refreshed for client_id=checkout expires_in=3600; auth: ok; cache key=user:4512",
    "ERROR password authentication failed for user \"app\" (SQLSTATE 28P01)",
    "version=v1.22.3 build=4512 go=go1.23.2 os=linux arch=amd64",
    "image registry.internal/checkout@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uuid 550e8400-e29b-41d4-a716-446655440000 ulid 01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "load average: 3.14, 2.71, 1.41; uptime 12 days, 3:04",
];

#[test]
fn hand_written_benign_lines_have_no_findings() {
    let c = crate::classifier();
    for line in LINES {
        let r = c.classify(line);
        assert!(r.findings.is_empty(), "{line}: {:?}", r.findings);
    }
}

#[test]
fn generated_benign_logs_have_no_findings() {
    let c = crate::classifier();
    for seed in 0..3 {
        let text = log(256 * 1024, seed, 0);
        let r = c.classify(&text);
        if let Some(f) = r.findings.first() {
            let start = text[..f.span.start].rfind('\n').map_or(0, |p| p + 1);
            let end = text[f.span.end..]
                .find('\n')
                .map_or(text.len(), |p| f.span.end + p);
            panic!("seed {seed}: {:?} in {:?}", f.kind, &text[start..end]);
        }
    }
    // Line by line too, so that no detector depends on neighbouring lines.
    let mut rng = Rng::new(99);
    for _ in 0..2000 {
        let line = benign_line(&mut rng);
        assert!(c.classify(&line).findings.is_empty(), "{line}");
    }
}

#[test]
fn every_secret_line_is_flagged() {
    let c = crate::classifier();
    let mut rng = Rng::new(7);
    for _ in 0..500 {
        let line = secret_line(&mut rng);
        assert!(c.classify(&line).is_sensitive(), "{line}");
    }
    // In a mixed log, the flagged lines are exactly the secret lines.
    let text = log(256 * 1024, 3, 10);
    let r = c.classify(&text);
    let flagged: std::collections::BTreeSet<usize> = r
        .findings
        .iter()
        .map(|f| text[..f.span.start].matches('\n').count())
        .collect();
    let secret_lines = text
        .lines()
        .filter(|l| !c.classify(l).findings.is_empty())
        .count();
    assert!(secret_lines > 10);
    assert_eq!(flagged.len(), secret_lines);
}
