"""A failed `keel synth` says why in a line a person can act on, exits non-zero, and leaves cdk.out as it was.

Workers are stood in for by a small script (the interpreter `keel synth` starts), so no CDK app runs here.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from keel.cdk_context import ROOT
from keel.delivery.parallel import Request, SynthFailed, synthesize
from keel.delivery.synth_command import findings_text
from keel.spec import load_platform

PLATFORM = ROOT / "tests" / "delivery" / "platforms" / "parallel.yaml"

_FINDING = {"version": "55.0.0", "title": "Validation Report", "pluginReports": [{
    "pluginName": "AwsSolutions", "conclusion": "failure", "suppressedViolations": [], "violations": [{
        "ruleName": "AwsSolutions-SQS3", "description": "The SQS queue has no DLQ.", "severity": "error",
        "violatingConstructs": [{"constructPath": "keel-quiet/Queue/Resource"}]}]}]}


def fake_python(tmp_path: Path, body: str) -> str:
    """An interpreter that runs `body` as the worker (argv[-1]: its result file; CDK_OUTDIR: its assembly; its
    share, as `synth_worker --ready` reads it, on stdin: `share`)."""
    script = tmp_path / "fake-python"
    script.write_text(f"#!{sys.executable}\nimport json, os, sys\nfrom pathlib import Path\n"
                      f"out = Path(os.environ['CDK_OUTDIR']); result = Path(sys.argv[-1])\n"
                      f"share = json.loads(sys.stdin.readline() or '{{}}')\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def _run(tmp_path: Path, body: str) -> tuple[SynthFailed, Path]:
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "manifest.json").write_text("previous assembly")
    request = Request(platform=str(PLATFORM), outdir=out, jobs=2, context={}, root=ROOT, cache=None,
                      python=fake_python(tmp_path, body))
    with pytest.raises(SynthFailed) as caught:
        synthesize(request, load_platform(PLATFORM))
    return caught.value, out


def test_a_build_error_exits_2_with_its_message_and_keeps_cdk_out(tmp_path: Path) -> None:
    failure, out = _run(tmp_path, "result.write_text(json.dumps({'exit_code': 2, 'error': "
                                  "'ValueError: subnet count 0 (expected 1 or more)'}))\nsys.exit(2)")
    assert failure.exit_code == 2
    assert str(failure) == "ValueError: subnet count 0 (expected 1 or more)"
    assert (out / "manifest.json").read_text() == "previous assembly"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".keel-synth-")]  # no temporary folder left


def test_a_worker_that_reports_success_without_an_assembly_is_a_failure(tmp_path: Path) -> None:
    failure, out = _run(tmp_path, "result.write_text(json.dumps({'exit_code': 0, 'error': ''}))")
    assert failure.exit_code == 2
    assert "reported success but wrote no cloud assembly" in str(failure)
    assert (out / "manifest.json").read_text() == "previous assembly"


def test_a_worker_that_dies_is_reported_with_the_end_of_its_output(tmp_path: Path) -> None:
    failure, out = _run(tmp_path, "print('jsii kernel exited unexpectedly', file=sys.stderr)\nsys.exit(9)")
    assert failure.exit_code == 2
    assert "jsii kernel exited unexpectedly" in str(failure)
    assert (out / "manifest.json").read_text() == "previous assembly"


def test_findings_exit_1_listing_each_open_finding_of_every_worker(tmp_path: Path) -> None:
    body = ("stacks = share['stacks']\n"
            f"report = {json.dumps(_FINDING)!r}\n"
            "if 'keel-quiet' in stacks:\n"
            "    (out / 'validation-report.json').write_text(report)\n"
            "    result.write_text(json.dumps({'exit_code': 1, 'error': 'Validation failed'})); sys.exit(1)\n"
            "(out / 'manifest.json').write_text('{}')  # the other worker's assembly\n"
            "result.write_text(json.dumps({'exit_code': 0, 'error': ''}))")
    failure, out = _run(tmp_path, body)
    assert failure.exit_code == 1 and failure.report is not None
    text = findings_text(failure.report)
    assert "keel-quiet/Queue/Resource: AwsSolutions-SQS3: The SQS queue has no DLQ." in text
    assert "1 unacknowledged finding(s)" in text
    assert (out / "manifest.json").read_text() == "previous assembly"


def test_a_spec_error_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    """The first worker starts before the spec is read (it warms up meanwhile); a spec error stops it."""
    bad = tmp_path / "platform.yaml"
    bad.write_text(PLATFORM.read_text().replace("vpc_cidr: 10.62.0.0/16", "vpc_cidr: 10.62.0.0/99"))
    out = tmp_path / "cdk.out"
    result = subprocess.run([sys.executable, "-m", "keel", "synth", "--platform", str(bad), "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert f"{bad}:environments[quiet].spec.vpc_cidr" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_jobs_must_be_at_least_one(capsys: pytest.CaptureFixture[str]) -> None:
    from keel.cli import main

    assert main(["synth", "--platform", str(PLATFORM), "--jobs", "0"]) == 2
    assert "--jobs 0: expected a number of workers, 1 or more" in capsys.readouterr().err
