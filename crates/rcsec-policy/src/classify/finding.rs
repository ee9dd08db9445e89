//! The vocabulary of classifier results: kinds, confidence, sensitivity, findings.

use std::fmt;
use std::ops::Range;

/// How sensitive a text is, from nothing found to secrets or financial identifiers.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// Nothing was found.
    #[default]
    None,
    /// Contact data (e-mail addresses, phone numbers): personal, but not a key to anything.
    Low,
    /// Credentials, keys, tokens, card numbers, IBANs, SSNs: must not travel unencrypted.
    High,
}

impl Sensitivity {
    /// The lowercase label used in policy files: `none`, `low`, `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::High => "high",
        }
    }
}

/// How sure a detector is that its finding is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Confidence {
    /// Shape matched, no structural check available (a phone-number layout).
    Low,
    /// Keyword context plus a value that looks like a secret, or a shape plus a range check.
    Medium,
    /// A documented, vendor-specific format or a checksum that verified.
    High,
}

/// What a finding is. [`FindingKind::as_str`] gives the stable snake_case name used in
/// `rcsec classify` output and in redaction placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FindingKind {
    /// A PEM/OpenSSH/PGP private-key block.
    PrivateKey,
    /// An AWS access key id (`AKIA…`, `ASIA…`).
    AwsAccessKeyId,
    /// An AWS secret access key next to its keyword.
    AwsSecretKey,
    /// A Google API key (`AIza…`) or a GCP service-account key file.
    GcpKey,
    /// An Azure storage account key or Entra ID client secret.
    AzureKey,
    /// A GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`).
    GithubToken,
    /// A GitLab token (`glpat-` and the other `gl…-` prefixes, runner registration tokens).
    GitlabToken,
    /// A Slack token (`xoxb-`, `xoxp-`, `xapp-`, …).
    SlackToken,
    /// A Slack incoming-webhook or workflow URL.
    SlackWebhook,
    /// A Stripe secret or restricted key (`sk_live_`, `rk_live_`, …).
    StripeKey,
    /// A Twilio account SID or API key SID.
    TwilioKey,
    /// A SendGrid API key (`SG.x.y`).
    SendgridKey,
    /// An npm access token or an `.npmrc` auth token.
    NpmToken,
    /// A PyPI upload token (`pypi-Ag…`).
    PypiToken,
    /// A JSON Web Token.
    Jwt,
    /// Another vendor token with a documented prefix (OpenAI, Anthropic, Hugging Face, …), or
    /// a value of a vendor's documented shape assigned to its name (Cloudflare, Sumo Logic, …).
    VendorToken,
    /// A URL or connection string with an embedded password.
    UrlCredentials,
    /// A `password=` / `secret:` style assignment, a CLI password flag or an auth header.
    CredentialAssignment,
    /// A high-entropy value next to a credential keyword (`token`, `api_key`, …).
    HighEntropySecret,
    /// A payment card number (IIN range and Luhn checked).
    PaymentCard,
    /// An IBAN (country length and mod-97 checked).
    Iban,
    /// A US social security number (invalid ranges excluded).
    UsSsn,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
}

impl FindingKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 24] = [
        Self::PrivateKey,
        Self::AwsAccessKeyId,
        Self::AwsSecretKey,
        Self::GcpKey,
        Self::AzureKey,
        Self::GithubToken,
        Self::GitlabToken,
        Self::SlackToken,
        Self::SlackWebhook,
        Self::StripeKey,
        Self::TwilioKey,
        Self::SendgridKey,
        Self::NpmToken,
        Self::PypiToken,
        Self::Jwt,
        Self::VendorToken,
        Self::UrlCredentials,
        Self::CredentialAssignment,
        Self::HighEntropySecret,
        Self::PaymentCard,
        Self::Iban,
        Self::UsSsn,
        Self::Email,
        Self::Phone,
    ];

    /// The stable snake_case name (`github_token`, `payment_card`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PrivateKey => "private_key",
            Self::AwsAccessKeyId => "aws_access_key_id",
            Self::AwsSecretKey => "aws_secret_key",
            Self::GcpKey => "gcp_key",
            Self::AzureKey => "azure_key",
            Self::GithubToken => "github_token",
            Self::GitlabToken => "gitlab_token",
            Self::SlackToken => "slack_token",
            Self::SlackWebhook => "slack_webhook",
            Self::StripeKey => "stripe_key",
            Self::TwilioKey => "twilio_key",
            Self::SendgridKey => "sendgrid_key",
            Self::NpmToken => "npm_token",
            Self::PypiToken => "pypi_token",
            Self::Jwt => "jwt",
            Self::VendorToken => "vendor_token",
            Self::UrlCredentials => "url_credentials",
            Self::CredentialAssignment => "credential_assignment",
            Self::HighEntropySecret => "high_entropy_secret",
            Self::PaymentCard => "payment_card",
            Self::Iban => "iban",
            Self::UsSsn => "us_ssn",
            Self::Email => "email",
            Self::Phone => "phone",
        }
    }

    /// Whether this kind is a credential (as opposed to personal data).
    pub fn is_secret(self) -> bool {
        !matches!(
            self,
            Self::PaymentCard | Self::Iban | Self::UsSsn | Self::Email | Self::Phone
        )
    }

    /// The sensitivity a finding of this kind gives its text.
    pub fn sensitivity(self) -> Sensitivity {
        match self {
            Self::Email | Self::Phone => Sensitivity::Low,
            _ => Sensitivity::High,
        }
    }

    /// Lower wins an overlap: vendor formats, then structured PII, then generic detectors.
    pub(crate) fn precedence(self) -> u8 {
        match self {
            Self::PrivateKey => 0,
            Self::UrlCredentials | Self::SlackWebhook => 2,
            Self::CredentialAssignment | Self::HighEntropySecret => 4,
            Self::PaymentCard | Self::Iban | Self::UsSsn => 3,
            Self::Email | Self::Phone => 5,
            _ => 1,
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing the classifier found: its kind, confidence and byte span, never its text.
///
/// For payment cards the last four digits are kept, because people need them to recognise
/// which card an alert is about; nothing else of the matched text is stored, so formatting
/// a `Finding` (`Debug` included) cannot leak it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Finding {
    /// What was found.
    pub kind: FindingKind,
    /// How sure the detector is.
    pub confidence: Confidence,
    /// Byte offsets of the sensitive part in the classified text (on `char` boundaries).
    pub span: Range<usize>,
    card_last4: Option<[u8; 4]>,
}

impl Finding {
    pub(crate) fn new(kind: FindingKind, confidence: Confidence, span: Range<usize>) -> Self {
        Self {
            kind,
            confidence,
            span,
            card_last4: None,
        }
    }

    pub(crate) fn card(span: Range<usize>, last4: [u8; 4]) -> Self {
        Self {
            kind: FindingKind::PaymentCard,
            confidence: Confidence::High,
            span,
            card_last4: Some(last4),
        }
    }

    /// A placeholder that may be shown to people: `[redacted github_token]`, or
    /// `[redacted payment_card ****1881]` for cards.
    pub fn redacted_preview(&self) -> String {
        match self.card_last4 {
            Some(d) => {
                let last4: String = d.iter().map(|b| char::from(*b)).collect();
                format!("[redacted {} ****{last4}]", self.kind)
            }
            None => format!("[redacted {}]", self.kind),
        }
    }
}

impl fmt::Debug for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finding")
            .field("kind", &self.kind)
            .field("confidence", &self.confidence)
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}
