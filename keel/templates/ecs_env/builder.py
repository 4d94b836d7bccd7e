"""ecs-env 1.x builder (1.0 and 1.1 share it): vpc-env's key and network, the ECS cluster, the optional
shared load balancer, ECS Anywhere readiness and control-plane monitoring; from 1.1 the event bus and
config plane; and what service instances get from them."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from keel.constructs.common import RETENTION, removal_policy
from keel.constructs.control_plane_events import ControlPlaneEvents
from keel.constructs.ecs_anywhere import EcsAnywhere, Registration
from keel.constructs.ecs_cluster import EcsCluster
from keel.constructs.load_balancer import SharedLoadBalancer
from keel.contract.outputs import AnywhereOutputs, EcsEnvOutputs, SharedLoadBalancerOutputs
from keel.spec.model import Environment
from keel.templates import acknowledgements
from keel.templates.ecs_env.inputs import EcsEnvInputs, EcsEnvInputsV11, LoadBalancerInputsV12
from keel.templates.platform_services import build_platform_services
from keel.templates.vpc_env.builder import build_network, network_discovery

# Discovery key of the activation secret's ARN: the registration script finds the secret through it.
ACTIVATION_SECRET_KEY = "ecs/anywhere/activation-secret-arn"


def build(scope: Construct, *, environment: Environment, inputs: EcsEnvInputs) -> EcsEnvOutputs:
    key, network = build_network(scope, environment=environment, inputs=inputs)
    vpc = network.vpc
    policy = removal_policy(production=environment.production)
    retention = RETENTION[inputs.log_retention_days]
    name = environment.name

    ecs_cluster = EcsCluster(
        scope, "Cluster", vpc=vpc, key=key.key, cluster_name=f"keel-{name}",
        namespace=inputs.namespace_name(name), container_insights=inputs.container_insights,
        default_strategy=[ecs.CapacityProviderStrategy(capacity_provider=s.capacity_provider, weight=s.weight,
                                                       base=s.base) for s in inputs.capacity_provider_strategy],
        log_retention=retention, removal_policy=policy)
    cluster = ecs_cluster.cluster
    discovery = network_discovery(network) | {
        "kms/key-arn": key.key.key_arn,
        "ecs/cluster-name": cluster.cluster_name,
        "ecs/cluster-arn": cluster.cluster_arn,
        "ecs/namespace-name": ecs_cluster.namespace.namespace_name,
        "ecs/namespace-arn": ecs_cluster.namespace.namespace_arn,
        "ecs/exec-log-group": ecs_cluster.exec_log_group.log_group_name,
    }

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

    return EcsEnvOutputs(
        name=name, template=environment.template.label, production=environment.production,
        removal_policy=policy, vpc=vpc, vpc_cidr=inputs.vpc_cidr, key=key.key, bus=services.bus,
        bus_archive_retention_days=services.archive_retention_days,
        config=services.config_outputs, discovery=discovery,
        cluster=cluster, namespace=ecs_cluster.namespace, exec_log_group=ecs_cluster.exec_log_group,
        notifications=monitoring.topic,
        load_balancer=SharedLoadBalancerOutputs(
            load_balancer=shared_lb.load_balancer, full_name=shared_lb.load_balancer.load_balancer_full_name,
            listener=shared_lb.listener, https=lb_inputs.https, security_group=shared_lb.security_group)
        if shared_lb else None,
        anywhere=AnywhereOutputs(execution_role=anywhere.execution_role, task_log_group=anywhere.task_log_group,
                                 log_routing_policy=anywhere.log_routing_policy) if anywhere else None)
