"""A shared Application Load Balancer: services add listener rules and target groups to its listener."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from keel.constructs.common import justify

#: AWS managed rule groups a web ACL may use (vendor AWS), in the order they are evaluated.
MANAGED_RULE_GROUPS = ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
                       "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet",
                       "AWSManagedRulesLinuxRuleSet", "AWSManagedRulesUnixRuleSet",
                       "AWSManagedRulesAnonymousIpList", "AWSManagedRulesBotControlRuleSet")


class SharedLoadBalancer(Construct):
    """HTTPS with `certificate` (port 80 then only redirects), or plain HTTP (which the spec layer allows
    only on non-production environments, by the spec's choice); access logs to an encrypted, versioned
    bucket; optionally a WAFv2 web ACL of AWS managed rule groups, with its log.

    The listener's default action answers 404: a request reaches a service only through a rule the
    service adds (path or host), so an environment with no services exposes nothing.
    """

    def __init__(self, scope: Construct, id_: str, *, vpc: ec2.IVpc, internet_facing: bool,
                 ingress_cidrs: Sequence[str], certificate: elbv2.IListenerCertificate | None,
                 idle_timeout: Duration, access_log_retention: Duration, deletion_protection: bool,
                 waf_rule_groups: Sequence[str] | None = None, key: kms.IKey | None = None,
                 log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN) -> None:
        super().__init__(scope, id_)
        self.security_group = self._security_group(vpc, ingress_cidrs, certificate)
        self.access_logs = self._access_log_bucket(access_log_retention)
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self, "Resource", vpc=vpc, internet_facing=internet_facing, security_group=self.security_group,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC if internet_facing
                                            else ec2.SubnetType.PRIVATE_WITH_EGRESS),
            idle_timeout=idle_timeout, deletion_protection=deletion_protection,
            drop_invalid_header_fields=True, http2_enabled=True)
        self.load_balancer.log_access_logs(self.access_logs, prefix="alb")
        if not deletion_protection:
            justify(self.load_balancer, nag={"NIST.800.53.R5-ELBDeletionProtectionEnabled": (
                "Deletion protection is on in production environments; a non-production environment's stack "
                "must be removable without a manual step")})
        self.listener = self._listener(certificate)
        self.web_acl: wafv2.CfnWebACL | None = None
        if waf_rule_groups is not None:
            self.web_acl = self._web_acl(list(waf_rule_groups), key=key, log_retention=log_retention,
                                         removal_policy=removal_policy)
        else:
            justify(self.load_balancer, nag={"NIST.800.53.R5-ALBWAFEnabled": (
                "The spec turns the web ACL off (load_balancer.waf.enabled false, or a template version before "
                "ecs-env 1.2); it is on by default in production")})

    def _security_group(self, vpc: ec2.IVpc, ingress_cidrs: Sequence[str],
                        certificate: elbv2.IListenerCertificate | None) -> ec2.SecurityGroup:
        """Listener ports from the allowed networks; out only to targets in the VPC."""
        port = 443 if certificate else 80
        security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="Shared load balancer: listeners from the allowed networks, targets in the VPC")
        for n, cidr in enumerate(ingress_cidrs):
            security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(port), f"Listener from {cidr}")
            if certificate:
                security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(80),
                                                f"Redirect to HTTPS from {cidr}")
            if cidr == "0.0.0.0/0":
                Validations.of(security_group).acknowledge(Acknowledgment(
                    id="AwsSolutions::AwsSolutions-EC23",
                    reason=f"The environment spec opens the shared load balancer to the internet "
                           f"(load_balancer.ingress_cidrs[{n}]); it answers only on its listener ports."))
                justify(security_group, checkov={"CKV_AWS_260": (
                    f"load_balancer.ingress_cidrs[{n}] opens the shared load balancer to the internet; port 80 "
                    + ("answers only with a redirect to HTTPS" if certificate else
                       "is the plain-HTTP listener a non-production spec asked for (protocol: HTTP)"))})
        # Targets (tasks) live in the VPC; services open their own ports to this group.
        security_group.add_egress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.all_tcp(),
                                       "To targets in the VPC")
        return security_group

    def _access_log_bucket(self, access_log_retention: Duration) -> s3.Bucket:
        # ALB access logs support SSE-S3 only (not KMS). Audit records: kept when the stack goes, and
        # versioned, so an overwrite or delete leaves the original (noncurrent) for the retention period.
        access_logs = s3.Bucket(
            self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=access_log_retention,
                                              noncurrent_version_expiration=access_log_retention)],
            removal_policy=RemovalPolicy.RETAIN)
        Validations.of(access_logs).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-S1",
            reason="This bucket receives the load balancer's access logs; logging access to the log bucket "
                   "into yet another bucket only moves the problem."))
        log_bucket = ("This bucket receives the load balancer's access logs; logging access to the log bucket "
                      "into yet another bucket only moves the problem")
        justify(access_logs, checkov={"CKV_AWS_18": log_bucket}, nag={
            "NIST.800.53.R5-S3BucketLoggingEnabled": log_bucket,
            "NIST.800.53.R5-S3DefaultEncryptionKMS": "Elastic Load Balancing writes access logs only to buckets "
                                                     "encrypted with SSE-S3, not with a KMS key",
            "NIST.800.53.R5-S3BucketReplicationEnabled": "Access logs of one regional load balancer: versioned "
                                                         "and retained in place; a cross-region copy of request "
                                                         "logs is not part of Keel's recovery plan"})
        return access_logs

    def _listener(self, certificate: elbv2.IListenerCertificate | None) -> elbv2.ApplicationListener:
        """HTTPS on 443 (80 only redirects), or plain HTTP on 80; either answers 404 unless a rule matches."""
        not_found = elbv2.ListenerAction.fixed_response(404, content_type="text/plain", message_body="Not found")
        if certificate:
            listener = self.load_balancer.add_listener(
                "Https", port=443, protocol=elbv2.ApplicationProtocol.HTTPS, certificates=[certificate],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS, open=False, default_action=not_found)
            redirect = self.load_balancer.add_redirect(source_port=80, target_port=443, open=False)
            justify(redirect, nag={"NIST.800.53.R5-ELBv2ACMCertificateRequired": (
                "Port 80's listener only redirects to the HTTPS listener on 443, which carries the certificate; "
                "it never serves content")})
            return listener
        listener = self.load_balancer.add_listener(
            "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=False, default_action=not_found)
        plaintext = ("Plain HTTP by the spec's choice (load_balancer.protocol: HTTP); Keel allows it only on "
                     "non-production environments and refuses it in production")
        justify(listener, checkov={"CKV_AWS_2": plaintext, "CKV_AWS_103": plaintext}, nag={
            "NIST.800.53.R5-ALBHttpToHttpsRedirection": plaintext,
            "NIST.800.53.R5-ELBv2ACMCertificateRequired": plaintext})
        return listener

    def _web_acl(self, groups: list[str], *, key: kms.IKey | None, log_retention: logs.RetentionDays,
                 removal_policy: RemovalPolicy) -> wafv2.CfnWebACL:
        """A regional web ACL: allow by default, each AWS managed rule group blocks what it matches."""
        name = f"{Stack.of(self).stack_name}-alb"

        def visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True)

        acl = wafv2.CfnWebACL(
            self, "WebAcl", scope="REGIONAL", name=name, description="Keel shared load balancer: AWS managed rules",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility(name),
            rules=[wafv2.CfnWebACL.RuleProperty(
                name=group, priority=n, override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group)),
                visibility_config=visibility(group)) for n, group in enumerate(groups)])
        wafv2.CfnWebACLAssociation(self, "WebAclAssociation", resource_arn=self.load_balancer.load_balancer_arn,
                                   web_acl_arn=acl.attr_arn)
        # WAF logs go to a log group whose name starts with aws-waf-logs- (WAF's rule), encrypted and retained.
        stack = Stack.of(self)
        group_name = f"aws-waf-logs-{name}"
        self.waf_logs = logs.LogGroup(self, "WafLogs", log_group_name=group_name, retention=log_retention,
                                      encryption_key=key, removal_policy=removal_policy)
        logging = wafv2.CfnLoggingConfiguration(
            self, "WafLogging", resource_arn=acl.attr_arn,
            log_destination_configs=[f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{group_name}"])
        logging.node.add_dependency(self.waf_logs)
        return acl
