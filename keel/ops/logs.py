"""`keel logs`: a service's log groups (containers, functions, API access logs) interleaved by time."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from keel.ops.aws import Clients, OpsError, Target, stack_resources

_DURATION = re.compile(r"^([0-9]+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_CDK_SUFFIX = re.compile(r"[0-9A-F]{8}$")  # the hash CDK appends to a logical ID


@dataclass(frozen=True)
class LogSource:
    label: str  # <instance>/<what>, e.g. web-staging/ServiceTaskDefinitionWebLogs
    group: str  # the log group name
    region: str | None


@dataclass(frozen=True)
class LogLine:
    timestamp: int  # milliseconds since the epoch
    source: str
    group: str
    stream: str
    message: str
    event_id: str

    @property
    def time(self) -> str:
        return datetime.fromtimestamp(self.timestamp / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "source": self.source, "log_group": self.group, "log_stream": self.stream,
                "message": self.message}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """`30s`, `15m`, `1h`, `2d`, `1w`, or an ISO 8601 time."""
    match = _DURATION.match(text.strip())
    now = now or datetime.now(UTC)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise OpsError(f'--since: "{text}" is neither a duration (30s, 15m, 1h, 2d, 1w) nor an ISO time '
                       "(2026-12-01T09:00:00Z)") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def log_sources(call: Clients, targets: Sequence[Target]) -> list[LogSource]:
    """Every `AWS::Logs::LogGroup` of the instances' stacks: the names CDK generated, as deployed."""
    out = []
    for target in targets:
        for resource in stack_resources(call, target, "AWS::Logs::LogGroup"):
            if resource.get("PhysicalResourceId"):
                what = _CDK_SUFFIX.sub("", resource["LogicalResourceId"]) or resource["LogicalResourceId"]
                out.append(LogSource(label=f"{target.instance}/{what}", group=resource["PhysicalResourceId"],
                                     region=target.region))
    return out


def fetch(call: Clients, sources: Sequence[LogSource], *, start_ms: int, pattern: str | None,
          seen: set[str] | None = None) -> list[LogLine]:
    """Every event since `start_ms` in every source, oldest first; `seen` skips event IDs already shown."""
    import botocore.exceptions

    lines: list[LogLine] = []
    for source in sources:
        logs = call("logs", source.region)
        kwargs: dict[str, Any] = {"logGroupName": source.group, "startTime": start_ms}
        if pattern:
            kwargs["filterPattern"] = pattern
        try:
            for page in logs.get_paginator("filter_log_events").paginate(**kwargs):
                for event in page.get("events", []):
                    event_id = str(event.get("eventId") or f"{source.group}:{event['timestamp']}:{event['message']}")
                    if seen is not None and event_id in seen:
                        continue
                    lines.append(LogLine(timestamp=int(event["timestamp"]), source=source.label,
                                         group=source.group, stream=str(event.get("logStreamName", "")),
                                         message=str(event.get("message", "")).rstrip("\n"), event_id=event_id))
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            continue  # the group was deleted since the stack listed it
    lines.sort(key=lambda line: (line.timestamp, line.source))
    if seen is not None:
        seen.update(line.event_id for line in lines)
    return lines


def stream(call: Clients, sources: Sequence[LogSource], *, since: datetime, pattern: str | None, follow: bool,
           interval: float = 2.0, max_polls: int | None = None,
           sleep: Callable[[float], None] = time.sleep) -> Iterator[LogLine]:
    """The lines since `since`; with `follow`, poll every `interval` seconds for new ones (`max_polls`
    bounds the loop: tests, and a person who passes --max-polls)."""
    seen: set[str] = set()
    start = int(since.timestamp() * 1000)
    polls = 0
    while True:
        batch = fetch(call, sources, start_ms=start, pattern=pattern, seen=seen)
        yield from batch
        if batch:
            start = max(start, batch[-1].timestamp)  # the same millisecond again: `seen` drops repeats
        polls += 1
        if not follow or (max_polls is not None and polls >= max_polls):
            return
        sleep(interval)


PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan", "bright_magenta")


def colours(sources: Sequence[LogSource]) -> dict[str, str]:
    return {s.label: PALETTE[n % len(PALETTE)] for n, s in enumerate(sorted({s.label: s for s in sources}.values(),
                                                                            key=lambda s: s.label))}
