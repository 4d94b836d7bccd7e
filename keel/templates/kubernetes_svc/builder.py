"""kubernetes-svc 1.x: the manifests (always written to cdk.out/<stack>.k8s.yaml), their delivery (kubectl:
a KubernetesManifest; argocd and anywhere: the GitOps path keel gitops writes), and the service account's
AWS access through an EKS Pod Identity association whose role reads exactly the service's config path."""

from __future__ import annotations

from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from keel.constructs.assembly_file import AssemblyFile
from keel.constructs.common import own_inline_policy
from keel.constructs.config_plane import grant_config_read
from keel.constructs.eks_addons import pod_identity_role
from keel.contract.outputs import EksEnvOutputs
from keel.eksa import to_yaml
from keel.spec.model import Service, ServiceInstance
from keel.templates.kubernetes_svc.inputs import KubernetesSvcInputs
from keel.templates.kubernetes_svc.manifests import validate
from keel.templates.kubernetes_svc.workloads import context_for, rendered


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: KubernetesSvcInputs,
          pipeline: None, environment: EksEnvOutputs) -> dict[str, str]:
    workloads = environment.workloads
    if workloads is None:  # the spec check refuses environments before eks-env 1.2
        raise ValueError(f"environment {environment.name} ({environment.template}) has no workload delivery")
    ctx = context_for(service.name, instance, inputs, team_namespaces=workloads.team_namespaces,
                      vpc_cidr=environment.vpc_cidr, ingress_classes=workloads.ingress_classes)
    documents = rendered(ctx, inputs)
    validate(documents, workloads.kubernetes_version)
    AssemblyFile(scope, "Manifests", name="k8s.yaml", content=to_yaml(documents))
    namespace = inputs.namespace_for(service.name)
    outputs = {"namespace": namespace, "service-account": service.name, "placement": inputs.placement}
    if inputs.placement == "anywhere":
        outputs["delivery"] = "flux"
        return outputs
    outputs["delivery"] = workloads.delivery
    if inputs.needs_aws:
        role = pod_identity_role(scope, "PodRole", description=f"Pods of {service.name} ({instance.name}): "
                                 f"service account {namespace}/{service.name} through EKS Pod Identity")
        grant_config_read(role, environment=environment.name, service=service.name, key=environment.key)
        own_inline_policy(role, f"The Pod Identity role of {service.name}'s pods")
        for i, permission in enumerate(inputs.aws_permissions):
            role.add_to_principal_policy(iam.PolicyStatement(
                sid=f"Declared{i}", actions=list(permission.actions), resources=list(permission.resources)))
        association = eks_l1.CfnPodIdentityAssociation(
            scope, "PodIdentity", cluster_name=environment.cluster.cluster_name, namespace=namespace,
            service_account=service.name, role_arn=role.role_arn)
        outputs["role-arn"] = role.role_arn
        outputs["pod-identity-association-arn"] = association.attr_association_arn
    if workloads.delivery == "kubectl":
        # Applied after the Pod Identity association exists, so the first pods already get credentials.
        manifest = eks.KubernetesManifest(scope, "Workload", cluster=environment.cluster, manifest=documents,
                                          overwrite=True, prune=True)
        if inputs.needs_aws:
            manifest.node.add_dependency(association)
    return outputs
