"""kubernetes-svc's manifests from its typed inputs: plain dicts, no CDK, no I/O, no deploy-time values, so the
same text goes to cdk.out, to the kubectl provider and to the GitOps path, and `keel gitops --check` can
compare them without synthesizing.

Every document is validated against the Kubernetes OpenAPI schema (kubernetes-validate's bundled JSON
schemas of the cluster's Kubernetes version) before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keel.contract.naming import parameter_name, secret_name
from keel.templates.kubernetes_svc.inputs import KubernetesSvcInputs

Document = dict[str, Any]
#: The node label EKS puts on hybrid nodes (and Auto Mode's `auto`, managed node groups' `ec2`...).
COMPUTE_TYPE = "eks.amazonaws.com/compute-type"
HYBRID = "hybrid"
PORT_NAME = "http"


@dataclass(frozen=True)
class ManifestContext:
    environment: str
    service: str
    instance: str
    #: The image the pods run: the spec's, or the one a service pipeline built.
    image: str
    #: True: the namespace is a team's (the environment creates it); False: the service's own.
    team_namespace: bool
    #: The environment's VPC CIDR: an ingress load balancer's source (pods get VPC addresses).
    vpc_cidr: str
    ingress_class: str | None = None


def labels(ctx: ManifestContext) -> dict[str, str]:
    return {"app.kubernetes.io/name": ctx.service, "app.kubernetes.io/instance": ctx.instance,
            "app.kubernetes.io/managed-by": "keel", "keel/environment": ctx.environment}


def selector(ctx: ManifestContext) -> dict[str, str]:
    return {"app.kubernetes.io/name": ctx.service, "app.kubernetes.io/instance": ctx.instance}


def placement(where: str) -> Document:
    """Node selection: hybrid pods onto EKS Hybrid Nodes only (their compute-type label, and a toleration for
    the taint sites commonly put on them); cloud pods never onto hybrid nodes; EKS Anywhere has no such label."""
    if where == HYBRID:
        return {"nodeSelector": {COMPUTE_TYPE: HYBRID},
                "tolerations": [{"key": COMPUTE_TYPE, "operator": "Equal", "value": HYBRID, "effect": "NoSchedule"}]}
    if where == "cloud":
        return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": COMPUTE_TYPE, "operator": "NotIn", "values": [HYBRID]}]}]}}}}
    return {}


def _env(ctx: ManifestContext, inputs: KubernetesSvcInputs) -> list[Document]:
    env = [{"name": v.name, "value": v.value} for v in inputs.environment_variables]
    env += [{"name": c.name, "value": parameter_name(ctx.environment, ctx.service, c.key)} for c in inputs.config]
    env += [{"name": s.name, "value": secret_name(ctx.environment, ctx.service, s.key)} for s in inputs.secrets]
    env += [{"name": "KEEL_ENVIRONMENT", "value": ctx.environment}, {"name": "KEEL_SERVICE", "value": ctx.service}]
    return env


def _probe(inputs: KubernetesSvcInputs) -> Document:
    p = inputs.probes
    return {"httpGet": {"path": p.path, "port": PORT_NAME}, "initialDelaySeconds": p.initial_delay_seconds,
            "periodSeconds": p.period_seconds, "failureThreshold": p.failure_threshold}


def _container(ctx: ManifestContext, inputs: KubernetesSvcInputs) -> Document:
    """The service's one container: least privilege (non-root, read-only root, no capabilities), probed."""
    name = ctx.service
    limits = {"memory": inputs.resources.memory_limit}
    if inputs.resources.cpu_limit:
        limits["cpu"] = inputs.resources.cpu_limit
    return {
        "name": name, "image": ctx.image, "ports": [{"name": PORT_NAME, "containerPort": inputs.port}],
        "env": _env(ctx, inputs),
        "resources": {"requests": {"cpu": inputs.resources.cpu_request, "memory": inputs.resources.memory_request},
                      "limits": limits},
        "readinessProbe": _probe(inputs), "livenessProbe": _probe(inputs),
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
        # The root file system is read-only: /tmp is the one writable place (scratch, not kept).
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def render(ctx: ManifestContext, inputs: KubernetesSvcInputs) -> list[Document]:
    """The instance's documents, in apply order."""
    ns, name, meta_labels = inputs.namespace_for(ctx.service), ctx.service, labels(ctx)

    def meta(kind_name: str = name) -> Document:
        return {"name": kind_name, "namespace": ns, "labels": meta_labels}

    docs: list[Document] = []
    if not ctx.team_namespace:
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": meta_labels}})
    docs.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(),
                 "automountServiceAccountToken": False})
    container = _container(ctx, inputs)
    pod_spec: Document = {"serviceAccountName": name, "containers": [container],
                          "volumes": [{"name": "tmp", "emptyDir": {}}],
                          "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                          **placement(inputs.placement)}
    spec: Document = {"selector": {"matchLabels": selector(ctx)},
                      "template": {"metadata": {"labels": meta_labels}, "spec": pod_spec}}
    if not inputs.autoscaling.enabled:
        spec = {"replicas": inputs.replicas, **spec}
    docs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(), "spec": spec})
    docs.append({"apiVersion": "v1", "kind": "Service", "metadata": meta(), "spec": {
        "type": "ClusterIP", "selector": selector(ctx),
        "ports": [{"name": PORT_NAME, "port": 80, "targetPort": PORT_NAME, "protocol": "TCP"}]}})
    if inputs.autoscaling.enabled:
        a = inputs.autoscaling
        docs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta(), "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": a.min_replicas, "maxReplicas": a.max_replicas,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": a.target_cpu_percent}}}]}})
    if inputs.disruption_budget.enabled:
        docs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta(), "spec": {
            "minAvailable": inputs.disruption_budget.min_available, "selector": {"matchLabels": selector(ctx)}}})
    # In: the port from pods of the namespace, and from the VPC when a load balancer sends traffic (ip targets).
    sources: list[Document] = [{"podSelector": {}}]
    if ctx.ingress_class:
        sources.append({"ipBlock": {"cidr": ctx.vpc_cidr}})
    docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(), "spec": {
        "podSelector": {"matchLabels": selector(ctx)}, "policyTypes": ["Ingress"],
        "ingress": [{"from": sources, "ports": [{"port": inputs.port, "protocol": "TCP"}]}]}})
    if ctx.ingress_class:
        docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(), "spec": {
            "ingressClassName": ctx.ingress_class,
            "rules": [{"http": {"paths": [{"path": inputs.ingress.path, "pathType": "Prefix", "backend": {
                "service": {"name": name, "port": {"name": PORT_NAME}}}}]}}]}})
    return docs


class InvalidManifest(ValueError):
    """A rendered document the Kubernetes schema refuses (a Keel bug: the input schema should have caught it)."""


def validate(documents: Sequence[Document], kubernetes_version: str) -> None:
    """Each document against the Kubernetes OpenAPI schema of `kubernetes_version` (strict: no unknown fields)."""
    import kubernetes_validate  # a few hundred ms: only where manifests are rendered

    version = _schema_version(kubernetes_version)
    for doc in documents:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            raise InvalidManifest(f"{where}: {error.message} (at {'.'.join(map(str, error.path))})") from None


def _schema_version(kubernetes_version: str) -> str:
    """The newest schema kubernetes-validate ships for that minor (`1.33` -> `1.33.x`)."""
    import kubernetes_validate.utils as utils

    versions = [v for v in utils.all_versions() if v.startswith(f"{kubernetes_version}.")]
    if not versions:
        raise InvalidManifest(f"kubernetes-validate has no schema for Kubernetes {kubernetes_version}")
    return max(versions, key=lambda v: tuple(int(p) for p in v.split(".")))
