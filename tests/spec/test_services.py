"""Services and instances: compatibility, pipelines, Proton ServiceSpecs, stack-name collisions."""

from __future__ import annotations

from tests.spec.conftest import Platform

ENVS = """
environments:
  - name: dev
    template: vpc-env:1
  - name: other
    template: other-env:1
"""


def svc(body: str) -> str:
    return ENVS + "services:\n" + body


WEB = """
  - name: web
    template: web-svc:1
    pipeline: {dockerfile: app/Dockerfile}
    instances:
      - name: web-dev
        environment: dev
        spec: {port: 8080}
"""


def test_service_instances_are_typed_and_defaulted(platform: Platform) -> None:
    model = platform.load(svc(WEB))
    (inst,) = model.instances
    assert inst.inputs.port == 8080 and inst.inputs.task_size == "x-small"
    assert inst.inputs.scaling.max_tasks == 4  # nested object created from its defaults
    assert model.services[0].pipeline.dockerfile == "app/Dockerfile"
    assert model.services[0].pipeline.unit_test_command == "echo ok"
    assert inst.stack_name == "keel-web-web-dev"


def test_unknown_environment_lists_known_ones(platform: Platform) -> None:
    lines = platform.problems(svc(WEB.replace("environment: dev", "environment: stagin")))
    assert lines == ['platform.yaml:services[web].instances[0].environment: unknown environment "stagin" '
                     "(expected one of: dev, other)"]


def test_incompatible_environment_template(platform: Platform) -> None:
    lines = platform.problems(svc(WEB.replace("environment: dev", "environment: other")))
    assert lines == ['platform.yaml:services[web].instances[0].environment: environment "other" uses other-env:1, '
                     'which web-svc@1.0 does not support (got "other", expected an environment of template vpc-env:1)']


def test_instance_input_errors_carry_the_instance_path(platform: Platform) -> None:
    lines = platform.problems(svc(WEB.replace("{port: 8080}", "{port: 70000, scaling: {min_tasks: 9}}")))
    assert lines == ["platform.yaml:services[web].instances[0].spec.port: is greater than the maximum 65535 "
                     "(got 70000, expected at most 65535)"]
    lines = platform.problems(svc(WEB.replace("{port: 8080}", "{scaling: {min_tasks: 9}}")))
    assert lines == ["platform.yaml:services[web].instances[0].spec.scaling.min_tasks: is greater than "
                     "scaling.max_tasks (got 9, expected at most 4)"]


def test_pipeline_inputs_are_validated(platform: Platform) -> None:
    lines = platform.problems(svc(WEB.replace("{dockerfile: app/Dockerfile}", "{dockerfile: '', shell: bash}")))
    assert lines == [
        'platform.yaml:services[web].pipeline.dockerfile: is too short (got "", expected at least 1 character)',
        "platform.yaml:services[web].pipeline.shell: unknown input (expected one of: dockerfile, unit_test_command)",
    ]


def test_duplicate_instance_names(platform: Platform) -> None:
    body = WEB + "      - name: web-dev\n        environment: dev\n"
    lines = platform.problems(svc(body))
    assert lines[0] == ('platform.yaml:services[web].instances[1].name: duplicate instance name (got "web-dev", '
                        "expected each instance name once per service)")


def test_stack_name_collisions_are_caught(platform: Platform) -> None:
    body = """
  - name: a-b
    template: web-svc:1
    instances: [{name: c, environment: dev}]
  - name: a
    template: web-svc:1
    instances: [{name: b-c, environment: dev}]
"""
    lines = platform.problems(svc(body))
    assert lines == ['platform.yaml:services[a].instances[0].name: stack name "keel-a-b-c" collides with '
                     'services[a-b].instances[0] (got "keel-a-b-c", expected names that give distinct stack names '
                     "(keel-<env>, keel-<service>-<instance>))"]


def test_environment_template_used_as_a_service(platform: Platform) -> None:
    lines = platform.problems(svc(WEB.replace("web-svc:1", "vpc-env:1")))
    assert lines[0].startswith('platform.yaml:services[web].template: template "vpc-env" is an environment template')


def test_proton_service_spec_file_is_accepted(platform: Platform) -> None:
    envs = ENVS.replace("name: other", "name: fargate-env-prod").replace("other-env:1", "vpc-env:1")
    # web-svc takes dockerfile and unit_test_command; Proton's container service specs also have service_dir.
    lines = platform.problems(envs + "services:\n  - name: lb\n    template: web-svc:1\n    spec_file: lb.yaml\n",
                              lb_yaml="""
                                  proton: ServiceSpec
                                  pipeline:
                                    service_dir: storefront
                                    dockerfile: Dockerfile
                                    unit_test_command: make check
                                  instances:
                                    - name: lb-prod
                                      environment: fargate-env-prod
                                      spec:
                                        port: 8080
                              """)
    assert lines == ["lb.yaml:pipeline.service_dir: unknown input (expected one of: dockerfile, unit_test_command)"]


def test_proton_service_spec_with_instances_and_specs(platform: Platform) -> None:
    model = platform.load(ENVS + "services:\n  - name: api\n    template: web-svc:1\n    spec_file: api.yaml\n",
                          api_yaml="""
                              proton: ServiceSpec
                              pipeline:
                                unit_test_command: make test
                              instances:
                                - name: api-dev
                                  environment: dev
                                  spec:
                                    port: 8443
                          """)
    assert model.instances[0].inputs.port == 8443
    assert model.services[0].pipeline.unit_test_command == "make test"


def test_spec_file_and_inline_instances_are_exclusive(platform: Platform) -> None:
    lines = platform.problems(svc("  - name: web\n    template: web-svc:1\n    spec_file: x.yaml\n    instances: []\n"))
    assert lines == ["platform.yaml:services[web].instances: cannot be combined with spec_file "
                     "(expected pipeline and instances in the spec file only)"]


def test_broken_environment_is_reported_once_not_per_instance(platform: Platform) -> None:
    lines = platform.problems(svc(WEB).replace("template: vpc-env:1", "template: vpc-env:9"))
    assert len(lines) == 1 and "environments[dev].template" in lines[0]
