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
///
/// # Contract
/// - Called before every request, so it must be cheap when it has a valid token: cache it and
///   refresh shortly before expiry, not on every call.
/// - Concurrent calls are normal (one per in-flight send); an implementation must be safe
///   under them and should not stampede the token service.
/// - Never log or put the token into an error; [`BearerToken`] prints its length only.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use std::sync::Mutex;
/// use rcsec_provider_rbm::{BearerToken, TokenError, TokenSource};
///
/// /// A token a sidecar writes; re-read when the sidecar says it rotated.
/// #[derive(Debug)]
/// struct Sidecar { current: Mutex<String> }
///
/// #[async_trait::async_trait]
/// impl TokenSource for Sidecar {
///     async fn token(&self) -> Result<BearerToken, TokenError> {
///         let current = self.current.lock().map_err(|_| TokenError::Backend("poisoned".into()))?;
///         Ok(BearerToken::new(current.as_str()))
///     }
/// }
///
/// let source = Sidecar { current: Mutex::new("ya29.first".into()) };
/// assert_eq!(source.token().await?.expose(), "ya29.first");
/// *source.current.lock().map_err(|_| "poisoned")? = "ya29.second".into();
/// let token = source.token().await?;
/// assert_eq!(token.expose(), "ya29.second");
/// assert!(!format!("{token:?}").contains("ya29"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
