//! A minimal W3C WebDriver client (JSON over HTTP) for chromedriver: just the commands the
//! secure-link test needs.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::request;

/// The W3C key under which an element reference is returned.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    base: String,
    /// `127.0.0.1:PORT` of the driver.
    driver: String,
    id: String,
    closed: bool,
}

async fn call(method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let reply = request(method, url, &[("content-type", "application/json")], bytes).await;
    let v: Value = serde_json::from_slice(&reply.body).map_err(|e| e.to_string())?;
    if reply.status == 200 {
        Ok(v["value"].clone())
    } else {
        Err(format!("{method} {url}: {} {}", reply.status, v["value"]))
    }
}

impl Session {
    /// A new headless session on the driver at `driver` (`http://127.0.0.1:PORT`).
    pub async fn new(driver: &str, chromium: &str, profile: &std::path::Path) -> Self {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let v = call("POST", &format!("{driver}/session"), Some(caps))
            .await
            .unwrap();
        Self {
            base: format!("{driver}/session/{}", v["sessionId"].as_str().unwrap()),
            driver: driver.trim_start_matches("http://").to_owned(),
            id: v["sessionId"].as_str().unwrap().to_owned(),
            closed: false,
        }
    }

    pub async fn goto(&self, url: &str) -> Result<(), String> {
        call(
            "POST",
            &format!("{}/url", self.base),
            Some(json!({"url": url})),
        )
        .await
        .map(|_| ())
    }

    async fn find(&self, css: &str) -> Result<Option<String>, String> {
        let v = call(
            "POST",
            &format!("{}/elements", self.base),
            Some(json!({"using": "css selector", "value": css})),
        )
        .await?;
        Ok(v.as_array()
            .and_then(|a| a.first())
            .and_then(|e| e[ELEMENT].as_str())
            .map(str::to_owned))
    }

    /// Waits up to 15 s for an element matching `css`; on timeout the error shows the page.
    pub async fn wait_for(&self, css: &str) -> Result<String, String> {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if let Some(e) = self.find(css).await? {
                return Ok(e);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let source = call("GET", &format!("{}/source", self.base), None).await?;
        Err(format!(
            "timed out waiting for {css}; page source:\n{}",
            source.as_str().unwrap_or_default()
        ))
    }

    pub async fn click(&self, element: &str) -> Result<(), String> {
        call(
            "POST",
            &format!("{}/element/{element}/click", self.base),
            Some(json!({})),
        )
        .await
        .map(|_| ())
    }

    pub async fn text(&self, element: &str) -> Result<String, String> {
        let v = call(
            "GET",
            &format!("{}/element/{element}/text", self.base),
            None,
        )
        .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// The DOM property `name` of the element (e.g. `textContent`, exact, unlike `text`).
    pub async fn property(&self, element: &str, name: &str) -> Result<Value, String> {
        call(
            "GET",
            &format!("{}/element/{element}/property/{name}", self.base),
            None,
        )
        .await
    }

    pub async fn close(mut self) {
        let _ = call("DELETE", &self.base, None).await;
        self.closed = true;
    }
}

/// A test that panics mid-way still ends the browser: killing only the driver would orphan
/// Chromium's processes. Blocking on purpose: this runs during unwinding.
impl Drop for Session {
    fn drop(&mut self) {
        use std::io::{Read, Write};
        if self.closed {
            return;
        }
        let Ok(mut stream) = std::net::TcpStream::connect(&self.driver) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.id, self.driver
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let mut sink = Vec::new();
            let _ = stream.read_to_end(&mut sink);
        }
    }
}
