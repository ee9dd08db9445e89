//! A resolved alert revokes its links, stops escalation, follows up and closes the ticket.

use rcsec::AlertOutcome;

use crate::harness::*;

#[test]
fn resolution_revokes_links_and_sends_a_fixed_follow_up() {
    let h = harness(|_| {});
    runtime().block_on(async {
        let who = h.responders(&["Bob", "Carol", "Dave", "Frank"]);
        let fired = h
            .orch
            .handle_alert(canary_alert("a-res"), who)
            .await
            .unwrap();
        let bob = by_name(&fired.deliveries, "Bob");
        let url = bob.links[0].url.expose().to_owned();

        let r = h
            .orch
            .handle_alert(resolved(canary_alert("a-res")), Vec::new())
            .await
            .unwrap();
        let AlertOutcome::Resolved { links_revoked } = r.outcome else {
            panic!("{:?}", r.outcome)
        };
        assert_eq!(
            links_revoked, 4,
            "bob: details + log, carol: details, dave: log"
        );
        let err = h.redeem(&url, &number(2)).await.unwrap_err();
        assert_eq!(err.reason().unwrap().reason_code(), "revoked");

        assert_eq!(r.deliveries.len(), 3, "everyone paged gets the follow-up");
        for n in [2, 3, 4] {
            assert_eq!(h.loopback.sent_to(&number(n)).len(), 2);
        }
        let push = h.loopback.sent_to(&number(4)).pop().unwrap();
        let text = String::from_utf8(h.loopback.open_push(&push).unwrap()).unwrap();
        assert!(text.contains("resolved"));

        // Escalation stopped: Frank (step 1) is never paged.
        h.advance(3600);
        assert!(h.orch.tick().await.unwrap().escalated.is_empty());
        assert!(h.loopback.sent_to(&number(6)).is_empty());
        let ticket = h.tickets.ticket(&r.alert).unwrap();
        assert!(ticket.resolved);
        assert!(h.orch.escalation(&r.alert).unwrap().resolved);
    });
}
