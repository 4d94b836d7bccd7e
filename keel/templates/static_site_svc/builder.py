"""static-site-svc 1.x: a private S3 bucket behind a CloudFront distribution (origin access control), filled
from folders of the repository at deploy time (BucketDeployment, which also invalidates the distribution);
security headers on every response; access logs of the distribution and of the bucket in a log bucket."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import DefaultStackSynthesizer, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from keel.constructs.common import justify, own_inline_policy
from keel.contract.outputs import NetworkOutputs
from keel.spec.model import Service, ServiceInstance
from keel.templates.static_site_svc.inputs import StaticSiteInputs, prunes

PRICE_CLASSES = {"100": cloudfront.PriceClass.PRICE_CLASS_100, "200": cloudfront.PriceClass.PRICE_CLASS_200,
                 "all": cloudfront.PriceClass.PRICE_CLASS_ALL}
_LOG_BUCKET = ("This bucket receives the access logs of the site's distribution and content bucket; logging "
               "access to the log bucket into yet another bucket only moves the problem")


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: StaticSiteInputs,
          pipeline: None, environment: NetworkOutputs) -> dict[str, str]:
    logs_bucket = _access_logs(scope, inputs)
    bucket = _site_bucket(scope, logs_bucket, environment)
    headers = _security_headers(scope, inputs, service, environment)
    certificate = (acm.Certificate.from_certificate_arn(scope, "Certificate", inputs.certificate_arn)
                   if inputs.certificate_arn else None)
    index = f"/{inputs.index_document}"
    # S3 answers a missing key with 403 through origin access control (CloudFront may not list the bucket).
    fallback = [cloudfront.ErrorResponse(http_status=status, response_http_status=200, response_page_path=index,
                                         ttl=Duration.seconds(10)) for status in (403, 404)]
    distribution = cloudfront.Distribution(
        scope, "Distribution", comment=f"Keel {environment.name}: {service.name}",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED, response_headers_policy=headers, compress=True),
        default_root_object=inputs.index_document,
        domain_names=[inputs.alias] if inputs.alias else None, certificate=certificate,
        minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None,
        error_responses=fallback if inputs.spa_fallback else None,
        enable_logging=True, log_bucket=logs_bucket, log_file_prefix="cloudfront/",
        price_class=PRICE_CLASSES[inputs.price_class], http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        web_acl_id=inputs.web_acl_arn)
    _acknowledge_distribution(distribution, inputs)

    _upload_files(scope, instance, inputs, environment, bucket, distribution)
    return {"bucket-name": bucket.bucket_name, "distribution-id": distribution.distribution_id,
            "distribution-domain-name": distribution.distribution_domain_name,
            "access-log-bucket": logs_bucket.bucket_name}


def _access_logs(scope: Construct, inputs: StaticSiteInputs) -> s3.Bucket:
    retention = Duration.days(inputs.access_log_retention_days)
    # Audit records: kept when the stack goes (as the load balancer's), versioned so an overwrite leaves the
    # original for the retention period. CloudFront's standard logs are delivered with an ACL, so the bucket
    # keeps object ownership by the writer (ACLs on), with every public ACL and policy still blocked.
    logs_bucket = s3.Bucket(
        scope, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=True,
        object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
        lifecycle_rules=[s3.LifecycleRule(expiration=retention, noncurrent_version_expiration=retention)],
        removal_policy=RemovalPolicy.RETAIN)
    justify(logs_bucket, nag={
        "AwsSolutions-S1": _LOG_BUCKET, "NIST.800.53.R5-S3BucketLoggingEnabled": _LOG_BUCKET,
        "NIST.800.53.R5-S3DefaultEncryptionKMS": "CloudFront delivers standard logs only to buckets encrypted "
                                                 "with SSE-S3, not with a KMS key",
        "NIST.800.53.R5-S3BucketReplicationEnabled": "Access logs of one site, versioned and retained in place; a "
                                                     "cross-region copy is not part of Keel's recovery plan"},
        checkov={"CKV_AWS_18": _LOG_BUCKET})
    return logs_bucket


def _site_bucket(scope: Construct, logs_bucket: s3.Bucket, environment: NetworkOutputs) -> s3.Bucket:
    # The site's files: private (CloudFront reads them through origin access control), rebuilt from the
    # repository on every deploy, so neither versioned nor replicated; kept in production-like environments.
    bucket = s3.Bucket(
        scope, "Bucket", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=logs_bucket, server_access_logs_prefix="s3/",
        removal_policy=environment.removal_policy)
    rebuilt = "The bucket holds files the deploy uploads from the repository, which is their source of record"
    justify(bucket, nag={
        "NIST.800.53.R5-S3BucketVersioningEnabled": f"{rebuilt}: the previous site is the previous commit",
        "NIST.800.53.R5-S3BucketReplicationEnabled": f"{rebuilt}; CloudFront caches them at the edge",
        "NIST.800.53.R5-S3DefaultEncryptionKMS": "Public website files, read by CloudFront through origin access "
                                                 "control: SSE-S3 avoids granting CloudFront use of a KMS key"})
    return bucket


def _security_headers(scope: Construct, inputs: StaticSiteInputs, service: Service,
                      environment: NetworkOutputs) -> cloudfront.ResponseHeadersPolicy:
    security = cloudfront.ResponseSecurityHeadersBehavior(
        strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
            access_control_max_age=Duration.days(730), include_subdomains=True, override=True),
        content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
        frame_options=cloudfront.ResponseHeadersFrameOptions(frame_option=cloudfront.HeadersFrameOption.DENY,
                                                             override=True),
        referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
            referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True),
        xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True, override=True),
        content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
            content_security_policy=inputs.content_security_policy, override=True)
        if inputs.content_security_policy else None)
    return cloudfront.ResponseHeadersPolicy(scope, "SecurityHeaders", security_headers_behavior=security,
                                            comment=f"Keel {environment.name}: security headers of {service.name}")


def _upload_files(scope: Construct, instance: ServiceInstance, inputs: StaticSiteInputs, environment: NetworkOutputs,
                  bucket: s3.Bucket, distribution: cloudfront.Distribution) -> None:
    """Each `files` entry uploaded from the repository (relative to the spec file), then invalidated."""
    folder = Path(instance.source).resolve().parent
    upload_logs = logs.LogGroup(scope, "UploadLogs", retention=logs.RetentionDays.ONE_MONTH,
                                encryption_key=environment.key, removal_policy=environment.removal_policy) \
        if inputs.files else None
    for n, entry in enumerate(inputs.files):
        s3deploy.BucketDeployment(
            scope, f"Files{n}", sources=[s3deploy.Source.asset(str((folder / entry.source).resolve()))],
            destination_bucket=bucket, destination_key_prefix=entry.key_prefix or None,
            exclude=list(entry.exclude) or None, include=list(entry.include) or None,
            prune=prunes(inputs, n), retain_on_delete=environment.removal_policy == RemovalPolicy.RETAIN,
            distribution=distribution, distribution_paths=[f"/{entry.key_prefix}*"], memory_limit=512,
            log_group=upload_logs)
    if inputs.files:
        _acknowledge_upload_handler(scope, bucket)


def _acknowledge_distribution(distribution: cloudfront.Distribution, inputs: StaticSiteInputs) -> None:
    nag = {"AwsSolutions-CFR1": "A public website for every country: geo restriction is the site owner's "
                                "business decision, not the template's default"}
    if not inputs.web_acl_arn:
        nag["AwsSolutions-CFR2"] = nag["NIST.800.53.R5-CloudFrontDistributionWAFIntegration"] = (
            "Static files from a private bucket, read-only (GET/HEAD): no application behind it to inject into. A "
            "CLOUDFRONT web ACL lives in us-east-1, outside this stack's region: give one with web_acl_arn")
    if not inputs.certificate_arn:
        nag["AwsSolutions-CFR4"] = (
            "Without an alias the site is served on CloudFront's own *.cloudfront.net certificate, whose minimum "
            "protocol CloudFront fixes (TLSv1); with alias and certificate_arn the minimum is TLSv1.2_2021")
    justify(distribution, nag=nag)


def _acknowledge_upload_handler(scope: Construct, bucket: s3.Bucket) -> None:
    """BucketDeployment's handler: a CDK singleton function at the stack's root, with CDK's own role and grants.
    It runs during deploys only: CloudFormation invokes it synchronously and records its failure on the stack."""
    stack = Stack.of(scope)
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
    partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
    logical_id = stack.resolve(stack.get_logical_id(bucket.node.default_child))  # type: ignore[arg-type]
    assets = f"arn:{partition}:s3:::cdk-{DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-{account}-{region}/*"
    sync = ("CDK's BucketDeployment syncs the whole site (aws s3 sync: copy, list, delete): its grants use S3's "
            "action families on the objects of exactly two buckets, this site's and CDK's asset bucket it copies from")
    deploy_only = ("CloudFormation invokes CDK's BucketDeployment handler synchronously during deploys and records a "
                   "failure on the stack")
    nag = {
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]": (
            "CDK's BucketDeployment handler writes its own logs through AWSLambdaBasicExecutionRole; CDK owns the "
            "role, which runs during deploys only"),
        **{f"AwsSolutions-IAM5[Action::s3:{action}]": sync
           for action in ("Abort*", "DeleteObject*", "GetBucket*", "GetObject*", "List*")},
        f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/*]": sync,
        f"AwsSolutions-IAM5[Resource::{assets}]": sync,
        "AwsSolutions-IAM5[Resource::*]": ("CDK's BucketDeployment grants cloudfront:CreateInvalidation on every "
                                           "distribution; the handler invalidates only the one it is given, this "
                                           "site's, after each upload"),
        "Serverless-LambdaDLQ": f"{deploy_only}: a DLQ would never receive anything",
        "NIST.800.53.R5-LambdaDLQ": f"{deploy_only}: a DLQ would never receive anything",
        "Serverless-LambdaLatestVersion": "CDK pins the runtime of its BucketDeployment handler to the one its "
                                          "bundled AWS CLI layer is built for",
        "AwsSolutions-L1": "CDK pins the runtime of its BucketDeployment handler to the one its bundled AWS CLI "
                           "layer is built for",
        "Serverless-LambdaTracing": f"{deploy_only}; the stack's events trace each run",
        "NIST.800.53.R5-LambdaConcurrency": f"{deploy_only}, once per upload: a reservation would only take capacity "
                                            "from the account pool",
        "NIST.800.53.R5-LambdaInsideVPC": "It calls only S3 and CloudFront during deploys; ENIs in a VPC would make "
                                          "the stack's deletion wait for them",
    }
    for child in stack.node.children:
        if child.node.id.startswith("Custom::CDKBucketDeployment"):
            justify(child, nag=nag)
            role = getattr(child, "role", None)
            if role is not None:
                own_inline_policy(role, "CDK's BucketDeployment handler role")
