//! Every route, chosen from what the loopback reports, with the content each may carry.

use rcsec::core::Severity;
use rcsec::message::MessageBody;
use rcsec::policy::{FallbackReason, Indicator, Route};
use rcsec::{AlertOutcome, DeliveryStatus, SentContent};

use crate::harness::*;

#[test]
fn each_recipient_gets_the_best_route_the_policy_allows() {
    let h = harness(|_| {});
    runtime().block_on(async {
        let who = h.responders(&["Alice", "Bob", "Carol", "Dave"]);
        let report = h
            .orch
            .handle_alert(canary_alert("a-routes"), who)
            .await
            .unwrap();
        assert_eq!(report.outcome, AlertOutcome::Paged);
        assert_eq!(report.deliveries.len(), 4);

        let alice = by_name(&report.deliveries, "Alice");
        assert_eq!(alice.route, Route::RcsE2ee);
        assert_eq!(alice.fallback_reason, None);
        assert_eq!(alice.indicator, Indicator::Green);
        assert!(matches!(alice.content, SentContent::FullText { .. }));
        assert!(
            matches!(alice.status, DeliveryStatus::Sent { .. }),
            "{alice:?}"
        );
        // The artifact travels as a link even on E2EE.
        assert_eq!(alice.links.len(), 1);
        assert_eq!(alice.links[0].purpose, "checkout.log");
        // It opens as a self-describing item: name and type come from inside the ciphertext,
        // and the link itself names neither.
        let artifact_url = alice.links[0].url.expose();
        assert!(!artifact_url.contains("checkout") && !artifact_url.contains("&t="));
        let (meta, body) = h.redeem_item(artifact_url, &number(1)).await;
        assert_eq!(
            (meta.name.as_str(), meta.content_type.as_str()),
            ("checkout.log", "text/plain")
        );
        assert_eq!(body, b"12:00:01 ERROR pool exhausted\n");

        let bob = by_name(&report.deliveries, "Bob");
        assert_eq!(bob.route, Route::RcsPlain);
        assert_eq!(bob.fallback_reason, Some(FallbackReason::CarrierNoE2ee));
        assert_eq!(bob.indicator, Indicator::Amber);
        let SentContent::Redacted(text) = &bob.content else {
            panic!("rcs_plain must carry redacted text")
        };
        assert!(text.expose().contains("[redacted"), "{}", text.expose());
        assert!(text.expose().contains("Details: https://alerts.example/l/"));
        assert_eq!(bob.links.len(), 2);

        let carol = by_name(&report.deliveries, "Carol");
        assert_eq!(carol.route, Route::SmsLink);
        assert_eq!(carol.fallback_reason, Some(FallbackReason::NoRcs));
        let SentContent::Sms(sms) = &carol.content else {
            panic!("sms route must carry the template")
        };
        assert!(sms.expose().starts_with("P1 alert: https://"));
        assert_eq!(carol.links.len(), 1);

        let dave = by_name(&report.deliveries, "Dave");
        assert_eq!(dave.route, Route::EncryptedPush);
        assert_eq!(dave.indicator, Indicator::Green);
        assert!(matches!(dave.content, SentContent::Envelope { .. }));
        let sent = h.loopback.sent_to(&number(4));
        assert_eq!(sent.len(), 1);
        assert!(matches!(
            sent[0].message.body,
            MessageBody::Encrypted { .. }
        ));
        let opened = String::from_utf8(h.loopback.open_push(&sent[0]).unwrap()).unwrap();
        assert!(
            opened.contains(CANARY_SECRET),
            "the device reads the full alert"
        );

        // Alice's full text reaches only her E2EE route.
        let MessageBody::Text { text, .. } = &h.loopback.sent_to(&number(1))[0].message.body else {
            panic!("rcs_e2ee carries text")
        };
        assert!(text.expose().contains(CANARY_SECRET));

        // Bob's details link is bound to Bob and opens to the full alert once.
        let details = bob.links.iter().find(|l| l.purpose == "details").unwrap();
        assert!(h.redeem(details.url.expose(), &number(1)).await.is_err());
        let plain = h.redeem(details.url.expose(), &number(2)).await.unwrap();
        assert!(String::from_utf8(plain).unwrap().contains(CANARY_SECRET));
        let again = h
            .redeem(details.url.expose(), &number(2))
            .await
            .unwrap_err();
        assert_eq!(again.reason().unwrap().reason_code(), "consumed");

        let ticket = h.tickets.ticket(&report.alert).unwrap();
        assert_eq!(ticket.title, "HighErrorRate");
        let kinds = h.audit_kinds();
        for k in ["ticket_updated", "link_issued", "fallback", "message_sent"] {
            assert!(kinds.iter().any(|x| x == k), "missing {k} in {kinds:?}");
        }
    });
}

#[test]
fn pinned_contact_downgrade_blocks_the_number_and_is_audited() {
    let h = harness(|_| {});
    runtime().block_on(async {
        let erin = h.responders(&["Erin"]);
        let first = h
            .orch
            .handle_alert(alert("a-pin-1", Severity::P1), erin.clone())
            .await;
        assert_eq!(first.unwrap().deliveries[0].route, Route::RcsE2ee);

        h.loopback.set_capability(
            &number(5),
            rcsec::capability::Reach::Rcs,
            rcsec::capability::E2ee::Unverified,
        );
        h.orch.resolver().invalidate(&number(5));
        let second = h
            .orch
            .handle_alert(alert("a-pin-2", Severity::P1), erin)
            .await
            .unwrap();
        let d = &second.deliveries[0];
        assert_eq!(d.route, Route::Blocked);
        assert_eq!(d.fallback_reason, Some(FallbackReason::DowngradeDetected));
        assert_eq!(d.indicator, Indicator::Red);
        assert_eq!(d.status, DeliveryStatus::Blocked);
        assert_eq!(
            h.loopback.sent_to(&number(5)).len(),
            1,
            "nothing sent after the downgrade"
        );
        let kinds = h.audit_kinds();
        assert!(kinds.iter().any(|k| k == "downgrade_detected"));
        assert!(kinds.iter().any(|k| k == "policy_blocked"));
    });
}

#[test]
fn p0_with_secrets_never_goes_over_plain_rcs() {
    let h = harness(|_| {});
    runtime().block_on(async {
        let mut a = canary_alert("a-p0");
        a.severity = Severity::P0;
        let report = h
            .orch
            .handle_alert(a, h.responders(&["Bob"]))
            .await
            .unwrap();
        let bob = &report.deliveries[0];
        assert_eq!(
            bob.route,
            Route::SmsLink,
            "the default policy denies rcs_plain for P0"
        );
        let MessageBody::Sms { text } = &h.loopback.sent_to(&number(2))[0].message.body else {
            panic!("sms body expected")
        };
        assert!(!text.expose().contains("db-7"));
    });
}

#[test]
fn send_anyway_is_audited_and_refused_for_p0_secrets() {
    use rcsec::policy::danger::SendAnyway;
    let h = harness(|_| {});
    runtime().block_on(async {
        let bob = h.responders(&["Bob"]);
        let r = h
            .orch
            .handle_alert(alert("a-ovr", Severity::P0), bob.clone())
            .await
            .unwrap();
        assert_eq!(r.deliveries[0].route, Route::SmsLink);
        let request = SendAnyway::new("oncall:lead@example.org", "carrier E2EE outage").unwrap();
        let d = h
            .orch
            .send_anyway(&r.alert, &bob[0], request, Route::RcsPlain)
            .await
            .unwrap();
        assert_eq!(d.route, Route::RcsPlain);
        assert_eq!(d.fallback_reason, Some(FallbackReason::UserOverride));
        assert_eq!(d.indicator, Indicator::Red);
        assert!(matches!(d.status, DeliveryStatus::Sent { .. }));
        let log = String::from_utf8(h.audit_log()).unwrap();
        assert!(log.contains("\"kind\":\"override\""), "{log}");
        assert!(
            !log.contains("outage"),
            "free-text reasons stay out of the log"
        );

        let mut secret = canary_alert("a-ovr-secret");
        secret.severity = Severity::P0;
        h.orch.handle_alert(secret, bob.clone()).await.unwrap();
        let request = SendAnyway::new("oncall:lead@example.org", "please").unwrap();
        let err = h
            .orch
            .send_anyway(
                &rcsec::core::AlertId::new("a-ovr-secret").unwrap(),
                &bob[0],
                request,
                Route::RcsPlain,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, rcsec::OrchestratorError::Override(_)),
            "{err}"
        );
        assert_eq!(
            h.loopback.sent_to(&number(2)).len(),
            3,
            "sms, override, sms; no 4th"
        );
    });
}
