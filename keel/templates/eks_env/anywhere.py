"""eks-env's EKS Anywhere cluster configuration, from the template's typed inputs. Plain Python: no CDK, no I/O.
It lives with the template whose inputs it reads; keel.eksa holds what is not the template's (YAML, CRDs).

`cluster_config()` gives the documents `eksctl anywhere create cluster -f` takes (Cluster, the provider's
datacenter and machine configs, AWSIamConfig, OIDCConfig, FluxConfig); `rbac()` the bindings behind the
AWSIamConfig groups; `metallb()` MetalLB's IPAddressPool and L2Advertisement. Shapes follow the
anywhere.eks.amazonaws.com/v1alpha1 CRDs (tests validate every document against them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keel.templates.eks_env.inputs import AccessEntry, Anywhere

API = "anywhere.eks.amazonaws.com/v1alpha1"
METALLB_API = "metallb.io/v1beta1"
RBAC_API = "rbac.authorization.k8s.io/v1"
METALLB_NAMESPACE = "metallb-system"
# EKS access policies as Kubernetes RBAC: cluster_admin is system:masters (the whitepaper's Listing 6);
# the others bind Kubernetes' default ClusterRoles of the same name.
_CLUSTER_ROLES = {"admin": "admin", "edit": "edit", "view": "view"}
_DATACENTER_KIND = {"docker": "DockerDatacenterConfig", "vsphere": "VSphereDatacenterConfig",
                    "tinkerbell": "TinkerbellDatacenterConfig"}
_MACHINE_KIND = {"vsphere": "VSphereMachineConfig", "tinkerbell": "TinkerbellMachineConfig"}
Document = dict[str, Any]


@dataclass(frozen=True)
class ClusterContext:
    """What the on-premises cluster takes from its cloud environment."""

    name: str
    kubernetes_version: str
    region: str
    partition: str = "aws"


def _doc(kind: str, name: str, spec: Document, api: str = API, namespace: str | None = None) -> Document:
    metadata: Document = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api, "kind": kind, "metadata": metadata, "spec": spec}


def group_for(policy: str, namespace: str | None = None) -> str:
    """The Kubernetes group an EKS access policy becomes on EKS Anywhere."""
    if policy == "cluster_admin" and namespace is None:
        return "system:masters"
    return f"keel:{policy}" + (f":{namespace}" if namespace else "")


def groups_of(entry: AccessEntry) -> list[str]:
    groups = list(entry.kubernetes_groups)
    for policy in entry.policies:
        groups += [group_for(policy.policy, ns) for ns in policy.namespaces] or [group_for(policy.policy)]
    return list(dict.fromkeys(groups))


def username_of(entry: AccessEntry) -> str:
    """The spec's user name, else the IAM name (plus the session for roles, for the audit trail)."""
    if entry.username:
        return entry.username
    name = entry.principal_arn.rsplit("/", 1)[1]
    return f"{name}:{{{{SessionName}}}}" if entry.is_role else name


def aws_iam_config(ctx: ClusterContext, entries: Sequence[AccessEntry]) -> Document:
    """aws-iam-authenticator's mapRoles/mapUsers (whitepaper Listing 6) from the same access entries."""
    def mapping(entry: AccessEntry, arn_key: str) -> Document:
        return {arn_key: entry.principal_arn, "username": username_of(entry), "groups": groups_of(entry)}
    spec: Document = {"awsRegion": ctx.region, "backendMode": ["EKSConfigMap"], "partition": ctx.partition,
                      "mapRoles": [mapping(e, "roleARN") for e in entries if e.is_role],
                      "mapUsers": [mapping(e, "userARN") for e in entries if not e.is_role]}
    return _doc("AWSIamConfig", f"{ctx.name}-aws-iam", spec)


def _machine_ref(anywhere: Anywhere, ctx: ClusterContext, role: str) -> Document:
    return {"kind": _MACHINE_KIND[anywhere.provider], "name": f"{ctx.name}-{role}"}


def cluster(anywhere: Anywhere, ctx: ClusterContext) -> Document:
    provider = anywhere.provider
    control_plane: Document = {"count": anywhere.control_plane_count}
    worker: Document = {"name": "md-0", "count": anywhere.worker_count}
    if provider != "docker":
        control_plane["endpoint"] = {"host": anywhere.control_plane_endpoint}
        control_plane["machineGroupRef"] = _machine_ref(anywhere, ctx, "cp")
        worker["machineGroupRef"] = _machine_ref(anywhere, ctx, "workers")
    spec: Document = {
        "kubernetesVersion": ctx.kubernetes_version,
        "clusterNetwork": {
            "cniConfig": {"cilium": {}},
            "pods": {"cidrBlocks": [anywhere.pod_cidr]},
            "services": {"cidrBlocks": [anywhere.service_cidr]},
        },
        "controlPlaneConfiguration": control_plane,
        "datacenterRef": {"kind": _DATACENTER_KIND[provider], "name": ctx.name},
        "workerNodeGroupConfigurations": [worker],
        "managementCluster": {"name": ctx.name},
        "identityProviderRefs": [{"kind": "AWSIamConfig", "name": f"{ctx.name}-aws-iam"}],
    }
    if anywhere.external_etcd:
        etcd: Document = {"count": 3 if provider != "docker" else 1}
        if provider != "docker":
            etcd["machineGroupRef"] = _machine_ref(anywhere, ctx, "etcd")
        spec["externalEtcdConfiguration"] = etcd
    if anywhere.oidc.enabled:
        spec["identityProviderRefs"].append({"kind": "OIDCConfig", "name": f"{ctx.name}-oidc"})
    if anywhere.flux.enabled:
        spec["gitOpsRef"] = {"kind": "FluxConfig", "name": f"{ctx.name}-flux"}
    return _doc("Cluster", ctx.name, spec)


def datacenter(anywhere: Anywhere, ctx: ClusterContext) -> list[Document]:
    """The provider's datacenter config and one machine config per machine role."""
    if anywhere.provider == "docker":
        return [_doc("DockerDatacenterConfig", ctx.name, {})]
    roles = ["cp", "workers"] + (["etcd"] if anywhere.external_etcd else [])
    if anywhere.provider == "vsphere":
        vs = anywhere.vsphere
        docs = [_doc("VSphereDatacenterConfig", ctx.name, {
            "server": vs.server, "datacenter": vs.datacenter, "network": vs.network,
            "thumbprint": vs.thumbprint, "insecure": False})]
        for role in roles:
            machine: Document = {
                "datastore": vs.datastore, "folder": vs.folder, "resourcePool": vs.resource_pool,
                "numCPUs": vs.num_cpus, "memoryMiB": vs.memory_mib, "diskGiB": vs.disk_gib,
                "osFamily": anywhere.os_family, "cloneMode": "linkedClone" if vs.template else "fullClone"}
            if vs.template:
                machine["template"] = vs.template
            docs.append(_doc("VSphereMachineConfig", f"{ctx.name}-{role}", machine))
        return docs
    tb = anywhere.tinkerbell
    dc: Document = {"tinkerbellIP": tb.tinkerbell_ip}
    if tb.os_image_url:
        dc["osImageURL"] = tb.os_image_url
    if tb.hook_images_url:
        dc["hookImagesURLPath"] = tb.hook_images_url
    docs = [_doc("TinkerbellDatacenterConfig", ctx.name, dc)]
    for role in roles:
        # Hardware is matched by the `type` label the operator gives machines in hardware.csv.
        docs.append(_doc("TinkerbellMachineConfig", f"{ctx.name}-{role}", {
            "osFamily": anywhere.os_family, "hardwareSelector": {"type": role}}))
    return docs


def oidc_config(anywhere: Anywhere, ctx: ClusterContext) -> Document:
    o = anywhere.oidc
    return _doc("OIDCConfig", f"{ctx.name}-oidc", {
        "issuerUrl": o.issuer_url, "clientId": o.client_id, "usernameClaim": o.username_claim,
        "groupsClaim": o.groups_claim})


def flux_config(anywhere: Anywhere, ctx: ClusterContext) -> Document:
    f = anywhere.flux
    spec: Document = {"branch": f.branch, "clusterConfigPath": f.cluster_config_path or f"clusters/{ctx.name}",
                      "systemNamespace": "flux-system"}
    if f.github_owner:
        spec["github"] = {"owner": f.github_owner, "repository": f.github_repository, "personal": False}
    else:
        spec["git"] = {"repositoryUrl": f.repository_url, "sshKeyAlgorithm": "ecdsa"}
    return _doc("FluxConfig", f"{ctx.name}-flux", spec)


def cluster_config(anywhere: Anywhere, ctx: ClusterContext, entries: Sequence[AccessEntry]) -> list[Document]:
    """Everything `eksctl anywhere create cluster -f` reads, Cluster first."""
    docs = [cluster(anywhere, ctx), *datacenter(anywhere, ctx), aws_iam_config(ctx, entries)]
    if anywhere.oidc.enabled:
        docs.append(oidc_config(anywhere, ctx))
    if anywhere.flux.enabled:
        docs.append(flux_config(anywhere, ctx))
    return docs


def rbac(entries: Sequence[AccessEntry]) -> list[Document]:
    """Bindings that give the keel:* groups of the AWSIamConfig the access their EKS policy gives in
    the cloud (system:masters needs none)."""
    docs: list[Document] = []
    seen: set[str] = set()
    for entry in entries:
        for policy in entry.policies:
            role = _CLUSTER_ROLES.get(policy.policy, "cluster-admin")
            for ns in policy.namespaces or (None,):
                group = group_for(policy.policy, ns)
                if group == "system:masters" or group in seen:
                    continue
                seen.add(group)
                name = group.replace(":", "-")
                binding: Document = {
                    "apiVersion": RBAC_API, "kind": "RoleBinding" if ns else "ClusterRoleBinding",
                    "metadata": {"name": name, **({"namespace": ns} if ns else {})},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]}
                docs.append(binding)
    return docs


def metallb(addresses: str, pool: str = "default") -> list[Document]:
    """MetalLB in layer-2 mode: one address pool, announced by ARP (whitepaper: LoadBalancer services
    on-premises)."""
    return [
        _doc("IPAddressPool", pool, {"addresses": [addresses]}, api=METALLB_API, namespace=METALLB_NAMESPACE),
        _doc("L2Advertisement", pool, {"ipAddressPools": [pool]}, api=METALLB_API, namespace=METALLB_NAMESPACE),
    ]
