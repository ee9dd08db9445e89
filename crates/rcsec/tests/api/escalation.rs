//! Escalation timing with a manual clock: ack timeout → next step, loops, ack stops paging,
//! the escalate action pages the next step at once.

use rcsec::core::Severity;
use rcsec::message::ActionKind;
use rcsec::{ProviderEvent, ProviderEventKind};

use crate::harness::*;

#[test]
fn unacknowledged_alerts_escalate_on_time_and_loop_then_stop() {
    let h = harness(|c| {
        c.ack_timeout = std::time::Duration::from_secs(300);
        c.escalation_loops = 1;
    });
    runtime().block_on(async {
        let chain = h.responders(&["Alice", "Frank"]); // Frank is step 1
        let r = h
            .orch
            .handle_alert(alert("a-esc", Severity::P1), chain)
            .await
            .unwrap();
        assert_eq!(r.deliveries.len(), 1);
        assert_eq!(r.deliveries[0].name, "Alice");

        h.advance(299);
        assert!(h.orch.tick().await.unwrap().escalated.is_empty(), "not yet");
        h.advance(1);
        let t = h.orch.tick().await.unwrap();
        assert_eq!(t.escalated.len(), 1);
        assert_eq!(t.escalated[0].name, "Frank");
        assert_eq!(h.loopback.sent_to(&number(6)).len(), 1);

        // Loop 1: Alice again, then Frank again, then the chain is exhausted.
        h.advance(300);
        assert_eq!(h.orch.tick().await.unwrap().escalated[0].name, "Alice");
        h.advance(300);
        assert_eq!(h.orch.tick().await.unwrap().escalated[0].name, "Frank");
        h.advance(300);
        assert!(h.orch.tick().await.unwrap().escalated.is_empty());
        assert_eq!(h.loopback.sent_to(&number(1)).len(), 2);
        assert_eq!(h.loopback.sent_to(&number(6)).len(), 2);
        let view = h.orch.escalation(&r.alert).unwrap();
        assert_eq!(view.next_escalation, None);
        let ticket = h.tickets.ticket(&r.alert).unwrap();
        assert!(ticket.notes.iter().any(|n| n.contains("exhausted")));
    });
}

#[test]
fn acknowledgement_stops_paging_and_ownership_assigns_the_ticket() {
    let h = harness(|_| {});
    runtime().block_on(async {
        let chain = h.responders(&["Alice", "Frank"]);
        let r = h
            .orch
            .handle_alert(alert("a-ack", Severity::P1), chain)
            .await
            .unwrap();
        let msg = r.deliveries[0].message_id.clone().unwrap();
        h.orch
            .on_event(ProviderEvent::new(
                msg.clone(),
                ProviderEventKind::Delivered {
                    e2ee: rcsec::capability::E2ee::Verified,
                },
            ))
            .await
            .unwrap();
        h.orch
            .on_event(ProviderEvent::new(msg.clone(), ProviderEventKind::Read))
            .await
            .unwrap();
        h.orch
            .on_event(ProviderEvent::new(
                msg.clone(),
                ProviderEventKind::Action(ActionKind::TakeOwnership),
            ))
            .await
            .unwrap();
        h.advance(3600);
        assert!(h.orch.tick().await.unwrap().escalated.is_empty());
        assert!(
            h.loopback.sent_to(&number(6)).is_empty(),
            "Frank is never paged"
        );
        let ticket = h.tickets.ticket(&r.alert).unwrap();
        assert_eq!(ticket.owner.as_deref(), Some("+**********01"));
        assert!(h.orch.escalation(&r.alert).unwrap().acknowledged);
        let kinds = h.audit_kinds();
        for k in ["delivered", "read", "action", "ticket_updated"] {
            assert!(kinds.iter().any(|x| x == k), "{k}");
        }
    });
}

#[test]
fn escalate_action_pages_the_next_step_at_once() {
    let h = harness(|_| {});
    runtime().block_on(async {
        let chain = h.responders(&["Alice", "Frank"]);
        let r = h
            .orch
            .handle_alert(alert("a-up", Severity::P0), chain)
            .await
            .unwrap();
        let msg = r.deliveries[0].message_id.clone().unwrap();
        let pages = h
            .orch
            .on_event(ProviderEvent::new(
                msg,
                ProviderEventKind::Action(ActionKind::Escalate),
            ))
            .await
            .unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].name, "Frank");
        assert_eq!(h.orch.escalation(&r.alert).unwrap().step, 1);
        let unknown = rcsec::MessageId::new("m-unknown").unwrap();
        let err = h
            .orch
            .on_event(ProviderEvent::new(unknown, ProviderEventKind::Read))
            .await
            .unwrap_err();
        assert!(matches!(err, rcsec::OrchestratorError::UnknownMessage));
    });
}
