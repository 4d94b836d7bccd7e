"""Images a service pipeline built, handed to the app as CDK context `keel:image:<service>`. CDK-free.

The service pipeline's deploy step runs `cdk deploy ... -c keel:image:<service>=<image>`; `app.py` picks
those entries out of the context (`from_context`) and the loader validates them (`check_overrides`): the
service exists, its template runs an image (an `image` input), the value is a registry image, and where
an instance runs from the ECR repository Keel creates for it, the image is in that repository.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keel.contract.naming import IMAGE_CONTEXT_PREFIX, image_context_key, repository_name
from keel.spec.errors import Problem

if TYPE_CHECKING:
    from keel.spec.model import Environment, ServiceInstance

CONTEXT_PREFIX = IMAGE_CONTEXT_PREFIX
EXPECTED = ("a registry image: <registry>/<repository>:<tag> or <registry>/<repository>@sha256:<64 hex digits>, "
            "e.g. 111111111111.dkr.ecr.eu-west-1.amazonaws.com/checkout:3f2a1b4c5d6e")

# The OCI distribution grammar, with the registry host required (a name such as `nginx:1` would be
# resolved against Docker Hub: a pipeline always pushes to a registry it names).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    r"^(?P<registry>(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
    r"(?::[0-9]+)?|localhost(?::[0-9]+)?)"
    rf"/(?P<repository>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$")
_ECR = re.compile(r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?P<china>\.cn)?$")


def context_key(service: str) -> str:
    """The context key the service pipeline sets and app.py reads: one place (keel.contract.naming), so the two
    cannot drift."""
    return image_context_key(service)


def from_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """{service: value} for every `keel:image:<service>` entry of the CDK context (values unchecked)."""
    return {key[len(CONTEXT_PREFIX):]: value for key, value in context.items()
            if isinstance(key, str) and key.startswith(CONTEXT_PREFIX)}


@dataclass(frozen=True)
class ImageReference:
    """A registry image: `registry/repository` and a tag, a digest, or both."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> ImageReference | None:
        found = _REFERENCE.match(text)
        if found is None or not (found["tag"] or found["digest"]):
            return None
        return cls(registry=found["registry"], repository=found["repository"], tag=found["tag"],
                   digest=found["digest"])

    def __str__(self) -> str:
        return (f"{self.registry}/{self.repository}" + (f":{self.tag}" if self.tag else "")
                + (f"@{self.digest}" if self.digest else ""))

    @property
    def tag_or_digest(self) -> str:
        """What an ECR repository's URI takes after it: the digest when there is one (it pins the image)."""
        return self.digest or str(self.tag)

    @property
    def ecr(self) -> tuple[str, str, str] | None:
        """(account, region, partition) when the registry is an ECR private registry."""
        found = _ECR.match(self.registry)
        if found is None:
            return None
        return found["account"], found["region"], "aws-cn" if found["china"] else "aws"


def resolve_overrides(overrides: Mapping[str, Any], services: Sequence[Any], *,
                      environments: Mapping[str, Any]) -> tuple[dict[str, ImageReference], list[Problem]]:
    """({service: image} for the good overrides, the problems with the others).

    `services` are the loaded `Service`s; `environments` maps names to `Environment`s (account/region).
    """
    by_name = {s.name: s for s in services}
    images: dict[str, ImageReference] = {}
    problems: list[Problem] = []
    for name, value in sorted(overrides.items()):
        where = f"context {context_key(name)}"
        service = by_name.get(name)
        if service is None:
            problems.append(Problem(where, "", f"unknown service \"{name}\"", expected="a service of the platform: "
                                    + (", ".join(sorted(by_name)) or "none are defined")))
            continue
        if "image" not in service.template.input_schema.properties():
            problems.append(Problem(where, "", f"service \"{name}\" ({service.template.label}) runs no container "
                                               "image: its template has no image input", value,
                                    f"no {context_key(name)} entry: only services of container templates take one"))
            continue
        image = ImageReference.parse(value) if isinstance(value, str) else None
        if image is None:
            problems.append(Problem(where, "", "is not a registry image", value, EXPECTED))
            continue
        wrong = [p for i in service.instances
                 if (p := _repository_problem(image, name, i, environments.get(i.environment))) is not None]
        problems += [Problem(where, "", message, value, expected) for message, expected in wrong]
        if not wrong:
            images[name] = image
    return images, problems


def _repository_problem(image: ImageReference, service: str, instance: ServiceInstance,
                        environment: Environment | None) -> tuple[str, str] | None:
    """An instance that runs from its own ECR repository must get an image from that repository."""
    ecr_repository = getattr(instance.inputs, "ecr_repository", None)
    if ecr_repository is None or not ecr_repository.enabled:
        return None
    wanted = repository_name(service, instance.name)
    account = getattr(environment, "account", None)
    region = getattr(environment, "region", None)
    registry = f"{account or '<account>'}.dkr.ecr.{region or '<region>'}.amazonaws.com"
    found = image.ecr
    same = (found is not None and image.repository == wanted
            and (account is None or found[0] == account) and (region is None or found[1] == region))
    if same:
        return None
    return (f"instance \"{instance.name}\" runs from the ECR repository Keel creates for it "
            f"(ecr_repository.enabled), and this image is not in it",
            f"an image in {registry}/{wanted}")
