"""Per manifest type, how many fields `keel import-copilot` maps and how many it reports.

Each manifest under the Copilot reference data (`$KEEL_REFERENCE_DATA/copilot-manifests`, default
`../shared/data/copilot-manifests`) is placed in a workspace of its own, laid out as Copilot does, and imported;
the figures add up over every manifest. A field is a leaf of the manifest (a scalar, a list of scalars, or an
empty map), its `environments.<env>` overrides included. Run: `.venv/bin/python bench/copilot_import.py [--json]`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from keel.lifecycle.copilot_import import FieldStats, import_copilot, place_manifest  # noqa: E402
from keel.report import render_table  # noqa: E402


def data_folder() -> Path:
    return Path(os.environ.get("KEEL_REFERENCE_DATA") or ROOT.parent / "shared" / "data") / "copilot-manifests"


def manifests(folder: Path) -> list[Path]:
    return sorted(p for sub in ("manifest-testdata", "stack-testdata") for p in (folder / sub).rglob("*.yml"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    folder = data_folder()
    files = manifests(folder)
    if not files:
        print(f"no Copilot manifests under {folder}", file=sys.stderr)
        return 2
    totals: dict[str, FieldStats] = {}
    counts: dict[str, int] = {}
    exits: dict[int, int] = {}
    start = time.perf_counter()
    for file in files:
        with tempfile.TemporaryDirectory() as tmp:
            place_manifest(file, Path(tmp))
            result = import_copilot(Path(tmp))
        exits[result.exit_code] = exits.get(result.exit_code, 0) + 1
        for kind, stats in result.stats.items():
            total = totals.setdefault(kind, FieldStats())
            total.mapped += stats.mapped
            total.reported += stats.reported
            counts[kind] = counts.get(kind, 0) + 1
    elapsed = time.perf_counter() - start
    if args.json:
        print(json.dumps({"manifests": len(files), "seconds": round(elapsed, 2), "exit_codes": exits,
                          "types": {k: {"manifests": counts[k], "mapped": v.mapped, "reported": v.reported}
                                    for k, v in sorted(totals.items())}}, indent=2))
        return 0
    rows = [[kind, str(counts[kind]), str(s.mapped), str(s.reported),
             f"{100 * s.mapped / max(1, s.mapped + s.reported):.0f}%"] for kind, s in sorted(totals.items())]
    all_mapped = sum(s.mapped for s in totals.values())
    all_reported = sum(s.reported for s in totals.values())
    rows.append(["all", str(len(files)), str(all_mapped), str(all_reported),
                 f"{100 * all_mapped / max(1, all_mapped + all_reported):.0f}%"])
    print(render_table(["manifest type", "manifests", "fields mapped", "fields reported", "mapped"], rows))
    print(f"\n{len(files)} manifests from {folder} imported in {elapsed:.1f} s; exit codes: "
          + ", ".join(f"{code}: {n}" for code, n in sorted(exits.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
