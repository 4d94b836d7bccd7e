"""kubernetes-svc inputs and cross-field rules. CDK-free: `keel validate` renders and validates the
manifests here, so a spec that would give an invalid Deployment fails before any synth."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from keel.contract.offers import Claim, EksOffers
from keel.contract.problems import InputProblem
from keel.spec.errors import MISSING as MISSING_VALUE
from keel.spec.model import Environment


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    memory_request: str
    cpu_limit: str | None
    memory_limit: str


@dataclass(frozen=True)
class Probes:
    path: str
    initial_delay_seconds: int
    period_seconds: int
    failure_threshold: int


@dataclass(frozen=True)
class Autoscaling:
    enabled: bool
    min_replicas: int
    max_replicas: int
    target_cpu_percent: int


@dataclass(frozen=True)
class DisruptionBudget:
    enabled: bool
    min_available: int


@dataclass(frozen=True)
class EnvironmentVariable:
    name: str
    value: str


@dataclass(frozen=True)
class ConfigReference:
    name: str
    key: str


@dataclass(frozen=True)
class Permission:
    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True)
class Ingress:
    enabled: bool
    path: str
    internet_facing: bool


@dataclass(frozen=True)
class KubernetesSvcInputs:
    image: str
    port: int
    replicas: int
    namespace: str | None
    resources: Resources
    probes: Probes
    autoscaling: Autoscaling
    disruption_budget: DisruptionBudget
    environment_variables: tuple[EnvironmentVariable, ...]
    config: tuple[ConfigReference, ...]
    secrets: tuple[ConfigReference, ...]
    aws_permissions: tuple[Permission, ...]
    placement: str  # cloud | hybrid | anywhere
    ingress: Ingress

    def namespace_for(self, service: str) -> str:
        return self.namespace or service

    @property
    def needs_aws(self) -> bool:
        """The pods call AWS (config plane, secrets, declared permissions): they need a Pod Identity role."""
        return bool(self.config or self.secrets or self.aws_permissions)


def eks_offers(env: Environment) -> EksOffers | None:
    return env.offers.eks


def check(inputs: KubernetesSvcInputs, env: Environment) -> Iterator[InputProblem]:
    eks = eks_offers(env)
    if eks is None:
        yield ("", f"needs eks-env 1.2 or later, and environment \"{env.name}\" is {env.template.label}",
               env.template.label, "an eks-env:1.2 environment (keel upgrade moves it)")
        return
    yield from _check_placement(inputs, env, eks)
    yield from _check_scaling(inputs, eks)
    names: dict[str, str] = {}
    for group in ("environment_variables", "config", "secrets"):
        for i, item in enumerate(getattr(inputs, group)):
            where = f"{group}[{i}].name"
            if item.name in names:
                yield where, f"is also set by {names[item.name]}", item.name, "one source a variable"
            names.setdefault(item.name, where)
    if inputs.ingress.enabled:
        if inputs.placement != "cloud":
            yield "ingress.enabled", f"needs placement cloud (an ALB reaches no {inputs.placement} pods here)", True, \
                "false, or placement cloud"
        elif eks.capacity != "auto_mode":
            yield ("ingress.enabled", f"needs EKS Auto Mode's load balancing, and environment \"{env.name}\" has "
                   f"capacity {eks.capacity} (eks-env 1.2 does not install the AWS Load Balancer Controller)", True,
                   "false, or an environment with capacity auto_mode")


def _check_placement(inputs: KubernetesSvcInputs, env: Environment, eks: EksOffers) -> Iterator[InputProblem]:
    if inputs.placement == "hybrid" and not eks.hybrid_nodes:
        yield "placement", f"is hybrid, and environment \"{env.name}\" has no hybrid nodes", "hybrid", \
            "cloud, or hybrid_nodes.enabled in the environment"
    if inputs.placement == "anywhere":
        if not eks.anywhere_flux:
            yield "placement", f"is anywhere, and environment \"{env.name}\" has no EKS Anywhere cluster with Flux", \
                "anywhere", "cloud, or anywhere.enabled with anywhere.flux in the environment"
        for group in ("config", "secrets", "aws_permissions"):
            if getattr(inputs, group):
                yield group, "needs AWS credentials, and pods on EKS Anywhere have no EKS Pod Identity", \
                    f"{len(getattr(inputs, group))} entries", "none with placement anywhere"
    elif inputs.needs_aws and not eks.pod_identity:
        yield ("placement", f"needs EKS Pod Identity for the service's AWS access, and environment \"{env.name}\" "
               "runs no Pod Identity agent", inputs.placement, "addons.eks_pod_identity_agent in the environment "
               "(not on Fargate), or no config, secrets or aws_permissions")
    if inputs.placement == "cloud" and eks.capacity == "fargate" and inputs.namespace is None:
        yield "namespace", "is needed on Fargate: pods run only in the environment's fargate_namespaces", \
            MISSING_VALUE, "one of the environment's fargate_namespaces"


def _check_scaling(inputs: KubernetesSvcInputs, eks: EksOffers) -> Iterator[InputProblem]:
    scaling = inputs.autoscaling
    if scaling.enabled:
        if scaling.max_replicas < scaling.min_replicas:
            yield "autoscaling.max_replicas", f"is below autoscaling.min_replicas ({scaling.min_replicas})", \
                scaling.max_replicas, f"at least {scaling.min_replicas}"
        if not eks.metrics and inputs.placement != "anywhere":
            yield "autoscaling.enabled", "needs resource metrics, and the environment runs no metrics-server", \
                True, "false, or addons.metrics_server in the environment"
    fewest = scaling.min_replicas if scaling.enabled else inputs.replicas
    budget = inputs.disruption_budget
    if budget.enabled and budget.min_available >= fewest:
        yield "disruption_budget.min_available", f"is not below the fewest pods ({fewest}): no node could ever " \
            "be drained", budget.min_available, f"below {fewest}"


def claims(service: str, instance: str, inputs: KubernetesSvcInputs, env: Environment) -> Iterator[Claim]:
    """A service's own namespace (not a team's) holds it alone in its environment; manifests of two instances
    would otherwise fight over the same Namespace and names."""
    namespace = inputs.namespace_for(service)
    eks = eks_offers(env)
    if eks is None or namespace in eks.team_namespaces:
        return
    yield Claim(key=("k8s-namespace", inputs.placement == "anywhere", namespace), path="namespace",
                message="is already the namespace of {other}", got=namespace,
                expected="a namespace of this instance's own, or a team's namespace")
