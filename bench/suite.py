#!/usr/bin/env python3
"""Test-suite wall time as CI runs it (`pytest -n 2 --dist loadfile`) and the slowest tests."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile",
                             "--durations=10", "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    out = result.stdout
    summary = next((line for line in reversed(out.splitlines()) if re.search(r"\d+ passed", line)), "?")
    print(f"test suite: {wall:.1f} s wall on 2 workers (goal <= 120 s); {summary.strip('= ')}")
    after = out.split("slowest 10 durations", 1)[-1]
    durations = [line for line in after.splitlines() if re.match(r"^\d+\.\d+s ", line)][:10]
    print("slowest:")
    for line in durations:
        print("  " + line)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
