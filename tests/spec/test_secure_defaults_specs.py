"""Issue 13's safe defaults in the spec layer: production refuses a plaintext load balancer (every ecs-env
version) and a public API (every lambda-api-svc version, unless 1.1 says so); ecs-env 1.2 asks a production
environment whether its load balancer faces the internet and turns the web ACL on there. No aws_cdk."""

from __future__ import annotations

import pytest

from keel.templates.ecs_env.inputs import LoadBalancerInputsV12
from tests.spec.conftest import Platform

CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f9c6c1e-1111-2222-3333-444455556666"


def ecs_env(version: str, load_balancer: str, *, production: bool) -> str:
    return f"""
        name: t
        environments:
          - name: edge
            template: ecs-env:{version}
            region: eu-west-1
            availability_zones: [eu-west-1a, eu-west-1b]
            production: {str(production).lower()}
            spec:
              load_balancer: {load_balancer}
        """


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_production_refuses_a_plaintext_load_balancer_in_every_version(platform: Platform, version: str) -> None:
    lines = platform.problems(ecs_env(version, "{enabled: true, internet_facing: true}", production=True))
    assert lines == ['platform.yaml:environments[edge].spec.load_balancer.protocol: a production environment\'s '
                     'load balancer must not serve plaintext (got "HTTP", expected protocol HTTPS with a '
                     'certificate_arn (port 80 then only redirects to HTTPS))']


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_non_production_may_ask_for_plain_http(platform: Platform, version: str) -> None:
    model = platform.load(ecs_env(version, "{enabled: true, protocol: HTTP}", production=False))
    lb = model.environments[0].inputs.load_balancer
    assert not lb.https and lb.is_internet_facing


def test_production_with_a_certificate_is_accepted_by_1_0(platform: Platform) -> None:
    model = platform.load(ecs_env("1.0", f"{{enabled: true, protocol: HTTPS, certificate_arn: '{CERT}'}}",
                                  production=True))
    assert model.environments[0].inputs.load_balancer.https


def test_1_2_production_must_state_whether_the_load_balancer_faces_the_internet(platform: Platform) -> None:
    lines = platform.problems(ecs_env("1.2", f"{{enabled: true, protocol: HTTPS, certificate_arn: '{CERT}'}}",
                                      production=True))
    assert lines == ["platform.yaml:environments[edge].spec.load_balancer.internet_facing: must be stated on a "
                     "production environment (expected true (public subnets, reachable from "
                     "ingress_cidrs) or false (internal))"]


def test_1_2_non_production_omitting_internet_facing_keeps_1_1s_internet_facing(platform: Platform) -> None:
    lb = platform.load(ecs_env("1.2", "{enabled: true}", production=False)).environments[0].inputs.load_balancer
    assert lb.internet_facing is None and lb.is_internet_facing


def test_1_2_web_acl_is_on_by_default_in_production_only(platform: Platform) -> None:
    prod = platform.load(ecs_env("1.2", f"{{enabled: true, protocol: HTTPS, certificate_arn: '{CERT}', "
                                        "internet_facing: false}", production=True)).environments[0]
    dev = platform.load(ecs_env("1.2", "{enabled: true}", production=False)).environments[0]
    assert isinstance(prod.inputs.load_balancer, LoadBalancerInputsV12)
    assert prod.inputs.load_balancer.web_acl_rule_groups(True) == (
        "AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
    assert dev.inputs.load_balancer.web_acl_rule_groups(False) is None


def test_1_2_web_acl_can_be_turned_on_outside_production_and_off_in_it(platform: Platform) -> None:
    dev = platform.load(ecs_env("1.2", "{enabled: true, waf: {enabled: true, rule_groups: "
                                       "[AWSManagedRulesSQLiRuleSet]}}", production=False)).environments[0]
    assert dev.inputs.load_balancer.web_acl_rule_groups(False) == ("AWSManagedRulesSQLiRuleSet",)
    prod = platform.load(ecs_env("1.2", f"{{enabled: true, protocol: HTTPS, certificate_arn: '{CERT}', "
                                        "internet_facing: true, waf: {enabled: false}}", production=True))
    assert prod.environments[0].inputs.load_balancer.web_acl_rule_groups(True) is None


def test_1_0_and_1_1_have_no_web_acl_input(platform: Platform) -> None:
    lines = platform.problems(ecs_env("1.1", "{enabled: true, waf: {enabled: true}}", production=False))
    assert len(lines) == 1 and "spec.load_balancer" in lines[0] and "waf" in lines[0]


def api(version: str, spec: str, *, production: bool) -> str:
    return f"""
        name: t
        environments:
          - name: live
            template: vpc-env:1
            region: eu-west-1
            availability_zones: [eu-west-1a, eu-west-1b]
            production: {str(production).lower()}
        services:
          - name: items
            template: lambda-api-svc:{version}
            pipeline: {{code_dir: code}}
            instances:
              - name: live
                environment: live
                spec: {spec}
        """


@pytest.fixture
def code(platform: Platform) -> None:
    platform.write("def handler(event, context):\n    return {}\n", "code/handler.py")


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_production_refuses_a_public_api_in_every_version(platform: Platform, code: None, version: str) -> None:
    lines = platform.problems(api(version, "{authorizer: none}", production=True))
    assert lines == ['platform.yaml:services[items].instances[0].spec.authorizer: would make a public API on a '
                     'production environment (got "none", expected iam or jwt, or (lambda-api-svc 1.1) '
                     'allow_public_on_production: true to say it is meant)']


def test_1_1_allows_a_public_api_on_production_when_the_spec_says_so(platform: Platform, code: None) -> None:
    model = platform.load(api("1.1", "{authorizer: none, allow_public_on_production: true}", production=True))
    assert model.services[0].instances[0].inputs.authorizer == "none"


def test_a_public_api_outside_production_needs_no_switch(platform: Platform, code: None) -> None:
    model = platform.load(api("1.0", "{authorizer: none}", production=False))
    assert model.services[0].instances[0].inputs.authorizer == "none"


def test_the_default_platform_shows_an_authorizer_on_its_example_api() -> None:
    from keel.cdk_context import ROOT
    from keel.spec import load_platform

    items = next(s for s in load_platform(ROOT / "platform.yaml").services if s.name == "items-api")
    assert all(i.inputs.authorizer in ("iam", "jwt") for i in items.instances)
