//! The outbound HTTP client shared by rcsec's provider and ticket adapters.
//!
//! One client for every adapter (RBM, Kannel, push gateway, ServiceNow, webhooks) so there is
//! one TLS stack to audit: hyper's HTTP/1.1 client over rustls with the `ring` provider and the
//! operating system's trust store (no OpenSSL, per `deny.toml`). Plain `http://` is accepted
//! because Kannel's `sendsms` and local test fakes speak it; adapters decide whether to allow it.
//!
//! What it adds to hyper is what every adapter needs and would otherwise get subtly wrong:
//! - one deadline over connect, request and reading the whole response;
//! - a cap on the response body, so a hostile or broken server cannot exhaust memory;
//! - errors that never carry the URL, headers or body: request URLs hold phone numbers
//!   (RBM's `/v1/phones/{E.164}/…`, Kannel's `to=`) and credentials (Kannel's `password=`).

#![forbid(unsafe_code)]

use std::fmt;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
pub use hyper::{HeaderMap, Method, StatusCode, header};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use url::Url;

/// Why an HTTP exchange failed. Deliberately without the URL, headers or body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The deadline passed before the whole response was read.
    #[error("http request timed out")]
    Timeout,
    /// No connection (refused, DNS, TLS handshake).
    #[error("http connection failed")]
    Connect,
    /// The connection broke during the exchange.
    #[error("http exchange failed")]
    Io,
    /// The response body exceeded the configured limit.
    #[error("http response body too large")]
    ResponseTooLarge,
    /// The request could not be built (URL scheme, header value).
    #[error("invalid http request: {0}")]
    InvalidRequest(&'static str),
    /// The OS trust store could not be loaded.
    #[error("tls trust store unavailable")]
    TrustStore,
}

impl HttpError {
    /// Whether retrying later may succeed (timeouts, connection and I/O failures).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Timeout | Self::Connect | Self::Io)
    }
}

/// Limits for one [`HttpClient`].
#[derive(Debug, Clone, Copy)]
pub struct HttpConfig {
    /// Deadline for one whole exchange.
    pub timeout: Duration,
    /// Largest response body read, in bytes.
    pub max_response_bytes: usize,
}

impl Default for HttpConfig {
    /// 10 s and 1 MiB: provider APIs answer in well under a second with a few KiB.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_response_bytes: 1024 * 1024,
        }
    }
}

/// One request. `Debug` prints the method and the URL's scheme and host only.
pub struct HttpRequest {
    method: Method,
    url: Url,
    headers: Vec<(header::HeaderName, header::HeaderValue)>,
    body: Vec<u8>,
}

impl HttpRequest {
    /// A request with no headers and an empty body.
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    ///
    /// # Errors
    /// [`HttpError::InvalidRequest`] when the value has bytes a header cannot carry.
    pub fn header(mut self, name: header::HeaderName, value: &str) -> Result<Self, HttpError> {
        let mut value = header::HeaderValue::from_str(value)
            .map_err(|_| HttpError::InvalidRequest("header value"))?;
        if name == header::AUTHORIZATION {
            value.set_sensitive(true);
        }
        self.headers.push((name, value));
        Ok(self)
    }

    /// Sets a JSON body and its content type.
    ///
    /// # Errors
    /// Never in practice (the content type is a constant).
    pub fn json(self, body: Vec<u8>) -> Result<Self, HttpError> {
        let mut this = self.header(header::CONTENT_TYPE, "application/json")?;
        this.body = body;
        Ok(this)
    }

    /// Sets a raw body and its content type.
    ///
    /// # Errors
    /// [`HttpError::InvalidRequest`] for an invalid content type.
    pub fn body(self, content_type: &str, body: Vec<u8>) -> Result<Self, HttpError> {
        let mut this = self.header(header::CONTENT_TYPE, content_type)?;
        this.body = body;
        Ok(this)
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("scheme", &self.url.scheme())
            .field("host", &self.url.host_str())
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// A complete response.
#[derive(Clone)]
pub struct HttpResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body (at most the configured limit).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// `Retry-After` in seconds, if present and numeric (the HTTP-date form is ignored).
    pub fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get(header::RETRY_AFTER)?
            .to_str()
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// A pooled HTTP/1.1 client over rustls. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    config: HttpConfig,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client trusting the operating system's root certificates.
    ///
    /// # Errors
    /// [`HttpError::TrustStore`] when no root certificate could be loaded.
    pub fn new(config: HttpConfig) -> Result<Self, HttpError> {
        let connector = HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|_| HttpError::TrustStore)?
            .https_or_http()
            .enable_http1()
            .build();
        let inner = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self { inner, config })
    }

    /// Sends `request` and reads the whole response, within the deadline and size limit.
    ///
    /// # Errors
    /// [`HttpError`]; a non-2xx status is not an error (adapters map statuses themselves).
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        if !matches!(request.url.scheme(), "http" | "https") {
            return Err(HttpError::InvalidRequest("url scheme"));
        }
        let uri: hyper::Uri = request
            .url
            .as_str()
            .parse()
            .map_err(|_| HttpError::InvalidRequest("url"))?;
        let mut builder = hyper::Request::builder().method(request.method).uri(uri);
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        let req = builder
            .body(Full::new(Bytes::from(request.body)))
            .map_err(|_| HttpError::InvalidRequest("request"))?;
        let limit = self.config.max_response_bytes;
        let exchange = async {
            let response = self.inner.request(req).await.map_err(|e| {
                if e.is_connect() {
                    HttpError::Connect
                } else {
                    HttpError::Io
                }
            })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, limit)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        HttpError::ResponseTooLarge
                    } else {
                        HttpError::Io
                    }
                })?
                .to_bytes()
                .to_vec();
            Ok(HttpResponse {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(self.config.timeout, exchange)
            .await
            .map_err(|_| HttpError::Timeout)?
    }
}

#[cfg(test)]
mod tests;
