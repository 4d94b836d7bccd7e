"""Hostile platform files through `keel validate`, each in its own process: exit codes, tracebacks, the
slowest case and the peak memory (RSS of that process, from wait4's rusage).

    .venv/bin/python bench/hostile.py [--fuzz N] [--json out.json]

The fixed cases are tests/spec/hostile_cases.py (one class of abuse each); --fuzz adds N documents drawn
by tests/spec/fuzz_strategies.py (every template version, mutated, with YAML-level abuse)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from keel.contract.registry import TemplateVersion  # noqa: E402
from tests.spec.fuzz_strategies import (  # noqa: E402
    TEXT_MUTATIONS,
    VERSIONS,
    mutate,
    platform_for,
    to_yaml,
)
from tests.spec.hostile_cases import ALL_CASES, LINE, Case, write  # noqa: E402


def fuzz_cases(count: int) -> dict[str, Case]:
    """`count` documents spread over the template versions, one hypothesis run per version as the fuzz tests
    do (a single run that also draws the version trips hypothesis's replay check)."""
    out: dict[str, Case] = {}
    for version in VERSIONS:
        _collect(version, max(1, count // len(VERSIONS)), out)
    return out


def _collect(version: TemplateVersion, count: int, out: dict[str, Case]) -> None:
    @settings(max_examples=count, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data(), mutation=st.sampled_from(sorted(TEXT_MUTATIONS)))
    def collect(data: st.DataObject, mutation: str) -> None:
        doc, files = platform_for(version, data)
        text = TEXT_MUTATIONS[mutation](to_yaml(mutate(doc, data)))
        out[f"fuzz-{len(out):04d}-{version.label}-{mutation}"] = Case(
            {"project/platform.yaml": text, **{f"project/{k}": v for k, v in files.items()}}, "")

    collect()




def run(name: str, case: Case) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        file = write(case, Path(tmp))
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "keel", "validate", "--quiet", str(file)], cwd=tmp,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    lines = err.strip().splitlines()
    located = bool(lines) and all(LINE.match(line) for line in lines[:-1])
    return {"case": name, "exit": proc.returncode, "traceback": "Traceback" in err, "located": located,
            "expected_phrase": (case.expect in err) if case.expect else None,
            "wall_s": round(wall, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fuzz", type=int, default=100, help="generated documents besides the fixed cases")
    parser.add_argument("--json", type=Path, help="write every result here")
    args = parser.parse_args()
    cases = {**ALL_CASES, **fuzz_cases(args.fuzz)}
    results = [run(name, case) for name, case in cases.items()]
    fixed = [r for r in results if not str(r["case"]).startswith("fuzz-")]
    exits: dict[str, int] = {}
    for r in results:
        exits[str(r["exit"])] = exits.get(str(r["exit"]), 0) + 1
    slowest = max(results, key=lambda r: float(r["cpu_s"]))  # type: ignore[arg-type]
    slowest_wall = max(results, key=lambda r: float(r["wall_s"]))  # type: ignore[arg-type]
    biggest = max(results, key=lambda r: float(r["peak_rss_mb"]))  # type: ignore[arg-type]
    bad = [r for r in results if r["traceback"] or r["exit"] not in (0, 2) or (r["exit"] == 2 and not r["located"])]
    accepted = [r["case"] for r in fixed if r["exit"] == 0]
    unmatched = [r["case"] for r in fixed if r["expected_phrase"] is False]
    print(f"cases: {len(results)} ({len(fixed)} fixed hostile, {len(results) - len(fixed)} fuzzed)")
    print(f"exit codes: {dict(sorted(exits.items()))}")
    print(f"tracebacks: {sum(1 for r in results if r['traceback'])}; unlocated or odd exits: {len(bad)}")
    print(f"hostile cases accepted: {len(accepted)} {accepted or ''}")
    print(f"hostile cases without their expected message: {len(unmatched)} {unmatched or ''}")
    print(f"slowest (CPU): {slowest['case']} {slowest['cpu_s']} s CPU, {slowest['wall_s']} s wall")
    print(f"slowest (wall): {slowest_wall['case']} {slowest_wall['wall_s']} s wall")
    print(f"peak memory: {biggest['case']} {biggest['peak_rss_mb']} MB RSS")
    yaml_cases = [r for r in fixed if str(r["case"]) in _yaml_names()]
    worst_yaml = max(yaml_cases, key=lambda r: float(r["peak_rss_mb"]))  # type: ignore[arg-type]
    print(f"worst YAML case: {worst_yaml['case']} {worst_yaml['peak_rss_mb']} MB RSS, {worst_yaml['cpu_s']} s CPU")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if bad or accepted or unmatched else 0


def _yaml_names() -> set[str]:
    from tests.spec.hostile_cases import YAML_CASES

    return set(YAML_CASES)


if __name__ == "__main__":
    sys.exit(main())
