"""vpc-env 1.0 as synthesized for the default platform's dev (2 AZs) and prod (3 AZs, isolated tier)."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match

from tests.infra.conftest import Synthesized


def resources(platform: Synthesized, stack: str, type_: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return platform.templates[stack].find_resources(type_)


def test_vpc_uses_the_spec_cidr(platform: Synthesized) -> None:
    platform.templates["keel-dev"].has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.20.0.0/16"})
    platform.templates["keel-prod"].has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.30.0.0/16"})


def test_subnets_follow_the_validated_plan_in_the_spec_azs(platform: Synthesized) -> None:
    env = platform.model.environment("prod")
    plan = env.inputs.subnet_plan(env.az_count)
    subnets = resources(platform, "keel-prod", "AWS::EC2::Subnet").values()
    got = sorted((s["Properties"]["CidrBlock"], s["Properties"]["AvailabilityZone"]) for s in subnets)
    want = sorted((cidr, env.availability_zones[i % 3])
                  for tier in (plan.public, plan.private, plan.isolated) for i, cidr in enumerate(tier))
    assert got == want and len(got) == 9


def test_isolated_subnets_have_no_route_to_the_internet(platform: Synthesized) -> None:
    tpl = platform.json("keel-prod")
    isolated_tables = {lid for lid, r in tpl["Resources"].items()
                       if r["Type"] == "AWS::EC2::RouteTable" and "Isolated" in lid}
    assert len(isolated_tables) == 3
    for r in tpl["Resources"].values():
        if r["Type"] == "AWS::EC2::Route":
            assert r["Properties"]["RouteTableId"]["Ref"] not in isolated_tables


def test_nat_gateway_count_comes_from_the_spec(platform: Synthesized) -> None:
    platform.templates["keel-dev"].resource_count_is("AWS::EC2::NatGateway", 1)
    platform.templates["keel-prod"].resource_count_is("AWS::EC2::NatGateway", 3)


def test_flow_logs_go_to_an_encrypted_log_group_with_retention(platform: Synthesized) -> None:
    tpl = platform.templates["keel-dev"]
    tpl.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL", "ResourceType": "VPC",
                                                      "LogDestinationType": "cloud-watch-logs"})
    tpl.has_resource_properties("AWS::Logs::LogGroup", {
        "RetentionInDays": 30, "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]}})
    platform.templates["keel-prod"].has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})


def test_interface_endpoints_are_the_selected_ones_with_private_dns(platform: Synthesized) -> None:
    def services(stack: str) -> set[str]:
        eps = resources(platform, stack, "AWS::EC2::VPCEndpoint").values()
        out = set()
        for ep in eps:
            if ep["Properties"].get("VpcEndpointType") == "Interface":
                assert ep["Properties"]["PrivateDnsEnabled"] is True
                out.add(str(ep["Properties"]["ServiceName"]).removeprefix("com.amazonaws.eu-west-1."))
        return out

    assert services("keel-dev") == {"ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "sts"}
    assert len(services("keel-prod")) == 9


def test_gateway_endpoints_for_s3_and_dynamodb(platform: Synthesized) -> None:
    eps = [e for e in resources(platform, "keel-dev", "AWS::EC2::VPCEndpoint").values()
           if e["Properties"].get("VpcEndpointType", "Gateway") == "Gateway"]
    assert len(eps) == 2


def test_endpoint_security_group_allows_only_https_from_the_vpc(platform: Synthesized) -> None:
    tpl = platform.templates["keel-dev"]
    tpl.has_resource_properties("AWS::EC2::SecurityGroup", {
        "GroupDescription": "Interface endpoints: HTTPS from inside the VPC",
        "SecurityGroupIngress": [{"CidrIp": "10.20.0.0/16", "FromPort": 443, "ToPort": 443, "IpProtocol": "tcp",
                                  "Description": "HTTPS from the VPC to AWS APIs"}],
        "SecurityGroupEgress": [Match.object_like({"CidrIp": "255.255.255.255/32"})],
    })


def test_default_security_group_is_restricted(platform: Synthesized) -> None:
    platform.templates["keel-dev"].resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_environment_key_rotates_and_lets_only_this_accounts_logs_use_it(platform: Synthesized) -> None:
    platform.templates["keel-dev"].has_resource_properties("AWS::KMS::Key", {
        "EnableKeyRotation": True,
        "KeyPolicy": {"Statement": Match.array_with([Match.object_like({
            "Sid": "AllowCloudWatchLogsOfThisAccount",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": Match.any_value()}}})])}})
    platform.templates["keel-dev"].has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/keel/dev"})


def test_production_keeps_stateful_resources(platform: Synthesized) -> None:
    for stack, policy in (("keel-prod", "Retain"), ("keel-dev", "Delete")):
        for type_ in ("AWS::KMS::Key", "AWS::Logs::LogGroup"):
            for lid, r in resources(platform, stack, type_).items():
                assert r["DeletionPolicy"] == policy, (stack, lid)
                assert r["UpdateReplacePolicy"] == policy, (stack, lid)


def test_production_stack_has_termination_protection(platform: Synthesized) -> None:
    manifest = json.loads((platform.outdir / "manifest.json").read_text())
    assert manifest["artifacts"]["keel-prod"]["properties"]["terminationProtection"] is True
    assert manifest["artifacts"]["keel-dev"]["properties"]["terminationProtection"] is False


def test_outputs_are_published_for_discovery(platform: Synthesized) -> None:
    params = resources(platform, "keel-dev", "AWS::SSM::Parameter").values()
    names = {p["Properties"]["Name"] for p in params}
    assert {"/keel/dev/vpc/id", "/keel/dev/vpc/cidr", "/keel/dev/vpc/private-subnet-ids",
            "/keel/dev/vpc/public-subnet-ids", "/keel/dev/kms/key-arn"} <= names
    prod = {p["Properties"]["Name"] for p in resources(platform, "keel-prod", "AWS::SSM::Parameter").values()}
    assert "/keel/prod/vpc/isolated-subnet-ids" in prod
