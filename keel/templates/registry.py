"""The template registry: every `keel/templates/<name>/template.yaml`, read without importing CDK.

A template folder holds `template.yaml` (name, kind, versions), one Proton-format schema per version,
a CDK-free `inputs` module (typed inputs and cross-field checks) and a `builder` module (CDK). Builders
are imported only when stacks are built, so `keel validate` stays fast.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from keel.spec.schema import InputSchema, SchemaDefinitionError, load_proton_schema
from keel.spec.yamlio import read_yaml

TEMPLATES_DIR = Path(__file__).resolve().parent
Kind = Literal["environment", "service"]
_VERSION = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_REF = re.compile(r"^(?P<name>[a-z][a-z0-9-]*):(?P<major>0|[1-9][0-9]*)(?:\.(?P<minor>0|[1-9][0-9]*))?$")


class RegistryError(Exception):
    """A template definition is broken (a platform-team bug, caught by the registry tests)."""


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a major.minor version")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class TemplateRef:
    """What a spec pins: `name:major` (the recommended minor) or `name:major.minor` (exact)."""

    name: str
    major: int
    minor: int | None = None

    @classmethod
    def parse(cls, text: str) -> TemplateRef:
        match = _REF.match(text)
        if not match:
            raise ValueError(text)
        minor = match.group("minor")
        return cls(match.group("name"), int(match.group("major")), int(minor) if minor else None)

    def __str__(self) -> str:
        return f"{self.name}:{self.major}" + (f".{self.minor}" if self.minor is not None else "")


def _load_object(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class TemplateVersion:
    name: str
    kind: Kind
    version: Version
    description: str
    schema_file: Path
    schemas: Mapping[str, InputSchema] = field(repr=False)
    inputs: str  # "module:Class" for the instance inputs (CDK-free module)
    builder: str  # "module:function" (imports CDK)
    pipeline_inputs: str | None = None
    compatible_environments: tuple[tuple[str, int], ...] = ()
    # What the version hands on: SSM discovery keys (environments) or published keys (services) -> meaning.
    outputs: Mapping[str, str] = field(default_factory=dict)
    # What changed from the previous version, in words (rendered by `keel docs`).
    notes: str = ""
    # Input path -> reason: schema changes the template author reviewed and declares safe for this minor
    # (e.g. a pattern rewritten to accept more); `keel templates check` shows them instead of failing.
    acknowledged_changes: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """`vpc-env@1.0`: the value of the `keel:template` tag."""
        return f"{self.name}@{self.version}"

    @property
    def input_schema(self) -> InputSchema:
        return self.schemas[self.kind]

    @property
    def pipeline_schema(self) -> InputSchema | None:
        return self.schemas.get("pipeline")

    def inputs_type(self) -> type:
        return _load_object(self.inputs)  # type: ignore[no-any-return]

    def pipeline_type(self) -> type | None:
        return _load_object(self.pipeline_inputs) if self.pipeline_inputs else None

    def checks(self) -> Callable[..., Iterable[tuple[str, str, Any, str | None]]] | None:
        """The inputs module's optional `check(inputs, context)` for cross-field rules."""
        return self.inputs_hook("check")

    def inputs_hook(self, name: str) -> Callable[..., Any] | None:
        """An optional function of the (CDK-free) inputs module: `check`, `listener_rule`..."""
        module = importlib.import_module(self.inputs.partition(":")[0])
        return getattr(module, name, None)

    def source_checks(self) -> Callable[..., Iterable[tuple[str, str, str, Any, str | None]]] | None:
        """The inputs module's optional `check_sources(inputs, pipeline, *, base)`: files a spec names
        (code, contracts), resolved against the declaring file's folder; yields (section, path, message,
        got, expected) with section "spec" or "pipeline"."""
        return self.inputs_hook("check_sources")

    def load_builder(self) -> Callable[..., Any]:
        return _load_object(self.builder)  # type: ignore[no-any-return]

    def accepts_environment(self, env_template: TemplateVersion) -> bool:
        return (env_template.name, env_template.version.major) in self.compatible_environments


@dataclass(frozen=True)
class Template:
    name: str
    kind: Kind
    description: str
    folder: Path
    versions: tuple[TemplateVersion, ...]

    def recommended(self, major: int) -> TemplateVersion | None:
        """The highest minor of `major`: what `name:major` resolves to."""
        candidates = [v for v in self.versions if v.version.major == major]
        return max(candidates, key=lambda v: v.version) if candidates else None

    def get(self, version: Version) -> TemplateVersion | None:
        return next((v for v in self.versions if v.version == version), None)

    @property
    def majors(self) -> list[int]:
        return sorted({v.version.major for v in self.versions})


@dataclass(frozen=True)
class Registry:
    templates: Mapping[str, Template]

    def resolve(self, ref: TemplateRef) -> TemplateVersion:
        """The version a ref pins; raises LookupError with a message naming what exists."""
        template = self.templates.get(ref.name)
        if template is None:
            known = ", ".join(sorted(self.templates)) or "none"
            raise LookupError(f"unknown template \"{ref.name}\" (known: {known})")
        found = template.recommended(ref.major) if ref.minor is None else template.get(Version(ref.major, ref.minor))
        if found is None:
            have = ", ".join(str(v.version) for v in template.versions)
            raise LookupError(f"template \"{ref.name}\" has no version {ref.major}"
                              + (f".{ref.minor}" if ref.minor is not None else ".x")
                              + f" (available: {have})")
        return found

    def all_versions(self) -> list[TemplateVersion]:
        return [v for t in sorted(self.templates.values(), key=lambda t: t.name) for v in t.versions]


def load_template(folder: Path) -> Template:
    meta_file = folder / "template.yaml"
    meta = read_yaml(meta_file)
    where = str(meta_file)
    try:
        name, kind = meta["name"], meta["kind"]
        description = str(meta.get("description", "")).strip()
        raw_versions = meta["versions"]
    except (KeyError, TypeError) as exc:
        raise RegistryError(f"{where}: missing {exc}") from None
    if kind not in ("environment", "service"):
        raise RegistryError(f"{where}:kind: expected environment or service, got {kind!r}")
    if not isinstance(raw_versions, Mapping) or not raw_versions:
        raise RegistryError(f"{where}:versions: expected a mapping of \"major.minor\" to version details")
    versions = []
    for text, details in raw_versions.items():
        try:
            version = Version.parse(str(text))
        except ValueError as exc:
            raise RegistryError(f"{where}:versions: {exc} (quote versions: \"1.0\")") from None
        schema_file = folder / details["schema"]
        try:
            schemas = load_proton_schema(read_yaml(schema_file), source=str(schema_file))
        except SchemaDefinitionError as exc:
            raise RegistryError(str(exc)) from None
        expected_root = "environment" if kind == "environment" else "service"
        if expected_root not in schemas:
            raise RegistryError(f"{schema_file}: a {kind} template needs {expected_root}_input_type")
        compatible = []
        for entry in details.get("compatible_environments", ()) or ():
            env_name, _, major = str(entry).partition(":")
            if not major.isdigit():
                raise RegistryError(f"{where}:versions.{text}.compatible_environments: "
                                    f"expected name:major, got {entry!r}")
            compatible.append((env_name, int(major)))
        if kind == "service" and not compatible:
            raise RegistryError(f"{where}:versions.{text}: a service template lists compatible_environments")
        versions.append(TemplateVersion(
            name=name, kind=kind, version=version, description=description,
            schema_file=schema_file, schemas=schemas, inputs=details["inputs"],
            builder=details["builder"], pipeline_inputs=details.get("pipeline_inputs"),
            compatible_environments=tuple(compatible),
            outputs=_string_map(details.get("outputs", meta.get("outputs")), f"{where}:versions.{text}.outputs"),
            notes=str(details.get("notes", "") or "").strip(),
            acknowledged_changes=_string_map(details.get("acknowledged_changes"),
                                             f"{where}:versions.{text}.acknowledged_changes")))
    versions.sort(key=lambda v: v.version)
    return Template(name=name, kind=kind, description=description, folder=folder,
                    versions=tuple(versions))


def _string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) and v.strip() for v in value.values()):
        raise RegistryError(f"{where}: expected a mapping of names to non-empty descriptions")
    return {str(k): str(v).strip() for k, v in value.items()}


def load_registry(root: Path = TEMPLATES_DIR) -> Registry:
    templates: dict[str, Template] = {}
    for meta in sorted(root.glob("*/template.yaml")):
        template = load_template(meta.parent)
        if template.name in templates:
            raise RegistryError(f"{meta}: template name {template.name!r} is defined twice")
        templates[template.name] = template
    return Registry(templates=templates)


@cache
def default_registry() -> Registry:
    return load_registry()
