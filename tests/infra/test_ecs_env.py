"""ecs-env: the cluster, the shared load balancer, ECS Anywhere readiness and control-plane monitoring.

tests/infra/platforms/ecs.yaml is synthesized once per run (the `ecs` session fixture, shared with
test_ecs_env_events): `edge` has everything on (production, HTTPS, Anywhere with GPU), `plain` is the
defaults with the formatter off.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.infra.conftest import Synthesized, cfn_lint, mask_hashes, open_findings, report_findings


@pytest.fixture(scope="module")
def edge(ecs: Synthesized) -> Template:
    return ecs.templates["keel-edge"]


@pytest.fixture(scope="module")
def plain(ecs: Synthesized) -> Template:
    return ecs.templates["keel-plain"]


def resources(template: Template, kind: str) -> dict[str, Any]:
    return template.find_resources(kind)


def only(template: Template, kind: str, props: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    found = template.find_resources(kind, {"Properties": Match.object_like(props)} if props else None)
    assert len(found) == 1, sorted(found)
    return next(iter(found.items()))


def role_id(template: Template, service: str) -> str:
    logical, _ = only(template, "AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [
        Match.object_like({"Principal": {"Service": service}})]}})
    return logical


# --- compliance ----------------------------------------------------------------------------------
@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_no_unacknowledged_compliance_findings(ecs: Synthesized) -> None:
    assert open_findings(ecs.outdir) == []


@pytest.mark.heavy  # cfn-lint of a test platform: make conformance (the default platform's: make test)
def test_cfn_lint_finds_nothing(ecs: Synthesized) -> None:
    result = cfn_lint(ecs.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_templates_match_snapshots(ecs: Synthesized, snapshot) -> None:  # type: ignore[no-untyped-def]
    for stack in sorted(ecs.templates):
        assert mask_hashes(ecs.json(stack)) == snapshot(name=stack)


def test_every_taggable_resource_has_the_template_tag(ecs: Synthesized) -> None:
    for stack, template in ecs.templates.items():
        for logical_id, resource in template.to_json()["Resources"].items():
            tags = resource.get("Properties", {}).get("Tags")
            if isinstance(tags, list) and tags and isinstance(tags[0], dict) and "Key" in tags[0]:
                expected = "ecs-env@1.2" if stack == "keel-guarded" else "ecs-env@1.0"
                assert {t["Key"]: t["Value"] for t in tags}.get("keel:template") == expected, (stack, logical_id)


# --- cluster -------------------------------------------------------------------------------------
def test_cluster_is_named_for_registration_and_has_enhanced_insights(edge: Template) -> None:
    edge.has_resource_properties("AWS::ECS::Cluster", {
        "ClusterName": "keel-edge",
        "ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}]})


def test_container_insights_input_is_honoured(plain: Template) -> None:
    plain.has_resource_properties("AWS::ECS::Cluster", {
        "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]})


def test_fargate_and_spot_with_the_spec_default_strategy(edge: Template) -> None:
    edge.has_resource_properties("AWS::ECS::ClusterCapacityProviderAssociations", {
        "CapacityProviders": Match.array_with(["FARGATE", "FARGATE_SPOT"]),
        "DefaultCapacityProviderStrategy": [
            {"CapacityProvider": "FARGATE", "Weight": 1, "Base": 2},
            {"CapacityProvider": "FARGATE_SPOT", "Weight": 3, "Base": 0}]})


def test_exec_is_encrypted_with_the_environment_key_and_logged(edge: Template) -> None:
    key = only(edge, "AWS::KMS::Key")[0]
    edge.has_resource_properties("AWS::ECS::Cluster", {"Configuration": {"ExecuteCommandConfiguration": {
        "KmsKeyId": {"Fn::GetAtt": [key, "Arn"]}, "Logging": "OVERRIDE",
        "LogConfiguration": {"CloudWatchEncryptionEnabled": True, "CloudWatchLogGroupName": Match.any_value()}}}})


def test_private_dns_namespace_is_the_service_connect_default(edge: Template) -> None:
    edge.has_resource_properties("AWS::ServiceDiscovery::PrivateDnsNamespace", {"Name": "edge.keel.internal"})
    edge.has_resource_properties("AWS::ECS::Cluster", {"ServiceConnectDefaults": {
        "Namespace": {"Fn::GetAtt": [Match.string_like_regexp("Namespace"), "Arn"]}}})


def test_namespace_defaults_to_the_environment_name(plain: Template) -> None:
    plain.has_resource_properties("AWS::ServiceDiscovery::PrivateDnsNamespace", {"Name": "plain.internal"})


# --- shared load balancer ------------------------------------------------------------------------
def test_https_listener_uses_the_spec_certificate_and_a_modern_policy(edge: Template) -> None:
    edge.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {
        "Port": 443, "Protocol": "HTTPS",
        "Certificates": [{"CertificateArn": Match.string_like_regexp(r"^arn:aws:acm:eu-west-1:.*certificate/")}],
        "SslPolicy": Match.string_like_regexp("TLS13"),
        "DefaultActions": [Match.object_like({"Type": "fixed-response",
                                              "FixedResponseConfig": Match.object_like({"StatusCode": "404"})})]})


def test_http_redirects_to_https(edge: Template) -> None:
    edge.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {
        "Port": 80, "Protocol": "HTTP",
        "DefaultActions": [Match.object_like({"Type": "redirect", "RedirectConfig": Match.object_like(
            {"Protocol": "HTTPS", "Port": "443"})})]})


def test_load_balancer_logs_access_and_is_protected_in_production(edge: Template) -> None:
    _, lb = only(edge, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    attrs = {a["Key"]: a["Value"] for a in lb["Properties"]["LoadBalancerAttributes"]}
    assert attrs["deletion_protection.enabled"] == "true"
    assert attrs["access_logs.s3.enabled"] == "true"
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert lb["Properties"]["Scheme"] == "internet-facing"


def test_access_log_bucket_is_encrypted_private_and_expires(edge: Template) -> None:
    edge.has_resource_properties("AWS::S3::Bucket", {
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "LifecycleConfiguration": {"Rules": [Match.object_like({"ExpirationInDays": 90})]}})


def test_environment_without_load_balancer_has_none(plain: Template) -> None:
    plain.resource_count_is("AWS::ElasticLoadBalancingV2::LoadBalancer", 0)


# --- ECS Anywhere --------------------------------------------------------------------------------
def test_external_instances_role_trusts_only_ssm_of_this_account(edge: Template) -> None:
    _, role = only(edge, "AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [
        Match.object_like({"Principal": {"Service": "ssm.amazonaws.com"}})]}})
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "aws:SourceArn" in statement["Condition"]["ArnLike"]


def test_external_instances_role_has_the_ecs_anywhere_managed_policies(edge: Template) -> None:
    _, role = only(edge, "AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [
        Match.object_like({"Principal": {"Service": "ssm.amazonaws.com"}})]}})
    arns = json.dumps(role["Properties"]["ManagedPolicyArns"])
    assert ":iam::aws:policy/AmazonSSMManagedInstanceCore" not in arns  # scoped SSM agent statements instead
    assert ":iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role" in arns


def test_external_task_execution_role_trusts_ecs_tasks_and_pulls_only_this_account(edge: Template) -> None:
    logical = role_id(edge, "ecs-tasks.amazonaws.com")
    edge.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": logical}],
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Sid": "EcrPull", "Resource": {"Fn::Join": ["", Match.array_with([
                Match.string_like_regexp(":ecr:eu-west-1:"), {"Ref": "AWS::AccountId"}])]}})])}})


def test_activation_resource_gets_the_spec_inputs(edge: Template) -> None:
    instance_role = role_id(edge, "ssm.amazonaws.com")
    _, activation = only(edge, "Custom::KeelHybridActivation")
    props = activation["Properties"]
    assert props["RoleName"] == {"Ref": instance_role}
    assert (props["RegistrationLimit"], props["ExpiryDays"], props["Epoch"]) == (250, 14, 1)
    assert props["InstanceNamePrefix"] == "keel-edge"
    assert props["SecretArn"] == {"Ref": only(edge, "AWS::SecretsManager::Secret")[0]}


def test_activation_provider_may_pass_only_the_instance_role_to_ssm(edge: Template) -> None:
    instance_role = role_id(edge, "ssm.amazonaws.com")
    edge.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Action": ["ssm:AddTagsToResource", "ssm:CreateActivation"], "Resource": "*",
                           "Condition": Match.object_like({"StringEquals": {
                               "aws:RequestTag/keel:activation": "keel-edge/Anywhere/Activation"}})}),
        Match.object_like({"Action": ["ssm:DeleteActivation", "ssm:DescribeActivations"], "Resource": "*"}),
        {"Action": "iam:PassRole", "Effect": "Allow", "Resource": {"Fn::GetAtt": [instance_role, "Arn"]},
         "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}}},
    ])}})


def test_activation_secret_is_encrypted_with_the_environment_key(edge: Template) -> None:
    key = only(edge, "AWS::KMS::Key")[0]
    edge.has_resource_properties("AWS::SecretsManager::Secret", {"KmsKeyId": {"Fn::GetAtt": [key, "Arn"]}})


def test_no_activation_code_anywhere_in_the_cloud_assembly(ecs: Synthesized) -> None:
    """The code exists only after deploy, in the secret: nothing in cdk.out may read the secret's value
    or the code attribute, and no output or parameter carries more than the secret's ARN."""
    texts = {p.name: p.read_text() for p in ecs.outdir.iterdir() if p.is_file()}
    for name, text in texts.items():
        assert "{{resolve:secretsmanager" not in text, name
        assert not re.search(r'"Fn::GetAtt":\s*\[\s*"\w+",\s*"ActivationCode"', text), name
    template = ecs.json("keel-edge")
    activation = next(k for k, v in template["Resources"].items() if v["Type"] == "Custom::KeelHybridActivation")
    attributes = set(re.findall(rf'"{activation}",\s*"(\w+)"', json.dumps(template)))
    assert attributes <= {"ActivationId"}
    secret = next(k for k, v in template["Resources"].items() if v["Type"] == "AWS::SecretsManager::Secret")
    secret_refs = re.findall(rf'\{{"(Ref|Fn::GetAtt)": "?\[?"?{secret}', json.dumps(template))
    assert set(secret_refs) <= {"Ref"}


def test_registration_command_output_reads_the_code_at_run_time(edge: Template) -> None:
    outputs = edge.find_outputs("*")
    [command] = [v for k, v in outputs.items() if k.startswith("AnywhereRegistrationCommand")]
    text = json.dumps(command["Value"])
    secret = only(edge, "AWS::SecretsManager::Secret")[0]
    assert "aws secretsmanager get-secret-value --region eu-west-1 --secret-id " in text
    assert {"Ref": secret} in command["Value"]["Fn::Join"][1]
    assert ("set -- --region eu-west-1 --cluster keel-edge --activation-id \\\"$KEEL_ACTIVATION_ID\\\" "
            "--activation-code \\\"$KEEL_ACTIVATION_CODE\\\" --docker-install-source distro --enable-gpu") in text


def test_registration_script_is_written_next_to_the_templates(ecs: Synthesized) -> None:
    script = ecs.outdir / "keel-edge.ecs-anywhere-register.sh"
    text = script.read_text()
    assert os.access(script, os.X_OK)
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert "--name /keel/edge/ecs/anywhere/activation-secret-arn" in text
    assert ('set -- --region eu-west-1 --cluster keel-edge --activation-id "$KEEL_ACTIVATION_ID" '
            '--activation-code "$KEEL_ACTIVATION_CODE" --docker-install-source distro --enable-gpu') in text
    assert 'source "$KEEL_WORK/ecs-anywhere-install.sh"' in text
    assert "${Token" not in text and "{{resolve" not in text


def test_registration_script_is_valid_bash(ecs: Synthesized) -> None:
    script = ecs.outdir / "keel-edge.ecs-anywhere-register.sh"
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_script_finds_the_secret_through_a_published_parameter(edge: Template) -> None:
    secret = only(edge, "AWS::SecretsManager::Secret")[0]
    edge.has_resource_properties("AWS::SSM::Parameter", {
        "Name": "/keel/edge/ecs/anywhere/activation-secret-arn", "Value": {"Ref": secret}})


def test_environment_without_anywhere_has_no_activation_or_script(ecs: Synthesized, plain: Template) -> None:
    plain.resource_count_is("Custom::KeelHybridActivation", 0)
    assert not (ecs.outdir / "keel-plain.ecs-anywhere-register.sh").exists()


def test_cloudwatch_agent_config_collects_cpu_memory_network(edge: Template) -> None:
    _, param = only(edge, "AWS::SSM::Parameter", {"Name": "/keel/edge/ecs/anywhere/cloudwatch-agent"})
    config = json.loads(param["Properties"]["Value"])
    assert {"cpu", "mem", "net"} <= set(config["metrics"]["metrics_collected"])
    assert config["metrics"]["metrics_collected"]["cpu"]["append_dimensions"] == {"ClusterName": "keel-edge"}


def test_instance_role_may_read_the_agent_config_and_put_only_its_metrics(edge: Template) -> None:
    instance_role = role_id(edge, "ssm.amazonaws.com")
    edge.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": instance_role}],
        "PolicyDocument": {"Statement": Match.array_with([
            Match.object_like({"Action": Match.array_with(["ssm:GetParameter"])}),
            Match.object_like({"Action": "cloudwatch:PutMetricData",
                               "Condition": {"StringEquals": {"cloudwatch:namespace": "Keel/ECSAnywhere"}}})])}})


def test_firelens_default_routes_to_the_external_task_log_group(edge: Template) -> None:
    _, param = only(edge, "AWS::SSM::Parameter", {"Name": "/keel/edge/ecs/anywhere/log-routing"})
    text = json.dumps(param["Properties"]["Value"])
    assert "aws-for-fluent-bit" in text and "awsfirelens" in text and "cloudwatch_logs" in text
    assert '{"Ref": "AnywhereTaskLogs' in text


# --- control-plane events ------------------------------------------------------------------------
def rules(template: Template) -> dict[str, Any]:
    return template.find_resources("AWS::Events::Rule")


def test_four_rules_on_the_default_bus(edge: Template) -> None:
    found = rules(edge)
    assert sorted(re.sub(r"[0-9A-F]{8}$", "", k).removeprefix("ControlPlaneEvents") for k in found) == [
        "AgentDisconnected", "DeploymentFailures", "ServiceFailures", "TaskFailures"]
    assert all("EventBusName" not in r["Properties"] for r in found.values())


def test_rules_filter_on_this_cluster_only(edge: Template) -> None:
    cluster = only(edge, "AWS::ECS::Cluster")[0]
    for logical, rule in rules(edge).items():
        pattern = rule["Properties"]["EventPattern"]
        if "DeploymentFailures" in logical:
            assert {"Ref": cluster} in pattern["resources"][0]["prefix"]["Fn::Join"][1]
        else:
            assert pattern["detail"]["clusterArn"] == [{"Fn::GetAtt": [cluster, "Arn"]}]


def test_every_target_has_a_dead_letter_queue_and_retries(edge: Template, plain: Template) -> None:
    for template in (edge, plain):
        [dlq] = [k for k in template.find_resources("AWS::SQS::Queue") if k.startswith("ControlPlaneEventsDeadLetters")]
        for rule in rules(template).values():
            targets = rule["Properties"]["Targets"]
            assert len(targets) == 2
            for target in targets:
                assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 21600}
                assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}


def test_edge_notifies_through_the_formatter_plain_straight_to_sns(edge: Template, plain: Template) -> None:
    topic_edge = only(edge, "AWS::SNS::Topic")[0]
    formatter = only(edge, "AWS::Lambda::Function", {"Environment": {"Variables": {
        "TOPIC_ARN": {"Ref": topic_edge}}}})[0]
    for rule in rules(edge).values():
        arns = [json.dumps(t["Arn"]) for t in rule["Properties"]["Targets"]]
        assert any(formatter in a for a in arns)
    topic_plain = only(plain, "AWS::SNS::Topic")[0]
    for rule in rules(plain).values():
        assert {"Ref": topic_plain} in [t["Arn"] for t in rule["Properties"]["Targets"]]


def test_topic_is_encrypted_and_mails_the_spec_addresses_with_a_dlq(edge: Template) -> None:
    key = only(edge, "AWS::KMS::Key")[0]
    edge.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key, "Arn"]}})
    subscriptions = resources(edge, "AWS::SNS::Subscription")
    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions.values()) == [
        "oncall@example.com", "platform@example.com"]
    assert all("RedrivePolicy" in s["Properties"] for s in subscriptions.values())


def test_events_log_group_lets_eventbridge_write_natively(edge: Template) -> None:
    edge.resource_count_is("AWS::Logs::ResourcePolicy", 1)
    edge.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": "/aws/events/keel/edge/ecs"})
    assert not edge.find_resources("Custom::CloudwatchLogResourcePolicy")


def test_key_lets_eventbridge_and_sns_of_this_account_use_it(edge: Template) -> None:
    edge.has_resource_properties("AWS::KMS::Key", {"KeyPolicy": {"Statement": Match.array_with([
        Match.object_like({"Sid": "AllowEventBridgeAndSnsOfThisAccount",
                           "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}})])}})


# --- what services get ---------------------------------------------------------------------------
def test_outputs_carry_the_ecs_objects(ecs: Synthesized) -> None:
    from keel.contract.outputs import EcsEnvOutputs

    edge_out = ecs.built.environments["edge"].outputs
    plain_out = ecs.built.environments["plain"].outputs
    assert isinstance(edge_out, EcsEnvOutputs) and isinstance(plain_out, EcsEnvOutputs)
    assert edge_out.load_balancer is not None and edge_out.anywhere is not None
    assert plain_out.load_balancer is None and plain_out.anywhere is None
    assert plain_out.cluster is not None and plain_out.notifications is not None


def test_the_shared_listener_says_whether_it_is_https(ecs: Synthesized) -> None:
    """Typed, so a service never guesses the scheme of its URL (it used to fall back to http)."""
    edge_lb = ecs.built.environments["edge"].outputs.load_balancer  # type: ignore[attr-defined]
    edge_inputs = ecs.model.environment("edge").inputs
    assert edge_lb.https is edge_inputs.load_balancer.https  # type: ignore[attr-defined]


def test_discovery_parameters_under_keel_environment(edge: Template) -> None:
    names = {p["Properties"]["Name"] for p in resources(edge, "AWS::SSM::Parameter").values()}
    assert {"/keel/edge/ecs/cluster-name", "/keel/edge/ecs/cluster-arn", "/keel/edge/ecs/namespace-name",
            "/keel/edge/ecs/listener-arn", "/keel/edge/ecs/load-balancer-security-group-id",
            "/keel/edge/ecs/anywhere/execution-role-arn", "/keel/edge/vpc/id"} <= names


# --- issue 13: the shared load balancer's safe defaults ---------------------------------------------
@pytest.fixture(scope="module")
def guarded(ecs: Synthesized) -> Template:
    return ecs.templates["keel-guarded"]


def test_production_web_acl_is_on_by_default_with_aws_managed_rule_groups(guarded: Template) -> None:
    _, acl = only(guarded, "AWS::WAFv2::WebACL")
    props = acl["Properties"]
    assert (props["Scope"], props["DefaultAction"]) == ("REGIONAL", {"Allow": {}})
    groups = [r["Statement"]["ManagedRuleGroupStatement"] for r in props["Rules"]]
    assert [g["Name"] for g in groups] == ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
                                           "AWSManagedRulesKnownBadInputsRuleSet"]
    assert {g["VendorName"] for g in groups} == {"AWS"}
    assert all(r["OverrideAction"] == {"None": {}} for r in props["Rules"])
    acl_id = next(iter(guarded.find_resources("AWS::WAFv2::WebACL")))
    lb_id = next(iter(guarded.find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer")))
    guarded.has_resource_properties("AWS::WAFv2::WebACLAssociation", {
        "ResourceArn": {"Ref": lb_id}, "WebACLArn": {"Fn::GetAtt": [acl_id, "Arn"]}})


def test_web_acl_logs_to_its_own_encrypted_log_group(guarded: Template) -> None:
    guarded.has_resource_properties("AWS::Logs::LogGroup", {
        "LogGroupName": "aws-waf-logs-keel-guarded-alb", "KmsKeyId": Match.any_value(), "RetentionInDays": 90})
    _, logging = only(guarded, "AWS::WAFv2::LoggingConfiguration")
    assert "log-group:aws-waf-logs-keel-guarded-alb" in json.dumps(logging["Properties"]["LogDestinationConfigs"])


def test_internet_facing_is_the_specs_choice(guarded: Template, edge: Template) -> None:
    assert only(guarded, "AWS::ElasticLoadBalancingV2::LoadBalancer")[1]["Properties"]["Scheme"] == "internal"
    assert only(edge, "AWS::ElasticLoadBalancingV2::LoadBalancer")[1]["Properties"]["Scheme"] == "internet-facing"


def test_versions_before_1_2_have_no_web_acl(edge: Template) -> None:
    edge.resource_count_is("AWS::WAFv2::WebACL", 0)


def test_production_listeners_are_https_or_redirects_to_it(edge: Template, guarded: Template) -> None:
    for template in (edge, guarded):
        for listener in resources(template, "AWS::ElasticLoadBalancingV2::Listener").values():
            props = listener["Properties"]
            assert props["Protocol"] == "HTTPS" or [a["Type"] for a in props["DefaultActions"]] == ["redirect"]


def test_access_log_bucket_is_versioned_and_old_versions_expire(edge: Template) -> None:
    edge.has_resource_properties("AWS::S3::Bucket", {
        "VersioningConfiguration": {"Status": "Enabled"},
        "LifecycleConfiguration": {"Rules": [Match.object_like({
            "ExpirationInDays": 90, "NoncurrentVersionExpiration": {"NoncurrentDays": 90}})]}})


@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_nist_findings_of_the_ecs_environments_are_all_fixed_or_acknowledged(ecs: Synthesized) -> None:
    assert report_findings(ecs.outdir) == []


@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_anywhere_with_a_literal_account_has_no_open_finding(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # the execution role's ECR statement names the account as the spec gives it, so its acknowledgement must too
    from tests.infra.conftest import synthesize

    platform = tmp_path / "platform.yaml"
    platform.write_text(json.dumps({"name": "keel-anywhere-account-test", "environments": [{
        "name": "site", "template": "ecs-env:1.2", "region": "eu-west-1", "account": "123456789012",
        "availability_zones": ["eu-west-1a", "eu-west-1b"],
        "spec": {"vpc_cidr": "10.42.0.0/16", "anywhere": {"enabled": True}}}]}))
    synthesized = synthesize(platform, tmp_path / "cdk.out", compliance=True)
    assert open_findings(synthesized.outdir) == []
