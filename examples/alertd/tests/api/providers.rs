//! alertd with real provider and ticket adapters against local fakes: `[provider.rbm]` pages
//! reach the fake RBM as agent messages with MAC-bound suggestions, a signed postback
//! acknowledges (a note lands in the fake ServiceNow), forged postbacks are counted and
//! audited; `[provider.kannel]` sends through a fake `sendsms` and takes signed DLRs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rcsec::audit::MemoryAuditSink;
use rcsec::core::AlertId;
use rcsec_provider_rbm::webhook::ClientToken;

use crate::fakes::{self, Fake, KANNEL_PASSWORD, KANNEL_USER, RBM_TOKEN, SN_PASSWORD, SN_USER};
use crate::real::eventually;
use crate::support::{Daemon, Reply, get, post_alerts, request, webhook};

const CLIENT_TOKEN: &str = "rbm-client-token-for-provider-tests";
const BOB: &str = "+447700900102";
const CAROL: &str = "+447700900103";
const CANARY: &str = "db-1 password is Canary-Pa55w0rd-Zq9";

/// The test's temporary directory and the daemon's public URL, read back from the config.
fn dir_and_base(text: &str) -> (PathBuf, String) {
    let dir = text
        .lines()
        .find_map(|l| l.strip_prefix("state_dir = \""))
        .and_then(|l| l.strip_suffix("/state\""))
        .unwrap();
    let base = text
        .lines()
        .find_map(|l| l.strip_prefix("public_url = \""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap();
    (PathBuf::from(dir), base.to_owned())
}

/// Replaces the loopback roster with `tables`, paging `number` only.
fn without_loopback(text: &mut String, number: &str, tables: &str) {
    let start = text.find("[provider.loopback]").unwrap();
    text.truncate(start);
    text.push_str(&format!(
        "{tables}\n[[responder]]\nname = \"On-call\"\nnumber = \"{number}\"\n"
    ));
}

/// alertd paging Bob over RBM (fake), tickets in the fake ServiceNow, audit in memory.
async fn start_rbm(fake_base: &str, audit: Arc<MemoryAuditSink>) -> Daemon {
    let fake_base = fake_base.to_owned();
    Daemon::start_with(
        move |text| {
            let (dir, _) = dir_and_base(text);
            fakes::write_secret(&dir.join("rbm.token"), RBM_TOKEN);
            fakes::write_secret(&dir.join("rbm-client.token"), CLIENT_TOKEN);
            fakes::write_secret(&dir.join("sn.password"), SN_PASSWORD);
            let tables = format!(
                r#"
[provider.rbm]
base_url = "{fake_base}"
agent_id = "alertd-test"
token_file = "{rbm}"
message_ttl_secs = 120

[webhooks.rbm]
client_token_file = "{client}"

[ticket.servicenow]
instance_url = "{fake_base}"
user = "{SN_USER}"
password_file = "{sn}"
assignment_group = "Checkout SRE"
"#,
                rbm = dir.join("rbm.token").display(),
                client = dir.join("rbm-client.token").display(),
                sn = dir.join("sn.password").display(),
            );
            without_loopback(text, BOB, &tables);
        },
        alertd::AppOptions::default().audit(audit),
    )
    .await
}

async fn post_signed(d: &Daemon, event: &serde_json::Value, token: &str) -> Reply {
    let data = event.to_string().into_bytes();
    let signature = ClientToken::new(token).unwrap().sign(&data);
    let body =
        serde_json::json!({"message": {"data": STANDARD.encode(&data), "messageId": "ps-1"}});
    request(
        "POST",
        &d.url("/v1/providers/rbm/events"),
        &[
            ("x-goog-signature", &signature),
            ("content-type", "application/json"),
        ],
        body.to_string().into_bytes(),
    )
    .await
}

async fn counter(d: &Daemon, family: &'static str, labels: &[(&str, &str)]) {
    eventually(
        &format!("{family}{labels:?}"),
        Duration::from_secs(10),
        || async { (d.app.metrics.value(family, labels) > 0).then_some(()) },
    )
    .await;
}

/// The agent messages the fake RBM accepted.
async fn agent_messages(fake: &Fake, n: usize) -> Vec<fakes::Seen> {
    eventually(
        &format!("{n} agent messages"),
        Duration::from_secs(10),
        || async {
            let sent: Vec<_> = fakes::seen(fake, "/v1/phones/")
                .into_iter()
                .filter(|s| s.method == "POST")
                .collect();
            (sent.len() >= n).then_some(sent)
        },
    )
    .await
}

fn audit_events(sink: &MemoryAuditSink) -> Vec<serde_json::Value> {
    String::from_utf8(sink.log_bytes().unwrap())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "event")
        .collect()
}

#[tokio::test]
async fn rbm_page_carries_suggestions_and_a_signed_postback_acknowledges_into_servicenow() {
    let (fake_base, fake) = fakes::start(&[BOB]).await;
    let audit = Arc::new(MemoryAuditSink::new());
    let d = start_rbm(&fake_base, audit.clone()).await;
    // P1 ("error"): plain RCS may carry redacted text and a one-time link.
    let alert =
        webhook(&[("00000000000bb001", "firing")], CANARY).replace("\"critical\"", "\"error\"");
    assert_eq!(post_alerts(&d, &alert).await.status, 200);

    let sent = agent_messages(&fake, 1).await;
    let page = &sent[0];
    assert_eq!(page.path, format!("/v1/phones/{BOB}/agentMessages"));
    assert_eq!(
        page.authorization.as_deref(),
        Some(&*format!("Bearer {RBM_TOKEN}"))
    );
    assert_eq!(
        page.query.get("agentId").map(String::as_str),
        Some("alertd-test")
    );
    let message_id = page.query.get("messageId").unwrap().clone();
    let ttl = page.body["ttl"].as_str().unwrap();
    let ttl_secs: u64 = ttl.strip_suffix('s').unwrap().parse().unwrap();
    assert!(
        ttl_secs <= 120,
        "[provider.rbm] message_ttl_secs caps the RBM ttl: {ttl}"
    );
    let content = &page.body["contentMessage"];
    assert!(
        !content.to_string().contains("Pa55w0rd"),
        "the secret in the summary reached RBM: {content}"
    );
    let suggestions = content["suggestions"].as_array().unwrap();
    let ack = suggestions
        .iter()
        .find(|s| s["reply"]["text"] == "Acknowledge")
        .unwrap_or_else(|| panic!("no Acknowledge suggestion in {content}"));
    let postback = ack["reply"]["postbackData"].as_str().unwrap().to_owned();
    assert!(
        suggestions
            .iter()
            .any(|s| s["action"]["openUrlAction"]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with(&d.url("/l/")))),
        "no secure-link button in {content}"
    );

    // The ticket was opened in ServiceNow, correlated by the alert id.
    let alert_id = eventually("an incident", Duration::from_secs(10), || async {
        let f = fake.lock().unwrap();
        f.incidents
            .first()
            .map(|i| i["correlation_id"].as_str().unwrap().to_owned())
    })
    .await;
    let alert_id = AlertId::new(alert_id).unwrap();
    {
        let f = fake.lock().unwrap();
        assert_eq!(f.incidents[0]["assignment_group"], "Checkout SRE");
        assert!(!f.incidents[0].to_string().contains("Pa55w0rd"));
    }

    // Bob taps "Acknowledge": RBM posts the signed suggestionResponse.
    let tap = serde_json::json!({"senderPhoneNumber": BOB, "messageId": "tap-1",
        "suggestionResponse": {"postbackData": postback, "text": "Acknowledge"}});
    assert_eq!(post_signed(&d, &tap, CLIENT_TOKEN).await.status, 200);
    counter(
        &d,
        "alertd_provider_events_total",
        &[("kind", "acknowledge"), ("outcome", "applied")],
    )
    .await;
    assert!(
        d.app
            .orchestrator
            .escalation(&alert_id)
            .unwrap()
            .acknowledged
    );
    let notes = eventually("a work note", Duration::from_secs(10), || async {
        let f = fake.lock().unwrap();
        let notes = f.journal.values().flatten().cloned().collect::<Vec<_>>();
        (!notes.is_empty()).then_some(notes)
    })
    .await;
    assert!(
        notes.iter().any(|n| n.to_lowercase().contains("ack")),
        "no acknowledgement note: {notes:?}"
    );
    assert!(
        notes.iter().all(|n| !n.contains("7700900102")),
        "raw number in a note"
    );
    assert!(fakes::seen(&fake, "/api/now/").iter().all(|s| {
        s.authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Basic "))
    }));
    let _ = message_id;
    d.stop().await;
}

#[tokio::test]
async fn forged_rbm_postbacks_and_signatures_are_counted_and_audited() {
    let (fake_base, fake) = fakes::start(&[BOB]).await;
    let audit = Arc::new(MemoryAuditSink::new());
    let d = start_rbm(&fake_base, audit.clone()).await;
    let alert =
        webhook(&[("00000000000bb002", "firing")], "x").replace("\"critical\"", "\"error\"");
    assert_eq!(post_alerts(&d, &alert).await.status, 200);
    let sent = agent_messages(&fake, 1).await;
    let content = &sent[0].body["contentMessage"];
    let postback = content["suggestions"][0]["reply"]["postbackData"]
        .as_str()
        .unwrap()
        .to_owned();

    // 1. A body signed with the wrong client token.
    let event = serde_json::json!({"senderPhoneNumber": BOB, "eventType": "READ",
                                   "eventId": "e-forged", "messageId": "m-1"});
    assert_eq!(
        post_signed(&d, &event, "not-the-client-token").await.status,
        401
    );
    counter(
        &d,
        "alertd_webhook_forgeries_total",
        &[("endpoint", "rbm"), ("reason", "bad_signature")],
    )
    .await;

    // 2. A validly signed event whose postback was minted for Bob but tapped from another
    //    phone: the MAC binds it to Bob, so it is refused.
    let other = serde_json::json!({"senderPhoneNumber": CAROL, "messageId": "tap-x",
        "suggestionResponse": {"postbackData": postback, "text": "Acknowledge"}});
    assert_eq!(post_signed(&d, &other, CLIENT_TOKEN).await.status, 200);
    counter(
        &d,
        "alertd_webhook_forgeries_total",
        &[("endpoint", "rbm"), ("reason", "postback_bad_tag")],
    )
    .await;

    // 3. Postback data altered in transit (another alert id spliced in).
    let mut altered = postback.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let tampered = serde_json::json!({"senderPhoneNumber": BOB, "messageId": "tap-y",
        "suggestionResponse": {"postbackData": altered, "text": "Acknowledge"}});
    assert_eq!(post_signed(&d, &tampered, CLIENT_TOKEN).await.status, 200);
    eventually("two refused postbacks", Duration::from_secs(10), || async {
        (d.app.metrics.value(
            "alertd_provider_events_total",
            &[("kind", "suggestion"), ("outcome", "refused")],
        ) >= 2)
            .then_some(())
    })
    .await;

    let metrics = get(&d.url("/metrics")).await.text();
    assert!(
        metrics.contains(
            "alertd_webhook_forgeries_total{endpoint=\"rbm\",reason=\"bad_signature\"} 1\n"
        ),
        "{metrics}"
    );
    let rejected: Vec<_> = audit_events(&audit)
        .into_iter()
        .filter(|e| e["kind"] == "webhook_rejected")
        .collect();
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert_eq!(rejected[0]["reason"], "bad_signature");
    assert!(
        rejected[0].get("recipient").is_none(),
        "unauthenticated: no recipient"
    );
    assert!(
        rejected[1]["recipient"].is_string(),
        "the signed sender is pseudonymized"
    );
    assert!(rejected.iter().all(|e| e["provider"] == "rbm"));
    let log = String::from_utf8(audit.log_bytes().unwrap()).unwrap();
    for leak in ["7700900102", "7700900103", postback.as_str(), "Acknowledge"] {
        assert!(!log.contains(leak), "audit log carries {leak}");
    }
    assert!(
        !d.app
            .orchestrator
            .escalation(
                &AlertId::new(
                    fake.lock().unwrap().incidents[0]["correlation_id"]
                        .as_str()
                        .unwrap()
                )
                .unwrap()
            )
            .unwrap()
            .acknowledged
    );
    d.stop().await;
}

/// The default policy, written out as a policy file (its SMS template leaves room for the
/// link in one segment).
fn short_template_policy() -> String {
    include_str!("../../../../crates/rcsec-policy/default-policy.toml").to_owned()
}

#[tokio::test]
async fn kannel_sends_through_sendsms_and_takes_signed_delivery_reports() {
    let (fake_base, fake) = fakes::start(&[]).await;
    let sendsms = format!("{fake_base}cgi-bin/sendsms");
    let d = Daemon::start_with(
        move |text| {
            let (dir, base) = dir_and_base(text);
            fakes::write_secret(&dir.join("kannel.password"), KANNEL_PASSWORD);
            std::fs::write(dir.join("policy.toml"), short_template_policy()).unwrap();
            let policy = dir.join("policy.toml");
            text.insert_str(0, &format!("policy_file = \"{}\"\n", policy.display()));
            let tables = format!(
                r#"
[provider.kannel]
sendsms_url = "{sendsms}"
username = "{KANNEL_USER}"
password_file = "{pw}"
from = "+447700900000"
dlr_base_url = "{base}"
"#,
                pw = dir.join("kannel.password").display(),
            );
            without_loopback(text, CAROL, &tables);
        },
        alertd::AppOptions::default(),
    )
    .await;
    assert_eq!(
        post_alerts(&d, &webhook(&[("0000000000ca0001", "firing")], CANARY))
            .await
            .status,
        200
    );
    let sms = eventually("one sendsms call", Duration::from_secs(10), || async {
        fakes::seen(&fake, "/cgi-bin/sendsms").pop()
    })
    .await;
    assert!(
        sms.query["text"].starts_with("P0 alert: "),
        "{:?}",
        sms.query["text"]
    );
    assert_eq!(sms.query["to"], CAROL);
    assert_eq!(sms.query["from"], "+447700900000");
    let text = &sms.query["text"];
    assert!(text.contains(&d.url("/l/")), "no one-time link in {text}");
    assert!(
        !text.contains("Pa55w0rd") && !text.contains("HighErrorRate"),
        "{text}"
    );
    let dlr = &sms.query["dlr-url"];
    assert!(
        dlr.starts_with(&d.url("/v1/providers/kannel/dlr?id=")),
        "{dlr}"
    );
    counter(&d, "rcsec_sends_total", &[("route", "sms_link")]).await;

    // Kannel calls back with the type and time filled in.
    let delivered = dlr.replace("%d", "1").replace("%T", "1800000000");
    let r = get(&delivered).await;
    assert_eq!(r.status, 200, "{}", r.text());
    counter(
        &d,
        "alertd_provider_events_total",
        &[("kind", "dlr_delivered"), ("outcome", "applied")],
    )
    .await;
    let buffered = dlr.replace("%d", "4").replace("%T", "1800000001");
    assert_eq!(get(&buffered).await.status, 200);
    counter(
        &d,
        "alertd_provider_events_total",
        &[("kind", "dlr_buffered"), ("outcome", "recorded")],
    )
    .await;

    // A report whose tag belongs to another message, or no tag at all, is refused.
    let forged = delivered.replacen("id=", "id=x", 1);
    assert_eq!(get(&forged).await.status, 401);
    counter(
        &d,
        "alertd_webhook_forgeries_total",
        &[("endpoint", "kannel"), ("reason", "bad_tag")],
    )
    .await;
    assert_eq!(
        get(&d.url("/v1/providers/kannel/dlr?type=1")).await.status,
        400
    );
    d.stop().await;
}

#[tokio::test]
async fn dlr_route_is_404_without_kannel() {
    let d = Daemon::start().await;
    let r = get(&d.url("/v1/providers/kannel/dlr?id=a&tag=b&type=1")).await;
    assert_eq!(r.status, 404);
    d.stop().await;
}

#[tokio::test]
async fn credential_files_are_checked_at_start_up() {
    let (fake_base, _fake) = fakes::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let base = crate::support::config_text(dir.path(), "http://127.0.0.1:1/");
    let pw = dir.path().join("kannel.password");
    let with_kannel = format!(
        "{base}\n[provider.kannel]\nsendsms_url = \"{fake_base}cgi-bin/sendsms\"\nusername = \"u\"\npassword_file = \"{}\"\n",
        pw.display()
    );
    // Missing file: named in the error.
    let config = alertd::Config::from_toml(&with_kannel).unwrap();
    let err = alertd::App::from_config(&config).unwrap_err().to_string();
    assert!(err.contains("kannel.password"), "{err}");
    // World-readable: refused, and the content is never quoted.
    std::fs::write(&pw, KANNEL_PASSWORD).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let err = alertd::App::from_config(&config).unwrap_err().to_string();
    assert!(err.contains("accessible to other users"), "{err}");
    assert!(!err.contains(KANNEL_PASSWORD));
    fakes::write_secret(&pw, KANNEL_PASSWORD);
    // The default SMS template and a one-time link under this short public URL fit one segment.
    alertd::App::from_config(&config).unwrap();
    // Under a long public URL they do not: refused at start-up rather than on every page.
    let long_url = "https://alerts.payments-platform.eu-west-1.example-company.com/";
    let long_base = crate::support::config_text(dir.path(), long_url);
    let long = alertd::Config::from_toml(&with_kannel.replacen(&base, &long_base, 1)).unwrap();
    let err = alertd::App::from_config(&long).unwrap_err();
    assert!(
        matches!(
            err,
            alertd::StartError::Config(alertd::ConfigError::Invalid {
                field: "provider.kannel",
                ..
            })
        ),
        "{err}"
    );

    // A service-account key that is not one.
    let key = dir.path().join("sa.json");
    fakes::write_secret(&key, "{\"client_email\": \"x@example.iam\"}");
    let with_rbm = format!(
        "{base}\n[provider.rbm]\nbase_url = \"{fake_base}\"\nservice_account_key_file = \"{}\"\n",
        key.display()
    );
    let config = alertd::Config::from_toml(&with_rbm).unwrap();
    let err = alertd::App::from_config(&config).unwrap_err();
    assert!(
        matches!(
            err,
            alertd::StartError::Config(alertd::ConfigError::Invalid {
                field: "provider.rbm.service_account_key_file",
                ..
            })
        ),
        "{err}"
    );

    // A ServiceNow password file that is empty.
    let sn = dir.path().join("sn.password");
    fakes::write_secret(&sn, "\n");
    let with_sn = format!(
        "{base}\n[ticket.servicenow]\ninstance_url = \"{fake_base}\"\nuser = \"u\"\npassword_file = \"{}\"\n",
        sn.display()
    );
    let config = alertd::Config::from_toml(&with_sn).unwrap();
    let err = alertd::App::from_config(&config).unwrap_err().to_string();
    assert!(
        err.contains("sn.password") && err.contains("empty"),
        "{err}"
    );
}
