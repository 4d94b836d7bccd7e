"""The nodeadm NodeConfig an on-premises server needs to join the cluster as an EKS hybrid node.

CDK-free. Values not known at synth time (activation, Roles Anywhere ARNs) are `${NAME}` placeholders
for `envsubst`; the deployed copy in Parameter Store has the ARNs filled in. The SSM activation code is
never in either: it is read from its secret on the server.
"""

from __future__ import annotations

from typing import Any

API = "node.eks.aws/v1alpha1"
CERTIFICATE_PATH = "/etc/iam/pki/server.pem"
PRIVATE_KEY_PATH = "/etc/iam/pki/server.key"


def node_config(*, cluster_name: str, region: str, credentials: str, role_arn: str = "${HYBRID_ROLE_ARN}",
                trust_anchor_arn: str = "${TRUST_ANCHOR_ARN}", profile_arn: str = "${PROFILE_ARN}") -> dict[str, Any]:
    if credentials == "ssm":
        hybrid: dict[str, Any] = {"ssm": {"activationCode": "${ACTIVATION_CODE}", "activationId": "${ACTIVATION_ID}"}}
    else:
        hybrid = {"iamRolesAnywhere": {
            "nodeName": "${NODE_NAME}", "trustAnchorArn": trust_anchor_arn, "profileArn": profile_arn,
            "roleArn": role_arn, "certificatePath": CERTIFICATE_PATH, "privateKeyPath": PRIVATE_KEY_PATH}}
    return {"apiVersion": API, "kind": "NodeConfig",
            "spec": {"cluster": {"name": cluster_name, "region": region}, "hybrid": hybrid}}
