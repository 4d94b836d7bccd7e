"""eks-env 1.2's Kubernetes side, as plain documents (no CDK, no I/O): the teams' namespaces and quotas,
where workloads can land, and the Argo CD Application that syncs the environment's GitOps path."""

from __future__ import annotations

from typing import Any

from keel.contract.outputs import WorkloadTarget
from keel.templates.eks_env.inputs import EksEnvInputsV12, Team

Document = dict[str, Any]
#: The namespace the EKS Argo CD capability runs its Applications in.
ARGOCD_NAMESPACE = "argocd"


def labels(environment: str) -> dict[str, str]:
    return {"app.kubernetes.io/managed-by": "keel", "keel/environment": environment}


def team_documents(environment: str, teams: tuple[Team, ...]) -> list[Document]:
    """A Namespace, a ResourceQuota (it also caps the pods) and a LimitRange a team."""
    docs: list[Document] = []
    for team in teams:
        meta = {"labels": {**labels(environment), "keel/team": team.name}}
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": team.namespace, **meta}})
        q = team.quota
        docs.append({"apiVersion": "v1", "kind": "ResourceQuota",
                     "metadata": {"name": "keel-team-quota", "namespace": team.namespace, **meta},
                     "spec": {"hard": {"requests.cpu": q.requests_cpu, "requests.memory": q.requests_memory,
                                       "limits.memory": q.limits_memory, "pods": str(q.pods)}}})
        # A quota on requests and memory limits refuses pods without them: these defaults fill them in.
        docs.append({"apiVersion": "v1", "kind": "LimitRange",
                     "metadata": {"name": "keel-team-defaults", "namespace": team.namespace, **meta},
                     "spec": {"limits": [{"type": "Container", "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                                          "default": {"memory": "256Mi"}}]}})
    return docs


def targets(inputs: EksEnvInputsV12) -> frozenset[WorkloadTarget]:
    out = {{"node_groups": WorkloadTarget.CLOUD_NODES, "fargate": WorkloadTarget.FARGATE,
            "auto_mode": WorkloadTarget.AUTO_MODE}[inputs.cluster_capacity]}
    if inputs.hybrid_nodes.enabled:
        out.add(WorkloadTarget.HYBRID_NODES)
    if inputs.anywhere.enabled and inputs.anywhere.flux.enabled:
        out.add(WorkloadTarget.ANYWHERE)
    return frozenset(out)


def environment_dir(inputs: EksEnvInputsV12, environment: str) -> str:
    """The repository folder Argo CD syncs for the cloud cluster (keel gitops writes it)."""
    return f"{inputs.gitops_path}/{environment}"


def anywhere_dir(inputs: EksEnvInputsV12, environment: str) -> str:
    """The repository folder for the EKS Anywhere cluster: inside the path its Flux syncs
    (flux.cluster_config_path, clusters/<cluster name> by default), so Flux applies what keel gitops writes."""
    flux = inputs.anywhere.flux
    name = inputs.anywhere.cluster_name or f"{environment}-anywhere"
    return f"{flux.cluster_config_path or f'clusters/{name}'}/keel-workloads"


def argocd_application(inputs: EksEnvInputsV12, environment: str, cluster_arn: str = "${CLUSTER_ARN}") -> Document:
    """The Application that syncs the environment's GitOps folder into the cluster (applied once, see README)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": f"keel-{environment}", "namespace": ARGOCD_NAMESPACE, "labels": labels(environment)},
        "spec": {
            "project": "default",
            "source": {"repoURL": inputs.argocd.repository_url, "targetRevision": inputs.argocd.revision,
                       "path": environment_dir(inputs, environment), "directory": {"recurse": True}},
            "destination": {"name": cluster_arn},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


#: Auto Mode's built-in load balancing: one IngressClass a scheme (IngressClassParams set the scheme).
INGRESS_CONTROLLER = "eks.amazonaws.com/alb"


def ingress_classes(inputs: EksEnvInputsV12) -> dict[str, str]:
    """scheme -> IngressClass name, where the cluster balances HTTP itself (Auto Mode); empty elsewhere."""
    if inputs.cluster_capacity != "auto_mode":
        return {}
    return {scheme: f"keel-alb-{scheme}" for scheme in ("internal", "internet-facing")}


def ingress_documents(environment: str, inputs: EksEnvInputsV12) -> list[Document]:
    docs: list[Document] = []
    for scheme, name in ingress_classes(inputs).items():
        docs.append({"apiVersion": "eks.amazonaws.com/v1", "kind": "IngressClassParams",
                     "metadata": {"name": name, "labels": labels(environment)}, "spec": {"scheme": scheme}})
        docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                     "metadata": {"name": name, "labels": labels(environment)},
                     "spec": {"controller": INGRESS_CONTROLLER, "parameters": {
                         "apiGroup": "eks.amazonaws.com", "kind": "IngressClassParams", "name": name}}})
    return docs
