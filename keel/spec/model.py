"""The validated platform: frozen, typed, free of CDK. Everything downstream reads only this."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from keel.contract.naming import stack_name
from keel.contract.offers import EnvironmentInputs, Offers
from keel.contract.registry import TemplateRef, TemplateVersion
from keel.spec.components import Component, SharedUse
from keel.spec.images import ImageReference
from keel.spec.proton import Rendered


@dataclass(frozen=True)
class Override:
    """`overrides:` (issue 17): one CloudFormation property of one resource, set after the template built it.
    `where` locates the entry (`platform.yaml:services[web].instances[0].overrides[0]`) for synth errors."""

    resource: str  # a construct path inside the stack, e.g. Default/Service/Service
    path: str  # a property path, e.g. DeploymentConfiguration.MaximumPercent
    value: object
    where: str


@dataclass(frozen=True)
class Environment:
    name: str
    template: TemplateVersion
    pinned: TemplateRef
    inputs: EnvironmentInputs  # the template's frozen inputs dataclass
    account: str | None
    region: str | None
    availability_zones: tuple[str, ...]
    production: bool
    tags: Mapping[str, str]
    source: str  # the file the inputs came from, for messages
    # Proton-format template folders (issue 15)
    #: `stack_name:` in the spec: the CloudFormation stack to take over (one Proton deployed), else keel-<env>.
    pinned_stack_name: str | None = None
    #: A Proton-format template's rendered CloudFormation (placeholders for deploy-time values).
    rendered: Rendered | None = None
    # overrides (issue 17)
    overrides: tuple[Override, ...] = ()
    # shared data stores (issue 15)
    #: `components:` the environment owns for its services to share (`{use: NAME}` on an instance).
    components: tuple[Component, ...] = ()

    @property
    def stack_name(self) -> str:
        return self.pinned_stack_name or stack_name(self.name)

    @property
    def offers(self) -> Offers:
        """What the environment's spec switches on for its services (bus, load balancer, ...)."""
        return self.inputs.offers()

    @property
    def az_count(self) -> int:
        """Explicit AZs, or the two `Fn::GetAZs` gives an environment-agnostic stack."""
        return len(self.availability_zones) or 2


@dataclass(frozen=True)
class ServiceInstance:
    name: str
    service: str
    environment: str
    template: TemplateVersion
    inputs: object  # the template's frozen inputs dataclass (builders and checks take their own type)
    source: str
    # The image a service pipeline built (context `keel:image:<service>`): runs instead of the spec's `image`.
    image_override: ImageReference | None = None
    # Proton-format template folders (issue 15)
    pinned_stack_name: str | None = None
    rendered: Rendered | None = None
    # components and overrides (issue 17)
    components: tuple[Component, ...] = ()
    overrides: tuple[Override, ...] = ()
    # shared data stores (issue 15)
    #: The environment's components the instance uses (`{use: NAME, access: ...}` in its `components:`).
    shared_components: tuple[SharedUse, ...] = ()

    @property
    def stack_name(self) -> str:
        return self.pinned_stack_name or stack_name(self.service, self.name)


@dataclass(frozen=True)
class Service:
    name: str
    template: TemplateVersion
    pinned: TemplateRef
    pipeline: object  # the template's pipeline inputs dataclass, or None
    instances: tuple[ServiceInstance, ...]
    tags: Mapping[str, str]
    source: str


@dataclass(frozen=True)
class SourceRepository:
    """A repository reached through a CodeStar (CodeConnections) connection."""

    connection_arn: str
    repository: str  # owner/name
    branch: str


@dataclass(frozen=True)
class DeployPipeline:
    """The platform's own pipeline: environments deployed in `stages` order, `approvals` gated by a person."""

    stages: tuple[str, ...]
    approvals: tuple[str, ...]


@dataclass(frozen=True)
class ServicePipeline:
    """Builds a service's image from its repository and deploys its instances in environment order."""

    service: str
    source: SourceRepository
    stages: tuple[str, ...]  # the environments that have an instance of the service, in spec order
    approvals: tuple[str, ...]


@dataclass(frozen=True)
class Delivery:
    """platform.yaml `delivery:` (optional): pipelines and the destructive-change allow-list."""

    account: str | None = None
    region: str | None = None
    source: SourceRepository | None = None  # this platform's repository
    pipeline: DeployPipeline | None = None
    service_pipelines: tuple[ServicePipeline, ...] = ()
    allow_destructive: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformModel:
    name: str
    source: str
    environments: tuple[Environment, ...]
    services: tuple[Service, ...]
    delivery: Delivery | None = None
    # Proton-format template folders (issue 15): "report" keeps nag findings of included templates open
    # (listed by `keel report`) instead of failing the synth.
    imported_compliance: str = "fail"
    # What the loader accepted but says (inputs a Proton-layout schema does not name): `keel validate` prints them.
    notes: tuple[str, ...] = field(default=(), compare=False)

    def environment(self, name: str) -> Environment:
        return next(e for e in self.environments if e.name == name)

    @property
    def instances(self) -> tuple[ServiceInstance, ...]:
        return tuple(i for s in self.services for i in s.instances)

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

