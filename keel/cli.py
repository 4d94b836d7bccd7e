"""The `keel` command. Spec verbs never import aws_cdk, so they answer in well under a second."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from keel.contract.registry import Registry, TemplateRef, Version
from keel.delivery.diff_command import register as add_delivery_commands
from keel.delivery.synth_command import register as add_synth_command
from keel.exits import EXIT_CODES, run
from keel.gitops import register as add_gitops_command
from keel.lifecycle.commands import add_commands as add_lifecycle_commands
from keel.lifecycle.commands import cmd_templates_check, registry_from
from keel.lifecycle.docs import input_rows
from keel.ops.commands import register as add_ops_commands
from keel.report import render_report, report_json, resource_paths
from keel.spec import SpecError, load_platform
from keel.terminal import render_table


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        model = load_platform(args.platform)
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    for note in model.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.quiet:
        return 0
    rows = [[e.stack_name, "environment", e.name, e.template.label, str(e.pinned), e.region or "(agnostic)"]
            for e in model.environments]
    rows += [[i.stack_name, "service", f"{i.service}/{i.name}", i.template.label,
              str(model.service(i.service).pinned), i.environment] for i in model.instances]
    print(render_table(["stack", "kind", "name", "template", "pinned", "region / environment"], rows))
    print(f"\n{model.source}: valid ({len(model.environments)} environment(s), {len(model.services)} "
          f"service(s), {len(model.instances)} instance(s)).")
    return 0


def cmd_templates(args: argparse.Namespace) -> int:
    if args.action == "check":
        return cmd_templates_check(args)
    registry = registry_from(args)
    if args.action == "show":
        return _show(args.name, registry)
    if args.name:
        print(f"keel templates: `list` takes no NAME (got \"{args.name}\"); did you mean "
              f"`keel templates show {args.name}`?", file=sys.stderr)
        return 2
    rows = []
    for version in registry.all_versions():
        template = registry.templates[version.name]
        recommended = template.recommended(version.version.major) is version
        rows.append([version.name, version.kind, str(version.version) + (" (recommended)" if recommended else ""),
                     ", ".join(f"{n}:{m}" for n, m in version.compatible_environments) or "-", template.origin])
    print(render_table(["name", "kind", "version", "compatible environments", "origin"], rows))
    return 0


def _show(text: str | None, registry: Registry) -> int:
    if not text:
        print("keel templates show: give NAME or NAME:VERSION", file=sys.stderr)
        return 2
    name, _, version_text = text.partition(":")
    if version_text and not re.fullmatch(r"[0-9]+(\.[0-9]+)?", version_text):
        print(f"keel templates show: \"{text}\" is not NAME, NAME:MAJOR or NAME:MAJOR.MINOR "
              "(e.g. vpc-env, vpc-env:1, vpc-env:1.2)", file=sys.stderr)
        return 2
    template = registry.templates.get(name)
    if template is None:
        print(f"keel: unknown template \"{name}\" (known: {', '.join(sorted(registry.templates))})", file=sys.stderr)
        return 2
    try:
        version = (template.versions[-1] if not version_text else
                   registry.resolve(TemplateRef(name, Version.parse(version_text).major,
                                                Version.parse(version_text).minor) if "." in version_text
                                    else TemplateRef(name, int(version_text))))
    except (LookupError, ValueError) as exc:
        print(f"keel: {exc}", file=sys.stderr)
        return 2
    print(f"{version.label} ({version.kind})\n{version.description}\n")
    if version.compatible_environments:
        print("compatible environments: " + ", ".join(f"{n}:{m}" for n, m in version.compatible_environments))
    for kind, schema in version.schemas.items():
        rows = input_rows(schema)
        print(f"\n{kind} inputs ({schema.root}):")
        print(render_table(["input", "type", "default", "constraints", "description"], rows))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    outdir = Path(args.outdir)
    if not (outdir / "manifest.json").exists():
        print(f"keel: {outdir}/manifest.json not found: synthesize first (make synth)", file=sys.stderr)
        return 2
    if args.resources:
        found = resource_paths(outdir, args.resources)
        if found is None:
            print(f"keel: no stack {args.resources} in {outdir}", file=sys.stderr)
            return 2
        print(render_table(["construct path (overrides: resource)", "type"], [list(r) for r in found]))
        return 0
    if args.json:
        data, clean = report_json(outdir)
        print(json.dumps(data, indent=2))
        return 0 if clean else 1
    text, clean = render_report(outdir)
    print(text)
    return 0 if clean else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="keel", description="Keel: Proton-style templates in AWS CDK. Every verb but `diff` "
        "works offline without importing CDK. `keel VERB --help` describes a verb.", epilog=EXIT_CODES)
    sub = p.add_subparsers(dest="command", required=True, metavar="VERB")
    v = sub.add_parser("validate", help="validate a platform spec (exit 2 with every problem)",
                       description="Print every spec problem as `file:path: message (got ..., expected ...)`, or a "
                       "summary of the stacks when valid. Exit 0 valid; 2 problems.")
    v.add_argument("platform", nargs="?", default="platform.yaml", help="the platform file (default: platform.yaml)")
    v.add_argument("--quiet", action="store_true", help="print only problems")
    v.set_defaults(func=cmd_validate)
    t = sub.add_parser("templates", help="list templates, `templates show NAME[:VERSION]`, or `templates check`",
                       description="`list` (the default): every template version. `show NAME[:VERSION]`: one "
                       "version's inputs (type, default, constraints). `check`: every minor accepts every spec its "
                       "previous minor accepted. Exit 0; 1 `check` found problems; 2 unknown template or version.")
    t.add_argument("action", nargs="?", choices=["list", "show", "check"], default="list",
                   help="list (default), show or check")
    t.add_argument("name", nargs="?", metavar="NAME[:VERSION]",
                   help="for show: vpc-env (the highest version), vpc-env:1 (recommended 1.x) or vpc-env:1.0")
    t.add_argument("--registry", metavar="DIR",
                   help="a templates folder to use instead of Keel's own (one sub-folder a template)")
    t.add_argument("--platform", metavar="FILE",
                   help="also the templates of this platform file's template_dirs (Keel-native or Proton layout)")
    t.set_defaults(func=cmd_templates)
    r = sub.add_parser("report", help="summarize a synthesized cloud assembly",
                       description="The synth summary table (stack, template, resources, size, findings). "
                       "Exit 0; 1 unacknowledged compliance findings; 2 no cloud assembly there.")
    r.add_argument("outdir", nargs="?", default="cdk.out", metavar="CDK_OUT",
                   help="the cloud assembly folder (default: cdk.out)")
    r.add_argument("--json", action="store_true",
                   help="print one JSON object: stacks (name, template, resources, bytes) and, per cdk-nag pack, "
                        "open and acknowledged findings (gate false: a report-only pack)")
    r.add_argument("--resources", metavar="STACK",
                   help="print the construct paths of STACK's resources: what an override's `resource` may name")
    r.set_defaults(func=cmd_report)
    add_lifecycle_commands(sub)
    add_delivery_commands(sub)
    add_synth_command(sub)
    add_ops_commands(sub)
    add_gitops_command(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    return run(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
