#!/usr/bin/env python3
"""checkov 3.3 over a synthesized cloud assembly (CloudFormation framework, offline): passed, failed,
skipped (each skip is a justification in the resource's Metadata.checkov), the pass rate, and every failure.

checkov lives in its own virtual environment outside the project (it pins its own libraries):

    python3 -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip install 'checkov==3.3.*'
    make synth && .venv/bin/python bench/checkov.py cdk.out      # or: make checkov

Exit 0 when the pass rate is at least --min-pass (default 98%), 1 below it, 2 when checkov or the
assembly is missing. Not part of `make test` (checkov is not a project dependency and takes ~50 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

DEFAULT_CHECKOV = "/tmp/checkov-venv/bin/checkov"


def run_checkov(checkov: str, outdir: Path) -> dict:  # type: ignore[type-arg]
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE")  # no download of Prisma Cloud's mapping: offline
    result = subprocess.run(
        [checkov, "-d", str(outdir), "--framework", "cloudformation", "--skip-download", "--compact", "--quiet",
         "-o", "json"], capture_output=True, text=True, env=env)
    if not result.stdout.strip():
        raise SystemExit(f"checkov produced no report (exit {result.returncode}): {result.stderr.strip()[-500:]}")
    data = json.loads(result.stdout)
    reports = data if isinstance(data, list) else [data]
    return next(r for r in reports if r.get("check_type") == "cloudformation")  # type: ignore[no-any-return]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("outdir", nargs="?", default="cdk.out", type=Path, help="the cloud assembly (default: cdk.out)")
    p.add_argument("--checkov", default=os.environ.get("CHECKOV", DEFAULT_CHECKOV),
                   help=f"the checkov executable (default: $CHECKOV or {DEFAULT_CHECKOV})")
    p.add_argument("--min-pass", type=float, default=98.0, help="pass rate (percent) below which to exit 1")
    args = p.parse_args()
    checkov = args.checkov if Path(args.checkov).exists() else shutil.which(args.checkov)
    if not checkov:
        print(f"checkov not found at {args.checkov}: python3 -m venv /tmp/checkov-venv && "
              "/tmp/checkov-venv/bin/pip install 'checkov==3.3.*'", file=sys.stderr)
        return 2
    if not (args.outdir / "manifest.json").exists():
        print(f"{args.outdir}/manifest.json not found: synthesize first (make synth)", file=sys.stderr)
        return 2
    report = run_checkov(checkov, args.outdir)
    summary = report["summary"]
    passed, failed, skipped = summary["passed"], summary["failed"], summary["skipped"]
    rate = 100.0 * passed / (passed + failed) if passed + failed else 100.0
    print(f"checkov {summary.get('checkov_version', '?')} on {args.outdir}: {passed} passed, {failed} failed, "
          f"{skipped} skipped (justified in Metadata.checkov), {summary['resource_count']} resources; "
          f"pass rate {rate:.1f}% (minimum {args.min_pass}%)")
    for f in report["results"]["failed_checks"]:
        print(f"  FAILED {f['check_id']} {Path(f['file_path']).name} {f['resource']}: {f['check_name']}")
    return 0 if rate >= args.min_pass else 1


if __name__ == "__main__":
    sys.exit(main())
