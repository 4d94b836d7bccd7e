"""`keel diagram`: a Mermaid flowchart of the validated model, committed as docs/platform.md and drift-checked."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from keel import diagram
from keel.cli import main
from keel.spec import load_platform
from tests.spec.conftest import ROOT, Platform


@pytest.fixture(scope="module")
def default_model():  # type: ignore[no-untyped-def]
    return load_platform(ROOT / "platform.yaml")


def test_committed_platform_page_matches_the_default_platform(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/platform.md is generated (`keel diagram platform.yaml --out docs/platform.md`); it cannot drift."""
    assert main(["diagram", str(ROOT / "platform.yaml"), "--out", str(ROOT / "docs" / "platform.md"),
                 "--check"]) == 0, capsys.readouterr().err


def test_check_fails_on_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "platform.md"
    assert main(["diagram", str(ROOT / "platform.yaml"), "--out", str(page)]) == 0
    page.write_text(page.read_text().replace("staging", "stagin"))
    assert main(["diagram", str(ROOT / "platform.yaml"), "--out", str(page), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err


def test_every_environment_and_instance_is_a_node(default_model) -> None:  # type: ignore[no-untyped-def]
    text = diagram.render(default_model)
    assert text.startswith("flowchart LR\n")
    for env in default_model.environments:
        assert f'subgraph env_{env.name}["{env.name}: {env.template.label}' in text
    for inst in default_model.instances:
        assert f'{diagram.node_id("svc", inst.service, inst.name)}["{inst.service}/{inst.name}<br/>' in text


def test_shared_load_balancer_routes_to_its_instances(default_model) -> None:  # type: ignore[no-untyped-def]
    text = diagram.render(default_model)
    assert 'alb_staging[\\"shared load balancer<br/>HTTP internet-facing"/]' in text
    assert 'alb_staging -->|"/* (priority ' in text and "| svc_web_web_staging" in text


def test_bus_subscriptions_queues_and_schedules(default_model) -> None:  # type: ignore[no-untyped-def]
    text = diagram.render(default_model)
    assert 'bus_staging -->|"com.example.orders, Order Placed"| svc_invoicer_invoicer_staging_q' in text
    assert "svc_invoicer_invoicer_staging_q --> svc_invoicer_invoicer_staging" in text
    assert 'bus_dev -->|"keel.items-api, ItemCreated"| svc_items_worker_dev_q' in text
    assert 'svc_nightly_report_nightly_report_staging_sched(["cron(0 2 * * ? *)<br/>Europe/Dublin"])' in text


def test_hybrid_capacity_of_both_kinds(default_model) -> None:  # type: ignore[no-untyped-def]
    text = diagram.render(default_model)
    assert 'hybrid_staging[/"ECS Anywhere servers<br/>up to 20"/]' in text
    assert 'svc_plant_agent_plant_agent_staging -.->|"runs on site == plant-3"| hybrid_staging' in text
    assert 'nodes_edge[/"EKS hybrid nodes<br/>192.168.100.0/23"/]' in text
    assert 'eksa_edge -.->|"EKS Connector"| eks_edge' in text


def test_labels_are_mermaid_escaped() -> None:
    assert diagram.label('a "b" <c> #d | [e]') == "a #quot;b#quot; #lt;c#gt; #35;d #124; #91;e#93;"
    assert diagram.label("one", "two") == "one<br/>two"


def test_a_hostile_name_cannot_break_the_chart(platform: Platform) -> None:
    model = platform.load("""
        environments:
          - name: dev
            template: vpc-env:1
            spec: {vpc_cidr: 10.0.0.0/16}
    """)
    env = replace(model.environments[0], region='eu"]; click x "javascript:alert(1)')
    text = diagram.render(replace(model, environments=(env,)))
    subgraph = next(line for line in text.splitlines() if "subgraph" in line)
    assert subgraph.count('"') == 2 and "#quot;#93;; click" in subgraph


def test_components_are_drawn_when_the_model_has_them(default_model) -> None:  # type: ignore[no-untyped-def]
    class WithComponents:
        def __init__(self, model, components):  # type: ignore[no-untyped-def]
            self._model, self.components = model, components

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(self._model, name)

    comp = diagram.Component(name="cache", environment="staging", template="redis-cmp@1.0",
                             instance="web/web-staging", stack_name="keel-web-web-staging-cache")
    text = diagram.render(WithComponents(default_model, (comp,)), highlight={"keel-web-web-staging-cache"})  # type: ignore[arg-type]
    assert 'cmp_staging_web_web_staging_cache[/"component cache<br/>redis-cmp@1.0"/]' in text
    assert "cmp_staging_web_web_staging_cache -.- svc_web_web_staging" in text
    assert text.rstrip().endswith("class cmp_staging_web_web_staging_cache changed")


def test_highlight_and_only_draw_what_changed(default_model) -> None:  # type: ignore[no-untyped-def]
    changed = {"keel-web-web-staging"}
    only = diagram.environments_of(default_model, changed)
    text = diagram.render(default_model, highlight=changed, only=only)
    assert only == {"staging"}
    assert "subgraph env_staging" in text and "subgraph env_dev" not in text
    assert text.rstrip().endswith("class svc_web_web_staging changed")


def test_diagram_prints_mermaid_without_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", str(ROOT / "platform.yaml")]) == 0
    assert capsys.readouterr().out.startswith("flowchart LR\n")


def test_diagram_of_an_invalid_platform_exits_2(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    platform.write("environments: 3\n")
    assert main(["diagram", "platform.yaml"]) == 2
    assert "environments: has the wrong type" in capsys.readouterr().err
