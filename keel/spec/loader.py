"""platform.yaml (+ Proton spec files) -> PlatformModel, or one SpecError listing every problem."""

from __future__ import annotations

import difflib
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft7Validator

from keel.contract.naming import (
    KEEL_NAME_MAX,
    KEEL_NAME_PATTERN,
    PROTON_NAME_MAX,
    PROTON_NAME_PATTERN,
    SHARED,
    keel_name,
    stack_name,
)
from keel.contract.offers import Claim, EnvironmentInputs
from keel.contract.registry import Registry, TemplateRef, TemplateVersion
from keel.contract.schema import InputSchema, describe, leaf_keys
from keel.spec.components import KINDS, CloudFormationInputs, Component, check_component, host_of, read_add_on
from keel.spec.delivery import DELIVERY_SCHEMA, parse_delivery
from keel.spec.errors import MISSING, Problems, join_path
from keel.spec.images import resolve_overrides
from keel.spec.model import Environment, Override, PlatformModel, Service, ServiceInstance
from keel.spec.paths import OutsideProject, inside_project, project_root
from keel.spec.proton import (
    ProtonInputs,
    Rendered,
    RenderError,
    environment_context,
    render,
    service_context,
    service_repository,
)
from keel.spec.registry import default_registry, with_template_dirs
from keel.spec.typed import to_dataclass
from keel.spec.yamlio import YamlReadError, parse_yaml, read_yaml

_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$", "maxLength": 40}
# Environment and instance names follow Proton's rule (its specs name them: `Beta`, `prod_eu`); Keel derives
# stack and resource names from their lowercase form (keel.contract.naming.keel_name), checked for collisions.
_PROTON_NAME = {"type": "string", "pattern": PROTON_NAME_PATTERN, "maxLength": PROTON_NAME_MAX}
_TAGS = {
    "type": "object",
    "propertyNames": {"pattern": "^(?!aws:)[A-Za-z0-9 _.:/=+@-]{1,128}$"},
    # No control characters (a tab or a newline in a tag breaks consoles, logs and cost reports).
    "additionalProperties": {"type": "string", "maxLength": 256, "pattern": "^[^\\x00-\\x1f\\x7f]*$"},
}
# overrides (issue 17): one CloudFormation property of one resource, addressed by construct path.
_OVERRIDES = {"type": "array", "items": {
    "type": "object", "additionalProperties": False, "required": ["resource", "path", "value"],
    "properties": {"resource": {"type": "string", "minLength": 1, "maxLength": 1024, "pattern": "^[^\\x00-\\x1f]+$"},
                   "path": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9]*(\\.([A-Za-z0-9_:-]+))*$",
                            "maxLength": 512},
                   "value": {}}}}
# Proton-format template folders (issue 15): a pinned CloudFormation stack name adopts a deployed stack.
_STACK_NAME = {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9-]{0,127}$"}
_INSTANCE = {
    "type": "object", "additionalProperties": False, "required": ["name", "environment"],
    "properties": {"name": _PROTON_NAME, "environment": {"type": "string"}, "spec": {"type": "object"},
                   "stack_name": _STACK_NAME,
                   # components (issue 17): what the instance owns beside its template; each kind's schema
                   # judges its inputs (keel.spec.components).
                   "components": {"type": "array", "items": {"type": "object"}},
                   "overrides": _OVERRIDES},
}
PLATFORM_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["environments"],
    "properties": {
        "name": _NAME,
        "description": {"type": "string"},
        "environments": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "template"],
            "properties": {
                "name": _PROTON_NAME,
                "description": {"type": "string"},
                "template": {"type": "string"},
                "account": {"type": "string", "pattern": "^[0-9]{12}$"},
                "region": {"type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]$"},
                "availability_zones": {"type": "array", "minItems": 1, "maxItems": 6, "uniqueItems": True,
                                       "items": {"type": "string",
                                                 "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$"}},
                "production": {"type": "boolean"},
                "tags": _TAGS,
                "spec": {"type": "object"},
                "spec_file": {"type": "string", "minLength": 1},
                "stack_name": _STACK_NAME,
                "overrides": _OVERRIDES,
            },
        }},
        "services": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "template"],
            "properties": {
                "name": _NAME,
                "description": {"type": "string"},
                "template": {"type": "string"},
                "tags": _TAGS,
                "pipeline": {"type": "object"},
                "instances": {"type": "array", "items": _INSTANCE},
                "spec_file": {"type": "string", "minLength": 1},
            },
        }},
        "delivery": DELIVERY_SCHEMA,
        # Proton-format template folders (issue 15)
        "template_dirs": {"type": "array", "items": {"oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "object", "additionalProperties": False, "required": ["path"],
             "properties": {"path": {"type": "string", "minLength": 1},
                            "prefix": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$", "maxLength": 20}}},
        ]}},
        "compliance": {"type": "object", "additionalProperties": False,
                       "properties": {"imported": {"enum": ["fail", "report"]}}},
    },
}
_COMPONENT = {"type": "object", "required": ["kind", "name"], "properties": {"kind": {"type": "string"}, "name": _NAME}}
_ENV_SPEC_FILE = {
    "type": "object", "additionalProperties": False, "required": ["proton"],
    "properties": {"proton": {"enum": ["EnvironmentSpec"]}, "spec": {"type": "object"}},
}
_SVC_SPEC_FILE = {
    "type": "object", "additionalProperties": False, "required": ["proton", "instances"],
    "properties": {"proton": {"enum": ["ServiceSpec"]}, "pipeline": {"type": "object"},
                   "instances": {"type": "array", "items": _INSTANCE}},
}


def reserved_service_names(registry: Registry) -> dict[str, str]:
    """Names no service may take, and why: environments publish their outputs under
    `/keel/<environment>/<segment>/...` (the first segment of every environment template's declared outputs),
    where a service's config and outputs live under `/keel/<environment>/<service>/...`; and `shared`, the
    config path every service reads."""
    owners: dict[str, set[str]] = {}
    for version in registry.all_versions():
        if version.kind == "environment":
            for key in version.outputs:
                owners.setdefault(key.split("/", 1)[0], set()).add(version.name)
    reserved = {segment: f"{', '.join(sorted(names))} publish{'es' if len(names) == 1 else ''} environment outputs "
                f"under /keel/<environment>/{segment}/" for segment, names in owners.items()}
    reserved[SHARED] = f"/keel/<environment>/{SHARED}/ is the config path every service reads"
    return reserved


def load_platform(path: str | Path, *, registry: Registry | None = None,
                  texts: Mapping[Path, str] | None = None,
                  image_overrides: Mapping[str, Any] | None = None) -> PlatformModel:
    """Read and validate a platform; raises SpecError with every problem, or returns the model.

    `texts` maps resolved file paths to contents that replace what is on disk: `keel upgrade` checks a
    rewritten platform this way before it writes anything. `image_overrides` maps service names to the
    images their pipelines built (app.py reads them from the `keel:image:<service>` context entries).
    """
    loader = _Loader(Path(path), registry or default_registry(), texts or {})
    loader.image_overrides = dict(image_overrides or {})
    return loader.load()


def platform_registry(path: str | Path, *, registry: Registry | None = None) -> Registry:
    """The registry a platform file sees: Keel's templates plus its `template_dirs` (SpecError on a bad folder).
    `keel templates`, `outdated` and `upgrade` use it, so a Proton-format template is listed and upgraded too."""
    loader = _Loader(Path(path), registry or default_registry())
    try:
        doc = loader._yaml(loader.path, loader.file)
    except YamlReadError as exc:
        loader.problems.add(exc.file, exc.path, exc.message, exc.got, exc.expected)
        loader.problems.raise_if_any()
    entries = doc.get("template_dirs") if isinstance(doc, Mapping) else None
    if isinstance(entries, list):
        loader._template_dirs([e for e in entries if isinstance(e, str) or
                               (isinstance(e, Mapping) and isinstance(e.get("path"), str))])
    loader.problems.raise_if_any()
    return loader.registry


class _Loader:
    def __init__(self, path: Path, registry: Registry, texts: Mapping[Path, str] | None = None) -> None:
        self.texts = {Path(p).resolve(): t for p, t in (texts or {}).items()}
        self.path = path
        self.base = path.parent
        self.root = project_root(path)
        self.file = _display(path)
        self.registry = registry
        self.problems = Problems()
        self.image_overrides: dict[str, Any] = {}
        self.reserved = reserved_service_names(registry)
        # (environment, priority) and (environment, conditions) -> the instance whose listener rule has them
        self.claims: dict[tuple[str, Hashable], str] = {}  # (environment, claim key) -> who holds it
        self._reported: set[tuple[Any, ...]] = set()  # pipeline problems once, not once per instance
        # (file, spec path, environment, template, inputs) of instances that may name other services (issue 16)
        self._referrers: list[tuple[str, str, str, TemplateVersion, object]] = []
        self.delivery: object = None  # the raw delivery section: Proton's service.* repository names (issue 15)
        self.platform_name = "keel"  # the platform's name: Copilot add-ons' App parameter

    # -- helpers -------------------------------------------------------------------------------
    def _structure(self, doc: object, schema: Mapping[str, Any], file: str, prefix: str = "") -> set[str]:
        """Structural validation; returns the display paths of the entries that had problems."""
        bad: set[str] = set()
        for err in sorted(Draft7Validator(schema).iter_errors(doc), key=lambda e: list(map(str, e.path))):
            for key in leaf_keys(err):
                _, message, got, expected = describe(err, key or None)
                shown = _named_path(doc, list(err.absolute_path))
                if err.validator in ("additionalProperties", "required"):
                    shown = join_path(shown, key)
                if "propertyNames" in err.schema_path:
                    message, got, expected = "is not a valid tag key", err.instance, \
                        "1-128 letters, digits, spaces or _.:/=+@- and no aws: prefix"
                elif err.validator == "pattern" and "tags" in list(err.absolute_path):
                    message, expected = "contains a control character", "printable text (no tab, newline or NUL)"
                self.problems.add(file, join_path(prefix, shown) if prefix else shown, message, got, expected)
            parts = list(err.absolute_path)
            if len(parts) >= 2:
                bad.add(_named_path(doc, parts[:2]))
        return bad

    def _yaml(self, path: Path, shown: str) -> object:
        text = self.texts.get(path.resolve())
        return read_yaml(path, display=shown) if text is None else parse_yaml(text, display=shown)

    def _read(self, relative: str, where: str) -> tuple[Any, str] | None:
        try:
            path = inside_project(self.root, self.base, relative)
        except OutsideProject as exc:
            self.problems.add(self.file, where, f"cannot use spec file: it {exc}", relative, exc.expected)
            return None
        shown = _display(path)
        try:
            return self._yaml(path, shown), shown
        except YamlReadError as exc:
            if exc.path:  # a value inside the file: located there
                self.problems.add(exc.file, exc.path, exc.message, exc.got, exc.expected)
            else:
                self.problems.add(self.file, where, f"cannot use spec file: {exc.message}", relative, exc.expected)
            return None

    def _template(self, text: object, kind: str, file: str, path: str) -> tuple[TemplateRef, TemplateVersion] | None:
        try:
            ref = TemplateRef.parse(str(text))
        except ValueError:
            self.problems.add(file, path, "is not a template reference", text,
                              "name:major or name:major.minor, e.g. vpc-env:1")
            return None
        try:
            found = self.registry.resolve(ref)
        except LookupError as exc:
            self.problems.add(file, path, str(exc), str(text))
            return None
        if found.kind != kind:
            self.problems.add(file, path, f"template \"{found.name}\" is {_a(found.kind)} template", str(text),
                              f"{_a(kind)} template")
            return None
        return ref, found

    def _inputs(self, schema: InputSchema, raw: Mapping[str, Any], file: str, prefix: str,
                cls: type) -> object:
        values = schema.with_defaults(raw)
        problems = schema.validate(values)
        for path, message, got, expected in problems:
            self.problems.add(file, join_path(prefix, path) if path else prefix, message, got, expected)
        if not problems and cls is ProtonInputs:
            return ProtonInputs(values)
        return None if problems else to_dataclass(cls, values)

    def _checks(self, template: TemplateVersion, inputs: object, env: Environment, file: str, prefix: str) -> None:
        check = template.checks()
        if check is None or inputs is None:
            return
        for path, message, got, expected in check(inputs, env):
            self.problems.add(file, join_path(prefix, path) if path else prefix, message, got, expected)

    # -- the whole document -------------------------------------------------------------------
    def load(self) -> PlatformModel:
        try:
            doc = self._yaml(self.path, self.file)
        except YamlReadError as exc:
            self.problems.add(exc.file, exc.path, exc.message, exc.got, exc.expected)
            self.problems.raise_if_any()
        if not isinstance(doc, Mapping):
            self.problems.add(self.file, "", "the platform file must be a mapping",
                              "an empty file" if doc is None else f"a {type(doc).__name__}",
                              "keys name, environments, services")
            self.problems.raise_if_any()
        assert isinstance(doc, Mapping)  # raise_if_any raised otherwise
        self.platform_name = str(doc.get("name", "keel"))
        bad = self._structure(doc, PLATFORM_SCHEMA, self.file)
        if "template_dirs" not in bad:
            self._template_dirs(doc.get("template_dirs") or [])

        environments: list[Environment] = []
        for i, raw in enumerate(_list(doc.get("environments"))):
            where = _named_path(doc, ["environments", i])
            if where in bad or not isinstance(raw, Mapping):
                continue
            env = self._environment(raw, where)
            if env is not None:
                environments.append(env)
        self._unique_environments(doc)
        by_name = {e.name: e for e in environments}
        declared_envs = [str(e.get("name")) for e in _list(doc.get("environments")) if isinstance(e, Mapping)]

        services: list[Service] = []
        self.delivery = doc.get("delivery")
        for i, raw in enumerate(_list(doc.get("services"))):
            where = _named_path(doc, ["services", i])
            if where in bad or not isinstance(raw, Mapping):
                continue
            svc = self._service(raw, where, by_name, declared_envs)
            if svc is not None:
                services.append(svc)
        self._unique([(s.name, "") for s in services], "services", "service")
        self._references(services, [(str(s.get("name")), str(i.get("environment")))
                                    for s in _list(doc.get("services")) if isinstance(s, Mapping)
                                    for i in _list(s.get("instances")) if isinstance(i, Mapping)],
                         [(str(s.get("name")), str(i.get("environment")), str(c.get("kind")), str(c.get("name")))
                          for s in _list(doc.get("services")) if isinstance(s, Mapping)
                          for i in _list(s.get("instances")) if isinstance(i, Mapping)
                          for c in _list(i.get("components")) if isinstance(c, Mapping)])
        for i, raw in enumerate(_list(doc.get("services"))):
            name = raw.get("name") if isinstance(raw, Mapping) else None
            if isinstance(name, str) and name in self.reserved:
                self.problems.add(self.file, f"{_named_path(doc, ['services', i])}.name",
                                  f"is reserved: {self.reserved[name]}", name, "another service name")
        self._stack_names(environments, services)
        declared_services = [str(s.get("name")) for s in _list(doc.get("services")) if isinstance(s, Mapping)]
        services = self._with_images(services, by_name, declared_services)
        delivery = None
        if isinstance(doc.get("delivery"), Mapping) and not any(p.startswith("delivery") for p in bad):
            delivery = parse_delivery(doc["delivery"], file=self.file, problems=self.problems,
                                      environments=environments, services=services,
                                      declared_environments=[keel_name(e) for e in declared_envs])
        self.problems.raise_if_any()
        return PlatformModel(name=str(doc.get("name", "keel")), source=self.file,
                             environments=tuple(environments), services=tuple(services), delivery=delivery,
                             imported_compliance=str((doc.get("compliance") or {}).get("imported", "fail")))

    # Proton-format template folders (issue 15)
    def _template_dirs(self, entries: Sequence[Any]) -> None:
        """The platform's own template folders join the registry; a bad folder is a located problem."""
        folders: list[tuple[Path, str, str]] = []
        for n, entry in enumerate(entries):
            given, prefix = (entry, "") if isinstance(entry, str) else (entry["path"], entry.get("prefix", ""))
            where = f"template_dirs[{n}]" + ("" if isinstance(entry, str) else ".path")
            try:
                folder = inside_project(self.root, self.base, given)
            except OutsideProject as exc:
                self.problems.add(self.file, where, f"cannot use template folder: it {exc}", given, exc.expected)
                continue
            if not folder.is_dir():
                self.problems.add(self.file, where, "is not a folder", given,
                                  "a folder of template folders, relative to the platform file")
                continue
            folders.append((folder, prefix, f"template_dirs[{n}]"))
        if not folders:
            return
        self.registry, problems = with_template_dirs(self.registry, folders, root=self.root)
        for problem in problems:
            self.problems.add(_display(Path(problem.file)) if problem.file else self.file, problem.path,
                              problem.message, MISSING if problem.got is None else problem.got, problem.expected)
        self.reserved = reserved_service_names(self.registry)

    def _render(self, template: TemplateVersion, context: Mapping[str, Any], file: str, where: str) \
            -> Rendered | None:
        assert template.proton is not None
        try:
            return render(template.proton.infrastructure, context,
                          display=_display(template.proton.infrastructure))
        except RenderError as exc:
            self.problems.add(exc.file, exc.where, exc.message, MISSING,
                              f"a template that renders for {where} of {file}")
            return None

    def _with_images(self, services: list[Service], envs: Mapping[str, Environment],
                     declared: Sequence[str]) -> list[Service]:
        """Each instance of an overridden service runs the pipeline's image (checked first). A service
        that failed to load has its own problems reported; its override is not judged."""
        loaded = {s.name for s in services}
        overrides = {k: v for k, v in self.image_overrides.items() if k in loaded or k not in declared}
        if not overrides:
            return services
        images, problems = resolve_overrides(overrides, services, environments=envs)
        self.problems.extend(problems)
        return [replace(s, instances=tuple(replace(i, image_override=images[s.name]) for i in s.instances))
                if s.name in images else s for s in services]

    def _unique(self, names: Sequence[tuple[str, str]], where: str, what: str) -> None:
        seen: set[str] = set()
        for name, _ in names:
            if name in seen:
                self.problems.add(self.file, f"{where}[{name}].name", f"duplicate {what} name", name,
                                  f"each {what} name once")
            seen.add(name)

    def _unique_environments(self, doc: Mapping[str, Any]) -> None:
        """One environment per Keel name: `Beta` and `beta` (or `prod_eu` and `prod-eu`) would share a stack."""
        first: dict[str, str] = {}
        for raw in _list(doc.get("environments")):
            name = raw.get("name") if isinstance(raw, Mapping) else None
            if not isinstance(name, str):
                continue
            key = keel_name(name)
            if key not in first:
                first[key] = name
            elif first[key] == name:
                self.problems.add(self.file, f"environments[{name}].name", "duplicate environment name", name,
                                  "each environment name once")
            else:
                self.problems.add(self.file, f"environments[{name}].name",
                                  f"gives the same stack name \"{stack_name(key)}\" as environment \"{first[key]}\"",
                                  name, "names that differ in more than case, _ and -")

    def _keel_name(self, name: str, file: str, path: str) -> str | None:
        """The Keel form of a (Proton-valid) name, or None with a located problem when it cannot name stacks."""
        key = keel_name(name)
        if len(key) > KEEL_NAME_MAX:
            self.problems.add(file, path, f"is too long for Keel's stack and resource names ({len(key)} characters "
                              f"as \"{key}\")", name, f"at most {KEEL_NAME_MAX} characters")
            return None
        if not re.match(KEEL_NAME_PATTERN, key):
            self.problems.add(file, path, "gives no usable stack name (nothing but - and _)", name,
                              "a letter or digit")
            return None
        return key

    def _stack_names(self, environments: Sequence[Environment], services: Sequence[Service]) -> None:
        owners: dict[str, str] = {}
        entries = [(e.stack_name, f"environments[{e.name}]") for e in environments]
        entries += [(i.stack_name, f"services[{s.name}].instances[{n}]")
                    for s in services for n, i in enumerate(s.instances)]
        for name, where in entries:
            key = name.lower()
            if key in owners and owners[key] != where:
                self.problems.add(self.file, f"{where}.name", f"stack name \"{name}\" collides with {owners[key]}",
                                  name, "names that give distinct stack names (keel-<env>, keel-<service>-<instance>)")
            owners.setdefault(key, where)

    # -- environments -------------------------------------------------------------------------
    def _environment(self, raw: Mapping[str, Any], where: str) -> Environment | None:
        resolved = self._template(raw["template"], "environment", self.file, f"{where}.template")
        name = self._keel_name(raw["name"], self.file, f"{where}.name")
        region = raw.get("region")
        azs = tuple(raw.get("availability_zones") or ())
        ok = True
        if raw.get("account") and not region:
            self.problems.add(self.file, f"{where}.region", "is required when account is set", MISSING,
                              "a region such as eu-west-1")
            ok = False
        if region and not azs:
            self.problems.add(self.file, f"{where}.availability_zones",
                              "is required when region is set (synth never looks AZs up)", MISSING,
                              f"a list such as [{region}a, {region}b]")
            ok = False
        for n, az in enumerate(azs):
            if region and not az.startswith(region):
                self.problems.add(self.file, f"{where}.availability_zones[{n}]",
                                  f"is not in region {region}", az, f"{region} followed by a letter")
                ok = False
        source = self._spec(raw, where, "EnvironmentSpec")
        if resolved is None or source is None:
            return None
        ref, template = resolved
        spec, file, prefix = source
        inputs = self._inputs(template.input_schema, spec, file, prefix, template.inputs_type())
        if inputs is None or not ok or name is None:
            return None
        rendered = None
        if template.proton is not None:
            assert isinstance(inputs, ProtonInputs)
            rendered = self._render(template, environment_context(name=raw["name"], inputs=inputs.values,
                                                                  account=raw.get("account")), file, where)
            if rendered is None:
                return None
        env = Environment(
            # An environment template's inputs class answers offers() (a registry test holds every one to it).
            name=name, template=template, pinned=ref, inputs=cast(EnvironmentInputs, inputs),
            account=raw.get("account"), region=region, availability_zones=azs,
            production=bool(raw.get("production", False)), tags=dict(raw.get("tags") or {}), source=file,
            pinned_stack_name=raw.get("stack_name"), rendered=rendered,
            overrides=_overrides(raw.get("overrides"), self.file, where))
        self._checks(template, inputs, env, file, prefix)
        self._config_services(inputs, file, prefix)
        return env

    def _config_services(self, inputs: object, file: str, prefix: str) -> None:
        """Config plane entries name a service: never one of the environment's own output paths."""
        config = getattr(inputs, "config", None)
        if config is None:
            return
        for group in ("parameters", "secrets"):
            for n, entry in enumerate(getattr(config, group)):
                if entry.service in self.reserved and entry.service != SHARED:
                    self.problems.add(file, join_path(prefix, "config", group, n, "service"),
                                      f"is reserved: {self.reserved[entry.service]}", entry.service,
                                      "a service name, or shared")

    def _spec(self, raw: Mapping[str, Any], where: str, kind: str) -> tuple[dict[str, Any], str, str] | None:
        """(inputs, file, path prefix) from an inline `spec` or a Proton `spec_file`."""
        if "spec" in raw and "spec_file" in raw:
            self.problems.add(self.file, f"{where}.spec_file", "cannot be combined with an inline spec",
                              raw["spec_file"], "either spec or spec_file")
            return None
        if "spec_file" not in raw:
            return dict(raw.get("spec") or {}), self.file, f"{where}.spec"
        read = self._read(raw["spec_file"], f"{where}.spec_file")
        if read is None:
            return None
        doc, shown = read
        if self._structure(doc, _ENV_SPEC_FILE, shown) or not isinstance(doc, Mapping):
            return None
        return dict(doc.get("spec") or {}), shown, "spec"

    # -- services -----------------------------------------------------------------------------
    def _service(self, raw: Mapping[str, Any], where: str, envs: Mapping[str, Environment],
                 declared: Sequence[str]) -> Service | None:
        resolved = self._template(raw["template"], "service", self.file, f"{where}.template")
        if "spec_file" in raw:
            clash = [k for k in ("pipeline", "instances") if k in raw]
            if clash:
                self.problems.add(self.file, f"{where}.{clash[0]}", "cannot be combined with spec_file",
                                  MISSING, "pipeline and instances in the spec file only")
                return None
            read = self._read(raw["spec_file"], f"{where}.spec_file")
            if read is None:
                return None
            doc, file = read
            if self._structure(doc, _SVC_SPEC_FILE, file) or not isinstance(doc, Mapping):
                return None
            pipeline_raw, instances_raw, prefix = doc.get("pipeline"), doc.get("instances") or [], ""
        else:
            file, prefix = self.file, where
            pipeline_raw, instances_raw = raw.get("pipeline"), raw.get("instances") or []
        if resolved is None:
            return None
        ref, template = resolved
        pipeline = self._pipeline(template, pipeline_raw, file, join_path(prefix, "pipeline"))
        instances: list[ServiceInstance] = []
        seen: dict[str, str] = {}
        declared_keys = {keel_name(d) for d in declared}
        for n, inst in enumerate(instances_raw):
            ipath = join_path(prefix, "instances", n)
            name = self._keel_name(inst["name"], file, f"{ipath}.name")
            if name is None:
                continue
            if name in seen and seen[name] == inst["name"]:
                self.problems.add(file, f"{ipath}.name", "duplicate instance name", name,
                                  "each instance name once per service")
            elif name in seen:
                self.problems.add(file, f"{ipath}.name", f"gives the same stack name as instance \"{seen[name]}\"",
                                  inst["name"], "names that differ in more than case, _ and -")
            seen.setdefault(name, inst["name"])
            env = envs.get(keel_name(str(inst["environment"])))
            if env is None:
                if keel_name(str(inst["environment"])) not in declared_keys:
                    self.problems.add(file, f"{ipath}.environment", f"unknown environment \"{inst['environment']}\"",
                                      MISSING, "one of: " + ", ".join(declared))
                # Its own inputs are still judged: a wrong environment must not hide a wrong port.
                self._inputs(template.input_schema, dict(inst.get("spec") or {}), file, f"{ipath}.spec",
                             template.inputs_type())
                continue  # a broken environment is reported where it is declared
            if not template.accepts_environment(env.template):
                allowed = ", ".join(f"{n}:{m}" for n, m in template.compatible_environments)
                self.problems.add(file, f"{ipath}.environment",
                                  f"environment \"{env.name}\" uses {env.template.name}:{env.template.version.major}, "
                                  f"which {template.label} does not support", env.name,
                                  f"an environment of template {allowed}")
                continue
            inputs = self._inputs(template.input_schema, dict(inst.get("spec") or {}), file,
                                  f"{ipath}.spec", template.inputs_type())
            if inputs is None:
                continue
            self._checks(template, inputs, env, file, f"{ipath}.spec")
            self._claims(template, raw["name"], name, inputs, env, file, f"{ipath}.spec")
            self._sources(template, inputs, pipeline, file, ipath, join_path(prefix, "pipeline"))
            rendered = None
            if template.proton is not None:
                assert isinstance(inputs, ProtonInputs) and env.rendered is not None  # paired: a Proton env
                env_inputs = env.inputs.values if isinstance(env.inputs, ProtonInputs) else None
                rendered = self._render(template, service_context(
                    service=raw["name"], instance=name, inputs=inputs.values,
                    pipeline=pipeline.values if isinstance(pipeline, ProtonInputs) else None,
                    environment=env.name, account=env.account, environment_outputs=env.rendered.outputs,
                    environment_inputs=env_inputs, repository=service_repository(self.delivery, raw["name"])),
                    file, ipath)
                if rendered is None:
                    continue
            self._referrers.append((file, f"{ipath}.spec", env.name, template, inputs))
            components = self._components(inst.get("components"), inputs, env.name, raw["name"], file, ipath)
            instances.append(ServiceInstance(name=name, service=raw["name"], environment=env.name,
                                             template=template, inputs=inputs, source=file,
                                             pinned_stack_name=inst.get("stack_name"), rendered=rendered,
                                             components=components,
                                             overrides=_overrides(inst.get("overrides"), file, ipath)))
        return Service(name=raw["name"], template=template, pinned=ref, pipeline=pipeline,
                       instances=tuple(instances), tags=dict(raw.get("tags") or {}), source=file)

    # components (issue 17)
    def _components(self, raw: object, inputs: object, environment: str, service: str, file: str,
                    ipath: str) -> tuple[Component, ...]:
        entries = _list(raw)
        if not entries:
            return ()
        host = host_of(inputs)
        if host is None:
            self.problems.add(file, f"{ipath}.components", "this template takes no components", MISSING,
                              "no components (they attach to a container task or a Lambda function)")
            return ()
        base = Path(file).resolve().parent if Path(file).is_absolute() else (Path.cwd() / file).resolve().parent
        out: list[Component] = []
        names: set[str] = set()
        ids: dict[str, str] = {}  # cloudformation logical IDs -> the component that brought them
        for n, entry in enumerate(entries):
            name = entry.get("name") if isinstance(entry, Mapping) else None
            where = join_path(ipath, "components", n)
            if isinstance(name, str) and re.fullmatch(str(_NAME["pattern"]), name):
                where = f"{ipath}.components[{name}]"
            if self._structure(entry, _COMPONENT, file, where):
                continue
            assert isinstance(entry, Mapping)
            kind = KINDS.get(str(entry.get("kind")))
            if kind is None:
                close = difflib.get_close_matches(str(entry.get("kind")), KINDS, n=1)
                self.problems.add(file, f"{where}.kind", "is not a component kind" +
                                  (f" (did you mean {close[0]}?)" if close else ""), entry.get("kind"),
                                  "one of: " + ", ".join(KINDS))
                continue
            if name in names:
                self.problems.add(file, f"{where}.name", "duplicate component name", name,
                                  "each component name once per instance")
                continue
            names.add(str(name))
            values = {k: v for k, v in entry.items() if k not in ("kind", "name")}
            parsed = self._inputs(kind.schema, values, file, where, kind.inputs)
            if parsed is None:
                continue
            problems = list(check_component(kind, str(name), parsed, host, environment=environment, service=service))
            add_on = None
            if isinstance(parsed, CloudFormationInputs):
                add_on, more = read_add_on(parsed, base=base, root=self.root, app=self.platform_name)
                problems += more
                for logical in add_on.logical_ids if add_on else ():
                    if logical in ids:
                        problems.append(("template_file", f"declares resource {logical}, which component "
                                         f"{ids[logical]} declares too (one stack holds both)",
                                         parsed.template_file, "distinct logical IDs across an instance's add-ons"))
                    ids.setdefault(logical, str(name))
            for path, message, got, expected in problems:
                self.problems.add(file, join_path(where, path), message, got, expected)
            if not problems:
                out.append(Component(kind=kind.name, name=str(name), inputs=parsed, environment=environment,
                                     service=service, add_on=add_on))
        return tuple(out)

    def _claims(self, template: TemplateVersion, service: str, instance: str, inputs: object,
                env: Environment, file: str, prefix: str) -> None:
        """What one instance takes that no other instance of its environment may (a template's `claims` hook:
        load-balanced-fargate-svc's listener rule priority and conditions); the second claimant is the problem."""
        hook = template.inputs_hook("claims")
        if hook is None:
            return
        me = f"service \"{service}\" instance \"{instance}\""
        for claim in cast("Iterable[Claim]", hook(service, instance, inputs, env)):
            other = self.claims.setdefault((env.name, claim.key), me)
            if other != me:
                self.problems.add(file, join_path(prefix, claim.path), claim.message.format(other=other), claim.got,
                                  claim.expected)

    def _references(self, services: Sequence[Service], declared: Sequence[tuple[str, str]],
                    declared_components: Sequence[tuple[str, str, str, str]] = ()) -> None:
        """Other services an instance names (a template's `references(inputs)` hook: a worker's SNS topics' owners)
        have an instance in the same environment, and that instance owns the components it names (the
        `component_references(inputs)` hook: each topic is an sns-topic component). A declared instance or
        component that failed to load has its own problems."""
        placed = {(i.service, i.environment) for s in services for i in s.instances} | set(declared)
        services_named = {name for name, _ in declared}
        owned: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for s in services:
            for i in s.instances:
                owned.setdefault((i.service, i.environment), set()).update((c.kind, c.name) for c in i.components)
        for service, env_name, kind, name in declared_components:
            owned.setdefault((service, env_name), set()).add((kind, name))
        for file, prefix, env, template, inputs in self._referrers:
            hook = template.inputs_hook("references")
            missing: set[str] = set()
            for path, other in cast("Iterable[tuple[str, str]]", hook(inputs) if hook else ()):
                if (other, env) in placed:
                    continue
                missing.add(other)
                why = f"has no instance in environment \"{env}\"" if other in services_named else \
                    "is not a service of the platform"
                self.problems.add(file, join_path(prefix, path), f"names service \"{other}\", which {why}", other,
                                  f"a service with an instance in environment \"{env}\"")
            wanted = template.inputs_hook("component_references")
            for path, other, kind, name in cast("Iterable[tuple[str, str, str, str]]",
                                                wanted(inputs) if wanted else ()):
                if other in missing or (kind, name) in owned.get((other, env), set()):
                    continue
                names = sorted(n for k, n in owned.get((other, env), set()) if k == kind)
                self.problems.add(file, join_path(prefix, path),
                                  f"names {kind} \"{name}\" of service \"{other}\", whose instance in environment "
                                  f"\"{env}\" owns no {kind} component of that name", name,
                                  f"the name of one of its {kind} components (" +
                                  (", ".join(names) or f"it has none: add {{kind: {kind}, name: {name}}} to its "
                                   "components") + ")")

    def _sources(self, template: TemplateVersion, inputs: object, pipeline: object, file: str, ipath: str,
                 pipeline_path: str) -> None:
        check = template.source_checks()
        if check is None:
            return
        base = Path(file).resolve().parent if Path(file).is_absolute() else (Path.cwd() / file).resolve().parent
        for section, path, message, got, expected in check(inputs, pipeline, base=base, root=self.root):
            where = pipeline_path if section == "pipeline" else f"{ipath}.spec"
            problem = (file, join_path(where, path), message, got, expected)
            if problem not in self._reported:
                self._reported.add(problem)
                self.problems.add(*problem)

    def _pipeline(self, template: TemplateVersion, raw: object, file: str, path: str) -> object:
        schema, cls = template.pipeline_schema, template.pipeline_type()
        if schema is None or cls is None:
            if raw:
                self.problems.add(file, path, f"{template.label} takes no pipeline inputs", raw, "no pipeline")
            return None
        return self._inputs(schema, dict(raw) if isinstance(raw, Mapping) else {}, file, path, cls)


def _overrides(raw: object, file: str, where: str) -> tuple[Override, ...]:
    """Structurally checked already; whether the resource and property exist is judged at synth."""
    return tuple(Override(resource=str(o["resource"]), path=str(o["path"]), value=o["value"],
                          where=f"{file}:{join_path(where, 'overrides', n)}")
                 for n, o in enumerate(_list(raw)) if isinstance(o, Mapping))


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _named_path(doc: object, parts: Sequence[Any]) -> str:
    """['environments', 0, 'region'] -> 'environments[dev].region' (names read better than indexes)."""
    out = ""
    node = doc
    for n, part in enumerate(parts):
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            parent = parts[n - 1] if n else None
            name = item.get("name") if isinstance(item, Mapping) else None
            if parent in ("environments", "services") and isinstance(name, str) and name:
                out += f"[{name}]"
            else:
                out += f"[{part}]"
            node = item
        else:
            out = join_path(out, str(part)) if out else str(part)
            node = node.get(part) if isinstance(node, Mapping) else None
    return out


def _display(path: Path) -> str:
    """Paths relative to the working directory when they are under it: what a user typed."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)

