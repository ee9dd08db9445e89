#![allow(clippy::unwrap_used, reason = "tests")]

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};

use super::*;

async fn serve(app: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/").parse().unwrap()
}

fn client(timeout_ms: u64, max: usize) -> HttpClient {
    HttpClient::new(HttpConfig {
        timeout: Duration::from_millis(timeout_ms),
        max_response_bytes: max,
    })
    .unwrap()
}

#[tokio::test]
async fn sends_headers_and_body_and_reads_the_response() {
    let app = Router::new().route(
        "/echo",
        post(|headers: HeaderMap, body: String| async move {
            let auth = headers
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (
                StatusCode::CREATED,
                [(header::RETRY_AFTER, "7")],
                format!("{auth}|{body}"),
            )
        }),
    );
    let base = serve(app).await;
    let req = HttpRequest::new(Method::POST, base.join("echo").unwrap())
        .header(header::AUTHORIZATION, "Bearer t0k")
        .unwrap()
        .json(b"{\"a\":1}".to_vec())
        .unwrap();
    let rendered = format!("{req:?}");
    assert!(
        !rendered.contains("t0k") && !rendered.contains("echo"),
        "{rendered}"
    );
    let res = client(2_000, 1024).send(req).await.unwrap();
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.body, b"Bearer t0k|{\"a\":1}");
    assert_eq!(res.retry_after(), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn enforces_size_limit_deadline_and_reports_connect_failures() {
    let app = Router::new()
        .route("/big", get(|| async { "x".repeat(10_000) }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    let base = serve(app).await;
    let c = client(300, 1_000);
    let big = c
        .send(HttpRequest::new(Method::GET, base.join("big").unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(big, HttpError::ResponseTooLarge), "{big:?}");
    let slow = c
        .send(HttpRequest::new(Method::GET, base.join("slow").unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(slow, HttpError::Timeout) && slow.is_transient());

    // A port nobody listens on: bind, note it, close.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url: Url = format!("http://{closed}/v1/phones/+447700900123/capabilities")
        .parse()
        .unwrap();
    let err = c
        .send(HttpRequest::new(Method::GET, url))
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Connect), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("7700900"));
    let ftp = c
        .send(HttpRequest::new(
            Method::GET,
            "ftp://127.0.0.1/".parse().unwrap(),
        ))
        .await
        .unwrap_err();
    assert!(matches!(ftp, HttpError::InvalidRequest("url scheme")));
    assert!(
        HttpRequest::new(Method::GET, base)
            .header(header::AUTHORIZATION, "a\nb")
            .is_err()
    );
}
