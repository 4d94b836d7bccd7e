"""platform.yaml `delivery:`: the deploy pipeline, service pipelines and the destructive-change allow-list.

Optional as a whole and in every part, so a platform without it stays small. CDK-free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from keel.contract.naming import stack_name
from keel.spec.errors import MISSING, Problems
from keel.spec.model import (
    Delivery,
    DeployPipeline,
    Environment,
    Service,
    ServicePipeline,
    SourceRepository,
)

_CONNECTION = {"type": "string",
               "pattern": "^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:"
                          "connection/[A-Za-z0-9-]+$"}
_REPOSITORY = {"type": "string", "pattern": "^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+$", "maxLength": 200}
_BRANCH = {"type": "string", "minLength": 1, "maxLength": 250}
_NAMES = {"type": "array", "uniqueItems": True, "items": {"type": "string"}}
DEFAULT_BRANCH = "main"

DELIVERY_SCHEMA: Mapping[str, Any] = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "account": {"type": "string", "pattern": "^[0-9]{12}$"},
        "region": {"type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]$"},
        "source": {"type": "object", "additionalProperties": False, "required": ["connection_arn", "repository"],
                   "properties": {"connection_arn": _CONNECTION, "repository": _REPOSITORY, "branch": _BRANCH}},
        "pipeline": {"type": "object", "additionalProperties": False,
                     "properties": {"stages": {**_NAMES, "minItems": 1}, "approvals": _NAMES}},
        "service_pipelines": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["service", "repository"],
            "properties": {"service": {"type": "string"}, "repository": _REPOSITORY, "branch": _BRANCH,
                           "connection_arn": _CONNECTION, "approvals": _NAMES}}},
        "allow_destructive": {"type": "array", "items": {"type": "string", "minLength": 1}},
    },
}
# What a service pipeline reads from a service's Proton pipeline inputs.
CONTAINER_PIPELINE_INPUTS = ("dockerfile", "unit_test_command")


def parse_delivery(raw: Mapping[str, Any], *, file: str, problems: Problems,
                   environments: Sequence[Environment], services: Sequence[Service],
                   declared_environments: Sequence[str]) -> Delivery | None:
    """The structurally valid `delivery:` section -> Delivery; cross references reported to `problems`."""
    before = len(problems.items)
    names = [e.name for e in environments]
    production = {e.name for e in environments if e.production}
    if raw.get("account") and not raw.get("region"):
        problems.add(file, "delivery.region", "is required when account is set", MISSING, "a region such as eu-west-1")
    wants_source = "pipeline" in raw or raw.get("service_pipelines")
    if wants_source and "source" not in raw:
        problems.add(file, "delivery.source", "is required when a pipeline is defined", MISSING,
                     "connection_arn and repository (owner/name) of this platform's repository")
    source = _source(raw["source"]) if "source" in raw else None
    pipeline = None
    if "pipeline" in raw:
        pipeline = _deploy_pipeline(raw["pipeline"] or {}, names, declared_environments, production, file, problems)
    service_pipelines = _service_pipelines(raw.get("service_pipelines") or [], services, names, production, source,
                                           file, problems)
    taken = {e.stack_name for e in environments} | {i.stack_name for s in services for i in s.instances}
    for n, sp in enumerate(service_pipelines):
        if stack_name(sp.service, "pipeline") in taken:
            problems.add(file, f"delivery.service_pipelines[{n}].service",
                         f"the pipeline stack name \"{stack_name(sp.service, 'pipeline')}\" is taken by an instance",
                         sp.service, "no service instance named \"pipeline\"")
    if len(problems.items) > before:
        return None
    # Pipelines live where the platform's connection lives unless the spec says otherwise.
    home = source.connection_arn.split(":") if source else [""] * 5
    account = raw.get("account") or (home[4] or None)
    region = raw.get("region") or (home[3] or None)
    return Delivery(account=account, region=region, source=source, pipeline=pipeline,
                    service_pipelines=tuple(service_pipelines),
                    allow_destructive=tuple(raw.get("allow_destructive") or ()))


def _deploy_pipeline(spec: Mapping[str, Any], names: Sequence[str], declared_environments: Sequence[str],
                     production: set[str], file: str, problems: Problems) -> DeployPipeline:
    stages = tuple(spec.get("stages") or names)
    for n, stage in enumerate(stages):
        if stage not in declared_environments:
            problems.add(file, f"delivery.pipeline.stages[{n}]", f"unknown environment \"{stage}\"",
                         stage, "one of: " + ", ".join(declared_environments))
    approvals = _approvals(spec, stages, production, "delivery.pipeline", file, problems)
    return DeployPipeline(stages=stages, approvals=approvals)


def _service_pipelines(entries: Sequence[Mapping[str, Any]], services: Sequence[Service], names: Sequence[str],
                       production: set[str], source: SourceRepository | None, file: str,
                       problems: Problems) -> list[ServicePipeline]:
    by_name = {s.name: s for s in services}
    seen: set[str] = set()
    service_pipelines = []
    for n, entry in enumerate(entries):
        where = f"delivery.service_pipelines[{n}]"
        service = by_name.get(entry["service"])
        if entry["service"] in seen:
            problems.add(file, f"{where}.service", "has a pipeline already", entry["service"],
                         "one pipeline a service")
        seen.add(entry["service"])
        if service is None:
            problems.add(file, f"{where}.service", f"unknown service \"{entry['service']}\"", entry["service"],
                         "one of: " + (", ".join(by_name) or "no services are defined"))
            continue
        refused = _unbuildable(service)
        if refused is not None:
            problems.add(file, f"{where}.service", refused[0], entry["service"], refused[1])
            continue
        used = {i.environment for i in service.instances}
        stages = tuple(e for e in names if e in used)
        connection = entry.get("connection_arn") or (source.connection_arn if source else "")
        repo = SourceRepository(connection_arn=connection, repository=entry["repository"],
                                branch=entry.get("branch", DEFAULT_BRANCH))
        approvals = _approvals(entry, stages, production, where, file, problems)
        service_pipelines.append(ServicePipeline(service=service.name, source=repo, stages=stages,
                                                 approvals=approvals))
    return service_pipelines


def _unbuildable(service: Service) -> tuple[str, str] | None:
    """(message, expected) when a pipeline could build nothing that this service runs; None when it can."""
    packaged = getattr(service.pipeline, "packaging_command", None)
    if hasattr(service.pipeline, "packaging_command") and not packaged:
        return (f"service \"{service.name}\" ({service.template.label}) sets no pipeline.packaging_command, "
                "so its pipeline would have nothing to deploy",
                "pipeline.packaging_command (it writes function.zip in code_dir)")
    missing = [] if packaged else [f for f in CONTAINER_PIPELINE_INPUTS if not hasattr(service.pipeline, f)]
    if missing:
        return (f"service \"{service.name}\" ({service.template.label}) has no container pipeline inputs",
                "a service template whose pipeline inputs include " + " and ".join(CONTAINER_PIPELINE_INPUTS))
    if not packaged and "image" not in service.template.input_schema.properties():
        return (f"{service.template.label} takes no image input, so the image this pipeline builds "
                "could never run", "a container service template (with an image input)")
    # Windows containers (issue 15): one image runs on one operating system release
    releases = {build_release(getattr(i.inputs, "operating_system_family", "LINUX")): i.name for i in service.instances}
    if len(releases) > 1 and getattr(service.pipeline, "build_operating_system_family", None) is None:
        shown = ", ".join(f"{name} {release}" for release, name in sorted(releases.items()))
        return (f"service \"{service.name}\"'s instances run different operating systems ({shown}), and its "
                "pipeline builds one image", "instances of one operating_system_family release (Core and Full of "
                "the same Windows Server year share images)")
    own_repo = [] if packaged else [i.name for i in service.instances
                if getattr(getattr(i.inputs, "ecr_repository", None), "enabled", False)]
    if own_repo:
        return (f"instance \"{own_repo[0]}\" runs from its own ECR repository (ecr_repository.enabled), "
                "but the pipeline pushes to the pipeline's repository",
                "ecr_repository.enabled: false on every instance of a service with a pipeline")
    return None


def build_release(family: str) -> str:
    """WINDOWS_SERVER_2019_FULL -> WINDOWS_SERVER_2019: the images a task's operating system family runs, and
    the build host that makes them (a Windows image runs only on its own release; LINUX: LINUX)."""
    return family if family == "LINUX" else family.rsplit("_", 1)[0]


def _source(raw: Mapping[str, Any]) -> SourceRepository:
    return SourceRepository(connection_arn=raw["connection_arn"], repository=raw["repository"],
                            branch=raw.get("branch", DEFAULT_BRANCH))


def _approvals(spec: Mapping[str, Any], stages: Sequence[str], production: set[str], where: str, file: str,
               problems: Problems) -> tuple[str, ...]:
    """Environments that wait for a person: given, or every production environment the pipeline deploys."""
    if "approvals" not in spec:
        return tuple(s for s in stages if s in production)
    for n, name in enumerate(spec["approvals"]):
        if name not in stages:
            problems.add(file, f"{where}.approvals[{n}]", f"\"{name}\" is not deployed by this pipeline", name,
                         "one of: " + ", ".join(stages))
    return tuple(spec["approvals"])
