"""The template registry's types: templates, their versions, and the refs specs pin. CDK-free.

The registry is read from template folders by `keel.spec.registry`; these types are what the spec layer,
the lifecycle commands and the stacks share. A service version names the outputs class of the environments
it builds on (`environment_outputs`), an environment template the class it hands on (`outputs_class`), and
the registry refuses a service whose compatible environments do not hand on what it needs.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from keel.contract.outputs import OUTPUTS_CLASSES, NetworkOutputs, ProtonEnvOutputs
from keel.contract.problems import InputProblem
from keel.contract.schema import InputSchema

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


def _load_object(spec: str) -> object:
    module, _, attr = spec.partition(":")
    found: object = getattr(importlib.import_module(module), attr)
    return found


#: A template's cross-field check: `check(inputs, environment)` yields problems relative to the inputs.
Check = Callable[..., Iterable[InputProblem]]
#: A template's source check: `check_sources(inputs, pipeline, *, base)` yields (section, path, message, got,
#: expected) with section "spec" or "pipeline".
SourceCheck = Callable[..., Iterable[tuple[str, str, str, object, str | None]]]
#: A template's builder (imports CDK): environment builders return their outputs class, service builders
#: what the instance publishes.
Builder = Callable[..., object]


@dataclass(frozen=True)
class ProtonFiles:
    """A Proton-layout template version (`<name>/v<major>/`): the files Keel renders and includes, as they are."""

    #: The CloudFormation (Jinja) file the infrastructure manifest lists.
    infrastructure: Path
    #: `pipeline_infrastructure/`'s file: never run (it calls Proton's API); its inputs are still validated.
    pipeline: Path | None = None
    #: `keel-acknowledgements.yaml` beside `schema/`: (rule, logical ID or "" for every resource, reason).
    acknowledgements: tuple[tuple[str, str, str], ...] = ()


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
    #: The environment outputs class (keel.contract.outputs): the one an environment's builder returns, or the
    #: one a service's builder takes as `environment` (each compatible environment hands on it or a subclass).
    environment_outputs: str = "NetworkOutputs"
    # What the version hands on: SSM discovery keys (environments) or published keys (services) -> meaning.
    outputs: Mapping[str, str] = field(default_factory=dict)
    # What changed from the previous version, in words (rendered by `keel docs`).
    notes: str = ""
    # Input path -> reason: schema changes the template author reviewed and declares safe for this minor
    # (e.g. a pattern rewritten to accept more); `keel templates check` shows them instead of failing.
    acknowledged_changes: Mapping[str, str] = field(default_factory=dict)
    # Proton-format template folders (issue 15)
    #: Set for a Proton-layout version from a platform's `template_dirs`: rendered with Jinja, then included.
    proton: ProtonFiles | None = None

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

    @property
    def outputs_type(self) -> type[NetworkOutputs] | type[ProtonEnvOutputs]:
        """A Proton-format version hands on (or builds on) a Proton environment's CloudFormation outputs."""
        return ProtonEnvOutputs if self.proton is not None else OUTPUTS_CLASSES[self.environment_outputs]

    def inputs_type(self) -> type:
        found = _load_object(self.inputs)
        assert isinstance(found, type), self.inputs
        return found

    def pipeline_type(self) -> type | None:
        if not self.pipeline_inputs:
            return None
        found = _load_object(self.pipeline_inputs)
        assert isinstance(found, type), self.pipeline_inputs
        return found

    def checks(self) -> Check | None:
        """The inputs module's optional `check(inputs, environment)` for cross-field rules."""
        return cast("Check | None", self.inputs_hook("check"))

    def inputs_hook(self, name: str) -> Callable[..., object] | None:
        """An optional function of the (CDK-free) inputs module: `check`, `check_sources`, `check_platform`..."""
        module = importlib.import_module(self.inputs.partition(":")[0])
        hook = getattr(module, name, None)
        return hook if callable(hook) else None

    def source_checks(self) -> SourceCheck | None:
        """The inputs module's optional `check_sources(inputs, pipeline, *, base)`: files a spec names
        (code, contracts), resolved against the declaring file's folder."""
        return cast("SourceCheck | None", self.inputs_hook("check_sources"))

    def load_builder(self) -> Builder:
        found = _load_object(self.builder)
        assert callable(found), self.builder
        return found

    def accepts_environment(self, env_template: TemplateVersion) -> bool:
        return (env_template.name, env_template.version.major) in self.compatible_environments


@dataclass(frozen=True)
class Template:
    name: str
    kind: Kind
    description: str
    folder: Path
    versions: tuple[TemplateVersion, ...]
    #: Where the template comes from: "built-in", or the `template_dirs` folder (and its layout) that holds it.
    origin: str = "built-in"

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

    def __post_init__(self) -> None:
        for problem in self.pairing_problems():
            raise RegistryError(problem)

    def pairing_problems(self) -> list[str]:
        """A service version whose compatible environment hands on a different outputs class than the one its
        builder takes: refused here, in the spec layer, not found at synth."""
        problems = []
        for template in self.templates.values():
            for version in template.versions:
                if version.kind != "service":
                    continue
                needed = version.outputs_type
                for env_name, major in version.compatible_environments:
                    env = self.templates.get(env_name)
                    found = env.recommended(major) if env is not None else None
                    if found is not None and not issubclass(found.outputs_type, needed):
                        problems.append(
                            f"{version.label}: its builder takes {needed.__name__}, and its compatible environment "
                            f"{env_name}:{major} hands on {found.outputs_type.__name__}")
        return problems

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
