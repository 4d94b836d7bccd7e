"""AWS's Proton `ecs-ec2-env` sample against ecs-env 1.3: its spec validates unchanged, its inputs keep
Proton's names and types, and the EC2 capacity they describe is what Keel builds (one provider, `ec2`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from keel.contract.registry import TemplateRef
from keel.contract.schema import resolve
from keel.spec import load_platform
from keel.spec.registry import default_registry
from keel.templates.ecs_env.inputs import EcsEnvInputsV13

SAMPLE = Path("environment-templates") / "ecs-ec2-env"
EC2_INPUTS = ("subnet_type", "DesiredCapacity", "MaxSize", "ECSAMI", "InstanceType")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_ecs_ec2_env_spec_validates_unchanged_on_ecs_env_1_3(proton_samples: Path, tmp_path: Path) -> None:
    sample = proton_samples / SAMPLE / "spec" / "spec.yaml"
    spec = yaml.safe_load(sample.read_text())["spec"]
    shutil.copy(sample, tmp_path / "proton-spec.yaml")  # a copy at run time, in tmp, never committed
    (tmp_path / "platform.yaml").write_text("""
environments:
  - name: ec2
    template: ecs-env:1.3
    region: eu-west-1
    availability_zones: [eu-west-1a, eu-west-1b]
    spec_file: proton-spec.yaml
""")
    inputs = load_platform(tmp_path / "platform.yaml").environments[0].inputs
    assert isinstance(inputs, EcsEnvInputsV13)
    (provider,) = inputs.capacity_providers()
    assert provider.name == "ec2"
    assert provider.instance_types == (spec["InstanceType"],)
    assert provider.ami_parameter == spec["ECSAMI"] and provider.image == "ssm-parameter"
    assert (provider.desired_capacity, provider.max_capacity) == (spec["DesiredCapacity"], spec["MaxSize"])
    assert provider.subnet_type == spec["subnet_type"]
    assert inputs.subnet_plan(2).public[0] == spec["public_subnet_one_cidr"]


def test_ecs_ec2_env_inputs_keep_their_proton_names_and_types(proton_samples: Path) -> None:
    proton = yaml.safe_load((proton_samples / SAMPLE / "v1" / "schema" / "schema.yaml").read_text())
    theirs = proton["schema"]["types"][proton["schema"]["environment_input_type"]]["properties"]
    schema = default_registry().resolve(TemplateRef.parse("ecs-env:1.3")).schemas["environment"]
    ours = schema.properties()
    for name in EC2_INPUTS:
        mine = resolve(ours[name], schema.json_schema)
        assert mine["type"] == theirs[name]["type"], name
        assert mine.get("enum", theirs[name].get("enum")) == theirs[name].get("enum"), name
    assert set(theirs) <= set(ours), sorted(set(theirs) - set(ours))
