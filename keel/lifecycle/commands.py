"""The lifecycle verbs of the `keel` command. None imports aws_cdk.

Exit codes: 0 done; 1 the check found something (breaking change, outdated with --fail, failed
upgrade check, stale docs, nothing importable); 2 the command cannot run (bad arguments, invalid
platform, unknown template).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from keel.contract.registry import Registry
from keel.spec.registry import default_registry, load_registry

if TYPE_CHECKING:
    from keel.lifecycle.proton_import import ImportResult

#: The `keel` parser's subparsers, which each `_add_<verb>` registers one verb on.
SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def registry_from(args: argparse.Namespace) -> Registry:
    """`--registry DIR`, else Keel's own; plus the platform file's `template_dirs` when the verb names one."""
    root = getattr(args, "registry", None)
    registry = load_registry(Path(root)) if root else default_registry()
    platform = getattr(args, "platform", None)
    if isinstance(platform, str) and Path(platform).is_file():
        from keel.spec.loader import platform_registry

        registry = platform_registry(platform, registry=registry)
    return registry


def refused(verb: str, targets: Sequence[tuple[str, Path]], inputs: Sequence[Path] = ()) -> bool:
    """Print why one of `targets` ((how it was named, path)) may not be written (keel.fileio.unsafe_target),
    or that two name the same file; True when one may not."""
    from keel.fileio import unsafe_target

    seen: dict[Path, str] = {}
    for option, path in targets:
        why = unsafe_target(path, inputs=inputs)
        real = Path(os.path.realpath(path))
        if why is None and real in seen:
            why = f"is also {seen[real]} (expected a file of its own)"
        if why is not None:
            print(f"keel {verb}: {option} {path}: {why}\nNothing was written.", file=sys.stderr)
            return True
        seen[real] = f"{option} {path}"
    return False


def _registry_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--registry", metavar="DIR",
                   help="a templates folder to use instead of Keel's own (one sub-folder a template)")


def cmd_templates_check(args: argparse.Namespace) -> int:
    from keel.lifecycle.compat import check_registry

    registry = registry_from(args)
    problems, notes = check_registry(registry)
    for finding in notes:
        print(f"note: {finding.render()}")
    for finding in problems:
        print(finding.render(), file=sys.stderr)
    versions = len(registry.all_versions())
    if problems:
        print(f"{len(problems)} problem(s) in {versions} template version(s): a minor version must accept every "
              "spec the previous minor accepted; make it a new major, or acknowledge a reviewed change in "
              "template.yaml (acknowledged_changes).", file=sys.stderr)
        return 1
    print(f"{len(registry.templates)} template(s), {versions} version(s): every minor accepts every spec its "
          "previous minor accepted; every compatible environment exists.")
    return 0


def cmd_outdated(args: argparse.Namespace) -> int:
    from keel.lifecycle.outdated import LifecycleError, find_rows, render_outdated

    try:
        rows = find_rows(Path(args.platform), registry_from(args))
    except LifecycleError as exc:
        print(f"keel outdated: {exc}", file=sys.stderr)
        return 2
    print(render_outdated(rows, show_all=args.all))
    return 1 if args.fail and any(r.outdated for r in rows) else 0


def cmd_add(args: argparse.Namespace) -> int:
    from keel.fileio import write_text
    from keel.lifecycle.add_component import AddError, add_component
    from keel.spec import SpecError

    path = Path(args.platform)
    try:
        text = add_component(path, kind=args.kind, name=args.name, service=args.service, instance=args.instance,
                             environment=args.environment)
    except AddError as exc:
        print(f"keel add: {exc}", file=sys.stderr)
        return 2
    except SpecError as exc:
        print(exc.render().replace("nothing was synthesized", f"{path} was not changed"), file=sys.stderr)
        return 1
    try:
        write_text(path, text)
    except OSError as exc:
        print(f"keel add: cannot write {path}: {exc}\n{path} was not changed.", file=sys.stderr)
        return 2
    owner = f"environment {args.environment}" if args.environment else f"service {args.service}"
    print(f"{path}: added {args.kind} \"{args.name}\" to {owner}")
    return 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    from keel.lifecycle.outdated import LifecycleError
    from keel.lifecycle.upgrade import plan_upgrade, render_plan, write

    try:
        plan = plan_upgrade(Path(args.platform), args.to, registry_from(args), only=args.instance or ())
    except LifecycleError as exc:
        print(f"keel upgrade: {exc}", file=sys.stderr)
        return 2
    text = render_plan(plan)
    if not plan.ok:
        print(text, file=sys.stderr)
        return 1
    if text:
        print(text)
    if not plan.moves:
        print("Nothing to change.")
        return 0
    if args.dry_run:
        print("\n" + plan.diff() + "(dry run: nothing was written)")
        return 0
    try:
        written = write(plan)
    except OSError as exc:
        print(f"keel upgrade: cannot write: {exc}\nNothing was written.", file=sys.stderr)
        return 2
    print("Wrote " + ", ".join(str(p) for p in written) + "; `keel validate` and `make synth` show the result.")
    return 0


def cmd_import_proton(args: argparse.Namespace) -> int:
    from keel.lifecycle.proton_import import import_proton

    root = Path(args.dir)
    if not root.is_dir():
        print(f"keel import-proton: {root}: not a directory", file=sys.stderr)
        return 2
    from keel.terminal import progress

    if args.out and not Path(args.out).resolve().parent.is_dir():
        print(f"keel import-proton: --out {args.out}: its folder does not exist\nNothing was written.", file=sys.stderr)
        return 2
    if args.out and not args.suggest and refused("import-proton", _proton_targets(args), _proton_inputs(args, root)):
        return 2
    registry = registry_from(args)
    # Proton specs record no region: --region, else the AWS CLI's own variables
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    out_file = Path(args.out) if args.out and not args.suggest else None
    with progress(f"keel import-proton: matching the templates and specs under {root}"):
        result = import_proton(root, registry, region=region, out=out_file)
    try:
        return _finish_import_proton(args, root, registry, result)
    except BaseException:
        result.discard_starters()
        raise


def _proton_targets(args: argparse.Namespace) -> list[tuple[str, Path]]:
    out = Path(args.out)
    report = Path(args.report) if args.report else out.with_name(f"{out.stem}-import-report.md")
    return [("--out", out), ("--report", report)]


def _proton_inputs(args: argparse.Namespace, root: Path) -> list[Path]:
    """What import-proton reads of its targets: a YAML file under DIR may be a spec (it reads every one)."""
    real_root = root.resolve()
    return [p for _, p in _proton_targets(args)
            if p.suffix in (".yaml", ".yml") and p.is_file() and real_root in p.resolve().parents]


def _finish_import_proton(args: argparse.Namespace, root: Path, registry: Registry, result: ImportResult) -> int:
    """Report, validate as written, write every file or none (starter code folders included)."""
    from keel.fileio import write_files
    from keel.lifecycle.proton_import import (
        render_markdown,
        render_platform,
        render_report,
        render_suggestions,
        validate_written,
    )

    if not result.templates:
        print(f"keel import-proton: no Proton template (<name>/v<N>/schema/schema.yaml) under {root}",
              file=sys.stderr)
        return 2
    if args.suggest:
        print(render_suggestions(result))
        return 0 if any(m.keel is not None for m in result.matches) else 1
    print(render_report(result, root))
    for line in result.unmapped:
        print(f"not mapped: {line}", file=sys.stderr)
    for line in result.errors:
        print(f"unreadable: {line}", file=sys.stderr)
    if result.assumed_region:
        from keel.lifecycle.proton_import import ASSUMED_REGION

        print(f"region assumed: environment(s) {', '.join(result.assumed_region)} need a region and the specs "
              f"record none: placed in {ASSUMED_REGION} (--region REGION or AWS_REGION chooses it)", file=sys.stderr)
    text = render_platform(result, root)
    if not args.out:
        if result.platform.get("environments"):
            print("\n" + text, end="")
        return 0 if not result.unmapped and result.mapped else 1
    out = Path(args.out)
    if not result.platform.get("environments"):
        result.discard_starters()
        print("keel import-proton: no environment spec maps onto a Keel template, so there is no platform to "
              "write\nNothing was written.", file=sys.stderr)
        return 1
    problems = validate_written(out, text, registry)
    if problems:  # each entry validated on its own; together they must too, or nothing is written
        result.discard_starters()
        print("\n".join(problems) + f"\nkeel import-proton: the platform for {out} does not validate\n"
              "Nothing was written.", file=sys.stderr)
        return 2
    report = Path(args.report) if args.report else out.with_name(f"{out.stem}-import-report.md")
    try:
        write_files({out: text, report: render_markdown(result, root)})
    except OSError as exc:
        result.discard_starters()
        print(f"keel import-proton: cannot write: {exc}\nNothing was written.", file=sys.stderr)
        return 2
    written, read = result.spec_count
    files = sum(p.is_file() for p in result.starter_files)
    starters = f"; starter code for {files} file(s) in missing code_dirs (the report says which)" if files else ""
    print(f"\nWrote {out} ({written} of {read} spec file(s); it passes `keel validate`) and {report}{starters}.")
    return 0 if not result.unmapped else 1


def cmd_import_copilot(args: argparse.Namespace) -> int:
    from keel.fileio import write_files
    from keel.lifecycle.copilot_import import CopilotImportError, import_copilot, render_report_markdown

    root = Path(args.dir)
    if not root.is_dir():
        print(f"keel import-copilot: {root}: not a directory", file=sys.stderr)
        return 2
    targets = [("--out", Path(args.out))] + ([("--report", Path(args.report))] if args.report else [])
    if refused("import-copilot", targets, [root / "copilot"]):  # it reads every file under copilot/
        return 2
    try:
        result = import_copilot(root, environments=args.environment or (), connection_arn=args.connection_arn,
                                region=args.region, registry=registry_from(args), out=Path(args.out),
                                report=Path(args.report) if args.report else None)
    except CopilotImportError as exc:
        print(f"keel import-copilot: {exc}\nNothing was written.", file=sys.stderr)
        return 2
    except RecursionError:
        print(f"keel import-copilot: {root}: a manifest is nested too deeply to be a Copilot manifest\n"
              "Nothing was written.", file=sys.stderr)
        return 2
    out = Path(args.out)
    files = {out: result.text}
    if args.report:
        files[Path(args.report)] = render_report_markdown(result, root)
    try:
        write_files(files)
    except OSError as exc:
        print(f"keel import-copilot: cannot write: {exc}\nNothing was written.", file=sys.stderr)
        return 2
    for finding in result.findings:
        print(finding.render(), file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    platform = result.platform
    print(f"Wrote {out}: {len(platform['environments'])} environment(s), {len(platform.get('services', []))} "
          f"service(s), {sum(len(s['instances']) for s in platform.get('services', []))} instance(s)"
          f"{', a delivery section' if 'delivery' in platform else ''}; it passes `keel validate`."
          + (f" Report: {args.report}." if args.report else ""))
    if result.findings:
        print(f"{len(result.findings)} field(s) have no Keel equivalent (listed on stderr"
              f"{' and in ' + args.report if args.report else ''}).")
    return result.exit_code


def cmd_docs(args: argparse.Namespace) -> int:
    from keel.fileio import write_files
    from keel.lifecycle.docs import render_docs, stale_docs

    registry = registry_from(args)
    out = Path(args.out)
    if args.check:
        stale = stale_docs(registry, out)
        for line in stale:
            print(f"{out}/{line}", file=sys.stderr)
        if stale:
            print(f"{len(stale)} page(s) out of date: run `keel docs --out {out}`", file=sys.stderr)
            return 1
        print(f"{out}: up to date with the registry.")
        return 0
    pages = {out / relative: text for relative, text in render_docs(registry).items()}
    if Path(os.path.realpath(out)).is_file():
        print(f"keel docs: --out {out}: is a file (expected a folder for the pages)\nNothing was written.",
              file=sys.stderr)
        return 2
    if refused("docs", [("page", path) for path in pages]):
        return 2
    try:
        write_files(pages, parents=True)
    except OSError as exc:
        print(f"keel docs: cannot write: {exc}\nNothing was written.", file=sys.stderr)
        return 2
    written = list(pages)
    print(f"Wrote {len(written)} page(s) to {out}/ (index.md and one page per template version).")
    return 0


def add_commands(sub: SubParsers) -> None:
    """Register the lifecycle subcommands on the `keel` parser's subparsers, one function per verb."""
    _add_outdated(sub)
    _add_upgrade(sub)
    _add_add(sub)
    _add_import_proton(sub)
    _add_import_copilot(sub)
    _add_docs(sub)


def _add_outdated(sub: SubParsers) -> None:
    o = sub.add_parser("outdated", help="environments and instances pinned older than the recommended version",
                       description="Environments and instances pinned below the recommended version, and what "
                       "changed in the schema. Exit 0; 1 with --fail when something is outdated; 2 unreadable "
                       "platform.")
    o.add_argument("platform", nargs="?", default="platform.yaml", help="the platform file (default: platform.yaml)")
    o.add_argument("--all", action="store_true", help="list up-to-date entries too")
    o.add_argument("--fail", action="store_true", help="exit 1 when anything is outdated (for CI)")
    _registry_option(o)
    o.set_defaults(func=cmd_outdated)


def _add_upgrade(sub: SubParsers) -> None:
    u = sub.add_parser("upgrade", help="move pins to another version; writes nothing unless the result validates",
                       description="Rewrite the pins in place (comments intact), then validate the whole platform; "
                       "nothing is written unless it validates. Exit 0 written (or nothing to change); 1 the"
                       " upgraded platform does not validate; 2 bad arguments or invalid platform.")
    u.add_argument("platform", nargs="?", default="platform.yaml", help="the platform file (default: platform.yaml)")
    u.add_argument("--to", required=True, metavar="NAME:X.Y", help="the version to pin (NAME:X follows major X)")
    u.add_argument("--instance", action="append", metavar="NAME",
                   help="an environment or service name (repeatable; default: every user of the template)")
    u.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    _registry_option(u)
    u.set_defaults(func=cmd_upgrade)


def _add_add(sub: SubParsers) -> None:
    a = sub.add_parser("add", help="add a component to a service instance (comments intact; only if it validates)",
                       description="`keel add component KIND NAME --service S [--instance I]` (or "
                       "`--environment E`): append the entry to the instance's (environment's) components in the "
                       "platform file; nothing is written unless the platform then validates. Exit 0 written; 1 the "
                       "result does not validate; 2 bad arguments.")
    a.add_argument("what", choices=["component"], help="what to add")
    a.add_argument("kind", metavar="KIND", help="dynamodb-table, s3-bucket, sqs-queue, sns-topic, aurora-postgres, "
                   "efs-filesystem or cloudformation")
    a.add_argument("name", metavar="NAME", help="the component's name (keel-<env>-<service>-<name>)")
    owner = a.add_mutually_exclusive_group(required=True)
    owner.add_argument("--service", metavar="S")
    # shared data stores (issue 15)
    owner.add_argument("--environment", metavar="E", help="a component the environment owns for its services to "
                       "share (they add {use: NAME, access: read|readwrite} to their components)")
    a.add_argument("--instance", metavar="I", help="needed when the service has several instances")
    a.add_argument("--platform", default="platform.yaml", help="the platform file (default: platform.yaml)")
    a.set_defaults(func=cmd_add)


def _add_import_proton(sub: SubParsers) -> None:
    i = sub.add_parser("import-proton", help="map Proton specs onto Keel's templates: a platform that validates",
                       description="Recognise each Proton template by what its CloudFormation offers, map it onto the "
                       "Keel-native template that offers the same, and write a platform of the specs that map with "
                       "all their inputs (environments and services named from the specs' instances). Every other "
                       "spec is reported on stderr and in the Markdown report, with each input that has no "
                       "equivalent and why. The platform is validated before anything is written. Exit 0 every "
                       "spec mapped; 1 some were reported (the rest is written); 2 not a directory, no Proton "
                       "template, or a platform that does not validate (nothing is written).")
    i.add_argument("dir", metavar="DIR",
                   help="Proton templates (<name>/v<N>/schema/schema.yaml) and spec files, in any sub-folders")
    i.add_argument("--out", metavar="FILE", help="write the platform here (default: print it)")
    i.add_argument("--report", metavar="FILE.md",
                   help="the Markdown report (default with --out: FILE's name + -import-report.md beside it)")
    i.add_argument("--region", metavar="REGION",
                   help="the environments' AWS region (Proton specs do not record it), with zones <region>a and "
                   "<region>b; without it environments are region-agnostic")
    i.add_argument("--suggest", action="store_true",
                   help="print, per Proton template, the Keel-native template that offers the same service and "
                   "the input mapping; write nothing")
    _registry_option(i)
    i.set_defaults(func=cmd_import_proton)


def _add_import_copilot(sub: SubParsers) -> None:
    c = sub.add_parser("import-copilot", help="turn an AWS Copilot workspace into a platform file",
                       description="Read a Copilot workspace (copilot/.workspace, every service, job, environment "
                       "and pipeline manifest, addons/ and overrides/), write a platform file that passes `keel "
                       "validate`, and report every manifest field Keel has no equivalent for as `file:path: why "
                       "(got VALUE)` on stderr (and in --report). One service per workload manifest, one instance "
                       "per environment; `environments.<env>` overrides merge into that instance's spec. Exit 0 "
                       "everything mapped; 1 the platform was written and some fields were reported; 2 it cannot "
                       "run (no copilot/ folder, unreadable YAML): nothing is written.")
    c.add_argument("dir", metavar="DIR", help="the workspace root (the folder that contains copilot/)")
    c.add_argument("--out", required=True, metavar="FILE", help="the platform file to write (e.g. platform.yaml)")
    c.add_argument("--environment", action="append", metavar="NAME",
                   help="also create this environment (repeatable; one the workspace describes is not added twice)")
    c.add_argument("--report", metavar="FILE.md", help="also write the report as Markdown here")
    c.add_argument("--connection-arn", metavar="ARN",
                   help="the CodeStar/CodeConnections connection of the pipeline's repository (Copilot named it; "
                   "Keel's delivery.source needs its ARN); without it the delivery section is written commented out")
    c.add_argument("--region", metavar="REGION",
                   help="the application's AWS region (Copilot's workspace does not record it): environments whose "
                   "subnets name no availability zones get it, with zones <region>a and <region>b")
    _registry_option(c)
    c.set_defaults(func=cmd_import_copilot)


def _add_docs(sub: SubParsers) -> None:
    d = sub.add_parser("docs", help="write one Markdown page per template version",
                       description="One Markdown page per template version and an index, from the registry. Exit 0 "
                       "written or up to date; 1 stale pages with --check.")
    d.add_argument("--out", required=True, metavar="DIR", help="folder for the pages (Keel's own: docs/templates)")
    d.add_argument("--check", action="store_true", help="exit 1 if DIR differs from what would be generated")
    _registry_option(d)
    d.set_defaults(func=cmd_docs)
