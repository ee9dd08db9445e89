//! [`RedisCapabilityCache`]: capability snapshots shared by replicas, expired by Redis.
//!
//! `rcsec-capability` has no cache trait (its `CapabilityCache` is a concrete in-process
//! cache), so this is a small API of its own: [`get`](RedisCapabilityCache::get),
//! [`put`](RedisCapabilityCache::put) with a TTL, and
//! [`invalidate`](RedisCapabilityCache::invalidate). Entries are `SET … PX ttl` values, so
//! Redis itself drops them at expiry; nothing needs sweeping.
//!
//! Keys are `<prefix>cap:<HMAC-SHA256(key, E.164)>` (see [`NumberKeyer`]): the number never
//! reaches Redis. Values are a versioned JSON snapshot of the [`Capability`] (reach, E2EE,
//! source, observation time, features, carrier, client hints); pin state is not cached here,
//! it lives in the pin store.

use std::time::Duration;

use rcsec_capability::{
    Capability, Carrier, ClientHints, ClientVersion, E2ee, Features, Reach, Region, Source,
};
use rcsec_core::{Msisdn, Timestamp};
use serde::{Deserialize, Serialize};

use crate::conn::RedisConnection;
use crate::error::RedisError;
use rcsec_capability::NumberKeyer;

/// The shared capability cache.
#[derive(Debug)]
pub struct RedisCapabilityCache {
    conn: RedisConnection,
    keyer: NumberKeyer,
}

const FEATURES: [(Features, &str); 6] = [
    (Features::FILE_TRANSFER, "file_transfer"),
    (Features::RICH_CARDS, "rich_cards"),
    (Features::SUGGESTIONS, "suggestions"),
    (Features::READ_RECEIPTS, "read_receipts"),
    (Features::TYPING, "typing"),
    (Features::GROUP_CHAT, "group_chat"),
];

/// The stored form of a [`Capability`], version 1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot {
    v: u8,
    reach: String,
    e2ee: String,
    source: String,
    observed_at: u64,
    features: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    carrier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os: Option<String>,
}

fn find<T: Copy>(all: &[T], name: &str, as_str: impl Fn(T) -> &'static str) -> Option<T> {
    all.iter().copied().find(|v| as_str(*v) == name)
}

impl Snapshot {
    fn of(c: &Capability) -> Self {
        let client = c.client();
        Self {
            v: 1,
            reach: c.reach().as_str().to_owned(),
            e2ee: c.e2ee().as_str().to_owned(),
            source: c.source().as_str().to_owned(),
            observed_at: c.observed_at().as_millis(),
            features: FEATURES
                .iter()
                .filter(|(f, _)| c.features().contains(*f))
                .map(|(_, n)| (*n).to_owned())
                .collect(),
            carrier: c.carrier().map(|k| k.name().to_owned()),
            region: c
                .carrier()
                .and_then(Carrier::region)
                .map(|r| r.as_str().to_owned()),
            client: client.and_then(|h| h.client_name().map(str::to_owned)),
            client_version: client.and_then(|h| h.version().map(|v| v.to_string())),
            os: client.and_then(|h| h.os().map(str::to_owned)),
        }
    }

    fn restore(self) -> Result<Capability, RedisError> {
        let bad = || RedisError::Corrupt {
            what: "capability snapshot",
        };
        if self.v != 1 {
            return Err(bad());
        }
        let reach = find(
            &[Reach::Rcs, Reach::SmsOnly, Reach::Unreachable],
            &self.reach,
            Reach::as_str,
        )
        .ok_or_else(bad)?;
        let e2ee = find(
            &[
                E2ee::Verified,
                E2ee::Unverified,
                E2ee::Unavailable,
                E2ee::Unknown,
            ],
            &self.e2ee,
            E2ee::as_str,
        )
        .ok_or_else(bad)?;
        let source = find(
            &[
                Source::Provider,
                Source::ClientReport,
                Source::DeliveryEvent,
            ],
            &self.source,
            Source::as_str,
        )
        .ok_or_else(bad)?;
        let mut features = Features::empty();
        for name in &self.features {
            let (f, _) = FEATURES.iter().find(|(_, n)| n == name).ok_or_else(bad)?;
            features = features.union(*f);
        }
        let mut cap = Capability::new(
            reach,
            e2ee,
            source,
            Timestamp::from_millis(self.observed_at),
        )
        .with_features(features);
        if let Some(name) = &self.carrier {
            let mut carrier = Carrier::new(name);
            if let Some(region) = &self.region {
                carrier = carrier.with_region(Region::parse(region).map_err(|_| bad())?);
            }
            cap = cap.with_carrier(carrier);
        }
        if self.client.is_some() || self.client_version.is_some() || self.os.is_some() {
            let mut hints = match &self.client {
                Some(name) => ClientHints::client(name),
                None => ClientHints::default(),
            };
            if let Some(v) = &self.client_version {
                hints = hints.with_version(ClientVersion::parse(v).map_err(|_| bad())?);
            }
            if let Some(os) = &self.os {
                hints = hints.with_os(os);
            }
            cap = cap.with_client(hints);
        }
        Ok(cap)
    }
}

impl RedisCapabilityCache {
    /// A cache on `conn`, keying numbers with `keyer`.
    pub fn new(conn: RedisConnection, keyer: NumberKeyer) -> Self {
        Self { conn, keyer }
    }

    fn key(&self, number: &Msisdn) -> String {
        self.conn
            .key(&format!("cap:{}", self.keyer.key_hex(number)))
    }

    /// The cached capability of `number`, if a live entry exists.
    ///
    /// # Errors
    /// [`RedisError`] when Redis fails or the entry does not decode.
    pub async fn get(&self, number: &Msisdn) -> Result<Option<Capability>, RedisError> {
        let key = self.key(number);
        let raw: Option<Vec<u8>> = self
            .conn
            .run("capability get", |mut c| async move {
                redis::cmd("GET").arg(key).query_async(&mut c).await
            })
            .await?;
        let Some(raw) = raw else {
            return Ok(None);
        };
        let snapshot: Snapshot = serde_json::from_slice(&raw).map_err(|_| RedisError::Corrupt {
            what: "capability snapshot",
        })?;
        snapshot.restore().map(Some)
    }

    /// Caches `capability` for `number`, replacing any entry, for `ttl` (whole milliseconds;
    /// a TTL under 1 ms deletes the entry instead, so nothing lives longer than asked).
    ///
    /// # Errors
    /// [`RedisError`] when Redis fails.
    pub async fn put(
        &self,
        number: &Msisdn,
        capability: &Capability,
        ttl: Duration,
    ) -> Result<(), RedisError> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if ttl_ms == 0 {
            self.invalidate(number).await?;
            return Ok(());
        }
        let key = self.key(number);
        let value =
            serde_json::to_vec(&Snapshot::of(capability)).map_err(|_| RedisError::Corrupt {
                what: "capability snapshot",
            })?;
        self.conn
            .run("capability put", |mut c| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async::<()>(&mut c)
                    .await
            })
            .await
    }

    /// Drops the entry for `number`; `true` if there was one.
    ///
    /// # Errors
    /// [`RedisError`] when Redis fails.
    pub async fn invalidate(&self, number: &Msisdn) -> Result<bool, RedisError> {
        let key = self.key(number);
        let n: i64 = self
            .conn
            .run("capability invalidate", |mut c| async move {
                redis::cmd("DEL").arg(key).query_async(&mut c).await
            })
            .await?;
        Ok(n > 0)
    }
}
