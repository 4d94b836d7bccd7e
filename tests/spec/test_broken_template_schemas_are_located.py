"""A template's own `schema.yaml` that is broken (a keyword's value of the wrong kind, a pattern that is no
regular expression, a `$ref` to no type, a type that contains itself) is a located error naming the schema file,
the field path in it and what is wrong; never a jsonschema traceback or an endless walk. For a user's
Proton-layout template (`template_dirs`) and for a Keel-native one alike; any mutation of a real schema either
loads or is refused this way (a sample here, at length under `heavy`)."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.cli import main
from keel.contract.registry import RegistryError
from keel.contract.schema import SchemaDefinitionError, iter_properties, load_proton_schema
from keel.spec import SpecError, load_platform
from keel.spec.registry import default_registry, load_template
from keel.spec.yamlio import read_yaml
from tests.spec.fuzz_strategies import mutate, paths

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "proton"
SHOP_SVC = Path("templates/shop-svc/v1/schema/schema.yaml")

# (what the visibility_timeout property gets instead of `minimum: 0`, the field path, what the error says)
BROKEN = [
    ("minimum: zero", ".properties.visibility_timeout.minimum", "'zero' is not of type 'number'"),
    ("pattern: '[a-'", ".properties.visibility_timeout.pattern", "'[a-' is not a 'regex'"),
    ("minimum: 0\n          maxLength: -1", ".properties.visibility_timeout.maxLength", "-1 is less than"),
    ("$ref: '#/types/Nope'", "", "$ref '#/types/Nope': no type 'Nope' in schema.types (known: ShopServiceInput"),
    ("$ref: '#/types/ShopServiceInput'", "",
     "the type refers to itself (ShopServiceInput -> ShopServiceInput); recursive types are not supported"),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "p")
    monkeypatch.chdir(tmp_path / "p")
    return tmp_path / "p"


def _break(project: Path, replacement: str) -> None:
    schema = project / SHOP_SVC
    text = schema.read_text()
    assert "          minimum: 0\n" in text
    schema.write_text(text.replace("          minimum: 0\n", f"          {replacement}\n", 1))


@pytest.mark.parametrize(("replacement", "path", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_proton_layout_schema_is_a_located_problem(project: Path, replacement: str, path: str,
                                                            message: str) -> None:
    _break(project, replacement)
    with pytest.raises(SpecError) as info:
        load_platform(project / "platform.yaml")
    (line,) = [p.render() for p in info.value.problems if str(SHOP_SVC) in p.render()]
    assert line.startswith(f"{SHOP_SVC}:schema.types.ShopServiceInput{path}: "), line
    assert message in line


def test_the_cli_says_it_in_one_line_and_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _break(project, "pattern: '[a-'")
    assert main(["validate", "platform.yaml"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"{SHOP_SVC}:schema.types.ShopServiceInput.properties.visibility_timeout.pattern: " in err


def test_a_type_reached_through_others_that_leads_back_is_refused() -> None:
    types = {"A": {"type": "object", "properties": {"b": {"$ref": "#/types/B"}}},
             "B": {"type": "array", "items": {"$ref": "#/types/A"}}}
    doc = {"schema": {"format": {"openapi": "3.0.0"}, "service_input_type": "A", "types": types}}
    with pytest.raises(SchemaDefinitionError) as info:
        load_proton_schema(doc, source="s.yaml")
    assert (info.value.source, info.value.path) == ("s.yaml", "schema.types.B")
    assert "(A -> B -> A)" in info.value.message


def test_the_same_broken_type_is_refused_in_every_schema_that_has_it() -> None:
    # valid types are remembered across schemas (the versions of a template share them); broken ones never are
    doc = {"schema": {"format": {"openapi": "3.0.0"}, "service_input_type": "S",
                      "types": {"S": {"type": "object", "properties": {"a": {"type": "string", "minLength": "x"}}}}}}
    for source in ("one.yaml", "two.yaml"):
        with pytest.raises(SchemaDefinitionError) as info:
            load_proton_schema(copy.deepcopy(doc), source=source)
        assert str(info.value) == f"{source}:schema.types.S.properties.a.minLength: 'x' is not of type 'integer'"


def test_a_broken_keel_native_schema_is_a_broken_template_definition(tmp_path: Path) -> None:
    template = default_registry().templates["vpc-env"]
    copy_of = tmp_path / "vpc_env"
    shutil.copytree(template.folder, copy_of, ignore=shutil.ignore_patterns("__pycache__"))
    schema = copy_of / template.versions[0].schema_file.relative_to(template.folder)
    text = schema.read_text()
    assert "type: string" in text
    schema.write_text(text.replace("type: string", "type: strung", 1))
    with pytest.raises(RegistryError) as info:
        load_template(copy_of)
    assert str(info.value).startswith(f"{schema}:schema.types.")
    assert "'strung' is not valid under any of the given schemas" in str(info.value)


# -- any mutation of a real schema: loads, or is refused with a located error ----------------------------------
SCHEMAS = sorted({v.schema_file for v in default_registry().all_versions()})
REFS = st.sampled_from(["#/types/Nope", "#/definitions/X", "", 1, None, "#/types/"]) | st.text(max_size=6).map(
    lambda name: f"#/types/{name}")


def schema_mutation_never_crashes(data: st.DataObject) -> None:
    read = read_yaml(data.draw(st.sampled_from(SCHEMAS)))
    assert isinstance(read, dict)
    doc: dict[str, Any] = read
    doc = mutate(doc, data, rounds=2)
    if data.draw(st.booleans()):  # a $ref anywhere, often back to a type of the schema itself
        targets = [p for p in paths(doc) if isinstance(_at(doc, p), dict)]
        if targets:
            node = _at(doc, data.draw(st.sampled_from(targets)))
            body = doc.get("schema")
            types = body.get("types") if isinstance(body, dict) else None
            names = list(types) if isinstance(types, dict) else []
            node["$ref"] = data.draw(REFS | st.sampled_from([f"#/types/{n}" for n in names] or ["#/types/X"]))
    for closed in (True, False):
        try:
            schemas = load_proton_schema(copy.deepcopy(doc), source="schema.yaml", closed=closed)
        except SchemaDefinitionError as exc:
            assert str(exc).startswith("schema.yaml:") and exc.message
            continue
        for schema in schemas.values():  # what loading promises: the walks and checks end
            list(iter_properties(schema))
            schema.validate({})
            schema.with_defaults({})


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


SLOW = [HealthCheck.too_slow, HealthCheck.filter_too_much]


@settings(max_examples=12, deadline=None, suppress_health_check=SLOW)
@given(st.data())
def test_a_mutated_schema_loads_or_is_refused_with_its_place(data: st.DataObject) -> None:
    schema_mutation_never_crashes(data)


@pytest.mark.heavy
@settings(max_examples=400, deadline=None, suppress_health_check=SLOW)
@given(st.data())
def test_a_mutated_schema_loads_or_is_refused_with_its_place_at_length(data: st.DataObject) -> None:
    schema_mutation_never_crashes(data)
