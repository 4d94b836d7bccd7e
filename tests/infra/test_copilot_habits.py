"""What Copilot services had (issue 16, part 2), synthesized once: tests/infra/platforms/copilot.yaml.

`storefront` (static-site-svc on vpc-env and ecs-env), `report` (a job with a timeout and retries of a failed
run, and external secrets), `orders` (an external secret), `fulfil` (a worker subscribed to two of orders'
SNS topics next to its EventBridge subscription).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.infra.conftest import Synthesized, cfn_lint, open_findings, synthesize
from tests.infra.policy_helpers import flat, role_statements

PLATFORM = Path(__file__).parent / "platforms" / "copilot.yaml"
SITE, JOB, WORKER = "keel-storefront-web", "keel-report-apps", "keel-fulfil-apps"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(PLATFORM, tmp_path_factory.mktemp("copilot.out"))


def one(template: Template, kind: str) -> dict[str, Any]:
    found = template.find_resources(kind)
    assert len(found) == 1, sorted(found)
    return next(iter(found.values()))["Properties"]  # type: ignore[no-any-return]


@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_no_unacknowledged_compliance_findings(synth: Synthesized) -> None:
    assert open_findings(synth.outdir) == []


@pytest.mark.heavy  # cfn-lint of a test platform: make conformance (the default platform's: make test)
def test_cfn_lint_finds_nothing(synth: Synthesized) -> None:
    result = cfn_lint(synth.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


# --- static-site-svc ------------------------------------------------------------------------------------
def test_site_bucket_is_private_and_read_only_through_origin_access_control(synth: Synthesized) -> None:
    site = synth.templates[SITE]
    buckets = site.find_resources("AWS::S3::Bucket")
    for props in (b["Properties"] for b in buckets.values()):
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    site.has_resource_properties("AWS::CloudFront::OriginAccessControl", {
        "OriginAccessControlConfig": Match.object_like({"OriginAccessControlOriginType": "s3",
                                                        "SigningBehavior": "always"})})
    origin = one(site, "AWS::CloudFront::Distribution")["DistributionConfig"]["Origins"][0]
    assert "OriginAccessControlId" in origin and origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    policy = next(p["Properties"]["PolicyDocument"] for p in site.find_resources("AWS::S3::BucketPolicy").values()
                  if "cloudfront" in flat(p))
    reads = [s for s in policy["Statement"] if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert len(reads) == 1 and reads[0]["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in flat(reads[0]["Condition"])


def test_site_alias_uses_the_us_east_1_certificate_with_modern_tls(synth: Synthesized) -> None:
    config = one(synth.templates[SITE], "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert config["Aliases"] == ["www.example.com"]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0f9c6c1e-1111-2222-3333-444455556666",
        "MinimumProtocolVersion": "TLSv1.2_2021", "SslSupportMethod": "sni-only"}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"


def test_site_answers_missing_paths_with_the_index_for_a_single_page_application(synth: Synthesized) -> None:
    config = one(synth.templates[SITE], "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert sorted((e["ErrorCode"], e["ResponseCode"], e["ResponsePagePath"]) for e in config["CustomErrorResponses"]) \
        == [(403, 200, "/index.html"), (404, 200, "/index.html")]
    plain = one(synth.templates["keel-storefront-apps"], "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert "CustomErrorResponses" not in plain and "Aliases" not in plain


def test_site_responses_carry_security_headers(synth: Synthesized) -> None:
    config = one(synth.templates[SITE], "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 63072000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ContentSecurityPolicy"] == {"ContentSecurityPolicy": "default-src 'self'", "Override": True}
    behavior = one(synth.templates[SITE], "AWS::CloudFront::Distribution")["DistributionConfig"]["DefaultCacheBehavior"]
    assert "ResponseHeadersPolicyId" in behavior


def test_site_access_logs_of_the_distribution_and_the_bucket_go_to_the_log_bucket(synth: Synthesized) -> None:
    site = synth.templates[SITE]
    config = one(site, "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert config["Logging"]["Prefix"] == "cloudfront/"
    log_bucket = config["Logging"]["Bucket"]["Fn::GetAtt"][0]
    content = next(b["Properties"] for b in site.find_resources("AWS::S3::Bucket").values()
                   if "LoggingConfiguration" in b["Properties"])
    assert content["LoggingConfiguration"] == {"DestinationBucketName": {"Ref": log_bucket}, "LogFilePrefix": "s3/"}
    logs = site.find_resources("AWS::S3::Bucket")[log_bucket]
    assert logs["DeletionPolicy"] == "Retain"
    assert logs["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 30


def test_site_files_are_uploaded_at_deploy_time_and_invalidate_the_distribution(synth: Synthesized) -> None:
    site = synth.json(SITE)
    deployments = {k: v["Properties"] for k, v in site["Resources"].items()
                   if v["Type"] == "Custom::CDKBucketDeployment"}
    assert len(deployments) == 2
    by_prefix = {p.get("DestinationBucketKeyPrefix", ""): p for p in deployments.values()}
    assert set(by_prefix) == {"", "static/"}
    # the root upload would delete /static's files: only /static prunes
    assert by_prefix[""]["Prune"] is False and by_prefix["static/"]["Prune"] is True
    assert by_prefix[""]["Exclude"] == ["*.map"]
    assert all("DistributionId" in p for p in deployments.values())
    assert by_prefix[""]["RetainOnDelete"] is True  # a production environment keeps the files


def test_static_site_runs_on_a_vpc_env_and_an_ecs_env(synth: Synthesized) -> None:
    assert {i.environment for i in synth.model.service("storefront").instances} == {"web", "apps"}
    assert "AWS::EC2::SecurityGroup" not in flat(synth.json(SITE)["Resources"])


# --- scheduled-fargate-svc 1.1: timeout and retries ----------------------------------------------------
def _definition(synth: Synthesized) -> dict[str, Any]:
    machine = one(synth.templates[JOB], "AWS::StepFunctions::StateMachine")
    parts = machine["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "TOKEN" for p in parts)  # tokens sit inside JSON strings
    return json.loads(text)  # type: ignore[no-any-return]


def test_job_runs_the_task_through_a_state_machine_that_waits_for_it(synth: Synthesized) -> None:
    state = next(iter(_definition(synth)["States"].values()))
    assert state["Resource"].endswith(":states:::ecs:runTask.sync\"") or "runTask.sync" in state["Resource"]
    assert state["TimeoutSeconds"] == 1800
    assert state["Retry"] == [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 2,
                               "BackoffRate": 2}]


def test_job_schedule_starts_the_state_machine(synth: Synthesized) -> None:
    job = synth.templates[JOB]
    target = one(job, "AWS::Scheduler::Schedule")["Target"]
    machine = next(iter(job.find_resources("AWS::StepFunctions::StateMachine")))
    assert target["Arn"] == {"Ref": machine}
    assert "EcsParameters" not in target and "DeadLetterConfig" in target


def test_job_state_machine_is_logged_traced_and_encrypted(synth: Synthesized) -> None:
    machine = one(synth.templates[JOB], "AWS::StepFunctions::StateMachine")
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["EncryptionConfiguration"]["Type"] == "CUSTOMER_MANAGED_KMS_KEY"


# --- external secrets ----------------------------------------------------------------------------------
def _secret_resources(template: Template) -> list[Any]:
    return [r for s in role_statements(template, "TaskExecutionRole") for r in
            (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
            if "ssm:" in flat(s["Action"]) or "secretsmanager:" in flat(s["Action"])]


def test_external_secrets_are_granted_exactly_their_arns(synth: Synthesized) -> None:
    resources = [flat(r) for r in _secret_resources(synth.templates[JOB])]
    assert len(resources) == 4
    # a parameter given by name: its ARN built from the name and the environment's region and account
    assert "{\"Fn::Join\": [\"\", [\"arn:aws:ssm:eu-west-1:\", {\"Ref\": \"AWS::AccountId\"}, " \
        "\":parameter/copilot/shop/test/secrets/db_password\"]]}" in resources
    assert "\"arn:aws:ssm:eu-west-1:123456789012:parameter/shared/smtp-host\"" in resources
    assert "\"arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/license-AbCdEf\"" in resources
    # a secret given by name: its ARN carries Secrets Manager's random 6-character suffix, which the name lacks
    assert any(r.endswith(":secret:shop/api-key-??????\"]]}") for r in resources), resources
    assert not any("*" in r.replace("-??????", "") for r in resources)


def test_external_secrets_reach_the_container_by_reference(synth: Synthesized) -> None:
    task = one(synth.templates[JOB], "AWS::ECS::TaskDefinition")
    secrets = {s["Name"]: flat(s["ValueFrom"]) for s in task["ContainerDefinitions"][0]["Secrets"]}
    assert set(secrets) == {"DB_PASSWORD", "API_KEY", "LICENSE", "SMTP_HOST"}
    assert secrets["API_KEY"].endswith(":secret:shop/api-key:key::\"]]}")
    assert secrets["LICENSE"] == "\"arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/license-AbCdEf\""


# --- worker-fargate-svc 1.1: SNS topics ---------------------------------------------------------------
def test_worker_subscribes_its_queue_to_the_named_topics_without_an_export(synth: Synthesized) -> None:
    worker = synth.templates[WORKER]
    subs = [s["Properties"] for s in worker.find_resources("AWS::SNS::Subscription").values()]
    arns = sorted(flat(s["TopicArn"]) for s in subs)
    assert len(subs) == 2 and all("keel-apps-orders-" in a and "Fn::ImportValue" not in a for a in arns)
    assert all(s["Protocol"] == "sqs" for s in subs)
    ordered = next(s for s in subs if "keel-apps-orders-ordered" in flat(s["TopicArn"]))
    assert ordered["FilterPolicy"] == {"event": ["placed", "amended"]}
    assert "RawMessageDelivery" not in ordered or ordered["RawMessageDelivery"] is False
    refunds = next(s for s in subs if "keel-apps-orders-refunds" in flat(s["TopicArn"]))
    assert refunds["RawMessageDelivery"] is True
    assert all("RedrivePolicy" in s for s in subs)


def test_worker_queue_admits_exactly_those_topics(synth: Synthesized) -> None:
    worker = synth.templates[WORKER]
    sends = [s for p in worker.find_resources("AWS::SQS::QueuePolicy").values()
             for s in p["Properties"]["PolicyDocument"]["Statement"]
             if s.get("Principal") == {"Service": "sns.amazonaws.com"}]
    assert sends and all("aws:SourceArn" in flat(s["Condition"]) for s in sends)
    assert {"keel-apps-orders-ordered", "keel-apps-orders-refunds"} <= {
        t for s in sends for t in ("keel-apps-orders-ordered", "keel-apps-orders-refunds") if t in flat(s)}
    # the EventBridge subscription is still there beside them
    worker.resource_count_is("AWS::Events::Rule", 1)
