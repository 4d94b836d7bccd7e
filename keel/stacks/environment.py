"""One stack per environment: the template's builder composes the constructs, the stack adds identity."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from keel.constructs.discovery import DiscoveryParameters
from keel.contract.naming import environment_path
from keel.contract.outputs import NetworkOutputs, ProtonEnvOutputs
from keel.spec.model import Environment
from keel.stacks.base import KeelStack, keel_tags
from keel.stacks.overrides import apply_overrides
from keel.templates.components import add_environment_components


class EnvironmentStack(KeelStack):
    def __init__(self, scope: Construct, id_: str, *, environment: Environment,
                 env: cdk.Environment | None = None) -> None:
        super().__init__(
            scope, id_, stack_name=environment.stack_name,
            description=f"Keel environment {environment.name} ({environment.template.label})",
            termination_protection=environment.production,
            tags=keel_tags(environment=environment.name, template=environment.template.label,
                           extra=environment.tags), env=env)
        self.keel_environment = environment
        build = environment.template.load_builder()
        outputs = build(self, environment=environment, inputs=environment.inputs)
        expected = environment.template.outputs_type
        if not isinstance(outputs, expected):
            raise TypeError(f"{environment.template.builder} returned {type(outputs).__name__}, and "
                            f"{environment.template.label} declares environment_outputs {expected.__name__}")
        self.outputs: NetworkOutputs | ProtonEnvOutputs = outputs
        if outputs.discovery:  # an adopted Proton stack gains no resource beyond its template's (and its outputs'
            # parameters, keel.templates.proton.publish_outputs)
            DiscoveryParameters(self, "Discovery", prefix=environment_path(environment.name),
                                values=outputs.discovery)
        if isinstance(outputs, NetworkOutputs):  # shared data stores (issue 15); the loader refuses them on Proton's
            add_environment_components(self, environment=environment, outputs=outputs)
        apply_overrides(self, environment.overrides)  # overrides (issue 17)

