//! The sealed record of one alert (format version 1): what is captured from the orchestrator's
//! memory, and how it is rebuilt.
//!
//! Plain serde structs, separate from the in-memory types, so that the stored format is
//! written down in one place and changes only with [`VERSION`]. The whole snapshot is sealed
//! (not just the alert text): responders' numbers, names and device keys are as worth
//! protecting as the content, and one AEAD per record leaves nothing to forget.

use std::collections::BTreeMap;
use std::sync::Arc;

use rcsec_core::{AlertId, Msisdn, Redacted, Route, Severity, Timestamp};
use rcsec_link::LinkId;
use rcsec_policy::consent::ConsentLedger;
use rcsec_policy::{Classifier, FallbackReason, Region};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::error::RecordError;
use crate::alert::{Alert, AlertStatus, Artifact};
use crate::message::MessageId;
use crate::orchestrator::{AlertState, Held, MessageMeta, UtcOffset};
use crate::responder::Responder;
use crate::ticket::TicketId;

/// The record kind bound into the seal.
pub(crate) const KIND: &str = "alert";
/// The record format this build writes and reads.
pub(crate) const VERSION: u16 = 1;

/// One alert's state.
#[derive(Serialize, Deserialize)]
pub(crate) struct AlertSnapshot {
    alert: AlertDto,
    chain: Vec<Vec<ResponderDto>>,
    step: usize,
    round: u32,
    deadline: Option<Timestamp>,
    acked: bool,
    resolved: bool,
    ticket: Option<String>,
    paged: Vec<(ResponderDto, Route)>,
    links: Vec<String>,
    messages: Vec<MessageDto>,
    last_paged: Option<Timestamp>,
    held: Vec<HeldDto>,
}

#[derive(Serialize, Deserialize)]
struct AlertDto {
    id: AlertId,
    status: AlertStatus,
    severity: Severity,
    title: String,
    summary: String,
    details: String,
    labels: BTreeMap<String, String>,
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
    source_url: Option<String>,
    artifacts: Vec<ArtifactDto>,
}

#[derive(Serialize, Deserialize)]
struct ArtifactDto {
    name: String,
    content_type: String,
    /// Hex: JSON would spend four bytes per byte on a number array.
    data: String,
}

#[derive(Serialize, Deserialize)]
struct ResponderDto {
    number: String,
    name: String,
    group: String,
    region: Option<String>,
    step: u32,
    #[serde(default)]
    push_group: Option<String>,
    consent: Vec<ConsentDto>,
    utc_offset: Option<i16>,
}

#[derive(Serialize, Deserialize)]
struct ConsentDto {
    category: String,
    granted_at: Timestamp,
    terms_version: String,
    withdrawn_at: Option<Timestamp>,
}

#[derive(Serialize, Deserialize)]
struct MessageDto {
    id: MessageId,
    responder: ResponderDto,
    fallback: Option<FallbackReason>,
    tag: String,
    fallbacks: u8,
}

#[derive(Serialize, Deserialize)]
struct HeldDto {
    responder: ResponderDto,
    tag: String,
    until: Timestamp,
}

/// What a snapshot rebuilds.
pub(crate) struct Restored {
    pub(crate) alert: AlertState,
    pub(crate) messages: Vec<(MessageId, MessageMeta)>,
    pub(crate) last_paged: Option<Timestamp>,
    pub(crate) held: Vec<Held>,
}

impl AlertSnapshot {
    /// Captures `a` with its messages, dedup time and holds.
    pub(crate) fn capture<'m>(
        a: &AlertState,
        messages: impl Iterator<Item = (&'m MessageId, &'m MessageMeta)>,
        last_paged: Option<Timestamp>,
        held: impl Iterator<Item = &'m Held>,
    ) -> Self {
        let alert = &a.alert;
        Self {
            alert: AlertDto {
                id: alert.id.clone(),
                status: alert.status,
                severity: alert.severity,
                title: alert.title.expose().clone(),
                summary: alert.summary.expose().clone(),
                details: alert.details.expose().clone(),
                labels: alert.labels.clone(),
                starts_at: alert.starts_at,
                ends_at: alert.ends_at,
                source_url: alert.source_url.as_ref().map(ToString::to_string),
                artifacts: alert
                    .artifacts
                    .iter()
                    .map(|art| ArtifactDto {
                        name: art.name.clone(),
                        content_type: art.content_type.clone(),
                        data: hex::encode(art.data.expose()),
                    })
                    .collect(),
            },
            chain: a
                .chain
                .iter()
                .map(|step| step.iter().map(ResponderDto::from).collect())
                .collect(),
            step: a.step,
            round: a.round,
            deadline: a.deadline,
            acked: a.acked,
            resolved: a.resolved,
            ticket: a.ticket.as_ref().map(|t| t.as_str().to_owned()),
            paged: a
                .paged
                .iter()
                .map(|(r, route)| (ResponderDto::from(r), *route))
                .collect(),
            links: a.links.iter().map(ToString::to_string).collect(),
            messages: messages
                .map(|(id, m)| MessageDto {
                    id: id.clone(),
                    responder: ResponderDto::from(&m.responder),
                    fallback: m.fallback,
                    tag: m.tag.clone(),
                    fallbacks: m.fallbacks,
                })
                .collect(),
            last_paged,
            held: held
                .map(|h| HeldDto {
                    responder: ResponderDto::from(&h.responder),
                    tag: h.tag.clone(),
                    until: h.until,
                })
                .collect(),
        }
    }

    /// The snapshot as JSON, in a buffer wiped on drop.
    pub(crate) fn encode(&self) -> Result<Zeroizing<Vec<u8>>, RecordError> {
        let mut out = Zeroizing::new(Vec::with_capacity(4096));
        serde_json::to_writer(&mut *out, self).map_err(|_| RecordError::Encode)?;
        Ok(out)
    }

    /// Decodes a snapshot of `expected` written in format `version`.
    pub(crate) fn decode(
        version: u16,
        expected: &AlertId,
        bytes: &[u8],
    ) -> Result<Self, RecordError> {
        if version != VERSION {
            return Err(RecordError::UnsupportedVersion(version));
        }
        let snapshot: Self = serde_json::from_slice(bytes).map_err(|e| RecordError::Malformed {
            line: e.line(),
            column: e.column(),
        })?;
        if &snapshot.alert.id != expected {
            return Err(RecordError::Invalid("alert id"));
        }
        Ok(snapshot)
    }

    /// Rebuilds the in-memory state; the classification is recomputed with `classifier`.
    pub(crate) fn restore(self, classifier: &Classifier) -> Result<Restored, RecordError> {
        let a = self.alert;
        let mut artifacts = Vec::with_capacity(a.artifacts.len());
        for art in a.artifacts {
            let data = hex::decode(&art.data).map_err(|_| RecordError::Invalid("artifact"))?;
            artifacts.push(Artifact {
                name: art.name,
                content_type: art.content_type,
                data: Redacted::new("artifact", data),
            });
        }
        let source_url = match a.source_url {
            Some(u) => Some(u.parse().map_err(|_| RecordError::Invalid("source url"))?),
            None => None,
        };
        let alert = Alert {
            id: a.id.clone(),
            status: a.status,
            severity: a.severity,
            title: Redacted::new("title", a.title),
            summary: Redacted::new("summary", a.summary),
            details: Redacted::new("details", a.details),
            labels: a.labels,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            source_url,
            artifacts,
        };
        let text = alert.text_for_classification();
        let classification = classifier.classify(&text);
        let chain = self
            .chain
            .into_iter()
            .map(|step| step.into_iter().map(ResponderDto::restore).collect())
            .collect::<Result<Vec<Vec<_>>, _>>()?;
        let paged = self
            .paged
            .into_iter()
            .map(|(r, route)| Ok((r.restore()?, route)))
            .collect::<Result<Vec<_>, RecordError>>()?;
        let links = self
            .links
            .iter()
            .map(|l| l.parse::<LinkId>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| RecordError::Invalid("link id"))?;
        let mut messages = Vec::with_capacity(self.messages.len());
        for m in self.messages {
            messages.push((
                m.id,
                MessageMeta {
                    alert: a.id.clone(),
                    responder: m.responder.restore()?,
                    fallback: m.fallback,
                    tag: m.tag,
                    fallbacks: m.fallbacks,
                },
            ));
        }
        let held = self
            .held
            .into_iter()
            .map(|h| {
                Ok(Held {
                    alert: a.id.clone(),
                    responder: h.responder.restore()?,
                    tag: h.tag,
                    until: h.until,
                })
            })
            .collect::<Result<Vec<_>, RecordError>>()?;
        if chain.iter().flatten().count() == 0 && !paged.is_empty() {
            return Err(RecordError::Invalid("chain"));
        }
        Ok(Restored {
            alert: AlertState {
                alert: Arc::new(alert),
                text: Arc::new(text),
                classification: Arc::new(classification),
                chain,
                step: self.step,
                round: self.round,
                deadline: self.deadline,
                acked: self.acked,
                resolved: self.resolved,
                ticket: self.ticket.map(TicketId::new),
                paged,
                links,
                messages: messages.iter().map(|(id, _)| id.clone()).collect(),
            },
            messages,
            last_paged: self.last_paged,
            held,
        })
    }
}

impl From<&Responder> for ResponderDto {
    fn from(r: &Responder) -> Self {
        Self {
            number: r.number.expose_e164().to_owned(),
            name: r.name.clone(),
            group: r.group.clone(),
            region: r.region.as_ref().map(|g| g.as_str().to_owned()),
            step: r.step,
            push_group: r.push_group.clone(),
            consent: r
                .consent
                .records()
                .map(|c| ConsentDto {
                    category: c.category.clone(),
                    granted_at: c.granted_at,
                    terms_version: c.terms_version.clone(),
                    withdrawn_at: c.withdrawn_at,
                })
                .collect(),
            utc_offset: r.utc_offset.map(UtcOffset::minutes),
        }
    }
}

impl ResponderDto {
    fn restore(self) -> Result<Responder, RecordError> {
        let number = Msisdn::parse(&self.number).map_err(|_| RecordError::Invalid("number"))?;
        let mut consent = ConsentLedger::new();
        for c in self.consent {
            consent.grant(&c.category, c.granted_at, &c.terms_version);
            if let Some(at) = c.withdrawn_at {
                consent.withdraw(&c.category, at);
            }
        }
        let utc_offset = match self.utc_offset {
            Some(m) => {
                Some(UtcOffset::from_minutes(m).map_err(|_| RecordError::Invalid("utc offset"))?)
            }
            None => None,
        };
        Ok(Responder {
            number,
            name: self.name,
            group: self.group,
            region: self.region.as_deref().map(Region::new),
            step: self.step,
            push_group: self.push_group,
            consent,
            utc_offset,
        })
    }
}
