//! Where the OAuth bearer token for the RBM API comes from.
//!
//! RBM authenticates agents with a Google service account: a signed JWT is exchanged for a
//! short-lived access token (scope `https://www.googleapis.com/auth/rcsbusinessmessaging`).
//! That exchange is the application's concern (a metadata server, a sidecar, a vault); the
//! adapter only asks a [`TokenSource`] before each request, so tokens rotate without restarts.

use std::fmt;

use async_trait::async_trait;
use rcsec_core::Secret;

/// An OAuth access token. Zeroized on drop; `Debug` prints its length only.
#[derive(Clone)]
pub struct BearerToken(Secret<String>);

impl BearerToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(Secret::new(token.into()))
    }

    /// The token, to build the `Authorization` header.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken")
            .field("len", &self.expose().len())
            .finish_non_exhaustive()
    }
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token service failed; retried with the request.
    #[error("token source failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Supplies the bearer token for each RBM API call (a service-account token source).
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug + 'static {
    /// A currently valid token; implementations cache and refresh.
    ///
    /// # Errors
    /// [`TokenError`] when none can be obtained.
    async fn token(&self) -> Result<BearerToken, TokenError>;
}

#[cfg(test)]
fn _obj_safe(_: &dyn TokenSource) {}

/// A fixed token (obtained elsewhere, or for tests).
#[derive(Debug, Clone)]
pub struct StaticToken(BearerToken);

impl StaticToken {
    /// Always answers `token`.
    pub fn new(token: impl Into<String>) -> Self {
        Self(BearerToken::new(token))
    }
}

#[async_trait]
impl TokenSource for StaticToken {
    async fn token(&self) -> Result<BearerToken, TokenError> {
        Ok(self.0.clone())
    }
}
