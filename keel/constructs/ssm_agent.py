"""What the SSM agent on an on-premises server (an SSM hybrid managed instance) may do, in place of
AmazonSSMManagedInstanceCore.

That managed policy also grants ssm:GetParameter/GetParameters on every parameter of the account and region:
one compromised edge server could read every String parameter there. Here the agent keeps the actions
AWS's policy gives it for its own channel, associations, inventory and compliance, and parameter reads are
limited to the environment's own path, `/keel/<environment>/*`.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Token, Validations
from aws_cdk import aws_iam as iam

from keel.constructs.common import justify

# The agent's actions in AmazonSSMManagedInstanceCore, less its parameter reads.
AGENT_ACTIONS = (
    "ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument",
    "ssm:DescribeDocument", "ssm:GetManifest", "ssm:ListAssociations", "ssm:ListInstanceAssociations",
    "ssm:PutInventory", "ssm:PutComplianceItems", "ssm:PutConfigurePackageResult", "ssm:UpdateAssociationStatus",
    "ssm:UpdateInstanceAssociationStatus", "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
    "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply",
)
# Why the agent's statement names no resource: one sentence, for the role's IAM5[Resource::*] reason.
WILDCARD_REASON = ("the SSM agent's own actions (those of AmazonSSMManagedInstanceCore without its parameter "
                   "reads) act for the managed instance the server becomes at registration, whose mi- id does not "
                   "exist at deploy time, and on the messages, documents and associations SSM sends it")


def _shown(value: str, pseudo: str) -> str:
    return f"<AWS::{pseudo}>" if Token.is_unresolved(value) else value


def grant_ssm_agent(role: iam.Role, *, environment: str) -> None:
    """The agent's statements on `role`, and the acknowledgement of the environment's parameter path (the
    caller's IAM5[Resource::*] reason includes WILDCARD_REASON)."""
    stack = Stack.of(role)
    role.add_to_principal_policy(iam.PolicyStatement(sid="SsmAgent", actions=list(AGENT_ACTIONS), resources=["*"]))
    role.add_to_principal_policy(iam.PolicyStatement(
        sid="SsmAgentEnvironmentParameters", actions=["ssm:GetParameter", "ssm:GetParameters"],
        resources=[f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:parameter/keel/{environment}/*"]))
    shown = (f"arn:{_shown(stack.partition, 'Partition')}:ssm:{_shown(stack.region, 'Region')}:"
             f"{_shown(stack.account, 'AccountId')}:parameter/keel/{environment}/*")
    policy = role.node.try_find_child("DefaultPolicy")
    if isinstance(policy, iam.Policy):
        justify(policy, checkov={"CKV_AWS_111": (
            "the SSM agent's write actions (PutInventory, UpdateInstanceInformation, association status and the "
            "ec2messages/ssmmessages channel) act on the managed instance this server becomes at registration, "
            "whose mi- id does not exist at deploy time; they are AmazonSSMManagedInstanceCore's agent actions "
            f"without its parameter reads, which are limited to /keel/{environment}/*")})
    Validations.of(role).acknowledge(Acknowledgment(
        id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{shown}]",
        reason=f"parameter reads of the SSM agent (documents and agent configuration it fetches) limited to the "
               f"environment's own path /keel/{environment}/, not every parameter of the account and region"))
