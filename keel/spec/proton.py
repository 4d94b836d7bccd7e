"""Proton-format template folders, run as they are: read their layout, render their Jinja CloudFormation.

A platform's `template_dirs` may hold folders laid out as AWS Proton's bundles are
(`<name>/v<major>/schema/schema.yaml`, `infrastructure/` or `instance_infrastructure/` with `manifest.yaml` and
the CloudFormation file, optional `pipeline_infrastructure/`, `.compatible-envs`). Rendering happens here, in the
spec layer, so `keel validate` finds an undefined variable (file and line) before anything is synthesized.
Values only known at deploy time (another stack's outputs, the account) are rendered as placeholders; `link()`
turns them into CloudFormation references that the stack layer binds to the environment stack's outputs.
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from jinja2 import nodes
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

from keel.contract.offers import Offers
from keel.contract.registry import Kind, ProtonFiles, Template, TemplateVersion, Version
from keel.contract.schema import SchemaDefinitionError, load_proton_schema
from keel.spec.yamlio import MAX_FILE_BYTES, YamlReadError, parse_cfn_yaml, read_text, read_yaml

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


def read_text_file(path: Path, *, display: str | None = None) -> str:
    """A template folder's text file (Jinja, `.compatible-envs`) under yamlio's bounds (see `read_text`)."""
    return read_text(path, display=display, what="text file")


def _versions(folder: Path) -> list[Path]:
    """The `v*` folders holding a schema: each a version, or (`v01`, `vx`) a located problem."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    return [v for v in entries if v.name.startswith("v") and v.is_dir()
            and (v / "schema" / "schema.yaml").exists()]


def is_proton_layout(folder: Path) -> bool:
    return bool(_versions(folder))


def _inside(file: Path, folder: Path, what: str) -> None:
    """Every file a template folder uses stays in it: a symlink out of it (to another file of the machine)
    is refused before it is read."""
    try:
        file.resolve().relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):
        raise TemplateDirProblem(str(file), "", f"{what} leads outside its template folder (a symlink?)",
                                 None, f"a file inside {folder}") from None


def load_proton_template(folder: Path, *, prefix: str, origin: str) -> Template:
    """One `<name>/` folder of Proton versions `v1/`, `v2/`... (each `v<major>.0`); `prefix` goes before the
    template's name and before the environment names of its `.compatible-envs`."""
    name = prefix + folder.name
    if not _NAME.match(name):
        raise TemplateDirProblem(str(folder), "", "is not a template name", name,
                                 "lowercase letters, digits and dashes, starting with a letter")
    versions = []
    kinds: set[str] = set()
    for vdir in _versions(folder):
        if not _VERSION_DIR.match(vdir.name) or len(vdir.name) > 7:
            raise TemplateDirProblem(str(vdir), "", "is not a version folder", vdir.name,
                                     "v<major>, the major version without leading zeros (v1, v2, ...)")
    for vdir in sorted(_versions(folder), key=lambda v: int(v.name[1:])):
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
    _inside(vdir, vdir.parent, "the version folder")
    _inside(schema_file, vdir, "schema.yaml")
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
    infrastructure = _manifest_file(infra_dir, vdir)
    pipeline_dir = vdir / "pipeline_infrastructure"
    pipeline = _manifest_file(pipeline_dir, vdir) if (pipeline_dir / "manifest.yaml").exists() else None
    compatible = _compatible_envs(vdir, prefix) if kind == "service" else []
    root = schemas[kind]
    description = str(root.json_schema.get("description", "") or "").strip()
    return TemplateVersion(
        name=name, kind=kind, version=Version(int(vdir.name[1:]), 0), description=description,
        schema_file=schema_file, schemas=schemas, inputs=INPUTS, builder=BUILDERS[kind],
        pipeline_inputs=INPUTS if "pipeline" in schemas else None, compatible_environments=tuple(compatible),
        proton=ProtonFiles(infrastructure=infrastructure, pipeline=pipeline,
                           acknowledgements=_acknowledgements(vdir / ACKNOWLEDGEMENTS_FILE, vdir)))


_COMPATIBLE = re.compile(r"^([a-z][a-z0-9-]*):([1-9][0-9]{0,5})$")


def _compatible_envs(vdir: Path, prefix: str) -> list[tuple[str, int]]:
    """`.compatible-envs`: one `name:major` a line (blank lines and # comments aside), at least one."""
    envs_file = vdir / ".compatible-envs"
    if not envs_file.exists() and not envs_file.is_symlink():
        raise TemplateDirProblem(str(vdir), ".compatible-envs", "file not found", None,
                                 "a .compatible-envs file listing environment templates as name:major")
    _inside(envs_file, vdir, ".compatible-envs")
    try:
        text = read_text_file(envs_file)
    except YamlReadError as exc:
        raise TemplateDirProblem(exc.file, "", exc.message, None, exc.expected) from None
    compatible: list[tuple[str, int]] = []
    for n, line in enumerate(text.splitlines()):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        match = _COMPATIBLE.match(entry)
        if match is None:
            raise TemplateDirProblem(str(envs_file), f"line {n + 1}", "is not an environment template",
                                     entry[:80], "name:major, e.g. fargate-env:1")
        compatible.append((prefix + match.group(1), int(match.group(2))))
    if not compatible:
        raise TemplateDirProblem(str(envs_file), "", "lists no environment template", None,
                                 "one name:major a line, e.g. fargate-env:1")
    return compatible


def _manifest_file(folder: Path, vdir: Path) -> Path:
    manifest = folder / "manifest.yaml"
    if manifest.exists():
        _inside(manifest, vdir, "manifest.yaml")
    try:
        doc = read_yaml(manifest)
    except YamlReadError as exc:
        raise TemplateDirProblem(exc.file, exc.path, exc.message, exc.got if exc.path else None,
                                 exc.expected or "a Proton manifest.yaml") from None
    infrastructure = doc.get("infrastructure") if isinstance(doc, Mapping) else None
    templates = infrastructure.get("templates") if isinstance(infrastructure, Mapping) else None
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
    given = entry.get("file")
    file = folder / given if isinstance(given, str) and given and "\0" not in given else None
    if file is None or not file.is_file() or file.resolve().parent != folder.resolve():
        raise TemplateDirProblem(str(manifest), "infrastructure.templates[0].file",
                                 "is not a file of the folder (no path out of it, no symlink out)",
                                 given, f"the name of a file in {folder}")
    return file


def _acknowledgements(file: Path, vdir: Path) -> tuple[tuple[str, str, str], ...]:
    """`acknowledgements: [{rule: AwsSolutions-IAM5, resource: TaskRole, reason: ...}]`; `resource` is a logical
    ID of the rendered template (omitted: every resource of the stack); each needs a reason."""
    if not file.exists() and not file.is_symlink():
        return ()
    _inside(file, vdir, ACKNOWLEDGEMENTS_FILE)
    try:
        doc = read_yaml(file)
    except YamlReadError as exc:
        raise TemplateDirProblem(exc.file, exc.path, exc.message, None, exc.expected) from None
    entries = doc.get("acknowledgements") if isinstance(doc, Mapping) else None
    if not isinstance(entries, list):
        raise TemplateDirProblem(str(file), "acknowledgements", "expected a list", entries,
                                 "acknowledgements: [{rule: ..., resource: ..., reason: ...}]")
    return tuple(_acknowledgement(str(file), f"acknowledgements[{n}]", entry) for n, entry in enumerate(entries))


def _acknowledgement(file: str, where: str, entry: object) -> tuple[str, str, str]:
    if not isinstance(entry, Mapping):
        raise TemplateDirProblem(file, where, "is not an acknowledgement", entry, "{rule: ..., resource: ..., "
                                 "reason: ...}")
    rule, resource, reason = entry.get("rule"), entry.get("resource"), entry.get("reason")
    if not isinstance(rule, str) or not re.fullmatch(r"[A-Za-z0-9.]+-[A-Za-z0-9]+(\[[^\]\n]+\])?", rule):
        raise TemplateDirProblem(file, f"{where}.rule", "is not a cdk-nag rule id", rule, "e.g. AwsSolutions-IAM5")
    if resource not in (None, "") and not (isinstance(resource, str) and re.fullmatch(r"[A-Za-z0-9]+", resource)):
        raise TemplateDirProblem(file, f"{where}.resource", "is not a logical ID", resource,
                                 "the logical ID of a resource of the rendered template (letters and digits)")
    if not isinstance(reason, str) or len(reason.strip()) < 10:
        raise TemplateDirProblem(file, f"{where}.reason", "every acknowledgement needs its reason", reason,
                                 "a specific, true reason (10 characters or more)")
    return rule, resource or "", reason.strip()


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
    def __init__(self, file: str, line: int | None, message: str, path: str = "") -> None:
        self.file, self.line, self.message, self.path = file, line, message, path
        super().__init__(f"{file}:{line}: {message}")

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line else self.path


#: What one render may do: steps (loop iterations and calls), seconds, and the size of any value or of the
#: output (a CloudFormation template is at most a megabyte). Real templates use a tiny part of each.
MAX_RENDER_STEPS = 1_000_000
MAX_RENDER_SECONDS = 10.0
MAX_VALUE_CHARS = MAX_FILE_BYTES
_FORMAT_WIDTH = re.compile(r"[0-9]{7,}|%[^a-zA-Z%]*\*")


_T = TypeVar("_T")


class RenderBound(jinja2.exceptions.SecurityError):
    """A render that would run too long or build too large a value: refused, as the sandbox refuses unsafe code."""


class _BoundedEnvironment(SandboxedEnvironment):
    """Jinja's sandbox with a budget: every loop iteration and call is a step, checked against the step and
    time budget; `*`, `**`, `%` and `+` are checked before they compute, filters and `~` after."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
        self.steps = 0
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_RENDER_STEPS:
            raise RenderBound(f"the template takes more than {MAX_RENDER_STEPS} steps (loop iterations and calls)")
        if self.steps % 64 == 0 and time.monotonic() > self.deadline:
            raise RenderBound(f"the template takes more than {MAX_RENDER_SECONDS:g} seconds to render")

    def call(self, context: Context, obj: object, /, *args: object, **kwargs: object) -> object:
        self.step()
        _check_arguments(obj, args, kwargs)
        return keel_sized(super().call(context, obj, *args, **kwargs))

    def call_binop(self, context: Context, operator: str, left: object, right: object) -> object:
        _check_binop(operator, left, right)
        return keel_sized(super().call_binop(context, operator, left, right))

    def keel_iter(self, iterable: Iterable[_T]) -> Iterator[_T]:
        for item in iterable:
            self.step()
            yield item


def keel_sized(value: _T) -> _T:
    if isinstance(value, (str, list, tuple, dict)) and len(value) > MAX_VALUE_CHARS:
        raise RenderBound(f"a value grows beyond {MAX_VALUE_CHARS} characters or items")
    return value


def _length(value: object) -> int | None:
    return len(value) if isinstance(value, (str, list, tuple)) else None


def _check_binop(operator: str, left: object, right: object) -> None:
    too_big = RenderBound(f"`{operator}` would build a value beyond {MAX_VALUE_CHARS} characters or items")
    if operator == "*":
        for seq, n in ((left, right), (right, left)):
            size = _length(seq)
            if size is not None and isinstance(n, int) and size * n > MAX_VALUE_CHARS:
                raise too_big
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > 4096:
            raise too_big
    elif operator == "**" and isinstance(left, (int, float)) and isinstance(right, (int, float)):
        if abs(left) > 1 and right * math.log2(abs(left)) > 4096:
            raise too_big
    elif operator == "%" and isinstance(left, str) and _FORMAT_WIDTH.search(left):
        raise RenderBound("a % format with a width or precision of millions (or *) is refused")
    elif operator == "+" and (_length(left) or 0) + (_length(right) or 0) > MAX_VALUE_CHARS:
        raise too_big


def _check_arguments(func: object, args: tuple[object, ...], kwargs: Mapping[str, object]) -> None:
    """A call (`'x'.ljust(n)`, `'{:>n}'.format(1)`, a filter) asked for millions of characters is refused."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_VALUE_CHARS:
            raise RenderBound(f"an argument of {value} is beyond what a template needs (at most {MAX_VALUE_CHARS})")
    owner = getattr(func, "__self__", None)
    if isinstance(owner, str) and _FORMAT_WIDTH.search(owner):
        raise RenderBound("a format with a width or precision of millions is refused")


def _guarded(f: Callable[..., object]) -> Callable[..., object]:
    """A filter, under the same argument and size bounds as calls."""
    @functools.wraps(f)
    def filtered(*args: object, **kwargs: object) -> object:
        _check_arguments(f, args[1:], kwargs)
        if f is jinja2.filters.do_format and args and isinstance(args[0], str) and _FORMAT_WIDTH.search(args[0]):
            raise RenderBound("a format with a width or precision of millions is refused")
        return keel_sized(f(*args, **kwargs))
    return filtered


class _Bound(NodeTransformer):
    """Every `for` iterates through `environment.keel_iter` (a step each), every `~` and filter result goes
    through `keel_sized`: a name the template cannot shadow (an environment attribute)."""

    def _wrap(self, node: nodes.Node, name: str) -> nodes.Expr:
        return nodes.Call(nodes.EnvironmentAttribute(name), [node], [], None, None, lineno=node.lineno)

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = self._wrap(node.iter, "keel_iter")
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Expr:
        self.generic_visit(node)
        return self._wrap(node, "keel_sized")

    def visit_Filter(self, node: nodes.Filter) -> nodes.Expr:
        self.generic_visit(node)
        return self._wrap(node, "keel_sized") if node.node is not None else node


def _env() -> _BoundedEnvironment:
    env = _BoundedEnvironment()
    env.keel_sized = keel_sized  # type: ignore[attr-defined]
    env.filters = {name: _guarded(f) for name, f in env.filters.items()}
    env.globals.pop("lipsum", None)  # placeholder text, and a loop of millions in one call
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
    """A marker the template itself wrote (not JSON a filter made) is left as it is, for the YAML parse to judge."""
    def items_of(match: re.Match[str]) -> list[Any] | None:
        try:
            items = json.loads(match.group(2 if match.re is _LIST_LINE else 1))
        except ValueError:
            return None
        return items if isinstance(items, list) else None

    def block(match: re.Match[str]) -> str:
        indent, items = match.group(1), items_of(match)
        if items is None:
            return match.group(0)
        lines = []
        for item in items:
            if isinstance(item, Mapping):
                for n, (key, value) in enumerate(item.items()):
                    lines.append(f"{indent}{'- ' if n == 0 else '  '}{key}: {json.dumps(value)}")
            else:
                lines.append(f"{indent}- {json.dumps(item)}")
        return "\n".join(lines)
    text = _LIST_LINE.sub(block, text)
    return _LIST.sub(lambda m: m.group(1) if items_of(m) is not None else m.group(0), text)


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
    """Render with Proton's filters in a bounded sandbox; an undefined variable, a bad value, an error the
    template's own code raises or a render beyond the bounds raises RenderError naming the template file and
    line."""
    shown = display or str(file)
    try:
        text = read_text_file(file, display=shown)
    except YamlReadError as exc:
        raise RenderError(shown, None, f"cannot read the template: {exc.message}") from None
    rendered = _expand_lists(_render_text(text, context, shown))
    try:
        doc = parse_cfn_yaml(rendered, display=f"{shown} (rendered)")
    except YamlReadError as exc:
        raise RenderError(shown, None, f"the rendered template is not YAML: {exc.message}") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("Resources"), Mapping) or not doc["Resources"]:
        raise RenderError(shown, None, "the rendered template has no Resources mapping")
    _check_template(doc, shown)
    return Rendered(file=shown, template=doc)


def _render_text(text: str, context: Mapping[str, Any], shown: str) -> str:
    env = _env()
    try:
        template = env.from_string(_Bound().visit(env.parse(text)))
        out: list[str] = []
        size = 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise RenderBound(f"the rendered template grows beyond {MAX_FILE_BYTES} characters")
            env.step()
            out.append(chunk)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(shown, exc.lineno, f"Jinja syntax: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise RenderError(shown, _template_line(exc), f"undefined variable: {exc}") from None
    except RecursionError:
        raise RenderError(shown, None, "cannot render: nested or recursive too deeply") from None
    except (RenderBound, OverflowError) as exc:
        raise RenderError(shown, _template_line(exc), f"cannot render: {exc}") from None
    except Exception as exc:  # the template's own code raised it (1/0, a filter's ValueError, ...)
        raise RenderError(shown, _template_line(exc), f"cannot render: {exc} ({type(exc).__name__})") from None
    return "".join(out)


# -- the rendered template's shape: what CloudFormation (and CfnInclude) would refuse at deploy or synth ----
_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]{1,255}$")
_SUB_VAR = re.compile(r"\$\{([^!}][^}]*)\}")
#: Intrinsic -> (what its argument must be, in words; a check of it).
_SHAPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "Ref": ("a logical ID or parameter name", lambda a: isinstance(a, str)),
    "Fn::GetAtt": ("[LogicalId, Attribute] or \"LogicalId.Attribute\"", lambda a: (
        isinstance(a, list) and len(a) == 2 and isinstance(a[0], str)) or (isinstance(a, str) and "." in a)),
    "Fn::Sub": ("a string, or [string, {variables}]", lambda a: isinstance(a, str) or (
        isinstance(a, list) and 1 <= len(a) <= 2 and isinstance(a[0], str)
        and (len(a) == 1 or isinstance(a[1], Mapping)))),
    "Fn::Join": ("[delimiter, [values]]", lambda a: isinstance(a, list) and len(a) == 2 and isinstance(a[0], str)
                 and isinstance(a[1], (list, Mapping))),
    "Fn::Select": ("[index, [values]]", lambda a: isinstance(a, list) and len(a) == 2),
    "Fn::Split": ("[delimiter, string]", lambda a: isinstance(a, list) and len(a) == 2 and isinstance(a[0], str)),
    "Fn::If": ("[condition, value if true, value if false]", lambda a: isinstance(a, list) and len(a) == 3
               and isinstance(a[0], str)),
    "Fn::FindInMap": ("[map, top-level key, second-level key]", lambda a: isinstance(a, list) and 3 <= len(a) <= 4),
    "Fn::Equals": ("[value, value]", lambda a: isinstance(a, list) and len(a) == 2),
    "Fn::And": ("a list of 2 to 10 conditions", lambda a: isinstance(a, list) and 2 <= len(a) <= 10),
    "Fn::Or": ("a list of 2 to 10 conditions", lambda a: isinstance(a, list) and 2 <= len(a) <= 10),
    "Fn::Not": ("[condition]", lambda a: isinstance(a, list) and len(a) == 1),
    "Fn::Cidr": ("[ip block, count, cidr bits]", lambda a: isinstance(a, list) and len(a) == 3),
    "Fn::GetAZs": ("a region (or \"\")", lambda a: isinstance(a, (str, Mapping))),
}


def _check_template(doc: Mapping[str, Any], shown: str) -> None:
    """Sections, logical IDs, resources and outputs, intrinsic functions and what they reference, checked at
    `keel validate` (CfnInclude would fail the synth with a stack trace; CloudFormation the deploy)."""
    for section in ("Parameters", "Mappings", "Conditions", "Outputs", "Rules", "Metadata"):
        if section in doc and not isinstance(doc[section], Mapping):
            raise RenderError(shown, None, "is not a mapping (rendered)", section)
    resources: Mapping[Any, Any] = doc["Resources"]
    names = {str(n) for n in resources} | {str(n) for n in doc.get("Parameters") or {}}
    for lid, resource in resources.items():
        where = f"Resources.{lid}"
        if not isinstance(lid, str) or not _LOGICAL_ID.match(lid):
            raise RenderError(shown, None, f"is not a logical ID (got {lid!r}, expected letters and digits)", where)
        if not isinstance(resource, Mapping) or not isinstance(resource.get("Type"), str):
            raise RenderError(shown, None, "is not a resource (rendered; expected a mapping with a Type string)",
                              where)
        if not isinstance(resource.get("Properties", {}), Mapping):
            raise RenderError(shown, None, "is not a mapping (rendered)", f"{where}.Properties")
    for name, output in (doc.get("Outputs") or {}).items():
        where = f"Outputs.{name}"
        if not isinstance(name, str) or not _LOGICAL_ID.match(name):
            raise RenderError(shown, None, f"is not an output name (got {name!r}, expected letters and digits)",
                              where)
        if not isinstance(output, Mapping) or "Value" not in output:
            raise RenderError(shown, None, "is not an output (rendered; expected a mapping with a Value)", where)
    if "Transform" in doc:  # a macro (SAM) makes resources the template does not list: references not judged
        return
    conditions = {str(c) for c in doc.get("Conditions") or {}}
    for section in ("Resources", "Outputs", "Conditions"):
        _check_intrinsics(doc.get(section), section, shown, names, conditions, set(resources))


def _check_intrinsics(node: object, path: str, shown: str, names: set[str], conditions: set[str],
                      resources: set[Any]) -> None:
    if isinstance(node, list):
        for n, item in enumerate(node):
            _check_intrinsics(item, f"{path}[{n}]", shown, names, conditions, resources)
        return
    if not isinstance(node, Mapping):
        return
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key in _SHAPES:
            _check_intrinsic(str(key), arg, f"{path}.{key}", shown, names, conditions, resources)
    for key, value in node.items():
        _check_intrinsics(value, f"{path}.{key}", shown, names, conditions, resources)


def _check_intrinsic(key: str, arg: Any, where: str, shown: str,  # noqa: ANN401 - raw YAML, shape checked first
                     names: set[str], conditions: set[str], resources: set[Any]) -> None:
    expected, fits = _SHAPES[key]
    if not fits(arg):
        raise RenderError(shown, None, f"{key} has the wrong shape (got {json.dumps(arg, default=str)[:80]}, "
                          f"expected {expected})", where)
    missing: str | None = None
    if key == "Ref" and isinstance(arg, str) and not _known(arg, names):
        missing = arg
    elif key == "Fn::GetAtt":
        target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
        missing = None if target in resources or "__keel_" in target else target
    elif key == "Fn::Sub":
        sub = arg if isinstance(arg, list) else [arg]
        text, variables = sub[0], (sub[1] if len(sub) > 1 else {})
        missing = next((v for v in (m.group(1).split(".", 1)[0].strip() for m in _SUB_VAR.finditer(text))
                        if not _known(v, names) and v not in variables), None)
    elif key == "Fn::If" and arg[0] not in conditions:
        raise RenderError(shown, None, f"Fn::If names no condition of the template (got {arg[0]!r}, expected one "
                          f"of: {', '.join(sorted(conditions)) or 'none: the template has no Conditions'})", where)
    if missing is not None:
        raise RenderError(shown, None, f"{key} refers to nothing the template defines (got {missing!r}, expected a "
                          "resource, a parameter or an AWS:: pseudo parameter)", where)


def _known(name: str, names: set[str]) -> bool:
    return name in names or name.startswith("AWS::") or "__keel_" in name


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
