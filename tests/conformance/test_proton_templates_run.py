"""AWS's Proton sample templates run through part 1 of issue 15, as a user's own would: found through
`template_dirs` (with a prefix: several sample names are Keel built-ins too), their sample specs validated by
their schemas, their Jinja CloudFormation rendered, included with CfnInclude, synthesized with cdk-nag
(`compliance: {imported: report}`: their findings are counted and listed open), and every resource kept as
rendered. The samples are copied into a temporary project at run time, never into this repository."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from keel.report import read_findings, render_report
from tests.infra.conftest import Synthesized, synthesize
from tests.proton_adoption import adoption_differences

FOLDERS = ("environment-templates", "service-templates", "lambda-multi-svc")
ENVIRONMENTS = {"vpc-env-prod": "vpc-env", "fargate-env-prod": "fargate-env", "ecs-ec2-env-prod": "ecs-ec2-env"}
SERVICES = ("apigw-lambda-svc", "backend-fargate-svc", "load-balanced-fargate-svc", "scheduled-fargate-svc",
            "worker-lambda-svc")


def _platform(root: Path, samples: Path) -> Path:
    for folder in FOLDERS:
        shutil.copytree(samples / folder, root / "proton" / folder)
    lines = ["name: proton-samples", "compliance: {imported: report}", "template_dirs:"]
    lines += [f"  - {{path: proton/{folder}, prefix: aws-}}" for folder in FOLDERS]
    lines.append("environments:")
    for env, template in ENVIRONMENTS.items():
        lines += [f"  - name: {env}", f"    template: aws-{template}:1",
                  f"    spec_file: proton/environment-templates/{template}/spec/spec.yaml"]
    lines += ["  - name: multi-svc-beta", "    template: aws-lambda-env:1",
              "    spec_file: proton/lambda-multi-svc/specs/env-spec.yaml", "services:"]
    for service in SERVICES:
        lines += [f"  - name: {service}", f"    template: aws-{service}:1",
                  f"    spec_file: proton/service-templates/{service}/spec/spec.yaml"]
    # svc-spec.yaml names a pipeline input (packaging_commands) its own schema does not: accepted as Proton did.
    lines += ["  - name: crud", "    template: aws-service-crud:1",
              "    spec_file: proton/lambda-multi-svc/specs/svc-spec.yaml"]
    path = root / "platform.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def samples_app(proton_samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    root = tmp_path_factory.mktemp("project")
    return synthesize(_platform(root, proton_samples), root / "cdk.out")


def test_every_sample_cloudformation_template_is_rendered_and_included(samples_app: Synthesized,
                                                                       proton_samples: Path) -> None:
    included = {Path(str(t.proton.infrastructure)).parent.parent.parent.name  # type: ignore[union-attr]
                for t in [*(e.template for e in samples_app.model.environments),
                          *(i.template for i in samples_app.model.instances)]}
    sample_templates = {p.parent.parent.parent.name for p in proton_samples.rglob("*infrastructure/cloudformation.yaml")
                        if p.parent.name != "pipeline_infrastructure"}
    assert included == sample_templates


def test_every_sample_resource_keeps_its_logical_id_type_and_properties(samples_app: Synthesized) -> None:
    problems = {}
    for stack in [*samples_app.model.environments, *samples_app.model.instances]:
        assert stack.rendered is not None
        linked, _ = stack.rendered.linked()
        env = getattr(stack, "environment", None)
        env_rendered = samples_app.model.environment(env).rendered if isinstance(env, str) else None
        found = adoption_differences(linked, samples_app.json(stack.stack_name),
                                     env_rendered.template if env_rendered else None)
        if found:
            problems[stack.stack_name] = found
    assert problems == {}, json.dumps(problems, indent=1)


def test_sample_findings_are_counted_listed_and_left_open(samples_app: Synthesized) -> None:
    found = read_findings(samples_app.outdir)
    assert sum(found.imported_open.values()) == len(found.imported) > 0
    assert found.messages == []  # none fails the synth under imported: report
    text, clean = render_report(samples_app.outdir)
    assert clean and "open finding(s) of included Proton templates" in text


def test_sample_adoption_summaries_list_the_tags_keel_adds(samples_app: Synthesized) -> None:
    for stack in samples_app.built.stacks:
        record = json.loads((samples_app.outdir / f"{stack.artifact_id}.proton-adoption.json").read_text())
        assert "keel:template" in record["tags_added"]
