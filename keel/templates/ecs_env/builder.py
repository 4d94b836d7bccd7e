"""ecs-env 1.x builder (1.0 and 1.1 share it): vpc-env's key and network, the ECS cluster, the optional
shared load balancer, ECS Anywhere readiness and control-plane monitoring; from 1.1 the event bus and
config plane; and what service instances get from them."""

from __future__ import annotations

from aws_cdk import Duration, Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from keel.constructs.common import RETENTION, pascal_id, removal_policy
from keel.constructs.control_plane_events import ControlPlaneEvents
from keel.constructs.ec2_capacity import Ec2Capacity, Ec2CapacityProps
from keel.constructs.ecs_anywhere import EcsAnywhere, Registration
from keel.constructs.ecs_cluster import EcsCluster, ImportedEcsCluster
from keel.constructs.load_balancer import SharedLoadBalancer
from keel.contract.outputs import AnywhereOutputs, EcsEnvOutputs, SharedLoadBalancerOutputs
from keel.spec.model import Environment
from keel.templates import acknowledgements
from keel.templates.ecs_env.inputs import (
    Ec2CapacityProviderInputs,
    EcsEnvInputs,
    EcsEnvInputsV11,
    EcsEnvInputsV13,
    LoadBalancerInputsV12,
)
from keel.templates.platform_services import build_platform_services
from keel.templates.vpc_env.builder import build_network, network_discovery
from keel.templates.vpc_env.inputs import network_cidr

# Discovery key of the activation secret's ARN: the registration script finds the secret through it.
ACTIVATION_SECRET_KEY = "ecs/anywhere/activation-secret-arn"
# environment reads (issue 20): the FireLens log routing policy, which services of the environment read.
LOG_ROUTING_POLICY_KEY = "ecs/anywhere/log-routing-policy-arn"


def build(scope: Construct, *, environment: Environment, inputs: EcsEnvInputs) -> EcsEnvOutputs:
    key, network = build_network(scope, environment=environment, inputs=inputs)
    vpc = network.vpc
    policy = removal_policy(production=environment.production)
    retention = RETENTION[inputs.log_retention_days]
    name = environment.name

    v13 = inputs if isinstance(inputs, EcsEnvInputsV13) else None
    ecs_cluster: EcsCluster | ImportedEcsCluster
    if v13 is not None and v13.existing_cluster is not None:
        ecs_cluster = ImportedEcsCluster(
            scope, "Cluster", vpc=vpc, key=key.key, cluster_name=v13.existing_cluster.cluster_name,
            namespace=inputs.namespace_name(name), log_retention=retention, removal_policy=policy)
    else:
        ecs_cluster = EcsCluster(
            scope, "Cluster", vpc=vpc, key=key.key, cluster_name=f"keel-{name}",
            namespace=inputs.namespace_name(name), container_insights=inputs.container_insights,
            default_strategy=[ecs.CapacityProviderStrategy(capacity_provider=s.capacity_provider, weight=s.weight,
                                                           base=s.base) for s in inputs.capacity_provider_strategy],
            log_retention=retention, removal_policy=policy)
    cluster = ecs_cluster.cluster
    # 1.3: EC2 capacity providers (the spec checks refuse them on an existing cluster).
    ec2_providers: dict[str, str] = {}
    if v13 is not None and isinstance(ecs_cluster, EcsCluster):
        for provider in v13.capacity_providers():
            capacity = Ec2Capacity(scope, f"Ec2Capacity{pascal_id(provider.name)}", cluster=ecs_cluster.cluster,
                                   vpc=vpc, props=ec2_capacity_props(f"keel-{name}-{provider.name}", provider))
            ec2_providers[provider.name] = capacity.capacity_provider.capacity_provider_name
    discovery = network_discovery(network) | {
        "kms/key-arn": key.key.key_arn,
        "ecs/cluster-name": cluster.cluster_name,
        "ecs/cluster-arn": cluster.cluster_arn,
        "ecs/namespace-name": ecs_cluster.namespace.namespace_name,
        "ecs/namespace-arn": ecs_cluster.namespace.namespace_arn,
        "ecs/exec-log-group": ecs_cluster.exec_log_group.log_group_name,
    }
    if ec2_providers:
        discovery["ecs/capacity-providers"] = Fn.join(",", list(ec2_providers.values()))

    lb_inputs = inputs.load_balancer
    shared_lb = None
    if lb_inputs.enabled:
        certificate = (elbv2.ListenerCertificate.from_arn(lb_inputs.certificate_arn)
                       if lb_inputs.https and lb_inputs.certificate_arn else None)
        waf_retention = lb_inputs.waf.log_retention_days if isinstance(lb_inputs, LoadBalancerInputsV12) else 90
        shared_lb = SharedLoadBalancer(
            scope, "LoadBalancer", vpc=vpc, internet_facing=lb_inputs.is_internet_facing,
            ingress_cidrs=lb_inputs.ingress_cidrs, certificate=certificate,
            idle_timeout=Duration.seconds(lb_inputs.idle_timeout_seconds),
            access_log_retention=Duration.days(lb_inputs.access_log_retention_days),
            deletion_protection=environment.production,
            waf_rule_groups=lb_inputs.web_acl_rule_groups(environment.production), key=key.key,
            log_retention=RETENTION[waf_retention], removal_policy=policy)
        discovery |= {
            "ecs/load-balancer-arn": shared_lb.load_balancer.load_balancer_arn,
            "ecs/load-balancer-dns-name": shared_lb.load_balancer.load_balancer_dns_name,
            "ecs/listener-arn": shared_lb.listener.listener_arn,
            "ecs/load-balancer-security-group-id": shared_lb.security_group.security_group_id,
            # environment reads (issue 20): the metrics dimension services' alarms and scaling name
            "ecs/load-balancer-full-name": shared_lb.load_balancer.load_balancer_full_name,
        }

    anywhere = None
    if inputs.anywhere.enabled:
        a = inputs.anywhere
        anywhere = EcsAnywhere(
            scope, "Anywhere", cluster=cluster, key=key.key, environment=name,
            registration=Registration(region=str(environment.region), cluster=f"keel-{name}", gpu=a.gpu,
                                      docker_install_source=a.docker_install_source),
            secret_parameter=f"/keel/{name}/{ACTIVATION_SECRET_KEY}",
            instance_name_prefix=inputs.instance_name_prefix(name), registration_limit=a.registration_limit,
            expiry_days=a.expiry_days, epoch=a.epoch, tags={"keel:environment": name},
            log_retention=retention, removal_policy=policy)
        acknowledgements.ecs_anywhere(anywhere)
        discovery |= {
            ACTIVATION_SECRET_KEY: anywhere.secret.secret_arn,
            "ecs/anywhere/instance-role-name": anywhere.instance_role.role_name,
            "ecs/anywhere/execution-role-arn": anywhere.execution_role.role_arn,
            "ecs/anywhere/task-log-group": anywhere.task_log_group.log_group_name,
            LOG_ROUTING_POLICY_KEY: anywhere.log_routing_policy.managed_policy_arn,  # issue 20
        }

    monitoring = ControlPlaneEvents(
        scope, "ControlPlaneEvents", cluster=cluster, key=key.key, log_group_name=f"/aws/events/keel/{name}/ecs",
        notification_emails=inputs.monitoring.notification_emails, formatter=inputs.monitoring.formatter,
        log_retention=retention, removal_policy=policy)
    discovery |= {"ecs/events-topic-arn": monitoring.topic.topic_arn,
                  "ecs/events-log-group": monitoring.log_group.log_group_name}
    # 1.1: the bus and config plane (1.0's inputs have neither group, so 1.0 gets nothing here).
    v11 = inputs if isinstance(inputs, EcsEnvInputsV11) else None
    services = build_platform_services(scope, environment=environment, key=key.key,
                                       event_bus=v11.event_bus if v11 else None, config=v11.config if v11 else None)
    discovery |= services.discovery
    # environment reads (issue 20): CloudWatch Logs' delivery decrypts with the key for the log groups of services'
    # state machines (scheduled-fargate-svc 1.1); CDK put this on the key from the service stack while services held
    # the key itself, and a service's import of it cannot change its policy.
    key.key.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal("delivery.logs.amazonaws.com")], actions=["kms:Decrypt*"], resources=["*"]))

    return EcsEnvOutputs(
        name=name, template=environment.template.label, production=environment.production,
        removal_policy=policy, vpc=vpc, vpc_cidr=network_cidr(inputs), key=key.key, bus=services.bus,
        bus_archive_retention_days=services.archive_retention_days,
        config=services.config_outputs, discovery=discovery,
        cluster=cluster, namespace=ecs_cluster.namespace, exec_log_group=ecs_cluster.exec_log_group,
        notifications=monitoring.topic,
        load_balancer=SharedLoadBalancerOutputs(
            load_balancer=shared_lb.load_balancer, full_name=shared_lb.load_balancer.load_balancer_full_name,
            listener=shared_lb.listener, https=lb_inputs.https, security_group=shared_lb.security_group)
        if shared_lb else None,
        anywhere=AnywhereOutputs(execution_role=anywhere.execution_role, task_log_group=anywhere.task_log_group,
                                 log_routing_policy=anywhere.log_routing_policy) if anywhere else None,
        ec2_capacity_providers=ec2_providers,
        gpu_capacity_providers=tuple(p.name for p in v13.capacity_providers() if p.gpu) if v13 else ())


def machine_image(provider: Ec2CapacityProviderInputs) -> tuple[ec2.IMachineImage, ecs.MachineImageType]:
    """The provider's AMI, always from its SSM parameter when the stack deploys (never looked up at synth)."""
    image = provider.image
    if image == "ssm-parameter":
        assert provider.ami_parameter is not None  # the spec checks require it
        return (ec2.MachineImage.from_ssm_parameter(provider.ami_parameter, os=ec2.OperatingSystemType.LINUX),
                ecs.MachineImageType.AMAZON_LINUX_2)
    if image.startswith("bottlerocket"):
        variant = (ecs.BottlerocketEcsVariant.AWS_ECS_2_NVIDIA if image == "bottlerocket-nvidia"
                   else ecs.BottlerocketEcsVariant.AWS_ECS_2)
        return (ecs.BottleRocketImage(variant=variant, architecture=ec2.InstanceArchitecture.ARM_64
                                      if provider.arm64 else ec2.InstanceArchitecture.X86_64),
                ecs.MachineImageType.BOTTLEROCKET)
    hardware = (ecs.AmiHardwareType.GPU if image == "ecs-optimized-gpu"
                else ecs.AmiHardwareType.ARM if provider.arm64 else ecs.AmiHardwareType.STANDARD)
    return ecs.EcsOptimizedImage.amazon_linux2023(hardware), ecs.MachineImageType.AMAZON_LINUX_2


def ec2_capacity_props(capacity_provider_name: str, provider: Ec2CapacityProviderInputs) -> Ec2CapacityProps:
    image, image_type = machine_image(provider)
    public = provider.subnet_type == "public"
    return Ec2CapacityProps(
        capacity_provider_name=capacity_provider_name,
        instance_types=[ec2.InstanceType(t) for t in provider.instance_types],
        machine_image=image, machine_image_type=image_type,
        subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC if public
                                    else ec2.SubnetType.PRIVATE_WITH_EGRESS),
        public_addresses=public, min_capacity=provider.min_capacity, max_capacity=provider.max_capacity,
        desired_capacity=provider.desired_capacity, spot=provider.spot,
        on_demand_base_capacity=provider.on_demand_base_capacity,
        on_demand_percentage_above_base=provider.on_demand_percentage_above_base,
        target_capacity_percent=provider.target_capacity_percent,
        managed_termination_protection=provider.managed_termination_protection,
        managed_draining=provider.managed_draining, root_volume_gib=provider.root_volume_gib)
