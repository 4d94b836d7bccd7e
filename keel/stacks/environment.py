"""One stack per environment: the template's builder composes the constructs, the stack adds identity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Stack, Tags
from constructs import Construct

from keel.constructs.assembly_file import KeelSynthesizer
from keel.constructs.discovery import DiscoveryParameters
from keel.spec.model import Environment
from keel.stacks.outputs import EnvironmentOutputs


class EnvironmentStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, environment: Environment, **kwargs: Any) -> None:
        super().__init__(
            scope, id_, stack_name=environment.stack_name,
            description=f"Keel environment {environment.name} ({environment.template.label})",
            termination_protection=environment.production,
            tags=keel_tags(environment=environment.name, template=environment.template.label,
                                          extra=environment.tags),
            synthesizer=kwargs.pop("synthesizer", None) or KeelSynthesizer(), **kwargs)
        self.keel_environment = environment
        tag_resources(self)
        build = environment.template.load_builder()
        self.outputs: EnvironmentOutputs = build(self, environment=environment, inputs=environment.inputs)
        DiscoveryParameters(self, "Discovery", prefix=f"/keel/{environment.name}", values=self.outputs.discovery)


def tag_resources(stack: Stack) -> None:
    """Stack tags reach resources only at deploy time; put them in the template too, where tests and
    reviewers (and tag policies run against templates) can see them."""
    for key, value in stack.tags.tag_values().items():
        Tags.of(stack).add(key, value)


def keel_tags(*, environment: str, template: str, extra: Mapping[str, str],
              service: str | None = None) -> dict[str, str]:
    """Stack tags (CloudFormation puts them on every taggable resource): the spec's own, then keel:*,
    which a spec cannot override."""
    tags = {k: v for k, v in sorted(extra.items()) if not k.startswith("keel:")}
    tags["keel:environment"] = environment
    tags["keel:template"] = template
    if service:
        tags["keel:service"] = service
    return tags
