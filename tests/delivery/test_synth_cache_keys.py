"""Which stacks a change rebuilds: `keel synth`'s cache keys, per kind of change (no CDK app runs here).

That a reused stack is byte for byte what a full synth writes is checked in test_keel_synth.py and, after
every kind of change, in tests/conformance/test_incremental_synth_every_change.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from keel.cdk_context import ROOT
from keel.delivery.parallel import CROSS_STACK_REFERENCES, plan
from keel.delivery.synth_cache import LOCKFILES, KeyMaker
from keel.spec import load_platform

PLATFORM = ROOT / "tests" / "delivery" / "platforms" / "parallel.yaml"
STACKS = ("keel-lab", "keel-quiet", "keel-sweeper-lab")
#: With cross-stack references an environment's key covers its instances: they change it too.
INSTANCE_CHANGE = {"keel-sweeper-lab", "keel-lab"} if CROSS_STACK_REFERENCES else {"keel-sweeper-lab"}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what the keys read (keel/, app.py, lambda_src/, lockfiles) and of the platform, to edit."""
    root = tmp_path_factory.mktemp("tree")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("keel", "lambda_src"):
        shutil.copytree(ROOT / name, root / name, ignore=ignore)
    for name in ("app.py", *LOCKFILES):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, root / name)
    return root


def keys(tree: Path, platform_text: str | None = None, context: dict[str, object] | None = None,
         edit: Callable[[Path], None] | None = None) -> dict[str, str]:
    """The keys of the platform (written inside the tree, beside a copy of its Lambda's code)."""
    work = tree / "platform"
    work.mkdir(exist_ok=True)
    platform = work / "parallel.yaml"
    platform.write_text((platform_text or PLATFORM.read_text()).replace("../../../lambda_src", "lambda_src"))
    if not (work / "lambda_src").exists():
        shutil.copytree(ROOT / "lambda_src" / "scheduled_job", work / "lambda_src" / "scheduled_job")
    if edit is not None:
        edit(tree)
    model = load_platform(platform)
    maker = KeyMaker(root=tree, model=model, context=context or {"@aws-cdk/core:flag": True},
                     switches={"validation": False})
    return {u.name: str(u.key) for u in plan(model, maker)}


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in STACKS if before[name] != after[name]}


@pytest.fixture(scope="module")
def before(tree: Path) -> dict[str, str]:
    return keys(tree)


def test_the_same_inputs_give_the_same_keys(tree: Path, before: dict[str, str]) -> None:
    assert keys(tree) == before


def test_one_instance_spec_changes_that_instance(tree: Path, before: dict[str, str]) -> None:
    text = PLATFORM.read_text().replace("rate(6 hours)", "rate(3 hours)")
    assert changed(before, keys(tree, text)) == INSTANCE_CHANGE


def test_one_environment_spec_changes_it_and_its_services(tree: Path, before: dict[str, str]) -> None:
    text = PLATFORM.read_text().replace("flow_log_retention_days: 14", "flow_log_retention_days: 30")
    assert changed(before, keys(tree, text)) == {"keel-lab", "keel-sweeper-lab"}


def test_a_template_version_bump_changes_its_instance(tree: Path, before: dict[str, str]) -> None:
    text = PLATFORM.read_text().replace("scheduled-lambda-svc:1.0", "scheduled-lambda-svc:1.1")
    assert changed(before, keys(tree, text)) == INSTANCE_CHANGE


def test_a_template_folder_change_rebuilds_only_its_users(tree: Path, before: dict[str, str],
                                                          tmp_path: Path) -> None:
    copy = tmp_path / "tree"
    shutil.copytree(tree, copy)
    builder = copy / "keel" / "templates" / "scheduled_lambda_svc" / "builder.py"
    after = keys(copy, edit=lambda _: builder.write_text(builder.read_text() + "\n# edited\n"))
    assert changed(before, after) == INSTANCE_CHANGE


def test_a_construct_change_rebuilds_everything(tree: Path, before: dict[str, str], tmp_path: Path) -> None:
    copy = tmp_path / "tree"
    shutil.copytree(tree, copy)
    construct = copy / "keel" / "constructs" / "function.py"
    after = keys(copy, edit=lambda _: construct.write_text(construct.read_text() + "\n# edited\n"))
    assert changed(before, after) == set(STACKS)


def test_a_lambda_code_change_rebuilds_its_function_stack(tree: Path, before: dict[str, str],
                                                          tmp_path: Path) -> None:
    copy = tmp_path / "tree"
    shutil.copytree(tree, copy)
    keys(copy)
    handler = copy / "platform" / "lambda_src" / "scheduled_job" / "edited.py"
    after = keys(copy, edit=lambda _: handler.write_text("# edited\n"))
    assert "keel-sweeper-lab" in changed(before, after)
    assert "keel-quiet" not in changed(before, after)


def test_a_cdk_context_change_rebuilds_everything(tree: Path, before: dict[str, str]) -> None:
    assert changed(before, keys(tree, context={"@aws-cdk/core:flag": False})) == set(STACKS)


def test_a_lockfile_change_rebuilds_everything(tree: Path, before: dict[str, str], tmp_path: Path) -> None:
    copy = tmp_path / "tree"
    shutil.copytree(tree, copy)
    lock = copy / "requirements.txt"
    after = keys(copy, edit=lambda _: lock.write_text(lock.read_text() + "\n# edited\n"))
    assert changed(before, after) == set(STACKS)
