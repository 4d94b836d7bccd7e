"""How a service stack reads its environment: from the SSM parameters the environment publishes under
`/keel/<environment>/...`, never through a cross-stack reference (an export, or CDK's `Fn::GetStackOutput`).

`read_environment(scope, environment)` returns the environment's outputs object rebuilt inside the service
stack: every construct imported there (`Vpc.from_vpc_attributes`, `Key.from_key_arn`, ...) from CloudFormation
parameters of type `AWS::SSM::Parameter::Value<String>`; lists (subnet ids) are split out of one parameter.
What the environment knows as a literal (its name, its VPC's CIDR, an existing VPC's ids) and what CDK needs at
synth time (the AZs, how many subnets, whether the environment has a bus, a load balancer, ECS Anywhere) come
from the platform model. So a service stack is built from the model alone: the environment's stack need not be
in the same app, and its template does not change with its consumers (an environment can drop an output no
service reads any more: no export holds it).

One rebuilder per outputs class (`REBUILDERS`). Each builds its class through `_complete`, which refuses a field
it was not given: a field added to an outputs class fails every synth of that family until it is read here,
instead of silently becoming a cross-stack reference. `check_rebuilt` compares a rebuilt object with the
environment's own when both exist (the whole-app build) and refuses a construct that is not the service stack's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar, cast

import jsii
from aws_cdk import (
    Acknowledgment,
    CfnDynamicReference,
    CfnDynamicReferenceService,
    Fn,
    IStableStringProducer,
    Lazy,
    Stack,
    Token,
    Validations,
)
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
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from keel.constructs.common import removal_policy
from keel.contract.naming import environment_parameter_name, environment_path, proton_output_key
from keel.contract.outputs import (
    AnywhereOutputs,
    ConfigPlaneOutputs,
    EcsEnvOutputs,
    EksEnvOutputs,
    EksWorkloadOutputs,
    NetworkOutputs,
    ProtonEnvOutputs,
    SharedLoadBalancerOutputs,
)
from keel.spec.model import Environment
from keel.templates.ecs_env.builder import LOG_ROUTING_POLICY_KEY
from keel.templates.ecs_env.inputs import EcsEnvInputs, EcsEnvInputsV13
from keel.templates.eks_env.builder import KUBECTL_SERVICE_TOKEN_KEY
from keel.templates.eks_env.inputs import EksEnvInputs, EksEnvInputsV12, EksEnvInputsV13, existing_cluster_of
from keel.templates.eks_env.workloads import ingress_classes, targets
from keel.templates.vpc_env.builder import import_vpc
from keel.templates.vpc_env.inputs import VpcEnvInputs, existing_vpc_of, network_cidr

#: The construct under which a service stack's imports of its environment live.
SCOPE_ID = "Environment"

T = TypeVar("T")


class Reader:
    """The `/keel/<environment>/<key>` parameters of one service stack, each declared once, and only when the
    stack's template uses it."""

    def __init__(self, scope: Construct, environment: Environment) -> None:
        self.stack = Stack.of(scope)
        existing = self.stack.node.try_find_child(SCOPE_ID)
        self.scope: Construct = existing if isinstance(existing, Construct) else Construct(self.stack, SCOPE_ID)
        self.environment = environment
        self._declared: dict[str, str] = {}
        self._on_declare: dict[str, list[Callable[[], None]]] = {}

    def name(self, key: str) -> str:
        return environment_parameter_name(self.environment.name, key)

    def __call__(self, key: str) -> str:
        """A CloudFormation parameter `AWS::SSM::Parameter::Value<String>` whose default is the key's name,
        declared when the value is first resolved. An imported construct (the VPC, the cluster) takes all its
        attributes when it is built and a template may use only some: CDK resolves every token of the stack's
        template while it prepares the app (finding references), before it collects the template's elements, so
        a parameter is declared exactly when something in the template refers to it."""
        return Lazy.string(_Declare(self, key))

    def declare(self, key: str) -> str:
        """The parameter itself (declared now if it is not yet), then what waits for its declaration."""
        if key not in self._declared:
            self._declared[key] = ssm.StringParameter.value_for_string_parameter(self.stack, self.name(key))
            for then in self._on_declare.pop(key, []):
                then()
        return self._declared[key]

    def when_declared(self, key: str, then: Callable[[], None]) -> None:
        """Run `then` once the parameter of `key` is declared (at once if it is)."""
        if key in self._declared:
            then()
        else:
            self._on_declare.setdefault(key, []).append(then)

    def split(self, key: str, count: int) -> list[str]:
        """A comma-separated value (subnet ids) as `count` elements; the count comes from the model."""
        return Fn.split(",", self(key), count) if count else []

    def log_group(self, id_: str, key: str, what: str) -> logs.ILogGroup:
        """A log group by its name. Its ARN (`...:log-group:<name>:*`, as CloudFormation's own Arn attribute
        reads) shows cdk-nag the `:*` of the group's log streams, which the environment's ARN hid in a token:
        acknowledged for exactly this group."""
        group = logs.LogGroup.from_log_group_name(self.scope, id_, self(key))
        # Acknowledged once the group's name is declared (rendering the ARN resolves it): not when the group is
        # imported with a cluster and nothing of this stack uses it.
        self.when_declared(key, lambda: Validations.of(self.stack).acknowledge(Acknowledgment(
            id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{_rendered(self.stack, group.log_group_arn)}]",
            reason=f"The log streams of the environment's {what} group, {self.name(key)}: the `:*` is the "
                   "streams of that one group (the form of every log group ARN), no other group")))
        return group

    @property
    def availability_zones(self) -> list[str]:
        azs = self.environment.availability_zones
        return list(azs) if azs else list(self.stack.availability_zones[: self.environment.az_count])


@jsii.implements(IStableStringProducer)
class _Declare:
    """Declares the parameter of one key when CDK first resolves the value (then CDK keeps the result)."""

    def __init__(self, read: Reader, key: str) -> None:
        self._read, self._key = read, key

    def produce(self) -> str:
        return self._read.declare(self._key)


class Published(Mapping[str, str]):
    """Values an environment publishes, as parameters of the service stack declared on first access (so a
    template declares only the parameters it reads): `keys` by the name a builder uses, each read from
    `parameter(key)`."""

    def __init__(self, read: Reader, keys: tuple[str, ...], parameter: Callable[[str], str] = str) -> None:
        self._read = read
        self._keys = keys
        self._parameter = parameter

    def __getitem__(self, key: str) -> str:
        if key not in self._keys:
            raise KeyError(key)
        return self._read(self._parameter(key))

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _rendered(stack: Stack, value: str) -> str:
    """A resolved string as cdk-nag names it in a finding: literals as they are, `{"Ref": X}` as `<X>`."""
    def render(part: object) -> str:
        if isinstance(part, str):
            return part
        if isinstance(part, dict) and set(part) == {"Ref"}:
            return f"<{part['Ref']}>"
        if isinstance(part, dict) and set(part) == {"Fn::Join"}:
            sep, items = part["Fn::Join"]
            return str(sep).join(render(i) for i in items)
        raise ValueError(f"cannot name {part!r} as cdk-nag does")
    return render(stack.resolve(value))


class Deferred(Generic[T]):
    """A field's value made on first use (then kept): a service stack declares the parameters its template
    reads, and no others."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self.made = False

    def get(self) -> T:
        if not self.made:
            self._value, self.made = self._make(), True
        return cast(T, self._value)


_LAZY: dict[type, type] = {}


def _lazy_class(cls: type[T]) -> type[T]:
    """`cls` whose fields may hold a `Deferred`, made when the field is first read (`isinstance` still holds)."""
    if cls not in _LAZY:
        def __getattribute__(self: object, name: str) -> object:
            value = object.__getattribute__(self, name)
            return value.get() if isinstance(value, Deferred) else value
        _LAZY[cls] = type(cls.__name__, (cls,), {"__getattribute__": __getattribute__,
                                                  "__module__": cls.__module__, "__qualname__": cls.__qualname__})
    return _LAZY[cls]


def _complete(cls: type[T], values: Mapping[str, Any]) -> T:
    """`cls(**values)`, refusing a field of `cls` that `values` does not give (or one it does not have)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    missing, unknown = sorted(names - set(values)), sorted(set(values) - names)
    if missing or unknown:
        raise TypeError(f"keel.stacks.environment_reads: {cls.__name__} is not rebuilt completely in service "
                        f"stacks (missing: {', '.join(missing) or '-'}; unknown: {', '.join(unknown) or '-'}): "
                        "read every field from the environment's SSM parameters (or the model) there")
    if any(isinstance(v, Deferred) for v in values.values()):
        return _lazy_class(cls)(**values)
    return cls(**values)


def network_inputs(environment: Environment) -> VpcEnvInputs:
    """The vpc-env inputs an environment template composes (eks-env keeps them under `network`)."""
    inputs = environment.inputs
    if isinstance(inputs, EksEnvInputs):
        return inputs.network
    if isinstance(inputs, VpcEnvInputs):
        return inputs
    raise TypeError(f"environment {environment.name} ({environment.template.label}): keel.stacks.environment_reads "
                    f"does not know where {type(inputs).__name__} keeps its network")


def _vpc(read: Reader, net: VpcEnvInputs) -> ec2.IVpc:
    """An existing VPC as the environment imports it (its ids are the spec's literals); Keel's own VPC from its
    parameters, with the CIDR, subnet counts and subnet CIDRs of the model's plan."""
    environment, scope = read.environment, read.scope
    existing = existing_vpc_of(net)
    if existing is not None:
        return import_vpc(scope, existing, environment.availability_zones)
    plan = net.subnet_plan(environment.az_count)
    vpc = ec2.Vpc.from_vpc_attributes(
        scope, "Vpc", vpc_id=read("vpc/id"), vpc_cidr_block=network_cidr(net),
        availability_zones=read.availability_zones,
        public_subnet_ids=read.split("vpc/public-subnet-ids", len(plan.public)) or None,
        public_subnet_ipv4_cidr_blocks=list(plan.public) or None,
        private_subnet_ids=read.split("vpc/private-subnet-ids", len(plan.private)) or None,
        private_subnet_ipv4_cidr_blocks=list(plan.private) or None,
        isolated_subnet_ids=read.split("vpc/isolated-subnet-ids", len(plan.isolated)) or None,
        isolated_subnet_ipv4_cidr_blocks=list(plan.isolated) or None)
    for subnet in [*vpc.public_subnets, *vpc.private_subnets, *vpc.isolated_subnets]:
        Validations.of(subnet).acknowledge(Acknowledgment(
            id="Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId",
            reason="A service places resources in its environment's subnets and never routes: only the "
                   "environment stack manages their route tables"))
    return vpc


def _network_fields(read: Reader) -> dict[str, Any]:
    environment, scope = read.environment, read.scope
    net = network_inputs(environment)
    offers = environment.offers
    group = getattr(environment.inputs, "event_bus", None)
    return {
        "name": environment.name, "template": environment.template.label, "production": environment.production,
        "removal_policy": removal_policy(production=environment.production),
        "vpc": Deferred(lambda: _vpc(read, net)), "vpc_cidr": network_cidr(net),
        "key": Deferred(lambda: kms.Key.from_key_arn(scope, "Key", read("kms/key-arn"))),
        "bus": Deferred(lambda: events.EventBus.from_event_bus_attributes(
            scope, "Bus", event_bus_arn=read("events/bus-arn"), event_bus_name=read("events/bus-name"),
            event_bus_policy="")) if offers.event_bus else None,
        "bus_archive_retention_days": getattr(group, "archive_retention_days", None) if offers.event_bus else None,
        "config": _complete(ConfigPlaneOutputs, {"prefix": environment_path(environment.name)})
        if offers.config else None,
        # the keys the template version declares (`outputs` in template.yaml)
        "discovery": Published(read, tuple(environment.template.outputs)),
    }


def read_network(read: Reader) -> NetworkOutputs:
    return _complete(NetworkOutputs, _network_fields(read))


def _load_balancer(read: Reader, vpc: Deferred[ec2.IVpc], https: bool) -> SharedLoadBalancerOutputs:
    scope = read.scope
    # Mutable, and not open outbound (as the environment made it): a target group on the listener adds the load
    # balancer's egress rule to its tasks, in the service stack (keel.stacks.logical_ids keeps those rules' IDs).
    group = Deferred(lambda: ec2.SecurityGroup.from_security_group_id(
        scope, "LoadBalancerSecurityGroup", read("ecs/load-balancer-security-group-id"), mutable=True,
        allow_all_outbound=False))
    return _complete(SharedLoadBalancerOutputs, {
        "load_balancer": Deferred(lambda: elbv2.ApplicationLoadBalancer.from_application_load_balancer_attributes(
            scope, "LoadBalancer", load_balancer_arn=read("ecs/load-balancer-arn"),
            security_group_id=group.get().security_group_id,
            load_balancer_dns_name=read("ecs/load-balancer-dns-name"), vpc=vpc.get())),
        "full_name": Deferred(lambda: read("ecs/load-balancer-full-name")),
        "listener": Deferred(lambda: elbv2.ApplicationListener.from_application_listener_attributes(
            scope, "Listener", listener_arn=read("ecs/listener-arn"), security_group=group.get())),
        "https": https, "security_group": group})


def _cluster(read: Reader, inputs: EcsEnvInputs, base: Mapping[str, Any],
             namespace: Deferred[servicediscovery.INamespace],
             exec_log_group: Deferred[logs.ILogGroup]) -> ecs.ICluster:
    vpc = base["vpc"].get()
    existing = inputs.existing_cluster if isinstance(inputs, EcsEnvInputsV13) else None
    if existing is not None:  # imported by name, as the environment imports it (its ARN built from the name)
        return ecs.Cluster.from_cluster_attributes(read.scope, "Cluster", cluster_name=existing.cluster_name,
                                                   vpc=vpc, security_groups=[])
    return ecs.Cluster.from_cluster_attributes(
        read.scope, "Cluster", cluster_name=read("ecs/cluster-name"), cluster_arn=read("ecs/cluster-arn"), vpc=vpc,
        security_groups=[], default_cloud_map_namespace=namespace.get(),
        execute_command_configuration=ecs.ExecuteCommandConfiguration(
            kms_key=base["key"].get(), logging=ecs.ExecuteCommandLogging.OVERRIDE,
            log_configuration=ecs.ExecuteCommandLogConfiguration(
                cloud_watch_log_group=exec_log_group.get(), cloud_watch_encryption_enabled=True)))


def _namespace(read: Reader, inputs: EcsEnvInputs) -> servicediscovery.INamespace:
    """Its name is the spec's (a literal, as in the environment); its id is the end of its ARN."""
    namespace_arn = read("ecs/namespace-arn")
    return servicediscovery.PrivateDnsNamespace.from_private_dns_namespace_attributes(
        read.scope, "Namespace", namespace_name=inputs.namespace_name(read.environment.name),
        namespace_arn=namespace_arn, namespace_id=Fn.select(1, Fn.split("/", namespace_arn)))


def _anywhere(read: Reader) -> AnywhereOutputs:
    scope = read.scope
    return _complete(AnywhereOutputs, {
        "execution_role": Deferred(lambda: iam.Role.from_role_arn(
            scope, "AnywhereExecutionRole", read("ecs/anywhere/execution-role-arn"), mutable=False)),
        "task_log_group": Deferred(lambda: read.log_group("AnywhereTaskLogs", "ecs/anywhere/task-log-group",
                                                          "external (ECS Anywhere) task logs")),
        "log_routing_policy": Deferred(lambda: iam.ManagedPolicy.from_managed_policy_arn(
            scope, "AnywhereLogRoutingPolicy", read(LOG_ROUTING_POLICY_KEY)))})


def read_ecs(read: Reader) -> EcsEnvOutputs:
    base = _network_fields(read)
    scope, inputs = read.scope, read.environment.inputs
    assert isinstance(inputs, EcsEnvInputs)  # the registry pairs EcsEnvOutputs with ecs-env inputs
    namespace = Deferred(lambda: _namespace(read, inputs))
    exec_log_group = Deferred(lambda: read.log_group("ExecLogs", "ecs/exec-log-group", "ECS Exec session logs"))
    # 1.3's EC2 capacity providers (none on an existing cluster): names in the spec's order, as published.
    v13 = inputs if isinstance(inputs, EcsEnvInputsV13) and inputs.existing_cluster is None else None
    providers = v13.capacity_providers() if v13 else ()
    return _complete(EcsEnvOutputs, base | {
        "cluster": Deferred(lambda: _cluster(read, inputs, base, namespace, exec_log_group)),
        "namespace": namespace, "exec_log_group": exec_log_group,
        "notifications": Deferred(lambda: sns.Topic.from_topic_arn(scope, "Notifications",
                                                                   read("ecs/events-topic-arn"))),
        "load_balancer": _load_balancer(read, base["vpc"], inputs.load_balancer.https)
        if inputs.load_balancer.enabled else None,
        "anywhere": _anywhere(read) if inputs.anywhere.enabled else None,
        "ec2_capacity_providers": Deferred(lambda: dict(zip(
            [p.name for p in providers], read.split("ecs/capacity-providers", len(providers)), strict=True))),
        "gpu_capacity_providers": tuple(p.name for p in providers if p.gpu)})


def _workloads(inputs: EksEnvInputs) -> EksWorkloadOutputs | None:
    """eks-env 1.2's workload facts: all the spec's (literals), as the environment's builder derives them."""
    if not isinstance(inputs, EksEnvInputsV12):
        return None
    version = inputs.cluster_kubernetes_version if isinstance(inputs, EksEnvInputsV13) else inputs.kubernetes_version
    return _complete(EksWorkloadOutputs, {
        "targets": targets(inputs), "kubernetes_version": version,
        "delivery": inputs.workload_delivery, "pod_identity": inputs.pod_identity,
        "team_namespaces": tuple(t.namespace for t in inputs.teams), "ingress_classes": ingress_classes(inputs)})


def _eks_cluster(read: Reader, inputs: EksEnvInputs, base: Mapping[str, Any],
                 oidc: Deferred[iam.IOpenIdConnectProvider]) -> eks.ICluster:
    scope = read.scope
    existing = existing_cluster_of(inputs)
    kubectl = None
    if isinstance(inputs, EksEnvInputsV12) and inputs.workload_delivery == "kubectl":
        token = existing.kubectl_provider_service_token if existing else None
        kubectl = eks.KubectlProvider.from_kubectl_provider_attributes(
            scope, "KubectlProvider", service_token=token or read(KUBECTL_SERVICE_TOKEN_KEY))
    # An existing cluster (eks-env 1.3): its name and security group are the spec's literals; its environment
    # publishes no endpoint, and an OIDC provider only when its owners named one (the template's outputs say so).
    return eks.Cluster.from_cluster_attributes(
        scope, "Cluster", cluster_name=existing.cluster_name if existing else read("eks/cluster-name"),
        cluster_endpoint=read("eks/endpoint") if existing is None else None,
        cluster_security_group_id=_eks_security_group_id(read, inputs), vpc=base["vpc"].get(),
        open_id_connect_provider=oidc.get() if existing is None or existing.oidc_provider_arn else None,
        kubectl_provider=kubectl)


def _eks_security_group_id(read: Reader, inputs: EksEnvInputs) -> str:
    existing = existing_cluster_of(inputs)
    return existing.cluster_security_group_id if existing else read("eks/security-group-id")


def read_eks(read: Reader) -> EksEnvOutputs:
    base = _network_fields(read)
    scope, inputs = read.scope, read.environment.inputs
    assert isinstance(inputs, EksEnvInputs)  # the registry pairs EksEnvOutputs with eks-env inputs
    oidc = Deferred(lambda: iam.OpenIdConnectProvider.from_open_id_connect_provider_arn(
        scope, "OidcProvider", read("eks/oidc-provider-arn")))
    existing = existing_cluster_of(inputs)
    return _complete(EksEnvOutputs, base | {
        "cluster": Deferred(lambda: _eks_cluster(read, inputs, base, oidc)),
        "oidc_provider": oidc if existing is None or existing.oidc_provider_arn else None,
        # an existing cluster's nodes are its owners': no node role is published
        "node_role": Deferred(lambda: iam.Role.from_role_arn(scope, "NodeRole", read("eks/node-role-arn"),
                                                             mutable=False)) if existing is None else None,
        "imported": existing is not None,
        "security_group": Deferred(lambda: ec2.SecurityGroup.from_security_group_id(
            scope, "ClusterSecurityGroup", _eks_security_group_id(read, inputs), mutable=False)),
        "workloads": _workloads(inputs)})


# Proton-format template folders (issue 15)
def read_proton(scope: Construct, environment: Environment) -> ProtonEnvOutputs:
    """A Proton-format environment's Outputs, each read from the parameter the environment stack publishes
    for it (`/keel/<environment>/outputs/<Name>`), for the service template's `environment.outputs.<Name>`."""
    assert environment.rendered is not None  # the loader renders every Proton-format environment
    names = environment.rendered.outputs
    # A dynamic reference, not a parameter: the template checks an included value against its property's
    # pattern (an ExecutionRoleArn must look like a role ARN), and a parameter would show the check its
    # default, the SSM name; CloudFormation resolves `{{resolve:ssm:...}}` where it stands, in strings too.
    outputs = {name: CfnDynamicReference(CfnDynamicReferenceService.SSM, environment_parameter_name(
        environment.name, proton_output_key(name))).to_string() for name in names}
    return _complete(ProtonEnvOutputs, {
        "name": environment.name, "template": environment.template.label, "production": environment.production,
        "outputs": outputs, "discovery": {}})


#: One rebuilder per outputs class (exact type): keel.contract.outputs.OUTPUTS_CLASSES must all be here.
REBUILDERS: Mapping[type[NetworkOutputs], Callable[[Reader], NetworkOutputs]] = {
    NetworkOutputs: read_network,
    EcsEnvOutputs: read_ecs,
    EksEnvOutputs: read_eks,
}


def read_environment(scope: Construct, environment: Environment) -> NetworkOutputs | ProtonEnvOutputs:
    """The environment's outputs, rebuilt in `scope`'s stack from its SSM parameters and the model."""
    cls = environment.template.outputs_type
    if cls is ProtonEnvOutputs:
        return read_proton(scope, environment)
    rebuild = REBUILDERS.get(cast(type[NetworkOutputs], cls))
    if rebuild is None:
        raise TypeError(f"environment {environment.name} ({environment.template.label}) hands on {cls.__name__}, "
                        "which keel.stacks.environment_reads cannot rebuild in a service stack (add it to REBUILDERS)")
    return rebuild(Reader(scope, environment))


def _is_construct(value: object) -> bool:
    return hasattr(value, "__jsii_ref__") and hasattr(value, "node") and hasattr(value.node, "path")


def _is_vpc(value: object) -> bool:
    return all(hasattr(value, tier) for tier in ("public_subnets", "private_subnets", "isolated_subnets"))


def check_rebuilt(real: object, rebuilt: object, *, stack: Stack, path: str = "") -> list[str]:
    """Where a rebuilt outputs object differs from the environment's own: a field present in one and not the
    other, a different literal, a construct (or token) that is not `stack`'s own, a different subnet count.
    Empty when they agree."""
    if dataclasses.is_dataclass(real) and not isinstance(real, type):
        if type(rebuilt) not in (type(real), _LAZY.get(type(real))):
            return [f"{path or 'outputs'}: {type(rebuilt).__name__} instead of {type(real).__name__}"]
        problems: list[str] = []
        for f in dataclasses.fields(real):
            value = object.__getattribute__(rebuilt, f.name)
            if isinstance(value, Deferred) and not value.made:
                continue  # not read by the service: nothing of it is in its template (and looking would add it)
            problems += check_rebuilt(getattr(real, f.name), getattr(rebuilt, f.name), stack=stack,
                                      path=f"{path}.{f.name}" if path else f.name)
        return problems
    if (real is None) != (rebuilt is None):
        return [f"{path}: {'absent' if rebuilt is None else 'present'} in the service stack, "
                f"{'absent' if real is None else 'present'} in the environment"]
    if isinstance(rebuilt, Published):  # declared on first use: looking would declare them all
        keys = sorted(real) if isinstance(real, Mapping) else []
        if path.endswith("discovery") or keys == sorted(rebuilt):  # discovery: the version's declared keys
            return []
        return [f"{path}: keys {sorted(rebuilt)} in the service stack, {keys} in the environment"]
    if isinstance(real, Mapping) and isinstance(rebuilt, Mapping):
        if sorted(real) != sorted(rebuilt):
            return [f"{path}: keys {sorted(rebuilt)} in the service stack, {sorted(real)} in the environment"]
        return [p for k in real for p in check_rebuilt(real[k], rebuilt[k], stack=stack, path=f"{path}[{k}]")]
    return _check_value(real, rebuilt, stack=stack, path=path)


def _check_value(real: object, rebuilt: object, *, stack: Stack, path: str) -> list[str]:
    if isinstance(real, str) and Token.is_unresolved(real):
        if not isinstance(rebuilt, str) or rebuilt == real:
            return [f"{path}: the environment's own token, not read in the service stack"]
        return []
    if _is_construct(rebuilt):
        problems: list[str] = []
        construct = cast(Construct, rebuilt)
        if Stack.of(construct).node.path != stack.node.path:
            problems.append(f"{path}: {construct.node.path} is not a construct of {stack.node.path}")
        if _is_vpc(real) and _is_vpc(rebuilt):
            for tier in ("public_subnets", "private_subnets", "isolated_subnets"):
                if len(getattr(real, tier)) != len(getattr(rebuilt, tier)):
                    problems.append(f"{path}.{tier}: {len(getattr(rebuilt, tier))} in the service stack, "
                                    f"{len(getattr(real, tier))} in the environment")
        return problems
    if real != rebuilt:
        return [f"{path}: {rebuilt!r} in the service stack, {real!r} in the environment"]
    return []
