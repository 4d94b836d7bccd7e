"""Proton-format template folders, run as they are: read their layout, render their Jinja CloudFormation.

A platform's `template_dirs` may hold folders laid out as AWS Proton's bundles are
(`<name>/v<major>/schema/schema.yaml`, `infrastructure/` or `instance_infrastructure/` with `manifest.yaml` and
the CloudFormation file, optional `pipeline_infrastructure/`, `.compatible-envs`). Rendering happens here, in the
spec layer, so `keel validate` finds an undefined variable (file and line) before anything is synthesized.
Values only known at deploy time (another stack's outputs, the account) are rendered as placeholders; `link()`
turns them into CloudFormation references that the stack layer binds to the environment stack's outputs.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from keel.contract.offers import Offers
from keel.contract.registry import Kind, ProtonFiles, Template, TemplateVersion, Version
from keel.contract.schema import SchemaDefinitionError, load_proton_schema
from keel.spec.yamlio import YamlReadError, parse_cfn_yaml, read_yaml

INPUTS = "keel.spec.proton:ProtonInputs"
BUILDERS = {"environment": "keel.templates.proton:build_environment",
            "service": "keel.templates.proton:build_service"}
ACKNOWLEDGEMENTS_FILE = "keel-acknowledgements.yaml"
#: Output names are CloudFormation logical IDs (alphanumeric), so the placeholder cannot be ambiguous.
_OUTPUT = "__keel_env_output__{}__"
_PLACEHOLDER = re.compile(r"__keel_(env_output|pseudo)__([A-Za-z0-9]+)__")
#: The Parameter a placeholder becomes before the include; CfnInclude replaces it by the reference.
OUTPUT_PARAMETER = "KeelEnvOutput"
_VERSION_DIR = re.compile(r"^v(0|[1-9][0-9]*)$")
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


class TemplateDirProblem(Exception):
    """A template folder that cannot be used: located in its own file."""

    def __init__(self, file: str, path: str, message: str, got: object = None, expected: str | None = None) -> None:
        self.file, self.path, self.message, self.got, self.expected = file, path, message, got, expected
        super().__init__(f"{file}:{path}: {message}")


@dataclass(frozen=True)
class ProtonInputs:
    """The validated inputs of a Proton-format template: its schema is their only contract, so they stay a
    mapping (rendered into the template as Proton renders `*.inputs.*`)."""

    values: Mapping[str, Any]

    def offers(self) -> Offers:
        return Offers(vpc_cidr=str(self.values.get("vpc_cidr", "")))


def is_proton_layout(folder: Path) -> bool:
    return any((v / "schema" / "schema.yaml").is_file() for v in folder.glob("v*") if _VERSION_DIR.match(v.name))


def load_proton_template(folder: Path, *, prefix: str, origin: str) -> Template:
    """One `<name>/` folder of Proton versions `v1/`, `v2/`... (each `v<major>.0`); `prefix` goes before the
    template's name and before the environment names of its `.compatible-envs`."""
    name = prefix + folder.name
    if not _NAME.match(name):
        raise TemplateDirProblem(str(folder), "", "is not a template name", name,
                                 "lowercase letters, digits and dashes, starting with a letter")
    versions = []
    kinds: set[str] = set()
    for vdir in sorted((v for v in folder.iterdir() if _VERSION_DIR.match(v.name)), key=lambda v: int(v.name[1:])):
        version = _load_version(vdir, name=name, prefix=prefix)
        kinds.add(version.kind)
        versions.append(version)
    if len(kinds) > 1:
        raise TemplateDirProblem(str(folder), "", "mixes environment and service versions", sorted(kinds),
                                 "one kind of template per folder")
    kind = versions[0].kind
    return Template(name=name, kind=kind, description=versions[-1].description, folder=folder,
                    versions=tuple(versions), origin=f"{origin} (Proton layout)")


def _load_version(vdir: Path, *, name: str, prefix: str) -> TemplateVersion:
    schema_file = vdir / "schema" / "schema.yaml"
    try:
        schemas = load_proton_schema(read_yaml(schema_file), source=str(schema_file), closed=False)
    except SchemaDefinitionError as exc:
        raise TemplateDirProblem(str(schema_file), exc.path, exc.message) from None
    except YamlReadError as exc:
        raise TemplateDirProblem(exc.file, exc.path, exc.message, None, exc.expected) from None
    kind: Kind = "environment" if "environment" in schemas else "service"
    if kind == "service" and "service" not in schemas:
        raise TemplateDirProblem(str(schema_file), "schema", "names neither environment_input_type nor "
                                 "service_input_type", None, "one of them")
    infra_dir = vdir / ("infrastructure" if kind == "environment" else "instance_infrastructure")
    infrastructure = _manifest_file(infra_dir)
    pipeline_dir = vdir / "pipeline_infrastructure"
    pipeline = _manifest_file(pipeline_dir) if (pipeline_dir / "manifest.yaml").is_file() else None
    compatible: list[tuple[str, int]] = []
    envs_file = vdir / ".compatible-envs"
    if kind == "service":
        if not envs_file.is_file():
            raise TemplateDirProblem(str(vdir), ".compatible-envs", "file not found", None,
                                     "a .compatible-envs file listing environment templates as name:major")
        for n, line in enumerate(envs_file.read_text(encoding="utf-8").splitlines()):
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            env_name, _, major = entry.partition(":")
            if not major.isdigit() or not env_name:
                raise TemplateDirProblem(str(envs_file), f"line {n + 1}", "is not an environment template",
                                         entry, "name:major, e.g. fargate-env:1")
            compatible.append((prefix + env_name, int(major)))
    root = schemas[kind]
    description = str(root.json_schema.get("description", "") or "").strip()
    return TemplateVersion(
        name=name, kind=kind, version=Version(int(vdir.name[1:]), 0), description=description,
        schema_file=schema_file, schemas=schemas, inputs=INPUTS, builder=BUILDERS[kind],
        pipeline_inputs=INPUTS if "pipeline" in schemas else None, compatible_environments=tuple(compatible),
        proton=ProtonFiles(infrastructure=infrastructure, pipeline=pipeline,
                           acknowledgements=_acknowledgements(vdir / ACKNOWLEDGEMENTS_FILE)))


def _manifest_file(folder: Path) -> Path:
    manifest = folder / "manifest.yaml"
    try:
        doc = read_yaml(manifest)
    except YamlReadError as exc:
        raise TemplateDirProblem(exc.file, exc.path, exc.message, exc.got if exc.path else None,
                                 exc.expected or "a Proton manifest.yaml") from None
    templates = doc.get("infrastructure", {}).get("templates") if isinstance(doc, Mapping) else None
    if not isinstance(templates, list) or len(templates) != 1 or not isinstance(templates[0], Mapping):
        raise TemplateDirProblem(str(manifest), "infrastructure.templates", "expected one template entry",
                                 templates, "[{file: cloudformation.yaml, rendering_engine: jinja, "
                                 "template_language: cloudformation}]")
    entry = templates[0]
    if entry.get("template_language", "cloudformation") != "cloudformation" or \
            entry.get("rendering_engine", "jinja") != "jinja":
        raise TemplateDirProblem(str(manifest), "infrastructure.templates[0]", "is not a Jinja CloudFormation "
                                 "template (Keel runs those; Terraform and CodeBuild provisioning it does not)",
                                 {k: entry.get(k) for k in ("rendering_engine", "template_language")},
                                 "rendering_engine: jinja, template_language: cloudformation")
    file = folder / str(entry.get("file", ""))
    if not file.is_file() or file.resolve().parent != folder.resolve():
        raise TemplateDirProblem(str(manifest), "infrastructure.templates[0].file", "file not found in the folder",
                                 entry.get("file"), f"a file in {folder}")
    return file


def _acknowledgements(file: Path) -> tuple[tuple[str, str, str], ...]:
    """`acknowledgements: [{rule: AwsSolutions-IAM5, resource: TaskRole, reason: ...}]`; `resource` is a logical
    ID of the rendered template (omitted: every resource of the stack); each needs a reason."""
    if not file.is_file():
        return ()
    try:
        doc = read_yaml(file)
    except YamlReadError as exc:
        raise TemplateDirProblem(exc.file, exc.path, exc.message, None, exc.expected) from None
    entries = doc.get("acknowledgements") if isinstance(doc, Mapping) else None
    if not isinstance(entries, list):
        raise TemplateDirProblem(str(file), "acknowledgements", "expected a list", entries,
                                 "acknowledgements: [{rule: ..., resource: ..., reason: ...}]")
    out = []
    for n, entry in enumerate(entries):
        where = f"acknowledgements[{n}]"
        if not isinstance(entry, Mapping) or not re.fullmatch(r"[A-Za-z0-9.]+-[A-Za-z0-9]+(\[.+\])?",
                                                               str(entry.get("rule", ""))):
            raise TemplateDirProblem(str(file), f"{where}.rule", "is not a cdk-nag rule id",
                                     entry.get("rule") if isinstance(entry, Mapping) else entry,
                                     "e.g. AwsSolutions-IAM5")
        reason = str(entry.get("reason", "") or "").strip()
        if len(reason) < 10:
            raise TemplateDirProblem(str(file), f"{where}.reason", "every acknowledgement needs its reason",
                                     entry.get("reason"), "a specific, true reason (10 characters or more)")
        out.append((str(entry["rule"]), str(entry.get("resource", "") or ""), reason))
    return tuple(out)


# -- rendering -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    """A rendered Proton template: CloudFormation with placeholders for the environment's outputs."""

    file: str
    template: Mapping[str, Any] = field(repr=False)

    @property
    def outputs(self) -> tuple[str, ...]:
        outputs = self.template.get("Outputs")
        return tuple(outputs) if isinstance(outputs, Mapping) else ()

    def linked(self) -> tuple[dict[str, Any], tuple[str, ...]]:
        """(template, environment outputs it reads): each placeholder becomes a Ref to a Parameter
        `KeelEnvOutput<X>` (a Fn::Join when spliced inside a string, `${...}` inside a Fn::Sub), which the
        include replaces by the reference to the environment stack's output."""
        used: set[str] = set()
        linked = _link(self.template, used, in_sub=False)
        template: dict[str, Any] = dict(linked) if isinstance(linked, Mapping) else {}
        if used:
            parameters = dict(template.get("Parameters") or {})
            for name in sorted(used):
                parameters[OUTPUT_PARAMETER + name] = {"Type": "String"}
            template["Parameters"] = parameters
        return template, tuple(sorted(used))


class RenderError(Exception):
    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file, self.line, self.message = file, line, message
        super().__init__(f"{file}:{line}: {message}")

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line else ""


def _env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    env.filters.update({
        "proton_cfn_ecs_task_definition_formatted_env_vars": _ecs_env_vars,
        "proton_cfn_ecs_task_definition_formatted_secrets": _ecs_secrets,
        "proton_cfn_iam_policy_arns": _iam_policy_arns,
        "proton_cfn_sanitize": _sanitize,
    })
    return env


class FilterError(ValueError):
    """A Proton filter refused a value: rendering fails, as it does in Proton."""


_RAW_VALUE = re.compile(r"^[a-zA-Z0-9_-]*$")


def _pairs(outputs: object, value_key: str, raw: bool) -> str:
    if not isinstance(outputs, Mapping):
        raise FilterError(f"expects a mapping of outputs, got {type(outputs).__name__}")
    items = []
    for name, value in outputs.items():
        if not raw and not _RAW_VALUE.match(str(value)):
            raise FilterError(f"value of {name!r} does not match ^[a-zA-Z0-9_-]*$ (raw=False): {value!r}")
        items.append({"Name": str(name), value_key: str(value)})
    return _list_marker(items)


#: What a list filter renders to, expanded after rendering into YAML list items at the marker's indentation
#: (Proton's filters append items to a list the template already started), or a flow list when inline.
_LIST = re.compile(r"\u27e6keel-list:(.*?)\u27e7")
_LIST_LINE = re.compile(r"^([ \t]*)\u27e6keel-list:(.*?)\u27e7[ \t]*$", re.MULTILINE)


def _list_marker(items: list[Any]) -> str:
    return "\u27e6keel-list:" + json.dumps(items, ensure_ascii=True) + "\u27e7"


def _expand_lists(text: str) -> str:
    def block(match: re.Match[str]) -> str:
        indent, items = match.group(1), json.loads(match.group(2))
        lines = []
        for item in items:
            if isinstance(item, Mapping):
                for n, (key, value) in enumerate(item.items()):
                    lines.append(f"{indent}{'- ' if n == 0 else '  '}{key}: {json.dumps(value)}")
            else:
                lines.append(f"{indent}- {json.dumps(item)}")
        return "\n".join(lines)
    text = _LIST_LINE.sub(block, text)
    return _LIST.sub(lambda m: m.group(1), text)


def _ecs_env_vars(outputs: object, raw: bool = True) -> str:
    """Outputs as an ECS container definition's `Environment` list ({Name, Value})."""
    return _pairs(outputs, "Value", raw)


def _ecs_secrets(outputs: object, raw: bool = True) -> str:
    """Outputs as an ECS container definition's `Secrets` list ({Name, ValueFrom})."""
    return _pairs(outputs, "ValueFrom", raw)


_POLICY_ARN = re.compile(r"^arn:[a-zA-Z-]+:iam::([0-9]{12}|aws):policy/.+$")


def _iam_policy_arns(outputs: object) -> str:
    """The outputs that are IAM managed policy ARNs, as a list (for a role's ManagedPolicyArns)."""
    if not isinstance(outputs, Mapping):
        raise FilterError(f"expects a mapping of outputs, got {type(outputs).__name__}")
    return _list_marker([str(v) for v in outputs.values() if _POLICY_ARN.match(str(v))])


def _sanitize(value: object) -> str:
    """A value made fit for a CloudFormation logical ID or name: alphanumeric characters only."""
    return re.sub(r"[^A-Za-z0-9]", "", str(value))


def output_placeholders(names: tuple[str, ...] | list[str]) -> dict[str, str]:
    return {name: _OUTPUT.format(name) for name in names}


def _pseudo(name: str) -> str:
    return f"__keel_pseudo__{name}__"


def environment_context(*, name: str, inputs: Mapping[str, Any], account: str | None) -> dict[str, Any]:
    """Proton's namespace of an environment template: `environment.name`, `.account_id`, `.inputs.*`."""
    return {"environment": {"name": name, "account_id": account or _pseudo("AccountId"), "inputs": dict(inputs)}}


# proton import (issue 15)
@dataclass(frozen=True)
class ServiceRepository:
    """What Proton's `service.*` namespace says about the repository a service's pipeline builds from
    (Keel's delivery.service_pipelines entry of the service): empty strings without a pipeline, as Proton
    renders a service created without one."""

    branch_name: str = ""
    repository_connection_arn: str = ""
    repository_id: str = ""


def service_repository(delivery: object, service: str) -> ServiceRepository:
    """The service's repository from a platform's raw `delivery:` section (its service_pipelines entry, the
    connection defaulting to delivery.source's), before the section itself is parsed."""
    if not isinstance(delivery, Mapping):
        return ServiceRepository()
    raw_source = delivery.get("source")
    source: Mapping[str, object] = raw_source if isinstance(raw_source, Mapping) else {}
    for entry in delivery.get("service_pipelines") or ():
        if isinstance(entry, Mapping) and entry.get("service") == service:
            return ServiceRepository(
                branch_name=str(entry.get("branch") or "main"),
                repository_connection_arn=str(entry.get("connection_arn") or source.get("connection_arn") or ""),
                repository_id=str(entry.get("repository") or ""))
    return ServiceRepository()


def service_context(*, service: str, instance: str, inputs: Mapping[str, Any], pipeline: Mapping[str, Any] | None,
                    environment: str, account: str | None, environment_outputs: tuple[str, ...],
                    environment_inputs: Mapping[str, Any] | None = None,
                    repository: ServiceRepository | None = None) -> dict[str, Any]:
    """Proton's namespace of a service instance template: `service.{name,branch_name,repository_connection_arn,
    repository_id}`, `service_instance.{name,inputs.*,environment.{name,account_id,outputs.*},
    components.default.outputs.*}`, `environment.{name,account_id,outputs.*}` and `pipeline.inputs.*`.
    Environment outputs are placeholders the include turns into cross-stack references. Keel attaches no
    Proton component to such an instance, so reading a component output is an undefined-variable error."""
    outputs = output_placeholders(environment_outputs)
    env = {"name": environment, "account_id": account or _pseudo("AccountId"), "outputs": outputs}
    repo = repository or ServiceRepository()
    context: dict[str, Any] = {
        "service": {"name": service, "branch_name": repo.branch_name,
                    "repository_connection_arn": repo.repository_connection_arn,
                    "repository_id": repo.repository_id},
        "service_instance": {"name": instance, "inputs": dict(inputs), "environment": env,
                             "components": {"default": {"outputs": {}}}},
        "environment": {**env, **({"inputs": dict(environment_inputs)} if environment_inputs is not None else {})},
    }
    if pipeline is not None:
        context["pipeline"] = {"inputs": dict(pipeline)}
    return context


def render(file: Path, context: Mapping[str, Any], *, display: str | None = None) -> Rendered:
    """Render with Proton's filters in a sandbox; an undefined variable or a bad value raises RenderError
    naming the template file and line."""
    shown = display or str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RenderError(shown, None, f"cannot read the template: {exc}") from None
    env = _env()
    try:
        rendered = _expand_lists(env.from_string(text).render(context))
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(shown, exc.lineno, f"Jinja syntax: {exc.message}") from None
    except (jinja2.UndefinedError, FilterError, jinja2.exceptions.SecurityError, TypeError) as exc:
        kind = "undefined variable" if isinstance(exc, jinja2.UndefinedError) else "cannot render"
        raise RenderError(shown, _template_line(exc), f"{kind}: {exc}") from None
    try:
        doc = parse_cfn_yaml(rendered, display=f"{shown} (rendered)")
    except YamlReadError as exc:
        raise RenderError(shown, None, f"the rendered template is not YAML: {exc.message}") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("Resources"), Mapping):
        raise RenderError(shown, None, "the rendered template has no Resources mapping")
    return Rendered(file=shown, template=doc)


def _template_line(exc: BaseException) -> int | None:
    """Jinja rewrites tracebacks so the template's own frames carry its line numbers."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return lines[-1] if lines else None


def _link(node: object, used: set[str], *, in_sub: bool) -> object:
    if isinstance(node, Mapping):
        return {k: _link(v, used, in_sub=(k == "Fn::Sub")) for k, v in node.items()}
    if isinstance(node, list):
        if in_sub and node and isinstance(node[0], str):  # Fn::Sub [string, {vars}]
            return [_sub(node[0], used), *(_link(v, used, in_sub=False) for v in node[1:])]
        return [_link(v, used, in_sub=False) for v in node]
    if isinstance(node, str) and "__keel_" in node:
        return _sub(node, used) if in_sub else _splice(node, used)
    return node


def _reference(kind: str, name: str, used: set[str]) -> dict[str, str]:
    if kind == "pseudo":
        return {"Ref": f"AWS::{name}"}
    used.add(name)
    return {"Ref": OUTPUT_PARAMETER + name}


def _splice(text: str, used: set[str]) -> str | Mapping[str, object]:
    parts: list[str | dict[str, str]] = []
    at = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > at:
            parts.append(text[at:match.start()])
        parts.append(_reference(match.group(1), match.group(2), used))
        at = match.end()
    if at < len(text):
        parts.append(text[at:])
    if len(parts) == 1 and not isinstance(parts[0], str):
        return parts[0]
    return {"Fn::Join": ["", parts]}


def _sub(text: str, used: set[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        ref = _reference(match.group(1), match.group(2), used)["Ref"]
        return "${" + ref + "}"
    return _PLACEHOLDER.sub(replace, text)


def placeholders_in(node: object) -> Iterator[str]:
    """Every environment output a rendered template reads (for checks and tests)."""
    if isinstance(node, Mapping):
        for v in node.values():
            yield from placeholders_in(v)
    elif isinstance(node, list):
        for v in node:
            yield from placeholders_in(v)
    elif isinstance(node, str):
        yield from (m.group(2) for m in _PLACEHOLDER.finditer(node) if m.group(1) == "env_output")
