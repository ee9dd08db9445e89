#!/usr/bin/env python3
"""Generate PERFORMANCE.md from one criterion run: ours beside each peer, with ratios and goals.

This script is the one way the numbers in PERFORMANCE.md are refreshed:

    python3 scripts/perf_report.py --run            # run every bench, then write the report
    python3 scripts/perf_report.py                  # re-render from the last run's results

Conventions the benches follow (see HOUSE_STYLE.md): one criterion group per operation, ids
`BenchmarkId::new(implementation, parameter)`. `benches/goals.toml` lists under `[report]` the
implementation names that are peers (other projects) or floors (the primitives an operation
cannot avoid, measured in the same run); every other implementation name is ours. Goals live in
the same file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    group: str
    function: str
    param: str
    mean_ns: float
    throughput: dict | None

    def is_ours(self, peers: set[str]) -> bool:
        return self.function not in peers

    def rate(self) -> tuple[float, str] | None:
        """Throughput per second, if the bench declared one."""
        if not self.throughput:
            return None
        (kind, amount), = self.throughput.items()
        per_sec = amount / (self.mean_ns / 1e9)
        return per_sec, ("B/s" if kind in ("Bytes", "BytesDecimal") else "elem/s")


def target_dir() -> Path:
    env = os.environ.get("CARGO_TARGET_DIR")
    return Path(env) if env else ROOT / "target"


def load_results(criterion_dir: Path) -> list[Result]:
    results = []
    for bench_json in sorted(criterion_dir.glob("**/new/benchmark.json")):
        meta = json.loads(bench_json.read_text())
        est = json.loads((bench_json.parent / "estimates.json").read_text())
        results.append(
            Result(
                group=meta["group_id"],
                function=meta.get("function_id") or "",
                param=meta.get("value_str") or "",
                mean_ns=est["mean"]["point_estimate"],
                throughput=meta.get("throughput"),
            )
        )
    return results


def fmt_time(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_rate(rate: tuple[float, str] | None) -> str:
    if rate is None:
        return ""
    value, unit = rate
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def goal_for(goals: list[dict], r: Result, peer: str | None) -> dict | None:
    for g in goals:
        if g["group"] != r.group:
            continue
        if "param" in g and g["param"] != r.param:
            continue
        if "peer" in g and g["peer"] != peer:
            continue
        if "peer" not in g and peer is not None and "ratio_min" in g:
            continue
        return g
    return None


def judge(goal: dict | None, ours: Result, ratio: float | None) -> str:
    if goal is None:
        return ""
    met = None
    if "ratio_min" in goal and ratio is not None:
        met = ratio >= goal["ratio_min"]
    elif "max_ns" in goal:
        met = ours.mean_ns <= goal["max_ns"]
    elif "min_per_sec" in goal and ours.rate():
        met = ours.rate()[0] >= goal["min_per_sec"]
    mark = "" if met is None else (" — met" if met else " — **not met**")
    return goal["text"] + mark


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; {rustc}; "
        f"load average {load:.2f} when the report was written"
    )


def render(results: list[Result], goals: list[dict], peers: set[str]) -> str:
    by_key: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        by_key.setdefault((r.group, r.param), []).append(r)
    rows = []
    for (group, param), entries in sorted(by_key.items()):
        ours = [e for e in entries if e.is_ours(peers)]
        others = [e for e in entries if not e.is_ours(peers)]
        for o in ours:
            if not others:
                rows.append((group, param, o.function, fmt_time(o.mean_ns), fmt_rate(o.rate()),
                             "", "", "", judge(goal_for(goals, o, None), o, None)))
            for p in others:
                ratio = p.mean_ns / o.mean_ns
                rows.append((group, param, o.function, fmt_time(o.mean_ns), fmt_rate(o.rate()),
                             p.function, fmt_time(p.mean_ns), f"{ratio:.2f}×",
                             judge(goal_for(goals, o, p.function), o, ratio)))
        if not ours:
            for p in others:
                rows.append((group, param, "", "", "", p.function, fmt_time(p.mean_ns), "", ""))
    out = [
        "# Performance",
        "",
        "Generated by `python3 scripts/perf_report.py` from one criterion run "
        f"({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC). Do not edit by hand.",
        "",
        f"Machine: {machine()}.",
        "",
        "Ratio = peer time / our time: above 1× we are faster. `floor` is the cost of the "
        "primitives an operation cannot avoid (for example one signature, one verification and "
        "one AEAD pass), measured in the same run.",
        "",
        "| operation | param | ours | time | throughput | peer | peer time | ratio | goal |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    out.append("")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", action="store_true", help="run `cargo bench` first")
    ap.add_argument("--bench", action="append", default=[], help="only these bench targets (with --run)")
    ap.add_argument("--out", default=str(ROOT / "PERFORMANCE.md"))
    ap.add_argument("--measurement-time", default="5")
    args = ap.parse_args()
    if args.run:
        cmd = ["cargo", "bench", "-p", "rcsec-benches", "--locked", "--benches"]
        for b in args.bench:
            cmd += ["--bench", b]
        cmd += ["--", "--warm-up-time", "1", "--measurement-time", args.measurement_time]
        print("+", " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, cwd=ROOT, check=True)
    criterion_dir = target_dir() / "criterion"
    results = load_results(criterion_dir)
    if not results:
        print(f"no criterion results under {criterion_dir}; run with --run", file=sys.stderr)
        return 1
    goals_file = ROOT / "benches" / "goals.toml"
    config = tomllib.loads(goals_file.read_text()) if goals_file.exists() else {}
    goals = config.get("goal", [])
    report = config.get("report", {})
    peers = set(report.get("peers", [])) | set(report.get("floors", []))
    Path(args.out).write_text(render(results, goals, peers))
    print(f"wrote {args.out} ({len(results)} results)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
