"""The serverless services every environment template composes: the event bus and the config plane.

Usage from an environment template's builder (vpc-env, ecs-env, eks-env...):

    key, network = build_network(scope, environment=environment, inputs=inputs)
    services = build_platform_services(scope, environment=environment, key=key.key, event_bus=..., config=...)
    return NetworkOutputs(..., bus=services.bus, config=services.config_outputs,
                              discovery=network_discovery(network) | services.discovery)

`inputs` is the template's inputs dataclass with the fields `event_bus: EventBusInputs` and
`config: ConfigPlaneInputs` (keel.templates.common_inputs), whose schema types are in
keel/templates/platform_services.types.yaml (copy them into the new schema version; call
`check_platform_services` from the inputs' `check`). Each group is on by default; a disabled or absent
group yields None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from keel.constructs.common import RETENTION, removal_policy
from keel.constructs.config_plane import ConfigPlane, DeclaredParameter, DeclaredSecret
from keel.constructs.event_bus import EventBus
from keel.constructs.function import code_for
from keel.contract.naming import environment_path
from keel.contract.outputs import ConfigPlaneOutputs
from keel.spec.model import Environment
from keel.templates import acknowledgements
from keel.templates.common_inputs import ConfigPlaneInputs, EventBusInputs

# The rotation function is Keel's own code: lambda_src/secret_rotation/handler.py.
ROTATION_SOURCE = "secret_rotation"
ROTATION_HANDLER = "handler.handler"
PLATFORM_RUNTIME = lambda_.Runtime.PYTHON_3_13
PLATFORM_ARCHITECTURE = lambda_.Architecture.ARM_64
PLATFORM_LOG_RETENTION_DAYS = 90


@dataclass(frozen=True)
class PlatformServices:
    event_bus: EventBus | None
    config: ConfigPlane | None
    archive_retention_days: int | None = None
    discovery: dict[str, str] = field(default_factory=dict)

    @property
    def bus(self) -> events.IEventBus | None:
        return self.event_bus.bus if self.event_bus else None

    @property
    def config_outputs(self) -> ConfigPlaneOutputs | None:
        return ConfigPlaneOutputs(prefix=environment_path(self.config.environment)) if self.config else None


def build_platform_services(scope: Construct, *, environment: Environment, key: kms.IKey,
                            event_bus: EventBusInputs | None, config: ConfigPlaneInputs | None) -> PlatformServices:
    """Compose the bus (construct id "EventBus") and the config plane ("Config") into `scope`.

    Inputs of a template version without the groups (vpc-env 1.0 and 1.1, ecs-env 1.0, eks-env 1.0) get
    neither."""
    policy = removal_policy(production=environment.production)
    bus_in, config_in = event_bus, config
    plane = None
    bus = None
    discovery: dict[str, str] = {}
    if bus_in is not None and bus_in.enabled:
        bus = EventBus(
            scope, "EventBus", environment=environment.name, key=key,
            encrypt_with_key=bus_in.encryption == "environment-key",
            archive_retention=Duration.days(bus_in.archive_retention_days) if bus_in.archive_retention_days else None,
            schema_discovery=bus_in.schema_discovery, publisher_accounts=bus_in.publisher_accounts,
            publisher_organization_id=bus_in.publisher_organization_id,
            event_log_retention=RETENTION[bus_in.log_retention_days] if bus_in.log_all_events else None,
            removal_policy=policy)
        discovery |= bus.discovery()
    if config_in is not None and config_in.enabled:
        plane = ConfigPlane(
            scope, "Config", environment=environment.name, key=key, parameters=[
                DeclaredParameter(service=p.service, key=p.key, value=p.value, values=p.values,
                                  description=p.description) for p in config_in.parameters],
            secrets=[
                DeclaredSecret(service=s.service, key=s.key, description=s.description, username=s.username,
                               length=s.length, exclude_punctuation=s.exclude_punctuation,
                               rotate=s.rotation == "generic", rotation_days=s.rotation_days)
                for s in config_in.secrets],
            rotation_code=code_for(ROTATION_SOURCE), rotation_handler=ROTATION_HANDLER,
            runtime=PLATFORM_RUNTIME, architecture=PLATFORM_ARCHITECTURE,
            log_retention=RETENTION[PLATFORM_LOG_RETENTION_DAYS], removal_policy=policy)
        acknowledgements.config_rotation(plane)
        discovery["config/prefix"] = environment_path(environment.name)
    retention = bus_in.archive_retention_days if bus is not None and bus_in is not None else None
    return PlatformServices(event_bus=bus, config=plane, discovery=discovery, archive_retention_days=retention)
