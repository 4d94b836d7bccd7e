"""Components a service instance owns beside its template (issue 17): each an L3 construct with typed props,
encrypted with the environment key, following the environment's removal policy, granting its workload least
privilege and telling it where things are (`variables`, environment variables) and publishing the same
(`discovery`, SSM parameters under /keel/<env>/<service>/components/<name>).

Grants are written out statement by statement rather than through CDK's `grant*` helpers: those add
`kms:GenerateDataKey*`/`kms:ReEncrypt*` wildcards and, for a key of another stack, would try to edit the
environment's key policy. Each statement names the component's ARNs; the key is used only through the service
that owns the data (`kms:ViaService`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import cloudformation_include as cfn_inc
from constructs import Construct

from keel.constructs.common import justify, pascal_id
from keel.constructs.container_service import dead_letter_queue

Access = Literal["read", "readwrite"]


@dataclass(frozen=True, kw_only=True)
class Workload:
    """What a component attaches to: the task of a container service or a Lambda function."""

    #: The application's role (the task role, or the function's execution role).
    role: iam.IRole
    #: The workload's own security group in the VPC; None outside it (a function with vpc: none, ECS Anywhere).
    security_group: ec2.ISecurityGroup | None
    #: Sets an environment variable of the application (container or function).
    set_variable: Callable[[str, str], None]
    #: Containers only: the task definition and its application container (volumes, mounts).
    task_definition: ecs.TaskDefinition | None = None
    container: ecs.ContainerDefinition | None = None
    #: For security group descriptions and reasons: "the tasks of keel-web-staging".
    description: str = "the service"


class Component(Construct):
    """The shared half: the environment variables and discovery values a component hands on."""

    def __init__(self, scope: Construct, id_: str, *, name: str, prefix: str) -> None:
        super().__init__(scope, id_)
        self.component_name = name
        self.prefix = prefix  # ITEMS -> ITEMS_TABLE_NAME
        self.variables: dict[str, str] = {}
        self.discovery: dict[str, str] = {}

    def _sid(self, what: str) -> str:
        return f"{pascal_id(self.component_name)}{what}"

    def attach(self, workload: Workload, access: Access) -> None:
        """Grant, connect, and tell the application where the component is."""
        self.grant(workload.role, access)
        self.connect(workload, access)
        for key, value in self.variables.items():
            workload.set_variable(key, value)

    def grant(self, role: iam.IRole, access: Access) -> None:
        raise NotImplementedError

    def connect(self, workload: Workload, access: Access) -> None:
        """Network paths and volumes; most components need none."""


def _via(scope: Construct, service: str) -> dict[str, object]:
    return {"StringEquals": {"kms:ViaService": f"{service}.{Stack.of(scope).region}.amazonaws.com"}}


def _nag_name(scope: Construct, value: str) -> str:
    """A resource's ARN as cdk-nag prints it in a finding: `<Logical.Arn>` for the stack's own resource,
    `<Parameter>` for one read from an SSM parameter (an environment's component, issue 15)."""
    resolved = Stack.of(scope).resolve(value)
    if isinstance(resolved, dict) and "Fn::GetAtt" in resolved:
        return "<{}.{}>".format(*resolved["Fn::GetAtt"])
    if isinstance(resolved, dict) and "Ref" in resolved:
        return f"<{resolved['Ref']}>"
    raise ValueError(f"cannot name {resolved!r} as cdk-nag does")


def _key_statement(component: Component, *, key: kms.IKey, service: str, write: bool) -> iam.PolicyStatement:
    actions = ["kms:Decrypt", "kms:DescribeKey"] + (["kms:Encrypt", "kms:GenerateDataKey"] if write else [])
    return iam.PolicyStatement(sid=component._sid("Key"), actions=actions, resources=[key.key_arn],
                               conditions=_via(component, service))


# -- dynamodb-table ------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class TableIndex:
    name: str
    partition_key: dynamodb.Attribute
    sort_key: dynamodb.Attribute | None = None


class ComponentTable(Component):
    """An on-demand table (`Resource`), encrypted with the environment key; point-in-time recovery and
    deletion protection in production (`production`), where the removal policy keeps it too."""

    def __init__(self, scope: Construct, id_: str, *, name: str, prefix: str, table_name: str, key: kms.IKey,
                 partition_key: dynamodb.Attribute, sort_key: dynamodb.Attribute | None,
                 indexes: Sequence[TableIndex] = (), ttl_attribute: str | None = None,
                 stream: dynamodb.StreamViewType | None = None, production: bool,
                 removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_, name=name, prefix=prefix)
        self.key = key
        table = dynamodb.Table(
            self, "Resource", table_name=table_name, partition_key=partition_key, sort_key=sort_key,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=production),
            deletion_protection=production, removal_policy=removal_policy,
            time_to_live_attribute=ttl_attribute, stream=stream)
        self.table: dynamodb.ITable = table
        self.index_names = tuple(i.name for i in indexes)
        for index in indexes:
            table.add_global_secondary_index(index_name=index.name, partition_key=index.partition_key,
                                                  sort_key=index.sort_key, projection_type=dynamodb.ProjectionType.ALL)
        if not production:
            justify(self.table, nag={"AwsSolutions-DDB3": "Not a production environment: its tables are disposable "
                                     "(removal policy DESTROY); point-in-time recovery is on in production"})
        self.variables[f"{prefix}_TABLE_NAME"] = table_name
        self.discovery = {"table-name": table_name, "table-arn": self.table.table_arn}
        if stream is not None:
            self.variables[f"{prefix}_TABLE_STREAM_ARN"] = self.table.table_stream_arn or ""
            self.discovery["stream-arn"] = self.table.table_stream_arn or ""

    def resource_arns(self) -> list[str]:
        """The table and each of its indexes, by name: no `index/*`."""
        arn = self.table.table_arn
        return [arn, *(f"{arn}/index/{name}" for name in self.index_names)]

    def grant(self, role: iam.IRole, access: Access) -> None:
        actions = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
                   "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"]
        if access == "readwrite":
            actions += ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
        role.add_to_principal_policy(iam.PolicyStatement(sid=self._sid("Items"), actions=actions,
                                                         resources=self.resource_arns()))
        if self.table.table_stream_arn:
            role.add_to_principal_policy(iam.PolicyStatement(
                sid=self._sid("Stream"), resources=[self.table.table_stream_arn],
                actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]))
        role.add_to_principal_policy(_key_statement(self, key=self.key, service="dynamodb",
                                                    write=access == "readwrite"))


# -- s3-bucket -----------------------------------------------------------------------------------------------
class ComponentBucket(Component):
    """A bucket (`Resource`): the environment key, TLS only, public access blocked, its server access logs in
    a bucket of its own (`AccessLogs`, S3-managed keys: log delivery cannot write with a customer key)."""

    def __init__(self, scope: Construct, id_: str, *, name: str, prefix: str, key: kms.IKey, versioned: bool,
                 lifecycle_rules: Sequence[s3.LifecycleRule], removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_, name=name, prefix=prefix)
        self.key = key
        self.access_logs = s3.Bucket(
            self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, removal_policy=removal_policy,
            lifecycle_rules=[s3.LifecycleRule(id="ExpireAccessLogs", expiration=Duration.days(365))])
        justify(self.access_logs, nag={"AwsSolutions-S1": f"This is the server access log bucket of component {name}; "
                                       "logging the log bucket would only log log deliveries"})
        # Bucket names are global: CloudFormation generates a unique one, and the service learns it from its
        # environment variable and discovery parameter (keel-<env>-<service>-<name> could be taken elsewhere).
        self.bucket: s3.IBucket = s3.Bucket(
            self, "Resource", encryption=s3.BucketEncryption.KMS, encryption_key=key, bucket_key_enabled=True,
            enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, versioned=versioned,
            server_access_logs_bucket=self.access_logs, server_access_logs_prefix="access/",
            lifecycle_rules=list(lifecycle_rules) or None, removal_policy=removal_policy)
        self.variables[f"{prefix}_BUCKET_NAME"] = self.bucket.bucket_name
        self.discovery = {"bucket-name": self.bucket.bucket_name, "bucket-arn": self.bucket.bucket_arn}

    def grant(self, role: iam.IRole, access: Access) -> None:
        objects = self.bucket.arn_for_objects("*")
        actions = ["s3:GetObject", "s3:GetObjectVersion"]
        if access == "readwrite":
            actions += ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        role.add_to_principal_policy(iam.PolicyStatement(sid=self._sid("Objects"), actions=actions,
                                                         resources=[objects]))
        role.add_to_principal_policy(iam.PolicyStatement(sid=self._sid("List"), actions=["s3:ListBucket"],
                                                         resources=[self.bucket.bucket_arn]))
        role.add_to_principal_policy(_key_statement(self, key=self.key, service="s3", write=access == "readwrite"))
        Validations.of(role).acknowledge(Acknowledgment(
            id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{_nag_name(self, self.bucket.bucket_arn)}/*]",
            reason=f"The objects of component {self.component_name}'s bucket: an object ARN is bucket/key and the "
                   "keys are the application's; the statement names this bucket only"))


# -- sqs-queue -----------------------------------------------------------------------------------------------
class ComponentQueue(Component):
    """A queue (`Resource`, keel-<env>-<service>-<name>) with a dead-letter queue (`DeadLetters`, <name>-dlq),
    both encrypted with the environment key and TLS only."""

    def __init__(self, scope: Construct, id_: str, *, name: str, prefix: str, queue_name: str, key: kms.IKey,
                 retention: Duration, visibility_timeout: Duration, max_receive_count: int,
                 removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_, name=name, prefix=prefix)
        self.key = key
        self.dead_letters = dead_letter_queue(self, "DeadLetters", key=key, removal_policy=removal_policy,
                                              holds=f"component {name} (messages received too often)")
        cfn_dlq = self.dead_letters.node.default_child
        assert isinstance(cfn_dlq, sqs.CfnQueue)
        cfn_dlq.queue_name = f"{queue_name}-dlq"
        self.queue: sqs.IQueue = sqs.Queue(
            self, "Resource", queue_name=queue_name, encryption=sqs.QueueEncryption.KMS, encryption_master_key=key,
            enforce_ssl=True, retention_period=retention, visibility_timeout=visibility_timeout,
            removal_policy=removal_policy,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=max_receive_count))
        self.variables[f"{prefix}_QUEUE_URL"] = self.queue.queue_url
        self.discovery = {"queue-url": self.queue.queue_url, "queue-arn": self.queue.queue_arn,
                          "dead-letter-queue-url": self.dead_letters.queue_url}

    def grant(self, role: iam.IRole, access: Access) -> None:
        actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                   "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
        if access == "readwrite":
            actions.append("sqs:SendMessage")
        role.add_to_principal_policy(iam.PolicyStatement(sid=self._sid("Messages"), actions=actions,
                                                         resources=[self.queue.queue_arn]))
        role.add_to_principal_policy(_key_statement(self, key=self.key, service="sqs", write=access == "readwrite"))


# -- sns-topic -----------------------------------------------------------------------------------------------
class ComponentTopic(Component):
    """A topic (`Resource`, keel-<env>-<service>-<name>: subscribers name it without an export), encrypted with
    the environment key, TLS only."""

    def __init__(self, scope: Construct, id_: str, *, name: str, prefix: str, topic_name: str, key: kms.IKey,
                 display_name: str | None, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_, name=name, prefix=prefix)
        self.key = key
        topic = sns.Topic(self, "Resource", topic_name=topic_name, display_name=display_name, master_key=key,
                          enforce_ssl=True)
        topic.apply_removal_policy(removal_policy)
        self.topic: sns.ITopic = topic
        self.variables[f"{prefix}_TOPIC_ARN"] = self.topic.topic_arn
        self.discovery = {"topic-arn": self.topic.topic_arn, "topic-name": topic_name}

    def grant(self, role: iam.IRole, access: Access) -> None:
        actions = ["sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"]
        if access == "readwrite":
            actions.append("sns:Publish")
        role.add_to_principal_policy(iam.PolicyStatement(sid=self._sid("Topic"), actions=actions,
                                                         resources=[self.topic.topic_arn]))
        role.add_to_principal_policy(_key_statement(self, key=self.key, service="sns", write=access == "readwrite"))


# -- aurora-postgres -----------------------------------------------------------------------------------------
class ComponentDatabase(Component):
    """Aurora PostgreSQL Serverless v2 (`Resource`, one serverless writer) in isolated subnets (private ones when
    the VPC has none), storage encrypted with the environment key, IAM authentication on. Its security group
    (`SecurityGroup`) admits only the workload's; its credentials are a secret (`Credentials`, the config
    plane's `keel/<env>/<service>/components/<name>`) rotated by Secrets Manager's hosted rotation function."""

    def __init__(self, scope: Construct, id_: str, *, name: str, prefix: str, cluster_identifier: str,
                 secret_name: str, key: kms.IKey, vpc: ec2.IVpc, engine: rds.AuroraPostgresEngineVersion,
                 database_name: str, min_acu: float, max_acu: float, rotation: Duration, backup_retention: Duration,
                 production: bool, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_, name=name, prefix=prefix)
        self.key = key
        subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED if vpc.isolated_subnets
                                      else ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.security_group = ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                                                description=f"{cluster_identifier}: from its service only")
        self.secret = rds.DatabaseSecret(self, "Credentials", username="keel_admin", secret_name=secret_name,
                                         encryption_key=key)
        self.cluster = rds.DatabaseCluster(
            self, "Resource", engine=rds.DatabaseClusterEngine.aurora_postgres(version=engine),
            cluster_identifier=cluster_identifier, credentials=rds.Credentials.from_secret(self.secret),
            default_database_name=database_name, vpc=vpc, vpc_subnets=subnets,
            security_groups=[self.security_group],
            writer=rds.ClusterInstance.serverless_v2("Writer", auto_minor_version_upgrade=True),
            serverless_v2_min_capacity=min_acu, serverless_v2_max_capacity=max_acu,
            storage_encrypted=True, storage_encryption_key=key, iam_authentication=True,
            deletion_protection=production, removal_policy=removal_policy,
            backup=rds.BackupProps(retention=backup_retention), copy_tags_to_snapshot=True,
            cloudwatch_logs_exports=["postgresql"])
        rotation_group = ec2.SecurityGroup(
            self, "RotationSecurityGroup", vpc=vpc, allow_all_outbound=True,
            description=f"{cluster_identifier}: the rotation function of its credentials")
        self.security_group.add_ingress_rule(rotation_group, ec2.Port.tcp(5432), "The rotation function")
        attached = self.cluster.secret  # the secret with the cluster's endpoint: what rotation logs in with
        assert attached is not None
        self.rotation = attached.add_rotation_schedule(
            "Rotation", automatically_after=rotation,
            hosted_rotation=secretsmanager.HostedRotation.postgre_sql_single_user(
                vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                security_groups=[rotation_group]))
        justify(self.cluster, nag={
            "AwsSolutions-RDS11": "The standard PostgreSQL port: the security group admits only this service and "
                                  "the rotation function, so another port would hide nothing",
            **({} if production else {"AwsSolutions-RDS10": "Not a production environment: its databases are "
                                      "disposable (removal policy DESTROY); deletion protection is on in production"}),
        })
        endpoint = self.cluster.cluster_endpoint
        self.variables |= {f"{prefix}_DB_HOST": endpoint.hostname, f"{prefix}_DB_PORT": "5432",
                           f"{prefix}_DB_NAME": database_name, f"{prefix}_DB_SECRET_ARN": self.secret.secret_arn}
        self.discovery = {"endpoint": endpoint.hostname, "port": "5432", "database-name": database_name,
                          "secret-arn": self.secret.secret_arn, "cluster-arn": self.cluster.cluster_arn}

    def grant(self, role: iam.IRole, access: Access) -> None:
        """Both levels read the credentials: what a login may do is the database's own grants."""
        role.add_to_principal_policy(iam.PolicyStatement(
            sid=self._sid("Credentials"), actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            resources=[self.secret.secret_arn]))
        role.add_to_principal_policy(_key_statement(self, key=self.key, service="secretsmanager", write=False))

    def connect(self, workload: Workload, access: Access) -> None:
        assert workload.security_group is not None, "the spec layer refuses a database for a workload outside the VPC"
        self.security_group.add_ingress_rule(workload.security_group, ec2.Port.tcp(5432), workload.description)


# -- efs-filesystem ------------------------------------------------------------------------------------------
class ComponentFileSystem(Component):
    """An EFS file system (`Resource`) in the private subnets, encrypted with the environment key, reachable on
    NFS from the workload's security group only; an access point (`AccessPoint`) that roots the service in
    `/<name>` as `posix_uid:posix_gid`; mounted with TLS and IAM authorization."""

    def __init__(self, scope: Construct, id_: str, *, name: str, prefix: str, key: kms.IKey, vpc: ec2.IVpc,
                 mount_path: str, uid: int, gid: int, production: bool, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_, name=name, prefix=prefix)
        self.mount_path = mount_path
        self.file_system = efs.FileSystem(
            self, "Resource", vpc=vpc, encrypted=True, kms_key=key, removal_policy=removal_policy,
            enable_automatic_backups=production, allow_anonymous_access=False,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS))
        self.access_point = self.file_system.add_access_point(
            "AccessPoint", path=f"/{name}", create_acl=efs.Acl(owner_uid=str(uid), owner_gid=str(gid),
                                                               permissions="750"),
            posix_user=efs.PosixUser(uid=str(uid), gid=str(gid)))
        self.variables[f"{prefix}_MOUNT_PATH"] = mount_path
        self.discovery = {"file-system-id": self.file_system.file_system_id,
                          "access-point-id": self.access_point.access_point_id}

    def grant(self, role: iam.IRole, access: Access) -> None:
        actions = ["elasticfilesystem:ClientMount"] + (["elasticfilesystem:ClientWrite"] if access == "readwrite"
                                                       else [])
        role.add_to_principal_policy(iam.PolicyStatement(
            sid=self._sid("Mount"), actions=actions, resources=[self.file_system.file_system_arn],
            conditions={"StringEquals": {"elasticfilesystem:AccessPointArn": self.access_point.access_point_arn}}))

    def connect(self, workload: Workload, access: Access) -> None:
        assert workload.task_definition is not None and workload.container is not None and \
            workload.security_group is not None, "the spec layer refuses a file system for anything but Fargate"
        self.file_system.connections.allow_default_port_from(workload.security_group, workload.description)
        volume = f"component-{self.component_name}"
        workload.task_definition.add_volume(name=volume, efs_volume_configuration=ecs.EfsVolumeConfiguration(
            file_system_id=self.file_system.file_system_id, transit_encryption="ENABLED",
            authorization_config=ecs.AuthorizationConfig(access_point_id=self.access_point.access_point_id,
                                                         iam="ENABLED")))
        workload.container.add_mount_points(ecs.MountPoint(container_path=self.mount_path, source_volume=volume,
                                                           read_only=access == "read"))


# -- cloudformation (Copilot add-on) -------------------------------------------------------------------------
class ComponentAddOn(Component):
    """A CloudFormation template from the repository, included (CfnInclude) so its resources are part of the
    service stack: cdk-nag and cfn-lint judge them, the diff and the destructive-change gate see them. Its
    logical IDs are the template's own. `policy_outputs` name AWS::IAM::ManagedPolicy outputs (attached to the
    workload's role), `variable_outputs` the rest (environment variables, by their `variables` names)."""

    def __init__(self, scope: Construct, id_: str, *, name: str, template_file: Path,
                 parameters: Mapping[str, str], policy_outputs: Sequence[str],
                 variable_outputs: Mapping[str, str]) -> None:
        super().__init__(scope, id_, name=name, prefix="")
        self.template = cfn_inc.CfnInclude(self, "Resource", template_file=str(template_file),
                                           parameters=dict(parameters))
        self.policies = [iam.ManagedPolicy.from_managed_policy_arn(
            self, f"{output}Policy", Token.as_string(self.template.get_output(output).value))
            for output in policy_outputs]
        for output, variable in variable_outputs.items():
            value = Token.as_string(self.template.get_output(output).value)
            self.variables[variable] = value
            self.discovery[f"outputs/{output}"] = value

    def grant(self, role: iam.IRole, access: Access) -> None:
        for policy in self.policies:
            role.add_managed_policy(policy)



# -- shared data stores (issue 15) ---------------------------------------------------------------------------
# An environment's component, as a service stack that uses it sees it: imported from the names and ARNs the
# environment publishes (`read`, SSM parameters), granted and handed on by the owned kind's own `grant` and
# variables, so a shared table gets exactly the statements and environment variables an owned table gets.
# Each skips its owned kind's __init__ (which creates the resource) and sets what `grant` reads.
Read = Callable[[str], str]


class SharedTable(ComponentTable):
    """A table of the environment (`table_name`, the literal keel-<env>-shared-<name>; its ARN and stream ARN
    read), with its index names from the spec."""

    def __init__(self, scope: Construct, id_: str, *, name: str, prefix: str, table_name: str, key: kms.IKey,
                 read: Read, indexes: Sequence[str], stream: bool) -> None:
        Component.__init__(self, scope, id_, name=name, prefix=prefix)
        self.key = key
        self.table = dynamodb.Table.from_table_attributes(
            self, "Resource", table_arn=read("table-arn"), table_stream_arn=read("stream-arn") if stream else None)
        self.index_names = tuple(indexes)
        self.variables[f"{prefix}_TABLE_NAME"] = table_name
        if stream:
            self.variables[f"{prefix}_TABLE_STREAM_ARN"] = self.table.table_stream_arn or ""


class SharedBucket(ComponentBucket):
    """A bucket of the environment (CloudFormation named it: its name and ARN read)."""

    def __init__(self, scope: Construct, id_: str, *, name: str, prefix: str, key: kms.IKey, read: Read) -> None:
        Component.__init__(self, scope, id_, name=name, prefix=prefix)
        self.key = key
        self.bucket = s3.Bucket.from_bucket_attributes(self, "Resource", bucket_arn=read("bucket-arn"),
                                                       bucket_name=read("bucket-name"))
        self.variables[f"{prefix}_BUCKET_NAME"] = self.bucket.bucket_name


class SharedQueue(ComponentQueue):
    """A queue of the environment (its URL and ARN read)."""

    def __init__(self, scope: Construct, id_: str, *, name: str, prefix: str, key: kms.IKey, read: Read) -> None:
        Component.__init__(self, scope, id_, name=name, prefix=prefix)
        self.key = key
        self.queue = sqs.Queue.from_queue_attributes(self, "Resource", queue_arn=read("queue-arn"),
                                                     queue_url=read("queue-url"))
        self.variables[f"{prefix}_QUEUE_URL"] = self.queue.queue_url


class SharedTopic(ComponentTopic):
    """A topic of the environment (its ARN read)."""

    def __init__(self, scope: Construct, id_: str, *, name: str, prefix: str, key: kms.IKey, read: Read) -> None:
        Component.__init__(self, scope, id_, name=name, prefix=prefix)
        self.key = key
        self.topic = sns.Topic.from_topic_arn(self, "Resource", read("topic-arn"))
        self.variables[f"{prefix}_TOPIC_ARN"] = self.topic.topic_arn
