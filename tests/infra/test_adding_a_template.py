"""docs/adding-a-template.md stays true: its code blocks, written into a template folder, make a template the
registry discovers, the spec layer validates and the app synthesizes with cdk-nag on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

import keel.templates
from keel.cdk_context import ROOT, cli_context
from keel.contract.registry import Registry
from keel.spec import SpecError, load_platform
from keel.spec.registry import default_registry, load_registry
from keel.stacks.app import build

DOC = ROOT / "docs" / "adding-a-template.md"
_BLOCK = re.compile(r"^```(?:yaml|python) file=(?P<file>\S+)\n(?P<body>.*?)^```$", re.M | re.S)


def doc_files() -> dict[str, str]:
    return {m.group("file"): m.group("body") for m in _BLOCK.finditer(DOC.read_text())}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The doc's files in a folder that extends the keel.templates package, as a new template folder would."""
    root = tmp_path_factory.mktemp("templates")
    for name, body in doc_files().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body)
    keel.templates.__path__.append(str(root))
    yield root
    keel.templates.__path__.remove(str(root))


@pytest.fixture(scope="module")
def registry(written: Path) -> Registry:
    return Registry(templates={**default_registry().templates, **load_registry(written).templates})


def test_the_doc_names_every_file_of_a_template() -> None:
    assert {"queue_svc/template.yaml", "queue_svc/schema/v1.0.yaml", "queue_svc/inputs.py", "queue_svc/builder.py",
            "queue_svc/__init__.py", "platform.yaml"} <= set(doc_files())


def test_the_registry_discovers_the_folder(registry: Registry) -> None:
    version = registry.templates["queue-svc"].recommended(1)
    assert version is not None and version.environment_outputs == "NetworkOutputs"
    assert version.input_schema.properties()["max_receive_count"]["default"] == 5


def test_the_examples_check_runs_in_the_spec_layer(written: Path, registry: Registry) -> None:
    platform = written / "platform.yaml"
    bad = written / "bad.yaml"
    bad.write_text(platform.read_text().replace("max_receive_count: 3", "visibility_timeout_seconds: 43200\n"
                                                "          retention_days: 2"))
    with pytest.raises(SpecError) as raised:
        load_platform(bad, registry=registry)
    assert "spec.visibility_timeout_seconds: times max_receive_count (216000 s) reaches the retention" \
        in str(raised.value)


def test_the_example_synthesizes_nag_clean(written: Path, registry: Registry,
                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    model = load_platform(written / "platform.yaml", registry=registry)
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(context=cli_context(), outdir=str(outdir), builtin_cloud_formation_validation=False)
    built = build(app, model)  # compliance on: an unacknowledged cdk-nag finding fails the synth
    app.synth()
    stack = built.instances["keel-orders-dev"]
    template = Template.from_json(json.loads((outdir / f"{stack.artifact_id}.template.json").read_text()))
    template.has_resource_properties("AWS::SQS::Queue", {
        "KmsMasterKeyId": Match.any_value(),
        "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 3}})
    assert stack.outputs.keys() == {"queue-url", "queue-arn", "dead-letter-queue-url"}
