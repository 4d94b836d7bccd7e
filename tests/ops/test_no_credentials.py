"""Without credentials, every AWS verb says so in one line and exits 2 (no moto here: the real chain)."""

from __future__ import annotations

import pytest

from keel.cli import main
from tests.ops.conftest import PLATFORM, no_real_aws

AWS_VERBS = [["status"], ["logs", "web"], ["exec", "web"], ["secret", "list", "dev"], ["param", "list", "dev"],
             ["param", "get", "dev", "api", "greeting"], ["history", "web"], ["secret", "delete", "dev", "api", "x"]]


@pytest.mark.parametrize("argv", AWS_VERBS, ids=lambda a: " ".join(a))
def test_no_credentials_is_one_line_and_exit_2(argv: list[str], monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    no_real_aws(monkeypatch)
    monkeypatch.setattr("keel.ops.execute.shutil.which", lambda name: "/usr/local/bin/session-manager-plugin")
    assert main([*argv, "--platform", str(PLATFORM)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"keel {argv[0]}: no AWS credentials (") and "aws sso login" in err


def test_an_unknown_profile_is_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    no_real_aws(monkeypatch)
    assert main(["status", "--platform", str(PLATFORM), "--profile", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err and "--profile" in err


def test_no_region_anywhere_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                        tmp_path) -> None:  # type: ignore[no-untyped-def]
    no_real_aws(monkeypatch, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    platform = tmp_path / "platform.yaml"
    platform.write_text("environments:\n  - {name: dev, template: vpc-env:1, spec: {vpc_cidr: 10.0.0.0/16}}\n")
    assert main(["status", "--platform", str(platform)]) == 2
    assert capsys.readouterr().err.startswith("keel status: no AWS region: give the environment a region")
