"""The environment's ECS cluster: Fargate and Fargate Spot, Container Insights, ECS Exec with a KMS key
and encrypted session logs, and a Cloud Map namespace that is also the Service Connect default."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

CONTAINER_INSIGHTS = {
    "enhanced": ecs.ContainerInsights.ENHANCED,
    "enabled": ecs.ContainerInsights.ENABLED,
    "disabled": ecs.ContainerInsights.DISABLED,
}


class EcsCluster(Construct):
    """`cluster_name` is fixed (not generated) because servers outside AWS register by name."""

    def __init__(self, scope: Construct, id_: str, *, vpc: ec2.IVpc, key: kms.IKey, cluster_name: str,
                 namespace: str, container_insights: str,
                 default_strategy: Sequence[ecs.CapacityProviderStrategy],
                 log_retention: logs.RetentionDays, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_)
        # ECS Exec: the session channel is encrypted with the environment key, sessions are logged.
        self.exec_log_group = logs.LogGroup(self, "ExecLogs", retention=log_retention, encryption_key=key,
                                            removal_policy=removal_policy)
        # Not "Resource": ecs.Cluster adds its capacity provider associations under its own id, which
        # would then collide with its CfnCluster (also "Resource").
        self.cluster = ecs.Cluster(
            self, "Cluster",
            vpc=vpc,
            cluster_name=cluster_name,
            container_insights_v2=CONTAINER_INSIGHTS[container_insights],
            enable_fargate_capacity_providers=True,
            execute_command_configuration=ecs.ExecuteCommandConfiguration(
                kms_key=key,
                logging=ecs.ExecuteCommandLogging.OVERRIDE,
                log_configuration=ecs.ExecuteCommandLogConfiguration(
                    cloud_watch_log_group=self.exec_log_group, cloud_watch_encryption_enabled=True)),
        )
        self.cluster.add_default_capacity_provider_strategy(list(default_strategy))
        self.namespace: servicediscovery.INamespace = self.cluster.add_default_cloud_map_namespace(
            name=namespace, type=servicediscovery.NamespaceType.DNS_PRIVATE, vpc=vpc,
            use_for_service_connect=True)


class ImportedEcsCluster(Construct):
    """An ECS cluster a team already runs, by name (no lookup): Keel changes none of its settings or capacity
    providers. What services need beside it is Keel's own: a Cloud Map namespace (services name it for
    Service Connect and Cloud Map explicitly) and the ECS Exec log group their task roles may write to."""

    def __init__(self, scope: Construct, id_: str, *, vpc: ec2.IVpc, key: kms.IKey, cluster_name: str,
                 namespace: str, log_retention: logs.RetentionDays, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_)
        self.exec_log_group = logs.LogGroup(self, "ExecLogs", retention=log_retention, encryption_key=key,
                                            removal_policy=removal_policy)
        self.cluster = ecs.Cluster.from_cluster_attributes(self, "Cluster", cluster_name=cluster_name, vpc=vpc,
                                                           security_groups=[])
        self.namespace: servicediscovery.INamespace = servicediscovery.PrivateDnsNamespace(
            self, "Namespace", name=namespace, vpc=vpc,
            description=f"Keel's services in the existing cluster {cluster_name}")
