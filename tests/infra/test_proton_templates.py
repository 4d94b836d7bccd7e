"""Our own Proton-format templates (tests/fixtures/proton) included as they are: synthesized once per session."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from keel.report import read_findings
from tests.infra.conftest import Synthesized, synthesize
from tests.proton_adoption import adoption_differences

PLATFORM = Path(__file__).resolve().parents[1] / "fixtures" / "proton" / "platform.yaml"


@pytest.fixture(scope="session")
def proton_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(PLATFORM, tmp_path_factory.mktemp("proton.out"), compliance=True)  # acknowledgements


def test_stack_name_pins_the_stacks_to_adopt(proton_app: Synthesized) -> None:
    assert {s.stack_name for s in proton_app.built.stacks} == {"ShopDevEnvironment", "ShopOrdersMain"}


def test_every_resource_keeps_its_logical_id_type_and_properties(proton_app: Synthesized) -> None:
    env, instance = proton_app.model.environments[0], proton_app.model.instances[0]
    assert env.rendered is not None and instance.rendered is not None
    assert adoption_differences(env.rendered.linked()[0], proton_app.json(env.stack_name)) == []
    assert adoption_differences(instance.rendered.linked()[0], proton_app.json(instance.stack_name),
                                env.rendered.template) == []


def _env_output_reference(proton_app: Synthesized, value: object) -> str:
    """The environment output a synthesized value reads: a dynamic reference to the SSM parameter the
    environment stack publishes for that output (issue 20: no cross-stack reference; not a parameter of the
    service stack, whose default CloudFormation validation would check against the property's pattern)."""
    assert isinstance(value, str), value
    match = re.fullmatch(r"\{\{resolve:ssm:(/keel/[^}]+)\}\}", value)
    assert match, value
    published = {r["Properties"]["Name"]: r["Properties"]["Value"]
                 for r in proton_app.json("ShopDevEnvironment")["Resources"].values()
                 if r["Type"] == "AWS::SSM::Parameter"}
    return json.dumps(published[match[1]])


def test_a_service_reads_no_environment_output_through_a_parameter(proton_app: Synthesized) -> None:
    assert set(proton_app.json("ShopOrdersMain").get("Parameters") or {}) <= {"BootstrapVersion"}


def test_an_environment_output_is_read_from_the_parameter_the_environment_publishes(
        proton_app: Synthesized) -> None:
    subscription = proton_app.json("ShopOrdersMain")["Resources"]["Subscription"]["Properties"]
    assert _env_output_reference(proton_app, subscription["TopicArn"]) == json.dumps({"Ref": "EventsTopic"})


def test_an_environment_output_spliced_in_a_string_is_joined_by_reference(proton_app: Synthesized) -> None:
    value = proton_app.json("ShopOrdersMain")["Resources"]["Settings"]["Properties"]["Value"]
    parts = value["Fn::Join"][1]
    assert parts[0] == "topic=" and parts[2] == ";config="
    assert _env_output_reference(proton_app, parts[1]) == json.dumps({"Fn::GetAtt": ["EventsTopic", "TopicName"]})
    assert _env_output_reference(proton_app, parts[3]) == json.dumps({"Ref": "ConfigParameter"})


def test_the_environment_publishes_every_output_and_says_so(proton_app: Synthesized) -> None:
    env = proton_app.model.environments[0]
    assert env.rendered is not None
    names = {r["Properties"]["Name"] for r in proton_app.json("ShopDevEnvironment")["Resources"].values()
             if r["Type"] == "AWS::SSM::Parameter" and str(r["Properties"]["Name"]).startswith("/keel/")}
    expected = [f"/keel/{env.name}/outputs/{o}" for o in sorted(env.rendered.outputs)]
    assert sorted(names) == expected
    record = json.loads((proton_app.outdir / "ShopDevEnvironment.proton-adoption.json").read_text())
    assert record["parameters_added"] == expected


def test_keel_adds_only_its_tags_and_lists_them(proton_app: Synthesized) -> None:
    queue = proton_app.json("ShopOrdersMain")["Resources"]["Queue"]["Properties"]
    assert {t["Key"] for t in queue["Tags"]} == {"keel:environment", "keel:service", "keel:template"}
    record = json.loads((proton_app.outdir / "ShopOrdersMain.proton-adoption.json").read_text())
    assert record["tagged_resources"] == ["Queue", "Settings"]
    assert record["tags_added"] == ["keel:environment", "keel:service", "keel:template"]


def test_the_folder_acknowledgements_carry_their_reasons(proton_app: Synthesized) -> None:
    found = read_findings(proton_app.outdir)
    assert found.messages == [] and found.open_.get("ShopOrdersMain", 0) == 0
    assert found.acked["ShopOrdersMain"] == 3
    metadata = json.loads((proton_app.outdir / "ShopOrdersMain.metadata.json").read_text())
    reasons = [entry["data"] for entries in metadata.values() for entry in entries
               if entry.get("type") == "aws:cdk:acknowledged-rules"]
    assert any("AwsSolutions::AwsSolutions-SQS3" in r and "order store" in r["AwsSolutions::AwsSolutions-SQS3"]
               for r in reasons)


def test_pipeline_templates_are_not_run(proton_app: Synthesized) -> None:
    resources = proton_app.json("ShopOrdersMain")["Resources"]
    assert not any(lid.startswith("Marker") for lid in resources)


def test_outputs_in_user_data_or_init_metadata_are_read_through_parameters_not_dynamic_references() -> None:
    """CloudFormation resolves no dynamic reference in UserData or AWS::CloudFormation::Init."""
    from keel.templates.proton import parameter_reads

    linked = {"Resources": {
        "Host": {"Type": "AWS::EC2::Instance",
                 "Metadata": {"AWS::CloudFormation::Init": {"config": {"files": {"/etc/x": {
                     "content": {"Fn::Sub": "cluster=${KeelEnvOutputClusterName}"}}}}}},
                 "Properties": {"UserData": {"Fn::Base64": {"Fn::Join": ["", ["bus=", {"Ref": "KeelEnvOutputBus"}]]}},
                                "SubnetId": {"Ref": "KeelEnvOutputSubnet"}}}}}
    assert parameter_reads(linked, ("Bus", "ClusterName", "Subnet")) == {"Bus", "ClusterName"}


def test_beyond_sixty_dynamic_references_the_most_read_outputs_become_parameters() -> None:
    from keel.templates.proton import DYNAMIC_REFERENCES_MAX, parameter_reads

    resources = {f"Topic{n}": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "KeelEnvOutputA"}}}
                 for n in range(50)}
    resources |= {f"Queue{n}": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "KeelEnvOutputB"}}}
                  for n in range(20)}
    assert DYNAMIC_REFERENCES_MAX == 60
    assert parameter_reads({"Resources": resources}, ("A", "B")) == {"A"}  # 70 reads: A's 50 go, B's 20 stay
    assert parameter_reads({"Resources": dict(list(resources.items())[:60])}, ("A", "B")) == set()
