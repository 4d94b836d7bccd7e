"""`keel status` against the moto-backed deployed test platform."""

from __future__ import annotations

import json

import pytest

from keel.cli import main
from tests.ops.conftest import PLATFORM, Deployed


def status(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["status", *argv, "--platform", str(PLATFORM)])
    out = capsys.readouterr()
    return code, out.out, out.err


def rows(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, dict]:  # type: ignore[type-arg]
    code, out, _ = status(capsys, *argv, "--json")
    assert code == 0
    return {r["stack"]: r for r in json.loads(out)}


def test_one_row_per_stack_of_the_platform(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = status(capsys)
    table = out.splitlines()
    assert code == 0
    assert table[0].split()[:4] == ["stack", "name", "status", "updated"]
    assert [line.split()[0] for line in table[2:7]] == [
        "keel-dev", "keel-staging", "keel-web-web-staging", "keel-worker-worker-staging", "keel-api-dev"]


def test_deployed_template_against_the_pin_shows_drift(deployed: Deployed,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    found = rows(capsys)
    assert (found["keel-dev"]["deployed_template"], found["keel-dev"]["drifted"]) == ("vpc-env@1.2", False)
    staging = found["keel-staging"]
    assert (staging["deployed_template"], staging["pinned_template"], staging["drifted"]) == \
        ("ecs-env@1.0", "ecs-env@1.1", True)
    _, out, _ = status(capsys)
    assert "keel-staging: deployed ecs-env@1.0, the platform file pins ecs-env@1.1" in out


def test_a_stack_not_deployed_says_so(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    assert rows(capsys)["keel-worker-worker-staging"]["status"] == "NOT_DEPLOYED"


def test_ecs_counts_and_rollout(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    [ecs] = rows(capsys)["keel-web-web-staging"]["ecs"]
    assert (ecs["service"], ecs["desired"], ecs["rollout"]) == ("keel-web-web-staging", 3, "IN_PROGRESS")
    assert ecs["running"] + ecs["pending"] == 3


def test_lambda_errors_and_throttles_of_the_last_hour(deployed: Deployed,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert rows(capsys)["keel-api-dev"]["functions"] == [
        {"function": "keel-api-dev-handler", "errors": 3.0, "throttles": 1.0}]


def test_only_alarms_in_alarm_are_listed(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    found = rows(capsys)
    assert found["keel-web-web-staging"]["alarms"] == ["keel-web-web-staging-CpuHigh-1A2B3C"]
    assert found["keel-api-dev"]["alarms"] == []  # its alarm exists but is not in ALARM


def test_filters_by_environment_and_service(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    assert set(rows(capsys, "dev")) == {"keel-dev", "keel-api-dev"}
    assert set(rows(capsys, "staging", "web")) == {"keel-web-web-staging"}
    assert set(rows(capsys, "web")) == {"keel-web-web-staging"}  # a service name alone


def test_fail_exits_1_on_drift_alarms_or_missing_stacks(deployed: Deployed,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert status(capsys, "--fail")[0] == 1
    assert status(capsys, "dev", "--fail")[0] == 0


def test_an_unknown_environment_exits_2_naming_the_known(deployed: Deployed,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = status(capsys, "stagin")
    assert (code, err) == (2, 'keel status: unknown environment "stagin" (known: dev, staging)\n')
