//! Shared fixtures.

use std::time::Duration;

use rcsec_core::{Msisdn, Timestamp};
use rcsec_link::{Keyring, KeyringPolicy, OsRandom};

pub(crate) const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

pub(crate) fn at(secs: u64) -> Timestamp {
    Timestamp::from_secs(T0.as_secs() + secs)
}

pub(crate) fn policy() -> KeyringPolicy {
    KeyringPolicy {
        max_ttl: Duration::from_secs(3600),
        nbf_leeway: Duration::from_secs(30),
    }
}

pub(crate) fn ring() -> Keyring {
    Keyring::generate(policy(), T0, &OsRandom).unwrap()
}

pub(crate) fn alice() -> Msisdn {
    Msisdn::parse("+15550109999").unwrap()
}

pub(crate) fn bob() -> Msisdn {
    Msisdn::parse("+447700900123").unwrap()
}
