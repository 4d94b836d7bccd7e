"""`keel import-proton` on Windows (.NET Framework) Proton services (issue 15): our own templates and specs in
tests/spec/fixtures/proton_import_windows map onto the container templates' 1.3 with a Windows build host; what
has no equivalent (a build server's disk) or would not run (a build server of another release) is reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keel.lifecycle.proton_import import ImportResult, import_proton, render_platform, validate_written
from keel.spec.registry import default_registry

FOLDER = Path(__file__).parent / "fixtures" / "proton_import_windows"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> ImportResult:
    out = tmp_path_factory.mktemp("imported-windows") / "platform.yaml"
    return import_proton(FOLDER, default_registry(), region="eu-west-1", out=out)


def service(result: ImportResult, name: str) -> dict[str, Any]:
    (found,) = [s for s in result.platform["services"] if s["name"] == name]
    return found


def test_windows_services_are_recognised_by_their_runtime_platform(result: ImportResult) -> None:
    assert {m.proton.label: (m.family.name if m.family else None, m.ref if m.keel else None)
            for m in result.matches if m.proton.kind == "service"} == {
        "tills-web:1": ("Fargate service on Windows Server behind a load balancer", "load-balanced-fargate-svc:1.3"),
        "stock-ledger:1": ("Fargate backend service on Windows Server (service discovery, no public entry)",
                           "backend-fargate-svc:1.3")}


def test_the_operating_system_and_the_build_server_map_onto_the_instance_and_codebuild(result: ImportResult) -> None:
    tills = service(result, "tills-web")
    assert tills["template"] == "load-balanced-fargate-svc:1.3"
    # t3.large -> CodeBuild medium; the Proton template's 2022 build server AMI (its default) -> Windows Server 2022
    assert tills["pipeline"] == {"build_compute_type": "medium", "build_operating_system_family": "WINDOWS_SERVER_2022"}
    spec = tills["instances"][0]["spec"]
    assert (spec["operating_system_family"], spec["task_size"], spec["port"]) == ("WINDOWS_SERVER_2022_FULL", "large",
                                                                                   8080)
    assert (spec["service_discovery_name"], spec["discovery"]) == ("tills-web", "cloud-map")


def test_an_operating_system_given_as_a_pipeline_input_goes_to_every_instance(result: ImportResult) -> None:
    ledger = service(result, "stock-ledger")
    assert "cluster_operating_system_family" not in ledger["pipeline"]
    assert ledger["pipeline"]["build_operating_system_family"] == "WINDOWS_SERVER_2019"
    assert ledger["instances"][0]["spec"]["operating_system_family"] == "WINDOWS_SERVER_2019_CORE"


def test_the_shared_load_balancer_is_switched_on_for_the_windows_site(result: ImportResult) -> None:
    (store,) = result.platform["environments"]
    assert (store["name"], store["template"], store["spec"]["load_balancer"]) == ("Store", "ecs-env:1.3",
                                                                                   {"enabled": True})


def test_a_build_server_disk_has_no_equivalent_and_is_reported(result: ImportResult) -> None:
    (outcome,) = [o for o in result.outcomes if o.spec.endswith("bigger-disk.yaml")]
    assert not outcome.mapped
    assert outcome.reasons == ["pipeline.build_server_volume_size: 200: no equivalent: CodeBuild's build hosts come "
                               "with their own disk; there is no build server volume to size"]


def test_a_build_server_of_another_release_than_the_tasks_is_reported(result: ImportResult) -> None:
    (outcome,) = [o for o in result.outcomes if o.spec.endswith("older-build-server.yaml")]
    assert not outcome.mapped
    assert outcome.reasons == [
        "services[tills-web].instances[0].spec.operating_system_family: is WINDOWS_SERVER_2022_CORE, and the "
        "service's pipeline builds WINDOWS_SERVER_2019 images (pipeline.build_operating_system_family) (expected a "
        "WINDOWS_SERVER_2019 family, or pipeline.build_operating_system_family WINDOWS_SERVER_2022)"]


def test_the_written_platform_validates(result: ImportResult, tmp_path: Path) -> None:
    assert result.spec_count == (3, 5)
    out = tmp_path / "platform.yaml"
    assert validate_written(out, render_platform(result, FOLDER), default_registry()) == []
