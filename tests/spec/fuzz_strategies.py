"""Hypothesis strategies: a platform per template version of the registry, built from the version's own
schema, then mutated with every class of hostile input (wrong types, names that are mappings, bad event
patterns, odd CIDRs, control characters, paths out of the project, NaN, deep nesting, YAML abuse).
Shared by tests/spec/test_fuzz.py (a few hundred cases) and tests/conformance/test_fuzz_thousands.py."""

from __future__ import annotations

import copy
import json
import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from keel.contract.registry import TemplateVersion
from keel.contract.schema import resolve
from keel.spec.registry import default_registry
from tests.spec.hostile_cases import assert_located_rejection, validate

AZS = ["eu-west-1a", "eu-west-1b"]
HANDLER_FILES = {"code/handler.py": "def handler(event, context):\n    return None\n"}
VERSIONS: list[TemplateVersion] = default_registry().all_versions()

# -- hostile values, one family per class of the issue ------------------------------------------------------
NON_FINITE = [math.nan, math.inf, -math.inf]
CIDRS = ["10.20.0.0/016", "010.0.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "0.0.0.0/0",
         "10.0.0.1/16", "10.0.0.0/33", "::1/128", "10.0.0.0", "10.0.0.0/16\n"]
PATTERNS: list[Any] = [
    {"a": "scalar"}, {"a": []}, {"a": [{"regex": "x"}]}, {"a": [{"numeric": ["!", 1]}]},
    {"a": [{"numeric": ["<", 1, ">", 0]}]}, {"a": [{"numeric": [">", 1e12]}]}, {"a": [{"exists": "yes"}]},
    {"a": [{"cidr": "300.0.0.0/8"}]}, {"$or": [{"a": ["x"]}]}, {"$or": "x"}, {"a": [{"prefix": 1}]},
    {"a": [{"anything-but": []}]}, {"a": [{"anything-but": {"regex": "x"}}]}, {"a": [[1]]},
    {"a": [{"prefix": "x", "suffix": "y"}]}, {"a": ["x" * 300] * 20}, {"a": {"b": {"c": [math.nan]}}},
]
TEXTS = ["", " ", "a\u0000b", "a\nb", "\u001b[31m", "\t", "x" * 300, "../../etc/passwd", "/etc/passwd",
         "C:\\Windows", "\u202eevil", "${AWS::AccountId}", "{{ jinja }}", "*", "%s%s", "aws:tag", "é"]
PATHS = ["../outside", "/etc", "/", "..", "code/../../x", "code\u0000", "~/.aws", "code/handler.py/.."]
NAMES: list[Any] = [{"a": 1}, ["a"], [], {}, 1, True, None, "", "UPPER", "a" * 80, "a--b", "dev\n"]

scalars = (st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.sampled_from(NON_FINITE)
           | st.floats(allow_nan=False, width=32) | st.text(max_size=12) | st.sampled_from(TEXTS))
junk = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8) | st.sampled_from(TEXTS), inner, max_size=3), max_leaves=8)
hostile = (junk | st.sampled_from(CIDRS) | st.sampled_from(PATTERNS) | st.sampled_from(PATHS)
           | st.sampled_from(NAMES) | st.just(0) | st.integers(0, 70).map(lambda n: _nested(n)))


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


# -- documents from a template's schema ------------------------------------------------------------------
def _sample(node: Mapping[str, Any], root: Mapping[str, Any], data: st.DataObject, depth: int = 0) -> Any:
    """A value the schema probably accepts: its default, an enum member, or a value of its type in range."""
    node = resolve(node, root)
    if "default" in node and data.draw(st.booleans()):
        return copy.deepcopy(node["default"])
    if "enum" in node:
        return data.draw(st.sampled_from(list(node["enum"])))
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        props = node.get("properties") or {}
        required = set(node.get("required") or ())
        chosen = [k for k in props if k in required or (depth < 3 and data.draw(st.integers(0, 3)) == 0)]
        return {k: _sample(props[k], root, data, depth + 1) for k in chosen}
    if kind == "array":
        items = node.get("items")
        count = data.draw(st.integers(node.get("minItems", 0), max(node.get("minItems", 0), 2)))
        return [_sample(items, root, data, depth + 1) if isinstance(items, Mapping) else "x" for _ in range(count)]
    if kind == "integer":
        low, high = node.get("minimum", 0), node.get("maximum", 10**6)
        return data.draw(st.integers(int(low), int(high)))
    if kind == "number":
        return data.draw(st.floats(float(node.get("minimum", 0)), float(node.get("maximum", 10**6))))
    if kind == "boolean":
        return data.draw(st.booleans())
    if node.get("format") == "ipv4-cidr":
        return "10.40.0.0/16"
    return data.draw(st.sampled_from(["x", "dev", "keel.a", "10.0.0.0/16", "arn:aws:iam::111111111111:role/r"]))


def platform_for(version: TemplateVersion, data: st.DataObject) -> tuple[dict[str, Any], dict[str, str]]:
    """(platform document, extra files) using `version`, with a schema-drawn spec."""
    schema = version.input_schema.json_schema
    spec = _sample(schema, schema, data)
    files: dict[str, str] = {}
    if version.kind == "environment":
        env = {"name": "dev", "template": f"{version.name}:{version.version}", "region": "eu-west-1",
               "availability_zones": AZS, "tags": {"team": "a"}, "spec": spec}
        return {"name": "fuzz", "environments": [env]}, files
    env_name, major = version.compatible_environments[0]
    env = {"name": "dev", "template": f"{env_name}:{major}", "region": "eu-west-1", "availability_zones": AZS}
    service: dict[str, Any] = {"name": "web", "template": f"{version.name}:{version.version}",
                               "instances": [{"name": "web-dev", "environment": "dev", "spec": spec}]}
    if version.pipeline_schema is not None:
        pipeline_schema = version.pipeline_schema.json_schema
        service["pipeline"] = _sample(pipeline_schema, pipeline_schema, data)
        if "code_dir" in (pipeline_schema.get("properties") or {}):
            service["pipeline"]["code_dir"] = "code"
            files.update(HANDLER_FILES)
    return {"name": "fuzz", "environments": [env], "services": [service]}, files


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*prefix, i))
    return out


def fresh(data: st.DataObject) -> Any:
    """A hostile value of its own: the sampled PATTERNS and NAMES are shared objects, and a later round that
    edits inside one would change them for every later example (hypothesis then reports a flaky strategy)."""
    return copy.deepcopy(data.draw(hostile))


def mutate(doc: dict[str, Any], data: st.DataObject, rounds: int = 3) -> dict[str, Any]:
    """Delete, replace or add entries anywhere with hostile values."""
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, rounds))):
        candidates = paths(doc)
        if not candidates:  # earlier rounds deleted every key: nothing left to mutate
            break
        path = data.draw(st.sampled_from(candidates))
        node = doc
        for part in path[:-1]:
            node = node[part]
        action = data.draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "delete" and isinstance(node, dict):
            del node[path[-1]]
        elif action == "add" and isinstance(node, dict):
            node[data.draw(st.sampled_from(["name", "spec_file", "environment", "zz", "tags", "$or"]))] = \
                fresh(data)
        else:
            node[path[-1]] = fresh(data)
    return doc


# -- YAML text, including what JSON cannot say ----------------------------------------------------------------
_MARK = {"nan": "__KEEL_NAN__", "inf": "__KEEL_INF__", "-inf": "__KEEL_NINF__"}


def to_yaml(doc: Any) -> str:
    """JSON text (YAML 1.2 reads it), with non-finite floats written as YAML's .nan / .inf / -.inf."""
    def mark(node: Any) -> Any:
        if isinstance(node, float) and not math.isfinite(node):
            return _MARK["nan" if math.isnan(node) else ("inf" if node > 0 else "-inf")]
        if isinstance(node, dict):
            return {k: mark(v) for k, v in node.items()}
        if isinstance(node, list):
            return [mark(v) for v in node]
        return node
    text = json.dumps(mark(doc))
    return (text.replace(f'"{_MARK["nan"]}"', ".nan").replace(f'"{_MARK["inf"]}"', ".inf")
            .replace(f'"{_MARK["-inf"]}"', "-.inf"))


def _bomb() -> str:
    text = 'x: &a ["l","l","l","l","l","l","l","l","l"]\n'
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"x{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    return text


TEXT_MUTATIONS = {
    "none": lambda t: t,
    "alias-bomb": lambda t: _bomb() + "\n" + _block(t),
    "duplicate-key": lambda t: _block(t) + "\nname: again\nname: twice\n",
    "list-root": lambda t: "- " + t,
    "scalar-root": lambda t: json.dumps(t),
    "deep": lambda t: "deep: " + "[" * 200 + "]" * 200 + "\n" + _block(t),
    "long-scalar": lambda t: "description: " + "x" * (70 * 1024) + "\n" + _block(t),
    "truncated": lambda t: t[: len(t) // 2],
    "tab-indent": lambda t: "\t" + t,
    "python-tag": lambda t: "evil: !!python/object/apply:os.system [id]\n" + _block(t),
}


def _block(flow: str) -> str:
    """A flow mapping's entries as block YAML lines (so other top-level keys can be added around them)."""
    doc = json.loads(flow.replace(".nan", '"nan"').replace("-.inf", '"-inf"').replace(".inf", '"inf"'))
    if not isinstance(doc, dict):
        return flow
    return "".join(f"{json.dumps(k)}: {json.dumps(v)}\n" for k, v in doc.items())


def run_case(text: str, files: Mapping[str, str]) -> tuple[int, str]:
    """`keel validate` on `text` as project/platform.yaml (a repository folder with `files` beside it)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        (root / ".git").mkdir(parents=True)
        for name, body in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(body)
        (root / "platform.yaml").write_text(text, encoding="utf-8")
        return validate(root / "platform.yaml")


def check_outcome(code: int, err: str) -> None:
    """Valid (exit 0), or exit 2 with located problems; never a traceback."""
    assert "Traceback" not in err, err
    if code != 0:
        assert_located_rejection(code, err)
