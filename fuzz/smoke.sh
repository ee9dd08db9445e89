#!/usr/bin/env bash
# Builds every fuzz target on stable (`-s none`: no sanitizer, so no nightly flags) and runs each
# for a bounded time from its committed seed corpus. A crash fails the run and leaves the
# reproducer in fuzz/artifacts/<target>/ (printed below); commit it as a regression seed once fixed.
#
#   bash fuzz/smoke.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-15}
export CARGO_TARGET_DIR="${RCSEC_FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-target}-fuzz}"
# Fuzz builds have their own flags; the workspace's -Dwarnings must not leak into libFuzzer's build.
unset RUSTFLAGS

cargo fuzz build -s none
for target in $(cargo fuzz list); do
  mkdir -p "corpus/$target" "artifacts/$target"
  # Fuzz a scratch copy so the committed corpus only grows on purpose (via cmin).
  scratch=$(mktemp -d)
  cp -r "corpus/$target/." "$scratch/"
  echo "--- $target (${secs}s)"
  if ! cargo fuzz run -s none "$target" "$scratch" -- \
      -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 2>"$scratch.log"; then
    tail -n 40 "$scratch.log"
    echo "fuzz target $target crashed; reproducer(s):" >&2
    ls -1 "artifacts/$target" >&2
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|Done)' "$scratch.log" || true
  rm -rf "$scratch" "$scratch.log"
done
