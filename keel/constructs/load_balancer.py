"""A shared Application Load Balancer: services add listener rules and target groups to its listener."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct


class SharedLoadBalancer(Construct):
    """HTTP, or HTTPS with `certificate` (port 80 then redirects); access logs to an encrypted bucket.

    The listener's default action answers 404: a request reaches a service only through a rule the
    service adds (path or host), so an environment with no services exposes nothing.
    """

    def __init__(self, scope: Construct, id_: str, *, vpc: ec2.IVpc, internet_facing: bool,
                 ingress_cidrs: Sequence[str], certificate: elbv2.IListenerCertificate | None,
                 idle_timeout: Duration, access_log_retention: Duration, deletion_protection: bool) -> None:
        super().__init__(scope, id_)
        port = 443 if certificate else 80
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="Shared load balancer: listeners from the allowed networks, targets in the VPC")
        for n, cidr in enumerate(ingress_cidrs):
            self.security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(port), f"Listener from {cidr}")
            if certificate:
                self.security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(80),
                                                     f"Redirect to HTTPS from {cidr}")
            if cidr == "0.0.0.0/0":
                Validations.of(self.security_group).acknowledge(Acknowledgment(
                    id="AwsSolutions::AwsSolutions-EC23",
                    reason=f"The environment spec opens the shared load balancer to the internet "
                           f"(load_balancer.ingress_cidrs[{n}]); it answers only on its listener ports."))
        # Targets (tasks) live in the VPC; services open their own ports to this group.
        self.security_group.add_egress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.all_tcp(),
                                            "To targets in the VPC")

        # ALB access logs support SSE-S3 only (not KMS). Audit records: kept when the stack goes.
        self.access_logs = s3.Bucket(
            self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=False,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=access_log_retention)],
            removal_policy=RemovalPolicy.RETAIN)
        Validations.of(self.access_logs).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-S1",
            reason="This bucket receives the load balancer's access logs; logging access to the log bucket "
                   "into yet another bucket only moves the problem."))

        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self, "Resource", vpc=vpc, internet_facing=internet_facing, security_group=self.security_group,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC if internet_facing
                                            else ec2.SubnetType.PRIVATE_WITH_EGRESS),
            idle_timeout=idle_timeout, deletion_protection=deletion_protection,
            drop_invalid_header_fields=True, http2_enabled=True)
        self.load_balancer.log_access_logs(self.access_logs, prefix="alb")

        not_found = elbv2.ListenerAction.fixed_response(404, content_type="text/plain", message_body="Not found")
        if certificate:
            self.listener = self.load_balancer.add_listener(
                "Https", port=443, protocol=elbv2.ApplicationProtocol.HTTPS, certificates=[certificate],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS, open=False, default_action=not_found)
            self.load_balancer.add_redirect(source_port=80, target_port=443, open=False)
        else:
            self.listener = self.load_balancer.add_listener(
                "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=False, default_action=not_found)
