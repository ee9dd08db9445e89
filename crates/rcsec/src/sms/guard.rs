//! The last line of defence on the SMS route: the text must be one of the configured fixed
//! templates with a one-time link filled in, and fit one GSM-7 segment.
//!
//! The policy already renders SMS from a fixed template, but an SMS leaves every protection
//! behind (carrier logs, lock screens, SMS backups), so the adapter checks again, structurally:
//! the only variable parts it lets through are a severity label and a URL under the link
//! gateway's prefix made of URL characters. Alert text, a secret or a phone number cannot
//! match that shape, whatever bug upstream put it there.

use rcsec_core::Severity;
use url::Url;

use super::gsm7::{SEGMENT_SEPTETS, septets};

/// Longest link accepted, in bytes.
const MAX_LINK_LEN: usize = 160;

/// Why an SMS text was refused. Never carries the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmsTextError {
    /// The text is not one of the templates with a severity and a gateway link filled in.
    #[error("sms text does not match a configured template")]
    NotTemplate,
    /// A character outside the GSM 7-bit default alphabet.
    #[error("sms text is not gsm-7")]
    NotGsm7,
    /// More than one 160-septet segment.
    #[error("sms text needs {septets} septets, more than one 160-septet segment")]
    TooLong {
        /// Septets the text needs.
        septets: usize,
    },
    /// A template is invalid (placeholders other than one `{link}` and at most one
    /// `{severity}`), or its fixed text alone does not fit.
    #[error("invalid sms template: {0}")]
    InvalidTemplate(&'static str),
}

/// The allowed SMS texts: templates with `{severity}` (at most once) and `{link}` (at most
/// once; templates without it are fixed notices such as "resolved"), links under one prefix.
#[derive(Debug, Clone)]
pub struct SmsGuard {
    templates: Vec<String>,
    link_prefix: Url,
}

impl SmsGuard {
    /// A guard for `templates` (e.g. the policy's `sms.template` and the pipeline's fixed
    /// notices) and links under `link_prefix` (the link gateway, e.g. `https://alerts.example/l/`).
    ///
    /// # Errors
    /// [`SmsTextError::InvalidTemplate`].
    pub fn new(templates: &[&str], link_prefix: Url) -> Result<Self, SmsTextError> {
        for t in templates {
            if t.matches("{link}").count() > 1 || t.matches("{severity}").count() > 1 {
                return Err(SmsTextError::InvalidTemplate("repeated placeholder"));
            }
            let fixed = t.replace("{link}", "").replace("{severity}", "");
            if fixed.contains('{') || fixed.contains('}') {
                return Err(SmsTextError::InvalidTemplate("unknown placeholder"));
            }
            if fixed.contains(['\n', '\r']) {
                return Err(SmsTextError::InvalidTemplate("line break"));
            }
            match septets(&fixed) {
                None => return Err(SmsTextError::InvalidTemplate("not gsm-7")),
                Some(n) if n > SEGMENT_SEPTETS => {
                    return Err(SmsTextError::InvalidTemplate("longer than one segment"));
                }
                Some(_) => {}
            }
        }
        if templates.is_empty() {
            return Err(SmsTextError::InvalidTemplate("no template"));
        }
        Ok(Self {
            templates: templates.iter().map(|t| (*t).to_owned()).collect(),
            link_prefix,
        })
    }

    /// Checks `text`: shape first (so nothing else is ever looked at for a wrong text), then
    /// the alphabet and the segment length.
    ///
    /// # Errors
    /// [`SmsTextError::NotTemplate`], [`SmsTextError::NotGsm7`], [`SmsTextError::TooLong`].
    pub fn check(&self, text: &str) -> Result<(), SmsTextError> {
        if !self.templates.iter().any(|t| self.matches(t, text)) {
            return Err(SmsTextError::NotTemplate);
        }
        let n = septets(text).ok_or(SmsTextError::NotGsm7)?;
        if n > SEGMENT_SEPTETS {
            return Err(SmsTextError::TooLong { septets: n });
        }
        Ok(())
    }

    fn matches(&self, template: &str, text: &str) -> bool {
        let instances: Vec<String> = if template.contains("{severity}") {
            Severity::ALL
                .iter()
                .map(|s| template.replace("{severity}", &s.to_string()))
                .collect()
        } else {
            vec![template.to_owned()]
        };
        instances.iter().any(|t| match t.split_once("{link}") {
            None => t == text,
            Some((before, after)) => text
                .strip_prefix(before)
                .and_then(|rest| rest.strip_suffix(after))
                .is_some_and(|link| self.is_link(link)),
        })
    }

    fn is_link(&self, link: &str) -> bool {
        link.len() <= MAX_LINK_LEN
            && link.len() > self.link_prefix.as_str().len()
            && link.starts_with(self.link_prefix.as_str())
            && link
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b))
            && Url::parse(link).is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    const TEMPLATE: &str = "rcsec: new {severity} alert. Open it securely: {link}";
    const RESOLVED: &str = "rcsec: this alert is resolved. Its secure links have been revoked.";

    fn guard() -> SmsGuard {
        SmsGuard::new(
            &[TEMPLATE, RESOLVED],
            "https://alerts.example/l/".parse().unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn accepts_template_instances_and_fixed_notices() {
        let g = guard();
        g.check("rcsec: new P1 alert. Open it securely: https://alerts.example/l/AbC-_12#k=xYz")
            .unwrap();
        g.check(RESOLVED).unwrap();
    }

    #[test]
    fn refuses_content_other_links_and_overlong_texts() {
        let g = guard();
        for bad in [
            "rcsec: new P1 alert. Open it securely: https://alerts.example/l/x password=hunter2",
            "rcsec: new P1 alert. Open it securely: https://evil.example/l/x",
            "rcsec: new P9 alert. Open it securely: https://alerts.example/l/x",
            "rcsec: new P1 alert. Open it securely: https://alerts.example/l/",
            "disk full on db-1: https://alerts.example/l/x",
            "rcsec: new P1 alert. Open it securely: +447700900123",
            "",
        ] {
            assert_eq!(g.check(bad), Err(SmsTextError::NotTemplate), "{bad}");
        }
        let long = format!(
            "rcsec: new P1 alert. Open it securely: https://alerts.example/l/{}",
            "a".repeat(110)
        );
        assert_eq!(g.check(&long), Err(SmsTextError::TooLong { septets: 174 }));
        let ext = format!(
            "rcsec: new P1 alert. Open it securely: https://alerts.example/l/{}",
            "[".repeat(60)
        );
        assert!(matches!(g.check(&ext), Err(SmsTextError::TooLong { .. })));
        let g = SmsGuard::new(&["Alarm ï: {link}"], "https://a.example/".parse().unwrap());
        assert!(matches!(g, Err(SmsTextError::InvalidTemplate("not gsm-7"))));
        for t in ["{link} {link}", "{name} {link}", "a\n{link}"] {
            assert!(SmsGuard::new(&[t], "https://a.example/".parse().unwrap()).is_err());
        }
        assert!(SmsGuard::new(&[], "https://a.example/".parse().unwrap()).is_err());
    }
}
