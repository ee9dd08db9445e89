//! The service-account token source against a local token endpoint that checks the assertion
//! like Google's does (RS256 signature, iss, aud, scope, lifetime). The RSA key is generated
//! per run with the `openssl` command; without it the test prints a skip message.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcsec_core::{ManualClock, Timestamp};
use rcsec_http::{HttpClient, HttpConfig};
use rcsec_provider_rbm::{
    RBM_SCOPE, ServiceAccountError, ServiceAccountKey, ServiceAccountTokenSource, TokenSource,
};
use ring::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use serde_json::{Value, json};

const EMAIL: &str = "rcsec@rbm-agent.iam.gserviceaccount.com";

fn rsa_pem() -> Option<String> {
    let out = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).ok())
        .flatten()
}

fn public_key(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).unwrap();
    RsaKeyPair::from_pkcs8(&der)
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec()
}

#[derive(Default)]
struct Endpoint {
    exchanges: usize,
    claims: Vec<Value>,
    refuse: bool,
}

async fn token_endpoint(public: Vec<u8>) -> (url::Url, Arc<Mutex<Endpoint>>) {
    let state: Arc<Mutex<Endpoint>> = Arc::default();
    let s = state.clone();
    let app = Router::new().route(
        "/token",
        post(move |body: String| {
            let form: std::collections::HashMap<String, String> =
                url::form_urlencoded::parse(body.as_bytes())
                    .into_owned()
                    .collect();
            let s = s.clone();
            let public = public.clone();
            async move {
                let mut e = s.lock().unwrap();
                if e.refuse
                    || form.get("grant_type").map(String::as_str)
                        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
                {
                    return (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"error": "invalid_grant"})),
                    );
                }
                let jwt = &form["assertion"];
                let (input, sig) = jwt.rsplit_once('.').unwrap();
                let ok = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
                    .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
                    .is_ok();
                if !ok {
                    return (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"error": "invalid_grant"})),
                    );
                }
                let (header, claims) = input.split_once('.').unwrap();
                let header: Value =
                    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
                assert_eq!(header["alg"], "RS256");
                assert_eq!(header["kid"], "key-1");
                let claims: Value =
                    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
                e.exchanges += 1;
                e.claims.push(claims);
                (
                    StatusCode::OK,
                    Json(json!({
                        "access_token": format!("ya29.token-{}", e.exchanges),
                        "expires_in": 3599,
                        "token_type": "Bearer",
                    })),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/token").parse().unwrap(), state)
}

fn key_json(pem: &str, token_uri: &str) -> Vec<u8> {
    json!({
        "type": "service_account",
        "project_id": "rbm-agent",
        "private_key_id": "key-1",
        "private_key": pem,
        "client_email": EMAIL,
        "token_uri": token_uri,
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn signs_the_jwt_bearer_grant_and_caches_until_near_expiry() {
    let Some(pem) = rsa_pem() else {
        eprintln!("skipping service-account test: no `openssl` command to generate an RSA key");
        return;
    };
    let (uri, endpoint) = token_endpoint(public_key(&pem)).await;
    let key = ServiceAccountKey::from_json(&key_json(&pem, uri.as_str())).unwrap();
    let clock = ManualClock::new(Timestamp::from_secs(1_800_000_000));
    let http = HttpClient::new(HttpConfig {
        timeout: Duration::from_secs(3),
        ..HttpConfig::default()
    })
    .unwrap();
    let source = ServiceAccountTokenSource::new(key, http, Arc::new(clock.clone()));
    assert_eq!(source.token().await.unwrap().expose(), "ya29.token-1");
    clock.advance(Duration::from_secs(3000));
    assert_eq!(
        source.token().await.unwrap().expose(),
        "ya29.token-1",
        "cached"
    );
    clock.advance(Duration::from_secs(540));
    assert_eq!(
        source.token().await.unwrap().expose(),
        "ya29.token-2",
        "refreshed within a minute of expiry"
    );
    {
        let e = endpoint.lock().unwrap();
        assert_eq!(e.exchanges, 2);
        let c = &e.claims[0];
        assert_eq!(c["iss"], EMAIL);
        assert_eq!(c["scope"], RBM_SCOPE);
        assert_eq!(c["aud"], uri.as_str());
        assert_eq!(c["iat"], 1_800_000_000u64);
        assert_eq!(c["exp"], 1_800_003_600u64);
    }
    let rendered = format!("{source:?}");
    assert!(
        !rendered.contains("PRIVATE") && !rendered.contains("ya29"),
        "{rendered}"
    );

    endpoint.lock().unwrap().refuse = true;
    clock.advance(Duration::from_secs(7200));
    let err = source.token().await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("ya29"));
}

#[test]
fn key_files_are_validated_without_echoing_them() {
    let cases: [(&[u8], ServiceAccountError); 4] = [
        (b"{", ServiceAccountError::Malformed),
        (
            br#"{"private_key":"x","token_uri":"https://oauth2.googleapis.com/token"}"#,
            ServiceAccountError::MissingField("client_email"),
        ),
        (
            br#"{"client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nQ0FOQVJZ\n-----END PRIVATE KEY-----\n","token_uri":"https://oauth2.googleapis.com/token"}"#,
            ServiceAccountError::BadPrivateKey,
        ),
        (
            br#"{"client_email":"a@b","private_key":"x","token_uri":"file:///etc/passwd"}"#,
            ServiceAccountError::BadTokenUri,
        ),
    ];
    for (json, expected) in cases {
        let err = ServiceAccountKey::from_json(json).unwrap_err();
        assert_eq!(err, expected);
        assert!(!format!("{err} {err:?}").contains("Q0FOQVJZ"));
    }
}
