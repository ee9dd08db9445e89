//! Dedup by fingerprint, per-recipient rate limit, quiet hours for P2–P3.

use rcsec::core::Severity;
use rcsec::{AlertOutcome, DeliveryStatus, QuietHours, RateLimit, UtcOffset};

use crate::harness::*;

#[test]
fn repeats_of_a_firing_alert_do_not_page_again_within_the_window() {
    let h = harness(|c| c.dedup_window = std::time::Duration::from_secs(600));
    runtime().block_on(async {
        let who = h.responders(&["Alice"]);
        let first = h
            .orch
            .handle_alert(alert("a-dup", Severity::P1), who.clone())
            .await;
        assert_eq!(first.unwrap().outcome, AlertOutcome::Paged);
        h.advance(300);
        let again = h
            .orch
            .handle_alert(alert("a-dup", Severity::P1), who.clone())
            .await;
        assert_eq!(again.unwrap().outcome, AlertOutcome::Deduplicated);
        assert_eq!(h.loopback.sent_to(&number(1)).len(), 1);
        h.advance(300);
        let later = h.orch.handle_alert(alert("a-dup", Severity::P1), who).await;
        assert_eq!(later.unwrap().outcome, AlertOutcome::Paged);
    });
}

#[test]
fn rate_limit_per_recipient_spares_p0() {
    let h = harness(|c| {
        c.rate_limit = RateLimit {
            max: 2,
            window: std::time::Duration::from_secs(600),
        };
    });
    runtime().block_on(async {
        let alice = h.responders(&["Alice"]);
        for i in 0..2 {
            let r = h
                .orch
                .handle_alert(alert(&format!("a-rl{i}"), Severity::P2), alice.clone());
            assert!(matches!(
                r.await.unwrap().deliveries[0].status,
                DeliveryStatus::Sent { .. }
            ));
        }
        let limited = h
            .orch
            .handle_alert(alert("a-rl2", Severity::P1), alice.clone())
            .await;
        assert_eq!(
            limited.unwrap().deliveries[0].status,
            DeliveryStatus::RateLimited
        );
        let p0 = h
            .orch
            .handle_alert(alert("a-rl3", Severity::P0), alice.clone())
            .await;
        assert!(matches!(
            p0.unwrap().deliveries[0].status,
            DeliveryStatus::Sent { .. }
        ));
        let bob = h
            .orch
            .handle_alert(alert("a-rl4", Severity::P2), h.responders(&["Bob"]))
            .await;
        assert!(matches!(
            bob.unwrap().deliveries[0].status,
            DeliveryStatus::Sent { .. }
        ));
        assert!(
            String::from_utf8(h.audit_log())
                .unwrap()
                .contains("rate_limited")
        );
    });
}

#[test]
fn quiet_hours_hold_p2_until_the_window_ends() {
    // T0 is 08:00 UTC; quiet until 09:00.
    let h = harness(|c| c.quiet_hours = Some(QuietHours::new((22, 0), (9, 0))));
    runtime().block_on(async {
        let alice = h.responders(&["Alice"]);
        let r = h
            .orch
            .handle_alert(alert("a-qh", Severity::P2), alice.clone())
            .await
            .unwrap();
        let DeliveryStatus::Held { until } = r.deliveries[0].status else {
            panic!("{:?}", r.deliveries[0].status)
        };
        assert_eq!(
            until,
            T0.saturating_add(std::time::Duration::from_secs(3600))
        );
        assert!(h.orch.is_held(&r.alert, &number(1)));
        assert!(h.loopback.sent().is_empty());

        let p1 = h
            .orch
            .handle_alert(alert("a-qh1", Severity::P1), alice)
            .await
            .unwrap();
        assert!(matches!(
            p1.deliveries[0].status,
            DeliveryStatus::Sent { .. }
        ));

        h.advance(3599);
        assert!(h.orch.tick().await.unwrap().released.is_empty());
        h.advance(1);
        let t = h.orch.tick().await.unwrap();
        assert_eq!(t.released.len(), 1);
        assert!(matches!(t.released[0].status, DeliveryStatus::Sent { .. }));
        assert!(!h.orch.is_held(&r.alert, &number(1)));
    });
}

#[test]
fn quiet_hours_follow_each_responders_local_time() {
    // T0 is 08:00 UTC; quiet 22:00-09:00 local. In UTC+2 it is 10:00 (paged at once); in
    // UTC-5 it is 03:00 (held until 09:00 there, 14:00 UTC).
    let h = harness(|c| c.quiet_hours = Some(QuietHours::new((22, 0), (9, 0))));
    runtime().block_on(async {
        let mut who = h.responders(&["Alice", "Bob"]);
        who[0] = who[0]
            .clone()
            .with_utc_offset("+02:00".parse::<UtcOffset>().unwrap());
        who[1] = who[1]
            .clone()
            .with_utc_offset("-05:00".parse::<UtcOffset>().unwrap());
        let r = h
            .orch
            .handle_alert(alert("a-tz", Severity::P2), who)
            .await
            .unwrap();
        assert!(
            matches!(r.deliveries[0].status, DeliveryStatus::Sent { .. }),
            "{:?}",
            r.deliveries[0].status
        );
        let DeliveryStatus::Held { until } = r.deliveries[1].status else {
            panic!("{:?}", r.deliveries[1].status)
        };
        assert_eq!(
            until,
            T0.saturating_add(std::time::Duration::from_secs(6 * 3600))
        );
        assert_eq!(h.loopback.sent().len(), 1);
    });
}
