"""One stack per service instance; it depends on its environment's stack and nothing else."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from constructs import Construct

from keel.constructs.discovery import DiscoveryParameters
from keel.contract.naming import service_path
from keel.contract.outputs import NetworkOutputs
from keel.spec.model import Service, ServiceInstance
from keel.stacks.base import KeelStack, keel_tags
from keel.stacks.environment import EnvironmentStack
from keel.stacks.overrides import apply_overrides
from keel.templates.components import add_components


class ServiceInstanceStack(KeelStack):
    def __init__(self, scope: Construct, id_: str, *, service: Service, instance: ServiceInstance,
                 environment: EnvironmentStack, env: cdk.Environment | None = None) -> None:
        super().__init__(
            scope, id_, stack_name=instance.stack_name,
            description=f"Keel service {service.name}, instance {instance.name} in {instance.environment} "
                        f"({instance.template.label})",
            termination_protection=environment.keel_environment.production,
            tags=keel_tags(environment=instance.environment, template=instance.template.label,
                           extra={**environment.keel_environment.tags, **service.tags}, service=service.name),
            env=env)
        self.instance = instance
        self.add_stack_dependency(environment)
        # The registry checked that this environment hands on the outputs class the builder takes.
        assert isinstance(environment.outputs, instance.template.outputs_type)
        build = instance.template.load_builder()
        published = build(self, service=service, instance=instance, inputs=instance.inputs, pipeline=service.pipeline,
                          environment=environment.outputs)
        self.outputs: dict[str, str] = dict(published) if isinstance(published, Mapping) else {}
        # components (issue 17): attached to the workload the builder made, whatever the template. A Proton-format
        # environment hands on only its template's Outputs, and the loader refuses components on its services.
        self.components = add_components(self, instance=instance, environment=environment.outputs) \
            if isinstance(environment.outputs, NetworkOutputs) else []
        if self.outputs:
            DiscoveryParameters(self, "Discovery", prefix=service_path(instance.environment, service.name),
                                values=self.outputs)
        apply_overrides(self, instance.overrides)  # last: overrides may address anything above
