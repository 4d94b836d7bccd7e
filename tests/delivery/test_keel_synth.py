"""`keel synth --jobs N` writes the assembly `cdk synth` writes, reuses unchanged stacks, and fails cleanly.

One small platform (tests/delivery/platforms/parallel.yaml: 3 stacks, a Lambda code asset), synthesized once by
`cdk synth` and once by `keel synth --jobs 2`, then re-synthesized from the cache; CloudFormation validation off
(CDK_VALIDATION=false, ~4 s a process), nag on. The comparison after every kind of change, with validation on,
is in tests/conformance/test_incremental_synth_every_change.py.

Every worker of a `keel synth` that builds stacks is a CDK app (~7 s of CPU). make test runs four apps: `cdk
synth`'s, the first `keel synth`'s two workers, the one-changed-instance synth's; the fully reused synth runs
none. The two tests marked `heavy` (make conformance) are heavy variants of checks kept here: a whole
`--no-cache` synth (here: what `--no-cache` drops and keeps, and the cold-cache synth that builds every stack
as `cdk synth` does) and `cdk ls` on the assembly (here: its manifest is the one `cdk synth` wrote and read).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from keel.cdk_context import ROOT
from keel.delivery.assembly_compare import differences
from keel.delivery.model_pickle import REGISTRY_DIR
from keel.delivery.parallel import CROSS_STACK_REFERENCES
from keel.delivery.standby import FOLDER as STANDBY_DIR
from keel.delivery.synth_command import PARSED_DIR, drop_stacks

pytestmark = pytest.mark.early  # four CDK apps in subprocesses

PLATFORM = ROOT / "tests" / "delivery" / "platforms" / "parallel.yaml"
STACKS = ["keel-lab", "keel-quiet", "keel-sweeper-lab"]


def _env() -> dict[str, str]:
    return dict(os.environ, PATH=f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
                CDK_VALIDATION="false", PYTHONDONTWRITEBYTECODE="1")


def keel_synth(*args: str, platform: Path = PLATFORM, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "keel", "synth", "--platform", str(platform), "--quiet", *args],
                          cwd=cwd, env=_env(), capture_output=True, text=True, check=False)


@dataclass(frozen=True)
class Synths:
    plain: Path
    parallel: Path
    cache: Path
    first: subprocess.CompletedProcess[str]
    again: subprocess.CompletedProcess[str]
    again_out: Path


@pytest.fixture(scope="module")
def synths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synths]:
    work = tmp_path_factory.mktemp("keel-synth")
    plain = work / "plain.out"
    subprocess.run(["npx", "cdk", "synth", "--quiet", "-o", str(plain), "-c", f"keel:platform={PLATFORM}"],
                   cwd=ROOT, env=_env(), capture_output=True, text=True, check=True)
    cache = work / "cache"
    first = keel_synth("--jobs", "2", "--out", str(work / "parallel.out"), "--cache-dir", str(cache))
    again = keel_synth("--jobs", "2", "--out", str(work / "again.out"), "--cache-dir", str(cache))
    yield Synths(plain, work / "parallel.out", cache, first, again, work / "again.out")


def test_two_workers_write_what_cdk_synth_writes(synths: Synths) -> None:
    assert synths.first.returncode == 0, synths.first.stderr
    assert "3 built in 2 worker(s), 0 reused" in synths.first.stdout
    assert differences(synths.plain, synths.parallel) == []


def test_templates_and_lambda_assets_are_byte_identical(synths: Synths) -> None:
    assets = sorted(p.name for p in synths.plain.glob("asset.*"))
    assert assets, "the platform has a Lambda: cdk synth stages its code under asset.*"
    for name in [*(f"{s}.template.json" for s in STACKS), *(f"{s}.assets.json" for s in STACKS)]:
        assert (synths.parallel / name).read_bytes() == (synths.plain / name).read_bytes(), name
    assert sorted(p.name for p in synths.parallel.glob("asset.*")) == assets


@pytest.mark.heavy  # a CDK CLI process; make test: the manifest equals the one `cdk synth` wrote and read
def test_the_cdk_cli_reads_the_assembly(synths: Synths) -> None:
    listed = subprocess.run(["npx", "cdk", "ls", "--app", str(synths.parallel)], cwd=ROOT, env=_env(),
                            capture_output=True, text=True, check=True)
    assert listed.stdout.split() == STACKS


def test_instance_stacks_deploy_after_their_environment(synths: Synths) -> None:
    manifest = json.loads((synths.parallel / "manifest.json").read_text())
    assert "keel-lab" in manifest["artifacts"]["keel-sweeper-lab"]["dependencies"]


def test_a_second_synth_reuses_every_stack_byte_for_byte(synths: Synths) -> None:
    assert synths.again.returncode == 0, synths.again.stderr
    assert "0 built in 0 worker(s), 3 reused" in synths.again.stdout
    assert differences(synths.parallel, synths.again_out) == []


def test_one_changed_instance_is_the_only_stack_rebuilt(synths: Synths, tmp_path: Path) -> None:
    changed = tmp_path / "parallel.yaml"  # the loader wants code_dir beside the platform file: a copy
    changed.write_text(PLATFORM.read_text().replace("rate(6 hours)", "rate(3 hours)")
                       .replace("../../../lambda_src", "lambda_src"))
    shutil.copytree(ROOT / "lambda_src" / "scheduled_job", tmp_path / "lambda_src" / "scheduled_job")
    cache = tmp_path / "cache"
    shutil.copytree(synths.cache, cache)
    result = keel_synth("--out", str(tmp_path / "incremental.out"), "--cache-dir", str(cache), platform=changed)
    assert result.returncode == 0, result.stderr
    # With cross-stack references, the environment's template depends on its instances: it rebuilds with them.
    expected = "2 built in 1 worker(s), 1 reused" if CROSS_STACK_REFERENCES else "1 built in 1 worker(s), 2 reused"
    assert expected in result.stdout
    template = json.loads((tmp_path / "incremental.out" / "keel-sweeper-lab.template.json").read_text())
    assert "rate(3 hours)" in json.dumps(template)
    assert (tmp_path / "incremental.out" / "keel-quiet.template.json").read_bytes() == \
        (synths.parallel / "keel-quiet.template.json").read_bytes()


def test_no_cache_drops_every_cached_stack_and_keeps_the_parsed_registry(tmp_path: Path) -> None:
    """Kept: the parsed registry (keyed by Keel's code), parsed YAML (keyed by its text), the standby workers'
    sockets (a worker, not a cached result)."""
    cache = tmp_path / "cache"
    kept = sorted([REGISTRY_DIR, PARSED_DIR, STANDBY_DIR])
    for name in ("keel-lab-0123abcd", "skeleton", *kept):
        (cache / name).mkdir(parents=True)
        (cache / name / "entry.json").write_text("{}")
    (cache / "stale-file").write_text("x")
    drop_stacks(cache)
    assert sorted(p.name for p in cache.iterdir()) == kept
    assert all((cache / name / "entry.json").read_text() == "{}" for name in kept)
    drop_stacks(tmp_path / "no-such-cache")  # nothing cached yet: nothing to do


def test_no_cache_drops_the_cache_dir_before_the_synth_starts(synths: Synths, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import keel.delivery.parallel as parallel
    from keel.cli import main

    cache = tmp_path / "cache"
    shutil.copytree(synths.cache, cache)  # its stacks, and the parsed registry (read from it, not parsed again)
    (cache / "keel-lab-0123abcd").mkdir(parents=True)
    seen: list[list[str]] = []

    class Stop:  # stands in for the synth and its workers (the heavy test runs them)
        def __init__(self, request: object) -> None:
            seen.append(sorted(p.name for p in cache.iterdir()))
            raise parallel.SynthFailed("stopped before any worker", 2)

    monkeypatch.setattr(parallel, "Synthesis", Stop)
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))  # keel synth puts the project's Node first
    monkeypatch.chdir(ROOT)
    assert main(["synth", "--platform", str(PLATFORM), "--no-cache", "--cache-dir", str(cache), "--quiet"]) == 2
    assert seen == [sorted([REGISTRY_DIR, PARSED_DIR])]  # the first synth's parsed registry and YAML


@pytest.mark.heavy  # a third CDK app; make test: the test above and the cold-cache synth (3 built, as cdk synth)
def test_no_cache_drops_the_cache_and_builds_every_stack(synths: Synths, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(synths.cache, cache)
    stale = cache / "stale-entry"
    stale.mkdir()
    out = tmp_path / "cdk.out"
    result = keel_synth("--jobs", "1", "--no-cache", "--out", str(out), "--cache-dir", str(cache))
    assert result.returncode == 0, result.stderr
    assert "3 built in 1 worker(s), 0 reused" in result.stdout
    assert not stale.exists()
    # this synth's stacks, afresh (the parsed template registry, keyed by Keel's code, and the parsed YAML
    # documents, keyed by their text, are kept)
    assert len([p for p in cache.iterdir() if p.name not in ("skeleton", "registry", "yaml")]) == 3
    assert differences(synths.plain, out) == []
