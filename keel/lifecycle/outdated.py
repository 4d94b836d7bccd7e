"""`keel outdated`: which environments and service instances run an older version than they could.

Pins are read from the platform file as written (round-trip YAML, so each pin's line and column are
known for `keel upgrade`), not from the validated model: a platform whose pin names a version that no
longer exists still gets a row saying so. A rolled-back pin (`vpc-env:1.0` after 1.1 shipped) is just
an older pin: it shows here until it is moved forward again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from keel.contract.registry import Registry, Template, TemplateRef, TemplateVersion
from keel.lifecycle.compat import Change, compare_versions, summarize
from keel.spec.load_context import display as _display
from keel.spec.yamlio import YamlReadError, read_yaml


class LifecycleError(Exception):
    """A lifecycle command cannot proceed; the message says why, for a person."""


@dataclass(frozen=True)
class Pin:
    """One `template:` entry: an environment's, or a service's (shared by all of its instances)."""

    kind: Literal["environment", "service"]
    owner: str  # the environment or service name
    text: str  # the pin as written: `vpc-env:1`, `vpc-env:1.0`
    file: Path
    path: str  # `environments[dev].template`
    line: int  # 0-based position of the value, for rewriting it in place
    column: int
    instances: tuple[tuple[str, str], ...] = ()  # (instance, environment) for services
    instances_error: str | None = None

    @property
    def where(self) -> str:
        return f"{_display(self.file)}:{self.path}"

    def ref(self) -> TemplateRef | None:
        try:
            return TemplateRef.parse(self.text)
        except ValueError:
            return None


def load_round_trip(path: Path) -> object:
    """The document with positions and comments (ruamel round-trip): the caller checks its shape."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LifecycleError(f"{_display(path)}: cannot read: {exc.strerror or exc}") from None
    try:
        return YAML(typ="rt", pure=True).load(text)
    except YAMLError as exc:
        raise LifecycleError(f"{_display(path)}: invalid YAML: {exc}") from None


def read_pins(platform: Path) -> list[Pin]:
    doc = load_round_trip(platform)
    if not isinstance(doc, Mapping):
        raise LifecycleError(f"{_display(platform)}: the platform file must be a mapping")
    pins: list[Pin] = []
    for section, kind in (("environments", "environment"), ("services", "service")):
        entries = doc.get(section)
        if entries is not None and not isinstance(entries, list):
            got = json.dumps(entries, default=str)
            raise LifecycleError(f"{_display(platform)}:{section}: has the wrong type (got {got}, expected a list)")
        for i, entry in enumerate(entries or []):
            if not isinstance(entry, Mapping) or "template" not in entry:
                continue
            name = str(entry.get("name", i))
            line, column = entry.lc.value("template")  # type: ignore[attr-defined]
            instances, error = _instances(platform, entry) if kind == "service" else ((), None)
            pins.append(Pin(kind=kind, owner=name, text=str(entry["template"]), file=platform,  # type: ignore[arg-type]
                            path=f"{section}[{name}].template", line=line, column=column,
                            instances=instances, instances_error=error))
    return pins


def _instances(platform: Path, entry: Mapping[str, Any]) -> tuple[tuple[tuple[str, str], ...], str | None]:
    raw: object = entry.get("instances")
    if "spec_file" in entry:
        try:
            doc = read_yaml((platform.parent / str(entry["spec_file"])).resolve())
        except YamlReadError as exc:
            return (), f"{exc.file}: {exc.message}"
        raw = doc.get("instances") if isinstance(doc, Mapping) else None
    items = raw if isinstance(raw, list) else []
    found = tuple((str(i.get("name")), str(i.get("environment"))) for i in items if isinstance(i, Mapping))
    return found, None


@dataclass(frozen=True)
class Row:
    """One environment or service instance and the versions around its pin."""

    pin: Pin
    name: str  # `dev`, or `checkout/prod` for an instance
    current: TemplateVersion | None
    recommended: TemplateVersion | None  # the highest minor of the pinned major
    newest: TemplateVersion | None  # the recommended version of the highest major, when that is newer
    problem: str | None = None

    @property
    def behind_minor(self) -> bool:
        return bool(self.current and self.recommended and self.recommended.version > self.current.version)

    @property
    def behind_major(self) -> bool:
        return self.newest is not None

    @property
    def outdated(self) -> bool:
        return self.behind_minor or self.behind_major or self.problem is not None

    @property
    def status(self) -> str:
        if self.problem:
            return self.problem
        parts = []
        if self.behind_minor and self.recommended:
            parts.append(f"minor {self.recommended.version} available")
        if self.newest:
            parts.append(f"major {self.newest.version} available")
        return "; ".join(parts) or "up to date"

    def changes(self) -> list[tuple[TemplateVersion, TemplateVersion, list[Change]]]:
        """What moving to the recommended minor, then to the newest major, would change."""
        out = []
        if self.current and self.recommended and self.behind_minor:
            out.append((self.current, self.recommended, compare_versions(self.current, self.recommended)))
        if self.current and self.newest:
            out.append((self.current, self.newest, compare_versions(self.current, self.newest)))
        return out


def find_rows(platform: Path, registry: Registry) -> list[Row]:
    return [row for pin in read_pins(platform) for row in _rows(pin, registry)]


def _rows(pin: Pin, registry: Registry) -> Iterator[Row]:
    names = [pin.owner] if pin.kind == "environment" else \
        [f"{pin.owner}/{inst}" for inst, _ in pin.instances] or [f"{pin.owner}/*"]
    current = recommended = newest = None
    problem = None
    ref = pin.ref()
    template: Template | None = registry.templates.get(ref.name) if ref else None
    if ref is None:
        problem = f"not a template reference: {pin.text!r}"
    elif template is None:
        problem = f"unknown template \"{ref.name}\""
    else:
        try:
            current = registry.resolve(ref)
        except LookupError:
            problem = f"pinned version {pin.text} does not exist"
        recommended = template.recommended(ref.major)
        top = template.recommended(template.majors[-1])
        newest = top if top and top.version.major > ref.major else None
    if pin.instances_error and not problem:
        problem = f"instances unknown: {pin.instances_error}"
    for name in names:
        yield Row(pin=pin, name=name, current=current, recommended=recommended, newest=newest, problem=problem)


def render_outdated(rows: Sequence[Row], *, show_all: bool) -> str:
    """The table, then each distinct version step once with its schema changes."""
    from keel.terminal import render_table

    shown = [r for r in rows if show_all or r.outdated]
    envs = sum(r.pin.kind == "environment" for r in rows)
    instances = len(rows) - envs
    if not shown:
        return (f"All {envs} environment(s) and {instances} service instance(s) run the recommended version "
                "of their major, and no newer major exists.")
    table = render_table(
        ["name", "kind", "template", "pinned", "runs", "recommended", "newest major", "changes", "status"],
        [[r.name, r.pin.kind if r.pin.kind == "environment" else "instance", r.pin.text.partition(":")[0],
          r.pin.text, str(r.current.version) if r.current else "-",
          str(r.recommended.version) if r.recommended else "-", str(r.newest.version) if r.newest else "-",
          "; ".join(f"to {new.version}: {summarize(ch)}" for _, new, ch in r.changes()) or "-", r.status]
         for r in shown])
    lines = [table]
    seen: set[tuple[str, str]] = set()
    for row in shown:
        for old, new, changes in row.changes():
            key = (old.label, new.label)
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"\n{old.name} {old.version} -> {new.version}:")
            lines += [f"  {c.render()}" for c in changes] or ["  no input changes"]
    outdated = sum(r.outdated for r in rows)
    lines.append(f"\n{outdated} of {len(rows)} environment(s)/instance(s) could move to a newer version; "
                 "`keel upgrade --to NAME:X.Y --instance NAME` moves them.")
    return "\n".join(lines)

