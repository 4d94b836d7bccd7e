"""eks-env inputs and cross-field rules. CDK-free: `keel validate` runs this without importing aws_cdk.

Every rule names the exact field it is about, and a CIDR clash names both fields and both ranges, so a
bad spec is fixed from the message alone.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from keel.contract.offers import EksOffers, Offers
from keel.contract.problems import InputProblem
from keel.netplan import is_rfc1918, overlap
from keel.spec.errors import MISSING as MISSING_VALUE
from keel.spec.model import Environment
from keel.spec.typed import to_dataclass
from keel.templates.common_inputs import ConfigPlaneInputs, EventBusInputs, check_platform_services
from keel.templates.eks_env.addons import Addon, installed
from keel.templates.vpc_env.inputs import (
    ExistingVpcInputs,
    VpcEnvInputs,
    check_network,
    existing_vpc_of,
    network_cidr,
    with_platform_services,
)

# EKS access policy names by the schema's short names.
ACCESS_POLICIES = {
    "cluster_admin": "AmazonEKSClusterAdminPolicy",
    "admin": "AmazonEKSAdminPolicy",
    "edit": "AmazonEKSEditPolicy",
    "view": "AmazonEKSViewPolicy",
}
# Namespaces a team may not take: Kubernetes', EKS's and the add-ons' own.
RESERVED_NAMESPACES = ("default", "amazon-cloudwatch", "argocd", "flux-system")
REQUIRED_LOGS = ("api", "audit", "authenticator")
# Graviton families: a digit then `g` (m7g, c7gn, r8g, t4g, im4gn, x2gd...).
_GRAVITON = re.compile(r"^[a-z]+[0-9]+g[a-z]*\.")


@dataclass(frozen=True)
class NodeGroup:
    name: str
    instance_types: tuple[str, ...]
    ami_type: str
    capacity_type: str
    min_size: int
    desired_size: int
    max_size: int
    disk_size: int

    @property
    def arm64(self) -> bool:
        return "ARM_64" in self.ami_type


@dataclass(frozen=True)
class AccessPolicy:
    policy: str
    namespaces: tuple[str, ...]

    @property
    def policy_name(self) -> str:
        return ACCESS_POLICIES[self.policy]


@dataclass(frozen=True)
class AccessEntry:
    principal_arn: str
    username: str | None
    kubernetes_groups: tuple[str, ...]
    policies: tuple[AccessPolicy, ...]

    @property
    def is_role(self) -> bool:
        return ":role/" in self.principal_arn


@dataclass(frozen=True)
class HybridNodes:
    enabled: bool
    remote_node_networks: tuple[str, ...]
    remote_pod_networks: tuple[str, ...]
    credentials: str
    activation_registration_limit: int
    activation_expiry_days: int
    activation_epoch: int
    roles_anywhere_ca_certificate: str | None


@dataclass(frozen=True)
class VSphere:
    server: str | None
    datacenter: str | None
    network: str | None
    datastore: str | None
    folder: str | None
    resource_pool: str | None
    thumbprint: str | None
    template: str | None
    num_cpus: int
    memory_mib: int
    disk_gib: int


@dataclass(frozen=True)
class Tinkerbell:
    tinkerbell_ip: str | None
    os_image_url: str | None
    hook_images_url: str | None


@dataclass(frozen=True)
class Oidc:
    issuer_url: str | None
    client_id: str | None
    username_claim: str
    groups_claim: str

    @property
    def enabled(self) -> bool:
        return self.issuer_url is not None


@dataclass(frozen=True)
class Flux:
    github_owner: str | None
    github_repository: str | None
    repository_url: str | None
    branch: str
    cluster_config_path: str | None

    @property
    def enabled(self) -> bool:
        return bool(self.repository_url or self.github_owner or self.github_repository)


@dataclass(frozen=True)
class Anywhere:
    enabled: bool
    cluster_name: str | None
    provider: str
    os_family: str
    control_plane_count: int
    control_plane_endpoint: str | None
    external_etcd: bool
    worker_count: int
    node_network: str | None
    pod_cidr: str
    service_cidr: str
    metallb_addresses: str | None
    register_connector: bool
    connector_epoch: int
    vsphere: VSphere
    tinkerbell: Tinkerbell
    oidc: Oidc
    flux: Flux


@dataclass(frozen=True)
class EksEnvInputs:
    network: VpcEnvInputs
    kubernetes_version: str
    authentication_mode: str
    service_ipv4_cidr: str
    endpoint_access: str
    public_access_cidrs: tuple[str, ...]
    control_plane_logs: tuple[str, ...]
    control_plane_log_retention_days: int
    capacity: str
    node_groups: tuple[NodeGroup, ...]
    fargate_namespaces: tuple[str, ...]
    access_entries: tuple[AccessEntry, ...]
    hybrid_nodes: HybridNodes
    anywhere: Anywhere

    @property
    def has_cluster_admin(self) -> bool:
        return any(p.policy == "cluster_admin" and not p.namespaces for e in self.access_entries for p in e.policies)

    def offers(self) -> Offers:
        return self.network.offers()


@dataclass(frozen=True)
class EksEnvInputsV11(EksEnvInputs):
    """eks-env 1.1: 1.0's inputs plus the environment's event bus and config plane (on by default)."""

    event_bus: EventBusInputs
    config: ConfigPlaneInputs

    def offers(self) -> Offers:
        return with_platform_services(super().offers(), self.event_bus, self.config)


# existing network (issue 18)
@dataclass(frozen=True)
class EksNetworkInputsV12(VpcEnvInputs):
    """eks-env 1.2's network: vpc-env 1.0's inputs, or an existing VPC (vpc-env 1.3's existing_vpc)."""

    existing_vpc: ExistingVpcInputs | None


# workloads (issue 21)
@dataclass(frozen=True)
class Addons:
    vpc_cni: bool
    coredns: bool
    kube_proxy: bool
    eks_pod_identity_agent: bool
    aws_ebs_csi_driver: bool
    metrics_server: bool
    amazon_cloudwatch_observability: bool


@dataclass(frozen=True)
class TeamQuota:
    requests_cpu: str
    requests_memory: str
    limits_memory: str
    pods: int


@dataclass(frozen=True)
class Team:
    name: str
    principal_arns: tuple[str, ...]
    policy: str
    quota: TeamQuota

    @property
    def namespace(self) -> str:
        return self.name


@dataclass(frozen=True)
class ArgoCd:
    idc_instance_arn: str | None
    idc_region: str | None
    repository_url: str | None
    revision: str


@dataclass(frozen=True)
class EksEnvInputsV12(EksEnvInputsV11):
    """eks-env 1.2: 1.1's inputs plus managed add-ons, teams and the delivery of Kubernetes workloads; the
    network may be an existing VPC."""

    # existing network (issue 18)
    network: EksNetworkInputsV12
    # workloads (issue 21)
    addons: Addons
    teams: tuple[Team, ...]
    workload_delivery: str
    gitops_path: str
    argocd: ArgoCd

    @property
    def pod_identity(self) -> bool:
        """Pod Identity works: the agent add-on is on (Auto Mode has it built in; Fargate has none)."""
        if self.cluster_capacity == "fargate":
            return False
        return self.cluster_capacity == "auto_mode" or self.addons.eks_pod_identity_agent

    @property
    def cluster_capacity(self) -> str:
        """Where the cluster's pods run (1.3: an existing cluster's, as its owners run it)."""
        return self.capacity

    @property
    def cluster_kubernetes_version(self) -> str:
        """The Kubernetes minor the cluster runs (1.3: an existing cluster's)."""
        return self.kubernetes_version

    def managed_addons(self) -> list[Addon]:
        """The add-ons Keel installs as EKS managed add-ons (1.3: none on an existing cluster unless asked)."""
        return installed(self.addons, capacity=self.cluster_capacity)

    def offers(self) -> Offers:
        return replace(super().offers(), eks=EksOffers(
            capacity=self.cluster_capacity, hybrid_nodes=self.hybrid_nodes.enabled, anywhere=self.anywhere.enabled,
            anywhere_flux=self.anywhere.enabled and self.anywhere.flux.enabled,
            workload_delivery=self.workload_delivery, pod_identity=self.pod_identity,
            metrics=self.addons.metrics_server or self.cluster_capacity == "auto_mode",
            team_namespaces=tuple(t.namespace for t in self.teams), gitops_path=self.gitops_path))


# existing cluster (issue 18)
@dataclass(frozen=True)
class ExistingClusterInputs:
    cluster_name: str
    kubernetes_version: str
    cluster_security_group_id: str
    capacity: str
    oidc_provider_arn: str | None
    kubectl_provider_service_token: str | None
    manage_addons: bool


@dataclass(frozen=True)
class EksEnvInputsV13(EksEnvInputsV12):
    """eks-env 1.3: 1.2's inputs plus an existing cluster to add workloads to instead of creating one."""

    # existing cluster (issue 18)
    existing_cluster: ExistingClusterInputs | None

    @property
    def cluster_capacity(self) -> str:
        return self.existing_cluster.capacity if self.existing_cluster else self.capacity

    @property
    def cluster_kubernetes_version(self) -> str:
        return self.existing_cluster.kubernetes_version if self.existing_cluster else self.kubernetes_version

    def managed_addons(self) -> list[Addon]:
        """On an existing cluster `addons` says which add-ons run; Keel installs them only with manage_addons."""
        if self.existing_cluster is not None and not self.existing_cluster.manage_addons:
            return []
        return super().managed_addons()


def check(inputs: EksEnvInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_network(inputs.network, env.az_count, env.availability_zones, prefix="network")
    if isinstance(inputs, EksEnvInputsV11):
        yield from check_platform_services(inputs.event_bus, inputs.config)
    if existing_cluster_of(inputs) is None:  # an existing cluster's service CIDR is its owners'
        yield from _check_service_cidr(inputs)
    yield from _check_endpoint(inputs)
    yield from _check_logs(inputs)
    yield from _check_node_groups(inputs)
    yield from _check_access_entries(inputs)
    yield from check_hybrid_networks(inputs)
    yield from _check_hybrid_credentials(inputs.hybrid_nodes)
    if inputs.anywhere.enabled:
        yield from check_anywhere(inputs.anywhere)
    if isinstance(inputs, EksEnvInputsV12):
        yield from check_workloads(inputs)
    if isinstance(inputs, EksEnvInputsV13):
        yield from check_existing_cluster(inputs, env)


def _check_service_cidr(inputs: EksEnvInputs) -> Iterator[InputProblem]:
    if overlap(inputs.service_ipv4_cidr, network_cidr(inputs.network)):
        yield ("service_ipv4_cidr", f"{inputs.service_ipv4_cidr} overlaps network.vpc_cidr "
               f"({network_cidr(inputs.network)})", inputs.service_ipv4_cidr, "a range outside the VPC")


def _check_endpoint(inputs: EksEnvInputs) -> Iterator[InputProblem]:
    if inputs.endpoint_access == "private" and inputs.public_access_cidrs:
        yield ("public_access_cidrs", "is set but endpoint_access is private", list(inputs.public_access_cidrs),
               "no public_access_cidrs, or endpoint_access public or public_and_private")
    if inputs.endpoint_access != "private" and not inputs.public_access_cidrs:
        yield ("public_access_cidrs", f"is empty but endpoint_access is {inputs.endpoint_access}: the API "
               "would be open to the internet", [], "the CIDRs allowed to reach the public endpoint")


def _check_logs(inputs: EksEnvInputs) -> Iterator[InputProblem]:
    missing = [t for t in REQUIRED_LOGS if t not in inputs.control_plane_logs]
    if missing:
        yield ("control_plane_logs", f"must include {', '.join(missing)}", list(inputs.control_plane_logs),
               "at least api, audit and authenticator")


def _check_node_groups(inputs: EksEnvInputs) -> Iterator[InputProblem]:
    if inputs.capacity != "node_groups":
        return
    if not inputs.node_groups:
        yield "node_groups", "is empty but capacity is node_groups", [], "at least one node group"
    seen: set[str] = set()
    for i, group in enumerate(inputs.node_groups):
        where = f"node_groups[{i}]"
        if group.name in seen:
            yield f"{where}.name", "is used by another node group", group.name, "a unique name"
        seen.add(group.name)
        if not group.min_size <= group.desired_size <= group.max_size:
            yield (f"{where}.desired_size", f"is outside min_size {group.min_size} .. max_size {group.max_size}",
                   group.desired_size, "min_size <= desired_size <= max_size")
        for j, itype in enumerate(group.instance_types):
            graviton = bool(_GRAVITON.match(itype))
            if graviton != group.arm64:
                arch = "arm64 (Graviton)" if graviton else "x86_64"
                yield (f"{where}.instance_types[{j}]", f"is an {arch} type but ami_type is {group.ami_type}",
                       itype, f"{'an ARM_64' if graviton else 'an X86_64'} ami_type, or a matching instance type")


def _check_access_entries(inputs: EksEnvInputs) -> Iterator[InputProblem]:
    seen: set[str] = set()
    for i, entry in enumerate(inputs.access_entries):
        where = f"access_entries[{i}]"
        if entry.principal_arn in seen:
            yield f"{where}.principal_arn", "has another access entry", entry.principal_arn, "one entry a principal"
        seen.add(entry.principal_arn)
        if not entry.kubernetes_groups and not entry.policies:
            yield where, "grants nothing", MISSING_VALUE, "kubernetes_groups or policies"
        for j, group in enumerate(entry.kubernetes_groups):
            if group.startswith("system:"):
                yield (f"{where}.kubernetes_groups[{j}]", "is reserved by Kubernetes (EKS rejects system: groups)",
                       group, "policies: [{policy: cluster_admin}] for system:masters")
        if entry.username and "{{SessionName}}" in entry.username and not entry.is_role:
            yield (f"{where}.username", "uses {{SessionName}}, which only roles have", entry.username,
                   "a fixed user name for an IAM user")


def check_hybrid_networks(inputs: EksEnvInputs) -> Iterator[InputProblem]:
    """Remote node and pod networks: RFC 1918, and clear of each other, the VPC and the service CIDR."""
    hybrid = inputs.hybrid_nodes
    remote = [(f"hybrid_nodes.remote_node_networks[{i}]", c) for i, c in enumerate(hybrid.remote_node_networks)]
    remote += [(f"hybrid_nodes.remote_pod_networks[{i}]", c) for i, c in enumerate(hybrid.remote_pod_networks)]
    if not hybrid.enabled:
        for path, cidr in remote:
            yield path, "is set but hybrid_nodes.enabled is false", cidr, "hybrid_nodes.enabled: true"
        return
    if not hybrid.remote_node_networks:
        yield ("hybrid_nodes.remote_node_networks", "is empty but hybrid nodes are enabled", [],
               "the RFC 1918 CIDRs of the on-premises nodes")
    taken = [("network.vpc_cidr", network_cidr(inputs.network)), ("service_ipv4_cidr", inputs.service_ipv4_cidr)]
    for path, cidr in remote:
        if not is_rfc1918(cidr):
            yield path, f"{cidr} is not an RFC 1918 private range", cidr, \
                "a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"
            continue
        clash = next(((p, c) for p, c in taken if overlap(cidr, c)), None)
        if clash:
            yield path, f"{cidr} overlaps {clash[0]} ({clash[1]})", cidr, \
                "a range that overlaps neither the VPC, the service CIDR nor another remote network"
        taken.append((path, cidr))


def _check_hybrid_credentials(hybrid: HybridNodes) -> Iterator[InputProblem]:
    if hybrid.enabled and hybrid.credentials == "iam_roles_anywhere":
        pem = hybrid.roles_anywhere_ca_certificate
        if not pem or "-----BEGIN CERTIFICATE-----" not in pem:
            yield ("hybrid_nodes.roles_anywhere_ca_certificate", "is required with credentials iam_roles_anywhere",
                   pem if pem else MISSING_VALUE, "the PEM certificate of the CA that signs node certificates")


def check_anywhere(anywhere: Anywhere) -> Iterator[InputProblem]:
    """EKS Anywhere settings, checked before any YAML is written (the CRDs check shapes, not sense)."""
    p = "anywhere"
    if overlap(anywhere.pod_cidr, anywhere.service_cidr):
        yield (f"{p}.service_cidr", f"{anywhere.service_cidr} overlaps {p}.pod_cidr ({anywhere.pod_cidr})",
               anywhere.service_cidr, "separate pod and service ranges")
    node = anywhere.node_network
    if node is not None:
        for name in ("pod_cidr", "service_cidr"):
            if overlap(node, getattr(anywhere, name)):
                yield (f"{p}.node_network", f"{node} overlaps {p}.{name} ({getattr(anywhere, name)})", node,
                       "a node network apart from the pod and service ranges")
    needs_network = anywhere.provider != "docker" or anywhere.metallb_addresses is not None
    if node is None and needs_network:
        why = f"provider {anywhere.provider}" if anywhere.provider != "docker" else "metallb_addresses"
        yield f"{p}.node_network", f"is required with {why}", MISSING_VALUE, "the machines' layer-2 CIDR"
        return
    pool = None
    if anywhere.metallb_addresses is not None and node is not None:
        pool = address_range(anywhere.metallb_addresses)
        if pool is None:
            yield (f"{p}.metallb_addresses", "is not a valid CIDR or first-last range", anywhere.metallb_addresses,
                   "such as 10.10.0.200-10.10.0.250 or 10.10.0.192/27")
        elif not _range_inside(pool, node):
            yield (f"{p}.metallb_addresses", f"{anywhere.metallb_addresses} is outside {p}.node_network ({node})",
                   anywhere.metallb_addresses, f"a range inside {node}")
    addresses = [(f"{p}.control_plane_endpoint", anywhere.control_plane_endpoint)]
    if anywhere.provider == "tinkerbell":
        addresses.append((f"{p}.tinkerbell.tinkerbell_ip", anywhere.tinkerbell.tinkerbell_ip))
    if anywhere.provider != "docker":
        for path, ip in addresses:
            if ip is None:
                yield path, f"is required with provider {anywhere.provider}", MISSING_VALUE, f"an address in {node}"
            elif node is not None and ipaddress.IPv4Address(ip) not in ipaddress.IPv4Network(node):
                yield path, f"{ip} is outside {p}.node_network ({node})", ip, f"an address in {node}"
            elif pool is not None and pool[0] <= ipaddress.IPv4Address(ip) <= pool[1]:
                yield path, f"{ip} is inside {p}.metallb_addresses ({anywhere.metallb_addresses})", ip, \
                    "an address MetalLB will not hand out"
        if len(addresses) == 2 and addresses[0][1] and addresses[0][1] == addresses[1][1]:
            yield addresses[1][0], f"equals {p}.control_plane_endpoint", addresses[1][1], "its own address"
    if anywhere.provider == "vsphere":
        for name in ("server", "datacenter", "network", "datastore", "folder", "resource_pool", "thumbprint"):
            if getattr(anywhere.vsphere, name) is None:
                yield f"{p}.vsphere.{name}", "is required with provider vsphere", MISSING_VALUE, "a vSphere setting"
    if anywhere.external_etcd and anywhere.provider == "tinkerbell":
        yield (f"{p}.external_etcd", "is not supported by the tinkerbell provider", True,
               "false (stacked etcd on the control plane machines)")
    if anywhere.oidc.enabled and not anywhere.oidc.client_id:
        yield f"{p}.oidc.client_id", "is required with oidc.issuer_url", MISSING_VALUE, "the OIDC client id"
    flux = anywhere.flux
    if bool(flux.github_owner) != bool(flux.github_repository):
        missing = "github_repository" if flux.github_owner else "github_owner"
        yield f"{p}.flux.{missing}", "is required with the other github_* setting", MISSING_VALUE, "a GitHub name"
    if flux.repository_url and flux.github_owner:
        yield f"{p}.flux.repository_url", "is set together with github_owner", flux.repository_url, \
            "either a GitHub repository or a git URL"


def check_workloads(inputs: EksEnvInputsV12) -> Iterator[InputProblem]:
    """1.2: add-ons that need Pod Identity, teams' principals and namespaces, the Argo CD capability."""
    needs_agent = [a.field for a in inputs.managed_addons() if a.access is not None]
    if needs_agent and not inputs.pod_identity:
        yield ("addons.eks_pod_identity_agent", f"is off, but addons {', '.join(needs_agent)} get their AWS access "
               "through EKS Pod Identity", False, "true, or those add-ons off")
    taken = {e.principal_arn: f"access_entries[{i}]" for i, e in enumerate(inputs.access_entries)}
    namespaces: set[str] = set()
    for i, team in enumerate(inputs.teams):
        where = f"teams[{i}]"
        if team.namespace in namespaces:
            yield f"{where}.name", "is used by another team", team.name, "a unique team name"
        if team.namespace in RESERVED_NAMESPACES or team.namespace.startswith("kube-"):
            yield f"{where}.name", "is a namespace Kubernetes or EKS owns", team.name, "a namespace of the team's own"
        namespaces.add(team.namespace)
        for j, arn in enumerate(team.principal_arns):
            if arn in taken:
                yield (f"{where}.principal_arns[{j}]", f"already has an access entry ({taken[arn]}): EKS allows one "
                       "a principal", arn, "the principal in one team or access entry only")
            taken[arn] = f"{where}.principal_arns[{j}]"
    if inputs.workload_delivery == "argocd":
        for name in ("idc_instance_arn", "repository_url"):
            if getattr(inputs.argocd, name) is None:
                yield f"argocd.{name}", "is required with workload_delivery argocd", MISSING_VALUE, \
                    "the EKS Argo CD capability's " + ("IAM Identity Center instance" if name.startswith("idc")
                                                       else "repository (the platform repository)")


def address_range(text: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address] | None:
    """`10.0.0.200-10.0.0.250` or `10.0.0.192/27` -> (first, last); None when malformed."""
    try:
        if "-" in text:
            first, last = (ipaddress.IPv4Address(x) for x in text.split("-", 1))
            return (first, last) if first <= last else None
        net = ipaddress.IPv4Network(text, strict=True)
        return net[0], net[-1]
    except ValueError:
        return None


def _range_inside(pool: tuple[ipaddress.IPv4Address, ipaddress.IPv4Address], cidr: str) -> bool:
    net = ipaddress.IPv4Network(cidr)
    return pool[0] in net and pool[1] in net


# existing cluster (issue 18)
def existing_cluster_of(inputs: EksEnvInputs) -> ExistingClusterInputs | None:
    return inputs.existing_cluster if isinstance(inputs, EksEnvInputsV13) else None


_OWNERS = "it configures a cluster Keel creates, and Keel never changes an existing cluster's configuration"
_CAPACITY = "it adds capacity to a cluster Keel creates; an existing cluster's node groups and profiles are its owners'"


def check_existing_cluster(inputs: EksEnvInputsV13, env: Environment) -> Iterator[InputProblem]:
    """An existing cluster: in an existing VPC, its ARNs at home in the environment's account and region, and
    none of the inputs that create or configure a cluster set beside it (they are compared with the schema's
    defaults, so the schema stays the one place they are stated)."""
    existing = inputs.existing_cluster
    if existing is None:
        return
    e = "existing_cluster"
    if existing_vpc_of(inputs.network) is None:
        yield (e, "needs network.existing_vpc: the cluster runs in a VPC its owners created, which Keel imports by "
               "its IDs", MISSING_VALUE, "network.existing_vpc with the cluster's VPC and private subnets")
    defaults = to_dataclass(EksEnvInputsV13, env.template.input_schema.with_defaults({}))
    settings: list[tuple[str, object, object, str, str]] = [
        ("kubernetes_version", inputs.kubernetes_version, defaults.kubernetes_version,
         "it is the version of a cluster Keel creates", f"no kubernetes_version ({e}.kubernetes_version says "
         "what the cluster runs)"),
        ("capacity", inputs.capacity, defaults.capacity, _CAPACITY, f"no capacity ({e}.capacity says where the "
         "cluster's pods run)"),
        ("node_groups", [g.name for g in inputs.node_groups], [g.name for g in defaults.node_groups], _CAPACITY,
         "no node_groups"),
        ("fargate_namespaces", list(inputs.fargate_namespaces), list(defaults.fargate_namespaces), _CAPACITY,
         "no fargate_namespaces"),
        ("hybrid_nodes.enabled", inputs.hybrid_nodes.enabled, defaults.hybrid_nodes.enabled,
         "hybrid nodes need the cluster's remote networks, which are its owners' configuration",
         "false (the cluster's owners set up hybrid nodes)"),
        ("anywhere.enabled", inputs.anywhere.enabled, defaults.anywhere.enabled,
         "the EKS Anywhere cluster is the on-site twin of the cluster Keel creates (its version and access)",
         "false, or EKS Anywhere in an environment of its own"),
        ("workload_delivery", inputs.workload_delivery, defaults.workload_delivery,
         "argocd adds the EKS Argo CD capability to the cluster, which is its owners' to add",
         "kubectl (Keel's kubectl provider, or the owners' kubectl_provider_service_token)"),
    ]
    for name in ("authentication_mode", "service_ipv4_cidr", "endpoint_access", "control_plane_log_retention_days"):
        settings.append((name, getattr(inputs, name), getattr(defaults, name), _OWNERS, f"no {name}"))
    for name in ("public_access_cidrs", "control_plane_logs"):
        settings.append((name, list(getattr(inputs, name)), list(getattr(defaults, name)), _OWNERS, f"no {name}"))
    for path, value, default, why, expected in settings:
        if value != default:
            yield path, f"is set but existing_cluster is given: {why}", value, expected
    if existing.oidc_provider_arn is not None:
        region = re.search(r"oidc\.eks\.([a-z0-9-]+)\.amazonaws", existing.oidc_provider_arn)
        yield from check_arn_home(f"{e}.oidc_provider_arn", existing.oidc_provider_arn, env,
                                  region=region.group(1) if region else None)
    if existing.kubectl_provider_service_token is not None:
        token = existing.kubectl_provider_service_token
        yield from check_arn_home(f"{e}.kubectl_provider_service_token", token, env, region=token.split(":")[3])


def partition_of(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def check_arn_home(path: str, arn: str, env: Environment, *, region: str | None) -> Iterator[InputProblem]:
    """An ARN of the environment's own partition, account and region (each checked where the spec names it)."""
    partition, account = arn.split(":")[1], arn.split(":")[4]
    if env.region is not None and partition != partition_of(env.region):
        yield path, f"is in partition {partition}, the environment's region {env.region} is in " \
            f"{partition_of(env.region)}", arn, f"an arn:{partition_of(env.region)}: ARN"
    if env.account is not None and account != env.account:
        yield path, f"is in account {account}, the environment is in {env.account}", arn, \
            f"an ARN of account {env.account}"
    if env.region is not None and region is not None and region != env.region:
        yield path, f"is in region {region}, the environment is in {env.region}", arn, \
            f"an ARN of region {env.region}"
