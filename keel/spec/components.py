"""Components: what an instance owns beside its template (a table, a bucket, a database, a Copilot add-on).

`components:` sits beside `spec:` on a service instance. Each entry is `{kind, name, ...inputs}`; the inputs are
checked against the kind's schema (Proton format, `keel/spec/component_schemas/<kind>.yaml`, the one source of
defaults and limits) and become the kind's frozen dataclass. CDK-free: `keel validate` judges components
without importing aws_cdk; `keel.constructs.components` builds them.
"""

from __future__ import annotations

import re
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from keel.contract.components import ComponentHost
from keel.contract.naming import component_name
from keel.contract.problems import InputProblem
from keel.contract.schema import InputSchema, load_proton_schema
from keel.spec.paths import OutsideProject, inside_project
from keel.spec.yamlio import _BRACKET_RUN, MAX_DEPTH, MAX_FILE_BYTES, _BoundedComposer, read_yaml

SCHEMAS = Path(__file__).resolve().parent / "component_schemas"

Access = Literal["read", "readwrite"]


# -- the kinds' inputs --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyInputs:
    name: str
    type: str  # string | number | binary


@dataclass(frozen=True)
class IndexInputs:
    name: str
    partition_key: KeyInputs
    sort_key: KeyInputs | None


@dataclass(frozen=True)
class DynamoDbTableInputs:
    access: Access
    partition_key: KeyInputs
    sort_key: KeyInputs | None
    ttl_attribute: str | None
    stream: str
    global_secondary_indexes: tuple[IndexInputs, ...]


@dataclass(frozen=True)
class LifecycleInputs:
    expire_days: int | None
    noncurrent_expire_days: int
    infrequent_access_days: int | None


@dataclass(frozen=True)
class S3BucketInputs:
    access: Access
    versioning: bool
    lifecycle: LifecycleInputs


@dataclass(frozen=True)
class SqsQueueInputs:
    access: Access
    retention_days: int
    visibility_timeout_seconds: int
    max_receive_count: int


@dataclass(frozen=True)
class SnsTopicInputs:
    access: Access
    display_name: str | None


@dataclass(frozen=True)
class AuroraPostgresInputs:
    access: Access
    engine_version: str
    database_name: str
    min_acu: float
    max_acu: float
    rotation_days: int
    backup_retention_days: int


@dataclass(frozen=True)
class EfsFileSystemInputs:
    access: Access
    mount_path: str
    posix_uid: int
    posix_gid: int


@dataclass(frozen=True)
class CloudFormationInputs:
    template_file: str
    parameters: Mapping[str, str]


@dataclass(frozen=True)
class AddOn:
    """What the loader read from a cloudformation component's template: where it is and what its outputs are."""

    path: Path
    #: The parameters Keel passes (Copilot's App, Env, Name: the platform, environment and service names).
    app: str
    #: Outputs whose value is `Ref` of an AWS::IAM::ManagedPolicy in the template: attached to the role.
    policy_outputs: tuple[str, ...]
    #: Every other output: an environment variable each (`MyTableName` -> `MY_TABLE_NAME`).
    variable_outputs: tuple[str, ...]
    logical_ids: tuple[str, ...]


@dataclass(frozen=True)
class Component:
    """One entry of an instance's `components:`, validated."""

    kind: str
    name: str
    inputs: object  # the kind's frozen inputs dataclass
    #: The instance's environment and service: the component's physical name and discovery path derive from them.
    environment: str
    service: str
    add_on: AddOn | None = None  # cloudformation only

    @property
    def physical_name(self) -> str:
        return component_name(self.environment, self.service, self.name)

    @property
    def access(self) -> Access:
        """The entry's `access` (every kind but cloudformation, whose policies say what they grant)."""
        access = getattr(self.inputs, "access", "readwrite")
        return "read" if access == "read" else "readwrite"

    @property
    def variable_prefix(self) -> str:
        """`orders-db` -> `ORDERS_DB`: the start of the environment variables the service gets."""
        return self.name.upper().replace("-", "_")


@dataclass(frozen=True)
class ComponentKind:
    name: str
    inputs: type
    #: Holds data: RETAIN (+ deletion protection) in production, and the destructive-change gate watches it.
    stateful: bool
    #: What the workload must be for the kind to attach.
    needs_vpc: bool = False
    needs_fargate: bool = False
    #: The longest physical name the service allows (keel-<env>-<service>-<name>), and what else it appends.
    max_name: int | None = None
    # shared data stores (issue 15)
    #: Why an environment cannot own it for its services to share ("": it can).
    unshared: str = ""

    @property
    def schema(self) -> InputSchema:
        return _schema(self.name)


KINDS: Mapping[str, ComponentKind] = {k.name: k for k in (
    ComponentKind(name="dynamodb-table", inputs=DynamoDbTableInputs, stateful=True, max_name=255),
    ComponentKind(name="s3-bucket", inputs=S3BucketInputs, stateful=True),
    ComponentKind(name="sqs-queue", inputs=SqsQueueInputs, stateful=True, max_name=80 - len("-dlq")),
    ComponentKind(name="sns-topic", inputs=SnsTopicInputs, stateful=True, max_name=256),
    ComponentKind(name="aurora-postgres", inputs=AuroraPostgresInputs, stateful=True, needs_vpc=True, max_name=63,
                  unshared="its security group admits one workload's security group, and its credentials are one "
                           "service's"),
    ComponentKind(name="efs-filesystem", inputs=EfsFileSystemInputs, stateful=True, needs_fargate=True,
                  unshared="it is mounted into one service's tasks through their security group and access point"),
    ComponentKind(name="cloudformation", inputs=CloudFormationInputs, stateful=False,
                  unshared="Copilot's add-on contract passes one service's name (Name) and attaches its policies to "
                           "that service's role"),
)}


@cache
def _schema(kind: str) -> InputSchema:
    path = SCHEMAS / f"{kind}.yaml"
    return load_proton_schema(read_yaml(path, display=str(path)), source=str(path))["service"]


def host_of(inputs: object) -> ComponentHost | None:
    """The `component_host(inputs)` of the shared inputs module the template's inputs class extends (its
    own module first); None: the template takes no components."""
    for cls in type(inputs).__mro__:
        hook = getattr(sys.modules.get(cls.__module__), "component_host", None)
        if callable(hook):
            host = hook(inputs)
            assert isinstance(host, ComponentHost)
            return host
    return None


def check_component(kind: ComponentKind, name: str, inputs: object, host: ComponentHost | None, *,
                    environment: str, service: str) -> Iterator[InputProblem]:
    """Rules beyond the schema; paths are relative to the component's entry. `host` None: an environment's
    component (shared data stores, issue 15), whose kinds attach to any workload."""
    if kind.needs_fargate and host is not None and not host.fargate and host.not_fargate_reason:  # Windows (issue 15)
        yield "kind", f"{kind.name} mounts into Linux Fargate tasks only, and {host.not_fargate_reason}", \
            kind.name, "operating_system_family LINUX, or no such component"
    elif kind.needs_fargate and host is not None and not host.fargate:
        yield "kind", f"{kind.name} mounts into Fargate tasks only (this {host.kind} cannot mount it)", kind.name, \
            "a Fargate container template (load-balanced, backend, worker or scheduled)"
    if kind.needs_vpc and host is not None and not host.in_vpc:
        yield "kind", f"{kind.name} is reachable only from inside the VPC: {host.outside_vpc_reason}", kind.name, \
            "a service that runs in the environment's VPC"
    physical = component_name(environment, service, name)
    if kind.max_name is not None and len(physical) > kind.max_name:
        yield "name", f"gives the physical name {physical} ({len(physical)} characters), longer than " \
            f"{kind.name} allows", name, f"a name that keeps keel-<env>-<service>-<name> within {kind.max_name}"
    if isinstance(inputs, AuroraPostgresInputs) and inputs.min_acu > inputs.max_acu:
        yield "min_acu", "is greater than max_acu", inputs.min_acu, f"at most max_acu ({inputs.max_acu})"
    if isinstance(inputs, DynamoDbTableInputs):
        seen: set[str] = set()
        for n, index in enumerate(inputs.global_secondary_indexes):
            if index.name in seen:
                yield f"global_secondary_indexes[{n}].name", "is used twice", index.name, "each index name once"
            seen.add(index.name)


# shared data stores (issue 15)
@dataclass(frozen=True)
class SharedUse:
    """An instance's `{use: NAME, access: read|readwrite}`: the environment's component `component`, granted
    and handed on (environment variables `<NAME>_...`) as an owned component of its kind would be."""

    component: Component
    access: Access


# -- cloudformation: Copilot's add-on contract ---------------------------------------------------------------
#: The parameters Keel passes every add-on template (Copilot's names): the platform, environment and service.
ADD_ON_PARAMETERS = ("App", "Env", "Name")


def read_add_on(inputs: CloudFormationInputs, *, base: Path, root: Path, app: str
                ) -> tuple[AddOn | None, list[InputProblem]]:
    """The template file, inside the project, read and checked against the add-on contract."""
    problems: list[InputProblem] = []
    try:
        path = inside_project(root, base, inputs.template_file)
    except OutsideProject as exc:
        return None, [("template_file", f"cannot use the template: it {exc}", inputs.template_file, exc.expected)]
    try:
        doc = load_cloudformation(path)
    except (OSError, ValueError, YAMLError) as exc:
        return None, [("template_file", f"cannot read the template: {_first_line(str(exc))}", inputs.template_file,
                       "a CloudFormation template (YAML or JSON) with Parameters App, Env and Name")]
    if not isinstance(doc, Mapping) or not isinstance(doc.get("Resources"), Mapping) or not doc["Resources"]:
        return None, [("template_file", "is not a CloudFormation template with Resources", inputs.template_file,
                       "a mapping with a Resources section")]
    found = doc.get("Parameters")
    declared: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    missing = [p for p in ADD_ON_PARAMETERS if p not in declared]
    if missing:
        problems.append(("template_file", f"does not declare the add-on parameters {', '.join(missing)}",
                         inputs.template_file, "Parameters App, Env and Name (Copilot's add-on contract)"))
    for key in inputs.parameters:
        if key in ADD_ON_PARAMETERS:
            problems.append((f"parameters.{key}", "is passed by Keel (the platform, environment or service name)",
                             key, "only the template's own parameters"))
        elif key not in declared:
            problems.append((f"parameters.{key}", "is not a parameter of the template", key,
                             "one of: " + (", ".join(p for p in declared if p not in ADD_ON_PARAMETERS) or "none")))
    for key, spec in declared.items():
        if key not in ADD_ON_PARAMETERS and key not in inputs.parameters and not (
                isinstance(spec, Mapping) and "Default" in spec):
            problems.append(("parameters", f"gives no value for the template's parameter {key} (it has no Default)",
                             dict(inputs.parameters), f"parameters.{key}"))
    resources: Mapping[str, Any] = doc["Resources"]
    listed = doc.get("Outputs")
    outputs: Mapping[str, Any] = listed if isinstance(listed, Mapping) else {}
    policies, variables = [], []
    for key, output in outputs.items():
        value = output.get("Value") if isinstance(output, Mapping) else None
        ref = value.get("Ref") if isinstance(value, Mapping) else None
        target = resources.get(ref) if isinstance(ref, str) else None
        if isinstance(target, Mapping) and target.get("Type") == "AWS::IAM::ManagedPolicy":
            policies.append(str(key))
        else:
            variables.append(str(key))
    return AddOn(path=path, app=app, policy_outputs=tuple(policies), variable_outputs=tuple(variables),
                 logical_ids=tuple(str(k) for k in resources)), problems


def variable_name(output: str) -> str:
    """Copilot's rule: an add-on output `MyTableName` reaches the service as `MY_TABLE_NAME`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", output).upper()


class _CloudFormationConstructor(SafeConstructor):
    """YAML's short intrinsic tags (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) as the JSON form CloudFormation reads."""


def _intrinsic(constructor: SafeConstructor, suffix: str, node: Node) -> object:
    name = "Ref" if suffix == "Ref" else "Fn::GetAtt" if suffix == "GetAtt" else f"Fn::{suffix}"
    if isinstance(node, ScalarNode):
        value: object = constructor.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, SequenceNode):
        value = constructor.construct_sequence(node, deep=True)
    elif isinstance(node, MappingNode):
        value = constructor.construct_mapping(node, deep=True)
    else:  # pragma: no cover - YAML has no other node kinds
        value = None
    return {name: value}


_CloudFormationConstructor.add_multi_constructor("!", _intrinsic)


def load_cloudformation(path: Path) -> object:
    """A CloudFormation template (YAML with short intrinsic tags, or JSON), bounded as every spec file is: its
    size before it is read, and its depth, value lengths and nodes (an alias counted as what it repeats) as it is
    composed, so a hostile add-on is refused in well under a second, never parsed for minutes."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read forever
        raise ValueError("is not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise ValueError(f"the file is larger than {MAX_FILE_BYTES} bytes")
    text = path.read_text(encoding="utf-8")
    if _BRACKET_RUN.search(text):
        raise ValueError(f"nesting is too deep (at most {MAX_DEPTH} nested mappings or lists)")
    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _CloudFormationConstructor
    yaml.Composer = _BoundedComposer  # a _LimitExceeded is a YAMLError, which every caller catches
    return yaml.load(text)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "malformed"
