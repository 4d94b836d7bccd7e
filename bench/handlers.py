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
# Each function's folder is its package root (as in Lambda): `import handler` from lambda_src/<function>.
# Every deployed function: a folder of lambda_src/ with a handler.py (shared code folders have none).
FUNCTIONS = sorted(p.parent.name for p in LAMBDA_SRC.glob("*/handler.py"))
# The same patterns as keel.constructs.function.ASSET_EXCLUDES (kept CDK-free here; a test compares them),
# matched like CDK's glob excludes: against any path component.
EXCLUDES = ["__pycache__", "*.pyc", "*.pyo", "tests", "test_*.py", "*_test.py", "*.md", ".pytest_cache",
            ".mypy_cache", ".ruff_cache", ".DS_Store"]
ENV = {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "POWERTOOLS_SERVICE_NAME": "bench",
       "POWERTOOLS_METRICS_NAMESPACE": "Keel", "KEEL_ENVIRONMENT": "dev", "KEEL_SERVICE": "bench",
       "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}


def import_ms(module: str, *, root: Path, after: str | None = None) -> float:
    """Milliseconds to import `module` in a fresh interpreter whose code root is `root` (after importing
    `after`, untimed)."""
    code = (f"import {after}; " if after else "") + \
        ("import time; t = time.perf_counter(); import " + module + "; print((time.perf_counter() - t) * 1000)")
    env = {**ENV, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                         cwd=root)
    return float(out.stdout.strip())


def median_ms(module: str, runs: int, *, root: Path, after: str | None = None) -> float:
    import_ms(module, root=root, after=after)  # warm the file cache once: the figure is Python's work
    return statistics.median(import_ms(module, root=root, after=after) for _ in range(runs))


def excluded(relative: str) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in relative.split("/") for pattern in EXCLUDES)


def package(root: Path) -> tuple[int, int]:
    """(files, zipped bytes) of what Code.from_asset uploads for `root` (links followed, excludes applied)."""
    buffer = io.BytesIO()
    files = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, _, names in sorted(os.walk(root, followlinks=True)):
            for name in sorted(names):
                path = Path(folder) / name
                relative = path.relative_to(root).as_posix()
                if not excluded(relative):
                    archive.write(path, relative)
                    files += 1
    return files, len(buffer.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    baseline = median_ms("boto3", args.runs, root=LAMBDA_SRC)
    rows = []
    for function in FUNCTIONS:
        root = LAMBDA_SRC / function
        ms = median_ms("handler", args.runs, root=root)
        extra = median_ms("handler", args.runs, root=root, after="boto3")
        files, size = package(root)
        rows.append({"function": function, "import_ms": round(ms, 1), "over_boto3_ms": round(ms - baseline, 1),
                     "after_boto3_ms": round(extra, 1), "package_files": files, "package_zip_bytes": size})
    result = {"python": sys.version.split()[0], "runs": args.runs, "boto3_ms": round(baseline, 1), "functions": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"cold import of lambda_src/<function>/handler.py, median of {args.runs} fresh processes "
          f"(Python {result['python']}); 'after boto3': its own cost with boto3 already imported")
    print(f"  {'import boto3':28} {baseline:7.1f} ms")
    for row in rows:
        print(f"  {row['function'] + '/handler':28} {row['import_ms']:7.1f} ms  ({row['over_boto3_ms']:+6.1f} ms vs "
              f"boto3, {row['after_boto3_ms']:5.1f} ms after boto3)   package {row['package_files']} files, "
              f"{row['package_zip_bytes'] / 1024:.1f} KiB zipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
