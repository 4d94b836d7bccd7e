"""`keel synth` on a platform with delivery stacks (a deploy pipeline whose stages hold the environments, and
service pipelines) builds the whole app in one worker, writes what its app writes, and reuses the whole
assembly only while nothing in the platform changed.

tests/delivery/platforms/pipeline.yaml (5 stacks: 3 in pipeline stages, the pipeline, a service pipeline),
synthesized twice by `keel synth` and (`heavy`: make conformance) once by app.py as the CDK CLI runs it (its
context and environment), CloudFormation validation off (as tests/delivery/test_keel_synth.py). Not by `cdk
synth` itself: a pipeline needs accounts, a stack with an account looks its AZs up, and the CLI, failing that
lookup without credentials, adds error annotations that no synth without the CLI writes. The whole key's
coverage is checked without synthesizing.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from keel.cdk_context import ROOT
from keel.delivery.assembly_compare import differences
from keel.delivery.parallel import count_stacks, worker_env
from keel.delivery.synth import context_of
from keel.delivery.synth_cache import KeyMaker
from keel.spec import load_platform
from tests.delivery.test_keel_synth import _env, keel_synth

pytestmark = pytest.mark.early  # a CDK app in a subprocess

PLATFORM = ROOT / "tests" / "delivery" / "platforms" / "pipeline.yaml"


@dataclass(frozen=True)
class Synths:
    first: subprocess.CompletedProcess[str]
    first_out: Path
    again: subprocess.CompletedProcess[str]
    again_out: Path


@pytest.fixture(scope="module")
def synths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synths]:
    work = tmp_path_factory.mktemp("keel-synth-delivery")
    cache = work / "cache"
    first = keel_synth("--jobs", "2", "--out", str(work / "first.out"), "--cache-dir", str(cache), platform=PLATFORM)
    again = keel_synth("--jobs", "2", "--out", str(work / "again.out"), "--cache-dir", str(cache), platform=PLATFORM)
    yield Synths(first, work / "first.out", again, work / "again.out")


def test_a_delivery_platform_is_built_whole_in_one_worker(synths: Synths) -> None:
    assert synths.first.returncode == 0, synths.first.stderr
    assert count_stacks(synths.first_out) == 5
    assert "5 stack(s)" in synths.first.stdout
    assert "5 built in 1 worker(s), 0 reused" in synths.first.stdout


@pytest.mark.heavy  # a third CDK app; make test: the whole build and its byte-for-byte reuse
def test_a_delivery_platform_assembly_is_what_its_app_writes(synths: Synths, tmp_path: Path) -> None:
    plain = tmp_path / "plain.out"
    plain.mkdir()
    env = worker_env(root=ROOT, outdir=plain, context=context_of(ROOT), platform=str(PLATFORM), stacks=None,
                     validation=False)
    subprocess.run([sys.executable, "app.py"], cwd=ROOT, env={**_env(), **env}, capture_output=True, text=True,
                   check=True)
    assert count_stacks(plain) == 5
    assert differences(plain, synths.first_out) == []


def test_an_unchanged_delivery_platform_is_reused_whole_byte_for_byte(synths: Synths) -> None:
    assert synths.again.returncode == 0, synths.again.stderr
    assert "0 built in 0 worker(s), 5 reused" in synths.again.stdout
    assert differences(synths.first_out, synths.again_out) == []


def _whole_key(text: str | None = None, context: dict[str, object] | None = None) -> str:
    texts = {PLATFORM.resolve(): text} if text is not None else None
    model = load_platform(PLATFORM, texts=texts)
    maker = KeyMaker(root=ROOT, model=model, context=context or {}, switches={"validation": False})
    return maker.whole_key(maker.shared())


@pytest.mark.parametrize("change", [
    ("rate(12 hours)", "rate(2 hours)"),  # an instance
    ("vpc_cidr: 10.72.0.0/16", "vpc_cidr: 10.73.0.0/16"),  # an environment without services
    ("repository: acme/tidy", "repository: acme/tidy-fork"),  # a service pipeline
    ("branch: main", "branch: trunk"),  # the deploy pipeline
    ("scheduled-lambda-svc:1.1", "scheduled-lambda-svc:1.2"),  # a template version
])
def test_any_change_in_the_platform_changes_the_whole_key(change: tuple[str, str]) -> None:
    text = PLATFORM.read_text()
    assert change[0] in text
    assert _whole_key(text.replace(*change)) != _whole_key(text)


def test_a_context_change_changes_the_whole_key() -> None:
    assert _whole_key(context={"@aws-cdk/core:flag": True}) != _whole_key()
