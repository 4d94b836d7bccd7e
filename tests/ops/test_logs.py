"""`keel logs`: every log group of a service's stacks, interleaved by time, against moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from keel.cli import main
from keel.ops.aws import OpsError, select
from keel.ops.logs import log_sources, parse_since, stream
from keel.spec import load_platform
from tests.ops.conftest import PLATFORM, Deployed


def logs(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(["logs", *argv, "--platform", str(PLATFORM)])
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


def test_lines_of_every_group_interleaved_by_time_with_their_source(deployed: Deployed,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = logs(capsys, "api")
    assert code == 0
    assert [line.split(" ", 1)[1] for line in lines] == [
        "[dev/FunctionLogs] START RequestId: 1",
        '[dev/ApiAccessLogs] {"status": 200, "path": "/items"}',  # the API's access log, between the two
        "[dev/FunctionLogs] ERROR item not found"]
    stamps = [line.split(" ", 1)[0] for line in lines]
    assert stamps == sorted(stamps)


def test_since_leaves_older_lines_out(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    assert not any("three hours ago" in line for line in logs(capsys, "web")[1])
    assert any("three hours ago" in line for line in logs(capsys, "web", "--since", "4h")[1])


def test_filter_pattern_is_cloudwatchs(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    _, lines, _ = logs(capsys, "web", "--filter", "ERROR")
    assert [line.split(" ", 2)[2] for line in lines] == ["ERROR payment backend timed out"]


def test_json_is_one_object_a_line(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    _, lines, _ = logs(capsys, "web", "--instance", "web-staging", "--json")
    first = json.loads(lines[0])
    assert set(first) == {"time", "source", "log_group", "log_stream", "message"}
    assert (first["source"], first["message"]) == ("web-staging/TaskDefinitionWebLogs", "GET /shop/cart 200")
    assert first["log_group"] == deployed.log_groups["TaskDefinitionWebLogs6C8F0E21"]


def test_follow_polls_for_new_lines_and_stops_after_max_polls(deployed: Deployed) -> None:
    model = load_platform(PLATFORM)
    sources = log_sources(deployed.clients, select(model, service="web"))
    group = deployed.log_groups["TaskDefinitionWebLogs6C8F0E21"]
    client = deployed.client("logs")
    client.create_log_stream(logGroupName=group, logStreamName="web/web/follow")
    naps: list[float] = []

    def sleep(seconds: float) -> None:  # between polls, a new line arrives
        naps.append(seconds)
        client.put_log_events(logGroupName=group, logStreamName="web/web/follow", logEvents=[
            {"timestamp": int(datetime.now(UTC).timestamp() * 1000), "message": f"new line {len(naps)}"}])

    seen = [line.message for line in stream(deployed.clients, sources, since=datetime.now(UTC) - timedelta(hours=1),
                                            pattern=None, follow=True, interval=0.5, max_polls=3, sleep=sleep)]
    assert naps == [0.5, 0.5]  # three polls, two naps between them
    assert seen[-2:] == ["new line 1", "new line 2"] and len(seen) == len(set(seen))  # nothing shown twice


def test_since_accepts_durations_and_iso_times() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert parse_since("90m", now=now) == datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    assert parse_since("2026-12-01T09:00:00Z") == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(OpsError, match="neither a duration"):
        parse_since("yesterday")


def test_a_bad_since_exits_2_in_one_line(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = logs(capsys, "web", "--since", "soon")
    assert code == 2 and err.count("\n") == 1 and err.startswith('keel logs: --since: "soon" is neither')


def test_a_service_without_deployed_stacks_exits_2(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = logs(capsys, "worker")
    assert (code, err) == (2, "keel logs: no log group deployed for worker (are its stacks deployed?)\n")
