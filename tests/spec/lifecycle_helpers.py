"""Shared by the lifecycle tests: run the `keel` CLI in-process and capture what it prints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from keel.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
REGISTRY = FIXTURES / "registry"


@dataclass
class Run:
    code: int
    out: str
    err: str


def keel(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)
