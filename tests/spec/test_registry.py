"""Every template in the registry is well formed: schema, typed inputs and defaults agree."""

from __future__ import annotations

import dataclasses

import pytest

from keel.contract.registry import TemplateRef, TemplateVersion
from keel.contract.schema import iter_properties, resolve
from keel.spec.registry import default_registry
from keel.spec.typed import field_names

VERSIONS = default_registry().all_versions()


def _schema_tree(schema_node: dict, root: dict) -> dict:  # type: ignore[type-arg]
    node = resolve(schema_node, root)
    out = {}
    for key, sub in (node.get("properties") or {}).items():
        sub = resolve(sub, root)
        free = sub.get("additionalProperties") is True or isinstance(sub.get("additionalProperties"), dict)
        if sub.get("type") == "object" and not free:
            out[key] = _schema_tree(sub, root)  # a free-form mapping (additionalProperties: true or typed) is a leaf
        elif sub.get("type") == "array" and resolve(sub.get("items", {}), root).get("type") == "object":
            out[key] = _schema_tree(sub["items"], root)
        else:
            out[key] = None
    return out


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.label)
def test_typed_inputs_mirror_the_schema(version: TemplateVersion) -> None:
    """Field names equal schema properties (recursively): the schema is the one source of truth."""
    for kind, cls in ((version.kind, version.inputs_type()), ("pipeline", version.pipeline_type())):
        schema = version.schemas.get(kind)
        if schema is None:
            assert cls is None
            continue
        assert field_names(cls) == _schema_tree(schema.json_schema, schema.json_schema)
        for f in dataclasses.fields(cls):
            assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, \
                f"{cls.__name__}.{f.name} restates a default; defaults live in the schema"


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.label)
def test_schema_defaults_satisfy_their_own_constraints(version: TemplateVersion) -> None:
    for schema in version.schemas.values():
        assert schema.validate(schema.with_defaults({})) == []
        for path, prop, _required in iter_properties(schema):
            assert "description" in prop or "title" in prop, f"{version.label}: {path} has no description"


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.label)
def test_service_templates_name_existing_environment_templates(version: TemplateVersion) -> None:
    registry = default_registry()
    for name, major in version.compatible_environments:
        assert registry.resolve(TemplateRef(name, major)).kind == "environment"


def test_recommended_version_is_the_highest_minor() -> None:
    for template in default_registry().templates.values():
        for major in template.majors:
            best = template.recommended(major)
            assert best is not None
            assert all(v.version <= best.version for v in template.versions if v.version.major == major)


@pytest.mark.parametrize("version", [v for v in VERSIONS if v.kind == "environment"], ids=lambda v: v.label)
def test_environment_inputs_say_what_they_offer_services(version: TemplateVersion) -> None:
    """The spec layer reads `env.offers` (typed) instead of probing an environment's inputs for groups."""
    from keel.contract.offers import Offers

    assert callable(getattr(version.inputs_type(), "offers", None))
    assert Offers.__dataclass_fields__.keys() >= {"vpc_cidr", "event_bus", "load_balancer", "https"}


def test_a_service_paired_with_an_environment_that_hands_on_less_is_refused() -> None:
    """A service whose builder takes EcsEnvOutputs, declared compatible with vpc-env: a registry error, not a
    failure at synth."""
    from keel.contract.registry import Registry, RegistryError, Template

    registry = default_registry()
    worker = registry.templates["worker-fargate-svc"]
    wrong = dataclasses.replace(worker.versions[0], compatible_environments=(("vpc-env", 1),))
    with pytest.raises(RegistryError, match="takes EcsEnvOutputs, and its compatible environment vpc-env:1 hands "
                                            "on NetworkOutputs"):
        Registry(templates={**registry.templates, "worker-fargate-svc": Template(
            name=worker.name, kind=worker.kind, description=worker.description, folder=worker.folder,
            versions=(wrong,))})


def test_every_service_builder_takes_the_outputs_class_its_template_declares() -> None:
    """template.yaml's environment_outputs and the builder's `environment` annotation say the same (read from the
    builder's source, so this test stays CDK-free)."""
    import importlib.util
    from pathlib import Path

    for version in (v for v in VERSIONS if v.kind == "service"):
        spec = importlib.util.find_spec(version.builder.partition(":")[0])
        assert spec is not None and spec.origin is not None
        assert f"environment: {version.environment_outputs})" in Path(spec.origin).read_text(), version.label


# make test's speed: the registry's own files are read by libyaml (keel.spec.yamlio.read_packaged_yaml)
@pytest.mark.heavy  # parses every template file with the pure parser too (~3 s): make conformance
def test_packaged_template_files_read_the_same_with_both_parsers() -> None:
    from keel.spec.registry import TEMPLATES_DIR
    from keel.spec.yamlio import read_packaged_yaml, read_yaml

    files = sorted(TEMPLATES_DIR.glob("*/*.yaml")) + sorted(TEMPLATES_DIR.glob("*/*/*.yaml"))
    assert len(files) >= len(VERSIONS)  # every version's schema, and each template.yaml
    for file in files:
        assert read_packaged_yaml(file) == read_yaml(file), file


def test_a_packaged_file_libyaml_cannot_read_gets_the_located_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from keel.spec.yamlio import YamlReadError, read_packaged_yaml

    broken = tmp_path / "schema.yaml"
    broken.write_text("schema:\n  format: [a\n")
    with pytest.raises(YamlReadError, match=r"schema.yaml: line \d+, column \d+: invalid YAML"):
        read_packaged_yaml(broken)
