"""Context `keel:image:<service>` (a service pipeline's built image): picked out of the CDK context, checked,
and carried on each instance of the service. No aws_cdk here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from keel.spec import SpecError, load_platform
from keel.spec.images import ImageReference, from_context
from keel.spec.model import PlatformModel

PLATFORM = """
environments:
  - name: dev
    template: ecs-env:1
    account: "111111111111"
    region: eu-west-1
    availability_zones: [eu-west-1a, eu-west-1b]
    spec: {vpc_cidr: 10.70.0.0/16}
  - {name: lab, template: 'vpc-env:1'}
services:
  - name: shop
    template: backend-fargate-svc:1
    instances: [{name: shop-dev, environment: dev}]
  - name: ledger
    template: backend-fargate-svc:1
    instances: [{name: ledger-dev, environment: dev, spec: {ecr_repository: {enabled: true}}}]
  - name: cron
    template: scheduled-lambda-svc:1.0
    pipeline: {code_dir: CODE_DIR}
    instances: [{name: cron-lab, environment: lab}]
""".replace("CODE_DIR", "scheduled_job")
CODE = Path(__file__).resolve().parents[2] / "lambda_src" / "scheduled_job"
PIPELINE_IMAGE = "333333333333.dkr.ecr.eu-west-1.amazonaws.com/keel-shop-build:3f2a1b4c5d6e"
DIGEST = "sha256:" + "0123456789abcdef" * 4
OWN_REPOSITORY = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/keel/ledger/ledger-dev"
EXPECTED = ("expected a registry image: <registry>/<repository>:<tag> or <registry>/<repository>@sha256:<64 hex "
            "digits>, e.g. 111111111111.dkr.ecr.eu-west-1.amazonaws.com/checkout:3f2a1b4c5d6e")


@pytest.fixture
def platform_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    file = tmp_path / "platform.yaml"
    shutil.copytree(CODE, tmp_path / "scheduled_job")  # code_dir stays inside the platform's folder
    file.write_text(PLATFORM)
    return file


def load(platform_file: Path, **overrides: Any) -> PlatformModel:
    return load_platform(platform_file, image_overrides=overrides)


def problems(platform_file: Path, **overrides: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        load(platform_file, **overrides)
    return [p.render() for p in info.value.problems]


def images(model: PlatformModel) -> dict[str, str | None]:
    return {i.name: None if i.image_override is None else str(i.image_override) for i in model.instances}


def test_without_overrides_every_instance_runs_its_spec_image(platform_file: Path) -> None:
    assert images(load(platform_file)) == {"shop-dev": None, "ledger-dev": None, "cron-lab": None}


def test_an_override_reaches_every_instance_of_its_service_only(platform_file: Path) -> None:
    assert images(load(platform_file, shop=PIPELINE_IMAGE)) == {
        "shop-dev": PIPELINE_IMAGE, "ledger-dev": None, "cron-lab": None}


def test_an_override_is_parsed_into_registry_repository_and_tag(platform_file: Path) -> None:
    (shop,) = load(platform_file, shop=PIPELINE_IMAGE).service("shop").instances
    assert shop.image_override == ImageReference(
        registry="333333333333.dkr.ecr.eu-west-1.amazonaws.com", repository="keel-shop-build",
        tag="3f2a1b4c5d6e", digest=None)
    assert shop.image_override.ecr == ("333333333333", "eu-west-1", "aws")


@pytest.mark.parametrize("image", [f"ghcr.io/acme/shop@{DIGEST}", f"registry.example.com:5000/a/b/shop:v1@{DIGEST}",
                                   "localhost:5000/shop:dev", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/s:1"])
def test_tags_digests_ports_and_nested_repositories_are_registry_images(platform_file: Path, image: str) -> None:
    assert images(load(platform_file, shop=image))["shop-dev"] == image


def test_a_digest_pins_the_image_over_its_tag() -> None:
    reference = ImageReference.parse(f"ghcr.io/acme/shop:v1@{DIGEST}")
    assert reference is not None and reference.tag_or_digest == DIGEST


@pytest.mark.parametrize("image", ["nginx:1.25", "ghcr.io/acme/shop", "", "ghcr.io/Acme/shop:1",
                                   "ghcr.io/acme/shop@sha256:abc", "ghcr.io/acme/shop:bad tag"])
def test_an_override_that_is_not_a_registry_image_is_refused_with_what_was_expected(
        platform_file: Path, image: str) -> None:
    assert problems(platform_file, shop=image) == [
        f"context keel:image:shop: is not a registry image (got {json.dumps(image)}, {EXPECTED})"]


def test_an_override_that_is_not_a_string_is_refused(platform_file: Path) -> None:
    assert problems(platform_file, shop=3) == [f"context keel:image:shop: is not a registry image (got 3, {EXPECTED})"]


def test_an_override_for_an_unknown_service_names_the_context_key(platform_file: Path) -> None:
    assert problems(platform_file, shpo=PIPELINE_IMAGE) == [
        "context keel:image:shpo: unknown service \"shpo\" (expected a service of the platform: cron, ledger, shop)"]


def test_an_override_for_a_service_without_an_image_input_is_refused(platform_file: Path) -> None:
    assert problems(platform_file, cron=PIPELINE_IMAGE) == [
        "context keel:image:cron: service \"cron\" (scheduled-lambda-svc@1.0) runs no container image: its template "
        f"has no image input (got \"{PIPELINE_IMAGE}\", expected no keel:image:cron entry: only services of "
        "container templates take one)"]


@pytest.mark.parametrize("image", [f"{OWN_REPOSITORY}:v2", f"{OWN_REPOSITORY}@{DIGEST}"])
def test_an_instance_with_its_own_repository_takes_an_image_from_it(platform_file: Path, image: str) -> None:
    assert images(load(platform_file, ledger=image))["ledger-dev"] == image


@pytest.mark.parametrize("image", [
    PIPELINE_IMAGE,  # another repository
    OWN_REPOSITORY.replace("111111111111", "222222222222") + ":v2",  # another account
    OWN_REPOSITORY.replace("eu-west-1", "eu-central-1") + ":v2",  # another region
    "ghcr.io/keel/ledger/ledger-dev:v2",  # not ECR
])
def test_an_instance_with_its_own_repository_refuses_an_image_from_elsewhere(platform_file: Path, image: str) -> None:
    assert problems(platform_file, ledger=image) == [
        "context keel:image:ledger: instance \"ledger-dev\" runs from the ECR repository Keel creates for it "
        f"(ecr_repository.enabled), and this image is not in it (got \"{image}\", expected an image in "
        f"{OWN_REPOSITORY})"]


def test_every_bad_override_is_reported_together_with_spec_problems(platform_file: Path) -> None:
    platform_file.write_text(PLATFORM.replace("10.70.0.0/16", "10.70.0.0/33"))
    found = problems(platform_file, shop="nginx", nope="x/y:z")
    assert [line.split(":")[0] for line in found] == ["platform.yaml", "context keel", "context keel"]


def test_an_override_for_a_service_that_failed_to_load_adds_no_problem(platform_file: Path) -> None:
    platform_file.write_text(PLATFORM.replace("backend-fargate-svc:1\n    instances: [{name: shop-dev",
                                              "no-such-svc:1\n    instances: [{name: shop-dev"))
    found = problems(platform_file, shop=PIPELINE_IMAGE)
    assert len(found) == 1 and found[0].startswith("platform.yaml:services[shop].template:")


def test_only_keel_image_entries_of_the_context_are_overrides() -> None:
    context = {"keel:platform": "p.yaml", "keel:image:shop": PIPELINE_IMAGE, "keel:images": "x",
               "@aws-cdk/core:checkSecretUsage": True}
    assert from_context(context) == {"shop": PIPELINE_IMAGE}
