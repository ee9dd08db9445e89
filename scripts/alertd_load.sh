#!/usr/bin/env bash
# Bounded load run of the alertd release binary with wrk: a bad-token link page
# (GET /l/<64 x A>) and the Alertmanager webhook (one alert, repeated: the first pages, the
# rest are deduplicated). Prints requests/s, status classes, and alertd's RSS before/after.
# Fails when any response is 5xx or not 2xx/4xx, or when alertd dies.
#
#   scripts/alertd_load.sh [SECONDS per endpoint, default 10] [CONNECTIONS, default 32]
#
# Needs wrk (Debian package `wrk`); binds 127.0.0.1 only; everything lives in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNS="${2:-32}"
WRK="${RCSEC_TEST_WRK_BIN:-$(command -v wrk || true)}"
[ -x "$WRK" ] || { echo "alertd_load: wrk not found (apt-get install wrk)" >&2; exit 2; }

cargo build --release --locked -q -p alertd
BIN="${CARGO_TARGET_DIR:-target}/release/alertd"

T="$(mktemp -d)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
TOKEN="load-test-token-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
printf '%s\n' "$TOKEN" > "$T/am.token"
cat > "$T/roster.toml" <<'ROSTER'
[[recipient]]
name = "Alice"
number = "+447700900101"
reach = "rcs"
e2ee = "verified"

[[recipient]]
name = "Carol"
number = "+447700900103"
reach = "sms_only"
ROSTER
cat > "$T/alertd.toml" <<CONFIG
[server]
listen = "127.0.0.1:$PORT"
public_url = "http://127.0.0.1:$PORT/"
[alertmanager]
bearer_token_file = "$T/am.token"
[store]
kind = "sqlite"
state_dir = "$T/state"
[provider.loopback]
roster = "$T/roster.toml"
CONFIG

RUST_LOG=warn "$BIN" --config "$T/alertd.toml" 2> "$T/alertd.log" &
PID=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$T/alertd.log" >&2; exit 1; }

COUNTING='
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) c2 = 0; c4 = 0; c5 = 0; co = 0 end
function response(status, headers, body)
  if status >= 500 then c5 = c5 + 1
  elseif status >= 400 then c4 = c4 + 1
  elseif status >= 200 and status < 300 then c2 = c2 + 1
  else co = co + 1 end
end
function done(summary, latency, requests)
  local t2, t4, t5, to = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    t2 = t2 + t:get("c2"); t4 = t4 + t:get("c4"); t5 = t5 + t:get("c5"); to = to + t:get("co")
  end
  io.write(string.format("STATUS 2xx=%d 4xx=%d 5xx=%d other=%d\n", t2, t4, t5, to))
end'
printf '%s\n' "$COUNTING" > "$T/link.lua"
BODY='{"version":"4","groupKey":"{}:{alertname=\"Load\"}","truncatedAlerts":0,"status":"firing","receiver":"ops","externalURL":"http://127.0.0.1:9093","alerts":[{"status":"firing","labels":{"alertname":"Load","severity":"critical"},"annotations":{"summary":"load test"},"startsAt":"2026-11-22T01:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"f00dfeed00000001"}]}'
cat > "$T/am.lua" <<LUA
wrk.method = "POST"
wrk.body = [==[$BODY]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
$COUNTING
LUA

rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
fail=0
run() {
  local name="$1" script="$2" url="$3" out
  out="$("$WRK" -t2 -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency -s "$script" "$url")"
  local rps status p99
  rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
  status="$(grep '^STATUS' <<<"$out" | cut -d' ' -f2-)"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  printf '%-28s %10s req/s  p99 %-8s %s\n' "$name" "$rps" "$p99" "$status"
  grep -q '5xx=0 other=0' <<<"$status" || fail=1
  grep -q 'Socket errors' <<<"$out" && { grep 'Socket errors' <<<"$out"; fail=1; }
  kill -0 "$PID" 2>/dev/null || { echo "alertd died" >&2; cat "$T/alertd.log" >&2; exit 1; }
}
echo "alertd release, wrk -t2 -c$CONNS -d${DURATION}s per endpoint, $(nproc) cores"
echo "RSS before: $(rss) KiB"
run "GET /l/{bad token}" "$T/link.lua" "http://127.0.0.1:$PORT/l/$(printf 'A%.0s' $(seq 64))"
echo "RSS: $(rss) KiB"
run "POST /v1/alertmanager" "$T/am.lua" "http://127.0.0.1:$PORT/v1/alertmanager"
echo "RSS after: $(rss) KiB"
exit "$fail"
