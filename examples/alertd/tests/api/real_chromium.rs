//! Headless Chromium opens secure links: the page shows without consuming, confirming
//! decrypts in the browser (WebCrypto) to exactly the original, a second confirm shows
//! "already used"; an item's file name and type come from inside the ciphertext, and legacy
//! links (type and name in the fragment) still open. Skips without `RCSEC_TEST_CHROMEDRIVER_BIN` / `RCSEC_TEST_CHROMIUM_BIN`.

use std::process::Command;
use std::time::Duration;

use rcsec::core::{AlertId, Msisdn};
use rcsec::link::sealed::{ITEM_CONTENT_TYPE, encode_item, link_url};
use rcsec::link::{IssueRequest, RecipientPseudonym};

use crate::real::{binary, eventually, free_port, listening, spawn};
use crate::support::{Daemon, get, post_alerts, request, split_link, webhook};
use crate::webdriver::Session;

/// Several 64 KiB records, multi-byte UTF-8 across record boundaries, and a tail record.
fn artifact() -> String {
    let mut s =
        String::from("incident notes — ünïcödé, emoji 🔐, and a secret: Canary-Pa55w0rd-Zq9\n");
    let mut i = 0;
    while s.len() < 3 * 65_536 + 1234 {
        s.push_str(&format!(
            "line {i:06}: ∑ heap dump excerpt ✓ {}\n",
            "x".repeat(i % 50)
        ));
        i += 1;
    }
    s
}

#[tokio::test]
async fn chromium_opens_a_secure_link_once() {
    let test = "chromium_opens_a_secure_link_once";
    let (Some(driver_bin), Some(chromium)) = (
        binary("RCSEC_TEST_CHROMEDRIVER_BIN", test),
        binary("RCSEC_TEST_CHROMIUM_BIN", test),
    ) else {
        return;
    };
    let d = Daemon::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = Command::new(&driver_bin);
    cmd.arg(format!("--port={port}"));
    let _driver = spawn(cmd, &tmp.path().join("chromedriver.log"));
    eventually("chromedriver", Duration::from_secs(15), || async {
        listening(port).await.then_some(())
    })
    .await;
    let session = Session::new(
        &format!("http://127.0.0.1:{port}"),
        &chromium.display().to_string(),
        &tmp.path().join("profile"),
    )
    .await;
    // Close the session even when a step fails: killing the driver alone orphans Chromium.
    let result = steps(&d, &session).await;
    session.close().await;
    d.stop().await;
    result.unwrap();
}

async fn steps(d: &Daemon, s: &Session) -> Result<(), String> {
    // 1. A file artifact issued on the daemon's gateway as a sealed item: its name and type
    //    ride inside the ciphertext, and the link is nothing but `#k=<key>`.
    let original = artifact();
    let item = encode_item(
        "notes.txt",
        "text/plain; charset=utf-8",
        original.as_bytes(),
    )
    .unwrap();
    let now = d.app.clock.now();
    let alice = Msisdn::parse("+447700900101").unwrap();
    let req = IssueRequest::new(
        AlertId::new("chromium-e2e").unwrap(),
        &alice,
        RecipientPseudonym::from_bytes([9; 32]),
        Duration::from_secs(600),
        ITEM_CONTENT_TYPE,
    );
    let issued = d
        .app
        .orchestrator
        .gateway()
        .issue(req, &item, now)
        .await
        .unwrap();
    let base = url::Url::parse(&format!("{}/", d.base)).unwrap();
    let url = link_url(&base, &issued.token, &issued.key).unwrap();
    let url = url.expose().to_owned();
    assert!(!url.contains("notes") && !url.contains("&t="), "{url}");
    let (path, _) = split_link(&url);

    s.goto(&url).await?;
    let status = s.wait_for("#status[data-state=\"valid\"]").await?;
    assert!(s.text(&status).await?.contains("works once"));
    let go = s.wait_for("#go").await?;
    // Seeing the page consumed nothing: the link is still valid server-side.
    assert!(
        get(&d.url(&path))
            .await
            .text()
            .contains("data-state=\"valid\"")
    );

    s.click(&go).await?;
    let out = s.wait_for("#out[data-done]").await?;
    let shown = s.property(&out, "textContent").await?;
    assert_eq!(shown.as_str().map(str::len), Some(original.len()));
    assert!(
        shown.as_str() == Some(original.as_str()),
        "decrypted text differs from the original"
    );
    let meta = s.wait_for("#meta").await?;
    assert!(s.text(&meta).await?.contains(&format!(
        "notes.txt (text/plain; charset=utf-8, {} bytes)",
        original.len()
    )));
    let download = s.wait_for("#download").await?;
    assert_eq!(s.property(&download, "download").await?, "notes.txt");

    // 2. A second confirm: reopening the link shows it is used. (Leave the page first: the
    //    same URL again would only be a same-document fragment navigation.)
    s.goto("about:blank").await?;
    s.goto(&url).await?;
    let used = s.wait_for("#status[data-state=\"used\"]").await?;
    assert!(s.text(&used).await?.contains("already been used"));

    // 3. A pipeline link (Carol's SMS) consumed elsewhere while the page was open: the
    //    confirm in the browser reports "already used" instead of showing anything.
    let before = d.sent_count();
    assert_eq!(
        post_alerts(d, &webhook(&[("c0ffee0000000001", "firing")], "db-1 down"))
            .await
            .status,
        200
    );
    d.wait_sent(before + 2).await;
    let link = d.sent_links().pop().ok_or("no link was sent")?;
    s.goto(&link).await?;
    let go = s.wait_for("#go").await?;
    let (path, _) = split_link(&link);
    assert_eq!(
        request("POST", &d.url(&path), &[], Vec::new()).await.status,
        200
    );
    s.click(&go).await?;
    let status = s.wait_for("#status[data-state=\"used\"]").await?;
    assert!(s.text(&status).await?.contains("already been used"));
    let out = s.wait_for("#out").await?;
    assert_eq!(s.property(&out, "textContent").await?, "");

    // 4. A link whose fragment lost its key is refused in the page, without spending the use.
    let before = d.sent_count();
    assert_eq!(
        post_alerts(d, &webhook(&[("c0ffee0000000002", "firing")], "db-2 down"))
            .await
            .status,
        200
    );
    d.wait_sent(before + 2).await;
    let link = d.sent_links().pop().ok_or("no link was sent")?;
    let (path, _) = split_link(&link);
    s.goto(&d.url(&path)).await?;
    s.wait_for("#status[data-state=\"nokey\"]").await?;
    assert!(
        get(&d.url(&path))
            .await
            .text()
            .contains("data-state=\"valid\"")
    );

    // 5. A legacy link (sealed under the item's own type, named in the fragment) still opens.
    let legacy = r#"{"legacy": true}"#;
    let req = IssueRequest::new(
        AlertId::new("chromium-legacy").unwrap(),
        &alice,
        RecipientPseudonym::from_bytes([9; 32]),
        Duration::from_secs(600),
        "application/json",
    );
    let issued = d
        .app
        .orchestrator
        .gateway()
        .issue(req, legacy.as_bytes(), d.app.clock.now())
        .await
        .unwrap();
    let url = link_url(&base, &issued.token, &issued.key).unwrap();
    let url = format!("{}&t=application%2Fjson&n=legacy.json", url.expose());
    s.goto("about:blank").await?;
    s.goto(&url).await?;
    let go = s.wait_for("#go").await?;
    s.click(&go).await?;
    s.wait_for("#out[data-done]").await?;
    let meta = s.wait_for("#meta").await?;
    assert!(
        s.text(&meta)
            .await?
            .contains("legacy.json (application/json, 16 bytes)")
    );
    let download = s.wait_for("#download").await?;
    assert_eq!(s.property(&download, "download").await?, "legacy.json");
    Ok(())
}
