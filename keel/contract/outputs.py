"""What an environment's stack hands its service instances: one frozen class per environment template family.

The fields hold CDK objects (construct interfaces, never ARNs or strings), but this module imports CDK only
for annotations, so the spec layer and the registry can name these classes without loading CDK. A service
template's builder takes the class it needs (`environment: EcsEnvOutputs`); its template.yaml says the same
(`environment_outputs: EcsEnvOutputs`), and the registry refuses a compatible environment that hands on less.
A capability an environment may lack is typed `X | None`: the type checker, not `getattr`, makes the builder
handle its absence (and the spec checks, through `keel.contract.offers`, make the absence an input error).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_cdk import RemovalPolicy
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_ecs as ecs
    from aws_cdk import aws_eks_v2 as eks
    from aws_cdk import aws_elasticloadbalancingv2 as elbv2
    from aws_cdk import aws_events as events
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_servicediscovery as servicediscovery
    from aws_cdk import aws_sns as sns


@dataclass(frozen=True, kw_only=True)
class ConfigPlaneOutputs:
    """The config plane: `/keel/<environment>/<service>/<key>` parameters and `keel/...` secrets."""

    prefix: str


@dataclass(frozen=True, kw_only=True)
class NetworkOutputs:
    """What every environment offers (the vpc-env family): who it is, its network, key, bus and config plane."""

    name: str
    #: The environment's template, `vpc-env@1.2`, for messages.
    template: str
    production: bool
    #: RETAIN in production-like environments: what a service's stateful resources follow too.
    removal_policy: RemovalPolicy
    vpc: ec2.IVpc
    #: The VPC's CIDR block as the spec gives it (a literal, so security group rules need no token).
    vpc_cidr: str
    key: kms.IKey
    #: The environment's event bus, when its template version has one and the spec keeps it on.
    bus: events.IEventBus | None = None
    #: How long the bus archive keeps events for replay (0: indefinitely; None: no bus).
    bus_archive_retention_days: int | None = None
    config: ConfigPlaneOutputs | None = None
    #: Published as SSM parameters under /keel/<environment>/ for discovery at run time.
    discovery: Mapping[str, str] = field(default_factory=dict)


#: vpc-env hands on exactly the network outputs.
VpcEnvOutputs = NetworkOutputs


@dataclass(frozen=True, kw_only=True)
class SharedLoadBalancerOutputs:
    """ecs-env's shared Application Load Balancer. Its listener's default action answers 404: services add
    rules (path or host conditions) and target groups to it."""

    load_balancer: elbv2.IApplicationLoadBalancer
    #: `app/<name>/<id>`: the dimension of the load balancer's metrics and the autoscaling resource label.
    full_name: str
    listener: elbv2.IApplicationListener
    #: True: HTTPS:443 with the spec's certificate; False: HTTP:80.
    https: bool
    #: Services allow their container port from this group.
    security_group: ec2.ISecurityGroup


@dataclass(frozen=True, kw_only=True)
class AnywhereOutputs:
    """ecs-env's ECS Anywhere: what EXTERNAL tasks of the environment's own servers run with."""

    #: ECR pulls of this account and region, writes to `task_log_group`; trusted by ecs-tasks.amazonaws.com.
    execution_role: iam.IRole
    task_log_group: logs.ILogGroup
    #: For a task role whose FireLens log router writes to `task_log_group`.
    log_routing_policy: iam.IManagedPolicy


@dataclass(frozen=True, kw_only=True)
class EcsEnvOutputs(NetworkOutputs):
    """What an ecs-env environment offers on top of the network."""

    #: Fargate and Fargate Spot capacity providers (default strategy set); external instances join it too.
    cluster: ecs.ICluster
    #: The Cloud Map private DNS namespace, also the cluster's Service Connect default namespace.
    namespace: servicediscovery.INamespace
    #: Where ECS Exec sessions are logged (KMS-encrypted with `key`).
    exec_log_group: logs.ILogGroup
    #: The encrypted SNS topic of the cluster's control-plane events.
    notifications: sns.ITopic
    #: None: no shared load balancer (the spec said so, and the spec checks refuse services that need one).
    load_balancer: SharedLoadBalancerOutputs | None = None
    #: None: ECS Anywhere is off.
    anywhere: AnywhereOutputs | None = None
    # existing network, EC2 capacity (issue 18)
    #: The EC2 capacity providers, spec name -> ECS capacity provider name (what a service's strategy names).
    ec2_capacity_providers: Mapping[str, str] = field(default_factory=dict)
    #: The spec names of those with NVIDIA GPUs, in the spec's order.
    gpu_capacity_providers: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class EksEnvOutputs(NetworkOutputs):
    """What an eks-env environment offers on top of the network: the cluster and what a Kubernetes service
    needs from it (IRSA, node identity, pod traffic).

    `cluster` is an `eks.ICluster` either way. Of an existing cluster (eks-env 1.3 `existing_cluster`, then
    `imported`) Keel knows its name, ARN, VPC, cluster security group and kubectl provider only: the ICluster
    members it was not given (`cluster_endpoint`, `cluster_certificate_authority_data`,
    `cluster_encryption_config_key_arn`, `open_id_connect_provider`) raise at synth. Services take the OIDC
    provider and node role from the typed fields below, where an absence is `None`."""

    cluster: eks.ICluster
    #: None: an existing cluster whose owners gave no OIDC provider (no IRSA; Pod Identity still works).
    oidc_provider: iam.IOpenIdConnectProvider | None
    #: None: an existing cluster, whose nodes and their role are its owners'.
    node_role: iam.IRole | None
    #: The EKS-managed cluster security group (of an existing cluster: imported immutable, rules are no-ops).
    security_group: ec2.ISecurityGroup
    # eks workloads (issue 21): eks-env 1.2 and later; None before
    workloads: EksWorkloadOutputs | None = None
    # existing cluster (issue 18)
    #: True: an existing cluster (eks-env 1.3 existing_cluster): Keel adds access entries, Pod Identity and
    #: workloads to it and never changes its configuration, node groups or network.
    imported: bool = False


# eks workloads (issue 21)
class WorkloadTarget(enum.Enum):
    """Where an eks-env environment's Kubernetes workloads can land."""

    CLOUD_NODES = "cloud-nodes"  # managed node groups
    FARGATE = "fargate"
    AUTO_MODE = "auto-mode"
    HYBRID_NODES = "hybrid-nodes"  # EKS Hybrid Nodes on the remote node networks
    ANYWHERE = "anywhere"  # the generated EKS Anywhere cluster (Flux syncs the GitOps path)


@dataclass(frozen=True, kw_only=True)
class EksWorkloadOutputs:
    """eks-env 1.2: where workloads land and how their manifests reach the cluster."""

    targets: frozenset[WorkloadTarget]
    kubernetes_version: str
    #: kubectl: the cluster has the kubectl provider (KubernetesManifest); argocd: the Argo CD capability.
    delivery: str
    #: Pod Identity associations work (the agent runs, or Auto Mode has it built in).
    pod_identity: bool
    #: The namespaces the environment owns (its teams'): services place into them without creating them.
    team_namespaces: tuple[str, ...] = ()
    #: The IngressClass of each scheme (`internal`, `internet-facing`), where the cluster balances HTTP itself.
    ingress_classes: Mapping[str, str] = field(default_factory=dict)


# Proton-format template folders (issue 15)
@dataclass(frozen=True, kw_only=True)
class ProtonEnvOutputs:
    """What a Proton-format environment template hands on: its CloudFormation Outputs, by name, each a reference
    (a CDK token) to the environment stack's output, so a service's `environment.outputs.X` is a real
    cross-stack reference. Proton services build on these only; Keel-native services need a NetworkOutputs."""

    name: str
    template: str
    production: bool
    outputs: Mapping[str, str]
    discovery: Mapping[str, str] = field(default_factory=dict)


#: The names template.yaml's `environment_outputs` may use.
OUTPUTS_CLASSES: Mapping[str, type[NetworkOutputs]] = {
    "NetworkOutputs": NetworkOutputs,
    "VpcEnvOutputs": VpcEnvOutputs,
    "EcsEnvOutputs": EcsEnvOutputs,
    "EksEnvOutputs": EksEnvOutputs,
}
