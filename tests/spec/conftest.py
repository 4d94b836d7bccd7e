"""Spec-layer helpers: write a platform into tmp, load it with the real + test-only templates."""

from __future__ import annotations

import functools
import textwrap
from pathlib import Path

import pytest

from keel.contract.registry import Registry
from keel.spec import SpecError, load_platform
from keel.spec.model import PlatformModel
from keel.spec.registry import default_registry, load_registry

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "templates"


#: The platform the component tests start from (keel add component, components in the spec layer): one ecs-env 1.2
#: environment and one backend-fargate-svc 1.0 instance, with comments `keel add component` must keep.
LAB_PLATFORM = """name: lab  # the lab
environments:
  - name: dev
    template: ecs-env:1.2
    spec: {vpc_cidr: 10.60.0.0/16}
services:
  # the API
  - name: api
    template: backend-fargate-svc:1.0
    instances:
      - name: dev
        environment: dev
        spec: {port: 8080, subnet_type: private}  # keep me
"""


@functools.cache
def _fixture_templates() -> Registry:
    """Read once per process, as `default_registry()` is: the files never change during a run, and parsing their
    schemas again (~0.1 s of CPU) in each of the 150 tests that use them was a sixth of the spec tests' CPU."""
    return load_registry(FIXTURES)


def test_registry() -> Registry:
    return Registry(templates={**default_registry().templates, **_fixture_templates().templates})


test_registry.__test__ = False  # type: ignore[attr-defined]


class Platform:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, text: str, name: str = "platform.yaml") -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def load(self, text: str, **files: str) -> PlatformModel:
        for name, body in files.items():
            self.write(body, name.replace("__", "/").replace("_yaml", ".yaml"))
        return load_platform(self.write(text), registry=test_registry())

    def problems(self, text: str, **files: str) -> list[str]:
        with pytest.raises(SpecError) as info:
            self.load(text, **files)
        lines = [p.render() for p in info.value.problems]
        assert info.value.render().endswith("nothing was synthesized.")
        return lines


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Platform:
    monkeypatch.chdir(tmp_path)
    return Platform(tmp_path)
