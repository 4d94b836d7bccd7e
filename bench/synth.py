#!/usr/bin/env python3
"""Synth cost: an empty CDK app vs the default platform, each in fresh processes as `cdk synth` runs them.

Median of N runs, with CDK's built-in CloudFormation validation on and off (CDK_VALIDATION=false).
Run with `make bench` (Node 22 from node_modules first on PATH, like the CLI).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EMPTY_APP = "import aws_cdk as cdk\napp = cdk.App()\napp.synth()\n"


def timed(cmd: list[str], *, validation: bool, platform: str) -> float:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, CDK_OUTDIR=out, CDK_CONTEXT_JSON=json.dumps(context), KEEL_PLATFORM=platform,
                   PYTHONDONTWRITEBYTECODE="1")
        if not validation:
            env["CDK_VALIDATION"] = "false"
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--platform", default=str(ROOT / "platform.yaml"))
    args = parser.parse_args()
    cases = {"empty app": [sys.executable, "-c", EMPTY_APP],
             "default platform": [sys.executable, str(ROOT / "app.py")]}
    timed(cases["empty app"], validation=False, platform=args.platform)  # warm the jsii cache once
    rows = []
    medians: dict[tuple[str, bool], float] = {}
    for validation in (True, False):
        for name, cmd in cases.items():
            runs = [timed(cmd, validation=validation, platform=args.platform) for _ in range(args.runs)]
            medians[(name, validation)] = statistics.median(runs)
            rows.append((name, "on" if validation else "off", statistics.median(runs), min(runs), max(runs)))
    print(f"{'case':<18} {'validation':<10} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, val, med, lo, hi in rows:
        print(f"{name:<18} {val:<10} {med:9.2f} {lo:7.2f} {hi:7.2f}")
    for validation in (True, False):
        ratio = medians[("default platform", validation)] / medians[("empty app", validation)]
        print(f"ratio default/empty, validation {'on' if validation else 'off'}: {ratio:.2f}x (goal <= 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
