"""`keel synth [--jobs N]`: the platform's cloud assembly, stacks built in parallel, unchanged ones reused.

The assembly is what `cdk synth` writes (`cdk deploy --app cdk.out` deploys it); the summary table of
`keel report` follows. Exit codes: 0 written; 1 unacknowledged compliance findings (listed; cdk.out is left
as it was); 2 the synth could not run (spec problems, a bad CRD folder, a failed build; cdk.out untouched).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keel.spec.model import PlatformModel

from keel.delivery.synth import context_of

#: The cache of stack pieces, in the project; `make clean` and `--no-cache` drop it.
CACHE_DIR = Path(".keel-cache") / "synth"
#: Parsed YAML documents in that cache, by their text's digest (never stale: `--no-cache` keeps them).
PARSED_DIR = "yaml"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("synth", help="synthesize every stack into cdk.out, in parallel, reusing unchanged stacks",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--platform", default=os.environ.get("KEEL_PLATFORM", "platform.yaml"),
                   help="platform spec (default: $KEEL_PLATFORM or platform.yaml)")
    s.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes (default: the number of cores)")
    s.add_argument("--out", "-o", default="cdk.out", metavar="DIR", help="the cloud assembly (default: cdk.out)")
    s.add_argument("--no-cache", action="store_true",
                   help="drop the cache and build every stack (the cache then holds this synth's stacks only)")
    s.add_argument("--cache-dir", default=str(CACHE_DIR), metavar="DIR",
                   help=f"where stack pieces are kept (default: {CACHE_DIR})")
    s.add_argument("--context", "-c", action="append", default=[], metavar="KEY=VALUE",
                   help="CDK context, as `cdk synth -c` (adds to cdk.json's)")
    s.add_argument("--quiet", "-q", action="store_true", help="no summary table, only the synth line")
    s.add_argument("--memory", action="store_true", help="print each worker's time and peak memory")
    s.add_argument("--standby", action=argparse.BooleanOptionalAction, default=None,
                   help="leave a warm worker for the next synth, and use the one the last synth left (default: "
                        "at an interactive terminal outside CI; see keel/delivery/standby.py)")
    s.set_defaults(func=cmd_synth)


def parser() -> argparse.ArgumentParser:
    """`keel synth` alone (`python -m keel synth` takes this path: see keel/__main__.py), as keel.cli has it."""
    from keel.exits import EXIT_CODES

    p = argparse.ArgumentParser(prog="keel", epilog=EXIT_CODES)
    register(p.add_subparsers(dest="command", required=True, metavar="VERB"))
    return p


def parse_context(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--context {pair!r}: expected KEY=VALUE")
        out[key] = value
    return out


def _fail(message: str) -> int:
    print(f"keel synth: {message}", file=sys.stderr)
    return 2


def cmd_synth(args: argparse.Namespace) -> int:
    from keel.cdk_context import project_node_first
    from keel.delivery import standby
    from keel.delivery.parallel import Request, Synthesis, SynthFailed, peak_lines

    if args.jobs < 1:
        return _fail(f"--jobs {args.jobs}: expected a number of workers, 1 or more")
    try:
        extra = parse_context(args.context)
    except ValueError as exc:
        return _fail(str(exc))
    root = Path.cwd()
    if not (root / "app.py").exists():
        return _fail(f"{root}: no app.py here: run keel synth in the project's folder (where cdk.json is)")
    context: dict[str, Any] = {**context_of(root), **extra}
    cache = Path(args.cache_dir)
    if args.no_cache:
        drop_stacks(cache)
    project_node_first()  # the workers run jsii on the project's pinned Node, as `make synth` does
    keep_warm = standby.wanted(args.standby, os.environ, sys.stdout.isatty())
    request = Request(platform=args.platform, outdir=Path(args.out), jobs=args.jobs, context=context, root=root,
                      cache=cache, validation=os.environ.get("CDK_VALIDATION", "true").lower() != "false",
                      standby=cache.resolve() / standby.FOLDER if keep_warm else None)
    try:
        with Synthesis(request) as synthesis:  # its first worker warms up while the spec is read
            model = _load(args.platform, context, cache)
            if model is None:
                return 2
            result = synthesis.run(model)
    except SynthFailed as exc:
        if exc.report is None:
            print(str(exc), file=sys.stderr)
            return exc.exit_code
        print(findings_text(exc.report), file=sys.stderr)
        return 1
    print(f"keel synth: {result.stacks} stack(s) in {args.out}: {result.built} built in "
          f"{len(result.workers)} worker(s), {result.reused} reused, {result.seconds:.1f} s")
    if args.memory:
        print("\n".join(peak_lines(result)))
    if args.quiet:
        return 0
    from keel.report import render_report

    text, clean = render_report(Path(args.out))
    print(text)
    return 0 if clean else 1


def _load(platform: str, context: Mapping[str, Any], cache: Path) -> PlatformModel | None:
    """The checked model (None: its problems are printed). Parsed YAML and the template registry come from the
    cache when their files are unchanged."""
    from keel.delivery.model_pickle import cached_registry
    from keel.spec import SpecError, load_platform
    from keel.spec.images import from_context
    from keel.spec.yamlio import use_parse_store

    store = use_parse_store(cache / PARSED_DIR)
    try:
        model = load_platform(platform, image_overrides=from_context(dict(context)),
                              registry=cached_registry(cache))
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return None
    store.prune()
    return model


def drop_stacks(cache: Path) -> None:
    """`--no-cache`: every cached stack goes; the parsed template registry (keyed by the code that reads it)
    and the parsed YAML documents (keyed by their text), never stale, stay."""
    from keel.delivery.model_pickle import REGISTRY_DIR
    from keel.delivery.standby import FOLDER as STANDBY_DIR

    if not cache.is_dir():
        return
    for entry in cache.iterdir():
        if entry.name not in (REGISTRY_DIR, PARSED_DIR, STANDBY_DIR):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def findings_text(doc: Mapping[str, Any]) -> str:
    """The open error findings of a failed synth, one `construct path: rule: description` line each."""
    lines = [f"{c.get('constructPath')}: {v.get('ruleName')}: {v.get('description')}"
             for p in doc.get("pluginReports", []) for v in p.get("violations", [])
             if v.get("severity", "error") == "error" for c in v.get("violatingConstructs", [])]
    return "\n".join([*lines, f"{len(lines)} unacknowledged finding(s) (acknowledge each with its reason next to "
                               "the resource: cdk.Validations.of(construct).acknowledge); nothing was written."])
