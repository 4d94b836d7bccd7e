"""`keel diff`: synthesize head and base, diff every stack offline, gate destructive changes.

Exit codes: 0 the gate passed (differences may exist; they are printed), 1 the gate blocked a destructive
change, 2 the diff could not be computed (git, spec or synth failure): CI can tell them apart.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from keel.cdk_context import project_node_first
from keel.delivery.assembly import AssemblyError, read_assembly
from keel.delivery.diff import StackDiff, diff_assemblies
from keel.delivery.gate import evaluate
from keel.delivery.summary import DiffReport, render_markdown, render_text, to_json
from keel.delivery.synth import (
    SynthError,
    default_base,
    empty_assembly,
    export_ref,
    git,
    has_parallel_synth,
    synthesize_tree,
)
from keel.fileio import unsafe_target, write_files
from keel.report import overrides_by_stack
from keel.spec import SpecError, load_platform
from keel.terminal import progress

PASSED, BLOCKED, FAILED = 0, 1, 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = sub.add_parser("diff", help="diff the working tree against a git ref offline; gate destructive changes",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("--base", metavar="REF", help="git ref to compare with (default: merge base with main)")
    d.add_argument("--platform", default=os.environ.get("KEEL_PLATFORM", "platform.yaml"),
                   help="platform spec, in both trees (default: $KEEL_PLATFORM or platform.yaml)")
    d.add_argument("--head-assembly", metavar="DIR", help="use this synthesized cloud assembly as the head "
                   "(e.g. cdk.out after `make synth`) instead of synthesizing the working tree")
    d.add_argument("--base-assembly", metavar="DIR", help="use this cloud assembly as the base instead of a git ref")
    d.add_argument("--allow", action="append", default=[], metavar="PATTERN",
                   help="accept a destructive change: STACK/LOGICAL_ID, LOGICAL_ID, a resource type or a stack "
                        "name (wildcards allowed); repeatable. Adds to delivery.allow_destructive")
    d.add_argument("--markdown", metavar="FILE", help="write the pull-request summary (Markdown) here")
    d.add_argument("--json", metavar="FILE", help="write the structured diff (JSON) here")
    d.add_argument("--no-cache", action="store_true",
                   help="synthesize both trees in full, through app.py (default: `keel synth` and its cache)")
    d.add_argument("--deployed", action="store_true",
                   help="compare with the deployed stacks instead (plain `cdk diff`; needs AWS credentials)")
    d.set_defaults(func=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    if args.deployed:
        return _deployed(args)
    if _refused_outputs(args):  # before two synths, not after them
        return FAILED
    project_node_first()  # the synths below run jsii: on the project's Node
    try:
        allow = [*_spec_allow_list(args), *args.allow]
        with tempfile.TemporaryDirectory(prefix="keel-diff-") as tmp, ThreadPoolExecutor(2) as pool, \
                progress("keel diff: synthesizing the base and the working tree"):
            work = Path(tmp)
            base_tree, base_label = _base_tree(args, work)
            cache = _cache(args, base_tree)
            head_job = pool.submit(_head, args, work, cache)  # two independent synths: run them side by side
            base_dir = _base(args, work, base_tree, cache)
            head_dir, head_label = head_job.result()
            base, head = read_assembly(base_dir), read_assembly(head_dir)
            overridden = {stack: frozenset(e["logical_id"] for e in entries)
                          for stack, entries in overrides_by_stack(head_dir).items()}
    except (SynthError, AssemblyError) as exc:
        print(f"keel diff: could not compute the diff: {exc}", file=sys.stderr)
        return FAILED
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return FAILED
    stacks = tuple(diff_assemblies(base, head))
    report = DiffReport(base=base_label, head=head_label, stacks=stacks, gate=evaluate(stacks, allow),
                        diagram=_changed_diagram(args, stacks), overridden=overridden)
    print(render_text(report))
    files = {}
    if args.markdown:
        files[Path(args.markdown)] = render_markdown(report)
    if args.json:
        files[Path(args.json)] = json.dumps(to_json(report), indent=2) + "\n"
    try:
        write_files(files)  # both or neither
    except OSError as exc:
        print(f"keel diff: cannot write {exc.filename or ''}: {exc.strerror or exc} (nothing was written)",
              file=sys.stderr)
        return FAILED
    return PASSED if report.gate.passed else BLOCKED


def _refused_outputs(args: argparse.Namespace) -> bool:
    """--markdown and --json name files of their own, in the project, that are not folders or under .git."""
    named = [(option, Path(value)) for option, value in (("--markdown", args.markdown), ("--json", args.json))
             if value]
    if len(named) == 2 and os.path.realpath(named[0][1]) == os.path.realpath(named[1][1]):
        print(f"keel diff: --json {named[1][1]}: is also --markdown (expected a file of its own)\n"
              "Nothing was written.", file=sys.stderr)
        return True
    for option, path in named:
        why = unsafe_target(path)
        if why is not None:
            print(f"keel diff: {option} {path}: {why}\nNothing was written.", file=sys.stderr)
            return True
    return False


def _changed_diagram(args: argparse.Namespace, stacks: tuple[StackDiff, ...]) -> str | None:
    """The head platform's diagram, limited to the environments with a changed stack, those highlighted."""
    from keel import diagram

    changed = {d.stack.rsplit("/", 1)[-1] for d in stacks if d.changed}
    if not changed or not Path(args.platform).exists():
        return None
    try:
        model = load_platform(args.platform)
    except SpecError:
        return None  # the synth already read this platform; a diagram is not worth failing the diff for
    return diagram.render(model, highlight=changed, only=diagram.environments_of(model, changed))


def _spec_allow_list(args: argparse.Namespace) -> list[str]:
    if not Path(args.platform).exists():
        return []
    delivery = load_platform(args.platform).delivery
    return list(delivery.allow_destructive) if delivery else []


def _head(args: argparse.Namespace, work: Path, cache: Path | None) -> tuple[Path, str]:
    if args.head_assembly:
        return Path(args.head_assembly), args.head_assembly
    return synthesize_tree(Path.cwd(), work / "head.out", args.platform, cache=cache, jobs=_jobs()), "working tree"


def _base_tree(args: argparse.Namespace, work: Path) -> tuple[Path | None, str]:
    """The base ref exported (None: an assembly was given, or the ref has no platform file), and its label."""
    if args.base_assembly:
        return None, args.base_assembly
    root = Path(git(Path.cwd(), "rev-parse", "--show-toplevel"))
    prefix = git(Path.cwd(), "rev-parse", "--show-prefix")
    ref, name = (args.base, args.base) if args.base else default_base(root)
    commit = export_ref(root, ref, work / "base")
    tree = work / "base" / prefix
    label = f"{name} ({commit[:8]})"
    if not (tree / args.platform).exists():
        return None, f"{label}, no {args.platform}"
    return tree, label


def _base(args: argparse.Namespace, work: Path, tree: Path | None, cache: Path | None) -> Path:
    if args.base_assembly:
        return Path(args.base_assembly)
    if tree is None:
        return empty_assembly(work / "base.out")
    return synthesize_tree(tree, work / "base.out", args.platform, cache=cache, jobs=_jobs())


def _cache(args: argparse.Namespace, base_tree: Path | None) -> Path | None:
    """`keel synth`'s cache of the working tree, for both synths: keys cover each tree's own code, so the base
    ref's stacks live beside the head's without mixing, and a second diff against the same base rebuilds
    nothing there. Only when the base ref has `keel synth` too (an older ref synthesizes through app.py,
    without the CLI's context: both sides must be built the same way)."""
    if args.no_cache or (base_tree is not None and not has_parallel_synth(base_tree)):
        return None
    from keel.delivery.synth_command import CACHE_DIR

    return Path.cwd() / CACHE_DIR


def _jobs() -> int:
    """Head and base synthesize side by side: half the cores each."""
    return max(1, (os.cpu_count() or 1) // 2)


def _deployed(args: argparse.Namespace) -> int:
    """`cdk diff` against what CloudFormation has deployed. It needs credentials; `--fail` makes it exit 1
    on differences. Its exit code cannot tell differences from errors, which is why CI uses the offline
    mode for the gate and this one only as information."""
    cdk = shutil.which("cdk") or "npx"
    command = [cdk] if cdk != "npx" else ["npx", "cdk"]
    command += ["diff", "--fail", "-c", f"keel:platform={args.platform}"]
    if args.head_assembly:
        command += ["--app", args.head_assembly]
    print("+ " + " ".join(command), file=sys.stderr)
    return subprocess.run(command, check=False).returncode
