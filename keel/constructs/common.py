"""Small shared vocabulary for constructs."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

# The CloudWatch Logs retention values, as the schemas' `enum` lists them.
RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS, 5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK, 14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS, 150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS, 545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS, 1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS, 2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS, 2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS, 3653: logs.RetentionDays.TEN_YEARS,
}

#: The Fluent Bit image of FireLens log routers (AWS for Fluent Bit).
FLUENT_BIT_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"


def removal_policy(*, production: bool) -> RemovalPolicy:
    """The one place that decides: production-like environments keep their data when a stack goes."""
    return RemovalPolicy.RETAIN if production else RemovalPolicy.DESTROY


def ecs_tasks_principal(scope: Construct) -> iam.ServicePrincipal:
    """ECS tasks of this account and region only (confused-deputy conditions): task and execution roles."""
    stack = Stack.of(scope)
    return iam.ServicePrincipal("ecs-tasks.amazonaws.com", conditions={
        "StringEquals": {"aws:SourceAccount": stack.account},
        "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:ecs:{stack.region}:{stack.account}:*"}})


def nag_spelled(value: str, pseudo: str) -> str:
    """How cdk-nag spells a value in a finding id: literal when the stack knows it (an environment's `account:`
    or `region:`), `<AWS::X>` for the pseudo parameter otherwise."""
    return f"<AWS::{pseudo}>" if Token.is_unresolved(value) else value


def nag_arn_prefix(scope: Construct, service: str) -> str:
    """`arn:<partition>:<service>:<region>:<account>` of `scope`'s stack, as cdk-nag spells it in a finding id."""
    stack = Stack.of(scope)
    return (f"arn:{nag_spelled(stack.partition, 'Partition')}:{service}:{nag_spelled(stack.region, 'Region')}:"
            f"{nag_spelled(stack.account, 'AccountId')}")


def firelens_cloudwatch_options(*, log_group: str, region: str, stream_prefix: str) -> dict[str, str]:
    """Fluent Bit's cloudwatch_logs output into an existing log group (the router never creates groups)."""
    return {"Name": "cloudwatch_logs", "region": region, "log_group_name": log_group,
            "log_stream_prefix": stream_prefix, "auto_create_group": "false"}

def pascal_id(key: str) -> str:
    """`db/pool-size` -> `DbPoolSize`: construct IDs derived from spec names, the same way forever."""
    return "".join(p[:1].upper() + p[1:] for p in key.replace("/", "-").replace("_", "-").replace(".", "-")
                   .split("-") if p)


def justify(construct: IConstruct, *, nag: dict[str, str] | None = None,
            checkov: dict[str, str] | None = None) -> None:
    """Acknowledge findings on one resource, each with its reason: cdk-nag rules (`Pack-Rule` ids, e.g.
    `NIST.800.53.R5-LambdaDLQ`) through CDK's validations, checkov checks (`CKV_AWS_115`) in the
    template Metadata that checkov reads. The reasons are per resource: say why *this* one is fine."""
    from aws_cdk import Acknowledgment, CfnResource, Validations

    if nag:
        Validations.of(construct).acknowledge(*(
            Acknowledgment(id=f"{rule.split('-', 1)[0]}::{rule}", reason=reason)
            for rule, reason in nag.items()))
    if checkov:
        cfn = construct if isinstance(construct, CfnResource) else construct.node.default_child
        if not isinstance(cfn, CfnResource):
            raise TypeError(f"{construct.node.path}: checkov reads Metadata of a CloudFormation resource")
        existing = (cfn.get_metadata("checkov") or {}).get("skip", [])
        cfn.add_metadata("checkov", {"skip": [*existing, *({"id": check, "comment": reason}
                                                          for check, reason in checkov.items())]})


def own_inline_policy(role: IConstruct, whose: str) -> None:
    """NIST IAMNoInlinePolicy on a role's CDK default policy, with `whose` saying which role it is."""
    justify(role, nag={"NIST.800.53.R5-IAMNoInlinePolicy": (
        f"{whose}: CDK writes the grants of this one role into its own inline policy, naming this stack's "
        "resources; it is versioned and rolled back with the stack, and a managed policy would only make "
        "the same statements attachable to other principals")})
