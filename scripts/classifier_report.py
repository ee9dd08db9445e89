#!/usr/bin/env python3
"""Precision and recall of `rcsec classify` on the labelled corpora, per kind, file and overall.

Usage: scripts/classifier_report.py [--rcsec PATH] [--corpus DIR]

Every row's text goes through the real CLI (`rcsec classify`, JSON lines in and out), so the
figures are those of the shipped binary. Scope and scoring match
crates/rcsec-policy/tests/corpus.rs (which asserts the floors): rows marked `ambiguous` are
skipped; a row is flagged when it has at least one finding; secret files count every row but
detect-secrets' `ip_public` plugin; in pii-cases, positives count for recall only for the
kinds the classifier claims, and every benign row counts for precision.
"""

import argparse
import collections
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = ["gitleaks-cases.jsonl", "detect-secrets-cases.jsonl", "pii-cases.jsonl"]
PII_IN_SCOPE = {"CREDIT_CARD", "IBAN_CODE", "US_SSN", "EMAIL_ADDRESS", "PHONE_NUMBER",
                "PH_MOBILE_NUMBER", "TR_PHONE_NUMBER"}
SECRET_OUT_OF_SCOPE = {"ip_public"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rcsec", default=str(ROOT / "target/release/rcsec"))
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared/corpora/secrets"))
    args = ap.parse_args()

    rows = []
    for name in FILES:
        for line in (pathlib.Path(args.corpus) / name).read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                if not row.get("ambiguous"):
                    rows.append((name, row))
    stdin = "".join(json.dumps({"text": r["text"]}) + "\n" for _, r in rows)
    out = subprocess.run([args.rcsec, "classify"], input=stdin, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        print(f"rcsec classify failed ({out.returncode}): {out.stderr.strip()}", file=sys.stderr)
        return 2
    results = [json.loads(l) for l in out.stdout.splitlines()]
    if len(results) != len(rows):
        print("row count mismatch", file=sys.stderr)
        return 2

    score = collections.defaultdict(lambda: [0, 0, 0, 0])  # tp fp fn tn
    for (name, row), res in zip(rows, results):
        kind = row.get("rule_id") or row.get("kind")
        positive = row["label"] in ("secret", "pii")
        flagged = bool(res["findings"])
        if name == "pii-cases.jsonl":
            in_scope = not positive or kind in PII_IN_SCOPE
        else:
            in_scope = kind not in SECRET_OUT_OF_SCOPE
        if not in_scope:
            continue
        cell = (0 if flagged else 2) if positive else (1 if flagged else 3)
        for key in (kind, name, "OVERALL"):
            score[key][cell] += 1

    def fmt(key):
        tp, fp, fn, tn = score[key]
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return f"| {key} | {tp} | {fp} | {fn} | {tn} | {p:.3f} | {r:.3f} |"

    print("| kind | tp | fp | fn | tn | precision | recall |")
    print("|---|---|---|---|---|---|---|")
    for key in sorted(k for k in score if k not in FILES and k != "OVERALL"):
        print(fmt(key))
    for key in FILES + ["OVERALL"]:
        print(fmt(key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
