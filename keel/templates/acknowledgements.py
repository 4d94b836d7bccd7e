"""NIST 800-53 R5 and checkov acknowledgements for the resources of ECS Anywhere, EKS hybrid nodes, the EKS
Connector and the config plane's rotation function, each with its reason.

They sit here, at the point where the environment builders compose those constructs, rather than in the
constructs themselves, only because issue 13's custom-resource and rotation work rewrites those constructs
in parallel; when it lands they belong next to the resources in the constructs (style: "the acknowledgement
sits in the construct with its reason"). Every reason is about the one resource it is attached to.
"""

from __future__ import annotations

from constructs import IConstruct

from keel.constructs.common import justify, own_inline_policy
from keel.constructs.config_plane import ConfigPlane
from keel.constructs.ecs_anywhere import EcsAnywhere
from keel.constructs.eks_connector import EksConnectorRegistration
from keel.constructs.eks_hybrid import HybridNodes
from keel.constructs.function import KeelFunction


def _provider(provider: KeelFunction, api: str) -> None:
    """A custom-resource provider: CloudFormation calls it during deploys; it calls one AWS API."""
    outside = (f"The custom resource's provider calls only the {api} API and answers CloudFormation's pre-signed "
               "S3 URL; it runs during deploys, and ENIs in the VPC would make the stack's deletion wait for them")
    rare = ("CloudFormation invokes it once per stack operation on its resource; a reserved concurrency would "
            "take account capacity for a function that runs a few times a month")
    justify(provider.function, nag={"NIST.800.53.R5-LambdaInsideVPC": outside,
                                    "NIST.800.53.R5-LambdaConcurrency": rare},
            checkov={"CKV_AWS_117": outside, "CKV_AWS_115": rare})
    if provider.function.role is not None:
        own_inline_policy(provider.function.role, f"The {api} custom resource provider's execution role")


def _activation_secret(secret: IConstruct, what: str) -> None:
    justify(secret, nag={"NIST.800.53.R5-SecretsManagerRotationEnabled": (
        f"It holds {what}, which cannot be rotated in place: it expires on its own, and a fresh one comes only "
        "from a new activation (the spec's epoch), which replaces this value")})


def ecs_anywhere(anywhere: EcsAnywhere) -> None:
    own_inline_policy(anywhere.instance_role, "The role ECS Anywhere's registered servers assume")
    own_inline_policy(anywhere.execution_role, "The execution role of the environment's EXTERNAL tasks")
    _provider(anywhere.activation.provider, "SSM (hybrid activation)")
    _activation_secret(anywhere.activation.secret, "the SSM hybrid activation code of ECS Anywhere")


def hybrid_nodes(nodes: HybridNodes) -> None:
    own_inline_policy(nodes.role, "The role EKS hybrid nodes assume (SSM or IAM Roles Anywhere)")
    if nodes.activation is not None:
        _provider(nodes.activation.provider, "SSM (hybrid activation)")
        _activation_secret(nodes.activation.secret, "the SSM hybrid activation code of the hybrid nodes")


def eks_connector(connector: EksConnectorRegistration) -> None:
    own_inline_policy(connector.agent_role, "The role the EKS Connector agent assumes")
    _provider(connector.provider, "EKS (RegisterCluster)")
    _activation_secret(connector.secret, "the EKS Connector's activation code from RegisterCluster")


def config_rotation(config: ConfigPlane) -> None:
    if config.rotation is None:
        return
    fn = config.rotation.function
    sync = ("Secrets Manager invokes it synchronously for each rotation step and records a failure on the secret "
            "(the rotation stays pending and is retried); a DLQ would never receive anything")
    outside = ("Generic rotation calls only the Secrets Manager API (it generates the new value; there is no "
               "database to reach), so it needs no VPC placement, endpoint or NAT")
    rare = ("Secrets Manager runs one rotation per secret at a time, every rotation_days; a reserved concurrency "
            "would only take capacity from the account pool")
    justify(fn, nag={"NIST.800.53.R5-LambdaDLQ": sync, "NIST.800.53.R5-LambdaInsideVPC": outside,
                     "NIST.800.53.R5-LambdaConcurrency": rare},
            checkov={"CKV_AWS_116": sync, "CKV_AWS_117": outside, "CKV_AWS_115": rare})
    own_inline_policy(config.rotation.role, "The config plane's rotation function's execution role")
