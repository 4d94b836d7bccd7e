"""What an environment hands its service instances: construct objects, never ARNs or strings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk import aws_sns as sns

from keel.constructs.discovery import DiscoveryParameters
from keel.constructs.keys import allow_alarm_notifications
from keel.spec.model import Environment

if TYPE_CHECKING:
    from keel.constructs.config_plane import ConfigPlane


@dataclass(frozen=True)
class EnvironmentOutputs:
    environment: Environment
    vpc: ec2.IVpc
    key: kms.IKey
    # Published as SSM parameters under /keel/<environment>/ for discovery at run time.
    discovery: Mapping[str, str] = field(default_factory=dict)
    # eks-env: the cluster and what a Kubernetes service needs from it (IRSA, node identity, pod traffic).
    eks_cluster: eks.ICluster | None = None
    eks_oidc_provider: iam.IOpenIdConnectProvider | None = None
    eks_node_role: iam.IRole | None = None
    eks_security_group: ec2.ISecurityGroup | None = None  # the EKS-managed cluster security group

    # --- ECS environments (ecs-env); None elsewhere. Service templates check what they need. ---
    #: The cluster (Fargate and Fargate Spot capacity providers, default strategy set; external
    #: instances of ECS Anywhere join it too). Services use `cluster.cluster_name`/`cluster_arn`.
    cluster: ecs.ICluster | None = None
    #: The Cloud Map private DNS namespace, also the cluster's Service Connect default namespace.
    namespace: servicediscovery.INamespace | None = None
    #: Where ECS Exec sessions are logged (KMS-encrypted with `key`); task roles that allow exec need
    #: logs:CreateLogStream/PutLogEvents on it, plus ssmmessages:* and kms:Decrypt on `key`.
    exec_log_group: logs.ILogGroup | None = None
    #: The shared Application Load Balancer, when the environment has one.
    load_balancer: elbv2.IApplicationLoadBalancer | None = None
    #: Its main listener (HTTPS:443 with the spec's certificate, else HTTP:80). Its default action
    #: answers 404: services add rules (path or host conditions) and target groups to it.
    listener: elbv2.IApplicationListener | None = None
    #: The load balancer's security group; services allow their container port from it.
    load_balancer_security_group: ec2.ISecurityGroup | None = None
    #: ECS Anywhere (anywhere.enabled): the execution role for EXTERNAL tasks (ECR pulls of this account
    #: and region, writes to `external_task_log_group`), trusted by ecs-tasks.amazonaws.com.
    external_execution_role: iam.IRole | None = None
    #: Log group for external tasks (awslogs driver or the FireLens default), KMS-encrypted.
    external_task_log_group: logs.ILogGroup | None = None
    #: Managed policy for a task role whose FireLens log router writes to `external_task_log_group`.
    external_log_routing_policy: iam.IManagedPolicy | None = None
    #: The encrypted SNS topic of the environment's notifications (control-plane events).
    notifications: sns.ITopic | None = None

    # --- the serverless platform services (build_platform_services); None where a template has none. ---
    #: The environment's event bus (services put their rules on it), when the template has one.
    bus: events.IEventBus | None = None
    #: The config plane (/keel/<environment>/<service>/<key>), when the template has one.
    config: ConfigPlane | None = None

    @property
    def name(self) -> str:
        return self.environment.name


#: Discovery key of the notification topic an environment creates on first use (alarms notify it).
NOTIFICATIONS_KEY = "notifications/topic-arn"


def notification_topic(environment: EnvironmentOutputs) -> sns.ITopic:
    """Where the environment's alarms notify: its own topic (ecs-env's control-plane topic), or, for an
    environment without one, an encrypted topic created in the environment's stack the first time a service
    asks, published as `/keel/<environment>/notifications/topic-arn`."""
    if environment.notifications is not None:
        return environment.notifications
    stack = Stack.of(environment.vpc)
    existing = stack.node.try_find_child("Notifications")
    if isinstance(existing, sns.Topic):
        return existing
    allow_alarm_notifications(environment.key)
    topic = sns.Topic(stack, "Notifications", display_name=f"Keel {environment.name} notifications",
                      master_key=environment.key, enforce_ssl=True)
    discovery = stack.node.try_find_child("Discovery")
    if isinstance(discovery, DiscoveryParameters):
        discovery.add(NOTIFICATIONS_KEY, topic.topic_arn)
    return topic


def removal_policy(environment: Environment) -> RemovalPolicy:
    """The one place that decides: production-like environments keep their data when a stack goes."""
    return RemovalPolicy.RETAIN if environment.production else RemovalPolicy.DESTROY
