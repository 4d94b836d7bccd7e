"""A config parameter never takes a name Keel publishes itself: under `/keel/<env>/<service>/` a service's
instances publish their outputs and their components' discovery parameters, under `/keel/<env>/shared/` the
environment's components theirs. Two SSM parameters of one name fail only at deploy, so the spec says it."""

from __future__ import annotations

from keel.spec import SpecError
from tests.spec.conftest import LAB_PLATFORM, Platform

# LAB_PLATFORM's environment with a config plane (PARAMETERS) and an environment component; its instance with a
# component of its own
PLATFORM = LAB_PLATFORM.replace("    spec: {vpc_cidr: 10.60.0.0/16}", """    spec:
      vpc_cidr: 10.62.0.0/16
      config:
        parameters:
PARAMETERS
    components:
      - {kind: s3-bucket, name: media}""") + "        components:\n          - {kind: sqs-queue, name: jobs}\n"


def problems(platform: Platform, *parameters: str) -> list[str]:
    try:
        platform.load(PLATFORM.replace("PARAMETERS", "\n".join(f"          - {p}" for p in parameters)))
    except SpecError as exc:
        return [p.render().split("platform.yaml:", 1)[-1] for p in exc.problems]
    return []


def test_keys_of_their_own_are_accepted(platform: Platform) -> None:
    assert problems(platform, "{service: api, key: log-level, value: info}",
                    "{service: shared, key: feature/new-ui, value: 'on'}",
                    "{service: api, key: components-note, value: x}",
                    "{service: other, key: service-name, value: x}") == []


def test_a_key_a_service_publishes_as_an_output_is_refused(platform: Platform) -> None:
    (problem,) = problems(platform, "{service: api, key: service-name, value: x}")
    assert problem.startswith("environments[dev].spec.config.parameters[0].key: collides with output service-name "
                              "of api's template backend-fargate-svc@1.0 (/keel/dev/api/service-name)")
    assert '(got "service-name"' in problem


def test_a_key_under_a_component_of_the_service_is_refused(platform: Platform) -> None:
    (problem,) = problems(platform, "{service: api, key: components/jobs/queue-url, value: x}")
    assert "collides with the discovery parameters of api's component jobs (/keel/dev/api/components/jobs/" \
           "queue-url)" in problem


def test_a_shared_key_under_an_environment_component_is_refused(platform: Platform) -> None:
    (problem,) = problems(platform, "{service: shared, key: components/media, value: x}")
    assert problem.startswith("environments[dev].spec.config.parameters[0].key: collides with environment "
                              "component media's discovery parameters (/keel/dev/shared/components/media)")
