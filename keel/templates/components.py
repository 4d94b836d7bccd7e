"""An instance's components (issue 17), for every service template alike: the spec's entries mapped to the
props of `keel.constructs.components`, attached to the instance's one workload (the container task or the
Lambda function its template built), published under /keel/<env>/<service>/components/<name>.

Templates need no code for this: the service stack calls `add_components` after the builder, which finds the
workload among what the builder created (`ContainerTask`, `ServiceFunction`)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from constructs import Construct

from keel.constructs.common import pascal_id
from keel.constructs.components import (
    Component,
    ComponentAddOn,
    ComponentBucket,
    ComponentDatabase,
    ComponentFileSystem,
    ComponentQueue,
    ComponentTable,
    ComponentTopic,
    Read,
    SharedBucket,
    SharedQueue,
    SharedTable,
    SharedTopic,
    TableIndex,
    Workload,
)
from keel.constructs.container_service import ContainerTask
from keel.constructs.discovery import DiscoveryParameters
from keel.constructs.function import ServiceFunction
from keel.contract.naming import (
    component_path,
    environment_component_key,
    environment_component_path,
    secret_name,
)
from keel.contract.outputs import NetworkOutputs
from keel.spec import components as spec
from keel.spec.errors import SourceError
from keel.spec.model import Environment, ServiceInstance
from keel.templates.lambda_service import environment_key

_TYPES = {"string": dynamodb.AttributeType.STRING, "number": dynamodb.AttributeType.NUMBER,
          "binary": dynamodb.AttributeType.BINARY}
_STREAMS = {"keys-only": dynamodb.StreamViewType.KEYS_ONLY, "new-image": dynamodb.StreamViewType.NEW_IMAGE,
            "old-image": dynamodb.StreamViewType.OLD_IMAGE,
            "new-and-old-images": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES}
_ENGINES = {"16.9": rds.AuroraPostgresEngineVersion.VER_16_9, "17.5": rds.AuroraPostgresEngineVersion.VER_17_5}


class WorkloadError(SourceError):
    """The builder created no workload, or several, for the instance's components to attach to."""


def find_workload(stack: Stack) -> Workload:
    """The one container task or service function of an instance's stack."""
    tasks = [c for c in stack.node.find_all() if isinstance(c, ContainerTask)]
    functions = [c for c in stack.node.find_all() if isinstance(c, ServiceFunction)]
    found = len(tasks) + len(functions)
    if found != 1:
        raise WorkloadError(f"{stack.stack_name}: components attach to one container task or Lambda function, "
                            f"and the template built {found}")
    if tasks:
        task = tasks[0]
        acknowledged: list[bool] = []

        def set_container_variable(name: str, value: str) -> None:
            task.container.add_environment(name, value)
            if not acknowledged:
                acknowledged.append(True)
                Validations.of(task.task_definition).acknowledge(Acknowledgment(
                    id="AwsSolutions::AwsSolutions-ECS2",
                    reason="Names, URLs and ARNs of the instance's components; secrets (a database's credentials) "
                           "are read by ARN at run time, never passed as values."))

        return Workload(role=task.task_role, security_group=task.security_group, set_variable=set_container_variable,
                        task_definition=task.task_definition, container=task.container,
                        description=f"The tasks of {stack.stack_name}")
    fn = functions[0]

    def set_function_variable(name: str, value: str) -> None:
        fn.function.add_environment(name, value)

    return Workload(role=fn.role, security_group=fn.security_group, set_variable=set_function_variable,
                    description=f"The function of {stack.stack_name}")


def add_components(stack: Stack, *, instance: ServiceInstance, environment: NetworkOutputs,
                   read: Read | None = None) -> list[Component]:
    """`read`: a value the environment publishes, by its key under /keel/<env>/ (what shared components need)."""
    if not instance.components and not instance.shared_components:
        return []
    workload = find_workload(stack)
    scope = Construct(stack, "Components")
    key = environment_key(stack, environment)
    built: list[Component] = []
    for entry in instance.components:
        component = _component(scope, entry, environment=environment, key=key)
        component.attach(workload, entry.access)
        DiscoveryParameters(component, "Discovery",
                            prefix=component_path(instance.environment, instance.service, entry.name),
                            values=component.discovery)
        built.append(component)
    # shared data stores (issue 15): the environment's components the instance uses
    for use in instance.shared_components:
        assert read is not None, "the service stack reads what its environment's components publish"
        shared = _shared(scope, use.component, key=key, read=read)
        shared.attach(workload, use.access)
        built.append(shared)
    return built


def _component(scope: Construct, entry: spec.Component, *, environment: NetworkOutputs, key: kms.IKey) -> Component:
    cid, name, prefix = pascal_id(entry.name), entry.name, entry.variable_prefix
    inputs, production, removal = entry.inputs, environment.production, environment.removal_policy
    if isinstance(inputs, spec.DynamoDbTableInputs):
        return ComponentTable(
            scope, cid, name=name, prefix=prefix, table_name=entry.physical_name, key=key,
            partition_key=_key(inputs.partition_key), sort_key=_attribute(inputs.sort_key),
            indexes=[TableIndex(name=i.name, partition_key=_key(i.partition_key),
                                sort_key=_attribute(i.sort_key)) for i in inputs.global_secondary_indexes],
            ttl_attribute=inputs.ttl_attribute, stream=_STREAMS.get(inputs.stream), production=production,
            removal_policy=removal)
    if isinstance(inputs, spec.S3BucketInputs):
        life = inputs.lifecycle
        rules = [s3.LifecycleRule(
            id="Objects", expiration=Duration.days(life.expire_days) if life.expire_days else None,
            noncurrent_version_expiration=Duration.days(life.noncurrent_expire_days) if inputs.versioning else None,
            abort_incomplete_multipart_upload_after=Duration.days(7),
            transitions=[s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                                       transition_after=Duration.days(life.infrequent_access_days))]
            if life.infrequent_access_days else None)]
        return ComponentBucket(scope, cid, name=name, prefix=prefix, key=key, versioned=inputs.versioning,
                               lifecycle_rules=rules, removal_policy=removal)
    if isinstance(inputs, spec.SqsQueueInputs):
        return ComponentQueue(scope, cid, name=name, prefix=prefix, queue_name=entry.physical_name, key=key,
                              retention=Duration.days(inputs.retention_days),
                              visibility_timeout=Duration.seconds(inputs.visibility_timeout_seconds),
                              max_receive_count=inputs.max_receive_count, removal_policy=removal)
    if isinstance(inputs, spec.SnsTopicInputs):
        return ComponentTopic(scope, cid, name=name, prefix=prefix, topic_name=entry.physical_name, key=key,
                              display_name=inputs.display_name, removal_policy=removal)
    if isinstance(inputs, spec.AuroraPostgresInputs):
        return ComponentDatabase(
            scope, cid, name=name, prefix=prefix, cluster_identifier=entry.physical_name,
            secret_name=secret_name(entry.environment, entry.service, f"components/{name}"), key=key,
            vpc=environment.vpc, engine=_ENGINES[inputs.engine_version], database_name=inputs.database_name,
            min_acu=inputs.min_acu, max_acu=inputs.max_acu, rotation=Duration.days(inputs.rotation_days),
            backup_retention=Duration.days(inputs.backup_retention_days), production=production,
            removal_policy=removal)
    if isinstance(inputs, spec.EfsFileSystemInputs):
        return ComponentFileSystem(scope, cid, name=name, prefix=prefix, key=key, vpc=environment.vpc,
                                   mount_path=inputs.mount_path, uid=inputs.posix_uid, gid=inputs.posix_gid,
                                   production=production, removal_policy=removal)
    if isinstance(inputs, spec.CloudFormationInputs):
        add_on = entry.add_on
        assert add_on is not None  # the loader read the template
        return ComponentAddOn(
            scope, cid, name=name, template_file=add_on.path,
            parameters={"App": add_on.app, "Env": entry.environment, "Name": entry.service, **inputs.parameters},
            policy_outputs=add_on.policy_outputs,
            variable_outputs={o: spec.variable_name(o) for o in add_on.variable_outputs})
    raise AssertionError(f"component kind {entry.kind} has no construct")


def _key(key: spec.KeyInputs) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_TYPES[key.type])


def _attribute(key: spec.KeyInputs | None) -> dynamodb.Attribute | None:
    return None if key is None else _key(key)


# shared data stores (issue 15)
def add_environment_components(stack: Stack, *, environment: Environment, outputs: NetworkOutputs) -> None:
    """The components an environment owns for its services, in its stack: the same constructs as an
    instance's (the environment key, its removal policy), published under /keel/<env>/shared/components/."""
    if not environment.components:
        return
    scope = Construct(stack, "Components")
    for entry in environment.components:
        component = _component(scope, entry, environment=outputs, key=outputs.key)
        DiscoveryParameters(component, "Discovery", prefix=environment_component_path(environment.name, entry.name),
                            values=component.discovery)


def _shared(scope: Construct, entry: spec.Component, *, key: kms.IKey, read: Read) -> Component:
    """An environment's component as its user's stack sees it: read from what the environment publishes."""
    cid, name, prefix = pascal_id(entry.name), entry.name, entry.variable_prefix

    def mine(what: str) -> str:
        return read(environment_component_key(name, what))

    inputs = entry.inputs
    if isinstance(inputs, spec.DynamoDbTableInputs):
        return SharedTable(scope, cid, name=name, prefix=prefix, table_name=entry.physical_name, key=key, read=mine,
                           indexes=[i.name for i in inputs.global_secondary_indexes],
                           stream=_STREAMS.get(inputs.stream) is not None)
    if isinstance(inputs, spec.S3BucketInputs):
        return SharedBucket(scope, cid, name=name, prefix=prefix, key=key, read=mine)
    if isinstance(inputs, spec.SqsQueueInputs):
        return SharedQueue(scope, cid, name=name, prefix=prefix, key=key, read=mine)
    if isinstance(inputs, spec.SnsTopicInputs):
        return SharedTopic(scope, cid, name=name, prefix=prefix, key=key, read=mine)
    raise AssertionError(f"component kind {entry.kind} cannot be shared (the spec layer refuses it)")
