"""`keel import-proton DIR`: AWS Proton templates and specs -> a platform on Keel's own templates.

Reads every Proton template version under DIR (`<template>/v<N>/schema/schema.yaml`, its infrastructure
folders and `.compatible-envs`) and every Proton spec file (`proton: EnvironmentSpec` / `ServiceSpec`).
Each template is recognised by what its CloudFormation offers (keel.lifecycle.proton_families), not by its
name, and mapped onto the Keel-native template that offers the same thing, input by input. Environments
and services are created from the service specs' instance -> environment names. Every spec that maps with
all its inputs is written; every other one is reported with each input that has no equivalent and why.
The platform is validated in memory exactly as `keel validate` does before anything is written. CDK-free.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from keel.contract.naming import keel_name
from keel.contract.registry import Registry, TemplateRef, TemplateVersion, Version
from keel.contract.schema import InputSchema, SchemaDefinitionError, iter_properties, load_proton_schema
from keel.lifecycle.proton_families import (
    NO_FAMILY_WHY,
    WINDOWS_INSTANCE_INPUTS,  # Windows containers (issue 15)
    Capabilities,
    Family,
    Gap,
    InputRule,
    classify,
)
from keel.spec import SpecError, load_platform
from keel.spec.proton import RenderError, environment_context, read_text_file, render
from keel.spec.yamlio import YamlReadError, parse_yaml, read_yaml

_VERSION_DIR = re.compile(r"^v(0|[1-9][0-9]*)$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_INFRA_DIRS = ("infrastructure", "instance_infrastructure", "pipeline_infrastructure")
_RESOURCE_TYPE = re.compile(r"^\s*Type:\s*['\"]?((?:AWS|Custom)::[A-Za-z0-9:]+)", re.MULTILINE)
_EVENT_TYPE = re.compile(r"^\s*Type:\s*['\"]?(SQS|SNS|Api|HttpApi|Schedule|ScheduleV2|EventBridgeRule|"
                         r"CloudWatchEvent|DynamoDB|Kinesis|S3)['\"]?\s*$", re.MULTILINE)
_JINJA = re.compile(r"\{\{|\{%")
#: Where an environment whose template needs a region goes when neither --region nor AWS_REGION names one: Proton
#: kept the region in its own API, not in the spec (every Proton region offered it).
ASSUMED_REGION = "us-east-1"
_EC2_LAUNCH = re.compile(r"LaunchType:\s*['\"]?EC2\b"
                         r"|RequiresCompatibilities:\s*(?:\[\s*['\"]?EC2\b|\n\s*-\s*['\"]?EC2\b)")


@dataclass(frozen=True)
class ProtonTemplate:
    name: str
    major: int
    kind: str  # environment | service
    folder: Path  # the `v<N>` folder
    schemas: Mapping[str, InputSchema]
    capabilities: Capabilities
    compatible_environments: tuple[tuple[str, int], ...] = ()
    description: str = ""

    @property
    def label(self) -> str:
        return f"{self.name}:{self.major}"


@dataclass(frozen=True)
class ProtonSpec:
    file: Path
    kind: str  # environment | service
    doc: Mapping[str, Any]
    read: bool = True  # False: no file; an environment its services name, with its template's defaults


@dataclass(frozen=True)
class InputMapping:
    """One Proton input: where it goes in Keel (None: nowhere) and what the report says about it."""

    section: str  # spec | pipeline
    proton: str
    keel: str | None
    note: str = ""


@dataclass
class Match:
    proton: ProtonTemplate
    family: Family | None
    keel: TemplateVersion | None
    inputs: list[InputMapping] = field(default_factory=list)
    reason: str = ""  # why there is no Keel template (family unknown, version missing)

    @property
    def status(self) -> str:
        if self.keel is None:
            return "no match"
        return "partial" if any(m.keel is None for m in self.inputs) else "all inputs"

    @property
    def ref(self) -> str:
        assert self.keel is not None
        return f"{self.keel.name}:{self.keel.version}"


@dataclass
class Outcome:
    """One spec (an environment spec for one environment name, or a service spec): written, or why not."""

    spec: str  # the spec file, relative to DIR
    what: str  # "environment NAME" | "service NAME"
    target: str  # the Keel template ref, or "-"
    mapped: bool
    reasons: list[str] = field(default_factory=list)  # why not (each input without equivalent, each problem)
    notes: list[str] = field(default_factory=list)  # what changed on the way (renames, translations)
    from_spec: bool = True  # False: an environment no spec describes, written with its template's defaults


@dataclass
class ImportResult:
    templates: list[ProtonTemplate]
    matches: list[Match]
    specs: list[ProtonSpec]
    errors: list[str] = field(default_factory=list)  # files Keel could not read
    jinja_files: list[str] = field(default_factory=list)  # Proton infrastructure files (Jinja CloudFormation)
    outcomes: list[Outcome] = field(default_factory=list)
    platform: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sources: dict[tuple[str, str], Path] = field(default_factory=dict)  # (section, name) -> spec file
    # proton import (issue 15)
    starter_files: list[Path] = field(default_factory=list)  # starter handlers written in missing code_dirs
    assumed_region: list[str] = field(default_factory=list)  # environments placed in ASSUMED_REGION

    def discard_starters(self) -> None:
        """Nothing is written after all (the platform as a whole does not validate, or cannot be written)."""
        _discard(self.starter_files)
        self.starter_files = []

    @property
    def mapped(self) -> list[str]:
        return [f"{o.spec} -> {o.what} ({o.target})" for o in self.outcomes if o.mapped]

    @property
    def unmapped(self) -> list[str]:
        return [f"{o.spec} ({o.what}, {o.target}): " + "; ".join(o.reasons) for o in self.outcomes if not o.mapped]

    @property
    def spec_count(self) -> tuple[int, int]:
        """(spec files written, spec files read): a spec counts when it is in the platform at least once."""
        written = {o.spec for o in self.outcomes if o.mapped and o.from_spec}
        return len(written), len(self.specs)


# --- reading DIR ---------------------------------------------------------------------------------------
def discover(root: Path) -> tuple[list[ProtonTemplate], list[ProtonSpec], list[str], list[str]]:
    templates: list[ProtonTemplate] = []
    specs: list[ProtonSpec] = []
    errors: list[str] = []
    jinja: list[str] = []
    for schema_file in sorted(root.rglob("schema/schema.yaml")):
        version_dir = schema_file.parent.parent
        match = _VERSION_DIR.match(version_dir.name)
        if not match or len(version_dir.name) > 7:
            continue
        try:
            _inside_dir(schema_file, root)
            raw = read_yaml(schema_file)
            schemas = load_proton_schema(raw, source=str(schema_file.relative_to(root)))
        except (SchemaDefinitionError, YamlReadError) as exc:
            errors.append(str(exc))
            continue
        kind = "environment" if "environment" in schemas else "service"
        if kind not in schemas:
            errors.append(f"{_rel(schema_file, root)}:schema: names neither environment_input_type nor "
                          "service_input_type (expected one of them)")
            continue
        compatible = _compatible_envs(version_dir, root, errors)
        templates.append(ProtonTemplate(
            name=version_dir.parent.name, major=int(match.group(1)), kind=kind, folder=version_dir,
            schemas=schemas, capabilities=_capabilities(version_dir, schemas, kind),
            compatible_environments=tuple(compatible), description=_description(raw, schemas[kind].root)))
    infra = {d for t in templates for d in (t.folder / n for n in _INFRA_DIRS) if d.is_dir()}
    for file in sorted({*root.rglob("*.yaml"), *root.rglob("*.yml")}):
        if "schema" in file.parts or file.name == "manifest.yaml":
            continue
        if file.parent in infra or (file.parent / "manifest.yaml").exists():
            jinja.append(_rel(file, root))  # a template's infrastructure file, rendered by Jinja: not a spec
            continue
        spec = _spec(file, root, errors, jinja)
        if spec is not None:
            specs.append(spec)
    return templates, specs, errors, jinja


def _inside_dir(file: Path, root: Path) -> None:
    """A file under DIR that is a symlink out of it is not read (it may be any file of the machine)."""
    try:
        file.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        raise YamlReadError(_rel(file, root), "leads outside the folder (a symlink?): not read",
                            expected=f"a file inside {root}") from None


def _compatible_envs(version_dir: Path, root: Path, errors: list[str]) -> list[tuple[str, int]]:
    envs_file = version_dir / ".compatible-envs"
    if not envs_file.exists() and not envs_file.is_symlink():
        return []
    try:
        _inside_dir(envs_file, root)
        text = read_text_file(envs_file, display=_rel(envs_file, root))
    except YamlReadError as exc:
        errors.append(f"{exc.file}: {exc.message}")
        return []
    compatible = []
    for line in text.split():
        name, _, major = line.strip().partition(":")
        if name and re.fullmatch(r"[1-9][0-9]{0,5}", major):
            compatible.append((name, int(major)))
    return compatible


def _spec(file: Path, root: Path, errors: list[str], jinja: list[str]) -> ProtonSpec | None:
    """A Proton spec file (its shape checked, so every later step reads mappings and lists where Proton's
    specs have them), or None: another YAML file, a Jinja file, or one that cannot be read (`errors`)."""
    try:
        _inside_dir(file, root)
        text = read_text_file(file, display=_rel(file, root))
    except YamlReadError as exc:
        errors.append(f"{exc.file}: {exc.message}")
        return None
    try:
        doc = parse_yaml(text, display=str(file))
    except YamlReadError as exc:
        if _JINJA.search(text):
            jinja.append(_rel(file, root))
        else:
            errors.append(f"{exc.file}: {exc.message}")
        return None
    if not isinstance(doc, Mapping) or doc.get("proton") not in ("EnvironmentSpec", "ServiceSpec"):
        return None
    kind = "environment" if doc["proton"] == "EnvironmentSpec" else "service"
    problem = _spec_shape(doc, kind)
    if problem is not None:
        errors.append(f"{_rel(file, root)}:{problem}")
        return None
    return ProtonSpec(file=file, kind=kind, doc=doc)


def _spec_shape(doc: Mapping[str, Any], kind: str) -> str | None:
    """`path: message (got ..., expected ...)` for the first field of the wrong kind, else None."""
    def wrong(path: str, value: object, expected: str) -> str:
        return f"{path}: has the wrong type (got {json.dumps(value, default=str)[:80]}, expected {expected})"

    for key in ("spec", "pipeline"):
        if doc.get(key) is not None and not isinstance(doc[key], Mapping):
            return wrong(key, doc[key], "a mapping of inputs")
    if kind == "environment":
        return None
    instances = doc.get("instances")
    if instances is not None and not isinstance(instances, list):
        return wrong("instances", instances, "a list of {name, environment, spec}")
    for n, inst in enumerate(instances or []):
        if not isinstance(inst, Mapping):
            return wrong(f"instances[{n}]", inst, "a mapping {name, environment, spec}")
        for key in ("name", "environment"):
            if not isinstance(inst.get(key), str) or not inst[key]:
                return wrong(f"instances[{n}].{key}", inst.get(key), "a name")
        if inst.get("spec") is not None and not isinstance(inst["spec"], Mapping):
            return wrong(f"instances[{n}].spec", inst["spec"], "a mapping of inputs")
    return None


def _capabilities(version_dir: Path, schemas: Mapping[str, InputSchema], kind: str) -> Capabilities:
    """Resource types and SAM event sources of the template's own infrastructure (the pipeline's excluded:
    it says how code is built, not what the service offers), read as text: they are Jinja, not YAML."""
    text = _infrastructure_text(version_dir)
    inputs = frozenset(schemas[kind].properties()) if kind in schemas else frozenset()
    events = frozenset(_EVENT_TYPE.findall(text))
    return Capabilities(resources=frozenset(_RESOURCE_TYPE.findall(text)), events=events, inputs=inputs,
                        scheduled="ScheduleExpression" in text or bool({"Schedule", "ScheduleV2"} & events),
                        ec2_launch=bool(_EC2_LAUNCH.search(text)), windows=_windows(text, schemas))


# Windows containers (issue 15) -------------------------------------------------------------------------
_WINDOWS = re.compile(r"OperatingSystemFamily:\s*['\"]?(WINDOWS_|\{\{[^}]*operating_system_family)")


def _windows(text: str, schemas: Mapping[str, InputSchema]) -> bool:
    """Tasks on a Windows Server runtime platform: the task definition says so, as a literal or through an input
    (Proton's dotnetfx samples take cluster_operating_system_family, as an instance or a pipeline input)."""
    inputs = {n for schema in schemas.values() for n in schema.properties()}
    return bool(_WINDOWS.search(text)) or bool(set(WINDOWS_INSTANCE_INPUTS) & inputs)


def _lift_instance_inputs(doc: Mapping[str, Any], owner: ProtonTemplate) -> Mapping[str, Any]:
    """A Windows template that takes the operating system as a pipeline input (Proton's private dotnetfx sample):
    the value the spec sets, or the schema's default, goes to every instance's spec, where Keel takes it."""
    pipeline_schema = owner.schemas.get("pipeline")
    lifted = [n for n in WINDOWS_INSTANCE_INPUTS if pipeline_schema is not None and n in pipeline_schema.properties()
              and n not in owner.schemas[owner.kind].properties()]
    if not lifted:
        return doc
    pipeline = dict(doc.get("pipeline") or {})
    defaults = pipeline_schema.with_defaults({}) if pipeline_schema is not None else {}
    values = {n: pipeline.pop(n, defaults.get(n)) for n in lifted}
    instances = [{**inst, "spec": {**values, **(inst.get("spec") or {})}} if isinstance(inst, Mapping) else inst
                 for inst in doc.get("instances") or []]
    return {**doc, "pipeline": pipeline, "instances": instances}


def _lifted(note: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """A pipeline note about an input `_lift_instance_inputs` moved to the instances (their notes say where)."""
    return before is not after and any(note.startswith(f"pipeline.{n}:") for n in WINDOWS_INSTANCE_INPUTS)


def _description(raw: object, root: str) -> str:
    types = raw.get("schema", {}).get("types", {}) if isinstance(raw, Mapping) else {}
    found = types.get(root, {}) if isinstance(types, Mapping) else {}
    return str(found.get("description", "")) if isinstance(found, Mapping) else ""


# --- template -> Keel template -------------------------------------------------------------------------
def match_template(proton: ProtonTemplate, registry: Registry) -> Match:
    family = classify(proton.kind, proton.capabilities)
    if family is None:
        offered = sorted(NO_FAMILY_WHY[t] for t in proton.capabilities.resources if t in NO_FAMILY_WHY)
        what = ", ".join(offered) or ("resources " + ", ".join(sorted(proton.capabilities.resources))
                                      if proton.capabilities.resources else "no infrastructure Keel could read")
        return Match(proton=proton, family=None, keel=None,
                     reason=f"no Keel {proton.kind} template offers what it creates ({what})")
    keel = _target(family, registry)
    if keel is None:
        wanted = f"{family.target}:{family.major}" + (f".{family.minor}" if family.minor is not None else "")
        return Match(proton=proton, family=family, keel=None,
                     reason=f"{family.name}: needs {wanted}" + (f" ({family.minor_for})" if family.minor_for else "")
                     + ", which this registry does not have yet")
    return Match(proton=proton, family=family, keel=keel, inputs=_input_mappings(proton, family, keel))


def _target(family: Family, registry: Registry) -> TemplateVersion | None:
    template = registry.templates.get(family.target)
    if template is None or template.kind != family.kind:
        return None
    if family.minor is not None:
        found = template.get(Version(family.major, family.minor))
        if found is None:
            return None
    return template.recommended(family.major)


def _paths(schema: InputSchema | None) -> set[str]:
    return {p for p, _, _ in iter_properties(schema)} if schema is not None else set()


def _rule(rules: Sequence[InputRule], name: str) -> InputRule | None:
    return next((r for r in rules if r.proton == name), None)


def _input_mappings(proton: ProtonTemplate, family: Family, keel: TemplateVersion) -> list[InputMapping]:
    out = []
    for section, schema_key, rules in (("spec", proton.kind, family.rules), ("pipeline", "pipeline",
                                                                             family.pipeline_rules)):
        theirs = proton.schemas.get(schema_key)
        ours = _paths(keel.schemas.get(schema_key))
        for name in theirs.properties() if theirs else ():
            out.append(_one_mapping(section, name, _rule(rules, name), ours, keel.label))
    return out


def _one_mapping(section: str, name: str, rule: InputRule | None, ours: set[str], label: str) -> InputMapping:
    candidates = rule.keel if rule is not None else (name,)
    target = next((c for c in candidates if c in ours), None)
    if target is not None:
        return InputMapping(section, name, target, "renamed" if target != name else "")
    if rule is not None and rule.why:
        return InputMapping(section, name, None, rule.why)
    return InputMapping(section, name, None, f"{label} has no {section} input "
                        + " or ".join(candidates) + " and nothing that does the same")


# --- specs -> platform entries -------------------------------------------------------------------------
def _translate(spec_values: Mapping[str, Any], section: str, proton_schema: InputSchema | None,
               keel_schema: InputSchema | None, mappings: Sequence[InputMapping], family: Family
               ) -> tuple[dict[str, Any], list[str], list[str]]:
    """Proton inputs -> Keel inputs: (values, gaps, notes). Values the spec sets are carried (renamed and
    translated); a Proton default is carried too when Keel's default differs, so the service stays the same."""
    rules = family.rules if section == "spec" else family.pipeline_rules
    by_name = {m.proton: m for m in mappings if m.section == section}
    theirs_defaults = proton_schema.with_defaults({}) if proton_schema else {}
    ours_defaults = keel_schema.with_defaults({}) if keel_schema else {}
    values: dict[str, Any] = {}
    gaps: list[str] = []
    notes: list[str] = []
    names = list(spec_values) + [n for n in theirs_defaults if n not in spec_values]
    for name in names:
        explicit = name in spec_values
        value = spec_values[name] if explicit else theirs_defaults[name]
        where = f"{section}.{name}"
        shown = f"{where}: {value!r}" + ("" if explicit else " (the Proton template's default)")
        mapping = by_name.get(name)
        rule = _rule(rules, name)
        if mapping is None:  # not in the Proton schema: Proton itself would have refused it
            mapping = _one_mapping(section, name, rule, _paths(keel_schema), "the Keel template")
        if mapping.keel is None:
            if explicit or (rule is not None and rule.default_matters):
                gaps.append(f"{shown}: no equivalent: {mapping.note}")
            else:
                notes.append(f"{shown}: left out, no equivalent: {mapping.note}")
            continue
        if rule is not None and rule.convert is not None:
            try:
                value, note = rule.convert(value)
            except Gap as gap:
                (gaps if explicit or rule.default_matters else notes).append(f"{shown}: no equivalent: {gap}")
                continue
            if note:
                notes.append(f"{where}: {note}")
        if not explicit and _get(ours_defaults, mapping.keel) == value:
            continue
        if mapping.keel != name:
            notes.append(f"{where} -> {section}.{mapping.keel}")
        if not explicit and _get(ours_defaults, mapping.keel) is not _MISSING:
            notes.append(f"{section}.{mapping.keel}: {value!r} carried from the Proton template's default "
                         f"(Keel's default is {_get(ours_defaults, mapping.keel)!r})")
        _set(values, mapping.keel, value)
    return values, gaps, notes


_MISSING = object()


def _get(values: Mapping[str, Any], path: str) -> object:
    node: object = values
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _set(values: dict[str, Any], path: str, value: object) -> None:
    *parents, leaf = path.split(".")
    node = values
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _merge(base: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value if not isinstance(value, Mapping) else dict(value)


@dataclass
class _Run:
    """One import's shared state: what is read, what the services need, where the platform goes."""

    root: Path
    registry: Registry
    region: str | None
    check: Path  # the virtual platform file validation runs as (beside the output)
    writes_code: bool  # the platform will be written: starter code folders may be created beside it
    result: ImportResult
    by_folder: dict[Path, Match]
    owners: dict[Path, ProtonTemplate | None]
    # shared data stores (issue 15): environment name -> {Proton output name: (component name, kind)}
    data_stores: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)


@dataclass
class _Planned:
    spec: ProtonSpec
    entry: dict[str, Any] | None
    outcome: Outcome


def import_proton(root: Path, registry: Registry, *, region: str | None = None,
                  out: Path | None = None) -> ImportResult:
    """`region`: where the environments go (Proton specs do not say); zones <region>a and <region>b. Without
    it environments are region-agnostic, which a template that needs its region (a shared load balancer's
    access logs) refuses. `out`: where the platform will be written; relative paths in it (a Lambda's code_dir)
    are checked from there, and a Lambda service's missing code_dir gets a starter handler there."""
    check = (out.resolve().parent if out is not None else root.resolve()) / ".keel-import-check.yaml"
    templates, specs, errors, jinja = discover(root)
    matches = [match_template(t, registry) for t in templates]
    result = ImportResult(templates=templates, matches=matches, specs=specs, errors=errors, jinja_files=jinja,
                          platform={"environments": [], "services": []})
    run = _Run(root=root, registry=registry, region=region, check=check, writes_code=out is not None,
               result=result, by_folder={m.proton.folder: m for m in matches},
               owners={s.file: _owner(s, templates) for s in specs})
    planned, needs, env_names = _plan_services(run, [s for s in specs if s.kind == "service"])
    envs: dict[str, dict[str, Any]] = {}
    for spec in (s for s in specs if s.kind == "environment"):
        _map_environments(run, spec, env_names, needs, envs)
    for spec in _unspecified_environments(run, specs, env_names):
        _map_environments(run, spec, env_names, needs, envs)
    result.platform["environments"] = list(envs.values())
    _place_services(run, planned, envs)
    if not result.platform["services"]:
        del result.platform["services"]
    return result


def _plan_services(run: _Run, svc_specs: Sequence[ProtonSpec]
                   ) -> tuple[list[_Planned], dict[str, dict[str, Any]], dict[Path, list[str]]]:
    """Services first, on paper: what environments they name, and what they need from them."""
    planned: list[_Planned] = []
    needs: dict[str, dict[str, Any]] = {}  # environment name -> spec patch its services need
    env_names: dict[Path, list[str]] = {}  # Proton environment template folder -> environment names
    for spec in svc_specs:
        owner = run.owners[spec.file]
        match = run.by_folder.get(owner.folder) if owner else None
        entry, outcome = _service_entry(spec, owner, match, run)
        planned.append(_Planned(spec, entry, outcome))
        for inst in spec.doc.get("instances") or []:
            env = str(inst.get("environment", "")) if isinstance(inst, Mapping) else ""
            env_template = _environment_template(owner, run, env) if owner and env else None
            if owner is not None and env and not owner.compatible_environments:
                outcome.notes.append(
                    f"environment {env}: template {owner.label} has no .compatible-envs; " +
                    (f"{env_template.label} taken as its environment template" if env_template else
                     "more than one environment template fits it equally: list them in .compatible-envs"))
            if env_template is not None and env not in env_names.setdefault(env_template.folder, []):
                env_names[env_template.folder].append(env)
        if entry is not None and match is not None and match.family and match.family.needs:
            for inst in entry["instances"]:
                _merge(needs.setdefault(inst["environment"], {}), match.family.needs(inst.get("spec") or {}))
    _hear_environment(run, planned)
    return planned, needs, env_names


def _hear_environment(run: _Run, planned: Sequence[_Planned]) -> None:
    """A worker on its environment's topic (Proton) hears the other services of its environment (Keel)."""
    listeners = {m.ref for m in run.result.matches if m.keel and m.family and m.family.hears_environment}
    for item in planned:
        if item.entry is None or item.entry["template"] not in listeners:
            continue
        for inst in item.entry["instances"]:
            spec = inst.setdefault("spec", {})
            if spec.get("event_sources"):
                continue
            senders = sorted(f"keel.{other.entry['name']}" for other in planned
                             if other.entry is not None and other is not item
                             and any(i["environment"] == inst["environment"] for i in other.entry["instances"]))
            if senders:
                spec["event_sources"] = senders
                item.outcome.notes.append(
                    f"instances[{inst['name']}].spec.event_sources: {senders} (Proton's queue took every message "
                    f"of environment {inst['environment']}'s topic: here, the events its other services publish)")
            else:
                item.outcome.reasons.append(
                    f"instances[{inst['name']}]: Proton's queue took every message of environment "
                    f"{inst['environment']}'s topic, and no other imported service runs there to publish: no "
                    "equivalent event source (set spec.event_sources to the sources of the events to receive)")
                item.entry = None
                break


def _map_environments(run: _Run, spec: ProtonSpec, env_names: Mapping[Path, list[str]],
                      needs: Mapping[str, dict[str, Any]], envs: dict[str, dict[str, Any]]) -> None:
    """One environment per name the services use (or the template's name when none does)."""
    owner = run.owners[spec.file]
    match = run.by_folder.get(owner.folder) if owner else None
    names = env_names.get(owner.folder) if owner else None
    taken = {keel_name(n) for n in envs}
    for name in names or [_slug(owner.name if owner else spec.file.parent.name)]:
        if keel_name(name) in taken:
            continue
        outcome = Outcome(spec=_rel(spec.file, run.root), what=f"environment {name}",
                          target=match.ref if match and match.keel else "-", mapped=False,
                          from_spec=spec.read)
        if not outcome.from_spec:
            outcome.notes.append(f"no EnvironmentSpec under the folder describes environment {name}: written "
                                 f"with {owner.label if owner else 'its template'}'s defaults; check them against "
                                 "the environment Proton deployed")
        run.result.outcomes.append(outcome)
        if owner is None or match is None or match.keel is None:
            outcome.reasons.append(match.reason if match else "no Proton environment template owns this spec")
            continue
        taken.add(keel_name(name))
        entry = _environment_entry(run, spec, owner, match, name, needs.get(name), outcome)
        if entry is not None:
            envs[name] = entry
            outcome.mapped = True
            run.result.sources[("environments", name)] = spec.file


def _unspecified_environments(run: _Run, specs: Sequence[ProtonSpec],
                              env_names: Mapping[Path, list[str]]) -> list[ProtonSpec]:
    """Environments the services run in whose template no EnvironmentSpec under DIR describes (the spec was
    kept elsewhere, or the environment was made in Proton's console): an empty spec, so the template's
    defaults apply where its schema has them, and the outcome says so."""
    described = {o.folder for o in (run.owners[s.file] for s in specs if s.kind == "environment") if o}
    out = []
    for template in run.result.templates:
        if template.kind == "environment" and env_names.get(template.folder) and template.folder not in described:
            spec = ProtonSpec(file=template.folder, kind="environment", doc={"proton": "EnvironmentSpec", "spec": {}},
                              read=False)
            run.owners[spec.file] = template
            out.append(spec)
    return out


def _environment_entry(run: _Run, spec: ProtonSpec, owner: ProtonTemplate, match: Match, name: str,
                       needed: Mapping[str, Any] | None, outcome: Outcome) -> dict[str, Any] | None:
    assert match.keel is not None and match.family is not None
    values, gaps, notes = _translate(
        dict(spec.doc.get("spec") or {}), "spec", owner.schemas.get("environment"),
        match.keel.schemas.get("environment"), match.inputs, match.family)
    components = _data_stores(run, spec, owner, match, name, values, gaps, notes)  # shared data stores (issue 15)
    outcome.notes += notes
    if gaps:
        outcome.reasons += gaps
        return None
    if needed:
        _merge(values, needed)
        outcome.notes.append(f"spec: {json.dumps(needed)} added (what its services need)")
    entry = _placed({"name": name, "template": match.ref}, run.region, values, components)
    problems = _problems(run.check, {"environments": [entry]}, run.registry)
    if problems and not run.region and any("region" in p for p in problems):
        # Proton recorded the region in its own API, not in the spec: rather than leave the environment (and so
        # every service that runs there) out, place it in ASSUMED_REGION and say so (stderr, report, the file).
        entry = _placed({"name": name, "template": match.ref}, ASSUMED_REGION, values, components)
        problems = _problems(run.check, {"environments": [entry]}, run.registry)
        if not problems:
            run.result.assumed_region.append(name)
            outcome.notes.append(f"region: {ASSUMED_REGION} assumed, since the template needs one and the spec "
                                 "records none: pass --region REGION (or set AWS_REGION) to choose it")
    if problems:
        outcome.reasons += problems
        return None
    return entry


def _placed(entry: dict[str, Any], region: str | None, values: dict[str, Any],
            components: list[dict[str, Any]] | None) -> dict[str, Any]:
    if region:
        entry |= {"region": region, "availability_zones": [f"{region}a", f"{region}b"]}
    entry["spec"] = values
    if components:  # shared data stores (issue 15)
        entry["components"] = components
    return entry


def _place_services(run: _Run, planned: Sequence[_Planned], envs: Mapping[str, dict[str, Any]]) -> None:
    """Services, placed in the environments that were mapped."""
    used_names: set[str] = set()
    for item in planned:
        entry, outcome = item.entry, item.outcome
        run.result.outcomes.append(outcome)
        if entry is None:
            continue
        missing = sorted({i["environment"] for i in entry["instances"] if i["environment"] not in envs})
        if missing:
            outcome.reasons += [f"instance(s) in environment {e}, which was not mapped" for e in missing]
            continue
        # shared data stores (issue 15)
        _use_data_stores(run, item)
        _handler_folder(item)
        base, n = entry["name"], 1
        while entry["name"] in used_names:
            n += 1
            entry["name"] = f"{base}-{n}"
        outcome.what = f"service {entry['name']}"
        starters = _starter_code(run, entry, outcome)
        platform = {"environments": [envs[e] for e in dict.fromkeys(i["environment"] for i in entry["instances"])],
                    "services": [entry]}
        problems = _problems(run.check, platform, run.registry)
        if problems:
            outcome.reasons += problems
            _discard(starters)
            continue
        run.result.starter_files += starters
        used_names.add(entry["name"])
        run.result.platform["services"].append(entry)
        outcome.mapped = True
        run.result.sources[("services", entry["name"])] = item.spec.file


def _service_entry(spec: ProtonSpec, owner: ProtonTemplate | None, match: Match | None,
                   run: _Run) -> tuple[dict[str, Any] | None, Outcome]:
    shown = _rel(spec.file, run.root)
    name = _slug(owner.name if owner else spec.file.parent.name)
    outcome = Outcome(spec=shown, what=f"service {name}", target=match.ref if match and match.keel else "-",
                      mapped=False)
    if owner is None or match is None or match.keel is None or match.family is None:
        outcome.reasons.append(match.reason if match else "no Proton service template owns this spec")
        return None, outcome
    keel, family = match.keel, match.family
    doc = _lift_instance_inputs(spec.doc, owner)  # Windows containers (issue 15)
    pipeline, gaps, notes = _translate(dict(doc.get("pipeline") or {}), "pipeline",
                                       owner.schemas.get("pipeline"), keel.pipeline_schema, match.inputs, family)
    outcome.notes += [n for n in notes if not _lifted(n, spec.doc, doc)]
    instances = []
    for n, inst in enumerate(doc.get("instances") or []):
        if not isinstance(inst, Mapping):
            continue
        values, inst_gaps, inst_notes = _translate(dict(inst.get("spec") or {}), "spec",
                                                   owner.schemas.get("service"), keel.input_schema, match.inputs,
                                                   family)
        label = f"instances[{inst.get('name', n)}]."
        gaps += [label + g for g in inst_gaps]
        outcome.notes += [label + x for x in inst_notes]
        _merge(values, family.sets)
        placed: dict[str, Any] = {"name": inst.get("name"), "environment": inst.get("environment")}
        if values:
            placed["spec"] = values
        instances.append(placed)
    outcome.notes += list(family.notes) + ([f"spec: {json.dumps(dict(family.sets))} on every instance: "
                                            f"{family.sets_why}"] if family.sets else [])
    if gaps:
        outcome.reasons += gaps
        return None, outcome
    if not instances:
        outcome.reasons.append("the spec has no instances")
        return None, outcome
    entry: dict[str, Any] = {"name": name, "template": match.ref}
    if family.function and "code_dir" not in pipeline and keel.pipeline_schema is not None:
        pipeline["code_dir"] = name
        outcome.notes.append(f"pipeline.code_dir: {name!r} (the Proton pipeline built the function from its "
                             "repository's root; Keel packages code_dir, relative to the platform file)")
    if pipeline and keel.pipeline_schema is not None:
        entry["pipeline"] = pipeline
    entry["instances"] = instances
    return entry, outcome


# shared data stores (issue 15) ------------------------------------------------------------------------
#: Which environment component each data store becomes.
_STORE_KINDS = {"AWS::DynamoDB::Table": "dynamodb-table", "AWS::S3::Bucket": "s3-bucket"}
_ATTRIBUTE_TYPES = {"S": "string", "N": "number", "B": "binary"}
_STREAM_VIEWS = {"KEYS_ONLY": "keys-only", "NEW_IMAGE": "new-image", "OLD_IMAGE": "old-image",
                 "NEW_AND_OLD_IMAGES": "new-and-old-images"}
#: Properties Keel sets its own way on every table and bucket (what the report says about each).
_TABLE_SET = {"BillingMode": "Keel's tables are on demand (PAY_PER_REQUEST)",
              "ProvisionedThroughput": "Keel's tables are on demand (PAY_PER_REQUEST)",
              "SSESpecification": "Keel encrypts the table with the environment's KMS key",
              "TableName": "Keel names the table keel-<env>-shared-<name>",
              "PointInTimeRecoverySpecification": "point-in-time recovery is on in production environments",
              "DeletionProtectionEnabled": "deletion protection is on in production environments",
              "Tags": "Keel tags every resource (keel:environment, keel:template and the spec's tags)"}
_BUCKET_SET = {"BucketEncryption": "Keel encrypts the bucket with the environment's KMS key (SSE-KMS, bucket key)",
               "BucketName": "CloudFormation names the bucket (bucket names are global)",
               "PublicAccessBlockConfiguration": "Keel blocks all public access",
               "OwnershipControls": "Keel enforces bucket-owner object ownership (no ACLs)",
               "LoggingConfiguration": "Keel writes server access logs to a bucket of the component's own",
               "Tags": "Keel tags every resource (keel:environment, keel:template and the spec's tags)"}
_INPUT_REF = re.compile(r"environment\.(?:inputs\.)?([A-Za-z_][A-Za-z0-9_]*)")
_OUTPUT_REF = re.compile(r"environment\.outputs\.([A-Za-z_][A-Za-z0-9_]*)")
_OUTPUT_VARIABLE = re.compile(r"^\s*([A-Z_][A-Z0-9_]*):\s*['\"]?\{\{\s*environment\.outputs\.([A-Za-z0-9_]+)\s*\}\}",
                              re.MULTILINE)


def _infrastructure_text(folder: Path) -> str:
    """The template's infrastructure files as text; one that cannot be read (binary, huge, a symlink out of the
    version folder) counts as empty: the template then offers nothing Keel recognises, and says so."""
    texts = []
    for name in ("infrastructure", "instance_infrastructure"):
        if not (folder / name).is_dir():
            continue
        for f in sorted((folder / name).iterdir()):
            if f.is_file() and f.name != "manifest.yaml":
                try:
                    _inside_dir(f, folder)
                    texts.append(read_text_file(f))
                except YamlReadError:
                    continue
    return "\n".join(texts)


def _data_stores(run: _Run, spec: ProtonSpec, owner: ProtonTemplate, match: Match, name: str,
                 values: dict[str, Any], gaps: list[str], notes: list[str]) -> list[dict[str, Any]]:
    """The environment's tables and buckets, read from its CloudFormation rendered with the spec's inputs, as
    environment components; the inputs they consumed are no longer gaps. Each property Keel has no
    equivalent of is a gap; each it sets its own way, a note."""
    if match.family is None or not match.family.data_stores:
        return []
    schema = owner.schemas["environment"]
    files = [f for f in sorted((owner.folder / "infrastructure").glob("*.y*ml")) if f.name != "manifest.yaml"]
    try:
        rendered = render(files[0], environment_context(name=name, inputs=schema.with_defaults(
            dict(spec.doc.get("spec") or {})), account=None), display=_rel(files[0], run.root)).template
    except (IndexError, RenderError) as exc:
        gaps.append(f"the environment's CloudFormation cannot be rendered: {exc}")
        return []
    consumed = set(_INPUT_REF.findall(_infrastructure_text(owner.folder))) & set(schema.properties())
    consumed -= _paths(match.keel.schemas.get("environment") if match.keel else None)
    for kept in (gaps, notes):
        kept[:] = [g for g in kept if not any(g.startswith(f"spec.{n}: ") for n in consumed)]
    components: list[dict[str, Any]] = []
    outputs: dict[str, tuple[str, str]] = {}
    for logical, resource in (rendered.get("Resources") or {}).items():
        kind = _STORE_KINDS.get(str(resource.get("Type")))
        if kind is None:
            if not str(resource.get("Type")).startswith("AWS::EC2::"):  # vpc-env builds the network itself
                gaps.append(f"resource {logical} ({resource.get('Type')}): no Keel environment component creates it")
            continue
        component = _slug(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", logical))
        props = resource.get("Properties") or {}
        try:
            entry = _table(component, logical, props, gaps, notes) if kind == "dynamodb-table" else \
                _bucket(component, logical, props, gaps, notes)
        except (AttributeError, TypeError, KeyError):  # a property of another shape than CloudFormation's
            gaps.append(f"resource {logical} ({resource.get('Type')}): its properties are not of the shapes "
                        "CloudFormation takes")
            continue
        components.append(entry)
        outputs |= {out: (component, kind) for out, spec_ in (rendered.get("Outputs") or {}).items()
                    if _names_resource(spec_, logical)}
    if consumed:
        notes.append(f"spec.{', spec.'.join(sorted(consumed))}: carried into the components (read from the "
                     "rendered CloudFormation)")
    if "AWS::EC2::VPC" not in owner.capabilities.resources:
        values.setdefault("interface_endpoints", [])
        notes.append("spec.interface_endpoints: [] (the Proton environment had no VPC: Keel's is the cheapest "
                     "vpc-env builds, one NAT gateway and gateway endpoints only)")
    run.data_stores[name] = outputs
    return components


def _names_resource(output: object, logical: str) -> bool:
    value = output.get("Value") if isinstance(output, Mapping) else None
    return isinstance(value, Mapping) and (value.get("Ref") == logical or (
        isinstance(value.get("Fn::GetAtt"), list) and value["Fn::GetAtt"][:1] == [logical]))


def _key(props: Mapping[str, Any], schema: object) -> dict[str, Any]:
    """KeySchema -> {partition_key, sort_key} with the attributes' types from AttributeDefinitions."""
    types = {a.get("AttributeName"): a.get("AttributeType") for a in props.get("AttributeDefinitions") or []
             if isinstance(a, Mapping)}
    out: dict[str, Any] = {}
    for part in schema if isinstance(schema, list) else []:
        role = {"HASH": "partition_key", "RANGE": "sort_key"}.get(str(part.get("KeyType")))
        if role is not None:
            attribute = part.get("AttributeName")
            code = types.get(attribute)
            code = "N" if code is False else code  # YAML 1.1 reads a bare N as false; CloudFormation as "N"
            out[role] = {"name": attribute, "type": _ATTRIBUTE_TYPES.get(str(code))}
    return out


def _table(component: str, logical: str, props: Mapping[str, Any], gaps: list[str],
           notes: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"kind": "dynamodb-table", "name": component, **_key(props, props.get("KeySchema"))}
    where = f"components[{component}] (resource {logical})"
    if "partition_key" not in entry:
        gaps.append(f"{where}: the table has no KeySchema with a HASH key")
    keys = [entry.get("partition_key"), entry.get("sort_key"), *(
        k for i in props.get("GlobalSecondaryIndexes") or [] for k in _key(props, i.get("KeySchema")).values())]
    for key in (k for k in keys if k is not None and k["type"] is None):
        gaps.append(f"{where}: attribute {key['name']} has no AttributeDefinitions type S, N or B")
    indexes = []
    for index in props.get("GlobalSecondaryIndexes") or []:
        indexes.append({"name": index.get("IndexName"), **_key(props, index.get("KeySchema"))})
        if (index.get("Projection") or {}).get("ProjectionType", "ALL") != "ALL":
            notes.append(f"{where}: index {index.get('IndexName')} projects all attributes in Keel (Proton's "
                         "projected some)")
    if indexes:
        entry["global_secondary_indexes"] = indexes
    ttl = props.get("TimeToLiveSpecification") or {}
    if ttl.get("Enabled") in (True, "true", "True") and ttl.get("AttributeName"):
        entry["ttl_attribute"] = ttl["AttributeName"]
    view = (props.get("StreamSpecification") or {}).get("StreamViewType")
    if view:
        entry["stream"] = _STREAM_VIEWS.get(str(view), "new-and-old-images")
    for key in props:
        if key in _TABLE_SET:
            notes.append(f"{where}.{key}: {_TABLE_SET[key]}")
        elif key not in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "TimeToLiveSpecification",
                         "StreamSpecification"):
            gaps.append(f"{where}.{key}: no equivalent on Keel's dynamodb-table component")
    return entry


def _bucket(component: str, logical: str, props: Mapping[str, Any], gaps: list[str],
            notes: list[str]) -> dict[str, Any]:
    versioned = (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled"
    entry: dict[str, Any] = {"kind": "s3-bucket", "name": component, "versioning": versioned}
    where = f"components[{component}] (resource {logical})"
    if versioned:
        notes.append(f"{where}: replaced (noncurrent) versions expire after 90 days in Keel (the s3-bucket "
                     "component's lifecycle.noncurrent_expire_days); Proton kept them")
    for key in props:
        if key in _BUCKET_SET:
            notes.append(f"{where}.{key}: {_BUCKET_SET[key]}")
        elif key != "VersioningConfiguration":
            gaps.append(f"{where}.{key}: no equivalent on Keel's s3-bucket component")
    return entry


def _use_data_stores(run: _Run, item: _Planned) -> None:
    """Each instance in an environment with data stores uses those whose outputs its Proton template read, with
    the access its SAM policy templates gave (read when they only read), and says how its variables differ."""
    owner, entry = run.owners.get(item.spec.file), item.entry
    if owner is None or entry is None:
        return
    text = _infrastructure_text(owner.folder)
    read = set(_OUTPUT_REF.findall(text))
    for inst in entry["instances"]:
        stores = run.data_stores.get(inst["environment"], {})
        used = dict.fromkeys(stores[o] for o in sorted(read) if o in stores)
        for component, kind in used:
            access = _access(text, kind)
            inst.setdefault("components", []).append({"use": component, "access": access})
            item.outcome.notes.append(f"instances[{inst['name']}].components: {{use: {component}, access: {access}}}"
                                      f" (the environment's {kind}, whose output the Proton template read): granted "
                                      f"as Keel grants an owned {kind} ({_GRANTS[kind]})")
        for variable, output in sorted(set(_OUTPUT_VARIABLE.findall(text))):
            if output in stores:
                component, kind = stores[output]
                ours = component.upper().replace("-", "_") + ("_TABLE_NAME" if kind == "dynamodb-table"
                                                              else "_BUCKET_NAME")
                item.outcome.notes.append(f"instances[{inst['name']}]: the function reads {ours} where Proton's read "
                                          f"{variable} (environment.outputs.{output})")


def _handler_folder(item: _Planned) -> None:
    """A handler in a folder of the code (Proton's CRUD sample: `src/api.handler`, in the zip its packaging
    command built): lambda-api-svc's handler is `file.function` within code_dir, so the folder joins code_dir."""
    entry = item.entry
    assert entry is not None
    folders = {str((i.get("spec") or {}).get("lambda_handler", "")).rpartition("/")[0] for i in entry["instances"]}
    pipeline = entry.get("pipeline") or {}
    if len(folders) != 1 or not next(iter(folders)) or not isinstance(pipeline.get("code_dir"), str):
        return
    (folder,) = folders
    for inst in entry["instances"]:
        inst["spec"]["lambda_handler"] = inst["spec"]["lambda_handler"].rpartition("/")[2]
    pipeline["code_dir"] = f"{pipeline['code_dir']}/{folder}"
    item.outcome.notes.append(f"pipeline.code_dir: {pipeline['code_dir']!r} and lambda_handler "
                              f"{entry['instances'][0]['spec']['lambda_handler']!r}: the handler's folder {folder}/ "
                              "(in the code Proton packaged) is where Keel packages from")


#: How the grant of a used component differs from the SAM policy templates Proton's services used.
_GRANTS = {"dynamodb-table": "the table and each of its indexes by name, where SAM's DynamoDB*Policy named "
                             "index/*; and the environment key through DynamoDB only, since Keel's table is encrypted "
                             "with it",
           "s3-bucket": "the bucket's objects and listing; and the environment key through S3 only, since Keel's "
                        "bucket is encrypted with it"}


def _access(text: str, kind: str) -> str:
    """SAM policy templates: `DynamoDBReadPolicy` / `S3ReadPolicy` alone give read; anything else readwrite."""
    service = "DynamoDB" if kind == "dynamodb-table" else "S3"
    reads = f"{service}ReadPolicy" in text
    writes = any(f"{service}{p}Policy" in text for p in ("Crud", "Write", "FullAccess"))
    return "read" if reads and not writes else "readwrite"


# --- starter code -------------------------------------------------------------------------------------
#: A starter handler per interpreted language: it fails every invocation with what to do, so a platform
#: deployed before the real code is copied in serves errors, never a false success.
_STARTERS = {
    "python": ('def {fn}(event, context):\n'
               '    raise NotImplementedError("{why}")\n'),
    "nodejs": ('exports.{fn} = async () => {{\n'
               '  throw new Error("{why}");\n'
               '}};\n'),
    "ruby": ('def {fn}(event:, context:)\n'
             '  raise NotImplementedError, "{why}"\n'
             'end\n'),
}
_EXTENSIONS = {"python": ".py", "nodejs": ".js", "ruby": ".rb"}


def _starter_code(run: _Run, entry: Mapping[str, Any], outcome: Outcome) -> list[Path]:
    """A Lambda service whose code_dir is not beside the platform (Proton built it from the service's
    repository): a starter handler there, so the platform validates and synthesizes; the report says to
    replace it with the service's code. Only when the platform is written (`out`); returns what it created."""
    pipeline = entry.get("pipeline") or {}
    code_dir = pipeline.get("code_dir")
    if not run.writes_code or not isinstance(code_dir, str) or "function" not in _kind_of(run, entry):
        return []
    folder = (run.check.parent / code_dir).resolve()
    if folder.exists() or run.check.parent.resolve() not in folder.parents:
        return []
    created: list[Path] = []
    why = (f"starter written by keel import-proton: copy the code of service {entry['name']} from its "
           f"repository into {code_dir}")
    for inst in entry["instances"]:
        spec = inst.get("spec") or {}
        runtime = str(spec.get("lambda_runtime") or "python3.13")
        handler = str(spec.get("lambda_handler") or "handler.handler")
        language = next((lang for lang in _STARTERS if runtime.startswith(lang)), None)
        head, _, fn = handler.rpartition(".")
        if language is None:  # compiled: the packaging command builds it from the folder's sources
            target = folder / "README.md"
            text = f"{why} (the pipeline's packaging command builds the {runtime} function from it).\n"
        else:
            module = head.replace(".", "/") if language == "python" else head
            target = folder / f"{module}{_EXTENSIONS[language]}"
            text = _STARTERS[language].format(fn=fn, why=why)
        if target.exists():
            continue
        created += [d for d in reversed(target.parents) if not d.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        created.append(target)
    files = [str(c.relative_to(folder)) for c in created if c.is_file()]
    if files:
        outcome.notes.append(f"pipeline.code_dir {code_dir!r}: not beside the platform, so a starter handler "
                             f"was written there ({', '.join(files)}); it fails every call until the service's "
                             "code replaces it")
    return created


def _kind_of(run: _Run, entry: Mapping[str, Any]) -> str:
    family = next((m.family for m in run.result.matches if m.keel and m.ref == entry["template"]), None)
    return "function" if family is not None and family.function else ""


def _discard(created: Sequence[Path]) -> None:
    """Undo `_starter_code` (the service was not written after all): its files and the folders it made."""
    for path in reversed(created):
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink(missing_ok=True)


def _environment_template(owner: ProtonTemplate, run: _Run, env: str) -> ProtonTemplate | None:
    """The Proton environment template an instance of `owner` runs in (environment `env`). Of the templates its
    `.compatible-envs` declares: the one whose Keel template the service's accepts, then the one whose name
    starts the environment's name (`fargate-env-prod` runs on `fargate-env`), then the first declared, then the
    nearest. A template that declares none may run on any environment template under the folder, but only one
    that stands out by those first two rules is taken: two equally good are not guessed between."""
    templates = [t for t in run.result.templates if t.kind == "environment"]
    declared = [t for name, major in owner.compatible_environments
                for t in templates if t.name == name and t.major == major]
    candidates = declared if owner.compatible_environments else templates
    if not candidates:
        return None
    service = run.by_folder.get(owner.folder)

    def fit(t: ProtonTemplate) -> tuple[bool, int]:
        match = run.by_folder.get(t.folder)
        accepts = bool(service and service.keel and match and match.keel
                       and service.keel.accepts_environment(match.keel))
        return (not accepts, -(len(t.name) if env.lower().startswith(t.name.lower()) else 0))

    best = min(candidates, key=lambda t: (fit(t), candidates.index(t), owner.folder.parent.parent
                                          not in t.folder.parents))
    if not declared and sum(fit(t) == fit(best) for t in candidates) > 1:
        return None
    return best


def _owner(spec: ProtonSpec, templates: Sequence[ProtonTemplate]) -> ProtonTemplate | None:
    """`<template>/spec/*.yaml` belongs to that template (its highest major); otherwise the same-kind
    template nearby whose schema refuses the fewest of the spec's inputs."""
    own = [t for t in templates if spec.file.parent.parent == t.folder.parent and t.kind == spec.kind]
    if own:
        return max(own, key=lambda t: t.major)
    nearby = [t for t in templates if t.kind == spec.kind and spec.file.parent.parent in t.folder.parents]
    scored = sorted(nearby, key=lambda t: (_refusals(spec, t), t.name))
    return scored[0] if scored else None


def _refusals(spec: ProtonSpec, template: ProtonTemplate) -> int:
    schema = template.schemas[template.kind]
    inputs = [spec.doc.get("spec") or {}] if spec.kind == "environment" else \
        [i.get("spec") or {} for i in spec.doc.get("instances") or [] if isinstance(i, Mapping)]
    return sum(len(schema.validate(schema.with_defaults(dict(x)))) for x in inputs if isinstance(x, Mapping))


def _problems(virtual: Path, doc: Mapping[str, Any], registry: Registry) -> list[str]:
    """Validate a platform in memory, exactly as `keel validate` would, as the file `virtual`."""
    try:
        load_platform(virtual, registry=registry, texts={virtual: dump_yaml(doc)})
    except SpecError as exc:
        return [f"{p.path}: {p.message}" + (f" (expected {p.expected})" if p.expected else "")
                for p in exc.problems]
    return []


def validate_written(out: Path, text: str, registry: Registry) -> list[str]:
    """The platform as it will be written, validated at its final place (relative paths resolve there)."""
    target = out.resolve()
    try:
        load_platform(target, registry=registry, texts={target: text})
    except SpecError as exc:
        return [p.render() for p in exc.problems]
    return []


def dump_yaml(doc: object) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold long strings (descriptions, policies)
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


# --- output --------------------------------------------------------------------------------------------
def render_platform(result: ImportResult, root: Path) -> str:
    lines = [f"# Written by `keel import-proton {root}`: the Proton specs that map onto Keel's templates.",
             "# Review region, availability_zones and account (Proton specs record none) before deploying.",
             "# What was not mapped, and why: the import report."]
    if result.assumed_region:
        lines.append(f"# Region {ASSUMED_REGION} assumed for {', '.join(result.assumed_region)} (their templates need "
                     "one; no --region was given): change it before deploying.")
    for section in ("environments", "services"):
        entries = result.platform.get(section) or []
        if not entries:
            continue
        lines.append(f"{section}:")
        for entry in entries:
            source = result.sources[(section, entry['name'])]
            lines.append(f"  # from {_rel(source, root)}" + (" (no spec there: the template's defaults; check them)"
                                                             if source.is_dir() else ""))
            lines += [f"  {line}" for line in dump_yaml([entry]).rstrip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def render_fragment(result: ImportResult, root: Path) -> str:
    """Kept for callers of the fragment API: the platform is the fragment."""
    return render_platform(result, root)


def render_report(result: ImportResult, root: Path) -> str:
    from keel.terminal import render_table

    rows = [[m.proton.label, m.proton.kind, m.family.name if m.family else "-", m.ref if m.keel else "-", m.status]
            for m in result.matches]
    lines = [render_table(["proton template", "kind", "offers", "keel template", "match"], rows), ""]
    lines += [f"mapped: {x}" for x in result.mapped]
    written, read = result.spec_count
    lines.append(f"{written} of {read} spec file(s) are in the platform (the others: stderr); "
                 f"{len(result.jinja_files)} Jinja CloudFormation file(s) read as Proton template infrastructure.")
    return "\n".join(lines)


def render_suggestions(result: ImportResult) -> str:
    """Per Proton template: the Keel-native template that offers the same, and the input mapping."""
    out = []
    for m in result.matches:
        if m.keel is None:
            out.append(f"{m.proton.label} ({m.proton.kind}): no Keel-native equivalent: {m.reason}")
            continue
        out.append(f"{m.proton.label} ({m.family.name if m.family else ''}) -> {m.ref}"
                   f" [{m.status}]: `template: {m.ref}`")
        for i in m.inputs:
            arrow = f"{i.section}.{i.keel}" if i.keel else "(none)"
            note = f"  # {i.note}" if i.note and i.note != "renamed" else ""
            out.append(f"  {i.section}.{i.proton} -> {arrow}{note}")
        for note in m.family.notes if m.family else ():
            out.append(f"  note: {note}")
    return "\n".join(out)


def render_markdown(result: ImportResult, root: Path) -> str:
    written, read = result.spec_count
    lines = [f"# keel import-proton {root}", "",
             f"{written} of {read} Proton spec file(s) are in the written platform.", "",
             "## Templates", "", "| Proton template | kind | offers | Keel template | match |", "|---|---|---|---|---|"]
    for m in result.matches:
        lines.append(f"| {m.proton.label} | {m.proton.kind} | {m.family.name if m.family else '-'} | "
                     f"{m.ref if m.keel else '-'} | {m.status if m.keel else m.reason} |")
    lines += ["", "## Specs", "", "| spec | as | Keel template | result |", "|---|---|---|---|"]
    for o in result.outcomes:
        lines.append(f"| {o.spec} | {o.what} | {o.target} | {'mapped' if o.mapped else 'not mapped'} |")
    for o in result.outcomes:
        if o.reasons or o.notes:
            lines += ["", f"### {o.spec} ({o.what})", ""]
            lines += [f"- not mapped: {_md(r)}" for r in o.reasons]
            lines += [f"- {_md(n)}" for n in o.notes]
    if result.errors:
        lines += ["", "## Unreadable files", ""] + [f"- {_md(e)}" for e in result.errors]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    slug = slug if slug and slug[0].isalpha() else f"t-{slug}"
    return slug[:40].rstrip("-") if _NAME.match(slug[:40].rstrip("-")) else "imported"


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


__all__ = ["ImportResult", "Match", "TemplateRef", "dump_yaml", "import_proton", "render_markdown",
           "render_platform", "render_report", "render_suggestions", "validate_written"]
