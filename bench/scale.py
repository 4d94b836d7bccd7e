#!/usr/bin/env python3
"""How Keel grows: synth time, stack sizes, graph depth and memory for generated platforms.

Generates platforms of N service instances (mixed service templates from the registry, 3 environments of
compatible templates), synthesizes each in a fresh process (as `cdk synth` does), median of R runs, with
CDK's CloudFormation validation on and off, and prints one table plus the linear fit of time vs N.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keel.contract.registry import TemplateRef  # noqa: E402
from keel.spec.registry import default_registry  # noqa: E402
from keel.spec.yamlio import parse_yaml  # noqa: E402

REGIONS = ("eu-west-1", "eu-central-1", "us-east-1")


def generate(n: int, source: Path = ROOT / "platform.yaml") -> dict[str, Any]:
    """3 environments and n service instances, mixed over every service template in the default platform.

    Prototypes come from the default platform (so every generated spec is one the templates accept):
    each environment template that a service there uses gives an environment prototype, and each
    service gives an instance prototype (its spec and pipeline). Instances go round-robin over the
    service templates, then over the compatible environments.
    """
    default = parse_yaml((source).read_text(), display=str(source))
    registry = default_registry()
    env_protos = {e["name"]: e for e in default["environments"]}
    services = default.get("services") or []
    used_env_templates: list[str] = []
    for svc in services:
        for inst in svc.get("instances", []):
            template = env_protos[inst["environment"]]["template"].split(":")[0]
            if template not in used_env_templates:
                used_env_templates.append(template)
    protos = [next(e for e in default["environments"] if e["template"].split(":")[0] == t)
              for t in used_env_templates] or default["environments"][:1]
    environments = []
    for i, stage in enumerate(("dev", "staging", "prod")):
        proto = copy.deepcopy(protos[i % len(protos)])
        region = REGIONS[i]
        proto.update(name=stage, region=region, availability_zones=[f"{region}a", f"{region}b"],
                     production=stage == "prod")
        proto.pop("spec_file", None)
        spec = proto.setdefault("spec", {})
        spec.get("network", spec)["vpc_cidr"] = f"10.{10 + i}.0.0/16"
        environments.append(proto)
    doc: dict[str, Any] = {"name": f"scale-{n}", "environments": environments, "services": []}
    if not services:
        return doc
    instance_protos = []
    for svc in services:
        inst = svc["instances"][0]
        template = registry.resolve(TemplateRef.parse(svc["template"]))
        envs = [e["name"] for e in environments
                if (e["template"].split(":")[0], int(e["template"].split(":")[1].split(".")[0]))
                in template.compatible_environments]
        if envs:
            instance_protos.append((svc, inst, envs))
    by_service: dict[str, dict[str, Any]] = {}
    for k in range(n):
        svc, inst, envs = instance_protos[k % len(instance_protos)]
        name = f"{svc['name'][:20]}-{k // (3 * len(instance_protos)):03d}"
        entry = by_service.setdefault(name, {"name": name, "template": svc["template"],
                                             **({"pipeline": svc["pipeline"]} if "pipeline" in svc else {}),
                                             "instances": []})
        env = envs[(k // len(instance_protos)) % len(envs)]
        spec = copy.deepcopy(inst.get("spec") or {})
        inputs = registry.resolve(TemplateRef.parse(svc["template"])).input_schema.properties()
        if "host_header" in inputs:  # one shared listener per environment: distinct rules, as a team would
            spec.update(host_header=f"{name}-i{k:03d}.example.com", listener_rule_priority=k + 1)
        if "namespace" in inputs:  # a Kubernetes namespace is one instance's own
            spec["namespace"] = f"{name}-i{k:03d}"
        entry["instances"].append({"name": f"i{k:03d}", "environment": env, **({"spec": spec} if spec else {})})
    doc["services"] = list(by_service.values())
    return doc


_MEASURE = ("import resource, subprocess, sys\n"
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def synth(platform: Path, *, validation: bool) -> tuple[float, int, Path]:
    out = Path(tempfile.mkdtemp(prefix="keel-scale-"))
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    env = dict(os.environ, CDK_OUTDIR=str(out), CDK_CONTEXT_JSON=json.dumps(context), KEEL_PLATFORM=str(platform))
    if not validation:
        env["CDK_VALIDATION"] = "false"
    # A fresh wrapper per synth: its RUSAGE_CHILDREN max RSS is this synth's alone (app.py or its Node).
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    return elapsed, int(done.stdout.strip().splitlines()[-1]), out


def assembly_facts(out: Path) -> dict[str, Any]:
    manifest = json.loads((out / "manifest.json").read_text())
    stacks = {k: a for k, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"}
    largest = (0, 0, "")
    for name, artifact in stacks.items():
        f = out / artifact["properties"]["templateFile"]
        count = len(json.loads(f.read_text()).get("Resources", {}))
        largest = max(largest, (count, f.stat().st_size, name))
    deps = {k: [d for d in a.get("dependencies", []) if d in stacks] for k, a in stacks.items()}

    def depth(k: str) -> int:
        return 1 + max((depth(d) for d in deps[k]), default=0)

    deepest = max(stacks, key=depth) if stacks else ""
    path = [deepest]
    while path and deps.get(path[-1]):
        path.append(max(deps[path[-1]], key=depth))
    return {"stacks": len(stacks), "largest_resources": largest[0], "largest_kb": largest[1] / 1024,
            "largest_stack": largest[2], "depth": depth(deepest) if deepest else 0,
            "critical_path": " <- ".join(path)}


def fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b x; returns (a, b, r^2)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    return a, b, 1 - ss_res / ss_tot if ss_tot else 1.0


def run_size(n: int, platform: Path, modes: tuple[bool, ...], runs: int, rows: list[tuple[Any, ...]],
             series: dict[bool, list[tuple[int, float]]]) -> None:
    for validation in modes:
        times, peaks, facts = [], [], {}
        for _ in range(runs):
            elapsed, peak, out = synth(platform, validation=validation)
            times.append(elapsed)
            peaks.append(peak)
            facts = assembly_facts(out)
            subprocess.run(["rm", "-rf", str(out)], check=True)
        med = statistics.median(times)
        series[validation].append((n, med))
        rows.append((n, "on" if validation else "off", med, med / max(n, 1) * 1000, facts["stacks"],
                     facts["largest_resources"], facts["largest_kb"], facts["depth"], max(peaks) / 1024))
        print(f"  n={n} validation={'on' if validation else 'off'}: {med:.1f}s", file=sys.stderr)
    print(f"  n={n}: {facts['stacks']} stacks, depth {facts['depth']}, largest {facts['largest_stack']}, "
          f"critical path {facts['critical_path']}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,50,200,500")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--validation", choices=["both", "on", "off"], default="both")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = {"both": (True, False), "on": (True,), "off": (False,)}[args.validation]
    rows: list[tuple[Any, ...]] = []
    series: dict[bool, list[tuple[int, float]]] = {m: [] for m in modes}
    # Next to platform.yaml, so the prototypes' relative paths (code_dir, api_contract) resolve the same.
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".bench-") as tmp:
        for n in sizes:
            platform = ROOT / f"{Path(tmp).name}-platform-{n}.yaml"
            platform.write_text(json.dumps(generate(n)))
            try:
                run_size(n, platform, modes, args.runs, rows, series)
            finally:
                platform.unlink()
    print(f"{'instances':>9} {'valid.':>6} {'median s':>9} {'ms/inst':>8} {'stacks':>6} {'max res':>7} "
          f"{'max KB':>7} {'depth':>5} {'peak MB*':>8}")
    for r in rows:
        print(f"{r[0]:>9} {r[1]:>6} {r[2]:>9.2f} {r[3]:>8.0f} {r[4]:>6} {r[5]:>7} {r[6]:>7.1f} {r[7]:>5} {r[8]:>8.0f}")
    for validation, points in series.items():
        if len(points) >= 2:
            a, b, r2 = fit([p[0] for p in points], [p[1] for p in points])
            print(f"fit (validation {'on' if validation else 'off'}): t = {a:.2f} s + {b * 1000:.1f} ms x instances, "
                  f"r^2 = {r2:.3f}")
    print("* peak MB: the largest resident set of one process of that synth (app.py's Python or its jsii Node "
          "child), not their sum; max over the runs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
