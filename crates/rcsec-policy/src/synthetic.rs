//! Deterministic synthetic logs for tests and benches (not a stable API).
//!
//! Benign lines imitate what incident alerts quote: access logs, JSON application logs,
//! Kubernetes events, syslog, metrics, stack traces, deploy notes, with timestamps, UUIDs,
//! trace ids, hashes, digests, host and pod names, request ids, base64 blobs, and the words
//! `key`, `token` and `auth` used harmlessly. None contains a secret or personal data.

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items.get(i).copied().unwrap_or("")
    }

    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| {
                let i = usize::try_from(self.below(alphabet.len() as u64)).unwrap_or(0);
                char::from(alphabet[i])
            })
            .collect()
    }

    fn hex(&mut self, n: usize) -> String {
        self.chars(b"0123456789abcdef", n)
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }

    fn b64(&mut self, n: usize) -> String {
        self.chars(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            n,
        )
    }
}

const SERVICES: &[&str] = &[
    "checkout",
    "payments-api",
    "search",
    "auth-gateway",
    "ledger",
];
const PATHS: &[&str] = &[
    "/api/v1/orders",
    "/healthz",
    "/api/v2/carts",
    "/metrics",
    "/login",
];
const LEVELS: &[&str] = &["info", "warn", "error", "debug"];
const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn timestamp(rng: &mut Rng) -> String {
    format!(
        "2026-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60),
        rng.below(1000)
    )
}

fn pod(rng: &mut Rng) -> String {
    format!(
        "{}-{}-{}",
        rng.pick(SERVICES),
        rng.chars(b"bcdfghjklmnpqrstvwxz2456789", 10),
        rng.chars(b"bcdfghjklmnpqrstvwxz2456789", 5)
    )
}

fn ip(rng: &mut Rng) -> String {
    format!(
        "10.{}.{}.{}",
        rng.below(256),
        rng.below(256),
        1 + rng.below(254)
    )
}

/// One benign log line (with its newline).
pub fn benign_line(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => format!(
            "{} - - [{:02}/{}/2026:{:02}:{:02}:{:02} +0000] \"GET {}/{} HTTP/1.1\" {} {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt={}.{:03} request_id={}\n",
            ip(rng),
            1 + rng.below(28),
            rng.pick(MONTHS),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.pick(PATHS),
            rng.uuid(),
            rng.pick(&["200", "201", "304", "404", "502"]),
            rng.below(100_000),
            rng.below(3),
            rng.below(1000),
            rng.hex(32)
        ),
        1 => format!(
            "{{\"ts\":\"{}\",\"level\":\"{}\",\"msg\":\"request completed\",\"trace_id\":\"{}\",\"span_id\":\"{}\",\"duration_ms\":{},\"host\":\"{}\",\"status\":{}}}\n",
            timestamp(rng),
            rng.pick(LEVELS),
            rng.hex(32),
            rng.hex(16),
            rng.below(5000),
            pod(rng),
            rng.pick(&["200", "500", "503"])
        ),
        2 => format!(
            "{} Normal Scheduled pod/{} Successfully assigned prod/{} to ip-10-0-{}-{}.eu-west-1.compute.internal\n",
            timestamp(rng),
            pod(rng),
            pod(rng),
            rng.below(256),
            rng.below(256)
        ),
        3 => format!(
            "{} {:02} {:02}:{:02}:{:02} web-{:02} sshd[{}]: Accepted publickey for deploy from {} port {} ssh2: ED25519 SHA256:{}\n",
            rng.pick(MONTHS),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(40),
            rng.below(60000),
            ip(rng),
            1024 + rng.below(60000),
            rng.b64(43)
        ),
        4 => format!(
            "container_cpu_usage_seconds_total{{pod=\"{}\",node=\"ip-10-0-{}-{}\"}} {}.{} {}\n",
            pod(rng),
            rng.below(256),
            rng.below(256),
            rng.below(100),
            rng.below(1000),
            1_700_000_000_000 + rng.below(100_000_000_000)
        ),
        5 => format!(
            "{} deploy: rolled out {} commit {} image=registry.internal/{}@sha256:{} (build {})\n",
            timestamp(rng),
            rng.pick(SERVICES),
            rng.hex(40),
            rng.pick(SERVICES),
            rng.hex(64),
            rng.below(10_000)
        ),
        6 => format!(
            "{} WARN [{}] cache key=user:{}:profile miss, ttl=300s; token refreshed for client_id={} expires_in=3600; auth: ok\n",
            timestamp(rng),
            pod(rng),
            rng.below(1_000_000),
            rng.pick(SERVICES)
        ),
        7 => format!(
            "\tat com.example.{}.OrderService.place(OrderService.java:{}) ~[app.jar:1.{}.{}]\n",
            rng.pick(&["checkout", "payments", "ledger"]),
            rng.below(900),
            rng.below(30),
            rng.below(10)
        ),
        8 => format!(
            "{} level={} msg=\"upload stored\" object={}.bin blob={} size={} etag=\"{}\" X-Request-Id: {}\n",
            timestamp(rng),
            rng.pick(LEVELS),
            rng.uuid(),
            rng.b64(64),
            rng.below(10_000_000),
            rng.hex(32),
            rng.chars(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", 26)
        ),
        _ => format!(
            "{} alert={} severity=critical summary=\"p99 latency {}ms over 500ms on {}\" runbook=https://runbooks.internal/{}/latency dashboard=https://grafana.internal/d/{}/overview?orgId=1&from=now-1h\n",
            timestamp(rng),
            rng.pick(&["HighLatency", "ErrorBudgetBurn", "PodCrashLooping"]),
            500 + rng.below(4000),
            rng.pick(SERVICES),
            rng.pick(SERVICES),
            rng.chars(b"abcdefghijklmnopqrstuvwxyz0123456789", 9)
        ),
    }
}

/// One log line carrying a (synthetic, random) secret.
pub fn secret_line(rng: &mut Rng) -> String {
    let ts = timestamp(rng);
    match rng.below(8) {
        0 => format!(
            "{ts} export AWS_ACCESS_KEY_ID=AKIA{}\n",
            rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
        ),
        1 => format!(
            "{ts} git clone https://x:ghp_{}@github.com/acme/app\n",
            rng.chars(
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                36
            )
        ),
        2 => format!(
            "{ts} db connect failed: postgres://app:{}@db-7:5432/app\n",
            rng.b64(16).replace(['+', '/'], "x")
        ),
        3 => format!("{ts} config loaded password=\"{}\"\n", rng.b64(14)),
        4 => format!(
            "{ts} slack notify token xoxb-{}-{}-{}\n",
            1000 + rng.below(9_000_000_000),
            1000 + rng.below(9_000_000_000),
            rng.chars(
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                24
            )
        ),
        5 => format!(
            "{ts} Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJ{}.{}\n",
            rng.b64(40).replace(['+', '/'], "_"),
            rng.b64(43).replace(['+', '/'], "-")
        ),
        6 => format!("{ts} charge failed for card 4111 1111 1111 1111 amount=42.00\n"),
        _ => format!(
            "{ts} stripe key sk_live_{}\n",
            rng.chars(
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                24
            )
        ),
    }
}

/// About `bytes` of benign log lines from `seed`.
pub fn benign_log(bytes: usize, seed: u64) -> String {
    log(bytes, seed, 0)
}

/// About `bytes` of log lines from `seed`, `secrets_per_mille` of them carrying a secret.
pub fn log(bytes: usize, seed: u64, secrets_per_mille: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(bytes + 512);
    while out.len() < bytes {
        if rng.below(1000) < secrets_per_mille {
            out.push_str(&secret_line(&mut rng));
        } else {
            out.push_str(&benign_line(&mut rng));
        }
    }
    out
}
