//! Turning an outbound message into an RBM `AgentMessage` body, within RBM's limits.

use std::time::Duration;

use rcsec::{ActionKind, MessageBody, OutboundMessage};
use rcsec_core::Timestamp;
use serde_json::{Value, json};
use url::Url;

use crate::webhook::{PostbackError, PostbackSigner, action_label};

/// Longest text RBM accepts in one text message, in characters.
pub const MAX_TEXT_CHARS: usize = 3072;

/// Most suggestions rcsec attaches to one message.
pub const MAX_SUGGESTIONS: usize = 4;

/// Why a message cannot be carried over RBM as it is (the policy should shape it again or
/// fall back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// Not a text body (SMS and encrypted bodies go to their own providers).
    #[error("rbm carries text bodies only")]
    NotText,
    /// More than [`MAX_TEXT_CHARS`] characters, or empty.
    #[error("text is empty or longer than 3072 characters")]
    TextLength,
    /// The message expired before it could be sent.
    #[error("message already expired")]
    Expired,
    /// A postback could not be minted.
    #[error("postback could not be minted")]
    Postback(#[from] PostbackError),
}

/// The JSON body of `POST /v1/phones/{E.164}/agentMessages`: the text, one suggested reply
/// per action (postback data MAC-bound to alert, message and recipient), an `openUrlAction`
/// for the first secure link in the text, and `ttl` = time left until the message expires.
pub(crate) fn agent_message(
    message: &OutboundMessage,
    postbacks: &PostbackSigner,
    link_prefix: Option<&Url>,
    now: Timestamp,
) -> Result<Value, ContentError> {
    let MessageBody::Text { text, actions } = &message.body else {
        return Err(ContentError::NotText);
    };
    let text = text.expose();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_TEXT_CHARS {
        return Err(ContentError::TextLength);
    }
    let ttl = message.expires_at.saturating_duration_since(now);
    if ttl < Duration::from_secs(1) {
        return Err(ContentError::Expired);
    }
    let mut suggestions = Vec::new();
    let mut seen = Vec::<ActionKind>::new();
    for action in actions {
        if seen.contains(action) || suggestions.len() >= MAX_SUGGESTIONS {
            continue;
        }
        seen.push(*action);
        let postback = postbacks.mint(*action, &message.id, &message.alert, &message.recipient)?;
        suggestions
            .push(json!({"reply": {"text": action_label(*action), "postbackData": postback}}));
    }
    if let Some(link) = link_prefix.and_then(|p| first_link(text, p))
        && suggestions.len() < MAX_SUGGESTIONS
    {
        suggestions.push(json!({"action": {
            "text": "Open secure link",
            "postbackData": "open_link",
            "openUrlAction": {"url": link},
        }}));
    }
    let mut content = json!({"text": text});
    if !suggestions.is_empty() {
        content["suggestions"] = Value::Array(suggestions);
    }
    Ok(json!({
        "contentMessage": content,
        "ttl": format!("{}s", ttl.as_secs()),
    }))
}

/// The first whitespace-separated word of `text` that is a URL under `prefix`.
fn first_link(text: &str, prefix: &Url) -> Option<String> {
    text.split_whitespace()
        .map(|w| w.trim_end_matches(['.', ',', ';', ')']))
        .find(|w| w.starts_with(prefix.as_str()) && Url::parse(w).is_ok())
        .map(str::to_owned)
}
