"""`keel add component`: the entry lands in the platform file with its comments; nothing is written unless the
result validates."""

from __future__ import annotations

from pathlib import Path

from keel.cli import main
from tests.spec.conftest import LAB_PLATFORM as PLATFORM


def test_adds_the_component_and_keeps_comments(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "platform.yaml"
    path.write_text(PLATFORM)
    assert main(["add", "component", "dynamodb-table", "items", "--service", "api", "--platform", str(path)]) == 0
    text = path.read_text()
    assert "# the API" in text and "# keep me" in text and "name: lab  # the lab" in text
    assert text.startswith(PLATFORM)  # every line the user wrote, as written
    assert "        components:\n          - kind: dynamodb-table\n            name: items\n" in text


def test_writes_nothing_when_the_result_does_not_validate(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "platform.yaml"
    path.write_text(PLATFORM)
    # cloudformation needs a template_file: the platform would not validate.
    assert main(["add", "component", "cloudformation", "addon", "--service", "api", "--platform", str(path)]) == 1
    assert path.read_text() == PLATFORM


def test_an_unknown_service_is_an_argument_error(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "platform.yaml"
    path.write_text(PLATFORM)
    assert main(["add", "component", "s3-bucket", "files", "--service", "nope", "--platform", str(path)]) == 2
    assert path.read_text() == PLATFORM
