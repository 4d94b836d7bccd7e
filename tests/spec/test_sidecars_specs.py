"""Sidecars on the container templates' 1.1 (issue 17), CDK-free: bad sidecars are spec errors with their exact
path before any synth; good ones reach the inputs typed; 1.0 has no sidecars."""

from __future__ import annotations

import pytest

from keel.templates.container_inputs import OTEL_COLLECTOR_IMAGE, Sidecar, SidecarV12, sidecars_of
from tests.spec.conftest import Platform

ENVS = """
environments:
  - name: staging
    template: ecs-env:1.2
    region: eu-west-1
    availability_zones: [eu-west-1a, eu-west-1b]
    spec:
      load_balancer: {enabled: true}
services:
"""
TEMPLATES = ["load-balanced-fargate-svc", "backend-fargate-svc", "worker-fargate-svc", "scheduled-fargate-svc"]
P = "platform.yaml:services[svc].instances[0].spec"


def one(spec: str, template: str = "worker-fargate-svc", version: str = "1.1") -> str:
    return ENVS + f"""
  - name: svc
    template: {template}:{version}
    instances:
      - name: svc-1
        environment: staging
        spec: {spec}
"""


@pytest.mark.parametrize("template", TEMPLATES)
def test_sidecars_reach_the_inputs_typed(platform: Platform, template: str) -> None:
    model = platform.load(one(
        "{sidecars: [{name: otel, preset: otel-collector, health_check: [/healthcheck]}, "
        "{name: proxy, image: public.ecr.aws/nginx/nginx:1.27, "
        "port: 8080, essential: true, environment: {MODE: edge}, secrets: [{name: TOKEN, key: proxy/token}], "
        "depends_on: [{container: otel, condition: HEALTHY}, {container: app}], "
        "resources: {cpu: 128, memory_mib: 256}}]}", template))
    (otel, proxy) = sidecars_of(model.services[0].instances[0].inputs)
    assert isinstance(otel, Sidecar) and otel.image_or_preset == OTEL_COLLECTOR_IMAGE and not otel.essential
    assert (proxy.port, proxy.essential, dict(proxy.environment), proxy.cpu, proxy.memory_mib) == \
        (8080, True, {"MODE": "edge"}, 128, 256)
    assert [(s.name, s.key, s.source) for s in proxy.secrets] == [("TOKEN", "proxy/token", "parameter")]
    assert [(d.container, d.condition) for d in proxy.depends_on] == [("otel", "HEALTHY"), ("app", "START")]
    assert otel.health_check == ("/healthcheck",) and proxy.health_check == ()


def test_version_1_0_has_no_sidecars(platform: Platform) -> None:
    (problem,) = platform.problems(one("{sidecars: [{name: otel, preset: otel-collector}]}", version="1.0"))
    assert problem.startswith(f"{P}.sidecars: ")


CASES = [
    ("{sidecars: [{name: proxy}]}",
     f"{P}.sidecars[0].image: is missing (a sidecar without a preset runs an image of yours) (expected an image "
     "such as public.ecr.aws/nginx/nginx:1.27, or preset: otel-collector)"),
    ("{sidecars: [{name: app, image: busybox:1}]}",
     f'{P}.sidecars[0].name: is a container name the task already uses (got "app", expected a name other than '
     "app and log-router)"),
    ("{sidecars: [{name: a, image: busybox:1}, {name: a, image: busybox:1}]}",
     f'{P}.sidecars[1].name: names sidecars[0] again (got "a", expected each name once)'),
    ("{sidecars: [{name: a, image: busybox:1, port: 0}]}",
     f"{P}.sidecars[0].port: is not a usable port (got 0, expected a whole number from 1 to 65535)"),
    ("{sidecars: [{name: a, image: busybox:1, depends_on: [{container: b}]}]}",
     f'{P}.sidecars[0].depends_on[0].container: is not a container of the task (got "b", expected one of app)'),
    ("{sidecars: [{name: a, image: busybox:1, depends_on: [{container: a}]}]}",
     f'{P}.sidecars[0].depends_on[0].container: is the sidecar itself (got "a", expected app or another '
     "sidecar's name)"),
    ("{sidecars: [{name: a, image: busybox:1, depends_on: [{container: app, condition: READY}]}]}",
     f'{P}.sidecars[0].depends_on[0].condition: is not an allowed value (got "READY", expected one of '
     '"START", "COMPLETE", "SUCCESS", "HEALTHY")'),
    ("{sidecars: [{name: a, image: busybox:1, depends_on: [{container: app, condition: HEALTHY}]}]}",
     f'{P}.sidecars[0].depends_on[0].condition: is HEALTHY, and app has no health check (ECS would never start a) '
     '(got "HEALTHY", expected START, or a sidecar with a health_check)'),
    ("{sidecars: [{name: a, image: busybox:1}, {name: b, image: busybox:1, depends_on: [{container: a, "
     "condition: HEALTHY}]}]}",
     f'{P}.sidecars[1].depends_on[0].condition: is HEALTHY, and a has no health check (ECS would never start b) '
     '(got "HEALTHY", expected START, or a health_check on sidecar a)'),
    ("{sidecars: [{name: a, image: busybox:1, environment: {T: x}, secrets: [{name: T, key: t}]}]}",
     f'{P}.sidecars[0].secrets[0].name: sets T again (already set by sidecars[0].environment.T) (got "T", '
     "expected each variable once)"),
    ("{sidecars: [{name: a, image: busybox:1, secrets: [{name: T, key: t, json_key: v}]}]}",
     f'{P}.sidecars[0].secrets[0].json_key: applies to Secrets Manager secrets only (got "v", expected source: '
     "secret, or no json_key)"),
    ("{task_size: x-small, sidecars: [{name: a, image: busybox:1, resources: {cpu: 128}}, "
     "{name: b, image: busybox:1, resources: {cpu: 128, memory_mib: 64}}]}",
     f"{P}.sidecars[1].resources.cpu: brings the sidecars' CPU to 256 of the task's 256 (x-small), none left for "
     "app (got 128, expected sidecars' cpu together below 256, or a larger task_size)"),
    ("{task_size: x-small, sidecars: [{name: a, image: busybox:1, resources: {memory_mib: 600}}]}",
     f"{P}.sidecars[0].resources.memory_mib: brings the sidecars' memory to 600 MiB of the task's 512 (x-small), "
     "none left for app (got 600, expected sidecars' memory_mib together below 512, or a larger task_size)"),
]


@pytest.mark.parametrize(("spec", "expected"), CASES)
def test_bad_sidecars_are_located_spec_errors(platform: Platform, spec: str, expected: str) -> None:
    assert expected in platform.problems(one(spec))


def test_on_ec2_capacity_a_sidecar_needs_its_memory(platform: Platform) -> None:
    problems = platform.problems(one("{capacity: ec2, sidecars: [{name: a, image: busybox:1}]}",
                                     "backend-fargate-svc"))
    assert f"{P}.sidecars[0].resources.memory_mib: is missing, and capacity is ec2 (ECS sizes every container of " \
        "an EC2 task) (expected memory_mib for the sidecar, out of the task size)" in problems


def test_a_dependency_cycle_is_refused(platform: Platform) -> None:
    problems = platform.problems(one(
        "{sidecars: [{name: a, image: busybox:1, depends_on: [{container: b}]}, "
        "{name: b, image: busybox:1, depends_on: [{container: a}]}]}"))
    assert f'{P}.sidecars[0].depends_on: makes a dependency cycle (ECS refuses the task definition) (got ["b"], ' \
        "expected containers that do not, in turn, wait for this one)" in problems


# --- sidecars and secrets (issue 17): 1.2 sidecars take external secrets as app does ----------------------------
@pytest.mark.parametrize("template", TEMPLATES)
def test_a_1_2_sidecar_takes_external_secrets_by_name_or_arn(platform: Platform, template: str) -> None:
    model = platform.load(one(
        "{sidecars: [{name: shipper, image: public.ecr.aws/docker/library/busybox:1.37, external_secrets: ["
        "{name: LICENSE, reference: /copilot/shop/staging/secrets/license}, "
        "{name: KEY, reference: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:k-AbCdEf', source: secret, "
        "json_key: private}]}]}", template, "1.2"))
    (shipper,) = sidecars_of(model.services[0].instances[0].inputs)
    assert isinstance(shipper, SidecarV12)
    assert [(s.name, s.source, s.is_arn, s.json_key) for s in shipper.external_secrets] == [
        ("LICENSE", "parameter", False, None), ("KEY", "secret", True, "private")]


@pytest.mark.parametrize(("spec", "expected"), [
    ("{sidecars: [{name: s, image: i, secrets: [{name: A, key: a}], external_secrets: [{name: A, reference: /x}]}]}",
     f"{P}.sidecars[0].external_secrets[0].name: sets A again (already set by sidecars[0].secrets[0].name) "
     '(got "A", expected each variable once)'),
    ("{sidecars: [{name: s, image: i, external_secrets: [{name: A, "
     "reference: 'arn:aws:ssm:eu-west-1:111122223333:parameter/x', source: secret}]}]}",
     f"{P}.sidecars[0].external_secrets[0].reference: is an ARN of ssm, and source is secret "
     '(got "arn:aws:ssm:eu-west-1:111122223333:parameter/x", expected an ARN of secretsmanager, or source: '
     "parameter)"),
    ("{sidecars: [{name: s, image: i, external_secrets: [{name: A, reference: /x, json_key: k}]}]}",
     f"{P}.sidecars[0].external_secrets[0].json_key: applies to Secrets Manager secrets only (got \"k\", "
     "expected source: secret, or no json_key)"),
])
def test_a_sidecars_external_secrets_are_checked_as_apps(platform: Platform, spec: str, expected: str) -> None:
    assert platform.problems(one(spec, version="1.2")) == [expected]


def test_1_1_sidecars_take_no_external_secrets(platform: Platform) -> None:
    (problem,) = platform.problems(one(
        "{sidecars: [{name: s, image: i, external_secrets: [{name: A, reference: /x}]}]}", version="1.1"))
    assert problem.startswith(f"{P}.sidecars[0].external_secrets: ")


# --- sidecars (issue 17) on ECS Anywhere (anywhere-svc 1.2): what EXTERNAL tasks need ----------------------------
ANYWHERE_ENVS = ENVS.replace("      load_balancer: {enabled: true}\n", "      anywhere: {enabled: true}\n")


def anywhere(spec: str, version: str = "1.2") -> str:
    return ANYWHERE_ENVS + f"""
  - name: svc
    template: anywhere-svc:{version}
    instances:
      - name: svc-1
        environment: staging
        spec: {spec}
"""


def test_external_sidecars_on_host_networking_validate(platform: Platform) -> None:
    model = platform.load(anywhere("{network_mode: host, port_mappings: [{container_port: 9100}], sidecars: ["
                                   "{name: otel, preset: otel-collector, resources: {memory_mib: 256}}]}"))
    (otel,) = sidecars_of(model.services[0].instances[0].inputs)
    assert otel.memory_mib == 256


@pytest.mark.parametrize(("spec", "expected"), [
    ("{network_mode: host, sidecars: [{name: s, image: i}]}",
     f"{P}.sidecars[0].resources.memory_mib: is missing, and ECS sizes every container of an EXTERNAL task (ECS "
     "Anywhere) (expected memory_mib for the sidecar, out of the task size)"),
    ("{network_mode: bridge, sidecars: [{name: otel, preset: otel-collector, resources: {memory_mib: 256}}]}",
     f"{P}.sidecars[0].preset: needs network_mode host: with bridge the task's containers do not share localhost, "
     "so app could not reach the sidecar (got \"otel-collector\", expected network_mode: host)"),
    ("{network_mode: bridge, sidecars: [{name: s, image: i, port: 8080, resources: {memory_mib: 64}}]}",
     f"{P}.sidecars[0].port: needs network_mode host: with bridge the task's containers do not share localhost, "
     "so app could not reach the sidecar (got 8080, expected network_mode: host)"),
    ("{network_mode: host, port_mappings: [{container_port: 4317}], "
     "sidecars: [{name: otel, preset: otel-collector, resources: {memory_mib: 256}}]}",
     f"{P}.sidecars[0].preset: listens on tcp port 4317 of the server, already published by port_mappings[0] "
     "(got \"otel-collector\", expected ports no other container of the task uses (network_mode host shares the "
     "server's ports))"),
])
def test_what_differs_on_external_is_refused_offline(platform: Platform, spec: str, expected: str) -> None:
    assert platform.problems(anywhere(spec)) == [expected]


def test_anywhere_1_1_has_no_sidecars(platform: Platform) -> None:
    (problem,) = platform.problems(anywhere("{sidecars: [{name: s, image: i}]}", version="1.1"))
    assert problem.startswith(f"{P}.sidecars: ")
