//! Real Kannel: bearerbox + smsbox + the fake SMSC from kannel-extras, on 127.0.0.1, following
//! shared/runbooks/kannel.md. Runs when `RCSEC_TEST_KANNEL_DIR` (bearerbox, smsbox) and
//! `RCSEC_TEST_FAKESMSC_BIN` are set (`.ci/run` sets them); otherwise prints a skip message.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcsec::{MessagingProvider, SendError};
use rcsec_core::Secret;
use rcsec_http::{HttpRequest, Method};
use rcsec_provider_kannel::{DlrStatus, KannelConfig, KannelProvider, gsm7};

use super::common::{CANARY, NUMBER, dlr_receiver, guard, http, sms};

/// The boxes of one Kannel instance in a temp dir; killed (and reaped) on drop.
struct Kannel {
    dir: tempfile::TempDir,
    children: Vec<Child>,
    sendsms: u16,
}

impl Drop for Kannel {
    fn drop(&mut self) {
        // smsbox and fakesmsc first, then bearerbox; only our own children.
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether something listens on 127.0.0.1:`port`, without connecting (a probe connection to
/// the fake SMSC port would count as an SMSC client).
fn listening(port: u16) -> bool {
    let needle = format!(":{port:04X} ");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table).is_ok_and(|t| {
            t.lines().skip(1).any(|line| {
                let cols: Vec<&str> = line.split_whitespace().collect();
                cols.len() > 3 && format!("{} ", cols[1]).ends_with(&needle) && cols[3] == "0A"
            })
        })
    })
}

fn wait_for(what: &str, deadline: Instant, mut ok: impl FnMut() -> bool) {
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "kannel: timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn(bin: &Path, args: &[&str], dir: &Path, log: &str) -> Child {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(File::create(dir.join(format!("{log}.out"))).unwrap())
        .stderr(File::create(dir.join(format!("{log}.err"))).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()))
}

impl Kannel {
    async fn start(kannel_dir: &Path, fakesmsc: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path();
        std::fs::create_dir_all(t.join("log")).unwrap();
        File::create(t.join("kannel.store")).unwrap();
        let (admin, smsbox_port, sendsms, smsc) =
            (free_port(), free_port(), free_port(), free_port());
        let conf = format!(
            r#"group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = adminpw
status-password = statuspw
smsbox-port = {smsbox_port}
smsbox-interface = 127.0.0.1
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-file = "{t}/log/bearerbox.log"
store-type = file
store-location = "{t}/kannel.store"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = FAKE
port = {smsc}
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1
max-sms-octets = 1024

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox_port}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
global-sender = 12345
log-file = "{t}/log/smsbox.log"

group = sendsms-user
username = tester
password = foobar
max-messages = 10
concatenation = true
"#,
            t = t.display()
        );
        std::fs::write(t.join("kannel.conf"), conf).unwrap();
        let mut k = Self {
            dir,
            children: Vec::new(),
            sendsms,
        };
        let t = k.dir.path().to_owned();
        let deadline = Instant::now() + Duration::from_secs(20);
        k.children.push(spawn(
            &kannel_dir.join("bearerbox"),
            &["-v", "1", "kannel.conf"],
            &t,
            "bearerbox",
        ));
        wait_for("bearerbox ports", deadline, || {
            listening(smsbox_port) && listening(smsc)
        });
        let smsc_port = smsc.to_string();
        k.children.push(spawn(
            fakesmsc,
            &[
                "-H",
                "127.0.0.1",
                "-r",
                &smsc_port,
                "-m",
                "0",
                "0 0 text unused",
            ],
            &t,
            "fakesmsc",
        ));
        k.children.push(spawn(
            &kannel_dir.join("smsbox"),
            &["-v", "1", "kannel.conf"],
            &t,
            "smsbox",
        ));
        let status: url::Url = format!("http://127.0.0.1:{admin}/status.txt?password=statuspw")
            .parse()
            .unwrap();
        let client = http();
        loop {
            let ready = match client
                .send(HttpRequest::new(Method::GET, status.clone()))
                .await
            {
                Ok(res) => {
                    let body = String::from_utf8_lossy(&res.body).into_owned();
                    body.contains("FAKE:") && body.contains("(online") && body.contains("smsbox:")
                }
                Err(_) => false,
            };
            if ready && listening(sendsms) {
                break;
            }
            assert!(Instant::now() < deadline, "kannel did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        k
    }

    fn fakesmsc_log(&self) -> PathBuf {
        self.dir.path().join("fakesmsc.err")
    }

    /// Payloads the fake SMSC received: `<from> <to> <type> <payload>` lines.
    fn received(&self) -> Vec<String> {
        std::fs::read_to_string(self.fakesmsc_log())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                l.split_once(": <")
                    .filter(|(h, _)| h.contains("Got message"))
            })
            .map(|(_, rest)| rest.strip_suffix('>').unwrap_or(rest).to_owned())
            .collect()
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_fallback_reaches_the_fake_smsc_with_the_link_only_and_the_dlr_comes_back() {
    let (Some(kannel_dir), Some(fakesmsc)) = (
        env_path("RCSEC_TEST_KANNEL_DIR"),
        env_path("RCSEC_TEST_FAKESMSC_BIN"),
    ) else {
        eprintln!(
            "skipping real-Kannel test: set RCSEC_TEST_KANNEL_DIR (bearerbox, smsbox) and \
             RCSEC_TEST_FAKESMSC_BIN (kannel-extras fakesmsc)"
        );
        return;
    };
    let kannel = Kannel::start(&kannel_dir, &fakesmsc).await;
    let (signer, dlrs) = dlr_receiver().await;
    let provider = KannelProvider::new(
        http(),
        KannelConfig {
            sendsms_url: format!("http://127.0.0.1:{}/cgi-bin/sendsms", kannel.sendsms)
                .parse()
                .unwrap(),
            username: "tester".into(),
            password: Secret::new("foobar".into()),
            from: Some("+4930123".into()),
            dlr: Some((DlrStatus::ALL_MASK, signer.clone())),
        },
        guard(),
    );

    // The pipeline's SMS for an alert whose details hold a secret: template + link only.
    let link = "https://alerts.example/l/v1.AbCdEf0123456789_-xyz#k=Q2FuYXJ5IGtleQ";
    let text = format!("rcsec: new P0 alert. Open it securely: {link}");
    provider.send(&sms("sms-1", &text)).await.unwrap();
    // A retry of the same message id does not send a second SMS.
    provider.send(&sms("sms-1", &text)).await.unwrap();
    // A text carrying content never leaves.
    let leaky = format!("rcsec: new P0 alert. Open it securely: {link} {CANARY}");
    assert!(matches!(
        provider.send(&sms("sms-2", &leaky)).await,
        Err(SendError::Rejected)
    ));

    let deadline = Instant::now() + Duration::from_secs(10);
    while kannel.received().is_empty() || dlrs.lock().unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no SMS or DLR; fakesmsc log: {:?}",
            std::fs::read_to_string(kannel.fakesmsc_log())
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a duplicate (if any) time to arrive before counting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = kannel.received();
    assert_eq!(received.len(), 1, "exactly one SMS: {received:?}");
    let mut fields = received[0].splitn(4, ' ');
    let (from, to, kind, payload) = (
        fields.next().unwrap(),
        fields.next().unwrap(),
        fields.next().unwrap(),
        fields.next().unwrap(),
    );
    assert_eq!((from, to, kind), ("+4930123", NUMBER, "text"));
    assert_eq!(payload, text, "byte-exact at the SMSC");
    assert!(payload.contains(link));
    assert!(!payload.contains(CANARY));
    assert!(gsm7::septets(payload).unwrap() <= gsm7::SEGMENT_SEPTETS);
    assert!(payload.chars().count() <= 160);

    // Delivery reports: the "delivered" one (type 1) parses into a pipeline event.
    let deadline = Instant::now() + Duration::from_secs(10);
    let delivered = loop {
        let found = dlrs
            .lock()
            .unwrap()
            .iter()
            .filter_map(|q| signer.parse(q).ok())
            .find(|r| r.status == DlrStatus::Delivered);
        if let Some(report) = found {
            break report;
        }
        assert!(
            Instant::now() < deadline,
            "no delivered DLR: {:?}",
            dlrs.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(delivered.message.as_str(), "sms-1");
    assert!(delivered.to_provider_event().is_some());
    for q in dlrs.lock().unwrap().iter() {
        assert!(signer.parse(q).is_ok(), "every DLR verifies: {q}");
        assert!(
            !q.contains("4915112345678"),
            "the number is not in DLR URLs"
        );
    }
}
