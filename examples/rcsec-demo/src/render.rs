//! Tables and JSON for deliveries. Link URLs are shortened: the key in the fragment is never
//! printed.

use std::io::Write;

use rcsec::{Delivery, DeliveryStatus, SentContent};
use serde_json::{Value, json};

use crate::DemoError;

/// `https://host/l/AbCdEf…#k=…` for every URL in `text`.
pub(crate) fn shorten_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("https://") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        let url = &tail[..end];
        match url.find("/l/") {
            Some(p) => {
                let token: String = url[p + 3..].chars().take(6).collect();
                out.push_str(&url[..p + 3]);
                out.push_str(&token);
                out.push_str("…#k=…");
            }
            None => out.push_str(url),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn status(s: &DeliveryStatus) -> String {
    match s {
        DeliveryStatus::Sent { provider, .. } => format!("sent via {provider}"),
        DeliveryStatus::Retrying { attempts } => format!("retrying ({attempts})"),
        DeliveryStatus::Failed { reason } => format!("failed: {reason}"),
        DeliveryStatus::Expired => "expired".to_owned(),
        DeliveryStatus::Blocked => "not sent".to_owned(),
        DeliveryStatus::Held { .. } => "held (quiet hours)".to_owned(),
        DeliveryStatus::RateLimited => "rate limited".to_owned(),
        _ => "other".to_owned(),
    }
}

/// What was sent, for an operator's eyes: E2EE content is described, not shown.
pub(crate) fn sent(d: &Delivery) -> String {
    match &d.content {
        SentContent::Nothing => "—".to_owned(),
        SentContent::FullText { chars } => format!(
            "full alert, {chars} chars, end-to-end encrypted{}",
            if d.links.is_empty() {
                String::new()
            } else {
                format!(" + {} link(s)", d.links.len())
            }
        ),
        SentContent::Redacted(text) | SentContent::Sms(text) => {
            shorten_links(text.expose()).replace('\n', " ⏎ ")
        }
        SentContent::Envelope { bytes, protector } => format!(
            "{bytes}-byte {protector} (opens only on the enrolled device){}",
            if d.links.is_empty() {
                String::new()
            } else {
                format!(" + {} link(s)", d.links.len())
            }
        ),
        _ => "other".to_owned(),
    }
}

fn fallback(d: &Delivery) -> &'static str {
    d.fallback_reason.map_or("—", |r| r.as_str())
}

fn indicator(d: &Delivery) -> &'static str {
    match d.indicator {
        rcsec::policy::Indicator::Green => "green",
        rcsec::policy::Indicator::Amber => "amber",
        rcsec::policy::Indicator::Red => "red",
    }
}

pub(crate) fn table(
    out: &mut dyn Write,
    title: &str,
    deliveries: &[Delivery],
) -> Result<(), DemoError> {
    writeln!(out, "\n{title}")?;
    writeln!(
        out,
        "  {:<7} {:<14} {:<15} {:<19} {:<6} {:<17} sent",
        "name", "number", "route", "fallback", "light", "status"
    )?;
    for d in deliveries {
        writeln!(
            out,
            "  {:<7} {:<14} {:<15} {:<19} {:<6} {:<17} {}",
            d.name,
            d.recipient.masked(),
            d.route.as_str(),
            fallback(d),
            indicator(d),
            status(&d.status),
            sent(d)
        )?;
    }
    Ok(())
}

pub(crate) fn json(deliveries: &[Delivery]) -> Value {
    Value::Array(
        deliveries
            .iter()
            .map(|d| {
                json!({
                    "name": d.name,
                    "number": d.recipient.masked(),
                    "route": d.route.as_str(),
                    "fallback_reason": d.fallback_reason.map(|r| r.as_str()),
                    "indicator": indicator(d),
                    "status": status(&d.status),
                    "sent": sent(d),
                    "explanation": d.explanation,
                    "links": d.links.iter().map(|l| l.link_id.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_lose_their_keys() {
        let s = shorten_links("Details: https://a.example/l/AbCdEfGhIj#k=secretkey ok");
        assert_eq!(s, "Details: https://a.example/l/AbCdEf…#k=… ok");
        assert!(!s.contains("secretkey"));
    }
}
