"""A config parameter never takes a name Keel publishes itself: under `/keel/<env>/<service>/` a service's
instances publish their outputs and their components' discovery parameters, under `/keel/<env>/shared/` the
environment's components theirs. Two SSM parameters of one name fail only at deploy, so the spec says it."""

from __future__ import annotations

from pathlib import Path

from keel.spec import SpecError, load_platform

PLATFORM = """name: lab
environments:
  - name: dev
    template: ecs-env:1.2
    spec:
      vpc_cidr: 10.62.0.0/16
      config:
        parameters:
{parameters}
    components:
      - {{kind: s3-bucket, name: media}}
services:
  - name: api
    template: backend-fargate-svc:1.0
    instances:
      - name: dev
        environment: dev
        spec: {{port: 8080, subnet_type: private}}
        components:
          - {{kind: sqs-queue, name: jobs}}
"""


def problems(tmp_path: Path, *parameters: str) -> list[str]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    lines = "\n".join(f"          - {p}" for p in parameters)
    (tmp_path / "platform.yaml").write_text(PLATFORM.format(parameters=lines))
    try:
        load_platform(tmp_path / "platform.yaml")
    except SpecError as exc:
        return [p.render().split("platform.yaml:", 1)[-1] for p in exc.problems]
    return []


def test_keys_of_their_own_are_accepted(tmp_path: Path) -> None:
    assert problems(tmp_path, "{service: api, key: log-level, value: info}",
                    "{service: shared, key: feature/new-ui, value: 'on'}",
                    "{service: api, key: components-note, value: x}",
                    "{service: other, key: service-name, value: x}") == []


def test_a_key_a_service_publishes_as_an_output_is_refused(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, "{service: api, key: service-name, value: x}")
    assert problem.startswith("environments[dev].spec.config.parameters[0].key: collides with output service-name "
                              "of api's template backend-fargate-svc@1.0 (/keel/dev/api/service-name)")
    assert '(got "service-name"' in problem


def test_a_key_under_a_component_of_the_service_is_refused(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, "{service: api, key: components/jobs/queue-url, value: x}")
    assert "collides with the discovery parameters of api's component jobs (/keel/dev/api/components/jobs/" \
           "queue-url)" in problem


def test_a_shared_key_under_an_environment_component_is_refused(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, "{service: shared, key: components/media, value: x}")
    assert problem.startswith("environments[dev].spec.config.parameters[0].key: collides with environment "
                              "component media's discovery parameters (/keel/dev/shared/components/media)")
