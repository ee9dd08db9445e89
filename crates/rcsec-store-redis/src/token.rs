//! [`RedisTokenStore`]: link records whose consumption is one atomic Lua script.
//!
//! # Layout (all keys under the connection's prefix)
//! - `link:<hex id>`: a hash with the record's fields (numbers as decimal text, bytes as hex;
//!   the recipient is already a pseudonym).
//! - `alert:<alert id>`: the set of link ids of one alert (for `revoke_alert`).
//! - `sweep`: a sorted set of link ids scored by [`LinkRecord::sweepable_at`] (ms).
//!
//! # Atomicity
//! `insert`, `consume`, `extend`, `revoke`, `revoke_alert` and `sweep_expired` are each one
//! Lua script: Redis runs a script to completion before any other command, so check and
//! update cannot interleave with another client (no GET-then-SET window). Scripts build the
//! `link:` keys of an alert from its id set, which is fine on one Redis (or a primary with
//! replicas) but not on Redis Cluster.
//!
//! Link expiry is judged against the caller's `now`, not Redis' clock, so records carry no
//! native TTL: `sweep_expired` removes them (sweep on a timer).
//!
//! The extension code digest is compared inside the script with plain string equality; the
//! digest is keyed, so timing reveals nothing useful (see `TokenStore`'s documentation).

use std::collections::HashMap;

use async_trait::async_trait;
use rcsec_core::{AlertId, DeviceId, Timestamp};
use rcsec_link::{
    BlobId, CodeDigest, ConsumeOutcome, ExtendOutcome, ExtensionGrant, LinkId, LinkRecord,
    RecipientPseudonym, StoreError, TokenStore,
};
use redis::Script;

use crate::conn::RedisConnection;
use crate::error::RedisError;

const INSERT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
";

const CONSUME: &str = r"
local f = redis.call('HMGET', KEYS[1], 'rv', 'e', 'u', 'mu')
if not f[1] then return {'not_found'} end
if f[1] == '1' then return {'revoked'} end
if tonumber(ARGV[1]) >= tonumber(f[2]) then return {'expired'} end
if tonumber(f[3]) >= tonumber(f[4]) then return {'already_consumed'} end
redis.call('HINCRBY', KEYS[1], 'u', 1)
local r = redis.call('HGETALL', KEYS[1])
table.insert(r, 1, 'consumed')
return r
";

const EXTEND: &str = r"
local f = redis.call('HMGET', KEYS[1], 'rv', 'xd', 'xa', 'xc', 'xu', 'e', 'u')
if not f[1] then return {'not_found'} end
if f[1] == '1' then return {'revoked'} end
if not f[2] then return {'not_offered'} end
if f[5] == '1' then return {'already_extended'} end
local attempts = tonumber(f[3])
if attempts == 0 then return {'locked'} end
if tonumber(ARGV[3]) > tonumber(f[4]) then return {'expired'} end
if f[2] ~= ARGV[1] then
  attempts = attempts - 1
  redis.call('HSET', KEYS[1], 'xa', tostring(attempts))
  if attempts == 0 then redis.call('ZADD', KEYS[2], f[6], ARGV[4]) end
  return {'wrong_code', tostring(attempts)}
end
redis.call('HSET', KEYS[1], 'xu', '1', 'e', ARGV[2], 'mu', tostring(tonumber(f[7]) + 1))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
local r = redis.call('HGETALL', KEYS[1])
table.insert(r, 1, 'extended')
return r
";

const REVOKE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'rv', '1')
return 1
";

const REVOKE_ALERT: &str = r"
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = ARGV[1] .. 'link:' .. id
  local rv = redis.call('HGET', k, 'rv')
  if rv == '0' then
    redis.call('HSET', k, 'rv', '1')
    n = n + 1
  end
end
return n
";

const SWEEP: &str = r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, id in ipairs(ids) do
  local k = ARGV[2] .. 'link:' .. id
  local alert = redis.call('HGET', k, 'a')
  redis.call('DEL', k)
  if alert then redis.call('SREM', ARGV[2] .. 'alert:' .. alert, id) end
  redis.call('ZREM', KEYS[1], id)
end
return #ids
";

/// Link records in Redis. Clones share the connection.
#[derive(Debug, Clone)]
pub struct RedisTokenStore {
    conn: RedisConnection,
    scripts: std::sync::Arc<Scripts>,
}

#[derive(Debug)]
struct Scripts {
    insert: Script,
    consume: Script,
    extend: Script,
    revoke: Script,
    revoke_alert: Script,
    sweep: Script,
}

fn ms(t: Timestamp) -> u64 {
    t.as_millis()
}

fn fields(r: &LinkRecord) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("a", r.alert_id.as_str().to_owned()),
        ("r", hex::encode(r.recipient.as_bytes())),
        ("b", hex::encode(r.blob_id.as_bytes())),
        ("mu", r.max_uses.to_string()),
        ("u", r.uses.to_string()),
        ("e", ms(r.expires_at).to_string()),
        ("rv", if r.revoked { "1" } else { "0" }.to_owned()),
    ];
    if let Some(ip) = &r.binding.ip_prefix {
        f.push(("ip", ip.to_string()));
    }
    if let Some(ua) = &r.binding.user_agent_hash {
        f.push(("ua", hex::encode(ua)));
    }
    if let Some(d) = &r.binding.device_id {
        f.push(("dev", d.as_str().to_owned()));
    }
    if let Some(g) = &r.extension {
        f.push(("xd", hex::encode(g.code_digest.as_bytes())));
        f.push(("xa", g.attempts_left.to_string()));
        f.push(("xc", ms(g.claim_until).to_string()));
        f.push(("xu", if g.used { "1" } else { "0" }.to_owned()));
    }
    f
}

const WHAT: &str = "link record";

fn corrupt() -> RedisError {
    RedisError::Corrupt { what: WHAT }
}

fn hex_array<const N: usize>(s: &str) -> Result<[u8; N], RedisError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|_| corrupt())?;
    Ok(out)
}

fn num<T: std::str::FromStr>(s: Option<&String>) -> Result<T, RedisError> {
    s.ok_or_else(corrupt)?.parse().map_err(|_| corrupt())
}

/// Rebuilds a record from `HGETALL` pairs.
fn record_from_pairs(link_id: &LinkId, flat: &[String]) -> Result<LinkRecord, RedisError> {
    if !flat.len().is_multiple_of(2) {
        return Err(corrupt());
    }
    let map: HashMap<&str, &String> = flat
        .chunks_exact(2)
        .map(|kv| (kv[0].as_str(), &kv[1]))
        .collect();
    let get = |k: &str| map.get(k).copied();
    let mut r = LinkRecord::new(
        *link_id,
        AlertId::new(get("a").ok_or_else(corrupt)?.as_str()).map_err(|_| corrupt())?,
        RecipientPseudonym::from_bytes(hex_array(get("r").ok_or_else(corrupt)?)?),
        BlobId::from_bytes(hex_array(get("b").ok_or_else(corrupt)?)?),
        Timestamp::from_millis(num(get("e"))?),
    );
    r.max_uses = num(get("mu"))?;
    r.uses = num(get("u"))?;
    r.revoked = get("rv").is_some_and(|v| v == "1");
    r.binding.ip_prefix = get("ip")
        .map(|s| s.parse().map_err(|_| corrupt()))
        .transpose()?;
    r.binding.user_agent_hash = get("ua").map(|s| hex_array(s)).transpose()?;
    r.binding.device_id = get("dev")
        .map(|s| DeviceId::new(s.as_str()).map_err(|_| corrupt()))
        .transpose()?;
    if let Some(digest) = get("xd") {
        let mut g = ExtensionGrant::new(
            CodeDigest::from_bytes(hex_array(digest)?),
            num(get("xa"))?,
            Timestamp::from_millis(num(get("xc"))?),
        );
        g.used = get("xu").is_some_and(|v| v == "1");
        r.extension = Some(g);
    }
    Ok(r)
}

impl RedisTokenStore {
    /// A store on `conn`.
    pub fn new(conn: RedisConnection) -> Self {
        Self {
            conn,
            scripts: std::sync::Arc::new(Scripts {
                insert: Script::new(INSERT),
                consume: Script::new(CONSUME),
                extend: Script::new(EXTEND),
                revoke: Script::new(REVOKE),
                revoke_alert: Script::new(REVOKE_ALERT),
                sweep: Script::new(SWEEP),
            }),
        }
    }

    fn link_key(&self, id: &LinkId) -> String {
        self.conn
            .key(&format!("link:{}", hex::encode(id.as_bytes())))
    }

    async fn consume_inner(
        &self,
        link_id: &LinkId,
        now: Timestamp,
    ) -> Result<ConsumeOutcome, RedisError> {
        let key = self.link_key(link_id);
        let reply: Vec<String> = self
            .conn
            .run("link consume", |mut c| async move {
                self.scripts
                    .consume
                    .key(key)
                    .arg(ms(now))
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        let (tag, rest) = reply.split_first().ok_or_else(corrupt)?;
        Ok(match tag.as_str() {
            "consumed" => {
                let record = record_from_pairs(link_id, rest)?;
                ConsumeOutcome::Consumed {
                    remaining: record.max_uses.saturating_sub(record.uses),
                    record: Box::new(record),
                }
            }
            "not_found" => ConsumeOutcome::NotFound,
            "revoked" => ConsumeOutcome::Revoked,
            "expired" => ConsumeOutcome::Expired,
            "already_consumed" => ConsumeOutcome::AlreadyConsumed,
            _ => return Err(corrupt()),
        })
    }

    async fn extend_inner(
        &self,
        link_id: &LinkId,
        code_digest: &CodeDigest,
        new_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<ExtendOutcome, RedisError> {
        let key = self.link_key(link_id);
        let sweep = self.conn.key("sweep");
        let id_hex = hex::encode(link_id.as_bytes());
        let digest = hex::encode(code_digest.as_bytes());
        let reply: Vec<String> = self
            .conn
            .run("link extend", |mut c| async move {
                self.scripts
                    .extend
                    .key(key)
                    .key(sweep)
                    .arg(digest)
                    .arg(ms(new_expires_at))
                    .arg(ms(now))
                    .arg(id_hex)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        let (tag, rest) = reply.split_first().ok_or_else(corrupt)?;
        Ok(match tag.as_str() {
            "extended" => ExtendOutcome::Extended {
                record: Box::new(record_from_pairs(link_id, rest)?),
            },
            "wrong_code" => ExtendOutcome::WrongCode {
                attempts_left: num(rest.first())?,
            },
            "locked" => ExtendOutcome::Locked,
            "already_extended" => ExtendOutcome::AlreadyExtended,
            "not_offered" => ExtendOutcome::NotOffered,
            "expired" => ExtendOutcome::Expired,
            "revoked" => ExtendOutcome::Revoked,
            "not_found" => ExtendOutcome::NotFound,
            _ => return Err(corrupt()),
        })
    }
}

fn usize_of(n: i64) -> Result<usize, RedisError> {
    usize::try_from(n).map_err(|_| RedisError::Corrupt { what: "count" })
}

#[async_trait]
impl TokenStore for RedisTokenStore {
    async fn insert(&self, record: LinkRecord) -> Result<(), StoreError> {
        let key = self.link_key(&record.link_id);
        let alert = self
            .conn
            .key(&format!("alert:{}", record.alert_id.as_str()));
        let sweep = self.conn.key("sweep");
        let id_hex = hex::encode(record.link_id.as_bytes());
        let fields = fields(&record);
        let added: i64 = self
            .conn
            .run("link insert", |mut c| async move {
                let mut call = self.scripts.insert.key(key);
                call.key(alert)
                    .key(sweep)
                    .arg(id_hex)
                    .arg(ms(record.sweepable_at()));
                for (name, value) in fields {
                    call.arg(name).arg(value);
                }
                call.invoke_async(&mut c).await
            })
            .await?;
        if added == 1 {
            Ok(())
        } else {
            Err(StoreError::Duplicate)
        }
    }

    async fn get(&self, link_id: &LinkId) -> Result<Option<LinkRecord>, StoreError> {
        let key = self.link_key(link_id);
        let flat: Vec<String> = self
            .conn
            .run("link get", |mut c| async move {
                redis::cmd("HGETALL").arg(key).query_async(&mut c).await
            })
            .await?;
        if flat.is_empty() {
            return Ok(None);
        }
        Ok(Some(record_from_pairs(link_id, &flat)?))
    }

    async fn consume(
        &self,
        link_id: &LinkId,
        now: Timestamp,
    ) -> Result<ConsumeOutcome, StoreError> {
        Ok(self.consume_inner(link_id, now).await?)
    }

    async fn revoke(&self, link_id: &LinkId) -> Result<bool, StoreError> {
        let key = self.link_key(link_id);
        let n: i64 = self
            .conn
            .run("link revoke", |mut c| async move {
                self.scripts.revoke.key(key).invoke_async(&mut c).await
            })
            .await?;
        Ok(n == 1)
    }

    async fn revoke_alert(&self, alert_id: &AlertId) -> Result<usize, StoreError> {
        let alert = self.conn.key(&format!("alert:{}", alert_id.as_str()));
        let prefix = self.conn.prefix().to_owned();
        let n: i64 = self
            .conn
            .run("link revoke_alert", |mut c| async move {
                self.scripts
                    .revoke_alert
                    .key(alert)
                    .arg(prefix)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(usize_of(n)?)
    }

    async fn extend(
        &self,
        link_id: &LinkId,
        code_digest: &CodeDigest,
        new_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<ExtendOutcome, StoreError> {
        Ok(self
            .extend_inner(link_id, code_digest, new_expires_at, now)
            .await?)
    }

    async fn sweep_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        let sweep = self.conn.key("sweep");
        let prefix = self.conn.prefix().to_owned();
        let n: i64 = self
            .conn
            .run("link sweep", |mut c| async move {
                self.scripts
                    .sweep
                    .key(sweep)
                    .arg(ms(now))
                    .arg(prefix)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(usize_of(n)?)
    }
}
