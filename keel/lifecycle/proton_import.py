"""`keel import-proton DIR`: map a folder of AWS Proton templates and specs onto Keel's registry.

Reads every Proton template version under DIR (`<template>/v<N>/schema/schema.yaml`, plus
`.compatible-envs` for service templates) and every Proton spec file (`proton: EnvironmentSpec` or
`ServiceSpec`). For each Proton template it finds the Keel template with the most inputs in common
(the same name first) and compares the schemas with the lifecycle's compatibility check, Proton's
schema as the "old" version: no breaking change means Keel accepts every spec Proton accepted. Then it
writes a `platform.yaml` fragment for the specs that validate against the matched Keel template, and
says why the others do not.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from keel.contract.registry import Registry, TemplateVersion
from keel.contract.schema import InputSchema, SchemaDefinitionError, load_proton_schema
from keel.lifecycle.compat import Change, compare_schemas
from keel.spec import SpecError, load_platform
from keel.spec.yamlio import YamlReadError, read_yaml

_VERSION_DIR = re.compile(r"^v(0|[1-9][0-9]*)$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class ProtonTemplate:
    name: str
    major: int
    kind: str  # environment | service
    folder: Path  # the `v<N>` folder
    schemas: Mapping[str, InputSchema]
    compatible_environments: tuple[tuple[str, int], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name}:{self.major}"


@dataclass(frozen=True)
class ProtonSpec:
    file: Path
    kind: str  # environment | service
    doc: Mapping[str, Any]


@dataclass
class Match:
    proton: ProtonTemplate
    keel: TemplateVersion | None
    changes: list[Change] = field(default_factory=list)
    shared: tuple[str, ...] = ()  # input names both have (instance/environment and pipeline)
    proton_only: tuple[str, ...] = ()
    keel_only: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        if self.keel is None:
            return "no match"
        if any(c.blocking for c in self.changes):
            return "partial"
        return "exact" if not self.changes else "compatible"


@dataclass
class ImportResult:
    templates: list[ProtonTemplate]
    matches: list[Match]
    specs: list[ProtonSpec]
    errors: list[str] = field(default_factory=list)  # Proton files Keel could not read
    mapped: list[str] = field(default_factory=list)  # one line per spec written to the fragment
    unmapped: list[str] = field(default_factory=list)  # one line per spec (or instance) left out, and why
    fragment: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sources: dict[tuple[str, str], Path] = field(default_factory=dict)  # (section, name) -> spec file


def discover(root: Path) -> tuple[list[ProtonTemplate], list[ProtonSpec], list[str]]:
    templates: list[ProtonTemplate] = []
    specs: list[ProtonSpec] = []
    errors: list[str] = []
    for schema_file in sorted(root.rglob("schema/schema.yaml")):
        version_dir = schema_file.parent.parent
        match = _VERSION_DIR.match(version_dir.name)
        if not match:
            continue
        try:
            schemas = load_proton_schema(read_yaml(schema_file), source=str(schema_file.relative_to(root)))
        except (SchemaDefinitionError, YamlReadError) as exc:
            errors.append(str(exc))
            continue
        kind = "environment" if "environment" in schemas else "service"
        compatible = []
        envs_file = version_dir / ".compatible-envs"
        if envs_file.exists():
            for line in envs_file.read_text(encoding="utf-8").split():
                name, _, major = line.strip().partition(":")
                if name and major.isdigit():
                    compatible.append((name, int(major)))
        templates.append(ProtonTemplate(name=version_dir.parent.name, major=int(match.group(1)), kind=kind,
                                        folder=version_dir, schemas=schemas, compatible_environments=tuple(compatible)))
    for file in sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")]):
        if "schema" in file.parts or file.name == "manifest.yaml":
            continue
        try:
            doc = read_yaml(file)
        except YamlReadError as exc:
            errors.append(f"{exc.file}: {exc.message}")
            continue
        if isinstance(doc, Mapping) and doc.get("proton") in ("EnvironmentSpec", "ServiceSpec"):
            specs.append(ProtonSpec(file=file, kind="environment" if doc["proton"] == "EnvironmentSpec"
                                    else "service", doc=doc))
    return templates, specs, errors


def match_template(proton: ProtonTemplate, registry: Registry) -> Match:
    """The Keel template (recommended version of each major) sharing the most inputs, same name first;
    none when fewer than half of the Proton template's inputs have a namesake in Keel's."""
    best: tuple[tuple[bool, float, int], Match] | None = None
    for template in registry.templates.values():
        if template.kind != proton.kind:
            continue
        for major in template.majors:
            keel = template.recommended(major)
            assert keel is not None
            match = _compare(proton, keel)
            union = len(match.shared) + len(match.proton_only) + len(match.keel_only)
            # at least half of the Proton template's inputs must exist in Keel's under the same name
            if len(match.shared) * 2 < len(match.shared) + len(match.proton_only):
                continue
            score = (template.name == proton.name, len(match.shared) / union,
                     -sum(c.blocking for c in match.changes))
            if best is None or score > best[0]:
                best = (score, match)
    return best[1] if best else Match(proton=proton, keel=None)


def _compare(proton: ProtonTemplate, keel: TemplateVersion) -> Match:
    changes: list[Change] = []
    shared: list[str] = []
    proton_only: list[str] = []
    keel_only: list[str] = []
    for section, prefix in ((proton.kind, "spec"), ("pipeline", "pipeline")):
        old, new = proton.schemas.get(section), keel.schemas.get(section)
        changes += compare_schemas(old, new, prefix=prefix)
        old_names = set(old.properties()) if old else set()
        new_names = set(new.properties()) if new else set()
        shared += [f"{prefix}.{n}" for n in sorted(old_names & new_names)]
        proton_only += [f"{prefix}.{n}" for n in sorted(old_names - new_names)]
        keel_only += [f"{prefix}.{n}" for n in sorted(new_names - old_names)]
    return Match(proton=proton, keel=keel, changes=changes, shared=tuple(shared),
                 proton_only=tuple(proton_only), keel_only=tuple(keel_only))


def _owner(spec: ProtonSpec, templates: Sequence[ProtonTemplate]) -> ProtonTemplate | None:
    """`<template>/spec/*.yaml` belongs to that template; otherwise the same-kind template nearby whose
    schema refuses the fewest of the spec's inputs."""
    for t in templates:
        if spec.file.parent.parent == t.folder.parent and t.kind == spec.kind:
            return t
    nearby = [t for t in templates if t.kind == spec.kind and spec.file.parent.parent in t.folder.parents]
    scored = sorted(nearby, key=lambda t: (_refusals(spec, t), t.name))
    return scored[0] if scored else None


def _refusals(spec: ProtonSpec, template: ProtonTemplate) -> int:
    schema = template.schemas[template.kind]
    inputs = [spec.doc.get("spec") or {}] if spec.kind == "environment" else \
        [i.get("spec") or {} for i in spec.doc.get("instances") or [] if isinstance(i, Mapping)]
    return sum(len(schema.validate(schema.with_defaults(dict(x)))) for x in inputs if isinstance(x, Mapping))


def import_proton(root: Path, registry: Registry) -> ImportResult:
    templates, specs, errors = discover(root)
    matches = [match_template(t, registry) for t in templates]
    by_template = {m.proton.folder: m for m in matches}
    result = ImportResult(templates=templates, matches=matches, specs=specs, errors=errors,
                          fragment={"environments": [], "services": []})
    owners = {s.file: _owner(s, templates) for s in specs}
    env_specs = [s for s in specs if s.kind == "environment"]
    svc_specs = [s for s in specs if s.kind == "service"]
    used_names = _environment_names(svc_specs, owners)
    for spec in env_specs:
        owner = owners[spec.file]
        match = by_template.get(owner.folder) if owner else None
        shown = _rel(spec.file, root)
        if owner is None or match is None or match.keel is None:
            result.unmapped.append(f"{shown}: no Keel environment template matches "
                                   f"{owner.label if owner else 'its (unknown) Proton template'}")
            continue
        names = used_names.get(owner.name) or [_slug(owner.name)]
        for name in names:
            entry = {"name": name, "template": f"{match.keel.name}:{match.keel.version.major}",
                     "spec": dict(spec.doc.get("spec") or {})}
            problems = _problems(root, {"environments": [entry]}, registry)
            if problems:
                result.unmapped.append(f"{shown} as environment {name} ({match.keel.label}): "
                                       + "; ".join(problems))
                continue
            result.fragment["environments"].append(entry)
            result.sources[("environments", name)] = spec.file
            result.mapped.append(f"{shown} -> environment {name} ({entry['template']})")
    for spec in svc_specs:
        _service(spec, owners[spec.file], by_template, result, root, registry)
    return result


def _environment_names(svc_specs: Sequence[ProtonSpec],
                       owners: Mapping[Path, ProtonTemplate | None]) -> dict[str, list[str]]:
    """Proton environment names come from the service specs' instances: template name -> env names."""
    names: dict[str, list[str]] = {}
    for spec in svc_specs:
        owner = owners[spec.file]
        if owner is None:
            continue
        for inst in spec.doc.get("instances") or []:
            env = str(inst.get("environment", "")) if isinstance(inst, Mapping) else ""
            for env_template, _ in owner.compatible_environments[:1]:
                if env and env not in names.setdefault(env_template, []):
                    names[env_template].append(env)
    return names


def _service(spec: ProtonSpec, owner: ProtonTemplate | None, by_template: Mapping[Path, Match],
             result: ImportResult, root: Path, registry: Registry) -> None:
    shown = _rel(spec.file, root)
    match = by_template.get(owner.folder) if owner else None
    if owner is None or match is None or match.keel is None:
        result.unmapped.append(f"{shown}: no Keel service template matches "
                               f"{owner.label if owner else 'its (unknown) Proton template'}")
        return
    keel = match.keel
    envs = {e["name"]: e for e in result.fragment["environments"]}
    instances = []
    for inst in spec.doc.get("instances") or []:
        env = str(inst.get("environment"))
        if env not in envs:
            result.unmapped.append(f"{shown}: instance {inst.get('name')}: environment {env} was not mapped")
            continue
        instances.append({k: v for k, v in inst.items() if k in ("name", "environment", "spec")})
    if not instances:
        result.unmapped.append(f"{shown}: no instance of {owner.label} could be placed in a mapped environment")
        return
    entry: dict[str, Any] = {"name": _slug(owner.name), "template": f"{keel.name}:{keel.version.major}"}
    if spec.doc.get("pipeline") and keel.pipeline_schema is not None:
        entry["pipeline"] = dict(spec.doc["pipeline"])
    elif spec.doc.get("pipeline"):
        result.unmapped.append(f"{shown}: pipeline inputs dropped ({keel.label} takes none; Keel's delivery is "
                               "configured per service template)")
    entry["instances"] = instances
    used = [envs[i["environment"]] for i in instances]
    problems = _problems(root, {"environments": used, "services": [entry]}, registry)
    if problems:
        result.unmapped.append(f"{shown} as service {entry['name']} ({keel.label}): " + "; ".join(problems))
        return
    result.fragment["services"].append(entry)
    result.sources[("services", entry["name"])] = spec.file
    result.mapped.append(f"{shown} -> service {entry['name']} ({entry['template']}, "
                         f"{len(instances)} instance(s))")


def _problems(root: Path, doc: Mapping[str, Any], registry: Registry) -> list[str]:
    """Validate a fragment in memory, exactly as `keel validate` would."""
    virtual = (root / "keel-import-check.yaml").resolve()
    try:
        load_platform(virtual, registry=registry, texts={virtual: dump_yaml(doc)})
    except SpecError as exc:
        return [f"{p.path}: {p.message}" + (f" (expected {p.expected})" if p.expected else "")
                for p in exc.problems]
    return []


def dump_yaml(doc: object) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold long strings (descriptions, policies)
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def render_fragment(result: ImportResult, root: Path) -> str:
    lines = [f"# Written by `keel import-proton {root}`: the Proton specs Keel can map.",
             "# Review it, add region/availability_zones/account, then merge it into platform.yaml."]
    for section in ("environments", "services"):
        entries = result.fragment.get(section) or []
        if not entries:
            continue
        lines.append(f"{section}:")
        for entry in entries:
            lines.append(f"  # from {_rel(result.sources[(section, entry['name'])], root)}")
            body = dump_yaml([entry]).rstrip("\n").splitlines()
            lines += [f"  {line}" for line in body]
    return "\n".join(lines) + "\n"


def render_report(result: ImportResult, root: Path) -> str:
    from keel.report import render_table

    rows = []
    for m in result.matches:
        rows.append([m.proton.label, m.proton.kind, _rel(m.proton.folder, root),
                     m.keel.label if m.keel else "-", m.status,
                     f"{len(m.shared)}/{len(m.shared) + len(m.proton_only)}"])
    lines = [render_table(["proton template", "kind", "folder", "keel template", "match", "inputs shared"], rows)]
    for m in result.matches:
        if m.keel is None or not (m.changes or m.proton_only):
            continue
        lines.append(f"\n{m.proton.label} -> {m.keel.label}:")
        lines += [f"  {c.render()}" for c in m.changes if c.breaking]
        added = [c.path for c in m.changes if c.kind == "added"]
        if added:
            lines.append(f"  Keel adds {len(added)} optional input(s): " + ", ".join(added))
    lines.append("")
    lines += [f"mapped: {x}" for x in result.mapped]
    lines += [f"not mapped: {x}" for x in result.unmapped]
    lines += [f"unreadable: {x}" for x in result.errors]
    return "\n".join(lines)


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    slug = slug if slug and slug[0].isalpha() else f"t-{slug}"
    return slug[:40] if _NAME.match(slug[:40]) else "imported"


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
