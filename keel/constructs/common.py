"""Small shared vocabulary for constructs."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

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


def firelens_cloudwatch_options(*, log_group: str, region: str, stream_prefix: str) -> dict[str, str]:
    """Fluent Bit's cloudwatch_logs output into an existing log group (the router never creates groups)."""
    return {"Name": "cloudwatch_logs", "region": region, "log_group_name": log_group,
            "log_stream_prefix": stream_prefix, "auto_create_group": "false"}

def pascal_id(key: str) -> str:
    """`db/pool-size` -> `DbPoolSize`: construct IDs derived from spec names, the same way forever."""
    return "".join(p[:1].upper() + p[1:] for p in key.replace("/", "-").replace("_", "-").replace(".", "-")
                   .split("-") if p)
