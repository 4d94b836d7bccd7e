"""eks-env 1.2's EKS managed add-ons: which exist, the version of each per Kubernetes version (the one table
to bump), where each runs, and the AWS access of those that call AWS. Plain Python: no CDK.

Versions are pinned, never "latest": a new add-on build reaches a cluster only through a change to this
table, reviewed like any other (`aws eks describe-addon-versions --kubernetes-version 1.33 --addon-name X`
lists what EKS offers). An add-on that calls AWS gets its own IAM role through EKS Pod Identity, never
permissions on the node role.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The table: Kubernetes minor -> add-on -> version. Every version of the schema's kubernetes_version enum
#: has every add-on (a test holds the table to the schema).
VERSIONS: dict[str, dict[str, str]] = {
    "1.31": {
        "vpc-cni": "v1.19.6-eksbuild.7", "coredns": "v1.11.4-eksbuild.14", "kube-proxy": "v1.31.10-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.8-eksbuild.2", "aws-ebs-csi-driver": "v1.46.0-eksbuild.1",
        "metrics-server": "v0.8.0-eksbuild.1", "amazon-cloudwatch-observability": "v4.2.0-eksbuild.1",
    },
    "1.32": {
        "vpc-cni": "v1.19.6-eksbuild.7", "coredns": "v1.11.4-eksbuild.14", "kube-proxy": "v1.32.6-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.8-eksbuild.2", "aws-ebs-csi-driver": "v1.46.0-eksbuild.1",
        "metrics-server": "v0.8.0-eksbuild.1", "amazon-cloudwatch-observability": "v4.2.0-eksbuild.1",
    },
    "1.33": {
        "vpc-cni": "v1.19.6-eksbuild.7", "coredns": "v1.12.2-eksbuild.4", "kube-proxy": "v1.33.0-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.8-eksbuild.2", "aws-ebs-csi-driver": "v1.46.0-eksbuild.1",
        "metrics-server": "v0.8.0-eksbuild.1", "amazon-cloudwatch-observability": "v4.2.0-eksbuild.1",
    },
    "1.34": {
        "vpc-cni": "v1.20.1-eksbuild.1", "coredns": "v1.12.3-eksbuild.1", "kube-proxy": "v1.34.0-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.8-eksbuild.2", "aws-ebs-csi-driver": "v1.48.0-eksbuild.1",
        "metrics-server": "v0.8.0-eksbuild.1", "amazon-cloudwatch-observability": "v4.3.0-eksbuild.1",
    },
}


@dataclass(frozen=True)
class AddonAccess:
    """An add-on's AWS access: the service account its controller runs as, and the AWS managed policy EKS
    documents for it (the policy tracks the add-on's API calls as AWS changes them)."""

    namespace: str
    service_account: str
    managed_policy: str


@dataclass(frozen=True)
class Addon:
    name: str
    #: The schema's switch (addons.<field>).
    field: str
    #: Built into EKS Auto Mode: not installed as a managed add-on there.
    auto_mode_builtin: bool = False
    #: A DaemonSet-only add-on: nothing to run on Fargate.
    daemonset: bool = False
    access: AddonAccess | None = None


#: In install order (the Pod Identity agent before the add-ons whose roles it serves).
ADDONS: tuple[Addon, ...] = (
    Addon("eks-pod-identity-agent", "eks_pod_identity_agent", auto_mode_builtin=True, daemonset=True),
    Addon("vpc-cni", "vpc_cni", auto_mode_builtin=True, daemonset=True,
          access=AddonAccess("kube-system", "aws-node", "AmazonEKS_CNI_Policy")),
    Addon("kube-proxy", "kube_proxy", auto_mode_builtin=True, daemonset=True),
    Addon("coredns", "coredns", auto_mode_builtin=True),
    Addon("aws-ebs-csi-driver", "aws_ebs_csi_driver", auto_mode_builtin=True,
          access=AddonAccess("kube-system", "ebs-csi-controller-sa", "service-role/AmazonEBSCSIDriverPolicy")),
    Addon("metrics-server", "metrics_server"),
    Addon("amazon-cloudwatch-observability", "amazon_cloudwatch_observability", daemonset=True,
          access=AddonAccess("amazon-cloudwatch", "cloudwatch-agent", "CloudWatchAgentServerPolicy")),
)
BY_NAME = {a.name: a for a in ADDONS}


def installed(switches: object, *, capacity: str) -> list[Addon]:
    """The add-ons a cluster of `capacity` gets as managed add-ons: switched on in the spec, not built into
    Auto Mode, and not DaemonSet-only on Fargate (where Pod Identity does not run either)."""
    out = []
    for addon in ADDONS:
        if not getattr(switches, addon.field):
            continue
        if capacity == "auto_mode" and addon.auto_mode_builtin:
            continue
        if capacity == "fargate" and (addon.daemonset or addon.access is not None):
            continue
        out.append(addon)
    return out


def version(addon: str, kubernetes_version: str) -> str:
    return VERSIONS[kubernetes_version][addon]
