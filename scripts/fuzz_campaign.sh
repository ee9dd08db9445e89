#!/usr/bin/env bash
# A longer local fuzz campaign (issue #11): every target (or the ones named) for SECONDS each,
# from its committed seed corpus, on stable (`-s none`, see fuzz/README.md). Prints one table row
# per target: executions, exec/s, coverage (cov/ft), corpus growth, crash. New crashes are left in
# fuzz/artifacts/<target>/ — fix, then commit the reproducer as a regression seed.
#
#   bash scripts/fuzz_campaign.sh [SECONDS] [TARGET...]      (default 600 s per target)
#   RCSEC_FUZZ_MERGE=1 ... also merges new coverage into the committed corpus (cmin-style merge)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-600}; shift || true
export CARGO_TARGET_DIR="${RCSEC_FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-target}-fuzz}"
unset RUSTFLAGS
cargo fuzz build -s none >/dev/null
targets=("$@"); [ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
printf '| target | seconds | executions | exec/s | cov | ft | corpus (seeds → end) | crash |\n'
printf '|---|---|---|---|---|---|---|---|\n'
status=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  scratch=$(mktemp -d); cp -r "corpus/$target/." "$scratch/"
  seeds=$(find "corpus/$target" -type f | wc -l)
  crash=no
  if ! cargo fuzz run -s none "$target" "$scratch" -- -max_total_time="$secs" \
      -rss_limit_mb=2048 -print_final_stats=1 >"$scratch.log" 2>&1; then
    crash="YES: $(ls -1t "artifacts/$target" | head -n1)"; status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch.log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$scratch.log" | tail -n1)
  last=$(grep -E '^#[0-9]+' "$scratch.log" | tail -n1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last"); ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  end=$(find "$scratch" -type f | wc -l)
  printf '| %s | %s | %s | %s | %s | %s | %s → %s | %s |\n' "$target" "$secs" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}" "${ft:-?}" "$seeds" "$end" "$crash"
  if [ -n "${RCSEC_FUZZ_MERGE:-}" ] && [ "$crash" = no ]; then
    cargo fuzz run -s none "$target" "corpus/$target" "$scratch" -- -merge=1 >/dev/null 2>&1 || true
  fi
  [ "$crash" = no ] && rm -rf "$scratch" "$scratch.log" || echo "log kept: $scratch.log" >&2
done
exit $status
