"""What Copilot services had (issue 16, part 2), as the spec layer judges it: a static site's certificate must be in
us-east-1 and its files inside the repository, an external secret's ARN must match its source, a job with a
timeout or retries runs one task, and a worker subscribes only to topics of services placed in its environment,
which own them as sns-topic components."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from keel.spec import SpecError, load_platform

PLATFORM = Path(__file__).resolve().parents[1] / "infra" / "platforms" / "copilot.yaml"


def _doc() -> dict[str, Any]:
    return yaml.safe_load(PLATFORM.read_text())  # type: ignore[no-any-return]


def _spec(doc: dict[str, Any], service: str, n: int = 0) -> dict[str, Any]:
    entry = next(s for s in doc["services"] if s["name"] == service)
    return entry["instances"][n]["spec"]  # type: ignore[no-any-return]


def problems(change: Callable[[dict[str, Any]], None]) -> list[str]:
    """The test platform with one change, loaded in place (its site folder beside it), as rendered problems."""
    doc = _doc()
    change(doc)
    with pytest.raises(SpecError) as err:
        load_platform(PLATFORM, texts={PLATFORM: yaml.safe_dump(doc)})
    return [p.render().split(":", 1)[1] for p in err.value.problems]


def test_the_test_platform_validates() -> None:
    model = load_platform(PLATFORM)
    assert {s.name: s.template.label for s in model.services} == {
        "storefront": "static-site-svc@1.0", "report": "scheduled-fargate-svc@1.1",
        "orders": "backend-fargate-svc@1.1", "fulfil": "worker-fargate-svc@1.1"}


def test_static_site_certificate_outside_us_east_1_is_refused() -> None:
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0f9c6c1e-1111-2222-3333-444455556666"
    found = problems(lambda d: _spec(d, "storefront").update(certificate_arn=arn))
    assert len(found) == 1
    assert found[0].startswith("services[storefront].instances[0].spec.certificate_arn: is in region eu-west-1, and "
                               "CloudFront reads certificates only from us-east-1 (got \"arn:aws:acm:eu-west-1:")
    assert found[0].endswith("expected an ACM certificate ARN of region us-east-1 (request or import the certificate "
                             "there))")


def test_static_site_alias_needs_a_certificate() -> None:
    assert problems(lambda d: _spec(d, "storefront").pop("certificate_arn")) == [
        "services[storefront].instances[0].spec.certificate_arn: is required with alias (expected both alias and "
        "certificate_arn (in us-east-1), or neither)"]


@pytest.mark.parametrize("source", ["../../../..", "/etc"])
def test_static_site_files_must_stay_inside_the_repository(source: str) -> None:
    found = problems(lambda d: _spec(d, "storefront", 1).update(files=[{"source": source}]))
    assert len(found) == 1
    assert found[0].startswith("services[storefront].instances[1].spec.files[0].source: leads outside the project")


def test_static_site_files_must_be_a_folder() -> None:
    found = problems(lambda d: _spec(d, "storefront", 1).update(files=[{"source": "site/index.html"}]))
    assert len(found) == 1 and "spec.files[0].source: is not a folder" in found[0]


def test_an_external_secret_arn_must_match_its_source() -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"
    assert problems(lambda d: _spec(d, "orders").update(external_secrets=[{"name": "X", "reference": arn}])) == [
        f"services[orders].instances[0].spec.external_secrets[0].reference: is an ARN of secretsmanager, and source "
        f"is parameter (got \"{arn}\", expected an ARN of ssm, or source: secret)"]


def test_an_external_secret_cannot_set_a_variable_twice() -> None:
    def change(doc: dict[str, Any]) -> None:
        _spec(doc, "orders")["environment_variables"] = [{"name": "DB_URL", "value": "x"}]
    assert problems(change) == [
        "services[orders].instances[0].spec.external_secrets[0].name: sets DB_URL again (already set by "
        "environment_variables[0].name) (got \"DB_URL\", expected each variable once)"]


def test_external_secrets_are_not_an_input_of_1_0() -> None:
    def change(doc: dict[str, Any]) -> None:
        next(s for s in doc["services"] if s["name"] == "orders")["template"] = "backend-fargate-svc:1.0"
    found = problems(change)
    assert len(found) == 1 and found[0].startswith("services[orders].instances[0].spec.external_secrets: ")


def test_a_job_with_retries_runs_one_task() -> None:
    assert problems(lambda d: _spec(d, "report").update(desired_count=2)) == [
        "services[report].instances[0].spec.desired_count: runs one task per run when timeout_seconds or retries "
        "is set (Step Functions waits for that task) (got 2, expected 1, or neither timeout_seconds nor retries)"]


def test_a_topic_of_an_unknown_service_is_refused() -> None:
    assert problems(lambda d: _spec(d, "fulfil")["topics"].append({"service": "billing", "name": "paid"})) == [
        "services[fulfil].instances[0].spec.topics[2].service: names service \"billing\", which is not a service "
        "of the platform (got \"billing\", expected a service with an instance in environment \"apps\")"]


def test_a_topic_of_a_service_in_another_environment_is_refused() -> None:
    def change(doc: dict[str, Any]) -> None:
        _spec(doc, "fulfil")["topics"].append({"service": "storefront", "name": "x"})
        next(s for s in doc["services"] if s["name"] == "storefront")["instances"].pop(1)
    assert problems(change) == [
        "services[fulfil].instances[0].spec.topics[2].service: names service \"storefront\", which has no instance "
        "in environment \"apps\" (got \"storefront\", expected a service with an instance in environment \"apps\")"]


def test_a_topic_the_service_does_not_own_is_refused() -> None:
    assert problems(lambda d: _spec(d, "fulfil")["topics"].append({"service": "orders", "name": "shipped"})) == [
        "services[fulfil].instances[0].spec.topics[2].name: names sns-topic \"shipped\" of service \"orders\", whose "
        "instance in environment \"apps\" owns no sns-topic component of that name (got \"shipped\", expected the "
        "name of one of its sns-topic components (ordered, refunds))"]


def test_a_topic_needs_an_sns_topic_component_not_another_kind() -> None:
    def change(doc: dict[str, Any]) -> None:
        orders = next(s for s in doc["services"] if s["name"] == "orders")["instances"][0]
        orders["components"] = [{"kind": "sqs-queue", "name": "ordered"}, {"kind": "sns-topic", "name": "refunds"}]
    assert problems(change) == [
        "services[fulfil].instances[0].spec.topics[0].name: names sns-topic \"ordered\" of service \"orders\", whose "
        "instance in environment \"apps\" owns no sns-topic component of that name (got \"ordered\", expected the "
        "name of one of its sns-topic components (refunds))"]


def test_a_topic_of_a_service_with_no_components_says_how_to_add_one() -> None:
    def change(doc: dict[str, Any]) -> None:
        next(s for s in doc["services"] if s["name"] == "orders")["instances"][0].pop("components")
    found = problems(change)
    assert len(found) == 2
    assert found[1] == (
        "services[fulfil].instances[0].spec.topics[1].name: names sns-topic \"refunds\" of service \"orders\", whose "
        "instance in environment \"apps\" owns no sns-topic component of that name (got \"refunds\", expected the "
        "name of one of its sns-topic components (it has none: add {kind: sns-topic, name: refunds} to its "
        "components))")


def test_a_filter_policy_is_attribute_to_match_conditions() -> None:
    def change(doc: dict[str, Any]) -> None:
        _spec(doc, "fulfil")["topics"][0]["filter_policy"] = {"event": "placed"}
    assert problems(change) == [
        "services[fulfil].instances[0].spec.topics[0].filter_policy.event: is not a list of match conditions (got "
        "\"placed\", expected a list such as [order_placed] or [{prefix: eu-}])"]


def test_a_job_runs_in_a_state_machine_only_with_a_timeout_or_retries() -> None:
    from keel.templates.scheduled_fargate_svc.inputs import runs_in_state_machine

    doc = _doc()
    job = next(s for s in doc["services"] if s["name"] == "report")
    extras = (("plain", {}), ("timeout", {"timeout_seconds": 60}), ("retry", {"retries": 1}))
    job["instances"] = [{"name": n, "environment": "apps", "spec": {**extra, "schedule_expression": "rate(1 hour)"}}
                        for n, extra in extras]
    model = load_platform(PLATFORM, texts={PLATFORM: yaml.safe_dump(doc)})
    assert {i.name: runs_in_state_machine(i.inputs) for i in model.service("report").instances} == {  # type: ignore[arg-type]
        "plain": False, "timeout": True, "retry": True}
