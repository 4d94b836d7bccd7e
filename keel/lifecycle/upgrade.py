"""`keel upgrade --to NAME:X.Y`: move pins, check the result, write only when everything still validates.

The pin is rewritten in place in the platform file's text (its line and column come from the round-trip
YAML parse), so comments, quoting, key order and blank lines are untouched byte for byte. The whole
platform is then loaded with the rewritten text substituted in memory (`load_platform(texts=...)`):
inline specs and Proton spec files (`spec_file`) are validated against the target version, cross-field
checks and environment compatibility included. Any problem, and nothing is written; the problems are
what must change by hand (for a major: inputs removed or now required).

Proton spec files carry no template version, so an upgrade never needs to rewrite them; they are read
and checked in place, and problems in them are reported with their own file and path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.contract.registry import Registry, TemplateRef, TemplateVersion
from keel.fileio import write_files
from keel.lifecycle.compat import Change, compare_versions
from keel.lifecycle.outdated import LifecycleError, Pin, read_pins
from keel.spec import PlatformModel, SpecError, load_platform
from keel.spec.errors import Problem, join_path
from keel.spec.load_context import display as _display
from keel.spec.yamlio import read_yaml_mapping

_SCALAR = re.compile(r"""'[^']*'|"[^"]*"|[^\s,\]}#'"]+""")


@dataclass(frozen=True)
class Move:
    pin: Pin
    current: TemplateVersion
    target: TemplateVersion
    changes: tuple[Change, ...]

    @property
    def step(self) -> str:
        old, new = self.current.version, self.target.version
        if new == old:
            return "same version, pin rewritten"
        direction = "upgrade" if new > old else "rollback"
        return f"{'minor' if new.major == old.major else 'major'} {direction}"


@dataclass
class Plan:
    target_text: str
    moves: list[Move] = field(default_factory=list)
    unchanged: list[Pin] = field(default_factory=list)
    texts: dict[Path, str] = field(default_factory=dict)  # file -> rewritten text
    originals: dict[Path, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # spec problems after the rewrite

    @property
    def ok(self) -> bool:
        return not self.problems

    def diff(self) -> str:
        out: list[str] = []
        for path, text in self.texts.items():
            shown = _display(path)
            out += difflib.unified_diff(self.originals[path].splitlines(keepends=True),
                                        text.splitlines(keepends=True), f"a/{shown}", f"b/{shown}")
        return "".join(out)


def plan_upgrade(platform: Path, to: str, registry: Registry, *, only: Sequence[str] = ()) -> Plan:
    """Work out every pin to move and check the rewritten platform; writes nothing."""
    try:
        ref = TemplateRef.parse(to)
    except ValueError:
        raise LifecycleError(f"--to {to!r}: expected NAME:MAJOR or NAME:MAJOR.MINOR, e.g. vpc-env:1.1") from None
    try:
        target = registry.resolve(ref)
    except LookupError as exc:
        raise LifecycleError(f"--to {to}: {exc}") from None
    try:
        model = load_platform(platform, registry=registry)
    except SpecError as exc:
        raise LifecycleError(f"{_display(platform)} has problems already; fix them before upgrading:\n"
                             + exc.render()) from None

    pins = [p for p in read_pins(platform) if (p.ref() and p.ref().name == ref.name)]  # type: ignore[union-attr]
    if not pins:
        raise LifecycleError(f"no environment or service in {_display(platform)} uses template \"{ref.name}\"")
    pins = _select(pins, only, ref.name)
    plan = Plan(target_text=str(ref))
    for pin in pins:
        current = registry.resolve(pin.ref())  # type: ignore[arg-type]
        if pin.text == str(ref):
            plan.unchanged.append(pin)
            continue
        plan.moves.append(Move(pin, current, target, tuple(compare_versions(current, target))))
    if not plan.moves:
        return plan

    original = platform.read_text(encoding="utf-8")
    plan.originals[platform.resolve()] = original
    plan.texts[platform.resolve()] = _rewrite(original, [(m.pin, str(ref)) for m in plan.moves])
    try:
        load_platform(platform, registry=registry, texts=plan.texts)
    except SpecError as exc:
        plan.problems = [p.render() for p in exc.problems]
    # The loader stops at the first problem of an entry (a broken environment hides its instances, an
    # unsupported environment hides the instance's inputs); list the rest too, so one pass fixes all.
    for extra in [*_instance_inputs(plan), *_stranded_instances(plan, model)]:
        if extra not in plan.problems:
            plan.problems.append(extra)
    return plan


def _instance_inputs(plan: Plan) -> list[str]:
    """Each moved service's instance inputs against the target schema (the loader's own wording)."""
    out = []
    for move in plan.moves:
        if move.pin.kind != "service":
            continue
        raw, file, prefix = _raw_instances(move.pin)
        schema = move.target.input_schema
        for n, inst in enumerate(raw):
            spec = dict(inst.get("spec") or {}) if isinstance(inst, Mapping) else {}
            for path, message, got, expected in schema.validate(schema.with_defaults(spec)):
                where = join_path(prefix, "instances", n, "spec", *([path] if path else []))
                out.append(Problem(file, where, message, got, expected).render())
    return out


def _raw_instances(pin: Pin) -> tuple[list[Any], str, str]:
    doc = read_yaml_mapping(pin.file)
    entry = next(s for s in doc.get("services") or [] if isinstance(s, Mapping) and s.get("name") == pin.owner)
    if "spec_file" in entry:
        path = (pin.file.parent / str(entry["spec_file"])).resolve()
        return list(read_yaml_mapping(path).get("instances") or []), _display(path), ""
    return list(entry.get("instances") or []), _display(pin.file), f"services[{pin.owner}]"


def _stranded_instances(plan: Plan, model: PlatformModel) -> list[str]:
    """Instances left in a moved environment by a service template that does not support the target."""
    moved = {m.pin.owner: m.target for m in plan.moves if m.pin.kind == "environment"}
    services = {m.pin.owner: m.target for m in plan.moves if m.pin.kind == "service"}
    out = []
    for service in model.services:
        template = services.get(service.name, service.template)
        for inst in service.instances:
            target = moved.get(inst.environment)
            if target is None or template.accepts_environment(target):
                continue
            if any(f'environment "{inst.environment}" uses' in p and template.label in p for p in plan.problems):
                continue
            allowed = ", ".join(f"{n}:{m}" for n, m in template.compatible_environments)
            out.append(f"{service.source}:services[{service.name}]: instance {inst.name} runs in environment "
                       f"{inst.environment}, which would use {target.name}:{target.version.major}; "
                       f"{template.label} supports {allowed} only: move the service to a version that supports "
                       f"it first (keel upgrade --to {template.name}:X.Y --instance {service.name})")
    return out


def _select(pins: list[Pin], only: Sequence[str], template: str) -> list[Pin]:
    if not only:
        return pins
    by_owner = {p.owner: p for p in pins}
    chosen: list[Pin] = []
    for name in only:
        owner, slash, instance = name.partition("/")
        pin = by_owner.get(owner)
        if slash and pin is not None and pin.kind == "service":
            raise LifecycleError(
                f"--instance {name}: versions are pinned per service, and {instance} shares service {owner}'s "
                f"pin with its other instances; use --instance {owner}")
        if pin is None:
            known = ", ".join(sorted(by_owner))
            raise LifecycleError(f"--instance {name}: no environment or service of that name uses "
                                 f"\"{template}\" (these do: {known})")
        if pin not in chosen:
            chosen.append(pin)
    return chosen


def _rewrite(text: str, edits: Sequence[tuple[Pin, str]]) -> str:
    """Replace each pin's scalar at its (line, column); quoting is kept, nothing else moves."""
    lines = text.splitlines(keepends=True)
    for pin, new in sorted(edits, key=lambda e: (e[0].line, e[0].column), reverse=True):
        line = lines[pin.line]
        match = _SCALAR.match(line, pin.column)
        if match is None or match.group(0).strip("'\"") != pin.text:
            raise LifecycleError(f"{pin.where}: cannot find the pin {pin.text!r} at line {pin.line + 1}")
        old = match.group(0)
        quoted = old[0] + new + old[0] if old[0] in "'\"" else new
        lines[pin.line] = line[:match.start()] + quoted + line[match.end():]
    return "".join(lines)


def write(plan: Plan) -> list[Path]:
    """Write every rewritten file, all or none (keel.fileio: each beside its target first, then renamed)."""
    if not plan.ok:
        raise LifecycleError("refusing to write: the upgrade check failed")
    write_files(plan.texts)
    return list(plan.texts)


def render_plan(plan: Plan) -> str:
    lines = []
    for pin in plan.unchanged:
        lines.append(f"{pin.where}: already {pin.text}")
    for move in plan.moves:
        lines.append(f"{move.pin.where}: {move.pin.text} -> {plan.target_text} "
                     f"({move.current.label} -> {move.target.label}, {move.step})")
        lines += [f"  {c.render()}" for c in move.changes]
    if plan.problems:
        lines.append(f"\nThe upgrade check failed; nothing was written. Change these by hand first "
                     f"({len(plan.problems)}):")
        lines += [f"  {p}" for p in plan.problems]
        required = [c for m in plan.moves for c in m.changes if c.kind in ("removed", "required") and c.breaking]
        if required:
            lines.append("Inputs removed or now required by the target version:")
            lines += sorted({f"  {c.path}: {c.message}" for c in required})
    return "\n".join(lines)
