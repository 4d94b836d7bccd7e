"""Every environment template composes the bus and config plane; the loader keeps services off the
environment's own paths and off each other's listener rules. Errors name the exact field."""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path
from typing import Any

import pytest

from keel.spec import SpecError, load_platform
from keel.spec.loader import reserved_service_names
from keel.spec.model import PlatformModel
from keel.spec.registry import default_registry
from keel.templates.load_balanced_fargate_svc.inputs import rule_priority

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
AZS = {"region": "eu-west-1", "availability_zones": ["eu-west-1a", "eu-west-1b"]}
ECS = {"name": "stage", "template": "ecs-env:1", **AZS, "spec": {"load_balancer": {"enabled": True}}}
EKS = {"name": "edge", "template": "eks-env:1", **AZS, "spec": {"public_access_cidrs": ["203.0.113.0/24"],
                                                                "endpoint_access": "public_and_private"}}


def write(tmp_path: Path, environments: list[dict[str, Any]], services: list[dict[str, Any]] | None = None) -> Path:
    path = tmp_path / "platform.yaml"
    path.write_text(json.dumps({"environments": environments, "services": services or []}))
    return path


def load(tmp_path: Path, environments: list[dict[str, Any]],
         services: list[dict[str, Any]] | None = None) -> PlatformModel:
    return load_platform(write(tmp_path, environments, services))


def problems(tmp_path: Path, environments: list[dict[str, Any]],
             services: list[dict[str, Any]] | None = None) -> list[str]:
    with pytest.raises(SpecError) as err:
        load(tmp_path, environments, services)
    return [p.render().split(":", 1)[1] for p in err.value.problems]


def web(name: str, instance: str, **spec: Any) -> dict[str, Any]:
    return {"name": name, "template": "load-balanced-fargate-svc:1",
            "instances": [{"name": instance, "environment": "stage", "spec": {"port": 8080, **spec}}]}


# -- ecs-env 1.1+ / eks-env 1.1 -------------------------------------------------------------------

@pytest.mark.parametrize(("env", "label"), [(ECS, "ecs-env@1.3"), (EKS, "eks-env@1.3")])
def test_the_bus_and_config_are_on_by_default(tmp_path: Path, env: dict[str, Any], label: str) -> None:
    (environment,) = load(tmp_path, [env]).environments
    assert environment.template.label == label
    assert environment.inputs.event_bus.enabled and environment.inputs.config.enabled


@pytest.mark.parametrize("env", [ECS, EKS])
def test_platform_service_rules_apply_with_the_exact_path(tmp_path: Path, env: dict[str, Any]) -> None:
    spec = {**env["spec"], "event_bus": {"schema_discovery": True}}
    assert problems(tmp_path, [{**env, "spec": spec}]) == [
        f"environments[{env['name']}].spec.event_bus.schema_discovery: EventBridge cannot discover schemas on a "
        'bus encrypted with a customer managed key (got true, expected false, or event_bus.encryption "aws-owned")']


@pytest.mark.parametrize("env", [ECS, EKS])
def test_a_1_0_pin_refuses_the_groups(tmp_path: Path, env: dict[str, Any]) -> None:
    pinned = {**env, "template": env["template"] + ".0", "spec": {**env["spec"], "event_bus": {}}}
    found = problems(tmp_path, [pinned])
    assert found[0].startswith(f"environments[{env['name']}].spec.event_bus: ")


@pytest.mark.parametrize("template", ["lambda-api-svc", "event-worker-svc", "scheduled-lambda-svc"])
def test_lambda_templates_accept_every_environment_template(template: str) -> None:
    version = default_registry().templates[template].versions[-1]
    assert set(version.compatible_environments) == {("vpc-env", 1), ("ecs-env", 1), ("eks-env", 1)}


def test_an_event_worker_on_a_bus_less_version_is_a_spec_error(tmp_path: Path) -> None:
    shutil.copytree(LAMBDA_SRC / "event_worker", tmp_path / "event_worker")  # code stays in the project
    pinned = {**EKS, "template": "eks-env:1.0"}
    worker = {"name": "jobs", "template": "event-worker-svc:1",
              "pipeline": {"code_dir": "event_worker"},
              "instances": [{"name": "edge", "environment": "edge", "spec": {"event_sources": ["keel.a"]}}]}
    assert problems(tmp_path, [pinned], [worker]) == [
        'services[jobs].instances[0].spec.event_sources: environment "edge" has no event bus (eks-env@1.0 has '
        'none) (got ["keel.a"], expected an environment with an event bus (keel upgrade --to eks-env:1))']


# -- reserved service names -----------------------------------------------------------------------

def test_reserved_names_come_from_the_declared_environment_outputs() -> None:
    assert set(reserved_service_names(default_registry())) == {
        "shared", "outputs", "vpc", "kms", "events", "config", "ecs", "eks", "eks-anywhere"}


@pytest.mark.parametrize("name", ["vpc", "kms", "events", "config", "ecs", "eks", "eks-anywhere"])
def test_a_service_named_after_an_environment_output_path_is_an_error(tmp_path: Path, name: str) -> None:
    svc = {"name": name, "template": "backend-fargate-svc:1", "instances": []}
    (found,) = problems(tmp_path, [ECS], [svc])
    assert found.startswith(f"services[{name}].name: is reserved: ")
    assert found.endswith(f"environment outputs under /keel/<environment>/{name}/ (got \"{name}\", "
                          "expected another service name)")


def test_a_service_named_shared_is_an_error(tmp_path: Path) -> None:
    svc = {"name": "shared", "template": "backend-fargate-svc:1", "instances": []}
    assert problems(tmp_path, [ECS], [svc]) == [
        'services[shared].name: is reserved: /keel/<environment>/shared/ is the config path every service reads '
        '(got "shared", expected another service name)']


def test_a_service_named_outputs_is_an_error(tmp_path: Path) -> None:
    # a Proton-format environment publishes its template's Outputs under /keel/<environment>/outputs/<Name>
    svc = {"name": "outputs", "template": "backend-fargate-svc:1", "instances": []}
    assert problems(tmp_path, [ECS], [svc]) == [
        "services[outputs].name: is reserved: Proton-format environments publish their template's Outputs under "
        '/keel/<environment>/outputs/<Name> (got "outputs", expected another service name)']


def test_the_message_names_every_template_publishing_the_path(tmp_path: Path) -> None:
    svc = {"name": "kms", "template": "backend-fargate-svc:1", "instances": []}
    assert problems(tmp_path, [ECS], [svc]) == [
        "services[kms].name: is reserved: ecs-env, eks-env, vpc-env publish environment outputs under "
        '/keel/<environment>/kms/ (got "kms", expected another service name)']


def test_a_config_entry_for_a_reserved_service_is_an_error(tmp_path: Path) -> None:
    spec = {**ECS["spec"], "config": {"parameters": [{"service": "shared", "key": "a", "value": "x"},
                                                     {"service": "ecs", "key": "cluster-name", "value": "x"}],
                                      "secrets": [{"service": "vpc", "key": "id"}]}}
    assert [p.split(": is reserved")[0] for p in problems(tmp_path, [{**ECS, "spec": spec}])] == [
        "environments[stage].spec.config.parameters[1].service",
        "environments[stage].spec.config.secrets[0].service"]


# -- listener rules on the shared load balancer ---------------------------------------------------

def test_rule_priority_is_a_stable_crc32_of_service_and_instance() -> None:
    assert rule_priority("web", "web-staging") == 1 + zlib.crc32(b"web/web-staging") % 50000


def test_distinct_paths_and_priorities_load(tmp_path: Path) -> None:
    model = load(tmp_path, [ECS], [web("web", "a", path_pattern="/web/*"), web("api", "a", path_pattern="/api/*")])
    assert len(model.instances) == 2


def test_two_rules_with_one_explicit_priority_are_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, [ECS], [web("web", "a", path_pattern="/web/*", listener_rule_priority=7),
                                       web("api", "a", path_pattern="/api/*", listener_rule_priority=7)])
    assert found == [
        'services[api].instances[0].spec.listener_rule_priority: priority 7 on environment "stage"\'s shared '
        'listener is taken by service "web" instance "a" (got 7, expected a priority no other rule on the '
        "listener uses)"]


def test_an_explicit_priority_equal_to_a_derived_one_is_an_error(tmp_path: Path) -> None:
    taken = rule_priority("web", "a")
    found = problems(tmp_path, [ECS], [web("web", "a", path_pattern="/web/*"),
                                       web("api", "a", path_pattern="/api/*", listener_rule_priority=taken)])
    assert found == [
        f'services[api].instances[0].spec.listener_rule_priority: priority {taken} on environment "stage"\'s '
        f'shared listener is taken by service "web" instance "a" (got {taken}, expected a priority no other '
        "rule on the listener uses)"]


def test_colliding_derived_priorities_say_where_the_priority_came_from(tmp_path: Path) -> None:
    # Two names whose CRC32s agree modulo 50000 (found by search; see rule_priority).
    first, second = _colliding_names()
    found = problems(tmp_path, [ECS], [web(first, "a", path_pattern="/one/*"), web(second, "a", path_pattern="/two/*")])
    assert found == [
        f"services[{second}].instances[0].spec.listener_rule_priority: priority {rule_priority(first, 'a')} "
        "(derived from the service and instance names) on environment \"stage\"'s shared listener is taken by "
        f'service "{first}" instance "a" (got {rule_priority(first, "a")}, expected a priority no other rule on '
        "the listener uses)"]


def test_identical_conditions_are_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, [ECS], [web("web", "a", host_header="shop.example.com"),
                                       web("api", "a", host_header="SHOP.example.com")])
    assert found == [
        'services[api].instances[0].spec.path_pattern: path_pattern and host_header "SHOP.example.com" equal '
        'those of service "web" instance "a" on environment "stage"\'s shared listener: only one of the two rules '
        'would ever match (got "/*", expected a different path_pattern or host_header)']


def test_the_same_path_on_different_hosts_loads(tmp_path: Path) -> None:
    model = load(tmp_path, [ECS], [web("web", "a", host_header="a.example.com"),
                                   web("api", "a", host_header="b.example.com")])
    assert len(model.instances) == 2


def test_rules_on_different_environments_do_not_collide(tmp_path: Path) -> None:
    other = {**ECS, "name": "prod"}
    svc = web("web", "a", listener_rule_priority=5)
    svc["instances"].append({"name": "b", "environment": "prod", "spec": {"port": 8080, "listener_rule_priority": 5}})
    assert len(load(tmp_path, [ECS, other], [svc]).instances) == 2


def test_network_load_balanced_instances_claim_no_listener_rule(tmp_path: Path) -> None:
    model = load(tmp_path, [ECS], [web("web", "a", loadbalancer_type="network"),
                                   web("api", "a", loadbalancer_type="network")])
    assert len(model.instances) == 2


def _colliding_names() -> tuple[str, str]:
    seen: dict[int, str] = {}
    for n in range(100000):
        name = f"svc{n}"
        priority = rule_priority(name, "a")
        if priority in seen:
            return seen[priority], name
        seen[priority] = name
    raise AssertionError("no collision found")
