#!/usr/bin/env python3
"""`keel synth --jobs N` against the empty CDK app, side by side in one run (issue 20's targets).

Cases, each in fresh processes as `make synth` runs them (CloudFormation validation and nag on):
- the empty CDK app (`cdk.App().synth()`), the baseline every ratio is taken against;
- the default platform in one process (app.py, what `cdk synth` runs), for reference;
- the default platform, full synth with N jobs (`keel synth --no-cache`);
- the default platform again after a one-instance change (the cache of the full synth);
- the 500-instance platform of bench/scale.py, full synth with N jobs: ms per instance;
- the same after a one-instance change;
- each one-instance change again with `--standby`: the warm worker the previous synth left claimed (what an
  interactive `keel synth` does by default), after waiting until it reports itself warm.
Peak memory per worker (its Python, and jsii's Node processes) comes from `keel synth --memory`. Each case runs
`--runs` times (default 1; the median is printed). The machine may be shared: the baseline is measured in the
same run so that the ratios compare like with like.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scale import generate  # noqa: E402

EMPTY_APP = "import aws_cdk as cdk\napp = cdk.App()\napp.synth()\n"
TARGETS = {"default, full": 2.0, "default, one instance changed": 1.5, "500 instances, one instance changed": 2.0}
#: How long to wait for a standby to say it is warm (keel.delivery.synth_worker's `keel standby: warm` line).
WARM_WAIT = 120.0
_WORKER = re.compile(r"worker (\d+): (\S+) stack\(s\), ([\d.]+) s, peak memory (\d+) MiB \(Python\) \+ (\d+) MiB")


def env() -> dict[str, str]:
    return dict(os.environ, PATH=f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
                PYTHONDONTWRITEBYTECODE="1")


def empty_app() -> float:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", EMPTY_APP], cwd=ROOT, check=True, capture_output=True,
                       env=dict(env(), CDK_OUTDIR=out, CDK_CONTEXT_JSON=json.dumps(context)))
        return time.perf_counter() - start


def one_process(platform: Path) -> float:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=ROOT, check=True, capture_output=True,
                       env=dict(env(), CDK_OUTDIR=out, CDK_CONTEXT_JSON=json.dumps(context),
                                KEEL_PLATFORM=str(platform)))
        return time.perf_counter() - start


def keel_synth(platform: Path, out: Path, cache: Path, jobs: int, *, full: bool,
               standby: bool = False) -> tuple[float, str]:
    command = [sys.executable, "-m", "keel", "synth", "--platform", str(platform), "--out", str(out),
               "--cache-dir", str(cache), "--jobs", str(jobs), "--quiet", "--memory", *(["--no-cache"] if full else []),
               "--standby" if standby else "--no-standby"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"keel synth failed ({done.returncode}):\n{done.stderr[-3000:]}")
    if full:  # --no-cache dropped the cache; this run filled it again
        assert cache.exists()
    return elapsed, done.stdout


def changed_copy(doc: dict[str, object], path: Path, hours: int = 7) -> Path:
    """The platform with one scheduled instance's schedule changed (one stack's inputs), written to `path`."""
    services = doc["services"]
    assert isinstance(services, list)
    instance = next(i for s in services for i in s["instances"] if "schedule_expression" in (i.get("spec") or {}))
    instance["spec"] = {**instance["spec"], "schedule_expression": f"rate({hours} hours)"}
    path.write_text(json.dumps(doc))
    return path


def leave_standby(platform: Path, out: Path, cache: Path, jobs: int) -> None:
    """A synth that leaves a standby (everything reused), then wait until the standby says it is warm."""
    keel_synth(platform, out, cache, jobs, full=False, standby=True)
    deadline = time.monotonic() + WARM_WAIT
    while time.monotonic() < deadline:
        if any("keel standby: warm" in log.read_text(errors="replace") for log in (cache / "standby").glob("*.log")):
            return
        time.sleep(0.2)
    raise SystemExit("the standby never said it was warm")


def quit_standbys(cache: Path) -> None:
    from keel.delivery.standby import _quit

    for sock in (cache / "standby").glob("*.sock"):
        _quit(sock)


def write_split(doc: dict[str, object], platform: Path) -> list[Path]:
    """The platform with each service's instances in a spec file of its own beside it (`spec_file`, Proton's
    ServiceSpec layout; relative paths and template defaults such as code_dir resolve the same): the loader caps
    one YAML document at 10,000 nodes, which 500 inline instances exceed. Returns every file written."""
    services, files = [], [platform]
    for service in doc["services"]:  # type: ignore[attr-defined]
        spec = {"proton": "ServiceSpec", "instances": service["instances"],
                **({"pipeline": service["pipeline"]} if "pipeline" in service else {})}
        file = platform.with_name(f"{platform.stem}-{service['name']}.yaml")
        file.write_text(json.dumps(spec))
        files.append(file)
        services.append({k: v for k, v in service.items() if k not in ("instances", "pipeline")}
                        | {"spec_file": file.name})
    platform.write_text(json.dumps({**doc, "services": services}))
    return files


def median(runs: int, measure: object) -> tuple[float, str]:
    results = [measure() for _ in range(runs)]  # type: ignore[operator]
    times = [r[0] if isinstance(r, tuple) else r for r in results]
    last = results[-1][1] if isinstance(results[-1], tuple) else ""
    return statistics.median(times), last


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1, help="runs per case (at most 2 on a shared machine)")
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument("--skip-reference", action="store_true", help="skip the one-process synth of the default")
    parser.add_argument("--skip-scale", action="store_true", help="skip the many-instance platform")
    args = parser.parse_args()
    from keel.spec.yamlio import parse_yaml

    rows = Rows()
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".bench-") as tmp:
        work = Path(tmp)
        empty, _ = median(args.runs, empty_app)
        rows.append(("empty CDK app", empty, ""))
        default = ROOT / "platform.yaml"
        if not args.skip_reference:
            rows.append(("default, one process (app.py)", median(args.runs, lambda: one_process(default))[0], ""))
        cache = work / "cache"
        t, out = median(args.runs, lambda: keel_synth(default, work / "out", cache, args.jobs, full=True))
        rows.append((f"default, full, {args.jobs} jobs", t, out))
        doc = parse_yaml(default.read_text(), display=str(default))
        changed = changed_copy(doc, ROOT / f"{work.name}-default.yaml")  # beside platform.yaml: same relative paths
        try:
            t, out = median(args.runs, lambda: keel_synth(changed, work / "out", cache, args.jobs, full=False))
            rows.append(("default, one instance changed", t, out))
            leave_standby(changed, work / "out", cache, args.jobs)
            changed_copy(doc, changed, hours=9)
            t, out = median(1, lambda: keel_synth(changed, work / "out", cache, args.jobs, full=False, standby=True))
            rows.append(("default, one instance changed, warm standby", t, out))
        finally:
            changed.unlink()
            quit_standbys(cache)
        if args.skip_scale:
            report(rows, empty, args.instances)
            return 0
        big_doc = generate(args.instances)
        files = write_split(big_doc, ROOT / f"{work.name}-scale.yaml")
        try:
            cache = work / "cache-scale"
            t, out = median(args.runs, lambda: keel_synth(files[0], work / "out-scale", cache, args.jobs, full=True))
            rows.append((f"{args.instances} instances, full, {args.jobs} jobs", t, out))
            for file in files:
                file.unlink()
            changed_copy(big_doc, ROOT / f"{work.name}-unused.json").unlink()
            files = write_split(big_doc, ROOT / f"{work.name}-scale.yaml")
            t, out = median(args.runs, lambda: keel_synth(files[0], work / "out-scale", cache, args.jobs,
                                                          full=False))
            rows.append((f"{args.instances} instances, one instance changed", t, out))
            leave_standby(files[0], work / "out-scale", cache, args.jobs)
            changed_copy(big_doc, ROOT / f"{work.name}-unused.json", hours=9).unlink()
            files = write_split(big_doc, ROOT / f"{work.name}-scale.yaml")
            t, out = median(1, lambda: keel_synth(files[0], work / "out-scale", cache, args.jobs, full=False,
                                                  standby=True))
            rows.append((f"{args.instances} instances, one instance changed, warm standby", t, out))
        finally:
            quit_standbys(cache)
            for file in files:
                file.unlink(missing_ok=True)
    report(rows, empty, args.instances)
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    return 0


class Rows(list[tuple[str, float, str]]):
    """The rows so far; each is also printed to stderr as it is measured (a cut-short run still tells)."""

    def append(self, row: tuple[str, float, str]) -> None:
        super().append(row)
        line = next((x for x in row[2].splitlines() if x.startswith("keel synth:")), "")
        print(f"measured: {row[0]}: {row[1]:.2f} s (load {os.getloadavg()[0]:.1f}) {line}", file=sys.stderr,
              flush=True)


def report(rows: list[tuple[str, float, str]], empty: float, instances: int) -> None:
    print(f"{'case':<42} {'s':>7} {'x empty':>8} {'target':>8}  synth line")
    for name, seconds, out in rows:
        target = next((f"<= {v}x" for k, v in TARGETS.items() if name.startswith(k)), "")
        line = next((x for x in out.splitlines() if x.startswith("keel synth:")), "")
        print(f"{name:<42} {seconds:>7.2f} {seconds / empty:>7.2f}x {target:>8}  {line.split(': ', 1)[-1]}")
        if name.startswith(f"{instances} instances, full"):
            print(f"{'':<42} {seconds / instances * 1000:>6.1f} ms per instance (target <= 20 ms on 2 cores)")
        for match in _WORKER.finditer(out):
            print(f"{'':<42} worker {match[1]}: {match[2]} stack(s), {match[3]} s, peak {match[4]} MiB Python "
                  f"+ {match[5]} MiB Node")


if __name__ == "__main__":
    sys.exit(main())
