//! `GET/POST /l/{token}`: preview consumes nothing, confirm consumes once, headers are strict.

use rcsec::link::PayloadKey;
use rcsec::link::sealed::{SealContext, open_to_vec};

use crate::support::{Daemon, get, post_alerts, request, split_link, webhook};

fn link_id_of(page: &str) -> String {
    let start = page.find("data-link-id=\"").unwrap() + "data-link-id=\"".len();
    page[start..start + 32].to_owned()
}

#[tokio::test]
async fn preview_is_free_confirm_is_once_and_ciphertext_opens_with_the_fragment_key() {
    let d = Daemon::start().await;
    let summary = "db-1 password is Canary-Pa55w0rd-Zq9";
    assert_eq!(
        post_alerts(&d, &webhook(&[("a1b2c3d4e5f60718", "firing")], summary))
            .await
            .status,
        200
    );
    d.wait_sent(2).await;
    let (path, fragment) = split_link(&d.sent_links().pop().unwrap());

    // Link previewers may fetch the page any number of times.
    for _ in 0..3 {
        let page = get(&d.url(&path)).await;
        assert_eq!(page.status, 200);
        assert!(page.text().contains("data-state=\"valid\""));
    }
    let page = get(&d.url(&path)).await;
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let html = page.text();
    assert!(!html.contains("<script>") && html.contains("<script src=\"app.js\""));
    // The page never carries the secret or the key.
    assert!(!html.contains("Canary-Pa55w0rd-Zq9"));
    assert!(!html.contains(fragment.trim_start_matches("k=")));

    let got = request("POST", &d.url(&path), &[], Vec::new()).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/octet-stream"));
    assert_eq!(got.header("cache-control"), Some("no-store"));
    let link_hex = got.header("x-link-id").unwrap().to_owned();
    assert_eq!(link_hex, link_id_of(&html));
    let key = PayloadKey::from_fragment(&fragment).unwrap();
    let link_id: rcsec::link::LinkId = link_hex.parse().unwrap();
    let plain = open_to_vec(&key, &SealContext::new(&link_id, "text/plain"), &got.body).unwrap();
    assert!(
        String::from_utf8(plain)
            .unwrap()
            .contains("Canary-Pa55w0rd-Zq9")
    );

    let again = request("POST", &d.url(&path), &[], Vec::new()).await;
    assert_eq!(again.status, 410);
    assert_eq!(again.json()["error"], "used");
    let page = get(&d.url(&path)).await;
    assert_eq!(page.status, 410);
    assert!(page.text().contains("already been used"));
    assert_eq!(
        d.app
            .metrics
            .value("rcsec_link_redemptions_total", &[("outcome", "redeemed")]),
        1
    );
    assert_eq!(
        d.app
            .metrics
            .value("rcsec_link_redemptions_total", &[("outcome", "used")]),
        1
    );
    d.stop().await;
}

#[tokio::test]
async fn bad_tokens_are_404_and_never_5xx() {
    let d = Daemon::start().await;
    let tampered = format!("/l/{}", "A".repeat(64));
    for path in [
        "/l/short",
        tampered.as_str(),
        "/l/%00%ff",
        "/l/..%2f..%2fetc",
    ] {
        let page = get(&d.url(path)).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.text().contains("data-state=\"invalid\""), "{path}");
        let post = request("POST", &d.url(path), &[], Vec::new()).await;
        assert_eq!(post.status, 404, "{path}");
        assert_eq!(post.json()["error"], "invalid");
    }
    d.stop().await;
}

#[tokio::test]
async fn page_assets_are_served_from_self() {
    let d = Daemon::start().await;
    let js = get(&d.url("/l/app.js")).await;
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(js.text().contains("crypto.subtle"));
    // No third-party origin anywhere in the page's code.
    assert!(!js.text().contains("http://") && !js.text().contains("https://"));
    let css = get(&d.url("/l/app.css")).await;
    assert_eq!(css.status, 200);
    d.stop().await;
}
