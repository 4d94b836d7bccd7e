"""One stack per service instance; it depends on its environment's stack and nothing else."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from constructs import Construct

from keel.constructs.discovery import DiscoveryParameters
from keel.contract.naming import service_path
from keel.contract.outputs import NetworkOutputs
from keel.spec.model import Environment, Service, ServiceInstance
from keel.stacks.base import KeelStack, keel_tags
from keel.stacks.environment import EnvironmentStack
from keel.stacks.environment_reads import Reader, check_rebuilt, read_environment
from keel.stacks.logical_ids import check_environment_paths, keep_logical_ids
from keel.stacks.overrides import apply_overrides
from keel.templates.components import add_components


class ServiceInstanceStack(KeelStack):
    """What the environment offers is read from the SSM parameters it publishes (and the model), never
    referenced across stacks: the stack's template depends on the platform model only, so it can be synthesized
    without its environment's stack or its siblings. `environment_stack`, when that stack is in the same app:
    the deploy order, and a check that what the service stack reads agrees with what the environment has."""

    def __init__(self, scope: Construct, id_: str, *, service: Service, instance: ServiceInstance,
                 environment: Environment, environment_stack: EnvironmentStack | None = None,
                 env: cdk.Environment | None = None) -> None:
        super().__init__(
            scope, id_, stack_name=instance.stack_name,
            description=f"Keel service {service.name}, instance {instance.name} in {instance.environment} "
                        f"({instance.template.label})",
            termination_protection=environment.production,
            tags=keel_tags(environment=instance.environment, template=instance.template.label,
                           extra={**environment.tags, **service.tags}, service=service.name),
            env=env)
        self.instance = instance
        outputs = read_environment(self, environment)
        if environment_stack is not None:
            self.add_stack_dependency(environment_stack)
        # The registry checked that this environment hands on the outputs class the builder takes.
        assert isinstance(outputs, instance.template.outputs_type)
        self.environment_outputs = outputs
        build = instance.template.load_builder()
        published = build(self, service=service, instance=instance, inputs=instance.inputs, pipeline=service.pipeline,
                          environment=outputs)
        self.outputs: dict[str, str] = dict(published) if isinstance(published, Mapping) else {}
        # components (issue 17): attached to the workload the builder made, whatever the template. A Proton-format
        # environment hands on only its template's Outputs, and the loader refuses components on its services.
        self.components = add_components(self, instance=instance, environment=outputs,
                                         read=Reader(self, environment)) \
            if isinstance(outputs, NetworkOutputs) else []  # read: shared data stores (issue 15)
        if self.outputs:
            DiscoveryParameters(self, "Discovery", prefix=service_path(instance.environment, service.name),
                                values=self.outputs)
        keep_logical_ids(self, environment)  # the IDs CDK derives from the environment's constructs
        if environment_stack is not None:  # after the build: only what it read (looking adds nothing)
            problems = check_rebuilt(environment_stack.outputs, outputs, stack=self)
            problems += check_environment_paths(environment_stack)
            if problems:
                raise TypeError(f"{instance.stack_name}: what the service stack reads of environment "
                                f"{environment.name} differs from the environment: " + "; ".join(problems))
        apply_overrides(self, instance.overrides)  # last: overrides may address anything above
