//! A [`TokenSource`] from a Google service-account key: the OAuth 2.0 JWT-bearer grant
//! (RFC 7523) with an RS256-signed assertion, cached until shortly before it expires.
//!
//! The key file is the JSON the Google Cloud console issues (`client_email`, `private_key` as
//! a PKCS#8 PEM, `private_key_id`, `token_uri`). Signing uses `ring`, the workspace's one
//! crypto stack; refreshes are single-flight (concurrent callers wait for one exchange).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcsec_core::{Clock, Timestamp};
use rcsec_http::{HttpClient, HttpRequest, Method};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use url::Url;

use crate::token::{BearerToken, TokenError, TokenSource};

/// The OAuth scope of the RBM API.
pub const RBM_SCOPE: &str = "https://www.googleapis.com/auth/rcsbusinessmessaging";

/// Lifetime requested for each assertion (Google's maximum).
const ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);

/// Tokens are refreshed this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Why a service-account key could not be loaded. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceAccountError {
    /// Not the JSON of a service-account key.
    #[error("service account key is not valid json")]
    Malformed,
    /// A required field is missing or empty.
    #[error("service account key lacks {0}")]
    MissingField(&'static str),
    /// `private_key` is not a PKCS#8 PEM RSA key ring accepts (2048 to 8192 bits).
    #[error("service account private key is not a usable rsa pkcs#8 key")]
    BadPrivateKey,
    /// `token_uri` is not an http(s) URL.
    #[error("service account token_uri is invalid")]
    BadTokenUri,
}

#[derive(serde::Deserialize)]
struct KeyFile {
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
}

/// A loaded service-account key. `Debug` shows the account's e-mail only.
pub struct ServiceAccountKey {
    client_email: String,
    key_id: Option<String>,
    token_uri: Url,
    key: RsaKeyPair,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    /// Parses the key file's JSON.
    ///
    /// # Errors
    /// [`ServiceAccountError`].
    pub fn from_json(json: &[u8]) -> Result<Self, ServiceAccountError> {
        let file: KeyFile =
            serde_json::from_slice(json).map_err(|_| ServiceAccountError::Malformed)?;
        let nonempty = |v: Option<String>, name| {
            v.filter(|s| !s.is_empty())
                .ok_or(ServiceAccountError::MissingField(name))
        };
        let client_email = nonempty(file.client_email, "client_email")?;
        let pem = zeroize::Zeroizing::new(nonempty(file.private_key, "private_key")?);
        let token_uri = nonempty(file.token_uri, "token_uri")?;
        let token_uri = Url::parse(&token_uri)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http"))
            .ok_or(ServiceAccountError::BadTokenUri)?;
        let body: String = pem
            .lines()
            .map(str::trim)
            .skip_while(|l| *l != "-----BEGIN PRIVATE KEY-----")
            .skip(1)
            .take_while(|l| *l != "-----END PRIVATE KEY-----")
            .collect();
        let der = zeroize::Zeroizing::new(
            STANDARD
                .decode(body.as_bytes())
                .map_err(|_| ServiceAccountError::BadPrivateKey)?,
        );
        let key = RsaKeyPair::from_pkcs8(&der).map_err(|_| ServiceAccountError::BadPrivateKey)?;
        Ok(Self {
            client_email,
            key_id: file.private_key_id.filter(|s| !s.is_empty()),
            token_uri,
            key,
        })
    }

    /// The signed assertion for `scope`, issued at `now`.
    fn assertion(&self, scope: &str, now: Timestamp) -> Result<String, TokenError> {
        let iat = now.as_secs();
        let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.key_id {
            header["kid"] = serde_json::json!(kid);
        }
        let claims = serde_json::json!({
            "iss": self.client_email,
            "scope": scope,
            "aud": self.token_uri.as_str(),
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME.as_secs(),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| TokenError::Backend("assertion signing failed".into()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

/// Exchanges signed assertions for access tokens and caches them.
pub struct ServiceAccountTokenSource {
    key: ServiceAccountKey,
    scope: String,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    cached: tokio::sync::Mutex<Option<(BearerToken, Timestamp)>>,
}

impl fmt::Debug for ServiceAccountTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountTokenSource")
            .field("key", &self.key)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountTokenSource {
    /// A source for the RBM scope ([`RBM_SCOPE`]).
    pub fn new(key: ServiceAccountKey, http: HttpClient, clock: Arc<dyn Clock>) -> Self {
        Self {
            key,
            scope: RBM_SCOPE.to_owned(),
            http,
            clock,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    async fn exchange(&self, now: Timestamp) -> Result<(BearerToken, Timestamp), TokenError> {
        let assertion = self.key.assertion(&self.scope, now)?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
            .append_pair("assertion", &assertion)
            .finish();
        let req = HttpRequest::new(Method::POST, self.key.token_uri.clone())
            .body("application/x-www-form-urlencoded", form.into_bytes())
            .map_err(|e| TokenError::Backend(Box::new(e)))?;
        let res = self
            .http
            .send(req)
            .await
            .map_err(|e| TokenError::Backend(Box::new(e)))?;
        if !res.status.is_success() {
            return Err(TokenError::Backend(
                "token endpoint refused the assertion".into(),
            ));
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            access_token: String,
            expires_in: Option<u64>,
        }
        let answer: Answer = serde_json::from_slice(&res.body)
            .map_err(|_| TokenError::Backend("token endpoint answer is malformed".into()))?;
        if answer.access_token.is_empty() {
            return Err(TokenError::Backend(
                "token endpoint gave an empty token".into(),
            ));
        }
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        Ok((
            BearerToken::new(answer.access_token),
            now.saturating_add(lifetime),
        ))
    }
}

#[async_trait]
impl TokenSource for ServiceAccountTokenSource {
    async fn token(&self) -> Result<BearerToken, TokenError> {
        let mut cached = self.cached.lock().await;
        let now = self.clock.now();
        if let Some((token, expires)) = cached.as_ref()
            && now.saturating_add(REFRESH_MARGIN) < *expires
        {
            return Ok(token.clone());
        }
        let fresh = self.exchange(now).await?;
        let token = fresh.0.clone();
        *cached = Some(fresh);
        Ok(token)
    }
}
