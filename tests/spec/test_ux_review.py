"""What a platform engineer meets first: every problem named once, clean exits, docs that match the code."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.spec.conftest import ROOT, Platform


def test_every_unknown_key_of_one_mapping_is_reported(platform: Platform) -> None:
    lines = platform.problems("""
        environments:
          - name: dev
            template: vpc-env:1
            spec: {vpc_cidrr: 10.0.0.0/16, natgw: 1, zzz: 2}
    """)
    assert [line.split(": ")[0] for line in lines] == [
        "platform.yaml:environments[dev].spec.natgw",
        "platform.yaml:environments[dev].spec.vpc_cidrr",
        "platform.yaml:environments[dev].spec.zzz",
    ]


def test_every_missing_required_key_is_named_once(platform: Platform) -> None:
    lines = platform.problems("""
        environments:
          - {}
    """)
    assert lines == [
        "platform.yaml:environments[0].name: required input is missing (expected a string)",
        "platform.yaml:environments[0].template: required input is missing (expected a string)",
    ]


def test_every_unknown_key_of_the_platform_file_is_reported(platform: Platform) -> None:
    lines = platform.problems("""
        environments:
          - {name: dev, template: vpc-env:1, tempalte: x, regoin: y}
    """)
    assert [line.split(": ")[0] for line in lines] == [
        "platform.yaml:environments[dev].regoin",
        "platform.yaml:environments[dev].tempalte",
    ]


@pytest.mark.parametrize(("argv", "code"), [
    (["templates"], 141), (["templates", "show", "vpc-env"], 141), (["validate"], 141), (["outdated", "--all"], 141),
    (["templates", "check"], 141), (["--help"], 0), (["docs", "--help"], 0),  # argparse drops help it cannot write
])
def test_a_closed_stdout_pipe_ends_quietly(argv: list[str], code: int) -> None:
    """`keel templates show vpc-env | head -3`: the reader leaves; no traceback, the SIGPIPE exit code."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before keel writes its first byte
    try:
        result = subprocess.run([sys.executable, "-m", "keel", *argv], cwd=ROOT, stdout=write,
                                stderr=subprocess.PIPE, text=True, check=False)
    finally:
        os.close(write)
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    assert result.returncode == code
