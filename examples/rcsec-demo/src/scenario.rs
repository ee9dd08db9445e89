//! The scenario: alerts, a downgrade, a redeemed link, an ack, an escalation, a resolution.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use rcsec::audit::{AuditKey, Pseudonymizer, Verifier};
use rcsec::capability::{E2ee, Reach, Resolver};
use rcsec::core::{AlertId, Clock, ManualClock, Redacted, Severity, SystemClock};
use rcsec::link::sealed::{SealContext, open_to_vec};
use rcsec::link::{Keyring, KeyringPolicy, OsRandom, PayloadKey, RedeemContext};
use rcsec::message::{ActionKind, MessageBody};
use rcsec::policy::Policy;
use rcsec::{
    Alert, AlertOutcome, AlertStatus, Artifact, Delivery, DeliveryStatus, MemoryTicketSink,
    Orchestrator, OrchestratorConfig, ProviderEvent, ProviderEventKind, Responder,
};
use rcsec_provider_loopback::{LoopbackProvider, Roster};
use serde_json::json;

use crate::render::{self, shorten_links};
use crate::stores::Stores;
use crate::{DEFAULT_ROSTER, DemoError, Options, Summary, line, pipeline};

/// The canary credential carried by the first alert. It must reach only end-to-end encrypted
/// routes and the sealed link payloads, never an SMS, plain RCS text or the audit log.
pub(crate) const CANARY: &str = "Canary-Pa55w0rd-Zq9";

fn alert(id: &str, severity: Severity, title: &str, summary: &str, details: String) -> Alert {
    Alert {
        id: AlertId::new(id).unwrap_or_else(|_| unreachable_id()),
        status: AlertStatus::Firing,
        severity,
        title: Redacted::new("title", title.to_owned()),
        summary: Redacted::new("summary", summary.to_owned()),
        details: Redacted::new("details", details),
        labels: Default::default(),
        starts_at: None,
        ends_at: None,
        source_url: None,
        artifacts: Vec::new(),
    }
}

#[allow(
    clippy::panic,
    reason = "the demo's alert ids are constants that validate"
)]
fn unreachable_id() -> AlertId {
    panic!("constant alert id is invalid")
}

fn read(path: &std::path::Path, what: &str) -> Result<String, DemoError> {
    std::fs::read_to_string(path).map_err(|e| DemoError::Input(format!("cannot read {what}: {e}")))
}

fn first_sent<'a>(deliveries: &'a [Delivery], name: Option<&str>) -> Option<&'a Delivery> {
    deliveries.iter().find(|d| {
        matches!(d.status, DeliveryStatus::Sent { .. }) && name.is_none_or(|n| d.name == n)
    })
}

/// Runs the scenario, writing tables (or JSON) to `out`.
///
/// # Errors
/// [`DemoError::Input`] for a bad roster or policy, [`DemoError::Check`] when the audit log
/// does not verify or the canary leaked, [`DemoError::Pipeline`] for store failures.
#[allow(clippy::too_many_lines, reason = "one linear story, told in order")]
pub async fn run(opts: &Options, out: &mut dyn Write) -> Result<Summary, DemoError> {
    let roster_src = match &opts.roster {
        Some(p) => read(p, "roster")?,
        None => DEFAULT_ROSTER.to_owned(),
    };
    let roster = Roster::from_toml(&roster_src).map_err(|e| DemoError::Input(e.to_string()))?;
    let policy = match &opts.policy {
        Some(p) => Policy::from_toml(&read(p, "policy")?)
            .map_err(|e| DemoError::Input(format!("policy: {e}")))?,
        None => Policy::default(),
    };
    let dir = tempfile::tempdir()?;
    let clock = ManualClock::new(SystemClock.now());
    let loopback =
        Arc::new(LoopbackProvider::new(&roster, Arc::new(clock.clone())).map_err(pipeline)?);
    let stores = Stores::open(dir.path(), opts.memory)?;
    let resolver = Resolver::builder(Arc::new(clock.clone()))
        .provider(loopback.clone(), Duration::from_secs(2))
        .pins(Arc::clone(&stores.pins))
        .build()
        .map_err(pipeline)?;
    let keyring =
        Keyring::generate(KeyringPolicy::default(), clock.now(), &OsRandom).map_err(pipeline)?;
    let tickets = Arc::new(MemoryTicketSink::new());
    let link_base = url::Url::parse("https://alerts.example/").map_err(pipeline)?;
    let orch = Orchestrator::builder()
        .clock(Arc::new(clock.clone()))
        .policy(policy)
        .resolver(Arc::new(resolver))
        .links(
            Arc::new(keyring),
            Arc::clone(&stores.tokens),
            Arc::clone(&stores.blobs),
        )
        .audit(
            Arc::clone(&stores.audit),
            Pseudonymizer::new(AuditKey::generate(1).map_err(pipeline)?),
        )
        .outbox(Arc::clone(&stores.outbox))
        .tickets(tickets.clone())
        .provider(loopback.clone())
        .protector(loopback.team_protector().await.map_err(pipeline)?)
        .config(OrchestratorConfig::new(link_base))
        .build()
        .map_err(pipeline)?;
    let responders: Vec<Responder> = loopback.responders();
    let text = !opts.json;
    let mut doc = json!({ "stores": stores.description });
    if text {
        line(
            out,
            "rcsec demo — the whole pipeline, in process, against simulated phones",
        )?;
        line(
            out,
            &format!(
                "stores: {}; provider: loopback ({} recipients)",
                stores.description,
                responders.len()
            ),
        )?;
    }

    // 1. A P1 alert with a canary credential and a log artifact, to everyone at step 0.
    let mut a1 = alert(
        "c4a1b2d3e4f50601",
        Severity::P1,
        "CheckoutDbLoginFailures",
        "checkout-db refuses logins (call +44 7700 900555)",
        format!("DATABASE_URL=postgres://app:{CANARY}@db-7:5432/app rejected since 12:00"),
    );
    a1.artifacts.push(Artifact::new(
        "checkout-db.log",
        "text/plain",
        b"12:00:01 FATAL password authentication failed for user \"app\"\n".to_vec(),
    ));
    let r1 = orch
        .handle_alert(a1.clone(), responders.clone())
        .await
        .map_err(pipeline)?;
    if text {
        render::table(
            out,
            "Alert 1 (P1, canary credential + log artifact)",
            &r1.deliveries,
        )?;
    }
    doc["alert1"] = render::json(&r1.deliveries);

    // 2. Erin's carrier drops E2EE: a pinned contact is downgraded.
    if let Some(erin) = responders.iter().find(|r| r.name == "Erin") {
        loopback.set_capability(&erin.number, Reach::Rcs, E2ee::Unverified);
        orch.resolver().invalidate(&erin.number);
        if text {
            line(
                out,
                "\n~ Erin's carrier now reports RCS without E2EE (she was pinned as verified)",
            )?;
        }
    }
    let a2 = alert(
        "c4a1b2d3e4f50602",
        Severity::P1,
        "DiskAlmostFull",
        "db-2 /var at 93%",
        String::new(),
    );
    let r2 = orch
        .handle_alert(a2, responders.clone())
        .await
        .map_err(pipeline)?;
    if text {
        render::table(out, "Alert 2 (P1, no secrets)", &r2.deliveries)?;
    }
    doc["alert2"] = render::json(&r2.deliveries);

    // 3. Redeem a details link once, then replay it.
    let mut replay_refused = false;
    let details = r1.deliveries.iter().find_map(|d| {
        d.links
            .iter()
            .find(|l| l.purpose == "details")
            .map(|l| (d, l))
    });
    if let Some((d, link)) = details {
        let url = link.url.expose();
        let (path, fragment) = url.split_once('#').unwrap_or((url, ""));
        let token = path.rsplit('/').next().unwrap_or_default();
        let key = PayloadKey::from_fragment(fragment).map_err(pipeline)?;
        let ctx = RedeemContext::at(clock.now()).recipient(&d.recipient);
        let got = orch
            .gateway()
            .confirm(token, &ctx)
            .await
            .map_err(pipeline)?;
        let plain = open_to_vec(
            &key,
            &SealContext::new(&got.link_id, "text/plain"),
            &got.ciphertext,
        )
        .map_err(pipeline)?;
        let replay = orch.gateway().confirm(token, &ctx).await;
        let code = replay
            .as_ref()
            .err()
            .and_then(|e| e.reason())
            .map_or("accepted", |r| r.reason_code());
        replay_refused = code == "consumed";
        if text {
            line(
                out,
                &format!(
                    "\nLink for {} ({}): redeemed once, {} sealed bytes opened in the browser ({} bytes of alert text); replay: refused ({code})",
                    d.name,
                    shorten_links(url),
                    got.ciphertext.len(),
                    plain.len()
                ),
            )?;
        }
        doc["redeem"] =
            json!({ "recipient": d.recipient.masked(), "bytes": plain.len(), "replay": code });
    }

    // 4. Receipts and an acknowledgement on alert 1; an escalation on alert 2.
    if let Some(d) = first_sent(&r1.deliveries, None)
        && let Some(id) = &d.message_id
    {
        for kind in [
            ProviderEventKind::Delivered {
                e2ee: E2ee::Verified,
            },
            ProviderEventKind::Read,
            ProviderEventKind::Action(ActionKind::Acknowledge),
        ] {
            orch.on_event(ProviderEvent::new(id.clone(), kind))
                .await
                .map_err(pipeline)?;
        }
        if text {
            line(
                out,
                &format!(
                    "\n{} acknowledged alert 1: paging stops; ticket noted",
                    d.name
                ),
            )?;
        }
    }
    let mut escalated = Vec::new();
    if let Some(d) =
        first_sent(&r2.deliveries, Some("Bob")).or_else(|| first_sent(&r2.deliveries, None))
        && let Some(id) = &d.message_id
    {
        escalated = orch
            .on_event(ProviderEvent::new(
                id.clone(),
                ProviderEventKind::Action(ActionKind::Escalate),
            ))
            .await
            .map_err(pipeline)?;
        if text {
            render::table(
                out,
                &format!(
                    "{} pressed \"Escalate\" on alert 2 → next step paged",
                    d.name
                ),
                &escalated,
            )?;
        }
    }
    doc["escalated"] = render::json(&escalated);

    // 5. Alert 1 resolves: links revoked, short follow-up to everyone paged.
    let mut resolved = a1;
    resolved.status = AlertStatus::Resolved;
    let r3 = orch
        .handle_alert(resolved, Vec::new())
        .await
        .map_err(pipeline)?;
    if let AlertOutcome::Resolved { links_revoked } = r3.outcome {
        if text {
            line(
                out,
                &format!(
                    "\nAlert 1 resolved: {links_revoked} links revoked, {} follow-ups sent (fixed text, no alert content)",
                    r3.deliveries.len()
                ),
            )?;
        }
        doc["resolved"] =
            json!({ "links_revoked": links_revoked, "follow_ups": r3.deliveries.len() });
    }
    if let Some(ticket) = tickets.ticket(&r3.alert)
        && text
    {
        line(
            out,
            &format!(
                "Ticket {}: \"{}\", notes: {:?}",
                ticket.id, ticket.title, ticket.notes
            ),
        )?;
    }

    // 6. The canary, and the audit log.
    let audit = stores.audit_bytes()?;
    let audit_text = String::from_utf8_lossy(&audit);
    let mut leaks = Vec::new();
    for s in loopback.sent() {
        let body = match &s.message.body {
            MessageBody::Text { text, .. } | MessageBody::Sms { text } => text.expose().as_str(),
            MessageBody::Encrypted { .. } => "",
            // A body kind this check predates cannot be vouched for: count it as a leak.
            _ => CANARY,
        };
        if !s.message.route.is_end_to_end()
            && (body.contains(CANARY) || body.contains("7700 900555"))
        {
            leaks.push(format!("{} text", s.message.route.as_str()));
        }
    }
    if audit_text.contains(CANARY) || audit_text.contains("7700900") {
        leaks.push("audit log".to_owned());
    }
    let verified = Verifier::new()
        .verify_bytes(&audit)
        .map_err(|e| DemoError::Check(format!("audit log does not verify: {e}")))?;
    let head = verified.head.chain.to_hex();
    if text {
        line(
            out,
            &format!(
                "\nCanary: {}",
                if leaks.is_empty() {
                    "not found in any SMS or plain-RCS text, nor in the audit log".to_owned()
                } else {
                    format!("LEAKED into {}", leaks.join(", "))
                }
            ),
        )?;
        line(
            out,
            &format!(
                "Audit log: verified {} events, head {} (Merkle root {})",
                verified.head.size,
                head,
                verified.head.root.to_hex()
            ),
        )?;
        line(out, "Last audit events (pseudonymized):")?;
        let lines: Vec<&str> = audit_text.lines().collect();
        for l in &lines[lines.len().saturating_sub(4)..] {
            let shown: String = l.chars().take(150).collect();
            line(
                out,
                &format!("  {shown}{}", if l.len() > 150 { "…" } else { "" }),
            )?;
        }
    } else {
        doc["canary_clean"] = json!(leaks.is_empty());
        doc["audit"] = json!({ "events": verified.head.size, "head": head, "root": verified.head.root.to_hex() });
        line(out, &serde_json::to_string_pretty(&doc).map_err(pipeline)?)?;
    }
    if !leaks.is_empty() {
        return Err(DemoError::Check(format!(
            "canary leaked into {}",
            leaks.join(", ")
        )));
    }
    Ok(Summary {
        audit_events: verified.head.size,
        audit_head: head,
        messages_sent: loopback.sent().len(),
        replay_refused,
        canary_clean: leaks.is_empty(),
    })
}
