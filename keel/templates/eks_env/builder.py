"""eks-env 1.x builder (every 1.x shares it): the vpc-env network, the EKS cluster, hybrid nodes and EKS
Anywhere readiness; from 1.1 the event bus and config plane; from 1.2 add-ons, teams and workload delivery."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk.lambda_layer_kubectl_v33 import KubectlV33Layer
from constructs import Construct

from keel.constructs.assembly_file import AssemblyFile
from keel.constructs.common import RETENTION, removal_policy
from keel.constructs.eks_addons import AddonAccessProps, AddonProps, ArgoCdCapability, EksAddons
from keel.constructs.eks_cluster import (
    AccessEntryProps,
    AuthenticationMode,
    Capacity,
    EksCluster,
    EksClusterProps,
    NodeGroupProps,
    as_icluster,
)
from keel.constructs.eks_connector import EksConnectorRegistration
from keel.constructs.eks_hybrid import HybridNodes
from keel.contract.outputs import EksEnvOutputs, EksWorkloadOutputs
from keel.eksa import to_yaml
from keel.spec.model import Environment
from keel.templates import acknowledgements
from keel.templates.eks_env import anywhere as documents
from keel.templates.eks_env.addons import Addon, installed
from keel.templates.eks_env.addons import version as addon_version
from keel.templates.eks_env.inputs import (
    ACCESS_POLICIES,
    AccessEntry,
    EksEnvInputs,
    EksEnvInputsV11,
    EksEnvInputsV12,
    NodeGroup,
)
from keel.templates.eks_env.nodeconfig import node_config
from keel.templates.eks_env.workloads import (
    argocd_application,
    ingress_classes,
    ingress_documents,
    targets,
    team_documents,
)
from keel.templates.platform_services import build_platform_services
from keel.templates.vpc_env.builder import build_network, network_discovery
from keel.templates.vpc_env.inputs import existing_vpc_of, network_cidr

ENDPOINT_ACCESS = {
    "private": eks.EndpointAccess.PRIVATE,
    "public": eks.EndpointAccess.PUBLIC,
    "public_and_private": eks.EndpointAccess.PUBLIC_AND_PRIVATE,
}
#: environment reads (issue 20): the kubectl provider's service token, published with kubectl delivery.
KUBECTL_SERVICE_TOKEN_KEY = "eks/kubectl-provider/service-token"
LOG_TYPES = {
    "api": eks.ClusterLoggingTypes.API, "audit": eks.ClusterLoggingTypes.AUDIT,
    "authenticator": eks.ClusterLoggingTypes.AUTHENTICATOR,
    "controllerManager": eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
    "scheduler": eks.ClusterLoggingTypes.SCHEDULER,
}


def endpoint_access(access: str, public_access_cidrs: Sequence[str]) -> eks.EndpointAccess:
    """The spec's endpoint_access; a public endpoint only from the spec's public_access_cidrs."""
    endpoint = ENDPOINT_ACCESS[access]
    return endpoint if access == "private" else endpoint.only_from(*public_access_cidrs)


def node_groups(groups: Sequence[NodeGroup]) -> list[NodeGroupProps]:
    return [NodeGroupProps(
        name=g.name, instance_types=[ec2.InstanceType(t) for t in g.instance_types],
        ami_type=eks.NodegroupAmiType[g.ami_type], capacity_type=eks.CapacityType[g.capacity_type],
        min_size=g.min_size, desired_size=g.desired_size, max_size=g.max_size, disk_size=g.disk_size)
        for g in groups]


def access_entries(entries: Sequence[AccessEntry]) -> list[AccessEntryProps]:
    return [AccessEntryProps(
        principal_arn=entry.principal_arn,
        policies=[eks.AccessPolicy.from_access_policy_name(
            p.policy_name,
            access_scope_type=eks.AccessScopeType.NAMESPACE if p.namespaces else eks.AccessScopeType.CLUSTER,
            namespaces=list(p.namespaces) or None) for p in entry.policies],
        kubernetes_groups=entry.kubernetes_groups, username=entry.username) for entry in entries]


def build(scope: Construct, *, environment: Environment, inputs: EksEnvInputs) -> EksEnvOutputs:
    key, network = build_network(scope, environment=environment, inputs=inputs.network)
    policy = removal_policy(production=environment.production)
    stack = Stack.of(scope)
    hybrid = inputs.hybrid_nodes
    v12 = inputs if isinstance(inputs, EksEnvInputsV12) else None
    addon_list = installed(v12.addons, capacity=inputs.capacity) if v12 else []
    cluster = EksCluster(scope, "Cluster", vpc=network.vpc, key=key.key, props=EksClusterProps(
        cluster_name=environment.stack_name, kubernetes_version=eks.KubernetesVersion.of(inputs.kubernetes_version),
        authentication_mode=AuthenticationMode(inputs.authentication_mode),
        endpoint_access=endpoint_access(inputs.endpoint_access, inputs.public_access_cidrs),
        log_types=[LOG_TYPES[t] for t in inputs.control_plane_logs],
        log_retention=RETENTION[inputs.control_plane_log_retention_days],
        service_ipv4_cidr=inputs.service_ipv4_cidr,
        remote_node_networks=hybrid.remote_node_networks if hybrid.enabled else (),
        remote_pod_networks=hybrid.remote_pod_networks if hybrid.enabled else (),
        capacity=Capacity(inputs.capacity), bootstrap_creator_admin=not inputs.has_cluster_admin,
        removal_policy=policy, deletion_protection=environment.production,
        # workloads (issue 21): vpc-cni's own Pod Identity role instead of the CNI policy on nodes; kubectl
        cni_on_node_role=not any(a.name == "vpc-cni" for a in addon_list),
        kubectl_layer=KubectlV33Layer(scope, "KubectlLayer") if v12 and v12.workload_delivery == "kubectl" else None))
    if inputs.capacity == Capacity.NODE_GROUPS.value:
        cluster.add_node_groups(node_groups(inputs.node_groups))
    elif inputs.capacity == Capacity.FARGATE.value:
        cluster.add_fargate(inputs.fargate_namespaces)
    cluster.add_access_entries(access_entries(inputs.access_entries))
    eks_cluster = cluster.cluster
    if existing_vpc_of(inputs.network) is not None:
        Validations.of(eks_cluster).acknowledge(Acknowledgment(
            id="Annotation::@aws-cdk/aws-eks:clusterMustManuallyTagSubnet",
            reason="An existing VPC's subnets belong to the network team: Keel does not tag what it does not "
                   "own; docs/existing-networks.md lists the kubernetes.io/role tags load balancers need"))
    discovery = network_discovery(network) | {
        "kms/key-arn": key.key.key_arn,
        "eks/cluster-name": eks_cluster.cluster_name,
        "eks/cluster-arn": eks_cluster.cluster_arn,
        "eks/endpoint": eks_cluster.cluster_endpoint,
        "eks/kubernetes-version": inputs.kubernetes_version,
        "eks/oidc-issuer": eks_cluster.cluster_open_id_connect_issuer_url,
        "eks/oidc-provider-arn": cluster.oidc_provider.open_id_connect_provider_arn,
        "eks/security-group-id": eks_cluster.cluster_security_group_id,
        "eks/node-role-arn": cluster.node_role.role_arn,
    }
    tags = {**environment.tags, "keel:environment": environment.name}
    artifacts: dict[str, str] = {}
    if hybrid.enabled:
        nodes = HybridNodes(
            scope, "HybridNodes", cluster=as_icluster(eks_cluster), security_group=cluster.security_group, key=key.key,
            remote_node_networks=hybrid.remote_node_networks, remote_pod_networks=hybrid.remote_pod_networks,
            credentials=hybrid.credentials, tags=tags, removal_policy=policy, environment=environment.name,
            activation_registration_limit=hybrid.activation_registration_limit,
            activation_expiry_days=hybrid.activation_expiry_days, activation_epoch=hybrid.activation_epoch,
            ca_certificate=hybrid.roles_anywhere_ca_certificate)
        acknowledgements.hybrid_nodes(nodes)
        discovery["eks/hybrid/node-role-arn"] = nodes.role.role_arn
        deployed = {"role_arn": nodes.role.role_arn}
        if nodes.activation is not None:
            discovery["eks/hybrid/activation-secret-arn"] = nodes.activation.secret.secret_arn
        if nodes.trust_anchor is not None and nodes.profile is not None:
            deployed |= {"trust_anchor_arn": nodes.trust_anchor.attr_trust_anchor_arn,
                         "profile_arn": nodes.profile.attr_profile_arn}
            discovery["eks/hybrid/trust-anchor-arn"] = deployed["trust_anchor_arn"]
            discovery["eks/hybrid/profile-arn"] = deployed["profile_arn"]
        discovery["eks/hybrid/nodeconfig"] = to_yaml([node_config(
            cluster_name=environment.stack_name, region=stack.region, credentials=hybrid.credentials, **deployed)])
        artifacts["eks-hybrid-nodeconfig.yaml"] = to_yaml([node_config(
            cluster_name=environment.stack_name, region=environment.region or "${AWS_REGION}",
            credentials=hybrid.credentials)])
    anywhere = inputs.anywhere
    if anywhere.enabled:
        name = anywhere.cluster_name or f"{environment.name}-anywhere"
        ctx = documents.ClusterContext(name=name, kubernetes_version=inputs.kubernetes_version,
                                       region=environment.region or "${AWS_REGION}")
        artifacts["eks-anywhere-cluster.yaml"] = to_yaml(
            documents.cluster_config(anywhere, ctx, inputs.access_entries))
        bindings = documents.rbac(inputs.access_entries)
        if bindings:
            artifacts["eks-anywhere-rbac.yaml"] = to_yaml(bindings)
        if anywhere.metallb_addresses:
            artifacts["eks-anywhere-metallb.yaml"] = to_yaml(documents.metallb(anywhere.metallb_addresses))
        discovery["eks-anywhere/cluster-name"] = name
        if anywhere.register_connector:
            connector = EksConnectorRegistration(
                scope, "AnywhereConnector", cluster_name=name, key=key.key, tags=tags, removal_policy=policy,
                epoch=anywhere.connector_epoch)
            acknowledgements.eks_connector(connector)
            discovery["eks-anywhere/connector-secret-arn"] = connector.secret.secret_arn
            discovery["eks-anywhere/connector-role-arn"] = connector.agent_role.role_arn
            discovery["eks-anywhere/operator-steps"] = connector.operator_steps()
    # 1.1: the bus and config plane (1.0's inputs have neither group, so 1.0 gets nothing here).
    v11 = inputs if isinstance(inputs, EksEnvInputsV11) else None
    services = build_platform_services(scope, environment=environment, key=key.key,
                                       event_bus=v11.event_bus if v11 else None, config=v11.config if v11 else None)
    discovery |= services.discovery
    workloads = build_workloads(scope, cluster, v12, environment, addon_list, discovery, artifacts, policy) \
        if v12 else None
    # Written into the cloud assembly at synth time as <stack>.<name>, e.g. keel-edge.eks-anywhere-cluster.yaml.
    for name, text in sorted(artifacts.items()):
        AssemblyFile(scope, "".join(p.capitalize() for p in name.removesuffix(".yaml").split("-")), name=name,
                     content=text)
    return EksEnvOutputs(
        name=environment.name, template=environment.template.label, production=environment.production,
        removal_policy=policy, vpc=network.vpc, vpc_cidr=network_cidr(inputs.network), key=key.key, bus=services.bus,
        bus_archive_retention_days=services.archive_retention_days,
        config=services.config_outputs, discovery=discovery,
        cluster=as_icluster(eks_cluster), oidc_provider=cluster.oidc_provider, node_role=cluster.node_role,
        security_group=eks_cluster.cluster_security_group, workloads=workloads)


# workloads (issue 21)
def build_workloads(scope: Construct, cluster: EksCluster, inputs: EksEnvInputsV12, environment: Environment,
                    addon_list: Sequence[Addon], discovery: dict[str, str], artifacts: dict[str, str],
                    policy: RemovalPolicy) -> EksWorkloadOutputs:
    """1.2: managed add-ons with their Pod Identity roles, teams, and the delivery of workload manifests."""
    EksAddons(scope, "Addons", cluster=as_icluster(cluster.cluster), removal_policy=policy, addons=[AddonProps(
        name=a.name, version=addon_version(a.name, inputs.kubernetes_version),
        access=AddonAccessProps(service_account=a.access.service_account, managed_policy=a.access.managed_policy)
        if a.access else None) for a in addon_list])
    cluster.add_access_entries([AccessEntryProps(
        principal_arn=arn, policies=[eks.AccessPolicy.from_access_policy_name(
            ACCESS_POLICIES[team.policy], access_scope_type=eks.AccessScopeType.NAMESPACE,
            namespaces=[team.namespace])]) for team in inputs.teams for arn in team.principal_arns])
    env_docs = team_documents(environment.name, inputs.teams) + ingress_documents(environment.name, inputs)
    if env_docs:
        artifacts["k8s.yaml"] = to_yaml(env_docs)
        if inputs.workload_delivery == "kubectl":
            eks.KubernetesManifest(scope, "Teams", cluster=as_icluster(cluster.cluster), manifest=env_docs,
                                   overwrite=True, prune=True)
    if inputs.workload_delivery == "argocd":
        ArgoCdCapability(scope, "ArgoCd", cluster=as_icluster(cluster.cluster),
                         idc_instance_arn=inputs.argocd.idc_instance_arn or "",
                         idc_region=inputs.argocd.idc_region or environment.region)
        region, account = environment.region or "${AWS_REGION}", environment.account or "${AWS_ACCOUNT_ID}"
        artifacts["argocd-application.yaml"] = to_yaml([argocd_application(
            inputs, environment.name, f"arn:aws:eks:{region}:{account}:cluster/{environment.stack_name}")])
    where = targets(inputs)
    discovery["eks/workload-delivery"] = inputs.workload_delivery
    discovery["eks/workload-targets"] = ",".join(sorted(t.value for t in where))
    discovery["eks/addons"] = ",".join(f"{a.name}@{addon_version(a.name, inputs.kubernetes_version)}"
                                       for a in addon_list) or "none"
    # environment reads (issue 20): the kubectl provider a service's KubernetesManifest hands its manifests to
    provider = cluster.cluster.kubectl_provider
    if provider is not None:
        discovery[KUBECTL_SERVICE_TOKEN_KEY] = provider.service_token
    return EksWorkloadOutputs(targets=where, kubernetes_version=inputs.kubernetes_version,
                              delivery=inputs.workload_delivery, pod_identity=inputs.pod_identity,
                              team_namespaces=tuple(t.namespace for t in inputs.teams),
                              ingress_classes=ingress_classes(inputs))
