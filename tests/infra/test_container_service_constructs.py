"""Keel's container service constructs on their own: IDs relative to the construct, CDK objects exposed."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from keel.constructs.container_service import ContainerProps, DeploymentProps, FargateContainerService


def two_services() -> tuple[cdk.Stack, list[FargateContainerService]]:
    stack = cdk.Stack(cdk.App(builtin_cloud_formation_validation=False), "Two")  # validation: the default platform's
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc)
    key = kms.Key(stack, "Key")
    services = [FargateContainerService(
        stack, name, vpc=vpc, cluster=cluster, public=False, log_retention=logs.RetentionDays.ONE_WEEK,
        removal_policy=cdk.RemovalPolicy.DESTROY, security_group_description=f"tasks of {name}",
        deployment=DeploymentProps(desired_count=1, min_healthy_percent=100, max_healthy_percent=200),
        container=ContainerProps(family=f"two-{name.lower()}", image=ecs.ContainerImage.from_registry("nginx"),
                                 cpu=256, memory_mib=512, key=key, log_stream_prefix=name.lower()))
        for name in ("Api", "Worker")]
    return stack, services


def test_a_stack_can_hold_two_fargate_services() -> None:
    stack, _ = two_services()
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ECS::Service", 2)
    template.resource_count_is("AWS::ECS::TaskDefinition", 2)
    template.resource_count_is("AWS::Logs::LogGroup", 2)


def test_the_construct_exposes_its_service_and_task_definition() -> None:
    _, (api, worker) = two_services()
    assert isinstance(api.service, ecs.FargateService) and isinstance(api.task_definition, ecs.FargateTaskDefinition)
    assert api.service is not worker.service and api.task.task_role is not worker.task.task_role
