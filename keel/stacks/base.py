"""What every Keel stack shares: the synthesizer that writes its assembly files, and its tags."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import Stack, Tags
from constructs import Construct

from keel.constructs.assembly_file import KeelSynthesizer


class KeelStack(Stack):
    """A stack with its own `KeelSynthesizer` (so an `AssemblyFile` anywhere in it is written) and its stack
    tags put on its resources in the template too."""

    def __init__(self, scope: Construct, id_: str, *, stack_name: str, description: str, tags: Mapping[str, str],
                 env: cdk.Environment | None = None, termination_protection: bool = False) -> None:
        super().__init__(scope, id_, stack_name=stack_name, description=description, tags=dict(tags), env=env,
                         termination_protection=termination_protection, synthesizer=KeelSynthesizer())
        tag_resources(self)


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
