"""Files a Lambda spec names (code_dir, handler module, API contract) are checked before any synth."""

from __future__ import annotations

import shutil

import pytest

from tests.spec.conftest import ROOT, Platform

DEV = """
environments:
  - {name: dev, template: 'vpc-env:1', region: eu-west-1, availability_zones: [eu-west-1a, eu-west-1b]}
services:
"""


@pytest.fixture(autouse=True)
def code(platform: Platform) -> None:
    """Copies of the project's functions beside the platform file: a code_dir stays inside the project."""
    shutil.copytree(ROOT / "lambda_src", platform.root / "lambda_src")
    shutil.copytree(ROOT / "lambda_src" / "api", platform.root / "api")


def test_missing_code_dir_names_the_pipeline_field_once(platform: Platform) -> None:
    lines = platform.problems(DEV + """
  - name: orders
    template: scheduled-lambda-svc:1
    pipeline: {code_dir: nowhere}
    instances: [{name: dev, environment: dev}, {name: dev2, environment: dev}]
""")
    assert len(lines) == 1
    assert lines[0].startswith("platform.yaml:services[orders].pipeline.code_dir: is not a directory (")
    assert lines[0].endswith('(got "nowhere", expected a folder with the function\'s code, relative to the file '
                             "that declares the service)")


def test_handler_module_missing_from_code_dir(platform: Platform) -> None:
    lines = platform.problems(DEV + """
  - name: orders
    template: scheduled-lambda-svc:1
    pipeline: {code_dir: lambda_src}
    instances: [{name: dev, environment: dev, spec: {lambda_handler: jobs.run.handler}}]
""")
    assert lines == [f"platform.yaml:services[orders].instances[0].spec.lambda_handler: names module jobs/run, "
                     f"which is not in {platform.root.resolve() / 'lambda_src'} (got \"jobs.run.handler\", "
                     "expected module.function "
                     "with jobs/run.py in code_dir)"]


def test_missing_api_contract(platform: Platform) -> None:
    lines = platform.problems(DEV + """
  - name: orders
    template: lambda-api-svc:1
    pipeline: {code_dir: api}
    instances: [{name: dev, environment: dev, spec: {api_contract: missing.yaml}}]
""")
    assert len(lines) == 1
    assert lines[0].startswith("platform.yaml:services[orders].instances[0].spec.api_contract: ")
    assert "missing.yaml: the api_contract file does not exist" in lines[0]


def test_api_contract_that_is_not_openapi(platform: Platform) -> None:
    platform.write("openapi: 2.0\npaths: {}\n", "contract.yaml")
    lines = platform.problems(DEV + """
  - name: orders
    template: lambda-api-svc:1
    pipeline: {code_dir: api}
    instances: [{name: dev, environment: dev, spec: {api_contract: contract.yaml}}]
""")
    assert len(lines) == 1 and "not an OpenAPI 3 document" in lines[0]


def test_code_dir_is_relative_to_the_declaring_file(platform: Platform) -> None:
    (platform.root / "fns" / "jobs").mkdir(parents=True)
    (platform.root / "fns" / "jobs" / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    model = platform.load(DEV + """
  - name: orders
    template: scheduled-lambda-svc:1
    pipeline: {code_dir: fns/jobs}
    instances: [{name: dev, environment: dev}]
""")
    assert model.services[0].pipeline.code_dir == "fns/jobs"
