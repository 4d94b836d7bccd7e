"""EC2 capacity for an ECS cluster: an Auto Scaling group of container instances behind an ECS capacity
provider (managed scaling, termination protection and draining), for what Fargate cannot run: GPU tasks,
daemon agents, instance-attribute placement (the whitepaper's "GPU-powered instances").

Secure by default: IMDSv2 only (and no instance metadata for awsvpc tasks), encrypted gp3 volumes, detailed
monitoring, no inbound rule, an instance role with only what the ECS agent needs for this cluster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from keel.constructs.common import justify, own_inline_policy


@dataclass(frozen=True, kw_only=True)
class Ec2CapacityProps:
    #: The ECS capacity provider's name (services' strategies name it): not starting with aws, ecs or fargate.
    capacity_provider_name: str
    #: Most preferred first; more than one, or Spot, makes a mixed instances policy.
    instance_types: Sequence[ec2.InstanceType]
    machine_image: ec2.IMachineImage
    machine_image_type: ecs.MachineImageType
    subnets: ec2.SubnetSelection
    public_addresses: bool = False
    min_capacity: int
    max_capacity: int
    desired_capacity: int | None = None
    spot: bool = False
    on_demand_base_capacity: int = 0
    on_demand_percentage_above_base: int = 0
    target_capacity_percent: int = 100
    managed_termination_protection: bool = True
    managed_draining: bool = True
    root_volume_gib: int = 30


class Ec2Capacity(Construct):
    """The group (`Resource`), its launch template, instance role and security group, and the capacity
    provider (`CapacityProvider`) associated with `cluster`."""

    def __init__(self, scope: Construct, id_: str, *, cluster: ecs.Cluster, vpc: ec2.IVpc,
                 props: Ec2CapacityProps) -> None:
        super().__init__(scope, id_)
        bottlerocket = props.machine_image_type == ecs.MachineImageType.BOTTLEROCKET
        self.role = iam.Role(self, "InstanceRole", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
                             description=f"Container instances of {props.capacity_provider_name} (ECS agent)")
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=True,
            description=f"Container instances of {props.capacity_provider_name}: no inbound, tasks have their own")
        if bottlerocket:
            # Bottlerocket reads TOML settings: CDK writes the [settings.ecs] table, this adds to it below.
            user_data = ec2.UserData.custom("")
        else:
            user_data = ec2.UserData.for_linux()
            # awsvpc tasks get no instance metadata (so not the instance role's credentials), as Proton's
            # ecs-ec2-env did; Spot instances drain their tasks on the interruption notice.
            user_data.add_commands("echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config")
            if props.spot:
                user_data.add_commands("echo ECS_ENABLE_SPOT_INSTANCE_DRAINING=true >> /etc/ecs/ecs.config")
        device = "/dev/xvdb" if bottlerocket else "/dev/xvda"
        self.launch_template = ec2.LaunchTemplate(
            self, "LaunchTemplate", machine_image=props.machine_image,
            instance_type=props.instance_types[0] if len(props.instance_types) == 1 and not props.spot else None,
            role=self.role, security_group=self.security_group, user_data=user_data,
            require_imdsv2=True, http_put_response_hop_limit=1, detailed_monitoring=True,
            associate_public_ip_address=props.public_addresses or None,
            block_devices=[ec2.BlockDevice(device_name=device, volume=ec2.BlockDeviceVolume.ebs(
                props.root_volume_gib, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3,
                delete_on_termination=True))])
        mixed = len(props.instance_types) > 1 or props.spot
        self.auto_scaling_group = autoscaling.AutoScalingGroup(
            self, "Resource", vpc=vpc, vpc_subnets=props.subnets,
            min_capacity=props.min_capacity, max_capacity=props.max_capacity,
            desired_capacity=props.desired_capacity,
            launch_template=None if mixed else self.launch_template,
            mixed_instances_policy=autoscaling.MixedInstancesPolicy(
                launch_template=self.launch_template,
                launch_template_overrides=[autoscaling.LaunchTemplateOverrides(instance_type=t)
                                           for t in props.instance_types],
                instances_distribution=autoscaling.InstancesDistribution(
                    on_demand_base_capacity=props.on_demand_base_capacity if props.spot else None,
                    on_demand_percentage_above_base_capacity=props.on_demand_percentage_above_base
                    if props.spot else 100,
                    spot_allocation_strategy=autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED
                    if props.spot else None)) if mixed else None,
            capacity_rebalance=props.spot or None)
        self.capacity_provider = ecs.AsgCapacityProvider(
            self, "CapacityProvider", auto_scaling_group=self.auto_scaling_group,
            capacity_provider_name=props.capacity_provider_name, enable_managed_scaling=True,
            enable_managed_termination_protection=props.managed_termination_protection,
            enable_managed_draining=props.managed_draining, target_capacity_percent=props.target_capacity_percent,
            machine_image_type=props.machine_image_type)
        cluster.add_asg_capacity_provider(self.capacity_provider)
        if bottlerocket:
            user_data.add_commands("awsvpc-block-imds = true")
        self._acknowledge(bottlerocket)

    def _acknowledge(self, bottlerocket: bool) -> None:
        own_inline_policy(self.role, "The container instances' role (the ECS agent's calls for this cluster)")
        policy = self.role.node.find_child("DefaultPolicy")
        Validations.of(policy).acknowledge(
            Acknowledgment(id="AwsSolutions::AwsSolutions-IAM5[Action::ecs:Submit*]",
                           reason="CDK's ECS agent policy: ecs:Submit* (the agent's state reports) on this "
                                  "cluster's ARN only"),
            Acknowledgment(id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                           reason="CDK's ECS agent policy: ecs:Poll and StartTelemetrySession are conditioned on "
                                  "this cluster; DiscoverPollEndpoint, ecr:GetAuthorizationToken and the agent's "
                                  "log calls have no resource-level permissions"))
        if bottlerocket:
            Validations.of(self.role).acknowledge(
                Acknowledgment(id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                               "AmazonSSMManagedInstanceCore]",
                               reason="Bottlerocket's control container runs on SSM: AWS's policy for it, kept "
                                      "current by AWS as the agent changes"),
                Acknowledgment(id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                               "service-role/AmazonEC2ContainerServiceforEC2Role]",
                               reason="The ECS agent's policy that CDK attaches to Bottlerocket instances, kept "
                                      "current by AWS as the agent changes"))
        justify(self.auto_scaling_group, nag={
            "AwsSolutions-AS3": "ECS managed scaling drives this group; its scaling and the tasks it runs are "
                                "reported through the cluster's control-plane events (ecs-env monitoring)",
            "AwsSolutions-EC26": "The rule cannot read the launch template through its GetAtt version: the "
                                 "launch template's only block device is encrypted (gp3, encrypted: true)",
            "NIST.800.53.R5-EC2IMDSv2Enabled": "The rule cannot read the launch template through its GetAtt "
                                               "version: the launch template sets HttpTokens required (IMDSv2)",
        })
