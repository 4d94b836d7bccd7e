"""Inputs of the test-only echo-svc template."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EchoInputs:
    message: str
    image: str


@dataclass(frozen=True)
class EchoPipelineInputs:
    service_dir: str
    dockerfile: str
    unit_test_command: str
