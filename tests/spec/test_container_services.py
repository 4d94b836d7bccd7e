"""Container service templates, CDK-free: Proton samples validate unchanged, bad input is a spec error with
its exact path before any synth, and the schedule and placement grammars."""

from __future__ import annotations

import pytest

from keel.contract.registry import TemplateRef
from keel.contract.schedule import schedule_problem
from keel.spec.registry import default_registry
from keel.templates.container_inputs import TASK_SIZES, placement_expression
from tests.spec.conftest import Platform

ENVS = """
environments:
  - name: staging
    template: ecs-env:1
    region: eu-west-1
    availability_zones: [eu-west-1a, eu-west-1b]
    spec:
      load_balancer: {enabled: true}
      anywhere: {enabled: true}
  - name: bare
    template: ecs-env:1
services:
"""
PROTON_TEMPLATES = ["load-balanced-fargate-svc", "backend-fargate-svc", "scheduled-fargate-svc"]
ALL = [*PROTON_TEMPLATES, "worker-fargate-svc", "anywhere-svc"]
P = "platform.yaml:services[svc].instances[0].spec"


def one(template: str, spec: str, environment: str = "staging") -> str:
    return ENVS + f"""
  - name: svc
    template: {template}:1
    instances:
      - name: svc-1
        environment: {environment}
        spec: {spec}
"""


# --- Proton compatibility (AWS's own sample schemas and specs: tests/conformance/test_proton_samples.py) ---
SERVICE_SPEC = """
proton: ServiceSpec
pipeline:
  service_dir: storefront
  dockerfile: Dockerfile.release
  unit_test_command: npm test --silent
instances:
  - name: storefront-eu
    environment: fargate-env-prod
    spec:
      task_size: small
      image: public.ecr.aws/docker/library/httpd:2.4
"""


@pytest.mark.parametrize("name", PROTON_TEMPLATES)
def test_proton_service_spec_validates_unchanged(platform: Platform, name: str) -> None:
    """A Proton ServiceSpec of our own with the pipeline and instance inputs the Proton templates share."""
    model = platform.load(f"""
environments:
  - name: fargate-env-prod
    template: ecs-env:1
    region: eu-west-1
    availability_zones: [eu-west-1a, eu-west-1b]
    spec: {{load_balancer: {{enabled: true}}}}
services:
  - name: {name}
    template: {name}:1
    spec_file: service_spec.yaml
""", service_spec_yaml=SERVICE_SPEC)
    service = model.services[0]
    assert service.pipeline.dockerfile == "Dockerfile.release"
    assert service.pipeline.unit_test_command == "npm test --silent"
    assert service.pipeline.service_dir == "storefront"
    (instance,) = service.instances
    assert instance.environment == "fargate-env-prod"
    assert instance.inputs.task_size == "small" and instance.inputs.image == "public.ecr.aws/docker/library/httpd:2.4"


@pytest.mark.parametrize("name", ALL)
def test_every_template_runs_on_ecs_env_1_only(name: str) -> None:
    assert default_registry().resolve(TemplateRef(name, 1)).compatible_environments == (("ecs-env", 1),)


def test_task_sizes_are_valid_fargate_pairs() -> None:
    valid = {256: {512, 1024, 2048}, 512: set(range(1024, 4097, 1024)), 1024: set(range(2048, 8193, 1024)),
             2048: set(range(4096, 16385, 1024)), 4096: set(range(8192, 30721, 1024))}
    for cpu, memory in TASK_SIZES.values():
        assert memory in valid[cpu]


def test_defaults_and_pipeline_inputs_are_typed(platform: Platform) -> None:
    model = platform.load(ENVS + """
  - name: svc
    template: worker-fargate-svc:1
    pipeline: {service_dir: w, dockerfile: build/Dockerfile, unit_test_command: make test}
    instances:
      - {name: svc-1, environment: staging}
""")
    inputs = model.instances[0].inputs
    assert (inputs.queue.max_receive_count, inputs.scaling.messages_per_task, inputs.subnet_type) == (5, 10, "private")
    assert inputs.cpu == 256 and inputs.memory_mib == 512
    assert model.services[0].pipeline.dockerfile == "build/Dockerfile"


# --- bad input: one spec error each, with its path -------------------------------------------------
BAD = [
    ("load-balanced-fargate-svc", "{task_size: huge}",
     f'{P}.task_size: is not an allowed value (got "huge", expected one of "x-small", "small", "medium", "large", '
     '"x-large")'),
    ("load-balanced-fargate-svc", "{port: 70000}",
     f"{P}.port: is greater than the maximum 65535 (got 70000, expected at most 65535)"),
    ("backend-fargate-svc", "{port: 0}",
     f"{P}.port: is not a usable port (got 0, expected a whole number from 1 to 65535)"),
    ("backend-fargate-svc", "{port: 80.5}",
     f"{P}.port: is not a usable port (got 80.5, expected a whole number from 1 to 65535)"),
    ("load-balanced-fargate-svc", "{health_check_path: health}",
     f'{P}.health_check_path: is not a URL path (got "health", expected a path that starts with / and has no '
     'spaces, such as /health)'),
    ("load-balanced-fargate-svc", "{desired_count: 1.5}",
     f"{P}.desired_count: is not a whole number (got 1.5, expected a whole number of tasks)"),
    ("load-balanced-fargate-svc", "{scaling: {min_tasks: 5, max_tasks: 2}}",
     f"{P}.scaling.min_tasks: is greater than scaling.max_tasks (got 5, expected at most 2)"),
    ("backend-fargate-svc", "{desired_count: 9}",
     f"{P}.desired_count: is outside scaling.min_tasks..scaling.max_tasks (got 9, expected from 1 to 4 "
     "(autoscaling would move it there at once))"),
    ("backend-fargate-svc", "{deployment: {min_healthy_percent: 100, max_healthy_percent: 100}}",
     f"{P}.deployment.max_healthy_percent: is not above deployment.min_healthy_percent (got 100, expected more "
     "than 100 (else a deployment can neither start nor stop a task))"),
    ("backend-fargate-svc", "{deployment: {alarm_rollback: true}}",
     f"{P}.deployment.alarm_rollback: needs private_link.enabled (the alarms watch its load balancer's unhealthy "
     "targets) (got true, expected private_link: {enabled: true}, or alarm_rollback false)"),
    ("worker-fargate-svc", "{secrets: [{name: TOKEN, key: api/token, json_key: value}]}",
     f'{P}.secrets[0].json_key: applies to Secrets Manager secrets only (got "value", expected source: secret, '
     "or no json_key)"),
    ("worker-fargate-svc",
     "{environment_variables: [{name: TOKEN, value: x}], secrets: [{name: TOKEN, key: api/token}]}",
     f'{P}.secrets[0].name: sets TOKEN again (already set by environment_variables[0].name) (got "TOKEN", '
     "expected each variable once)"),
    ("worker-fargate-svc", "{secrets: [{name: TOKEN, key: /abs/path}]}",
     f'{P}.secrets[0].key: does not match the required pattern (got "/abs/path", expected a match for '
     "/^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$/)"),
    ("scheduled-fargate-svc", "{schedule_expression: 'cron(0 12 * * *)'}",
     f'{P}.schedule_expression: is not a schedule EventBridge accepts: a cron expression has 6 fields (minutes '
     'hours day-of-month month day-of-week year), not 5 (got "cron(0 12 * * *)", expected rate(5 minutes), '
     "cron(0 12 * * ? *) or at(2030-01-01T09:00:00))"),
    ("scheduled-fargate-svc", "{schedule_timezone: Mars/Olympus}",
     f'{P}.schedule_timezone: is not an IANA time zone (got "Mars/Olympus", expected a name such as UTC, '
     "Europe/Paris or America/New_York)"),
    ("anywhere-svc", "{placement_constraints: ['gpu = true']}",
     f"{P}.placement_constraints[0]: is not a placement constraint: '=' is not an operator (==, !=, exists, "
     '!exists, in, not_in) (got "gpu = true", expected such as gpu == true, site == plant-3, site in '
     "[plant-3, plant-4], ecs.os-type == linux)"),
    ("anywhere-svc", "{load_balancer: true}",
     f"{P}.load_balancer: is not supported by ECS Anywhere: an external service cannot register targets with a "
     "load balancer (got true, expected false; put your own load balancer in front of the servers' host ports)"),
    ("anywhere-svc", "{discovery: cloud-map}",
     f'{P}.discovery: is not supported by ECS Anywhere: an external service cannot register in Cloud Map or use '
     'Service Connect (got "cloud-map", expected none; reach the servers by their own addresses)'),
    ("anywhere-svc", "{scaling: {max_tasks: 4}}",
     f'{P}.scaling: is not supported by ECS Anywhere: Application Auto Scaling does not scale external services '
     '(got {"max_tasks": 4}, expected no scaling; set desired_count)'),
    ("anywhere-svc", "{gpu_count: 1}",
     f'{P}.gpu_count: needs GPU support, and environment "staging" registers its external instances without it '
     "(got 1, expected anywhere: {gpu: true} in the environment's spec, or gpu_count 0)"),
    ("anywhere-svc", "{network_mode: host, port_mappings: [{container_port: 80, host_port: 8080}]}",
     f"{P}.port_mappings[0].host_port: differs from container_port, and network_mode host maps nothing (got 8080, "
     "expected 80 (or unset))"),
    ("anywhere-svc", "{port_mappings: [{container_port: 80}, {container_port: 81, host_port: 80}]}",
     f"{P}.port_mappings[1].host_port: is already published by port_mappings[0] (got 80, expected each host port "
     "once per protocol)"),
]


@pytest.mark.parametrize(("template", "spec", "expected"), BAD, ids=[f"{t}:{s}" for t, s, _ in BAD])
def test_bad_input_is_one_spec_error_with_its_path(platform: Platform, template: str, spec: str,
                                                   expected: str) -> None:
    assert platform.problems(one(template, spec)) == [expected]


def test_application_load_balancer_needs_the_environments_shared_one(platform: Platform) -> None:
    lines = platform.problems(one("load-balanced-fargate-svc", "{}", environment="bare"))
    assert lines == [f"{P}.loadbalancer_type: application puts the service on the environment's shared load "
                     'balancer, and environment "bare" has load_balancer.enabled false (expected load_balancer: '
                     "{enabled: true} in the environment's spec)"]


def test_network_load_balancer_needs_no_shared_one(platform: Platform) -> None:
    model = platform.load(one("load-balanced-fargate-svc", "{loadbalancer_type: network}", environment="bare"))
    assert model.instances[0].inputs.loadbalancer_type == "network"


def test_anywhere_service_needs_anywhere_in_its_environment(platform: Platform) -> None:
    lines = platform.problems(one("anywhere-svc", "{}", environment="bare"))
    assert lines == [f"{P}: an ECS Anywhere service runs on external instances, and environment \"bare\" has "
                     "anywhere.enabled false (expected anywhere: {enabled: true} in the environment's spec)"]


def test_every_problem_of_an_instance_is_reported_at_once(platform: Platform) -> None:
    lines = platform.problems(one("anywhere-svc", "{load_balancer: true, discovery: service-connect, "
                                  "placement_constraints: ['site ==']}"))
    assert [line.split(":")[1] for line in lines] == [
        "services[svc].instances[0].spec.placement_constraints[0]", "services[svc].instances[0].spec.load_balancer",
        "services[svc].instances[0].spec.discovery"]


# --- grammars -------------------------------------------------------------------------------------
@pytest.mark.parametrize("expression", [
    "rate(1 minute)", "rate(5 minutes)", "rate(12 hours)", "rate(1 day)",
    "cron(0 12 * * ? *)", "cron(15 3 ? * MON-FRI *)", "cron(0/15 * * * ? *)", "cron(0 8 1 * ? *)",
    "cron(0 18 ? * 6L *)", "cron(0 9 ? * 2#1 *)", "cron(0 10 L * ? *)", "cron(0 10 15W * ? 2030)",
    "cron(0,30 8-17 ? JAN-MAR,DEC SUN,SAT 2026-2030)", "at(2030-02-28T09:30:00)",
])
def test_schedules_eventbridge_accepts(expression: str) -> None:
    assert schedule_problem(expression) is None


@pytest.mark.parametrize(("expression", "why"), [
    ("rate(1 minutes)", "a rate of 1 takes the singular unit (minute)"),
    ("rate(5 minute)", "a rate above 1 takes the plural unit (minutes)"),
    ("rate(0 minutes)", "a rate must be at least 1"),
    ("rate(5 weeks)", "a rate is rate(<number> <minute(s)|hour(s)|day(s)>)"),
    ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week must be ? (the other one says which days)"),
    ("cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week must be ? (the other one says which days)"),
    ("cron(60 12 * * ? *)", "60 is outside minutes 0-59"),
    ("cron(0 24 * * ? *)", "24 is outside hours 0-23"),
    ("cron(0 12 32 * ? *)", "32 is outside day-of-month 1-31"),
    ("cron(0 12 * 13 ? *)", "13 is outside month 1-12"),
    ("cron(0 12 ? * 8 *)", "8 is outside day-of-week 1-7"),
    ("cron(0 12 ? * FUN *)", "FUN is not a value of day-of-week (1-7 or SUN-SAT)"),
    ("cron(0 12 * * ? 1969)", "1969 is outside year 1970-2199"),
    ("cron(0 17-9 * * ? *)", "17-9: a range of hours runs from low to high"),
    ("cron(*/0 * * * ? *)", "*/0: a step (/n) in minutes is a positive number"),
    ("cron(? 12 * * ? *)", "? is only for day-of-month or day-of-week, not minutes"),
    ("at(2030-02-30T09:00:00)", "at() names a date and time that does not exist"),
    ("every 5 minutes", "a schedule is rate(...), cron(...) or at(yyyy-mm-ddThh:mm:ss)"),
])
def test_schedules_eventbridge_rejects(expression: str, why: str) -> None:
    assert schedule_problem(expression) == why


@pytest.mark.parametrize(("text", "expression"), [
    ("gpu == true", "attribute:gpu == true"),
    ("attribute:site != plant-3", "attribute:site != plant-3"),
    ("ecs.os-type == linux", "attribute:ecs.os-type == linux"),
    ("site in [plant-3,plant-4]", "attribute:site in [plant-3, plant-4]"),
    ("rack exists", "attribute:rack exists"),
])
def test_placement_constraints_become_cluster_queries(text: str, expression: str) -> None:
    assert placement_expression(text) == (expression, "")


@pytest.mark.parametrize(("text", "why"), [
    ("gpu", "an expression is <attribute> <operator> [<value>]"),
    ("g!pu == true", "'g!pu' is not an attribute name (up to 128 letters, digits, hyphens, underscores, periods "
                     "and slashes)"),
    ("gpu ~ true", "'~' is not an operator (==, !=, exists, !exists, in, not_in)"),
    ("gpu == ", "== needs a value"),
    ("rack exists yes", "exists takes no value"),
    ("site in plant-3", "in takes a list of values: [a, b]"),
    ("site == plant 3", "'plant 3' is not an attribute value (letters, digits, - _ . @ / \\ :)"),
])
def test_placement_constraint_syntax_errors(text: str, why: str) -> None:
    assert placement_expression(text) == (None, why)
