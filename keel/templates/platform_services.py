"""The serverless services every environment template composes: the event bus and the config plane.

Usage from an environment template's builder (vpc-env, ecs-env, eks-env...):

    key, network = build_network(scope, environment=environment, inputs=inputs)
    services = build_platform_services(scope, environment=environment, key=key.key, inputs=inputs)
    return EnvironmentOutputs(..., bus=services.bus_or_none, config=services.config,
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
from constructs import Construct

from keel.constructs.common import RETENTION
from keel.constructs.config_plane import ConfigPlane
from keel.constructs.event_bus import EventBus
from keel.constructs.function import code_for
from keel.spec.model import Environment
from keel.stacks.outputs import removal_policy
from keel.templates import acknowledgements
from keel.templates.common_inputs import ConfigPlaneInputs, EventBusInputs

# The rotation function is Keel's own code: lambda_src/secret_rotation/handler.py.
ROTATION_SOURCE = "secret_rotation"
ROTATION_HANDLER = "handler.handler"
PLATFORM_RUNTIME = "python3.13"
PLATFORM_ARCHITECTURE = "arm64"
PLATFORM_LOG_RETENTION_DAYS = 90


@dataclass(frozen=True)
class PlatformServices:
    event_bus: EventBus | None
    config: ConfigPlane | None
    discovery: dict[str, str] = field(default_factory=dict)

    @property
    def bus(self) -> events.IEventBus | None:
        return self.event_bus.bus if self.event_bus else None


def build_platform_services(scope: Construct, *, environment: Environment, key: kms.IKey,
                            inputs: object) -> PlatformServices:
    """Compose the bus (construct id "EventBus") and the config plane ("Config") into `scope`.

    Inputs of a template version without the groups (vpc-env 1.0 and 1.1, ecs-env 1.0, eks-env 1.0) get
    neither."""
    policy = removal_policy(environment)
    bus_in: EventBusInputs | None = getattr(inputs, "event_bus", None)
    config_in: ConfigPlaneInputs | None = getattr(inputs, "config", None)
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
    config = None
    if config_in is not None and config_in.enabled:
        config = ConfigPlane(
            scope, "Config", environment=environment.name, key=key, parameters=config_in.parameters,
            secrets=config_in.secrets, rotation_code=code_for(ROTATION_SOURCE), rotation_handler=ROTATION_HANDLER,
            runtime=PLATFORM_RUNTIME, architecture=PLATFORM_ARCHITECTURE,
            log_retention=RETENTION[PLATFORM_LOG_RETENTION_DAYS], removal_policy=policy)
        acknowledgements.config_rotation(config)
        discovery["config/prefix"] = f"/keel/{environment.name}"
    return PlatformServices(event_bus=bus, config=config, discovery=discovery)
