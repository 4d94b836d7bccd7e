"""Proton-format template folders in a platform's `template_dirs` (issue 15, part 1), in the spec layer:
found, prefixed, validated by their own schema, rendered with Proton's namespaces, refused with located errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from keel.cli import main
from keel.spec import SpecError, load_platform
from keel.spec.proton import placeholders_in

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "proton"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of our own fixture as its own project (no .git: the platform's folder is the project root)."""
    shutil.copytree(FIXTURE, tmp_path / "p")
    monkeypatch.chdir(tmp_path / "p")
    return tmp_path / "p"


def _problems(platform: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_platform(platform)
    return [p.render() for p in info.value.problems]


def test_proton_layout_folders_become_templates_with_versions_from_their_v_folders(project: Path) -> None:
    model = load_platform(project / "platform.yaml")
    (env,) = model.environments
    assert env.template.label == "shop-env@1.0" and env.template.proton is not None
    (instance,) = model.instances
    assert instance.template.label == "shop-svc@1.0"
    assert instance.template.compatible_environments == (("shop-env", 1),)
    assert model.service("orders").pipeline.values == {"service_dir": "orders"}


def test_inputs_get_their_schema_defaults_and_render_into_the_template(project: Path) -> None:
    env = load_platform(project / "platform.yaml").environments[0]
    assert env.inputs.values == {"retention_days": 7, "audit_log": True}
    assert env.rendered is not None
    resources = env.rendered.template["Resources"]
    assert resources["AuditLog"]["Properties"]["RetentionInDays"] == 7
    assert resources["EventsTopic"]["Properties"]["TopicName"] == "dev-events"


def test_environment_outputs_render_as_references_also_inside_strings_and_sub(project: Path) -> None:
    instance = load_platform(project / "platform.yaml").instances[0]
    assert instance.rendered is not None
    linked, used = instance.rendered.linked()
    settings = linked["Resources"]["Settings"]["Properties"]
    assert settings["Value"] == {"Fn::Join": ["", ["topic=", {"Ref": "KeelEnvOutputTopicName"}, ";config=",
                                                   {"Ref": "KeelEnvOutputParameterName"}]]}
    assert settings["Description"] == {
        "Fn::Sub": "Settings of orders in ${AWS::Region}, reading ${KeelEnvOutputParameterName}"}
    assert linked["Resources"]["Subscription"]["Properties"]["TopicArn"] == {"Ref": "KeelEnvOutputTopicArn"}
    assert used == ("ParameterName", "TopicArn", "TopicName")
    assert set(placeholders_in(instance.rendered.template)) == set(used)


def test_a_prefix_goes_before_template_names_and_compatible_environments(project: Path) -> None:
    text = (project / "platform.yaml").read_text()
    text = text.replace("  - templates\n", "  - {path: templates, prefix: acme-}\n")
    text = text.replace("shop-env:1", "acme-shop-env:1").replace("shop-svc:1", "acme-shop-svc:1")
    (project / "platform.yaml").write_text(text)
    model = load_platform(project / "platform.yaml")
    assert model.instances[0].template.compatible_environments == (("acme-shop-env", 1),)


def test_a_name_that_collides_with_a_built_in_names_both_places(project: Path) -> None:
    shutil.copytree(project / "templates" / "shop-env", project / "templates" / "vpc-env")
    (line,) = [p for p in _problems(project / "platform.yaml") if "collides" in p]
    assert line.startswith("templates/vpc-env:") and "the built-in template vpc-env (" in line
    assert "keel/templates/vpc_env" in line


def test_a_name_two_folders_define_names_both_folders(project: Path) -> None:
    shutil.copytree(project / "templates", project / "more")
    text = (project / "platform.yaml").read_text().replace("  - templates\n", "  - templates\n  - more\n")
    (project / "platform.yaml").write_text(text)
    lines = [p for p in _problems(project / "platform.yaml") if "collides" in p]
    assert len(lines) == 2 and all("template_dirs[0]" in line and line.startswith("more/") for line in lines)


def test_a_template_folder_outside_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    text = (project / "platform.yaml").read_text().replace("  - templates\n", "  - ../elsewhere\n")
    (project / "platform.yaml").write_text(text)
    (tmp_path / "elsewhere").mkdir()
    (line, *_) = _problems(project / "platform.yaml")
    assert line.startswith("platform.yaml:template_dirs[0]: cannot use template folder: it leads outside the project")


def test_an_input_the_schema_refuses_is_located_in_the_spec(project: Path) -> None:
    text = (project / "platform.yaml").read_text().replace("visibility_timeout: 60", "visibility_timeout: 99999")
    (project / "platform.yaml").write_text(text)
    (line,) = _problems(project / "platform.yaml")
    assert line.startswith("platform.yaml:services[orders].instances[0].spec.visibility_timeout:")
    assert "99999" in line and "43200" in line


def test_pipeline_inputs_are_validated_against_the_pipeline_input_type(project: Path) -> None:
    text = (project / "platform.yaml").read_text().replace("service_dir: orders", "service_dir: ''")
    (project / "platform.yaml").write_text(text)
    (line,) = _problems(project / "platform.yaml")
    assert line.startswith("platform.yaml:services[orders].pipeline.service_dir:")


def test_an_input_the_schema_does_not_name_is_passed_on_as_proton_did_and_noted(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """OpenAPI objects take keys they do not name; Proton accepted such specs, so Keel runs them and says so."""
    text = (project / "platform.yaml").read_text()
    text = text.replace("visibility_timeout: 60", "visibility_timeout: 60\n          retry_budget: 3")
    text = text.replace("service_dir: orders", "service_dir: orders\n      packaging_commands: make dist")
    (project / "platform.yaml").write_text(text)
    model = load_platform(project / "platform.yaml")
    assert model.instances[0].inputs.values["retry_budget"] == 3  # rendered as service_instance.inputs.retry_budget
    said = "not named by the template's schema; passed to its template as Proton passed it (check the spelling)"
    assert sorted(model.notes) == [f"platform.yaml:services[orders].instances[0].spec.retry_budget: {said}",
                                   f"platform.yaml:services[orders].pipeline.packaging_commands: {said}"]
    assert main(["validate", "platform.yaml"]) == 0
    assert "note: platform.yaml:services[orders].pipeline.packaging_commands: not named" in capsys.readouterr().err


def test_a_schema_that_closes_its_object_still_refuses_keys_it_does_not_name(project: Path) -> None:
    schema = project / "templates" / "shop-svc" / "v1" / "schema" / "schema.yaml"
    schema.write_text(schema.read_text().replace('      type: object\n      description: "A queue',
                                                 '      type: object\n      additionalProperties: false\n'
                                                 '      description: "A queue'))
    text = (project / "platform.yaml").read_text().replace("visibility_timeout: 60",
                                                          "visibility_timeout: 60\n          retry_budget: 3")
    (project / "platform.yaml").write_text(text)
    (line,) = _problems(project / "platform.yaml")
    assert line.startswith("platform.yaml:services[orders].instances[0].spec.retry_budget: unknown input")


def test_an_undefined_variable_names_the_template_file_and_line(project: Path) -> None:
    file = project / "templates" / "shop-svc" / "v1" / "instance_infrastructure" / "cloudformation.yaml"
    lines = file.read_text().splitlines()
    lines[6] = "      QueueName: '{{ environment.outputs.NoSuchOutput }}'"
    file.write_text("\n".join(lines) + "\n")
    (line,) = _problems(project / "platform.yaml")
    assert line.startswith("templates/shop-svc/v1/instance_infrastructure/cloudformation.yaml:line 7: "
                           "undefined variable:") and "NoSuchOutput" in line


def test_the_sandbox_refuses_python_internals(project: Path) -> None:
    file = project / "templates" / "shop-env" / "v1" / "infrastructure" / "cloudformation.yaml"
    file.write_text(file.read_text().replace("{{ environment.name }}-events",
                                             "{{ environment.__class__.__mro__ }}"))
    (line,) = _problems(project / "platform.yaml")
    assert line.startswith("templates/shop-env/v1/infrastructure/cloudformation.yaml:line 7: cannot render: ")
    assert "is unsafe" in line


def test_an_acknowledgement_without_a_reason_is_refused(project: Path) -> None:
    (project / "templates" / "shop-svc" / "v1" / "keel-acknowledgements.yaml").write_text(
        "acknowledgements:\n  - rule: AwsSolutions-SQS3\n    resource: Queue\n")
    (line, *_) = _problems(project / "platform.yaml")  # and the services that use the template
    assert line.startswith("templates/shop-svc/v1/keel-acknowledgements.yaml:acknowledgements[0].reason: "
                           "every acknowledgement needs its reason")


def test_stack_name_pins_the_cloudformation_stack_name(project: Path) -> None:
    model = load_platform(project / "platform.yaml")
    assert model.environments[0].stack_name == "ShopDevEnvironment"
    assert model.instances[0].stack_name == "ShopOrdersMain"


def test_keel_templates_lists_them_with_their_origin(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "--platform", "platform.yaml"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("shop-svc") and "2.0" in line)
    assert "(Proton layout)" in row and "templates" in row
    assert any(line.startswith("vpc-env") and "built-in" in line for line in out.splitlines())


def test_outdated_sees_the_v2_folder_and_upgrade_moves_the_pin(project: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outdated", "platform.yaml", "--fail"]) == 1
    assert "major 2.0 available" in capsys.readouterr().out
    assert main(["upgrade", "platform.yaml", "--to", "shop-svc:2.0"]) == 0
    model = load_platform(project / "platform.yaml")
    assert model.instances[0].template.label == "shop-svc@2.0"
    assert model.instances[0].rendered is not None
    assert model.instances[0].rendered.template["Resources"]["Queue"]["Properties"]["DelaySeconds"] == 0
