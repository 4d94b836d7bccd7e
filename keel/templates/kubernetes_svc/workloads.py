"""Where kubernetes-svc manifests go, computed from the platform model alone (no CDK): the builder and
`keel gitops` use the same functions, so cdk.out/<stack>.k8s.yaml and the GitOps path hold the same text.

Layout in the platform repository:
- cloud and hybrid instances of an environment with workload_delivery argocd:
  `<gitops_path>/<environment>/<service>-<instance>.yaml` (the environment's Argo CD Application syncs it);
- anywhere instances: `<EKS Anywhere Flux path>/keel-workloads/<service>-<instance>.yaml` (Flux syncs it);
- with workload_delivery kubectl, CloudFormation applies cloud and hybrid instances: nothing in the repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from keel.eksa import to_yaml
from keel.spec.model import Environment, PlatformModel, ServiceInstance
from keel.templates.eks_env.inputs import EksEnvInputsV12
from keel.templates.eks_env.workloads import anywhere_dir, environment_dir, ingress_classes
from keel.templates.kubernetes_svc.inputs import KubernetesSvcInputs
from keel.templates.kubernetes_svc.manifests import Document, ManifestContext, render, validate
from keel.templates.vpc_env.inputs import network_cidr

TEMPLATE = "kubernetes-svc"


def context_for(service: str, instance: ServiceInstance, inputs: KubernetesSvcInputs, *,
                team_namespaces: tuple[str, ...], vpc_cidr: str,
                ingress_classes: Mapping[str, str]) -> ManifestContext:
    image = str(instance.image_override) if instance.image_override is not None else inputs.image
    ingress_class = None
    if inputs.ingress.enabled:
        ingress_class = ingress_classes["internet-facing" if inputs.ingress.internet_facing else "internal"]
    return ManifestContext(environment=instance.environment, service=service, instance=instance.name, image=image,
                           team_namespace=inputs.namespace_for(service) in team_namespaces
                           and inputs.placement != "anywhere",
                           vpc_cidr=vpc_cidr, ingress_class=ingress_class)


def rendered(ctx: ManifestContext, inputs: KubernetesSvcInputs) -> list[Document]:
    return render(ctx, inputs)


def _env_inputs(env: Environment) -> EksEnvInputsV12:
    inputs = env.inputs
    if not isinstance(inputs, EksEnvInputsV12):  # the spec check refuses kubernetes-svc there
        raise ValueError(f"environment {env.name} is not eks-env 1.2 or later")
    return inputs


def instance_documents(model: PlatformModel, instance: ServiceInstance) -> list[Document]:
    env = model.environment(instance.environment)
    env_inputs = _env_inputs(env)
    inputs = instance.inputs
    assert isinstance(inputs, KubernetesSvcInputs)
    ctx = context_for(instance.service, instance, inputs, team_namespaces=tuple(t.namespace for t in env_inputs.teams),
                      vpc_cidr=network_cidr(env_inputs.network), ingress_classes=ingress_classes(env_inputs))
    return render(ctx, inputs)


def gitops_path(model: PlatformModel, instance: ServiceInstance) -> PurePosixPath | None:
    """The file of an instance in the repository, or None when CloudFormation applies it (kubectl)."""
    env = model.environment(instance.environment)
    env_inputs = _env_inputs(env)
    inputs = instance.inputs
    assert isinstance(inputs, KubernetesSvcInputs)
    name = f"{instance.service}-{instance.name}.yaml"
    if inputs.placement == "anywhere":
        return PurePosixPath(anywhere_dir(env_inputs, env.name)) / name
    if env_inputs.workload_delivery == "argocd":
        return PurePosixPath(environment_dir(env_inputs, env.name)) / name
    return None


def gitops_files(model: PlatformModel) -> dict[PurePosixPath, str]:
    """Every file keel gitops writes, validated, by repository path."""
    files: dict[PurePosixPath, str] = {}
    for instance in model.instances:
        if instance.template.name != TEMPLATE:
            continue
        path = gitops_path(model, instance)
        if path is None:
            continue
        documents = instance_documents(model, instance)
        validate(documents, _env_inputs(model.environment(instance.environment)).cluster_kubernetes_version)
        files[path] = to_yaml(documents)
    return files


def gitops_folders(model: PlatformModel) -> set[PurePosixPath]:
    """Every folder keel gitops owns files in: each eks-env 1.2 environment's (Argo CD) and its EKS Anywhere one."""
    folders: set[PurePosixPath] = set()
    for env in model.environments:
        if isinstance(env.inputs, EksEnvInputsV12):
            if env.inputs.workload_delivery == "argocd":
                folders.add(PurePosixPath(environment_dir(env.inputs, env.name)))
            if env.inputs.anywhere.enabled and env.inputs.anywhere.flux.enabled:
                folders.add(PurePosixPath(anywhere_dir(env.inputs, env.name)))
    return folders
