"""The layering rules, checked in a fresh interpreter (xdist workers share modules across test files).

One interpreter for all of them (a fresh one costs ~1-4 s of CPU each): it takes the steps below in turn and
records, after each, the CDK modules it has imported so far. A step that imports aws_cdk fails its own test and
every later one, so the first failing test names the culprit; a step that raises fails its own test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CDK = ("aws_cdk", "constructs", "jsii", "cdk_nag")


def _import_all(modules: Iterable[str]) -> str:
    return f"for m in {sorted(modules)!r}:\n    importlib.import_module(m)\n"


# (name, code), run in this order in one interpreter (cwd: the project). `ECS_PLATFORM`: a file the fixture writes.
STEPS: list[tuple[str, str]] = [
    ("spec layer, CLI and template inputs",
     "from keel.spec.registry import default_registry\n"
     "inputs = sorted({v.inputs.partition(':')[0] for v in default_registry().all_versions()})\n"
     "for m in ['keel.spec', 'keel.cli', 'keel.contract', 'keel.spec.registry', 'keel.netplan', 'keel.ops.commands',\n"
     "          'keel.ops.status', 'keel.ops.logs', 'keel.ops.execute', 'keel.ops.config', 'keel.ops.history',\n"
     "          'keel.diagram', *inputs]:\n"
     "    importlib.import_module(m)\n"),
    ("lifecycle verbs", _import_all(["keel.cli", "keel.lifecycle.compat", "keel.lifecycle.outdated",
                                     "keel.lifecycle.upgrade", "keel.lifecycle.docs", "keel.lifecycle.proton_import"])),
    ("validating an ecs-env platform", "from keel.spec import load_platform\nload_platform(ECS_PLATFORM)\n"),
    ("validating an eks-env platform",
     "from keel.spec import load_platform\nload_platform('tests/infra/platforms/eks.yaml')\n"),
    ("python -m keel validate",
     "import runpy\nsys.argv = ['keel', 'validate', '--quiet', 'platform.yaml']\n"
     "runpy.run_module('keel', run_name='__main__')\n"),
    *((f"tests/{folder}", _import_all(f"tests.{folder}.{p.stem}" for p in (ROOT / "tests" / folder).glob("test_*.py")))
      for folder in ("spec", "handlers", "ops")),
]

_CHILD = """
import importlib, json, sys, traceback
sys.path.insert(0, 'lambda_src')  # the handler tests' own setup (tests/handlers/conftest.py) does the same
steps, ECS_PLATFORM, result = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
done = {}
for name, code in steps:
    outcome = {"exit": None, "error": None}
    try:
        exec(code, {"importlib": importlib, "sys": sys, "ECS_PLATFORM": ECS_PLATFORM})
    except SystemExit as exc:
        outcome["exit"] = exc.code
    except BaseException:
        outcome["error"] = traceback.format_exc()
    outcome["cdk"] = sorted(m for m in sys.modules if m.split(".")[0] in CDK_MODULES)[:5]
    done[name] = outcome
with open(result, "w") as out:
    json.dump(done, out)
""".replace("CDK_MODULES", repr(CDK))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each step's outcome in the one fresh interpreter: its exit code, its error, the CDK modules loaded by then."""
    work = tmp_path_factory.mktemp("layering")
    ecs = work / "platform.yaml"
    ecs.write_text(yaml.safe_dump({"name": "t", "environments": [{
        "name": "edge", "template": "ecs-env:1", "region": "eu-west-1",
        "availability_zones": ["eu-west-1a", "eu-west-1b"],
        "spec": {"anywhere": {"enabled": True}, "load_balancer": {"enabled": True}}}]}))
    result = work / "steps.json"
    subprocess.run([sys.executable, "-c", _CHILD, json.dumps(STEPS), str(ecs), str(result)], cwd=ROOT,
                   capture_output=True, text=True, check=True)
    return dict(json.loads(result.read_text()))


def _clean(fresh: dict[str, dict[str, Any]], step: str, modules: tuple[str, ...] = ("aws_cdk",)) -> None:
    outcome = fresh[step]
    assert outcome["error"] is None, outcome["error"]
    imported = [m for m in outcome["cdk"] if m.split(".")[0] in modules]
    first = next((name for name, o in fresh.items() if any(m.split(".")[0] in modules for m in o["cdk"])), None)
    assert imported == [], f"{step}: {imported} imported (first by the step {first!r})"


@pytest.mark.parametrize("folder", ["spec", "handlers", "ops"])
def test_fast_test_folders_never_import_aws_cdk(fresh: dict[str, dict[str, Any]], folder: str) -> None:
    # handler tests (and the keel modules they use) run without CDK at all: fast, and true to the Lambda runtime
    _clean(fresh, f"tests/{folder}", ("aws_cdk", "constructs", "jsii") if folder == "handlers" else ("aws_cdk",))


def test_spec_layer_cli_and_template_inputs_never_import_aws_cdk(fresh: dict[str, dict[str, Any]]) -> None:
    _clean(fresh, "spec layer, CLI and template inputs")


def test_lifecycle_modules_do_not_import_aws_cdk(fresh: dict[str, dict[str, Any]]) -> None:
    _clean(fresh, "lifecycle verbs")


def test_spec_validation_does_not_import_aws_cdk(fresh: dict[str, dict[str, Any]]) -> None:
    _clean(fresh, "validating an ecs-env platform")  # Anywhere and the shared load balancer on


def test_validating_an_eks_env_platform_does_not_import_aws_cdk(fresh: dict[str, dict[str, Any]]) -> None:
    _clean(fresh, "validating an eks-env platform")


def test_python_dash_m_keel_works_and_does_not_import_cdk(fresh: dict[str, dict[str, Any]]) -> None:
    _clean(fresh, "python -m keel validate")
    assert fresh["python -m keel validate"]["exit"] in (0, None)
