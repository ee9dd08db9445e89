//! A restart loses no open alert: what one alertd paged, the next one de-duplicates and
//! escalates, and a resolution after the restart revokes the links issued before it.

use std::sync::Arc;
use std::time::Duration;

use alertd::AppOptions;
use rcsec::core::{ManualClock, Msisdn, Timestamp};

use crate::real::eventually;
use crate::support::{Daemon, ROSTER, get, post_alerts, split_link, webhook};

const FRANK: &str = "+447700900106";

/// The test roster plus Frank, paged at escalation step 1.
fn with_frank(text: &str) {
    let dir = text
        .lines()
        .find_map(|l| l.strip_prefix("state_dir = \""))
        .and_then(|l| l.strip_suffix("/state\""))
        .unwrap()
        .to_owned();
    let roster = format!(
        "{ROSTER}\n[[recipient]]\nname = \"Frank\"\nnumber = \"{FRANK}\"\nreach = \"rcs\"\ne2ee = \"verified\"\nstep = 1\n"
    );
    std::fs::write(format!("{dir}/roster.toml"), roster).unwrap();
}

fn sent_to(d: &Daemon, number: &str) -> usize {
    let lb = d.app.loopback.as_ref().unwrap();
    lb.sent_to(&Msisdn::parse(number).unwrap()).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_posted_before_a_restart_escalates_and_resolves_after_it() {
    let clock = ManualClock::new(Timestamp::from_secs(1_800_000_000));
    let options = || AppOptions::default().clock(Arc::new(clock.clone()));
    let d = Daemon::start_with(|text| with_frank(text), options()).await;
    let firing = webhook(&[("fp-restart", "firing")], "checkout 5xx above 5%");
    assert_eq!(post_alerts(&d, &firing).await.status, 200);
    d.wait_sent(2).await; // Alice (full text) and Carol (SMS link); Frank waits for step 1.
    let link = d.sent_links().pop().expect("Carol's SMS carries a link");
    assert_eq!(sent_to(&d, FRANK), 0);

    let d = d.restart(options()).await;
    // Alertmanager re-sends the group inside the dedup window: nobody is paged again.
    assert_eq!(post_alerts(&d, &firing).await.status, 200);
    // The acknowledgement timeout runs out after the restart: the new process pages Frank.
    clock.advance(Duration::from_secs(301));
    eventually("Frank paged at step 1", Duration::from_secs(10), || async {
        (sent_to(&d, FRANK) == 1).then_some(())
    })
    .await;
    assert_eq!(d.sent_count(), 1, "only Frank: step 0 is not paged again");

    // Resolving after the restart revokes the link issued before it.
    let resolved = webhook(&[("fp-restart", "resolved")], "checkout 5xx above 5%");
    assert_eq!(post_alerts(&d, &resolved).await.status, 200);
    let (path, _) = split_link(&link);
    let page = get(&d.url(&path)).await;
    assert_ne!(
        page.status,
        200,
        "a revoked link serves nothing: {}",
        page.text()
    );
    d.stop().await;
}
