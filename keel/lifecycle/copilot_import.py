"""`keel import-copilot DIR`: an AWS Copilot workspace -> one platform file, and a report of the rest.

Copilot kept a workspace in `copilot/`: `.workspace` (the application), one `manifest.yml` per service or
job, `environments/<env>/manifest.yml`, `pipelines/<name>/manifest.yml`, and per workload optional
`addons/` (CloudFormation) and `overrides/` (patches). This module reads them with the spec layer's YAML
reader and maps every field it can onto Keel's templates; every other field is reported with the file,
the field path, the value and why Keel has no equivalent. Nothing is silently dropped: after mapping, every
leaf of every manifest that no mapping consumed is reported.

One service per workload manifest, one instance per environment. An instance's spec comes from the manifest
with that environment's `environments.<env>` block deep-merged over it, as Copilot merged it (maps merge,
lists and scalars replace, an empty value keeps the base). The platform is validated in memory exactly as
`keel validate` does before anything is written; an input Keel still refuses is taken out and reported, so
the file written always validates. CDK-free.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard, cast

from ruamel.yaml.error import YAMLError

from keel.contract.registry import Registry
from keel.lifecycle.copilot_schedule import ScheduleError, convert_schedule, parse_duration
from keel.lifecycle.proton_import import dump_yaml
from keel.spec import SpecError, load_platform
from keel.spec.components import load_cloudformation
from keel.spec.errors import MISSING, Problem, join_path, render_value
from keel.spec.registry import default_registry
from keel.spec.yamlio import MAX_NODES, YamlReadError, read_yaml
from keel.templates.container_inputs import TASK_SIZES

Path_ = tuple[str | int, ...]

LBWS, BACKEND, WORKER, JOB = "Load Balanced Web Service", "Backend Service", "Worker Service", "Scheduled Job"
RDWS, STATIC, ENVIRONMENT, PIPELINE = "Request-Driven Web Service", "Static Site", "Environment", "Pipeline"
TEMPLATES = {LBWS: "load-balanced-fargate-svc:1", RDWS: "load-balanced-fargate-svc:1",
             BACKEND: "backend-fargate-svc:1", WORKER: "worker-fargate-svc:1", JOB: "scheduled-fargate-svc:1",
             STATIC: "static-site-svc:1"}
ENV_TEMPLATE = "ecs-env:1"
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_CIDR = re.compile(r"^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})/([0-9]{1,2})$")
_AZ = re.compile(r"^(?P<region>[a-z]{2}(-[a-z]+)+-[0-9])[a-z]$")
_VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
_SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
_CERT = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$")
_HOST = re.compile(r"^(\*\.)?([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}$")
_REPO_URL = re.compile(r"^(?:https?://|git@)?(?:[^/:]+[/:])?(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")
_EXTERNAL = re.compile(r"^(arn:aws[a-z-]*:(ssm|secretsmanager):[a-z0-9-]+:[0-9]{12}:(parameter/[A-Za-z0-9_.\-/]+|"
                       r"secret:[A-Za-z0-9/_+=.@-]+)|/?[A-Za-z0-9/_+=.@-]+)$")
_RETENTION = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
              3653)
# Fargate's CPU units and the memory sizes (MiB) each accepts.
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
#: Copilot's add-on parameters file beside the add-on templates (values for their own parameters).
ADDON_PARAMETERS = ("addons.parameters.yml", "addons.parameters.yaml")

# Why a field has no equivalent, by the longest matching field path (`*` matches one segment). Fields not
# listed here that no mapping consumed are reported as unknown to the importer.
REASONS: dict[str, str] = {
    "storage": "storage (EFS volumes, ephemeral storage, read-only root file system) is not mapped: for an EFS "
               "volume, give the instance an efs-filesystem component (issue 17)",
    "sidecars": "sidecar containers are not an input of Keel's templates yet (issue 17)",
    "publish": "publish is {topics: [{name}]}: each topic becomes an sns-topic component of the instance",
    "publish.topics.*.fifo": "Keel's sns-topic components are standard topics (no FIFO)",
    "subscribe.topics.*.queue": "a topic-specific queue: worker-fargate-svc 1.1 delivers every topic to the "
                                "worker's one queue",
    "subscribe.queue.fifo": "worker-fargate-svc's queue is a standard SQS queue (no FIFO)",
    "subscribe.queue.delay": "worker-fargate-svc's queue has no delivery delay input",
    "subscribe.queue.dead_letter": "worker-fargate-svc's queue always has a dead-letter queue; only tries maps",
    "taskdef_overrides": "task definition overrides: Keel's templates own the task definition (issue 17)",
    "entrypoint": "Keel's container templates run the image's own entrypoint (no override input)",
    "command": "Keel's container templates run the image's own command (no override input)",
    "image.healthcheck": "container health checks are not an input of Keel's container templates",
    "image.labels": "Docker labels are not an input of Keel's container templates",
    "image.depends_on": "container start order needs sidecars, which have not landed (issue 17)",
    "image.credentials": "private registry credentials are not an input of Keel's container templates",
    "image.build.args": "Keel's service pipeline runs `docker build -f <dockerfile> .` in service_dir, with no "
                        "build arguments",
    "image.build.target": "Keel's service pipeline builds the Dockerfile's last stage (no --target)",
    "image.build.cache_from": "Keel's service pipeline builds with no --cache-from",
    "observability.tracing": "X-Ray tracing is not an input of Keel's container templates",
    "network.vpc.security_groups": "extra security groups for the tasks are not an input of Keel's templates "
                                   "(each service gets its own group)",
    "network.vpc.placement.subnets": "Keel's services take subnet_type (public or private), not named subnets: "
                                     "an environment's existing_vpc names its subnets once, for every service",
    "network.connect": "worker-fargate-svc and scheduled-fargate-svc take no traffic, so they join no Service "
                       "Connect namespace; they reach other services by their Cloud Map names",
    "network.connect.alias": "Service Connect uses the service name as its DNS name (no alias input)",
    "http.deregistration_delay": "the target group's deregistration delay is not an input",
    "http.stickiness": "sticky sessions are not an input of load-balanced-fargate-svc",
    "http.allowed_source_ips": "per-service source IPs: the environment's load_balancer.ingress_cidrs apply to "
                               "every service",
    "http.target_container": "routing to a sidecar needs sidecars, which have not landed (issue 17)",
    "http.target_port": "the target group forwards to the container's port (image.port)",
    "http.additional_rules": "one listener rule per instance (path_pattern + host_header)",
    "http.hosted_zone": "Keel creates no DNS records: point the alias at the environment's load balancer",
    "http.redirect_to_https": "the environment's load balancer redirects HTTP to HTTPS whenever it has a "
                              "certificate",
    "http.version": "the target group speaks HTTP/1.1 (no gRPC or HTTP/2 input)",
    "http.alb": "an imported load balancer: the service's listener rule is on its environment's own shared load "
                "balancer (ecs-env imports an existing VPC and cluster, never a load balancer)",
    "http.healthcheck.port": "health checks use the traffic port",
    "http.healthcheck.success_codes": "health checks expect 200 (no success codes input)",
    "http.healthcheck.healthy_threshold": "health check thresholds are not inputs",
    "http.healthcheck.unhealthy_threshold": "health check thresholds are not inputs",
    "http.healthcheck.interval": "the health check interval is not an input",
    "http.healthcheck.timeout": "the health check timeout is not an input",
    "nlb.additional_listeners": "the service's Network Load Balancer has one TCP listener on the container port",
    "nlb.healthcheck": "the Network Load Balancer's health check is not an input",
    "nlb.target_container": "routing to a sidecar needs sidecars, which have not landed (issue 17)",
    "nlb.target_port": "the Network Load Balancer forwards to the container's port (image.port)",
    "nlb.alias": "Keel creates no DNS records for the Network Load Balancer",
    "nlb.ssl_policy": "the Network Load Balancer has a TCP listener only (no TLS)",
    "nlb.stickiness": "the Network Load Balancer's stickiness is not an input",
    "nlb.deregistration_delay": "the target group's deregistration delay is not an input",
    "count.spot": "per-service Fargate Spot counts: the environment's capacity_provider_strategy splits tasks "
                  "between Fargate and Fargate Spot for every service",
    "count.range.spot_from": "per-service Fargate Spot thresholds: use the environment's "
                             "capacity_provider_strategy",
    "count.cooldown": "scaling cooldowns are not inputs of Keel's templates",
    "count.*.cooldown": "scaling cooldowns are not inputs of Keel's templates",
    "count.memory_percentage": "Keel's templates scale on CPU (and requests behind an ALB), not memory",
    "count.response_time": "Keel's templates scale on CPU and requests, not response time",
    "logging.destination": "Keel's FireLens sidecar sends logs to the service's own log group (no other "
                           "destination)",
    "logging.image": "Keel's FireLens sidecar runs its own pinned Fluent Bit image",
    "logging.enableMetadata": "Keel's FireLens sidecar configuration is fixed",
    "logging.secretOptions": "Keel's FireLens sidecar takes no secret options",
    "logging.configFilePath": "Keel's FireLens sidecar configuration is fixed",
    "logging.env_file": "Keel's FireLens sidecar takes no environment file",
    "logging.variables": "Keel's FireLens sidecar takes no variables",
    "logging.secrets": "Keel's FireLens sidecar takes no secrets",
    "env_file": "environment files (S3 or the workspace) are not an input: list the variables instead",
    "platform": "Keel's Fargate templates run Linux tasks, on x86_64 (backend-fargate-svc 1.1 on ARM64 too, its "
                "cpu_architecture); Windows tasks are not an input",
    "deployment.rollback_alarms": "Keel's alarm rollback uses the template's own alarms (5xx and unhealthy "
                                  "targets; the dead-letter queue for a worker), not these thresholds or names",
    "deployment.rolling": "rolling is `default` or `recreate`",
    "instance": "App Runner instance settings have no Fargate equivalent",
    "scaling": "App Runner scaling has no Fargate equivalent",
    "count": "this count has no equivalent",
    "retries": "is not a number of retries scheduled-fargate-svc 1.1 takes (0 to 10)",
    "timeout": "is not a timeout scheduled-fargate-svc 1.1 takes (a duration such as 30m, 1 s to 365 days)",
    "files": "of a Static Site's files, static-site-svc takes folders (source, destination, exclude, reinclude)",
    "on": "the job's trigger is on.schedule only",
    "variables": "this variable cannot be carried over",
    "secrets": "this secret cannot be carried over",
    "exec": "exec is true or false",
    "tags": "Keel tags every resource itself; add them to the service's `tags:` in the platform file",
    # environment manifests
    "network.vpc.subnets": "the subnets are a list of maps (id, or cidr and az)",
    "network.vpc.security_group": "rules on the environment's security group are not an input of ecs-env",
    "network.vpc.flow_logs": "ecs-env always keeps VPC flow logs; only their retention maps",
    "cdn": "a CloudFront distribution in front of the load balancer is not an input of ecs-env",
    "http.public.security_groups": "restricting the load balancer to CloudFront is not an input of ecs-env",
    "http.public.ingress": "of the public load balancer's ingress, only source_ips maps (to "
                           "load_balancer.ingress_cidrs)",
    "http.private.ingress": "of the internal load balancer's ingress, only vpc maps",
    "http.public.access_logs.bucket_name": "ecs-env keeps access logs in a bucket of its own",
    "http.public.access_logs.prefix": "ecs-env's access log prefix is fixed",
    "http.public.ssl_policy": "the listener's TLS policy is fixed by ecs-env",
    "http.private.subnets": "ecs-env places its internal load balancer in the environment's private subnets "
                            "(existing_vpc.private_subnet_ids for an imported VPC), not in a list of its own",
    "http.private.security_groups": "rules on the internal load balancer's security group: only "
                                    "ingress.from_vpc maps",
    "http.private.ssl_policy": "the listener's TLS policy is fixed by ecs-env",
    "observability": "of observability, only an environment's container_insights maps",
    # pipeline manifests
    "build": "Keel's pipelines run in their own pinned CodeBuild image with their own buildspec",
    "stages.*.deployments": "Keel's deploy pipeline deploys each stage's environment stack and every instance "
                            "in it (no per-stage deployment list)",
    "stages.*.test_commands": "Keel's deploy pipeline has no post-deployment test step; a service pipeline "
                              "runs its unit_test_command before the build",
    "stages.*.pre_deployments": "Keel's deploy pipeline has no pre-deployment actions",
    "stages.*.post_deployments": "Keel's deploy pipeline has no post-deployment actions",
    "source.properties.access_token_secret": "Keel's pipelines read sources through a CodeStar connection, not "
                                             "a token",
    "source.properties.output_artifact_format": "Keel's pipelines use the source action's default artifact",
}


@dataclass(frozen=True)
class Finding:
    """One manifest field Keel has no equivalent for: where it is, what it says, and why."""

    file: str
    path: str
    value: object
    reason: str

    def render(self) -> str:
        where = f"{self.file}:{self.path}" if self.path else self.file
        return f"{where}: {self.reason} (got {render_value(self.value)})"


class CopilotImportError(Exception):
    """The workspace cannot be imported at all; the message names the file (and line)."""


@dataclass
class Manifest:
    file: Path
    shown: str  # relative to the workspace root: copilot/api/manifest.yml
    doc: dict[str, Any]
    kind: str  # the Copilot type, or PIPELINE

    @property
    def folder(self) -> Path:
        return self.file.parent


@dataclass
class FieldStats:
    mapped: int = 0
    reported: int = 0


@dataclass
class ImportResult:
    platform: dict[str, Any]
    findings: list[Finding]
    notes: list[str]
    stats: dict[str, FieldStats]
    text: str  # the platform file as written
    delivery_comment: str = ""

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0


# --- reading the workspace -------------------------------------------------------------------------
def discover(root: Path) -> tuple[str | None, list[Manifest]]:
    """The application name (from .workspace) and every manifest, in a stable order."""
    copilot = root / "copilot"
    if not copilot.is_dir():
        if copilot.exists() or copilot.is_symlink():
            raise CopilotImportError(f"{root}: copilot is not a folder (expected the copilot/ folder a Copilot "
                                     "workspace root has)")
        raise CopilotImportError(f"{root}: no copilot/ folder (a Copilot workspace root has one)")
    _inside(copilot, root)
    app = None
    workspace = copilot / ".workspace"
    if workspace.is_file():
        doc = _read(workspace, root)
        if isinstance(doc, Mapping) and isinstance(doc.get("application"), str):
            app = doc["application"]
    manifests: list[Manifest] = []
    for file in sorted([*copilot.rglob("manifest.yml"), *copilot.rglob("manifest.yaml")]):
        rel = file.relative_to(copilot).parts
        if "addons" in rel or "overrides" in rel:
            continue
        doc = _read(file, root)
        shown = _rel(file, root)
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise CopilotImportError(f"{shown}: a manifest is a mapping (got {render_value(doc)})")
        if rel[0] == "pipelines" or (len(rel) == 1 and "source" in doc and "stages" in doc):
            kind = PIPELINE
        else:
            kind = str(doc.get("type") or "")
            if not kind and rel[0] == "environments":
                kind = ENVIRONMENT
        manifests.append(Manifest(file=file, shown=shown, doc=doc, kind=kind))
    legacy = copilot / "pipeline.yml"
    if legacy.is_file():
        doc = _read(legacy, root)
        if isinstance(doc, dict):
            manifests.append(Manifest(file=legacy, shown=_rel(legacy, root), doc=doc, kind=PIPELINE))
    return app, manifests


def _read(file: Path, root: Path) -> object:
    _inside(file, root)
    try:
        return read_yaml(file, display=_rel(file, root))
    except YamlReadError as exc:
        raise CopilotImportError(_located(exc)) from None


def _located(exc: YamlReadError) -> str:
    """The reader's error as one line: file, field path, message, what it got and what it expected."""
    return Problem(exc.file, exc.path, exc.message, exc.got, exc.expected).render()


def _inside(path: Path, root: Path) -> None:
    """A workspace file that is a symlink leading out of the workspace is never read (nor shown in an error)."""
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise CopilotImportError(f"{_rel(path, root)}: is a symlink that leads nowhere (a loop) (expected a path "
                                 "inside the workspace)") from None
    if not target.is_relative_to(root.resolve()):
        raise CopilotImportError(f"{_rel(path, root)}: is a symlink that leads outside the workspace (expected a "
                                 f"path inside {root})")


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


# --- field accounting ------------------------------------------------------------------------------
def leaves(node: object, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every field's path and value: maps recurse, lists of maps recurse by index, anything else is a leaf."""
    if isinstance(node, Mapping) and node:
        for key, value in node.items():
            yield from leaves(value, (*prefix, str(key)))
    elif isinstance(node, list) and node and all(isinstance(x, Mapping) for x in node):
        for n, value in enumerate(node):
            yield from leaves(value, (*prefix, n))
    else:
        yield prefix, node


def _covers(prefix: Path_, path: Path_) -> bool:
    return path[:len(prefix)] == prefix


def get_path(node: object, path: Path_) -> object:
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return MISSING
            node = node[part]
        else:
            if not isinstance(node, Mapping) or part not in node:
                return MISSING
            node = node[part]
    return node


def deep_merge(base: object, override: object) -> object:
    """Copilot's environment override: maps merge key by key, anything else replaces; null keeps the base."""
    if override is None:
        return base
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else value
        return merged
    return override


class View:
    """One (merged) manifest document as a mapping reads it: what it took and what it reported."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.taken: list[Path_] = []
        self.reports: list[tuple[Path_, str]] = []
        self.notes: list[str] = []
        self.label = ""  # "service <name>", for notes

    def peek(self, *path: str | int) -> object:
        return get_path(self.doc, tuple(path))

    def take(self, *path: str | int) -> object:
        value = get_path(self.doc, tuple(path))
        if value is not MISSING:
            self.taken.append(tuple(path))
        return value

    def report(self, path: Path_ | str, reason: str) -> None:
        key = tuple(path.split(".")) if isinstance(path, str) else path
        if get_path(self.doc, key) is not MISSING:
            self.reports.append((key, reason))

    def leftovers(self) -> list[tuple[Path_, str]]:
        """Every field neither taken nor reported, with the reason REASONS gives it."""
        done = [p for p in self.taken] + [p for p, _ in self.reports]
        out: list[tuple[Path_, str]] = []
        for path, _ in leaves(self.doc):
            if any(_covers(p, path) for p in done):
                continue
            reason, depth = reason_for(path)
            # one line for the whole group a reason speaks of (`publish`, not each topic's name)
            group = path[:depth] if depth else path
            if any(_covers(p, path) for p, _ in out):
                continue
            out.append((group, reason))
        return out


def reason_for(path: Path_) -> tuple[str, int]:
    """The REASONS entry of the longest pattern that matches `path`, and that pattern's length (0: none)."""
    best, best_len = None, 0
    for pattern, reason in REASONS.items():
        parts = pattern.split(".")
        if len(parts) > len(path) or len(parts) <= best_len:
            continue
        if all(p == "*" or p == str(q) for p, q in zip(parts, path, strict=False)):
            best, best_len = reason, len(parts)
    return best or "not a field the importer knows: no Keel equivalent was found", best_len


def _existing_tier(view: View, tier: str, existing: dict[str, Any], taken: list[Path_], azs: list[list[str]],
                   blocking: list[tuple[Path_, str]]) -> None:
    """One tier's subnets of an imported VPC: their IDs, and their CIDRs and zones when every subnet gives them."""
    subnets = view.peek("network", "vpc", "subnets", tier)
    if subnets is MISSING or subnets is None:
        return
    where: Path_ = ("network", "vpc", "subnets", tier)
    if not isinstance(subnets, list) or not 1 <= len(subnets) <= 6:
        blocking.append((where, "existing_vpc takes 1 to 6 subnets per tier, as a list"))
        return
    ids, cidrs, zones = [], [], []
    for n, subnet in enumerate(subnets):
        subnet_id = subnet.get("id") if isinstance(subnet, Mapping) else None
        if not isinstance(subnet_id, str) or not _SUBNET_ID.match(subnet_id):
            blocking.append(((*where, n), "is not a subnet with an ID (subnet- and 8 or 17 hex digits) "
                             "that existing_vpc takes"))
            continue
        ids.append(subnet_id)
        taken.append((*where, n, "id"))
        if _cidr_ok(subnet.get("cidr"), 16, 28):
            cidrs.append(subnet["cidr"])
        if isinstance(subnet.get("az"), str) and _AZ.match(subnet["az"]):
            zones.append(subnet["az"])
    existing[f"{tier}_subnet_ids"] = ids
    given = [n for n, x in enumerate(subnets) if isinstance(x, Mapping) and "cidr" in x]
    if given and len(cidrs) == len(ids) == len(subnets):
        existing[f"{tier}_subnet_cidrs"] = cidrs
        taken += [(*where, n, "cidr") for n in given]
    else:
        for n in given:
            view.report((*where, n, "cidr"), "existing_vpc takes the CIDR blocks (/16 to /28) of every "
                        "subnet of a tier, or of none")
    placed = [n for n, x in enumerate(subnets) if isinstance(x, Mapping) and "az" in x]
    if placed and len(zones) == len(ids) == len(subnets):
        azs.append(zones)
        taken += [(*where, n, "az") for n in placed]
    else:
        for n in placed:
            view.report((*where, n, "az"), "availability zones are given for every subnet of a tier, or "
                        "for none")


def _refuse_existing_vpc(view: View, blocking: Sequence[tuple[Path_, str]]) -> None:
    """Why the VPC is not imported, and every field that described it reported as not mapped."""
    for path, reason in blocking:
        view.report(path, f"{reason}: the environment gets a VPC of its own")
    for path, _ in leaves(view.peek("network", "vpc")):
        full = ("network", "vpc", *path)
        if path[:1] in (("id",), ("cidr",), ("subnets",)) and not any(_covers(p, full) for p, _ in
                                                                       view.reports):
            view.report(full, "describes the imported VPC (network.vpc.id), which was not mapped")


# --- the import ------------------------------------------------------------------------------------
@dataclass
class _Instance:
    environment: str
    spec: dict[str, Any]
    sources: dict[str, tuple[Path_, ...]]  # spec key -> the Copilot fields it came from
    components: list[dict[str, Any]] = field(default_factory=list)  # issue 17's, beside spec
    #: Where each component came from: ("manifest", field path) or ("file", an add-on's path in the workspace).
    component_sources: list[tuple[str, Any]] = field(default_factory=list)

    def add_component(self, entry: dict[str, Any], source: tuple[str, Any]) -> None:
        self.components.append(entry)
        self.component_sources.append(source)

    def put(self, key: str, value: object, *paths: Path_) -> None:
        self.spec[key] = value
        self.sources[key] = paths


@dataclass
class _Service:
    manifest: Manifest
    name: str
    template: str
    kind: str
    pipeline: dict[str, Any] | None = None
    instances: list[_Instance] = field(default_factory=list)
    builds: bool = False  # image.build: a service pipeline builds its image


class _Importer:
    def __init__(self, root: Path, registry: Registry, extra_environments: Sequence[str],
                 connection_arn: str | None, region: str | None = None, out: Path | None = None) -> None:
        self._left_out: set[tuple[str, int]] = set()
        self._dropped: set[tuple[str, int, str]] = set()
        self.region = region
        self.app: str | None = None
        self.root = root
        self.registry = registry
        self.extra_environments = list(extra_environments)
        self.connection_arn = connection_arn
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str, str]] = set()
        self.notes: list[str] = []
        self.stats: dict[str, FieldStats] = {}
        self.environments: dict[str, dict[str, Any]] = {}  # name -> platform entry
        self.env_sources: dict[str, tuple[Manifest, dict[str, tuple[Path_, ...]]]] = {}
        self.services: list[_Service] = []
        self.delivery: dict[str, Any] | None = None
        self.delivery_manifest: Manifest | None = None
        self.delivery_comment = ""
        self.reported_paths: dict[str, list[str]] = {}  # file -> display paths reported
        self.service_names: dict[str, str] = {}  # manifest (shown) -> Keel service name
        self.service_names_by_copilot: dict[str, str] = {}  # Copilot service name -> Keel service name
        self.existing_zones: dict[str, int] = {}  # environment -> its existing VPC's subnets per tier
        # The platform file the import writes: Static Site folders are relative to it, and it validates there.
        self.out = (out or root / "keel-import-copilot.yaml").resolve()

    # -- findings ----------------------------------------------------------------------------------
    def add(self, file: str, path: str, value: object, reason: str) -> None:
        key = (file, path, reason)
        if key in self._seen:
            return
        self._seen.add(key)
        self.findings.append(Finding(file, path, value, reason))
        self.reported_paths.setdefault(file, []).append(path)

    def _origin_reports(self, manifest: Manifest, env: str | None, path: Path_, reason: str) -> None:
        """Report `path` where the user wrote it: the base manifest, the environment's override, or both."""
        base = get_path(manifest.doc, path)
        override = get_path(manifest.doc, ("environments", env, *path)) if env else MISSING
        if override is not MISSING:
            self.add(manifest.shown, join_path("environments", env or "", *path), override, reason)
        if base is not MISSING and (override is MISSING or isinstance(base, Mapping)):
            self.add(manifest.shown, join_path(*path), base, reason)
        if base is MISSING and override is MISSING:  # a value the merge made (never in practice)
            self.add(manifest.shown, join_path(*path), None, reason)

    def close_view(self, manifest: Manifest, view: View, env: str | None) -> None:
        for path, reason in [*view.reports, *view.leftovers()]:
            self._origin_reports(manifest, env, path, reason)
        self.notes += [n for n in view.notes if n not in self.notes]

    # -- the whole workspace -----------------------------------------------------------------------
    def run(self, app: str | None, manifests: Sequence[Manifest]) -> ImportResult:
        self.app = app
        env_manifests = [m for m in manifests if m.kind == ENVIRONMENT]
        workloads = [m for m in manifests if m.kind not in (ENVIRONMENT, PIPELINE)]
        pipelines = [m for m in manifests if m.kind == PIPELINE]
        names: list[str] = []
        for m in env_manifests:
            name = self._env_name(m)
            if name not in names:
                names.append(name)
        for name in self.extra_environments:
            slug = _slug(name)
            if slug not in names:
                names.append(slug)
        for m in workloads:
            for env in (m.doc.get("environments") or {}) if isinstance(m.doc.get("environments"), Mapping) else {}:
                if _slug(str(env)) not in names:
                    names.append(_slug(str(env)))
        for m in pipelines:
            for stage in m.doc.get("stages") or [] if isinstance(m.doc.get("stages"), list) else []:
                if isinstance(stage, Mapping) and isinstance(stage.get("name"), str) and \
                        _slug(stage["name"]) not in names:
                    names.append(_slug(stage["name"]))
        if not names:
            names.append("dev")
            self.notes.append("No environment manifest, --environment or override names an environment: the "
                              "platform has one environment, dev.")
        by_name = {self._env_name(m): m for m in env_manifests}
        for name in names:
            self._environment(name, by_name.get(name))
        taken: set[str] = set()
        for m in workloads:  # every name first: a worker names the services whose topics it subscribes to
            if m.kind in TEMPLATES:
                raw = m.doc.get("name") if isinstance(m.doc.get("name"), str) else m.folder.name
                self.service_names[m.shown] = _service_name(str(raw), self.registry, taken)
                self.service_names_by_copilot.setdefault(str(raw), self.service_names[m.shown])
                taken.add(self.service_names[m.shown])
        for m in workloads:
            self._workload(m, names, taken)
        if pipelines:
            self._pipeline(pipelines[0], names)
            for extra in pipelines[1:]:
                self.add(extra.shown, "", extra.doc.get("name"),
                         "Keel has one deploy pipeline per platform: only the first pipeline manifest "
                         f"({pipelines[0].shown}) is mapped")
                self._count(extra.kind, extra.doc, extra.shown)
        self._addons_and_overrides(workloads, env_manifests)
        self._needs_load_balancer()
        self._regions()
        platform = self._platform(app)
        platform = self._validated(platform)
        text = self._render(platform, app)
        for m in manifests:
            if m.kind != PIPELINE or m is self.delivery_manifest or m is pipelines[0]:
                self._count(m.kind or "(no type)", m.doc, m.shown)
        return ImportResult(platform=platform, findings=self.findings, notes=self.notes, stats=self.stats,
                            text=text, delivery_comment=self.delivery_comment)

    def _count(self, kind: str, doc: Mapping[str, Any], shown: str) -> None:
        stats = self.stats.setdefault(kind, FieldStats())
        reported = self.reported_paths.get(shown, [])
        for path, _ in leaves(doc):
            display = join_path(*path)
            if "" in reported or any(display == r or display.startswith(r + ".") or display.startswith(r + "[")
                                     for r in reported):
                stats.reported += 1
            else:
                stats.mapped += 1

    def _env_name(self, m: Manifest) -> str:
        name = m.doc.get("name")
        return _slug(str(name)) if isinstance(name, str) and name else _slug(m.folder.name)

    # -- environments ------------------------------------------------------------------------------
    def _environment(self, name: str, manifest: Manifest | None) -> None:
        entry: dict[str, Any] = {"name": name, "template": ENV_TEMPLATE}
        spec: dict[str, Any] = {}
        sources: dict[str, tuple[Path_, ...]] = {}
        if manifest is not None:
            view = View(manifest.doc)
            view.take("type")
            raw_name = view.take("name")
            if isinstance(raw_name, str) and _slug(raw_name) != raw_name:
                self.add(manifest.shown, "name", raw_name, f"renamed to {name}: Keel names are lower-case letters, "
                         "digits and single hyphens, starting with a letter (40 at most)")
            self._env_network(view, entry, spec, sources)
            self._env_http(view, spec, sources)
            insights = view.take("observability", "container_insights")
            if isinstance(insights, bool):
                spec["container_insights"] = "enabled" if insights else "disabled"
                sources["container_insights"] = (("observability", "container_insights"),)
            elif insights is not MISSING:
                view.report(("observability", "container_insights"), "container_insights is true or false")
            self.close_view(manifest, view, None)
            self.env_sources[name] = (manifest, sources)
        if spec:
            entry["spec"] = spec
        self.environments[name] = entry

    def _env_network(self, view: View, entry: dict[str, Any], spec: dict[str, Any],
                     sources: dict[str, tuple[Path_, ...]]) -> None:
        if view.peek("network", "vpc", "id") is not MISSING:
            self._existing_vpc(view, entry, spec, sources)
            self._flow_logs(view, spec, sources)
            return
        cidr = view.peek("network", "vpc", "cidr")
        if cidr is not MISSING:
            if _cidr_ok(cidr, 16, 28):
                spec["vpc_cidr"] = view.take("network", "vpc", "cidr")
                sources["vpc_cidr"] = (("network", "vpc", "cidr"),)
            else:
                view.report(("network", "vpc", "cidr"), "is not an IPv4 CIDR block from /16 to /28, which ecs-env "
                            "takes as vpc_cidr")
        azs: list[str] = []
        for tier in ("public", "private"):
            subnets = view.peek("network", "vpc", "subnets", tier)
            if not isinstance(subnets, list):
                continue
            for n, subnet in enumerate(subnets):
                if not isinstance(subnet, Mapping):
                    view.report(("network", "vpc", "subnets", tier, n), "a subnet is a map (cidr, az)")
                    continue
                if "id" in subnet:
                    continue
                where = ("network", "vpc", "subnets", tier, n)
                if n >= 3:
                    view.report(where, "ecs-env has up to three subnets per tier")
                    continue
                if "cidr" in subnet:
                    if _cidr_ok(subnet["cidr"], 16, 28):
                        key = f"{tier}_subnet_{('one', 'two', 'three')[n]}_cidr"
                        spec[key] = view.take(*where, "cidr")
                        sources[key] = ((*where, "cidr"),)
                    else:
                        view.report((*where, "cidr"), "is not an IPv4 CIDR block from /16 to /28")
                if "az" in subnet:
                    az = subnet["az"]
                    if isinstance(az, str) and _AZ.match(az):
                        view.take(*where, "az")
                        if az not in azs:
                            azs.append(az)
                    else:
                        view.report((*where, "az"), "is not an availability zone name such as us-east-2a")
        if azs:
            regions = {_AZ.match(az).group("region") for az in azs}  # type: ignore[union-attr]
            if len(regions) == 1 and 2 <= len(azs) <= 3:
                entry["region"] = regions.pop()
                entry["availability_zones"] = azs
                self.notes.append(f"environment {entry['name']}: region {entry['region']} and availability zones "
                                  f"{', '.join(azs)} come from its subnets")
            else:
                for tier in ("public", "private"):
                    subnets = view.peek("network", "vpc", "subnets", tier)
                    for n, _ in enumerate(subnets if isinstance(subnets, list) else []):
                        view.report(("network", "vpc", "subnets", tier, n, "az"),
                                    "ecs-env spreads its subnets over 2 or 3 availability zones of one region")
        self._flow_logs(view, spec, sources)

    @staticmethod
    def _flow_logs(view: View, spec: dict[str, Any], sources: dict[str, tuple[Path_, ...]]) -> None:
        """ecs-env keeps flow logs of the VPC it creates; of an existing VPC only when asked (existing_vpc.flow_log),
        as Copilot added one to an imported VPC only when its manifest asked."""
        flow_logs = view.peek("network", "vpc", "flow_logs")
        retention = view.peek("network", "vpc", "flow_logs", "retention")
        if isinstance(retention, int) and retention in _RETENTION:
            spec["flow_log_retention_days"] = view.take("network", "vpc", "flow_logs", "retention")
            sources["flow_log_retention_days"] = (("network", "vpc", "flow_logs", "retention"),)
        if flow_logs is True:
            view.take("network", "vpc", "flow_logs")
        if "existing_vpc" in spec and (flow_logs is True or isinstance(flow_logs, Mapping)):
            spec["existing_vpc"]["flow_log"] = True

    def _existing_vpc(self, view: View, entry: dict[str, Any], spec: dict[str, Any],
                      sources: dict[str, tuple[Path_, ...]]) -> None:
        """An imported VPC (network.vpc.id, the subnets' ids, and their cidrs and azs where given) -> ecs-env 1.3
        existing_vpc. Keel's synth never looks a VPC up, so the VPC's CIDR must be in the manifest (Copilot read
        it from EC2); what is missing or malformed is reported and the environment gets a VPC of its own."""
        blocking: list[tuple[Path_, str]] = []
        vpc_id = view.peek("network", "vpc", "id")
        if not isinstance(vpc_id, str) or not _VPC_ID.match(vpc_id):
            blocking.append((("network", "vpc", "id"), "is not a VPC ID (vpc- and 8 or 17 hex digits) that ecs-env's "
                             "existing_vpc takes"))
        cidr = view.peek("network", "vpc", "cidr")
        if cidr is MISSING:
            blocking.append((("network", "vpc", "id"), "ecs-env's existing_vpc needs the VPC's CIDR block (vpc_cidr), "
                             "which the manifest does not give (Copilot looked it up; Keel's synth never does): add "
                             "network.vpc.cidr to the manifest and import again, or write existing_vpc by hand"))
        elif not _cidr_ok(cidr, 16, 28):
            blocking.append((("network", "vpc", "cidr"), "is not an IPv4 CIDR block from /16 to /28, which "
                             "existing_vpc takes as vpc_cidr"))
        existing: dict[str, Any] = {"vpc_id": vpc_id, "vpc_cidr": cidr}
        taken: list[Path_] = [("network", "vpc", "id"), ("network", "vpc", "cidr")]
        azs: list[list[str]] = []
        for tier in ("public", "private"):
            _existing_tier(view, tier, existing, taken, azs, blocking)
        if not existing.get("private_subnet_ids") and not any("subnets" in p[2:3] for p, _ in blocking):
            blocking.append((("network", "vpc", "id"), "ecs-env's existing_vpc needs private subnets (with egress) "
                             "for the workloads, and the manifest imports none"))
        if blocking:
            _refuse_existing_vpc(view, blocking)
            return
        for path in taken:
            view.take(*path)
        spec["existing_vpc"] = existing
        sources["existing_vpc"] = tuple(p for p in taken if view.peek(*p) is not MISSING)
        zones = azs[0] if azs else []
        regions = {z[:-1] for z in zones}  # _AZ matched each: the region and one letter
        if zones and all(z == zones for z in azs) and len(regions) == 1:
            entry["region"] = regions.pop()
            entry["availability_zones"] = zones
            self.notes.append(f"environment {entry['name']}: region {entry['region']} and availability zones "
                              f"{', '.join(zones)} come from its subnets")
        elif azs:
            for path in taken:
                if path[-1] == "az":
                    view.taken.remove(path)
                    view.report(path, "the tiers' subnets are in the same availability zones, in the same order, "
                                "of one region")
        counts = {len(existing[k]) for k in ("public_subnet_ids", "private_subnet_ids") if existing.get(k)}
        self.existing_zones[entry["name"]] = max(counts)
        self.notes.append(f"environment {entry['name']}: the existing VPC {vpc_id} (existing_vpc): check that "
                          "availability_zones are its subnets' zones, in their order")

    def _env_http(self, view: View, spec: dict[str, Any], sources: dict[str, tuple[Path_, ...]]) -> None:
        public, private = view.peek("http", "public"), view.peek("http", "private")
        chosen = "public" if public is not MISSING else "private" if private is not MISSING else None
        if chosen is None:
            return
        if public is not MISSING and private is not MISSING:
            view.report(("http", "private"), "ecs-env has one shared load balancer: the public one is mapped, the "
                        "internal one is not")
        lb: dict[str, Any] = {"enabled": True, "internet_facing": chosen == "public"}
        paths: list[Path_] = [("http", chosen)]
        certificates = view.peek("http", chosen, "certificates")
        if isinstance(certificates, list) and certificates:
            if isinstance(certificates[0], str) and _CERT.match(certificates[0]):
                lb["protocol"] = "HTTPS"
                lb["certificate_arn"] = certificates[0]
                view.take("http", chosen, "certificates")
                if len(certificates) > 1:
                    view.report(("http", chosen, "certificates"), "ecs-env's HTTPS listener takes one certificate: "
                                f"the first ({certificates[0]}) is mapped")
            else:
                view.report(("http", chosen, "certificates"), "is not an ACM certificate ARN "
                            "(arn:aws:acm:<region>:<account>:certificate/<id>); the load balancer is HTTP only")
        sources_ip = view.peek("http", chosen, "ingress", "source_ips")
        if isinstance(sources_ip, list) and sources_ip and all(_cidr_ok(c, 0, 32) for c in sources_ip):
            view.take("http", chosen, "ingress", "source_ips")
            lb["ingress_cidrs"] = sources_ip[:20]
        if view.peek("http", chosen, "access_logs") is True:
            view.take("http", chosen, "access_logs")  # ecs-env always keeps access logs
        named = view.peek("http", chosen, "subnets")
        existing = spec.get("existing_vpc", {})
        tier_ids = existing.get("private_subnet_ids" if chosen == "private" else "public_subnet_ids", ())
        if isinstance(named, list) and named and all(isinstance(n, str) for n in named) and \
                set(named) == set(tier_ids):
            view.take("http", chosen, "subnets")  # the tier ecs-env places its load balancer in
        for path in (("security_groups", "ingress", "from_vpc"), ("ingress", "vpc")):
            if chosen == "private" and view.peek("http", "private", *path) is True:
                view.take("http", "private", *path)
                lb["ingress_cidrs"] = [existing.get("vpc_cidr") or spec.get("vpc_cidr", "10.0.0.0/16")]
        spec["load_balancer"] = lb
        sources["load_balancer"] = tuple(paths)

    # -- workloads ---------------------------------------------------------------------------------
    def _workload(self, m: Manifest, environments: Sequence[str], taken: set[str]) -> None:
        raw_name = m.doc.get("name") if isinstance(m.doc.get("name"), str) else m.folder.name
        if m.kind not in TEMPLATES:
            reason = (f"unknown Copilot workload type {m.kind!r} (known: {', '.join(TEMPLATES)}): nothing was "
                      "imported from this manifest")
            self.add(m.shown, "type", m.doc.get("type"), reason)
            for path, value in leaves(m.doc):
                if path != ("type",):
                    self.add(m.shown, join_path(*path), value, "not imported: unknown workload type")
            return
        name = self.service_names[m.shown]
        if name != raw_name:
            self.add(m.shown, "name", raw_name, f"renamed to {name}: Keel service names are lower-case letters, "
                     "digits and single hyphens, starting with a letter, not a name the environments use")
        service = _Service(manifest=m, name=name, template=TEMPLATES[m.kind], kind=m.kind)
        if m.kind == RDWS:
            self.add(m.shown, "type", m.kind, "App Runner is closed to new customers: mapped onto "
                     "load-balanced-fargate-svc (a Fargate service behind the environment's shared load balancer)")
        raw_overrides = m.doc.get("environments")
        overrides: Mapping[str, Any] = raw_overrides if isinstance(raw_overrides, Mapping) else {}
        override_names = {_slug(str(k)): str(k) for k in overrides}
        for env in environments:
            written = override_names.get(env)
            override = overrides.get(written) if written is not None else None
            base = {k: v for k, v in m.doc.items() if k != "environments"}
            merged = deep_merge(base, override if isinstance(override, Mapping) else None)
            predefined = {"COPILOT_APPLICATION_NAME": self.app or "", "COPILOT_ENVIRONMENT_NAME": env}
            # a mapping merged with a mapping (or with nothing) is a mapping
            view = View(cast("Mapping[str, Any]", _substitute(merged, predefined)))
            instance = _Instance(environment=env, spec={}, sources={})
            if m.kind == STATIC:
                _map_static(view, instance, name, self._relocate)
                pipeline = None
            else:
                pipeline = _map_workload(view, m.kind, instance, name, self.service_names_by_copilot)
            if pipeline is not None:
                service.builds = True
                service.pipeline = service.pipeline or pipeline
                if "image" not in instance.spec:
                    view.notes.append(f"service {name}: Copilot built its image (image.build); the instances run "
                                      "the template's default image until a service pipeline (delivery) or "
                                      f"`-c keel:image:{name}=<image>` gives them the built one")
            self.close_view(m, view, written)
            service.instances.append(instance)
        if isinstance(m.doc.get("environments"), Mapping):
            for written, override in overrides.items():
                if override is not None and not isinstance(override, Mapping):
                    self.add(m.shown, join_path("environments", str(written)), override,
                             "an environment override is a map of fields")
        elif "environments" in m.doc:
            self.add(m.shown, "environments", m.doc["environments"], "environments is a map of overrides")
        self.services.append(service)

    # -- pipelines ---------------------------------------------------------------------------------
    def _pipeline(self, m: Manifest, environments: Sequence[str]) -> None:
        self.delivery_manifest = m
        view = View(m.doc)
        view.take("name")
        version = view.peek("version")
        if version in (1, "1"):
            view.take("version")
        source, connection = self._pipeline_source(view)
        stages, approvals = _pipeline_stages(view)
        delivery: dict[str, Any] = {}
        if stages:
            delivery["pipeline"] = {"stages": stages, "approvals": approvals}
        pipelines = [{"service": s.name, "repository": source["repository"],
                      **({"branch": source["branch"]} if "branch" in source else {})}
                     for s in self.services if s.builds and "repository" in source]
        if pipelines:
            delivery["service_pipelines"] = pipelines
            self.notes.append("service pipelines: " + ", ".join(p["service"] for p in pipelines) + " (their images "
                              "are built from " + source["repository"] + ", as Copilot's pipeline built them"
                              + (")" if self.connection_arn else "; in the commented-out delivery section)"))
        self._delivery(m, source, delivery, connection)
        self.close_view(m, view, None)

    def _pipeline_source(self, view: View) -> tuple[dict[str, Any], object]:
        """The pipeline's `source` as Keel's delivery.source (repository, branch, the --connection-arn), and
        Copilot's connection name (for the report)."""
        provider = view.peek("source", "provider")
        repo_text = view.peek("source", "properties", "repository")
        branch = view.peek("source", "properties", "branch")
        connection = view.peek("source", "properties", "connection_name")
        source: dict[str, Any] = {}
        repo_match = _REPO_URL.match(repo_text) if isinstance(repo_text, str) else None
        if isinstance(provider, str) and provider.lower() in ("github", "bitbucket", "gitlab") and repo_match:
            source["repository"] = repo_match.group("repo")
            view.take("source", "provider")
            view.take("source", "properties", "repository")
        elif isinstance(provider, str) and provider.lower() == "codecommit":
            view.report(("source", "provider"), "Keel's pipelines read sources through a CodeStar/CodeConnections "
                        "connection (GitHub, Bitbucket, GitLab); CodeCommit is closed to new customers")
        elif provider is not MISSING:
            view.take("source", "provider")
        if repo_text is not MISSING and "repository" not in source:
            view.report(("source", "properties", "repository"), "is not a repository URL or owner/name that Keel's "
                        "delivery.source.repository takes")
        if isinstance(branch, str) and branch:
            source["branch"] = view.take("source", "properties", "branch")
        if self.connection_arn:
            source["connection_arn"] = self.connection_arn
        if connection is not MISSING:
            view.take("source", "properties", "connection_name")  # named in the report when no ARN is given
        return source, connection

    def _delivery(self, m: Manifest, source: dict[str, Any], delivery: dict[str, Any], connection: object) -> None:
        """The platform's delivery section: written when the source has a repository and a connection ARN,
        else written commented out, with the reason reported."""
        if "repository" in source and "connection_arn" in source:
            self.delivery = {"source": source, **delivery}
        elif delivery or source:
            reason = (f"Keel's delivery.source needs a CodeStar connection ARN: run again with --connection-arn "
                      f"(the connection{' named ' + repr(connection) if isinstance(connection, str) else ''}); "
                      "the delivery section is written commented out") if "repository" in source else \
                "no repository Keel can read: the delivery section is written commented out"
            self.add(m.shown, "source", m.doc.get("source"), reason)
            commented = {"source": {"connection_arn": "arn:aws:codestar-connections:REGION:ACCOUNT:connection/ID",
                                    **source}, **delivery}
            self.delivery_comment = dump_yaml({"delivery": commented})

    # -- addons and overrides ----------------------------------------------------------------------
    def _addons_and_overrides(self, workloads: Sequence[Manifest], env_manifests: Sequence[Manifest]) -> None:
        copilot = self.root / "copilot"
        folders = sorted({p.parent for p in copilot.rglob("addons") if p.is_dir()} |
                         {p.parent for p in copilot.rglob("overrides") if p.is_dir()})
        by_folder = {s.manifest.folder.resolve(): s for s in self.services}
        for folder in folders:
            if (folder / "addons").is_dir():
                self._addons(folder / "addons", by_folder.get(folder.resolve()))
            overrides = folder / "overrides"
            if not overrides.is_dir():
                continue
            for file in sorted(overrides.rglob("*")):
                if not file.is_file() or "node_modules" in file.parts:
                    continue
                shown = _rel(file, self.root)
                if file.name in ("cfn.patches.yml", "cfn.patches.yaml"):
                    doc = _read(file, self.root)
                    patches = doc if isinstance(doc, list) else []
                    for n, patch in enumerate(patches):
                        path = patch.get("path") if isinstance(patch, Mapping) else None
                        op = patch.get("op") if isinstance(patch, Mapping) else None
                        self.add(shown, f"[{n}]", {"op": op, "path": path},
                                 f"a CloudFormation patch of Copilot's template ({op} {path}): Keel's templates are "
                                 "CDK; an instance's overrides (issue 17) set a property of a Keel resource by its "
                                 "construct path: rewrite the patch as one if it still applies")
                    if not patches:
                        self.add(shown, "", None, "a CloudFormation patch file with no patches in it")
                else:
                    self.add(shown, "", file.name, "a CDK override of Copilot's template: Keel's templates are "
                             "CDK already; an instance's overrides (issue 17) set a property of a Keel resource by "
                             "its construct path")

    def _addons(self, addons: Path, service: _Service | None) -> None:
        """Copilot's add-ons (CloudFormation under its contract: parameters App, Env and Name) -> a cloudformation
        component of each of the service's instances, its template named relative to the platform file. Values
        from addons.parameters.yml go to the templates that declare them."""
        files = sorted(f for f in addons.rglob("*") if not f.is_dir())  # a FIFO or a dangling link is reported
        if service is None:
            reason = "environment add-ons: Keel's cloudformation components belong to a service instance, not to " \
                "an environment" if addons.parent.name == "environments" else \
                "the add-on of a workload that was not imported (no service to own it)"
            for file in files:
                self.add(_rel(file, self.root), "", file.name, reason)
            return
        parameters, given, shown_parameters = self._addon_parameters(files)
        used: set[str] = set()
        for file in files:
            if file.name not in ADDON_PARAMETERS:
                used.update(self._addon(file, service, parameters))
        for key in sorted(set(parameters) - used):
            self.add(shown_parameters, join_path("Parameters", key), given.get(key),
                     "no add-on template of the service declares this parameter")

    def _addon_parameters(self, files: Sequence[Path]) -> tuple[dict[str, str], Mapping[str, Any], str]:
        """addons.parameters.yml: the plain values (by name), every parameter given, and the file as shown."""
        parameters: dict[str, str] = {}
        given: Mapping[str, Any] = {}
        shown_parameters = ""
        for file in files:
            if file.name not in ADDON_PARAMETERS:
                continue
            shown_parameters = _rel(file, self.root)
            try:
                _inside(file, self.root)
                doc = load_cloudformation(file)
            except CopilotImportError as exc:
                self.add(shown_parameters, "", file.name, str(exc).split(": ", 1)[-1])
                continue
            except (OSError, ValueError, YAMLError) as exc:
                self.add(shown_parameters, "", file.name, f"cannot read the add-on parameters: {_reason(exc)}")
                continue
            found = doc.get("Parameters") if isinstance(doc, Mapping) else None
            given = found if isinstance(found, Mapping) else {}
            for key, value in given.items():
                if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                    parameters[str(key)] = str(value)
                else:
                    self.add(shown_parameters, join_path("Parameters", str(key)), value, "a value from "
                             "Copilot's own stack (!Ref, !GetAtt...): Keel passes plain values only (App, Env "
                             "and Name are Keel's)")
        return parameters, given, shown_parameters

    def _addon(self, file: Path, service: _Service, parameters: Mapping[str, str]) -> set[str]:
        """One add-on template -> a cloudformation component of each instance; the parameters it declares."""
        shown = _rel(file, self.root)
        if file.suffix.lower() not in (".yml", ".yaml", ".json"):
            self.add(shown, "", file.name, "not a CloudFormation template (.yml, .yaml or .json)")
            return set()
        try:
            _inside(file, self.root)
        except CopilotImportError:
            self.add(shown, "", file.name, "the add-on leads outside the workspace, or nowhere (a symlink): Keel "
                     "uses add-on templates inside the repository only")
            return set()
        try:
            doc = load_cloudformation(file)
        except (OSError, ValueError, YAMLError) as exc:
            self.add(shown, "", file.name, f"cannot read the add-on template: {_reason(exc)}: no component was "
                     "made of it")
            return set()
        declared = doc.get("Parameters") if isinstance(doc, Mapping) else None
        own = {k: v for k, v in parameters.items() if isinstance(declared, Mapping) and k in declared}
        template = posixpath.normpath(os.path.relpath(file.resolve(), self.out.parent)).replace(os.sep, "/")
        for instance in service.instances:
            name = _slug(file.stem)
            if any(c["name"] == name for c in instance.components):
                name = f"{name[:33]}-addon"
            instance.add_component({"kind": "cloudformation", "name": name, "template_file": template,
                                    **({"parameters": dict(own)} if own else {})}, ("file", shown))
        return set(own)

    def _needs_load_balancer(self) -> None:
        """An instance on the shared load balancer needs it in its environment (Copilot made one on demand)."""
        for service in self.services:
            for instance in service.instances:
                if service.template.startswith("load-balanced") and \
                        instance.spec.get("loadbalancer_type", "application") == "application":
                    env = self.environments[instance.environment]
                    lb = env.setdefault("spec", {}).setdefault("load_balancer", {})
                    if not lb.get("enabled"):
                        lb["enabled"] = True
                        self.notes.append(f"environment {env['name']}: the shared load balancer is on "
                                          f"(service {service.name} uses it)")

    def _regions(self) -> None:
        """--region, else the region of the environment's ACM certificate, places the environments whose subnets
        named none; an environment with the shared load balancer cannot stay region-agnostic (its access log
        bucket policy names the region's ELB account)."""
        for env in self.environments.values():
            if "region" in env:
                continue
            certificate = env.get("spec", {}).get("load_balancer", {}).get("certificate_arn", "")
            from_certificate = certificate.split(":")[3] if certificate.count(":") >= 5 else ""
            region, why = (self.region, "--region") if self.region else (
                from_certificate, "the region of its load balancer's ACM certificate, which must be the ALB's")
            if region:
                zones = [f"{region}{letter}" for letter in "abcdef"[:self.existing_zones.get(env["name"], 2)]]
                env["region"] = region
                env["availability_zones"] = zones
                self.notes.append(f"environment {env['name']}: region {region} ({why}), availability "
                                  f"zones {', '.join(zones)}: check that the account has them")
            elif env.get("spec", {}).get("load_balancer", {}).get("enabled"):
                self.notes.append(f"environment {env['name']}: its shared load balancer needs a region to "
                                  "synthesize (access logs): run again with --region, or give it region and "
                                  "availability_zones")

    def _relocate(self, source: str) -> str:
        """A Static Site folder (relative to the workspace root, as Copilot read it) relative to the platform
        file, which is what static-site-svc resolves it against."""
        folder = (self.root / source).resolve()
        return posixpath.normpath(os.path.relpath(folder, self.out.parent)).replace(os.sep, "/")

    # -- the platform ------------------------------------------------------------------------------
    def _platform(self, app: str | None) -> dict[str, Any]:
        platform: dict[str, Any] = {}
        if app:
            platform["name"] = _slug(app)
        platform["environments"] = list(self.environments.values())
        services = []
        for s in self.services:
            entry: dict[str, Any] = {"name": s.name, "template": s.template}
            if s.pipeline:
                entry["pipeline"] = s.pipeline
            entry["instances"] = [{"name": i.environment, "environment": i.environment,
                                   **({"spec": i.spec} if i.spec else {}),
                                   **({"components": i.components} if i.components else {})} for i in s.instances]
            services.append(entry)
        if services:
            platform["services"] = services
        if self.delivery:
            platform["delivery"] = self.delivery
        return platform

    def _validated(self, platform: dict[str, Any]) -> dict[str, Any]:
        """Validate as `keel validate` does; take out what Keel still refuses, and report it."""
        virtual = self.out
        nodes = _nodes(platform)
        if nodes > MAX_NODES:  # Keel would refuse to read the file: say why in the workspace's terms
            instances = sum(len(s.instances) for s in self.services)
            raise CopilotImportError(
                f"{_rel(virtual, self.root)}: the imported platform is too large for one platform file (got "
                f"{len(self.environments)} environments, {len(self.services)} services and {instances} instances, "
                f"about {nodes} YAML nodes, expected at most {MAX_NODES} nodes): every environment a manifest, a "
                "pipeline stage, an `environments:` override or --environment names gets an instance of every "
                "service; remove the overrides of environments that no longer exist")
        for _ in range(20):
            try:
                load_platform(virtual, registry=self.registry, texts={virtual: dump_yaml(platform)})
                return platform
            except SpecError as exc:
                progress = False
                self._left_out = set()
                self._dropped = set()  # a key with two problems is dropped once, its instance kept
                for problem in exc.problems:
                    progress |= self._drop(platform, problem.path, problem.render().split(": ", 1)[-1])
                for svc, n in sorted(self._left_out, key=lambda x: -x[1]):
                    service = next(s for s in self.services if s.name == svc)
                    del service.instances[n]
                    entry = next(e for e in platform["services"] if e["name"] == svc)
                    del entry["instances"][n]
                if not progress:
                    raise CopilotImportError("the imported platform does not validate:\n" + "\n".join(
                        p.render() for p in exc.problems)) from None
        raise CopilotImportError("the imported platform does not validate")

    def _drop(self, platform: dict[str, Any], path: str, message: str) -> bool:
        match = re.match(r"^services\[(?P<svc>[^\]]+)\]\.instances\[(?P<n>[0-9]+)\]\.spec\.(?P<key>[A-Za-z_]+)", path)
        if match:
            return self._drop_instance_input(platform, match, message)
        match = re.match(r"^services\[(?P<svc>[^\]]+)\]\.instances\[(?P<n>[0-9]+)\]\.components"
                         r"(\[(?P<c>[^\]]+)\])?", path)
        if match and any(s.name == match["svc"] for s in self.services):
            return self._drop_component(platform, match["svc"], int(match["n"]), match["c"], message)
        match = re.match(r"^environments\[(?P<env>[^\]]+)\]\.(spec\.(?P<key>[A-Za-z_]+)|(?P<top>region|"
                         r"availability_zones))", path)
        if match and self._drop_environment_input(match, message):
            return True
        if path.startswith("delivery") and "delivery" in platform:
            platform.pop("delivery")
            if self.delivery_manifest is not None:
                self.add(self.delivery_manifest.shown, "", None, f"the delivery section was left out: {message}")
            self.delivery = None
            return True
        match = re.match(r"^services\[(?P<svc>[^\]]+)\]", path)
        if match and any(e["name"] == match["svc"] for e in platform.get("services", [])):
            service = next(s for s in self.services if s.name == match["svc"])
            platform["services"] = [e for e in platform["services"] if e["name"] != match["svc"]]
            self.services.remove(service)
            self.add(service.manifest.shown, "", service.manifest.doc.get("name"),
                     f"the service was left out: Keel refused it ({path}: {message})")
            return True
        return False

    def _drop_instance_input(self, platform: dict[str, Any], match: re.Match[str], message: str) -> bool:
        """An instance input Keel refused: out (reported where it came from), or, when the default would be
        refused as well, the instance left out."""
        service = next(s for s in self.services if s.name == match["svc"])
        instance = service.instances[int(match["n"])]
        # a rule another instance already has on the shared listener: a default would collide as well
        conflict = "would ever match" in message or " is taken by " in message
        if (service.name, int(match["n"]), match["key"]) in self._dropped:
            return True
        if match["key"] in instance.spec and not conflict:
            self._dropped.add((service.name, int(match["n"]), match["key"]))
            instance.spec.pop(match["key"])
            for source in instance.sources.get(match["key"], ()):
                self._origin_reports(service.manifest, _override_key(service.manifest, instance.environment),
                                     source, f"Keel refused it as {match['key']}: {message}")
            entry = next(e for e in platform["services"] if e["name"] == service.name)
            spec = entry["instances"][int(match["n"])].get("spec", {})
            spec.pop(match["key"], None)
            return True
        if (service.name, int(match["n"])) not in self._left_out:
            # a default Keel cannot take either (such as a second rule on the same path): leave the
            # instance out, keep the service's others
            self._left_out.add((service.name, int(match["n"])))
            self.add(service.manifest.shown, "", service.manifest.doc.get("name"),
                     f"the instance in environment {instance.environment} was left out: Keel refused its "
                     f"{match['key']} ({message})")
        return True

    def _drop_environment_input(self, match: re.Match[str], message: str) -> bool:
        """An environment input Keel refused, out and reported where it came from; False when it has none."""
        env = self.environments.get(match["env"])
        key = match["key"] or match["top"]
        holder = env.get("spec", {}) if env and match["key"] else env
        if holder is None or key not in holder:
            return False
        holder.pop(key)
        if match["top"]:
            holder.pop("region", None)
            holder.pop("availability_zones", None)
        elif key == "existing_vpc" and env is not None and env.get("region") and \
                len(env.get("availability_zones", ())) not in (2, 3):
            env["availability_zones"] = [f"{env['region']}a", f"{env['region']}b"]  # a VPC of its own
        manifest, sources = self.env_sources.get(match["env"], (None, {}))
        if manifest is not None:
            for source in sources.get(key, ()) or ((key,),):
                self._origin_reports(manifest, None, source, f"Keel refused it as {key}: {message}")
        return True

    def _drop_component(self, platform: dict[str, Any], svc: str, n: int, which: str | None, message: str) -> bool:
        """A component Keel refused (an add-on outside the contract, a topic name too long): out, and reported
        where it came from; the instance keeps the rest."""
        service = next(s for s in self.services if s.name == svc)
        instance = service.instances[n]
        if which is not None and (svc, n, f"component:{which}") in self._dropped:
            return True
        if which is None:
            doomed = list(range(len(instance.components)))
        elif which.isdigit():
            doomed = [int(which)] if int(which) < len(instance.components) else []
        else:
            doomed = [k for k, c in enumerate(instance.components) if c["name"] == which]
        if not doomed:
            return False
        self._dropped.add((svc, n, f"component:{which}"))
        for k in sorted(doomed, reverse=True):
            entry = instance.components.pop(k)
            kind, source = instance.component_sources.pop(k)
            reason = f"Keel refused it as the {entry['kind']} component {entry['name']}: {message}"
            if kind == "manifest":
                self._origin_reports(service.manifest, _override_key(service.manifest, instance.environment),
                                     source, reason)
            else:
                self.add(source, "", posixpath.basename(source), reason)
        written = next(e for e in platform["services"] if e["name"] == svc)["instances"][n]
        if instance.components:
            written["components"] = instance.components
        else:
            written.pop("components", None)
        return True

    def _render(self, platform: Mapping[str, Any], app: str | None) -> str:
        shown = re.sub(r"[^\x20-\x7e]", "?", app)[:80] if app else ""  # a newline would end the comment
        header = [f"# Written by `keel import-copilot` from the Copilot workspace"
                  f"{' of application ' + shown if shown else ''}.",
                  "# Every Copilot field that has no Keel equivalent is listed in the import report.",
                  "# Give each environment its account, region and availability_zones before deploying."]
        text = "\n".join(header) + "\n" + dump_yaml(dict(platform))
        if self.delivery_comment and "delivery" not in platform:
            text += ("# The pipeline manifest, once a CodeStar connection ARN is known "
                     "(keel import-copilot ... --connection-arn ARN):\n")
            text += "".join(f"# {line}\n" for line in self.delivery_comment.splitlines())
        return text


def _nodes(node: object) -> int:
    """YAML nodes as the spec reader counts them: every mapping, list and scalar, keys included."""
    if isinstance(node, Mapping):
        return 1 + sum(1 + _nodes(v) for v in node.values())
    if isinstance(node, list):
        return 1 + sum(_nodes(v) for v in node)
    return 1


def _reason(exc: Exception) -> str:
    """Why a file could not be read, in one line (a YAML error's line and column, never its traceback)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, YAMLError):
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        got, expected = getattr(exc, "got", None), getattr(exc, "expected", None)
        detail = f" (got {got}, expected {expected})" if got and expected else ""
        return f"{where}{getattr(exc, 'problem', None) or first}{detail}"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return first


def _substitute(node: object, values: Mapping[str, str]) -> object:
    """Copilot's own ${COPILOT_APPLICATION_NAME} and ${COPILOT_ENVIRONMENT_NAME}, filled in as Copilot did."""
    if isinstance(node, str):
        for name, value in values.items():
            if value:
                node = node.replace("${" + name + "}", value)
        return node
    if isinstance(node, Mapping):
        return {k: _substitute(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, values) for v in node]
    return node


def _override_key(m: Manifest, env: str) -> str | None:
    overrides = m.doc.get("environments")
    if isinstance(overrides, Mapping):
        for key in overrides:
            if _slug(str(key)) == env:
                return str(key)
    return None


# --- one workload in one environment ---------------------------------------------------------------
def _map_workload(v: View, kind: str, out: _Instance, service: str,
                  names: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Fill `out.spec` from a merged manifest; returns the pipeline inputs when the image is built."""
    v.take("name")
    v.take("type")
    v.label = f"service {service}"
    pipeline = _image(v, out)
    if kind in (LBWS, BACKEND, RDWS):
        port = v.peek("image", "port")
        if _whole(port) and 1 <= int(port) <= 65535:
            v.take("image", "port")
            out.put("port", int(port), ("image", "port"))
        elif port is not MISSING:
            v.report(("image", "port"), "is not a port from 1 to 65535")
        elif kind == BACKEND:
            out.put("discovery", "none")
            v.notes.append(f"service {service}: no image.port, so it is not registered for discovery "
                           "(discovery: none), as in Copilot")
    elif v.peek("image", "port") is not MISSING:
        v.report(("image", "port"), "a worker or job takes no traffic: Keel's template has no port")
    _task_size(v, out)
    _platform_field(v, out, kind)
    _variables(v, out)
    _secrets(v, out)
    exec_ = v.peek("exec")
    if isinstance(exec_, bool):
        out.put("enable_exec", v.take("exec"), ("exec",))
    elif isinstance(exec_, Mapping) and kind != RDWS:
        v.report(("exec",), "exec is true or false in Keel (enable_exec)")
    _placement(v, out, kind)
    _logging(v, out)
    if kind in (LBWS, BACKEND, WORKER):
        _deployment(v, out, kind)
    if kind in (LBWS, RDWS):
        _http(v, out, kind)
    if kind == BACKEND:
        v.report(("http",), "backend-fargate-svc has no load balancer: it is reached through Service Connect or "
                 "Cloud Map (Copilot's internal load balancer paths have no equivalent; a load-balanced-fargate-svc "
                 "on an environment with an internal load balancer is the nearest)")
    if kind == LBWS:
        _nlb(v, out)
    if kind in (LBWS, BACKEND):
        _connect(v, out, kind)
    if kind in (LBWS, BACKEND, WORKER):
        _count(v, out, kind)
    if kind == RDWS:
        _rdws(v, out)
    if kind == WORKER:
        _worker_queue(v, out)
        _topics(v, out, names or {})
    if kind == JOB:
        _schedule(v, out)
        _job_run(v, out)
    _publish(v, out)
    return pipeline


def _image(v: View, o: _Instance) -> dict[str, Any] | None:
    build = v.peek("image", "build")
    location = v.peek("image", "location")
    if isinstance(location, str) and location:
        if "${" in location:
            v.report(("image", "location"), "Copilot filled ${...} from the shell at deploy time; Keel takes the "
                     "image as written: give the built image with -c keel:image:<service>=<image> (or a service "
                     "pipeline)")
        elif len(location) > 200:
            v.report(("image", "location"), "is longer than the 200 characters image takes")
        else:
            o.put("image", v.take("image", "location"), ("image", "location"))
    given = [x for x in ((build,) if isinstance(build, str) else (build.get("context"), build.get("dockerfile"))
                         if isinstance(build, Mapping) else ()) if isinstance(x, str)]
    if any(_escapes(x) for x in given):
        v.report(("image", "build"), "leads outside the workspace (an absolute path or ..): Keel's service pipeline "
                 "builds inside the repository only")
        return None
    if isinstance(build, str) and build:
        v.take("image", "build")
        folder, name = posixpath.split(posixpath.normpath(build))
        return {"service_dir": folder or ".", "dockerfile": name or "Dockerfile"}
    if isinstance(build, Mapping):
        context = build.get("context")
        dockerfile = build.get("dockerfile")
        if not isinstance(context, str) and not isinstance(dockerfile, str):
            return None
        if isinstance(dockerfile, str):
            v.take("image", "build", "dockerfile")
        if isinstance(context, str):
            v.take("image", "build", "context")
        folder = posixpath.normpath(context) if isinstance(context, str) else \
            posixpath.dirname(posixpath.normpath(str(dockerfile))) or "."
        file = posixpath.relpath(posixpath.normpath(dockerfile), folder) if isinstance(dockerfile, str) else \
            "Dockerfile"
        return {"service_dir": folder or ".", "dockerfile": file}
    return None


def _task_size(v: View, o: _Instance) -> None:
    cpu, memory = v.peek("cpu"), v.peek("memory")
    if cpu is MISSING and memory is MISSING:
        return
    cpu_n = int(cpu) if _whole(cpu) else 256 if cpu is MISSING else None
    memory_n = int(memory) if _whole(memory) else 512 if memory is MISSING else None
    where = [p for p in (("cpu",), ("memory",)) if v.peek(*p) is not MISSING]
    if cpu_n is None or memory_n is None or memory_n not in FARGATE_MEMORY.get(cpu_n, ()):
        for p in where:
            v.report(p, f"cpu {cpu_n if cpu_n is not None else cpu} with memory "
                     f"{memory_n if memory_n is not None else memory} MiB is not a task size Fargate runs")
        return
    for size, (c, m) in TASK_SIZES.items():
        if c >= cpu_n and m >= memory_n:
            for p in where:
                v.take(*p)
            o.put("task_size", size, *where)
            if (c, m) != (cpu_n, memory_n):
                for p in where:
                    v.report(p, f"Keel's task sizes are fixed pairs: {cpu_n} CPU / {memory_n} MiB runs as "
                             f"task_size {size} ({c} CPU / {m} MiB)")
            return
    for p in where:
        v.report(p, f"{cpu_n} CPU / {memory_n} MiB is larger than Keel's largest task size, x-large (4096 / 8192)")


def _platform_field(v: View, o: _Instance, kind: str) -> None:
    """linux/x86_64 is every Fargate template's; linux/arm64 is backend-fargate-svc 1.1's cpu_architecture ARM64
    (issue 18)."""
    platform = v.peek("platform")
    if platform is MISSING:
        return
    if isinstance(platform, str):
        os_family, _, arch = platform.lower().partition("/")
    elif isinstance(platform, Mapping):
        os_family, arch = str(platform.get("osfamily", "")).lower(), str(platform.get("architecture", "")).lower()
    else:
        return
    if os_family == "linux" and arch in ("x86_64", "amd64"):
        v.take("platform")
    elif os_family == "linux" and arch == "arm64" and kind == BACKEND:
        v.take("platform")
        o.put("cpu_architecture", "ARM64", ("platform",))


def _variables(v: View, o: _Instance) -> None:
    variables = v.peek("variables")
    if not isinstance(variables, Mapping):
        return
    out = []
    for name, value in variables.items():
        where = ("variables", str(name))
        if isinstance(value, str) and "${" in value:
            v.report(where, "Copilot filled ${...} from the shell at deploy time: write the value itself")
            continue
        if isinstance(value, Mapping):
            v.report(where, "from_cfn reads a CloudFormation export: Keel's templates take plain values (or "
                     "secrets from the config plane)" if "from_cfn" in value else "a variable's value is plain")
            continue
        if not _VARIABLE.match(str(name)):
            v.report(where, "is not a variable name Keel takes (letters, digits and _, not starting with a digit)")
            continue
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        if len(text) > 4096:
            v.report(where, "is longer than the 4096 characters a variable takes")
            continue
        v.take(*where)
        out.append({"name": str(name), "value": text})
    if out:
        o.put("environment_variables", out[:100], ("variables",))


def _secrets(v: View, o: _Instance) -> None:
    """Copilot's secrets by external reference (an SSM parameter's name or ARN, `secretsmanager:` a secret's name
    or ARN, with an optional `:json-key::`) become external_secrets (container templates 1.1), granted exactly
    those ARNs."""
    secrets = v.peek("secrets")
    if not isinstance(secrets, Mapping):
        if secrets is not MISSING:
            v.report(("secrets",), "secrets is a map of variable names to references")
        return
    out: list[dict[str, Any]] = []
    for name, value in secrets.items():
        where: Path_ = ("secrets", str(name))
        if not _VARIABLE.match(str(name)):
            v.report(where, "is not a variable name Keel takes (letters, digits and _, not starting with a digit)")
            continue
        if isinstance(value, Mapping) and "from_cfn" in value:
            v.report(where, "from_cfn reads a CloudFormation export of Copilot's stacks: copy the value into the "
                     f"config plane (/keel/<environment>/<service>/{str(name).lower()}) and list it in the "
                     "instance's secrets")
            continue
        if isinstance(value, Mapping) and isinstance(value.get("secretsmanager"), str) and len(value) == 1:
            entry = _secrets_manager_reference(value["secretsmanager"])
            path: Path_ = (*where, "secretsmanager")
        elif isinstance(value, str) and value.startswith("arn:") and ":secretsmanager:" in value:
            entry, path = _secrets_manager_reference(value), where
        elif isinstance(value, str) and value:
            entry, path = {"reference": value}, where
        else:
            v.report(where, "is not an SSM parameter name or ARN, or {secretsmanager: name or ARN}")
            continue
        if isinstance(entry, str):
            v.report(path, entry)
            continue
        if "${" in entry["reference"]:
            v.report(path, "Copilot filled ${...} from the shell at deploy time: write the name itself")
            continue
        if not _EXTERNAL.match(entry["reference"]) or len(entry["reference"]) > 2048:
            v.report(path, "is not a parameter name or ARN, or a secret name or ARN, that external_secrets takes")
            continue
        v.take(*path)
        out.append({"name": str(name), **entry})
    if out:
        o.put("external_secrets", out[:100], ("secrets",))


def _secrets_manager_reference(text: str) -> dict[str, Any] | str:
    """`name`, `name:json-key::`, an ARN or an ARN with `:json-key::` -> an external secret (or why not)."""
    if text.startswith("arn:"):
        parts = text.split(":")
        base, extra = ":".join(parts[:7]), parts[7:]
    else:
        base, _, rest = text.partition(":")
        extra = rest.split(":") if rest else []
    json_key, *versions = [*extra, "", "", ""][:3]
    if any(versions):
        return "a secret's version stage or version ID: Keel's task reads the secret's current version"
    entry: dict[str, Any] = {"reference": base, "source": "secret"}
    if json_key:
        entry["json_key"] = json_key
    return entry


def _placement(v: View, o: _Instance, kind: str) -> None:
    placement = v.peek("network", "vpc", "placement")
    if isinstance(placement, str) and placement in ("public", "private"):
        o.put("subnet_type", v.take("network", "vpc", "placement"), ("network", "vpc", "placement"))
    elif isinstance(placement, Mapping):
        v.report(("network", "vpc", "placement"), REASONS["network.vpc.placement.subnets"])
    elif placement is not MISSING:
        v.report(("network", "vpc", "placement"), "placement is public or private")
    elif kind in (LBWS, BACKEND, JOB):
        o.put("subnet_type", "public")  # Copilot's default; Keel's worker default (private) is Copilot's too


def _logging(v: View, o: _Instance) -> None:
    logging = v.peek("logging")
    if not isinstance(logging, Mapping):
        if logging is not MISSING:
            v.report(("logging",), "logging is a map")
        return
    retention = logging.get("retention")
    if retention is not None:
        if _whole(retention) and int(retention) in _RETENTION:
            v.take("logging", "retention")
            o.put("log_retention_days", int(retention), ("logging", "retention"))
        else:
            v.report(("logging", "retention"), "is not a retention CloudWatch Logs takes (1, 3, 5, 7, 14, 30, 60, "
                     "90, ... days)")
    if any(k != "retention" for k in logging):
        o.put("firelens", True, ("logging",))
        v.notes.append(f"{v.label}: logging: the FireLens sidecar is on (firelens: true); it writes to the service's "
                       "own log group")


def _deployment(v: View, o: _Instance, kind: str) -> None:
    rolling = v.peek("deployment", "rolling")
    if rolling == "recreate":
        v.take("deployment", "rolling")
        o.put("deployment", {"min_healthy_percent": 0, "max_healthy_percent": 100}, ("deployment", "rolling"))
    elif rolling == "default":
        v.take("deployment", "rolling")
    alarms = v.peek("deployment", "rollback_alarms")
    if alarms is not MISSING and alarms:
        o.put("deployment", {**o.spec.get("deployment", {}), "alarm_rollback": True},
            ("deployment", "rollback_alarms"))
        v.report(("deployment", "rollback_alarms"), REASONS["deployment.rollback_alarms"] +
                 ": alarm_rollback is on")


def _http(v: View, o: _Instance, kind: str) -> None:
    http = v.peek("http")
    if http is False:
        v.take("http")
        return
    if not isinstance(http, Mapping):
        if http is not MISSING and http is not True:
            v.report(("http",), "http is false or a map")
        return
    path = http.get("path")
    if isinstance(path, str):
        v.take("http", "path")
        cleaned = path.strip("/")
        o.put("path_pattern", "/*" if not cleaned else f"/{cleaned}*", ("http", "path"))
        if cleaned:
            v.notes.append(f"{v.label}: http.path {path!r} -> path_pattern /{cleaned}* (Copilot matched /{cleaned} and "
                           f"/{cleaned}/*)")
    health = http.get("healthcheck")
    if isinstance(health, str):
        if health.startswith("/"):
            o.put("health_check_path", v.take("http", "healthcheck"), ("http", "healthcheck"))
        else:
            v.report(("http", "healthcheck"), "is not a URL path (starting with /)")
    elif isinstance(health, Mapping):
        if isinstance(health.get("path"), str) and health["path"].startswith("/"):
            o.put("health_check_path", v.take("http", "healthcheck", "path"), ("http", "healthcheck", "path"))
        grace = health.get("grace_period")
        if grace is not None:
            seconds = _seconds(grace)
            if seconds is not None:
                v.take("http", "healthcheck", "grace_period")
                o.put("health_check_grace_seconds", int(seconds), ("http", "healthcheck", "grace_period"))
            else:
                v.report(("http", "healthcheck", "grace_period"), "is not a whole number of seconds (such as 45s)")
    alias = http.get("alias")
    names = _aliases(alias)
    if names:
        first = names[0]
        if _HOST.match(first) and len(first) <= 128:
            v.take("http", "alias")
            o.put("host_header", first, ("http", "alias"))
            if len(names) > 1:
                v.report(("http", "alias"), f"one host name per listener rule: {first} is mapped, "
                         f"{', '.join(names[1:])} are not")
            if isinstance(alias, list) and any(isinstance(a, Mapping) and "hosted_zone" in a for a in alias):
                for n, a in enumerate(alias):
                    if isinstance(a, Mapping) and "hosted_zone" in a:
                        v.report(("http", "alias", n, "hosted_zone"), REASONS["http.hosted_zone"])
        else:
            v.report(("http", "alias"), "is not a host name the listener rule takes")
    elif alias is not MISSING and alias is not None:
        v.report(("http", "alias"), "is not a host name, a list of them or a list of {name, hosted_zone}")
    if kind == RDWS and http.get("private") is not None:
        v.report(("http", "private"), "App Runner's private ingress: the environment's shared load balancer is "
                 "internal with load_balancer.internet_facing false")


def _aliases(alias: object) -> list[str]:
    if isinstance(alias, str) and alias:
        return [alias]
    if isinstance(alias, list):
        names = [a if isinstance(a, str) else a.get("name") if isinstance(a, Mapping) else None for a in alias]
        return [n for n in names if isinstance(n, str)] if all(isinstance(n, str) for n in names) else []
    return []


def _nlb(v: View, o: _Instance) -> None:
    nlb = v.peek("nlb")
    if not isinstance(nlb, Mapping):
        return
    http = v.peek("http")
    if http is not False and http is not MISSING and http is not None:
        v.report(("nlb",), "an instance has one load balancer in Keel: the ALB rule (http) is mapped, the "
                 "Network Load Balancer is not")
        return
    port_text = str(nlb.get("port", ""))
    number, _, protocol = port_text.partition("/")
    container = o.spec.get("port")
    digits = re.fullmatch(r"[0-9]{1,5}", number) is not None  # int() refuses some digits str.isdigit() takes
    if protocol.lower() in ("", "tcp") and digits and (container is None or int(number) == container):
        v.take("nlb", "port")
        o.put("loadbalancer_type", "network", ("nlb", "port"))
        if container is None:
            o.put("port", int(number), ("nlb", "port"))
    elif protocol.lower() in ("", "tcp") and digits:
        v.take("nlb", "port")
        o.put("loadbalancer_type", "network", ("nlb", "port"))
        v.report(("nlb", "port"), f"Keel's Network Load Balancer listens on the container port ({container}), "
                 f"not {number}")
    else:
        o.put("loadbalancer_type", "network", ("nlb", "port"))
        v.report(("nlb", "port"), f"Keel's Network Load Balancer has one TCP listener on the container port "
                 f"({container}): {port_text} is not carried over")
    if http is False:
        v.take("http")


def _connect(v: View, o: _Instance, kind: str) -> None:
    connect = v.peek("network", "connect")
    if connect is True or isinstance(connect, Mapping):
        v.take("network", "connect") if connect is True else v.take("network", "connect", "enabled")
        if o.spec.get("discovery") != "none" or kind == LBWS:
            o.put("discovery", "service-connect", ("network", "connect"))
    elif connect is False:
        v.take("network", "connect")
        if o.spec.get("discovery") != "none":
            o.put("discovery", "cloud-map", ("network", "connect"))
    elif o.spec.get("discovery") != "none" and "port" in o.spec:
        o.put("discovery", "cloud-map")  # Copilot registered every service in Cloud Map


def _pipeline_stages(view: View) -> tuple[list[str], list[str]]:
    """The pipeline's stages as Keel environment names, in order, and those that require an approval."""
    stages: list[str] = []
    approvals: list[str] = []
    listed = view.peek("stages")
    for n, stage in enumerate(listed if isinstance(listed, list) else []):
        if not isinstance(stage, Mapping) or not isinstance(stage.get("name"), str):
            view.report(("stages", n), "a stage is a map with the environment's name")
            continue
        view.take("stages", n, "name")
        env = _slug(stage["name"])
        if env in stages:
            view.report(("stages", n), "the environment is a stage already")
            continue
        stages.append(env)
        if view.take("stages", n, "requires_approval") is True:
            approvals.append(env)
    return stages, approvals


def _count(v: View, o: _Instance, kind: str) -> None:
    count = v.peek("count")
    if _whole(count):
        _fixed_count(v, o, kind, int(count))
        return
    if not isinstance(count, Mapping):
        if count is not MISSING:
            v.report(("count",), "count is a number or a map")
        return
    scaling: dict[str, Any] = {}
    spot = count.get("spot")
    if _whole(spot) and "range" not in count:
        tasks = max(int(spot), 1)  # type: ignore[arg-type]  # _whole said so
        o.put("desired_count", tasks, ("count", "spot"))
        o.put("scaling", {"min_tasks": tasks, "max_tasks": tasks}, ("count", "spot"))
    _count_range(v, o, kind, count, scaling)
    if kind == WORKER:
        _queue_scaling(v, count, scaling)
    else:
        _service_scaling(v, o, kind, count, scaling)
    if scaling:
        o.put("scaling", {**o.spec.get("scaling", {}), **scaling}, ("count",))


def _fixed_count(v: View, o: _Instance, kind: str, n: int) -> None:
    """`count: <n>`: that many tasks, always."""
    v.take("count")
    if n < 1:
        v.report(("count",), "Keel runs at least one task (worker-fargate-svc scales to 0 with count.range)")
        return
    o.put("desired_count", n, ("count",))
    o.put("scaling", {"min_tasks": n if kind != WORKER else min(n, 1000), "max_tasks": n}, ("count",))


def _count_range(v: View, o: _Instance, kind: str, count: Mapping[str, Any], scaling: dict[str, Any]) -> None:
    """`count.range` (`n-m` or `{min, max}`): the scaling bounds, and the desired count at the low end."""
    low_high = _range(count.get("range"))
    if low_high:
        low, high = low_high
        if kind == WORKER:
            low = max(low, 0)
        if (low >= (0 if kind == WORKER else 1)) and high >= max(low, 1) and high <= 1000:
            for key in ("min", "max") if isinstance(count.get("range"), Mapping) else ():
                v.take("count", "range", key)
            if not isinstance(count.get("range"), Mapping):
                v.take("count", "range")
            scaling.update({"min_tasks": low, "max_tasks": high})
            o.put("desired_count", max(low, 1), ("count", "range"))
        else:
            v.report(("count", "range"), "is not a range Keel scales in (1-1000 tasks; a worker from 0)")
    elif count.get("range") is not None:
        v.report(("count", "range"), "is not a range n-m or {min, max}")


def _queue_scaling(v: View, count: Mapping[str, Any], scaling: dict[str, Any]) -> None:
    """A worker scales on its queue's backlog: `count.queue_delay`, and no CPU or memory target."""
    delay = count.get("queue_delay")
    if isinstance(delay, Mapping):
        latency, processing = _seconds(delay.get("acceptable_latency")), _seconds(delay.get("msg_processing_time"))
        if latency and processing:
            v.take("count", "queue_delay", "acceptable_latency")
            v.take("count", "queue_delay", "msg_processing_time")
            scaling["messages_per_task"] = max(1, min(100000, int(latency // processing)))
    if count.get("cpu_percentage") is not None:
        v.report(("count", "cpu_percentage"), "worker-fargate-svc scales on the queue's backlog, not CPU")
    if count.get("memory_percentage") is not None:
        v.report(("count", "memory_percentage"), "worker-fargate-svc scales on the queue's backlog, not memory")


def _service_scaling(v: View, o: _Instance, kind: str, count: Mapping[str, Any], scaling: dict[str, Any]) -> None:
    """A service scales on CPU (`count.cpu_percentage`), a load-balanced one also on requests per task."""
    cpu = count.get("cpu_percentage")
    value = cpu.get("value") if isinstance(cpu, Mapping) else cpu
    if _whole(value) and 10 <= int(value) <= 95:  # type: ignore[arg-type]
        v.take("count", "cpu_percentage") if not isinstance(cpu, Mapping) else \
            v.take("count", "cpu_percentage", "value")
        scaling["target_cpu_percent"] = int(value)  # type: ignore[arg-type]
    elif value is not None:
        v.report(("count", "cpu_percentage"), "is not a CPU target from 10 to 95 percent")
    requests = count.get("requests")
    value = requests.get("value") if isinstance(requests, Mapping) else requests
    if value is not None:
        if kind == LBWS and _whole(value) and 1 <= int(value) <= 1000000:
            v.take("count", "requests") if not isinstance(requests, Mapping) else \
                v.take("count", "requests", "value")
            o.put("target_requests_per_task", int(value), ("count", "requests"))
        elif kind == BACKEND:
            v.report(("count", "requests"), "backend-fargate-svc has no load balancer to count requests: it "
                     "scales on CPU")
        else:
            v.report(("count", "requests"), "is not a request count from 1 to 1000000")


def _range(value: object) -> tuple[int, int] | None:
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]+)\s*-\s*([0-9]+)\s*", value)
        return (int(match[1]), int(match[2])) if match else None
    if isinstance(value, Mapping) and _whole(value.get("min")) and _whole(value.get("max")):
        return int(value["min"]), int(value["max"])
    return None


def _rdws(v: View, o: _Instance) -> None:
    count = v.peek("count")
    if count is not MISSING:
        v.report(("count",), "App Runner's auto scaling configuration has no Fargate equivalent: the service "
                 "runs the template's default scaling")
    v.report(("instance_role",), "the task role is the template's own, granted what the instance uses")


def _worker_queue(v: View, o: _Instance) -> None:
    queue = v.peek("subscribe", "queue")
    if not isinstance(queue, Mapping):
        return
    out: dict[str, Any] = {}
    timeout = _seconds(queue.get("timeout"))
    if timeout is not None and 0 <= timeout <= 43200:
        v.take("subscribe", "queue", "timeout")
        out["visibility_timeout_seconds"] = int(timeout)
    retention = _seconds(queue.get("retention"))
    if retention is not None and retention % 86400 == 0 and 1 <= retention // 86400 <= 14:
        v.take("subscribe", "queue", "retention")
        out["retention_days"] = int(retention // 86400)
    elif retention is not None:
        v.report(("subscribe", "queue", "retention"), "worker-fargate-svc keeps messages whole days (1-14)")
    tries = get_path(queue, ("dead_letter", "tries"))
    if _whole(tries) and 1 <= int(tries) <= 1000:
        v.take("subscribe", "queue", "dead_letter", "tries")
        out["max_receive_count"] = int(tries)
    if out:
        o.put("queue", out, ("subscribe", "queue"))


def _schedule(v: View, o: _Instance) -> None:
    schedule = v.peek("on", "schedule")
    if schedule is MISSING:
        return
    if isinstance(schedule, str) and schedule.strip().lower() == "none":
        v.take("on", "schedule")
        o.put("enabled", False, ("on", "schedule"))
        v.notes.append(f"{v.label}: on.schedule none: the schedule is created disabled (enabled: false)")
        return
    try:
        expression = convert_schedule(str(schedule))
    except ScheduleError as exc:
        v.report(("on", "schedule"), f"has no EventBridge Scheduler equivalent: {exc}")
        return
    v.take("on", "schedule")
    o.put("schedule_expression", expression, ("on", "schedule"))


def _job_run(v: View, o: _Instance) -> None:
    """A job's timeout and retries of a failed run: scheduled-fargate-svc 1.1 runs it through Step Functions."""
    timeout = v.peek("timeout")
    if timeout is not MISSING:
        seconds = _seconds(timeout)
        if seconds is not None and 1 <= seconds <= 31536000 and seconds == int(seconds):
            o.put("timeout_seconds", int(seconds), ("timeout",))
            v.take("timeout")
        else:
            v.report(("timeout",), REASONS["timeout"])
    retries = v.peek("retries")
    if retries is not MISSING:
        if _whole(retries) and 0 <= int(str(retries)) <= 10:
            o.put("retries", int(str(retries)), ("retries",))
            v.take("retries")
        else:
            v.report(("retries",), REASONS["retries"])


def _topics(v: View, o: _Instance, names: Mapping[str, str]) -> None:
    """subscribe.topics -> worker-fargate-svc 1.1 topics: another service's sns-topic component, by the Keel names
    of that service and topic (the spec layer checks the service has an instance in the environment)."""
    topics = v.peek("subscribe", "topics")
    if not isinstance(topics, list):
        if topics is not MISSING and topics is not None:
            v.report(("subscribe", "topics"), "subscribe.topics is a list of {name, service}")
        return
    out: list[dict[str, Any]] = []
    for n, topic in enumerate(topics):
        where: Path_ = ("subscribe", "topics", n)
        if not isinstance(topic, Mapping) or not isinstance(topic.get("name"), str) or \
                not isinstance(topic.get("service"), str):
            v.report(where, "a topic is a map with name and service")
            continue
        service = names.get(topic["service"], _slug(topic["service"]))
        entry: dict[str, Any] = {"service": service, "name": _slug(topic["name"])}
        v.take(*where, "name")
        v.take(*where, "service")
        policy = topic.get("filter_policy")
        if isinstance(policy, Mapping) and policy:
            entry["filter_policy"] = dict(policy)
            v.take(*where, "filter_policy")
        elif policy is not None:
            v.report((*where, "filter_policy"), "a filter policy is a map of message attributes")
        out.append(entry)
        if entry["name"] != topic["name"]:
            v.notes.append(f"{v.label}: topic {topic['name']!r} of {topic['service']} is the component "
                           f"{entry['name']!r} in Keel (names are lower-case letters, digits and hyphens)")
    if out:
        o.put("topics", out[:20], ("subscribe", "topics"))


def _publish(v: View, o: _Instance) -> None:
    """publish.topics -> the instance's sns-topic components (issue 17), which workers subscribe to by name."""
    topics = v.peek("publish", "topics")
    if not isinstance(topics, list):
        return  # anything else is reported from REASONS["publish"]
    for n, topic in enumerate(topics):
        where: Path_ = ("publish", "topics", n)
        if not isinstance(topic, Mapping) or not isinstance(topic.get("name"), str) or not topic["name"].strip():
            v.report(where, "a topic is a map with a name")
            continue
        name = _slug(topic["name"])
        if any(c["name"] == name for c in o.components):
            v.report((*where, "name"), f"is a second topic named {name} in Keel (names are lower-case letters, "
                     "digits and hyphens)")
            continue
        v.take(*where, "name")
        o.add_component({"kind": "sns-topic", "name": name}, ("manifest", (*where, "name")))
        if name != topic["name"]:
            v.notes.append(f"{v.label}: topic {topic['name']!r} is the sns-topic component {name!r} in Keel (names "
                           "are lower-case letters, digits and hyphens)")


def _map_static(v: View, o: _Instance, service: str, relocate: Callable[[str], str]) -> None:
    """A Static Site -> static-site-svc: its files' folders (relative to the platform file), alias and certificate."""
    v.take("name")
    v.take("type")
    v.label = f"service {service}"
    alias = v.peek("http", "alias")
    if isinstance(alias, str) and alias:
        v.take("http", "alias")
        o.put("alias", alias.lower(), ("http", "alias"))
    elif alias is not MISSING:
        v.report(("http", "alias"), "static-site-svc takes one host name as alias")
    certificate = v.peek("http", "certificate")
    if isinstance(certificate, str) and _CERT.match(certificate) and certificate.split(":")[3] == "us-east-1":
        o.put("certificate_arn", v.take("http", "certificate"), ("http", "certificate"))
    elif certificate is not MISSING:
        v.report(("http", "certificate"), "is not an ACM certificate ARN in us-east-1, where CloudFront reads "
                 "certificates")
    if "alias" in o.spec and "certificate_arn" not in o.spec:
        o.spec.pop("alias")
        v.taken.remove(("http", "alias"))
        v.report(("http", "alias"), "static-site-svc serves an alias only with its certificate (http.certificate, an "
                 "ACM certificate in us-east-1): the site is served on its *.cloudfront.net name")
    files = v.peek("files")
    if not isinstance(files, list):
        if files is not MISSING:
            v.report(("files",), "files is a list of {source, destination}")
        return
    out: list[dict[str, Any]] = []
    for n, entry in enumerate(files):
        where: Path_ = ("files", n)
        if not isinstance(entry, Mapping) or not isinstance(entry.get("source"), str) or not entry["source"].strip():
            v.report(where, "a files entry is a map with a source folder")
            continue
        if _escapes(entry["source"].strip()):
            v.report((*where, "source"), "leads outside the workspace (an absolute path or ..): static-site-svc "
                     "uploads folders inside the repository only")
            continue
        if entry.get("recursive") is False:
            v.report(where, "recursive: false uploads one file; static-site-svc uploads folders (recursively)")
            continue
        mapped: dict[str, Any] = {"source": relocate(entry["source"].strip())}
        v.take(*where, "source")
        if entry.get("recursive") is True:
            v.take(*where, "recursive")
        destination = entry.get("destination")
        if isinstance(destination, str):
            prefix = "/" + "/".join(p for p in destination.split("/") if p and p != ".")
            if re.fullmatch(r"/([A-Za-z0-9_.-]+/?)*", prefix):
                mapped["destination"] = prefix
                v.take(*where, "destination")
        for copilot, keel in (("exclude", "exclude"), ("reinclude", "include")):
            value = entry.get(copilot)
            if isinstance(value, str) and value:
                mapped[keel] = [value]
                v.take(*where, copilot)
            elif isinstance(value, list) and value and all(isinstance(x, str) and x for x in value):
                mapped[keel] = list(value)
                v.take(*where, copilot)
        out.append(mapped)
    if out:
        o.put("files", out[:20], ("files",))


# --- helpers -----------------------------------------------------------------------------------------
def _whole(value: object) -> TypeGuard[int | float]:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value == int(value)
    return isinstance(value, str) and bool(re.fullmatch(r"\s*[0-9]+\s*", value))  # int() refuses "²", a digit


def _seconds(value: object) -> float | None:
    if _whole(value):
        return float(str(value))
    if isinstance(value, str):
        try:
            return parse_duration(value.strip())
        except ValueError:
            return None
    return None


def _escapes(path: str) -> bool:
    """A workspace-relative path that leaves the workspace: absolute (`/etc`, `C:`), or climbing out with `..`."""
    normal = posixpath.normpath(path.replace("\\", "/"))
    return normal.startswith("/") or normal == ".." or normal.startswith("../") or re.match(r"^[A-Za-z]:", normal) \
        is not None or "\0" in path


def _cidr_ok(value: object, low: int, high: int) -> bool:
    match = _CIDR.match(value) if isinstance(value, str) else None
    if match is None:
        return False
    return all(int(x) <= 255 for x in match.groups()[:4]) and low <= int(match.group(5)) <= high


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"x-{slug}".strip("-")
    return slug[:40].rstrip("-")


def _service_name(raw: str, registry: Registry, taken: set[str]) -> str:
    from keel.spec.loader import reserved_service_names

    name = _slug(raw)
    if name in reserved_service_names(registry):
        name = f"{name}-svc"
    base, n = name, 2
    while name in taken:
        name = f"{base[:36]}-{n}"
        n += 1
    return name


# --- entry points ----------------------------------------------------------------------------------
def import_copilot(root: Path, *, environments: Sequence[str] = (), connection_arn: str | None = None,
                   region: str | None = None, registry: Registry | None = None, out: Path | None = None,
                   report: Path | None = None) -> ImportResult:
    """Map the workspace at `root`; raises CopilotImportError when it cannot be read at all. `out` is where the
    platform file goes (default: the workspace root): a Static Site's folders are written relative to it.
    `report` (the Markdown report's file) is only checked here: never the platform file, never in copilot/."""
    check_outputs(root, out, report)
    app, manifests = discover(root)
    importer = _Importer(root, registry or default_registry(), environments, connection_arn, region, out)
    return importer.run(app, manifests)


def check_outputs(root: Path, out: Path | None, report: Path | None) -> None:
    """Refused before anything is read: an output that is a folder, that is the other output, or that is inside
    copilot/ (the next import would read it as a manifest or an add-on)."""
    copilot = (root / "copilot").resolve()
    for option, path in (("--out", out), ("--report", report)):
        if path is None:
            continue
        if path.is_dir():
            raise CopilotImportError(f"{option} {path}: is a folder (expected the path of a file to write)")
        if path.resolve().is_relative_to(copilot):
            raise CopilotImportError(f"{option} {path}: is inside the workspace's copilot/ folder, which the import "
                                     "reads (expected a path outside copilot/, such as the workspace root)")
    if out is not None and report is not None and out.resolve() == report.resolve():
        raise CopilotImportError(f"--report {report}: is the --out file too (expected another file for the report)")


def render_report_markdown(result: ImportResult, root: Path) -> str:
    lines = [f"# Copilot import report: {root}", ""]
    if result.findings:
        lines += [f"{len(result.findings)} field(s) have no Keel equivalent and were not imported:", "",
                  "| field | value | why |", "|---|---|---|"]
        for f in result.findings:
            where = f"{f.file}:{f.path}" if f.path else f.file
            lines.append(f"| `{where}` | `{_cell(render_value(f.value))}` | {_cell(f.reason)} |")
    else:
        lines.append("Every manifest field was mapped.")
    if result.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in result.notes]
    lines += ["", "## Fields per manifest type", "", "| manifest type | mapped | reported |", "|---|---|---|"]
    for kind, stats in sorted(result.stats.items()):
        lines.append(f"| {kind} | {stats.mapped} | {stats.reported} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def place_manifest(manifest: Path, workspace: Path, *, folder: str | None = None) -> Path:
    """Copy one manifest file into `workspace` where Copilot keeps it, by its `type` (conformance and bench
    build workspaces from loose manifests this way): `copilot/<name>/`, `copilot/environments/<name>/` or
    `copilot/pipelines/<name>/` + `manifest.yml`. `folder` overrides the folder name (to keep several
    manifests of the same name apart)."""
    doc = read_yaml(manifest)
    doc = doc if isinstance(doc, Mapping) else {}
    name = folder or _slug(str(doc.get("name") or manifest.stem))
    kind = doc.get("type")
    if kind == ENVIRONMENT:
        target = workspace / "copilot" / "environments" / name
    elif kind is None and ("stages" in doc or "source" in doc):
        target = workspace / "copilot" / "pipelines" / name
    else:
        target = workspace / "copilot" / name
    target.mkdir(parents=True, exist_ok=True)
    (target / "manifest.yml").write_bytes(manifest.read_bytes())
    (workspace / "copilot" / ".workspace").write_text("application: imported\n", encoding="utf-8")
    return target / "manifest.yml"
