"""Per manifest type, how many fields `keel import-copilot` maps and how many it reports, before and after.

Each manifest under the Copilot reference data (`$KEEL_REFERENCE_DATA/copilot-manifests`, default
`../shared/data/copilot-manifests`) is placed in a workspace of its own, laid out as Copilot does, and imported;
the figures add up over every manifest. A field is a leaf of the manifest (a scalar, a list of scalars, or an
empty map), its `environments.<env>` overrides included.

"Before" is the importer as another commit had it (`--before REF`, default the commit issue 16 part 2 started
from), read from git and run in the same process against today's templates; "after" is this checkout's. `--region`
gives the environments a region, as `keel import-copilot --region` does (an importer that has no such option
runs without it). Run: `.venv/bin/python bench/copilot_import.py [--json] [--before REF] [--region REGION]`.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from keel.lifecycle.copilot_import import FieldStats, import_copilot, place_manifest  # noqa: E402
from keel.report import render_table  # noqa: E402

#: The importer before issue 16 part 2 (static sites, job timeout/retries, external secrets, SNS topics).
BEFORE = "d8a9da7"


def data_folder() -> Path:
    return Path(os.environ.get("KEEL_REFERENCE_DATA") or ROOT.parent / "shared" / "data") / "copilot-manifests"


def manifests(folder: Path) -> list[Path]:
    return sorted(p for sub in ("manifest-testdata", "stack-testdata") for p in (folder / sub).rglob("*.yml"))


def importer_at(ref: str) -> Callable[..., Any] | None:
    """`import_copilot` of keel/lifecycle/copilot_import.py as commit `ref` had it (None: git cannot show it)."""
    shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:keel/lifecycle/copilot_import.py"],
                           capture_output=True, text=True)
    if shown.returncode != 0:
        print(f"no importer at {ref}: {shown.stderr.strip()}", file=sys.stderr)
        return None
    module = types.ModuleType(f"copilot_import_at_{ref}")
    module.__file__ = f"{ref}:keel/lifecycle/copilot_import.py"
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(shown.stdout, module.__file__, "exec"), module.__dict__)
    return module.import_copilot  # type: ignore[no-any-return]


def measure(files: list[Path], run: Callable[..., Any]) -> tuple[dict[str, FieldStats], dict[str, int],
                                                                  dict[int, int], float]:
    totals: dict[str, FieldStats] = {}
    counts: dict[str, int] = {}
    exits: dict[int, int] = {}
    start = time.perf_counter()
    for file in files:
        with tempfile.TemporaryDirectory() as tmp:
            place_manifest(file, Path(tmp))
            result = run(Path(tmp))
        exits[result.exit_code] = exits.get(result.exit_code, 0) + 1
        for kind, stats in result.stats.items():
            total = totals.setdefault(kind, FieldStats())
            total.mapped += stats.mapped
            total.reported += stats.reported
            counts[kind] = counts.get(kind, 0) + 1
    return totals, counts, exits, time.perf_counter() - start


def with_region(run: Callable[..., Any], region: str | None) -> Callable[..., Any]:
    """`run` given the region, when it takes one (older importers did not)."""
    if region is None or "region" not in inspect.signature(run).parameters:
        return run
    return lambda root: run(root, region=region)


def _share(stats: FieldStats) -> str:
    return f"{100 * stats.mapped / max(1, stats.mapped + stats.reported):.0f}%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--before", default=BEFORE, help=f"the commit whose importer is 'before' (default {BEFORE})")
    parser.add_argument("--region", help="the region of every environment (keel import-copilot --region)")
    args = parser.parse_args()
    folder = data_folder()
    files = manifests(folder)
    if not files:
        print(f"no Copilot manifests under {folder}", file=sys.stderr)
        return 2
    after, counts, exits, elapsed = measure(files, with_region(import_copilot, args.region))
    old = importer_at(args.before)
    before = measure(files, with_region(old, args.region))[0] if old is not None else {}
    kinds = sorted(set(after) | set(before))
    if args.json:
        print(json.dumps({"manifests": len(files), "seconds": round(elapsed, 2), "exit_codes": exits,
                          "before": args.before,
                          "types": {k: {"manifests": counts.get(k, 0),
                                        "mapped": after.get(k, FieldStats()).mapped,
                                        "reported": after.get(k, FieldStats()).reported,
                                        "before_mapped": before.get(k, FieldStats()).mapped,
                                        "before_reported": before.get(k, FieldStats()).reported}
                                    for k in kinds}}, indent=2))
        return 0
    rows = []
    for kind in [*kinds, "all"]:
        a = after.get(kind) if kind != "all" else FieldStats(sum(s.mapped for s in after.values()),
                                                             sum(s.reported for s in after.values()))
        b = before.get(kind) if kind != "all" else FieldStats(sum(s.mapped for s in before.values()),
                                                              sum(s.reported for s in before.values()))
        a, b = a or FieldStats(), b or FieldStats()
        rows.append([kind, str(counts.get(kind, 0) if kind != "all" else len(files)),
                     f"{b.mapped} / {b.reported} ({_share(b)})", f"{a.mapped} / {a.reported} ({_share(a)})"])
    print(render_table(["manifest type", "manifests", f"mapped / reported before ({args.before})",
                        "mapped / reported now"], rows))
    print(f"\n{len(files)} manifests from {folder} imported in {elapsed:.1f} s; exit codes now: "
          + ", ".join(f"{code}: {n}" for code, n in sorted(exits.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
