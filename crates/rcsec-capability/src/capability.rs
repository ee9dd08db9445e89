//! What is known about one recipient: reach, end-to-end encryption, hints, and where it came from.

use std::fmt;
use std::sync::Arc;

use rcsec_core::Timestamp;

use crate::hints::{Carrier, ClientHints};

/// How a number can be reached at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// The number has an RCS client registered (and may also receive SMS).
    Rcs,
    /// Not an RCS user; SMS should work.
    SmsOnly,
    /// Neither RCS nor SMS is expected to reach the number.
    Unreachable,
}

impl Reach {
    /// A stable lowercase name for logs and audit events: `rcs`, `sms_only`, `unreachable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rcs => "rcs",
            Self::SmsOnly => "sms_only",
            Self::Unreachable => "unreachable",
        }
    }
}

/// Whether the RCS path to the number is end-to-end encrypted.
///
/// Only [`E2ee::Verified`] lets content travel as if the path were private; everything else is
/// treated as readable by the carrier or the messaging provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum E2ee {
    /// The provider (or the recipient's enrolled client) affirms end-to-end encryption.
    Verified,
    /// RCS works, but nothing affirms end-to-end encryption (e.g. RCS Business Messaging).
    Unverified,
    /// End-to-end encryption is known to be off: no RCS, or disabled by carrier or client.
    Unavailable,
    /// The source said nothing either way.
    Unknown,
}

impl E2ee {
    /// A stable lowercase name: `verified`, `unverified`, `unavailable`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Unverified => "unverified",
            Self::Unavailable => "unavailable",
            Self::Unknown => "unknown",
        }
    }
}

/// Where an observation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// A capability query to a messaging provider.
    Provider,
    /// The recipient's own enrolled client reported its state.
    ClientReport,
    /// Inferred from a delivery receipt or failure.
    DeliveryEvent,
}

impl Source {
    /// A stable lowercase name: `provider`, `client_report`, `delivery_event`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::ClientReport => "client_report",
            Self::DeliveryEvent => "delivery_event",
        }
    }

    /// Tie-break between observations made at the same instant: the recipient's own client
    /// knows best, then what actually happened to a message, then provider metadata.
    pub(crate) fn rank(self) -> u8 {
        match self {
            Self::ClientReport => 2,
            Self::DeliveryEvent => 1,
            Self::Provider => 0,
        }
    }
}

/// RCS features a provider reported, as a small bit set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Features(u16);

impl Features {
    /// File transfer.
    pub const FILE_TRANSFER: Self = Self(1);
    /// Rich cards and carousels.
    pub const RICH_CARDS: Self = Self(1 << 1);
    /// Suggested replies and actions (buttons).
    pub const SUGGESTIONS: Self = Self(1 << 2);
    /// Read receipts.
    pub const READ_RECEIPTS: Self = Self(1 << 3);
    /// Typing indicators.
    pub const TYPING: Self = Self(1 << 4);
    /// Group chat.
    pub const GROUP_CHAT: Self = Self(1 << 5);

    const NAMES: [(Self, &'static str); 6] = [
        (Self::FILE_TRANSFER, "file_transfer"),
        (Self::RICH_CARDS, "rich_cards"),
        (Self::SUGGESTIONS, "suggestions"),
        (Self::READ_RECEIPTS, "read_receipts"),
        (Self::TYPING, "typing"),
        (Self::GROUP_CHAT, "group_chat"),
    ];

    /// No features.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Both sets together.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every feature in `other` is present.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = Self::NAMES
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, name)| name);
        f.debug_set().entries(names).finish()
    }
}

/// One observation of how a recipient can be reached and whether that path is end-to-end
/// encrypted.
///
/// Small and cheap to clone (hints are shared behind `Arc`), because a cache hit hands out a
/// copy. It holds no phone number, so deriving `Debug` discloses nothing.
///
/// Invariant: only [`Reach::Rcs`] can carry an E2EE state other than [`E2ee::Unavailable`];
/// [`Capability::new`] enforces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    observed_at: Timestamp,
    carrier: Option<Arc<Carrier>>,
    client: Option<Arc<ClientHints>>,
    features: Features,
    reach: Reach,
    e2ee: E2ee,
    source: Source,
}

impl Capability {
    /// An observation. Without RCS there is no end-to-end encrypted RCS path, so for
    /// [`Reach::SmsOnly`] and [`Reach::Unreachable`] the E2EE state is forced to
    /// [`E2ee::Unavailable`] whatever was passed.
    pub fn new(reach: Reach, e2ee: E2ee, source: Source, observed_at: Timestamp) -> Self {
        let e2ee = if reach == Reach::Rcs {
            e2ee
        } else {
            E2ee::Unavailable
        };
        Self {
            observed_at,
            carrier: None,
            client: None,
            features: Features::empty(),
            reach,
            e2ee,
            source,
        }
    }

    /// Adds the reported RCS features.
    #[must_use]
    pub fn with_features(mut self, features: Features) -> Self {
        self.features = features;
        self
    }

    /// Adds the carrier.
    #[must_use]
    pub fn with_carrier(mut self, carrier: Carrier) -> Self {
        self.carrier = Some(Arc::new(carrier));
        self
    }

    /// Adds client and OS hints.
    #[must_use]
    pub fn with_client(mut self, client: ClientHints) -> Self {
        self.client = Some(Arc::new(client));
        self
    }

    /// How the number can be reached.
    pub fn reach(&self) -> Reach {
        self.reach
    }

    /// Whether the RCS path is end-to-end encrypted.
    pub fn e2ee(&self) -> E2ee {
        self.e2ee
    }

    /// `true` only for RCS with verified end-to-end encryption.
    pub fn is_verified_e2ee(&self) -> bool {
        self.reach == Reach::Rcs && self.e2ee == E2ee::Verified
    }

    /// Where this observation came from.
    pub fn source(&self) -> Source {
        self.source
    }

    /// When it was observed.
    pub fn observed_at(&self) -> Timestamp {
        self.observed_at
    }

    /// Reported RCS features.
    pub fn features(&self) -> Features {
        self.features
    }

    /// The carrier, if reported.
    pub fn carrier(&self) -> Option<&Carrier> {
        self.carrier.as_deref()
    }

    /// Client and OS hints, if reported.
    pub fn client(&self) -> Option<&ClientHints> {
        self.client.as_deref()
    }

    /// Whether this is a "negative" answer (no RCS), cached for the shorter negative TTL so a
    /// recipient who turns RCS on is noticed quickly.
    pub fn is_negative(&self) -> bool {
        self.reach != Reach::Rcs
    }

    /// Re-labels the source (client reports and delivery events are recorded as such).
    pub(crate) fn with_source(mut self, source: Source) -> Self {
        self.source = source;
        self
    }

    /// Re-times the observation.
    pub(crate) fn with_observed_at(mut self, observed_at: Timestamp) -> Self {
        self.observed_at = observed_at;
        self
    }

    /// Lowers reach and/or E2EE; never raises either (used by the carrier matrix).
    pub(crate) fn weakened(mut self, no_rcs: bool, e2ee_cap: Option<E2ee>) -> Self {
        if no_rcs && self.reach == Reach::Rcs {
            self.reach = Reach::SmsOnly;
        }
        if self.reach != Reach::Rcs {
            self.e2ee = E2ee::Unavailable;
        }
        match e2ee_cap {
            Some(E2ee::Unavailable) => self.e2ee = E2ee::Unavailable,
            Some(E2ee::Unverified) if self.e2ee == E2ee::Verified => self.e2ee = E2ee::Unverified,
            _ => {}
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rcs_means_no_e2ee() {
        let t = Timestamp::from_secs(1);
        for reach in [Reach::SmsOnly, Reach::Unreachable] {
            let cap = Capability::new(reach, E2ee::Verified, Source::Provider, t);
            assert_eq!(cap.e2ee(), E2ee::Unavailable);
            assert!(!cap.is_verified_e2ee());
            assert!(cap.is_negative());
        }
        let cap = Capability::new(Reach::Rcs, E2ee::Verified, Source::Provider, t);
        assert!(cap.is_verified_e2ee());
        assert!(!cap.is_negative());
    }

    #[test]
    fn weakening_never_strengthens() {
        let t = Timestamp::from_secs(1);
        let verified = Capability::new(Reach::Rcs, E2ee::Verified, Source::Provider, t);
        assert_eq!(
            verified
                .clone()
                .weakened(false, Some(E2ee::Unverified))
                .e2ee(),
            E2ee::Unverified
        );
        assert_eq!(
            verified
                .clone()
                .weakened(false, Some(E2ee::Unavailable))
                .e2ee(),
            E2ee::Unavailable
        );
        let sms = verified.weakened(true, None);
        assert_eq!(
            (sms.reach(), sms.e2ee()),
            (Reach::SmsOnly, E2ee::Unavailable)
        );
        let unknown = Capability::new(Reach::Rcs, E2ee::Unknown, Source::Provider, t);
        assert_eq!(
            unknown.weakened(false, Some(E2ee::Unverified)).e2ee(),
            E2ee::Unknown
        );
    }

    #[test]
    fn features_form_a_set() {
        let f = Features::FILE_TRANSFER.union(Features::TYPING);
        assert!(f.contains(Features::TYPING));
        assert!(!f.contains(Features::GROUP_CHAT));
        assert!(Features::empty().is_empty());
        assert_eq!(format!("{f:?}"), r#"{"file_transfer", "typing"}"#);
    }
}
