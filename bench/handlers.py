"""Cold import time of each Lambda handler module against a bare `import boto3`, and package sizes.

Each sample is a fresh interpreter (what a cold start pays for imports); the figure is the median.
Handler sources are never byte-compiled ahead (packages exclude *.pyc), libraries keep theirs (as the
Powertools layer and the runtime's boto3 do). Run: `.venv/bin/python bench/handlers.py [--runs N]`.
Target (issue 6): at most 50 ms above boto3, packages well under 1 MB.
"""

from __future__ import annotations

import argparse
import fnmatch
import io
import json
import os
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_SRC = ROOT / "lambda_src"
HANDLERS = ["api.handler", "event_worker.handler", "scheduled_job.handler", "secret_rotation.handler"]
# The same patterns as keel.constructs.function.ASSET_EXCLUDES (kept CDK-free here; a test compares them),
# matched like CDK's glob excludes: against any path component.
EXCLUDES = ["__pycache__", "*.pyc", "*.pyo", "tests", "test_*.py", "*_test.py", "*.md", ".pytest_cache",
            ".mypy_cache", ".ruff_cache", ".DS_Store"]
ENV = {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "POWERTOOLS_SERVICE_NAME": "bench",
       "POWERTOOLS_METRICS_NAMESPACE": "Keel", "KEEL_ENVIRONMENT": "dev", "KEEL_SERVICE": "bench",
       "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}


def import_ms(module: str, *, after: str | None = None) -> float:
    """Milliseconds to import `module` in a fresh interpreter (after importing `after`, untimed)."""
    code = (f"import {after}; " if after else "") + \
        ("import time; t = time.perf_counter(); import " + module + "; print((time.perf_counter() - t) * 1000)")
    env = {**ENV, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(LAMBDA_SRC), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                         cwd=LAMBDA_SRC)
    return float(out.stdout.strip())


def median_ms(module: str, runs: int, *, after: str | None = None) -> float:
    import_ms(module, after=after)  # warm the OS file cache once; the figure is Python's work, not the disk
    return statistics.median(import_ms(module, after=after) for _ in range(runs))


def excluded(relative: str) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in relative.split("/") for pattern in EXCLUDES)


def package(root: Path, only: str | None = None) -> tuple[int, int]:
    """(files, zipped bytes) of what Code.from_asset would upload (optionally one sub-folder)."""
    buffer = io.BytesIO()
    files = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and not excluded(relative) and (only is None or relative.startswith(only + "/")):
                archive.write(path, relative)
                files += 1
    return files, len(buffer.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    baseline = median_ms("boto3", args.runs)
    rows = []
    for module in HANDLERS:
        ms = median_ms(module, args.runs)
        extra = median_ms(module, args.runs, after="boto3")
        rows.append({"module": module, "import_ms": round(ms, 1), "over_boto3_ms": round(ms - baseline, 1),
                     "after_boto3_ms": round(extra, 1)})
    files, size = package(LAMBDA_SRC)
    sizes = {m.split(".")[0]: package(LAMBDA_SRC, m.split(".")[0])[1] for m in [*HANDLERS, "keel_runtime.x"]}
    result = {"python": sys.version.split()[0], "runs": args.runs, "boto3_ms": round(baseline, 1),
              "handlers": rows, "package": {"files": files, "zip_bytes": size}, "own_code_zip_bytes": sizes}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"cold import, median of {args.runs} fresh processes (Python {result['python']}); "
          "'after boto3' = the handler's own cost with boto3 already imported in the process")
    print(f"  {'import boto3':32} {baseline:7.1f} ms")
    for row in rows:
        name = "import " + row["module"]
        print(f"  {name:32} {row['import_ms']:7.1f} ms  ({row['over_boto3_ms']:+6.1f} ms vs boto3, "
              f"{row['after_boto3_ms']:5.1f} ms after boto3)")
    print(f"deployment package (lambda_src, shared by every function): {files} files, {size / 1024:.1f} KiB zipped")
    for name, bytes_ in sizes.items():
        print(f"  {name + '/':28} {bytes_ / 1024:7.1f} KiB zipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
