"""Components, overrides: a platform with every component kind on a Fargate and a Lambda service, and a
production environment (tests/infra/platforms/components/), synthesized once a session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk.assertions import Match

from keel.delivery.gate import STATEFUL_TYPES
from keel.report import overrides_by_stack, render_report, resource_paths
from keel.spec.components import KINDS
from tests.infra.conftest import ROOT, Synthesized, cfn_lint, open_findings, synthesize

PLATFORM = ROOT / "tests/infra/platforms/components/platform.yaml"
FARGATE, LAMBDA, PROD = "keel-orders-dev", "keel-orders-api-dev", "keel-reports-prod"
ENV = "keel-dev"  # shared data stores (issue 15): its components catalog, media, inbox, alerts


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(PLATFORM, tmp_path_factory.mktemp("components.out"))


def resources(lab: Synthesized, stack: str, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in lab.json(stack)["Resources"].items() if v["Type"] == kind}


def logical(lab: Synthesized, stack: str, kind: str, prefix: str) -> str:
    found = [k for k in resources(lab, stack, kind) if k.startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


def statements(lab: Synthesized, stack: str, policy_prefix: str) -> dict[str, dict[str, Any]]:
    policy = resources(lab, stack, "AWS::IAM::Policy")[logical(lab, stack, "AWS::IAM::Policy", policy_prefix)]
    return {s.get("Sid", ""): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def task_variables(lab: Synthesized) -> dict[str, Any]:
    (task,) = resources(lab, FARGATE, "AWS::ECS::TaskDefinition").values()
    return {e["Name"]: e["Value"] for e in task["Properties"]["ContainerDefinitions"][0]["Environment"]}


def function_variables(lab: Synthesized) -> dict[str, Any]:
    fn = resources(lab, LAMBDA, "AWS::Lambda::Function")[logical(lab, LAMBDA, "AWS::Lambda::Function", "Function")]
    return fn["Properties"]["Environment"]["Variables"]


@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_the_platform_is_nag_clean(lab: Synthesized) -> None:
    assert open_findings(lab.outdir) == []


@pytest.mark.heavy  # cfn-lint of a test platform: make conformance (the default platform's: make test)
def test_cfn_lint_finds_nothing(lab: Synthesized) -> None:
    result = cfn_lint(lab.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_table_grant_names_the_table_and_each_index_and_read_only_actions(lab: Synthesized) -> None:
    table = logical(lab, FARGATE, "AWS::DynamoDB::Table", "ComponentsItems")
    items = statements(lab, FARGATE, "TaskTaskRole")["ItemsItems"]
    arn = {"Fn::GetAtt": [table, "Arn"]}
    assert items["Resource"] == [arn, {"Fn::Join": ["", [arn, "/index/by-owner"]]}]
    assert "dynamodb:PutItem" not in items["Action"] and "dynamodb:Query" in items["Action"]
    stream = statements(lab, FARGATE, "TaskTaskRole")["ItemsStream"]
    assert stream["Resource"] == {"Fn::GetAtt": [table, "StreamArn"]}


def test_no_component_grant_uses_a_wildcard_beyond_s3_object_keys(lab: Synthesized) -> None:
    for stack, prefix in ((FARGATE, "TaskTaskRole"), (LAMBDA, "FunctionRole")):
        for sid, statement in statements(lab, stack, prefix).items():
            if not any(sid.startswith(c) for c in ("Items", "Uploads", "Exports", "Jobs", "OrderEvents",
                                                   "ApiEvents", "Db", "Shared", "Catalog", "Media", "Inbox",
                                                   "Alerts")):
                continue
            text = json.dumps(statement["Resource"])
            assert all(not a.endswith("*") for a in json.dumps(statement["Action"]).split('"') if ":" in a), sid
            if sid.endswith("Objects"):
                assert text.endswith('"/*"]]}'), (sid, text)  # bucket/key: the keys are the application's
            else:
                assert "*" not in text, (sid, text)


def test_bucket_grant_is_read_only_on_the_lambda_and_names_its_bucket(lab: Synthesized) -> None:
    bucket = logical(lab, LAMBDA, "AWS::S3::Bucket", "ComponentsExports2")
    found = statements(lab, LAMBDA, "FunctionRole")
    assert found["ExportsObjects"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert found["ExportsObjects"]["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]}
    assert found["ExportsList"]["Resource"] == {"Fn::GetAtt": [bucket, "Arn"]}


def test_queue_topic_and_database_grants_name_their_arns(lab: Synthesized) -> None:
    found = statements(lab, LAMBDA, "FunctionRole")
    queue = logical(lab, LAMBDA, "AWS::SQS::Queue", "ComponentsJobsB")
    topic = logical(lab, LAMBDA, "AWS::SNS::Topic", "ComponentsApiEvents")
    secret = logical(lab, LAMBDA, "AWS::SecretsManager::Secret", "ComponentsDbCredentials")
    assert found["JobsMessages"]["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert "sqs:SendMessage" in found["JobsMessages"]["Action"]
    assert found["ApiEventsTopic"]["Resource"] == {"Ref": topic}
    assert "sns:Publish" not in found["ApiEventsTopic"]["Action"]  # access: read
    assert found["DbCredentials"]["Resource"] == {"Ref": secret}


def test_key_use_is_only_through_the_owning_service(lab: Synthesized) -> None:
    key = statements(lab, FARGATE, "TaskTaskRole")["JobsKey"]
    assert key["Condition"]["StringEquals"]["kms:ViaService"] == "sqs.eu-west-1.amazonaws.com"


def test_efs_mount_is_read_only_through_its_access_point(lab: Synthesized) -> None:
    access_point = logical(lab, FARGATE, "AWS::EFS::AccessPoint", "ComponentsSharedAccessPoint")
    mount = statements(lab, FARGATE, "TaskTaskRole")["SharedMount"]
    assert mount["Action"] == "elasticfilesystem:ClientMount"
    (task,) = resources(lab, FARGATE, "AWS::ECS::TaskDefinition").values()
    (volume,) = task["Properties"]["Volumes"]
    assert volume["EFSVolumeConfiguration"]["AuthorizationConfig"] == {"AccessPointId": {"Ref": access_point},
                                                                        "IAM": "ENABLED"}
    assert volume["EFSVolumeConfiguration"]["TransitEncryption"] == "ENABLED"
    assert task["Properties"]["ContainerDefinitions"][0]["MountPoints"] == [
        {"ContainerPath": "/mnt/shared", "ReadOnly": True, "SourceVolume": "component-shared"}]


def test_database_admits_only_the_service_and_its_rotation(lab: Synthesized) -> None:
    group = logical(lab, FARGATE, "AWS::EC2::SecurityGroup", "ComponentsDbSecurityGroup")
    sources = [r["Properties"]["SourceSecurityGroupId"] for r in resources(
        lab, FARGATE, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}]
    assert sorted(json.dumps(s) for s in sources) == sorted(json.dumps({"Fn::GetAtt": [g, "GroupId"]}) for g in (
        logical(lab, FARGATE, "AWS::EC2::SecurityGroup", "SecurityGroup"),
        logical(lab, FARGATE, "AWS::EC2::SecurityGroup", "ComponentsDbRotationSecurityGroup")))
    lab.templates[FARGATE].has_resource_properties("AWS::RDS::DBCluster", {
        "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 2},
        "StorageEncrypted": True, "EnableIAMDatabaseAuthentication": True,
        "DBClusterIdentifier": "keel-dev-orders-db"})
    lab.templates[FARGATE].has_resource_properties("AWS::SecretsManager::Secret",
                                                   {"Name": "keel/dev/orders/components/db"})
    lab.templates[FARGATE].has_resource_properties("AWS::SecretsManager::RotationSchedule", {
        "HostedRotationLambda": Match.object_like({"RotationType": "PostgreSQLSingleUser"})})


def test_container_gets_names_urls_and_arns_as_variables(lab: Synthesized) -> None:
    variables = task_variables(lab)
    assert variables["ITEMS_TABLE_NAME"] == "keel-dev-orders-items"
    assert variables["UPLOADS_BUCKET_NAME"] == {"Ref": logical(lab, FARGATE, "AWS::S3::Bucket", "ComponentsUploads6")}
    assert variables["JOBS_QUEUE_URL"] == {"Ref": logical(lab, FARGATE, "AWS::SQS::Queue", "ComponentsJobsB")}
    assert variables["ORDER_EVENTS_TOPIC_ARN"] == {"Ref": logical(lab, FARGATE, "AWS::SNS::Topic", "Components")}
    assert variables["DB_DB_SECRET_ARN"] == {"Ref": logical(lab, FARGATE, "AWS::SecretsManager::Secret",
                                                            "ComponentsDbCredentials")}
    assert variables["SHARED_MOUNT_PATH"] == "/mnt/shared"
    assert variables["RETENTION_PARAMETER_NAME"] == {"Ref": "AddonSetting"}  # an add-on output


def test_function_gets_the_same_variables(lab: Synthesized) -> None:
    variables = function_variables(lab)
    assert variables["ITEMS_TABLE_NAME"] == "keel-dev-orders-api-items"
    assert {"EXPORTS_BUCKET_NAME", "JOBS_QUEUE_URL", "API_EVENTS_TOPIC_ARN", "DB_DB_HOST", "DB_DB_SECRET_ARN",
            "RETENTION_PARAMETER_NAME"} <= set(variables)


def test_add_on_policy_output_is_attached_to_the_role(lab: Synthesized) -> None:
    role = resources(lab, LAMBDA, "AWS::IAM::Role")[logical(lab, LAMBDA, "AWS::IAM::Role", "FunctionRole")]
    assert {"Ref": "AddonReadPolicy"} in role["Properties"]["ManagedPolicyArns"]
    setting = resources(lab, LAMBDA, "AWS::SSM::Parameter")["AddonSetting"]["Properties"]
    # The spec passed no Retention: it stays a stack parameter with the template's default.
    assert setting["Value"] == {"Ref": "Retention"}
    assert lab.json(LAMBDA)["Parameters"]["Retention"]["Default"] == "30"
    assert resources(lab, FARGATE, "AWS::SSM::Parameter")["AddonSetting"]["Properties"]["Value"] == "7"


def test_discovery_parameters_sit_under_the_component_path(lab: Synthesized) -> None:
    names = {json.dumps(p["Properties"]["Name"]).strip('"')
             for p in resources(lab, FARGATE, "AWS::SSM::Parameter").values()}
    assert {"/keel/dev/orders/components/items/table-name", "/keel/dev/orders/components/jobs/queue-url",
            "/keel/dev/orders/components/db/secret-arn", "/keel/dev/orders/components/order-events/topic-arn",
            "/keel/dev/orders/components/shared/file-system-id"} <= names


def test_production_retains_and_protects_stateful_components(lab: Synthesized) -> None:
    (table,) = resources(lab, PROD, "AWS::DynamoDB::Table").values()
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert {b["DeletionPolicy"] for b in resources(lab, PROD, "AWS::S3::Bucket").values()} == {"Retain"}


def test_elsewhere_stateful_components_are_destroyed(lab: Synthesized) -> None:
    for kind in ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::SNS::Topic",
                 "AWS::RDS::DBCluster", "AWS::EFS::FileSystem"):
        assert {r.get("DeletionPolicy") for r in resources(lab, FARGATE, kind).values()} == {"Delete"}, kind


def test_the_gate_knows_every_stateful_type_components_create(lab: Synthesized) -> None:
    created = {r["Type"] for r in lab.json(FARGATE)["Resources"].values()} | \
        {r["Type"] for r in lab.json(LAMBDA)["Resources"].values()}
    assert {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::SNS::Topic",
            "AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::EFS::FileSystem",
            "AWS::SecretsManager::Secret"} <= created & STATEFUL_TYPES
    assert {k for k, v in KINDS.items() if v.stateful} == set(KINDS) - {"cloudformation"}


def test_overrides_set_the_property_and_are_recorded(lab: Synthesized) -> None:
    lab.templates[FARGATE].has_resource_properties("AWS::ECS::Service", {
        "DeploymentConfiguration": Match.object_like({"MaximumPercent": 150})})
    lab.templates[LAMBDA].has_resource_properties("AWS::Lambda::Function", {"MemorySize": 1024})
    lab.templates["keel-dev"].has_resource_properties("AWS::ECS::Cluster", {
        "ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}]})
    recorded = overrides_by_stack(lab.outdir)
    assert recorded[FARGATE] == [{"resource": "Default/Service/Service",
                                  "path": "DeploymentConfiguration.MaximumPercent",
                                  "logical_id": "ServiceD69D759B", "type": "AWS::ECS::Service"}]
    assert "Overrides: keel-dev 1, keel-orders-api-dev 1, keel-orders-dev 1" in render_report(lab.outdir)[0]


def test_report_lists_the_paths_an_override_may_name(lab: Synthesized) -> None:
    paths = dict(resource_paths(lab.outdir, LAMBDA) or [])
    assert paths["Function/Resource"] == "AWS::Lambda::Function"
    assert paths["Components/Items"] == "AWS::DynamoDB::Table"
    assert resource_paths(lab.outdir, "keel-nope") is None


# shared data stores (issue 15) -------------------------------------------------------------------------------
def read_parameter(lab: Synthesized, stack: str, name: str) -> dict[str, str]:
    """`{"Ref": P}` of the service stack's SSM parameter `name` (the environment publishes it)."""
    (found,) = [k for k, v in lab.json(stack)["Parameters"].items() if v.get("Default") == name]
    return {"Ref": found}


def test_environment_components_are_the_environments_encrypted_with_its_key(lab: Synthesized) -> None:
    key = {"Fn::GetAtt": [logical(lab, ENV, "AWS::KMS::Key", "Key"), "Arn"]}
    (table,) = resources(lab, ENV, "AWS::DynamoDB::Table").values()
    assert table["Properties"]["TableName"] == "keel-dev-shared-catalog"
    assert table["Properties"]["SSESpecification"]["KMSMasterKeyId"] == key
    assert table["DeletionPolicy"] == "Delete"  # dev: not production
    queue = resources(lab, ENV, "AWS::SQS::Queue")[logical(lab, ENV, "AWS::SQS::Queue", "ComponentsInboxC")]
    assert (queue["Properties"]["QueueName"], queue["Properties"]["KmsMasterKeyId"]) == ("keel-dev-shared-inbox", key)
    (topic,) = [t for t in resources(lab, ENV, "AWS::SNS::Topic").values()
                if t["Properties"].get("TopicName") == "keel-dev-shared-alerts"]
    assert topic["Properties"]["KmsMasterKeyId"] == key
    bucket = resources(lab, ENV, "AWS::S3::Bucket")[logical(lab, ENV, "AWS::S3::Bucket", "ComponentsMedia5")]
    assert bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == key


def test_environment_components_publish_under_the_shared_path(lab: Synthesized) -> None:
    names = {p["Properties"]["Name"] for p in resources(lab, ENV, "AWS::SSM::Parameter").values()}
    assert {f"/keel/dev/shared/components/{k}" for k in (
        "catalog/table-name", "catalog/table-arn", "catalog/stream-arn", "media/bucket-name", "media/bucket-arn",
        "inbox/queue-url", "inbox/queue-arn", "alerts/topic-arn")} <= names


def test_a_read_use_of_a_shared_table_grants_reads_on_the_table_and_its_named_index(lab: Synthesized) -> None:
    arn = read_parameter(lab, LAMBDA, "/keel/dev/shared/components/catalog/table-arn")
    found = statements(lab, LAMBDA, "FunctionRole")
    assert sorted(found["CatalogItems"]["Action"]) == ["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem",
                                                       "dynamodb:DescribeTable", "dynamodb:GetItem",
                                                       "dynamodb:Query", "dynamodb:Scan"]
    assert found["CatalogItems"]["Resource"] == [{"Fn::Join": ["", [arn, "/index/by-brand"]]}, arn]
    assert found["CatalogStream"]["Resource"] == read_parameter(
        lab, LAMBDA, "/keel/dev/shared/components/catalog/stream-arn")
    assert found["CatalogKey"] == {
        "Sid": "CatalogKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": read_parameter(lab, LAMBDA, "/keel/dev/kms/key-arn"),
        "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}}}


def test_a_readwrite_use_of_a_shared_bucket_grants_its_objects_and_listing_only(lab: Synthesized) -> None:
    arn = read_parameter(lab, LAMBDA, "/keel/dev/shared/components/media/bucket-arn")
    found = statements(lab, LAMBDA, "FunctionRole")
    assert sorted(found["MediaObjects"]["Action"]) == ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject",
                                                       "s3:GetObjectVersion", "s3:PutObject"]
    assert found["MediaObjects"]["Resource"] == {"Fn::Join": ["", [arn, "/*"]]}
    assert found["MediaList"] == {"Sid": "MediaList", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn}


def test_shared_queue_and_topic_grants_follow_each_uses_access(lab: Synthesized) -> None:
    found = statements(lab, FARGATE, "TaskTaskRole")
    assert found["InboxMessages"]["Resource"] == read_parameter(lab, FARGATE, "/keel/dev/shared/components/inbox/"
                                                                "queue-arn")
    assert "sqs:SendMessage" in found["InboxMessages"]["Action"]  # readwrite
    assert found["AlertsTopic"] == {"Sid": "AlertsTopic", "Effect": "Allow",
                                    "Action": ["sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"],
                                    "Resource": read_parameter(lab, FARGATE,
                                                               "/keel/dev/shared/components/alerts/topic-arn")}


def test_users_get_the_variables_an_owned_component_of_the_kind_gives(lab: Synthesized) -> None:
    variables = function_variables(lab)
    assert variables["CATALOG_TABLE_NAME"] == "keel-dev-shared-catalog"
    assert variables["CATALOG_TABLE_STREAM_ARN"] == read_parameter(
        lab, LAMBDA, "/keel/dev/shared/components/catalog/stream-arn")
    assert variables["MEDIA_BUCKET_NAME"] == read_parameter(lab, LAMBDA, "/keel/dev/shared/components/media/"
                                                            "bucket-name")
    assert task_variables(lab)["INBOX_QUEUE_URL"] == read_parameter(lab, FARGATE, "/keel/dev/shared/components/"
                                                                     "inbox/queue-url")


def test_a_user_creates_nothing_of_the_shared_component(lab: Synthesized) -> None:
    assert not [k for k in lab.json(LAMBDA)["Resources"] if k.startswith(("ComponentsCatalog", "ComponentsMedia"))]
    assert not [k for k in lab.json(FARGATE)["Resources"] if k.startswith(("ComponentsInbox", "ComponentsAlerts"))]
