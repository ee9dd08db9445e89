//! Prometheus text exposition (format 0.0.4) of what the pipeline and the gateway did.
//!
//! Hand-rolled rather than a metrics crate: a handful of counters, one gauge read at scrape
//! time (outbox depth) and one histogram, all with small closed label sets (routes, reasons,
//! outcomes — never a number, token or alert text), so cardinality is bounded by design.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rcsec::capability::{CapabilityMetrics, E2ee};

/// Upper bounds (seconds) of the capability-latency histogram buckets.
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One family's help text and type.
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
}

const FAMILIES: &[Family] = &[
    Family {
        name: "rcsec_sends_total",
        help: "Messages accepted by a provider, by route.",
        kind: "counter",
    },
    Family {
        name: "rcsec_send_failures_total",
        help: "Provider send attempts that failed, by provider and reason code.",
        kind: "counter",
    },
    Family {
        name: "rcsec_deliveries_total",
        help: "Per-recipient page outcomes, by route and status.",
        kind: "counter",
    },
    Family {
        name: "rcsec_fallbacks_total",
        help: "Pages routed below the best tier, by fallback reason.",
        kind: "counter",
    },
    Family {
        name: "rcsec_capability_observations_total",
        help: "Fresh capability observations, by E2EE state.",
        kind: "counter",
    },
    Family {
        name: "rcsec_downgrades_total",
        help: "Downgrades of pinned recipients detected.",
        kind: "counter",
    },
    Family {
        name: "rcsec_link_redemptions_total",
        help: "Secure-link confirmations (POST /l/{token}), by outcome.",
        kind: "counter",
    },
    Family {
        name: "rcsec_link_previews_total",
        help: "Secure-link page views (GET /l/{token}), by link state.",
        kind: "counter",
    },
    Family {
        name: "alertd_alerts_total",
        help: "Alertmanager alerts handled, by status and outcome.",
        kind: "counter",
    },
    Family {
        name: "alertd_webhook_rejections_total",
        help: "Webhook requests refused before the pipeline, by endpoint and reason.",
        kind: "counter",
    },
    Family {
        name: "alertd_webhook_forgeries_total",
        help: "Webhook requests refused as forged (bad signature or postback MAC), by endpoint and reason; each is also audited.",
        kind: "counter",
    },
    Family {
        name: "alertd_audit_skipped_total",
        help: "Forged webhook requests not audited (over the per-minute cap for unauthenticated ones, or the sink failed).",
        kind: "counter",
    },
    Family {
        name: "alertd_provider_events_total",
        help: "Provider webhook events processed, by kind and outcome.",
        kind: "counter",
    },
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Inner {
    /// (family, rendered label set) → value.
    counters: BTreeMap<(&'static str, String), u64>,
    /// provider → (ok, failed) latency histograms.
    latency: BTreeMap<(String, bool), Histogram>,
    verified: u64,
    observations: u64,
}

/// The daemon's metrics. Also the resolver's [`CapabilityMetrics`] sink.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Renders `{a="x",b="y"}` from pairs whose values come from closed sets; escapes anyway.
fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut out = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
    out
}

impl Metrics {
    /// All counters at zero.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Counters stay meaningful after a panic elsewhere; never propagate poison.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds one to `family{pairs}`.
    pub fn inc(&self, family: &'static str, pairs: &[(&str, &str)]) {
        *self
            .lock()
            .counters
            .entry((family, labels(pairs)))
            .or_default() += 1;
    }

    /// The current value of `family{pairs}` (for tests and the status line).
    pub fn value(&self, family: &'static str, pairs: &[(&str, &str)]) -> u64 {
        self.lock()
            .counters
            .get(&(family, labels(pairs)))
            .copied()
            .unwrap_or(0)
    }

    /// The text exposition; `outbox_depth` is read by the caller at scrape time (`None` when
    /// the outbox could not be read, which is exported as `rcsec_outbox_up 0`).
    pub fn render(&self, outbox_depth: Option<usize>) -> String {
        let inner = self.lock();
        let mut out = String::with_capacity(4096);
        for family in FAMILIES {
            let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
            let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind);
            for ((name, labels), value) in &inner.counters {
                if *name == family.name {
                    let _ = writeln!(out, "{name}{labels} {value}");
                }
            }
        }
        out.push_str("# HELP rcsec_e2ee_availability_ratio Share of fresh capability observations with verified E2EE.\n");
        out.push_str("# TYPE rcsec_e2ee_availability_ratio gauge\n");
        if inner.observations > 0 {
            #[allow(clippy::cast_precision_loss, reason = "a ratio of counters")]
            let ratio = inner.verified as f64 / inner.observations as f64;
            let _ = writeln!(out, "rcsec_e2ee_availability_ratio {ratio}");
        }
        out.push_str("# HELP rcsec_capability_query_seconds Capability provider query latency.\n");
        out.push_str("# TYPE rcsec_capability_query_seconds histogram\n");
        for ((provider, ok), h) in &inner.latency {
            let base = [
                ("provider", provider.as_str()),
                ("ok", if *ok { "true" } else { "false" }),
            ];
            let mut cumulative = 0;
            for (bound, n) in LATENCY_BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                let le = bound.to_string();
                let l = labels(&[base[0], base[1], ("le", &le)]);
                let _ = writeln!(out, "rcsec_capability_query_seconds_bucket{l} {cumulative}");
            }
            let l = labels(&[base[0], base[1], ("le", "+Inf")]);
            let _ = writeln!(out, "rcsec_capability_query_seconds_bucket{l} {}", h.count);
            let l = labels(&base);
            let _ = writeln!(out, "rcsec_capability_query_seconds_sum{l} {}", h.sum);
            let _ = writeln!(out, "rcsec_capability_query_seconds_count{l} {}", h.count);
        }
        out.push_str(
            "# HELP rcsec_outbox_depth Messages in the outbox not yet sent, failed or expired.\n",
        );
        out.push_str("# TYPE rcsec_outbox_depth gauge\n");
        if let Some(depth) = outbox_depth {
            let _ = writeln!(out, "rcsec_outbox_depth {depth}");
        }
        out.push_str("# HELP rcsec_outbox_up Whether the outbox answered at scrape time.\n");
        out.push_str("# TYPE rcsec_outbox_up gauge\n");
        let _ = writeln!(out, "rcsec_outbox_up {}", u8::from(outbox_depth.is_some()));
        out
    }
}

impl CapabilityMetrics for Metrics {
    fn query_latency(&self, provider: &str, elapsed: Duration, ok: bool) {
        let secs = elapsed.as_secs_f64();
        let mut inner = self.lock();
        let h = inner.latency.entry((provider.to_owned(), ok)).or_default();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| secs <= *b) {
            h.buckets[i] += 1;
        }
        h.count += 1;
        h.sum += secs;
    }

    fn observation(&self, e2ee: E2ee) {
        let mut inner = self.lock();
        inner.observations += 1;
        if e2ee == E2ee::Verified {
            inner.verified += 1;
        }
        *inner
            .counters
            .entry((
                "rcsec_capability_observations_total",
                labels(&[("e2ee", e2ee.as_str())]),
            ))
            .or_default() += 1;
    }

    fn downgrade(&self) {
        self.inc("rcsec_downgrades_total", &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_histograms() {
        let m = Metrics::new();
        m.inc("rcsec_sends_total", &[("route", "sms_link")]);
        m.inc("rcsec_sends_total", &[("route", "sms_link")]);
        m.inc("rcsec_fallbacks_total", &[("reason", "no_rcs")]);
        m.observation(E2ee::Verified);
        m.observation(E2ee::Unknown);
        m.downgrade();
        m.query_latency("loopback", Duration::from_millis(3), true);
        m.query_latency("loopback", Duration::from_secs(30), true);
        let text = m.render(Some(4));
        assert!(text.contains("rcsec_sends_total{route=\"sms_link\"} 2\n"));
        assert!(text.contains("rcsec_fallbacks_total{reason=\"no_rcs\"} 1\n"));
        assert!(text.contains("rcsec_e2ee_availability_ratio 0.5\n"));
        assert!(text.contains("rcsec_downgrades_total 1\n"));
        assert!(text.contains("rcsec_capability_observations_total{e2ee=\"verified\"} 1\n"));
        assert!(text.contains(
            "rcsec_capability_query_seconds_bucket{provider=\"loopback\",ok=\"true\",le=\"0.005\"} 1\n"
        ));
        // 30 s is beyond the last finite bucket: only +Inf counts it.
        assert!(text.contains(
            "rcsec_capability_query_seconds_bucket{provider=\"loopback\",ok=\"true\",le=\"10\"} 1\n"
        ));
        assert!(text.contains(
            "rcsec_capability_query_seconds_bucket{provider=\"loopback\",ok=\"true\",le=\"+Inf\"} 2\n"
        ));
        assert!(text.contains("rcsec_outbox_depth 4\n"));
        assert!(text.contains("rcsec_outbox_up 1\n"));
        assert_eq!(m.value("rcsec_sends_total", &[("route", "sms_link")]), 2);
    }

    #[test]
    fn unreadable_outbox_is_reported_down() {
        let text = Metrics::new().render(None);
        assert!(text.contains("rcsec_outbox_up 0\n"));
        assert!(!text.contains("\nrcsec_outbox_depth "));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("a", "x\"y\\z\n")]), "{a=\"x\\\"y\\\\z\\n\"}");
    }
}
