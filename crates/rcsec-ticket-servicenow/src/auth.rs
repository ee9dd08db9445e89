//! Credentials for the ticket system.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcsec_core::Secret;

/// How to authenticate. `Debug` names the scheme only.
#[derive(Clone)]
#[non_exhaustive]
pub enum Auth {
    /// HTTP basic (a ServiceNow integration user).
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: Secret<String>,
    },
    /// An OAuth access token.
    Bearer(Secret<String>),
    /// No `Authorization` header (a webhook on a trusted network).
    None,
}

impl Auth {
    /// The `Authorization` header value, if any.
    pub(crate) fn header(&self) -> Option<String> {
        match self {
            Self::Basic { user, password } => Some(format!(
                "Basic {}",
                STANDARD.encode(format!("{user}:{}", password.expose_secret()))
            )),
            Self::Bearer(token) => Some(format!("Bearer {}", token.expose_secret())),
            Self::None => None,
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Basic { .. } => "Auth::Basic",
            Self::Bearer(_) => "Auth::Bearer",
            Self::None => "Auth::None",
        })
    }
}
