"""One stack per service instance; it depends on its environment's stack and nothing else."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from keel.constructs.discovery import DiscoveryParameters
from keel.spec.model import Service, ServiceInstance
from keel.stacks.environment import EnvironmentStack, keel_tags, tag_resources


class ServiceInstanceStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, service: Service, instance: ServiceInstance,
                 environment: EnvironmentStack, **kwargs: Any) -> None:
        super().__init__(
            scope, id_, stack_name=instance.stack_name,
            description=f"Keel service {service.name}, instance {instance.name} in {instance.environment} "
                        f"({instance.template.label})",
            termination_protection=environment.keel_environment.production,
            tags=keel_tags(environment=instance.environment, template=instance.template.label,
                           extra={**environment.keel_environment.tags, **service.tags}, service=service.name),
            **kwargs)
        self.add_stack_dependency(environment)
        tag_resources(self)
        build = instance.template.load_builder()
        self.outputs: dict[str, str] = build(
            self, service=service, instance=instance, inputs=instance.inputs, pipeline=service.pipeline,
            environment=environment.outputs) or {}
        if self.outputs:
            DiscoveryParameters(self, "Discovery", prefix=f"/keel/{instance.environment}/{service.name}",
                                values=self.outputs)
