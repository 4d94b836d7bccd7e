"""Proton-format input schemas (`schema.yaml`) turned into JSON Schema and checked with jsonschema.

Proton's schema is an OpenAPI 3 data-model subset: `types` holds named object types, and the template
names its root type with `environment_input_type` or `service_input_type` / `pipeline_input_type`.
Keel adds `additionalProperties: false` to every object so a mistyped input is an error, not a no-op.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import jsonschema
from jsonschema import Draft7Validator, FormatChecker

from keel.contract.problems import MISSING, InputProblem, join_path

# The keywords Keel supports (Proton's documented subset plus arrays and nested objects).
SUPPORTED_KEYWORDS = frozenset({
    "type", "default", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "pattern", "required", "description", "title", "properties",
    "items", "minItems", "maxItems", "uniqueItems", "$ref", "additionalProperties", "format",
    "multipleOf",
})
_REF = re.compile(r"^#/types/([A-Za-z0-9_]+)$")

# When one value breaks several rules, report the most basic: a wrong type before a wrong pattern.
_PRIORITY = {"type": 0, "required": 1, "additionalProperties": 1, "enum": 2, "format": 3}

FORMATS = FormatChecker(formats=())


@FORMATS.checks("ipv4-cidr", raises=ValueError)
def _is_ipv4_cidr(value: object) -> bool:
    """`format: ipv4-cidr`: a real network address (Proton's regex patterns accept 999.0.0.0/16)."""
    if isinstance(value, str):
        network = ipaddress.IPv4Network(value, strict=True)
        if str(network) != value:  # Python reads "10.20.0.0/016"; EC2 and CloudFormation do not
            raise ValueError(f"write it as {network}")
    return True


@FORMATS.checks("ipv4", raises=ValueError)
def _is_ipv4(value: object) -> bool:
    """`format: ipv4`: one IPv4 address (a virtual IP, a server)."""
    if isinstance(value, str):
        ipaddress.IPv4Address(value)
    return True


class SchemaDefinitionError(Exception):
    """A template's own schema is broken: a platform-team bug, reported with the schema file, the field path in
    it (empty: the document as a whole) and what is wrong."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source, self.path, self.message = source, path, message
        super().__init__(f"{source}:{path}: {message}" if path else f"{source}: {message}")


@dataclass(frozen=True)
class InputSchema:
    """One root input type (environment, service instance or pipeline) as a JSON Schema."""

    root: str
    json_schema: Mapping[str, Any]
    validator: Draft7Validator = field(compare=False, repr=False)
    # An open schema (a Proton-layout template: OpenAPI objects take keys they do not name, as Proton did): the
    # closed form of it, so that the keys it does not name can still be told (`unnamed`).
    closed: Draft7Validator | None = field(default=None, compare=False, repr=False)

    def unnamed(self, instance: object) -> list[str]:
        """The paths of the keys an open schema accepts without naming them ([] for a closed schema)."""
        if self.closed is None:
            return []
        return sorted(join_path(*e.absolute_path, key) for e in self.closed.iter_errors(instance)
                      if e.validator == "additionalProperties" for key in leaf_keys(e))

    def properties(self) -> Mapping[str, Any]:
        found: Mapping[str, Any] = resolve(self.json_schema, self.json_schema).get("properties", {})
        return found

    def validate(self, instance: object) -> list[InputProblem]:
        """Apply defaults then validate; returns (path, message, got, expected) for each problem."""
        seen: dict[str, tuple[str, str, Any, str | None]] = {}
        for err in sorted(_sorted_errors(self.validator, instance), key=lambda e: _PRIORITY.get(str(e.validator), 9)):
            for problem in describe_all(err):
                seen.setdefault(problem[0], problem)  # one problem per field: the most basic one
        return [seen[k] for k in sorted(seen)]

    def with_defaults(self, instance: Mapping[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(dict(instance))
        apply_defaults(self.json_schema, self.json_schema, out)
        return out


def _sorted_errors(validator: Draft7Validator, instance: object) -> list[jsonschema.ValidationError]:
    errors: list[jsonschema.ValidationError] = []
    for err in validator.iter_errors(instance):
        # anyOf/oneOf are not used by Proton schemas; flatten contexts defensively all the same.
        errors.extend(err.context or [err])
    return sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.validator))


def load_proton_schema(document: object, *, source: str, closed: bool = True) -> dict[str, InputSchema]:
    """`schema.yaml` -> {"environment" | "service" | "pipeline": InputSchema}; any YAML document in, so a file
    that is not a mapping gets this error, not a type error. `closed=False` (a user's Proton-layout template):
    objects keep OpenAPI's meaning, taking keys they do not name unless they say `additionalProperties: false`,
    since Proton accepted such specs (AWS's own samples have one)."""
    body = document.get("schema") if isinstance(document, Mapping) else None
    if not isinstance(body, Mapping):
        raise SchemaDefinitionError(source, "", "expected a top-level `schema:` mapping")
    declared = body.get("format")
    fmt = declared.get("openapi") if isinstance(declared, Mapping) else None
    if str(fmt) != "3.0.0":
        raise SchemaDefinitionError(source, "schema.format.openapi", f"expected \"3.0.0\", got {fmt!r}")
    types = body.get("types")
    if not isinstance(types, Mapping) or not types:
        raise SchemaDefinitionError(source, "schema.types", "expected a mapping of named types")
    for name, t in types.items():
        _check_keywords(t, source, f"schema.types.{name}")
    _check_refs(types, source)
    roots = {
        "environment": body.get("environment_input_type"),
        "service": body.get("service_input_type"),
        "pipeline": body.get("pipeline_input_type"),
    }
    out: dict[str, InputSchema] = {}
    definitions = {name: _strict(_rewrite_refs(t)) for name, t in types.items()}
    opened = {name: _rewrite_refs(t) for name, t in types.items()} if not closed else definitions
    for name, t in definitions.items():
        _check_type(t, source, f"schema.types.{name}")
    for kind, root in roots.items():
        if root is None:
            continue
        if not isinstance(root, str) or root not in types:
            raise SchemaDefinitionError(source, f"schema.{kind}_input_type",
                                        f"unknown type {root!r} (known: {', '.join(map(str, types))})")
        strict = _with_definitions(definitions[root], definitions)
        js = strict if closed else _with_definitions(opened[root], opened)
        out[kind] = InputSchema(root=root, json_schema=js, validator=Draft7Validator(js, format_checker=FORMATS),
                                closed=None if closed else Draft7Validator(strict, format_checker=FORMATS))
    if not out:
        raise SchemaDefinitionError(source, "schema", "names no environment_input_type or service_input_type")
    return out


def _with_definitions(root: object, definitions: Mapping[str, object]) -> dict[str, Any]:
    """A root type with every type beside it (each checked by `_check_type`)."""
    js = dict(cast(Mapping[str, Any], copy.deepcopy(root)))
    js["definitions"] = copy.deepcopy(dict(definitions))
    return js


#: Draft 7's metaschema with its format checker (a `pattern` must be a regular expression), as check_schema uses.
_META = Draft7Validator(Draft7Validator.META_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
#: The types (one level of each) already found valid, as canonical JSON: the versions of a template share most of
#: their inputs, and checking every schema of the registry whole was half the time of loading it.
_CHECKED: set[str] = set()


def _check_type(node: object, source: str, where: str) -> None:
    """One type against Draft 7's metaschema: a value of the wrong kind (`minimum: "zero"`), a pattern that is no
    regular expression. Level by level (its properties and items each on their own, as the metaschema checks
    them), so that a property shared by many types and versions is checked once."""
    shallow, inner = node, {}
    if isinstance(node, Mapping):
        shallow = dict(node)
        if isinstance(node.get("properties"), Mapping):
            shallow["properties"] = {key: {} for key in node["properties"]}
            inner.update({f".properties.{key}": sub for key, sub in node["properties"].items()})
        if isinstance(node.get("items"), Mapping):
            shallow["items"] = {}
            inner[".items"] = node["items"]
    canonical = json.dumps(shallow, sort_keys=True, default=repr)
    if canonical not in _CHECKED:
        error = jsonschema.exceptions.best_match(_META.iter_errors(shallow))
        if error is not None:
            path = "".join(f".{part}" if isinstance(part, str) else f"[{part}]" for part in error.absolute_path)
            raise SchemaDefinitionError(source, where + path, error.message)
        _CHECKED.add(canonical)
    for suffix, sub in inner.items():
        _check_type(sub, source, where + suffix)


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref":
                yield str(value)
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _check_refs(types: Mapping[str, object], source: str) -> None:
    """Every `$ref` names a type of this schema, and no type contains itself: Keel walks types to fill defaults
    and list inputs, and a recursive type would have no end (Proton's inputs are finite documents)."""
    named: dict[str, list[str]] = {}
    for name, body in types.items():
        named[str(name)] = []
        for ref in _refs(body):
            match = _REF.match(ref)
            if not match:
                raise SchemaDefinitionError(source, f"schema.types.{name}", f"$ref {ref!r}: expected '#/types/<Name>'")
            if match.group(1) not in types:
                raise SchemaDefinitionError(source, f"schema.types.{name}", f"$ref {ref!r}: no type {match.group(1)!r} "
                                            f"in schema.types (known: {', '.join(map(str, types))})")
            named[str(name)].append(match.group(1))
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            cycle = " -> ".join((*trail[trail.index(name):], name))
            raise SchemaDefinitionError(source, f"schema.types.{trail[-1]}",
                                        f"the type refers to itself ({cycle}); recursive types are not supported")
        if name in done:
            return
        for target in named[name]:
            visit(target, (*trail, name))
        done.add(name)

    for name in named:
        visit(name, ())


def _check_keywords(node: object, source: str, where: str) -> None:
    if not isinstance(node, Mapping):
        raise SchemaDefinitionError(source, where, "expected a mapping")
    unknown = set(node) - SUPPORTED_KEYWORDS
    if unknown:
        raise SchemaDefinitionError(source, where, f"unsupported schema keyword(s) {sorted(map(str, unknown))}")
    properties = node.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise SchemaDefinitionError(source, f"{where}.properties", "expected a mapping of input names to types")
    for key, sub in properties.items():
        _check_keywords(sub, source, f"{where}.properties.{key}")
    if isinstance(node.get("items"), Mapping):
        _check_keywords(node["items"], source, f"{where}.items")


def _rewrite_refs(node: object) -> object:
    if isinstance(node, Mapping):
        out: dict[str, object] = {}
        for key, value in node.items():
            if key == "$ref":
                match = _REF.match(str(value))
                assert match is not None, "checked by _check_refs"
                out[key] = f"#/definitions/{match.group(1)}"
            else:
                out[key] = _rewrite_refs(value)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def _strict(node: object) -> object:
    """Close every object type: unknown keys are errors (a typo must never be silently ignored)."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for key in ("properties",):
            for sub in (node.get(key) or {}).values():
                _strict(sub)
        if isinstance(node.get("items"), dict):
            _strict(node["items"])
    return node


def resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        return resolve(root["definitions"][ref.rsplit("/", 1)[1]], root)
    return node


def apply_defaults(node: Mapping[str, Any], root: Mapping[str, Any], instance: object) -> None:
    """Fill schema defaults into `instance` in place, recursing into objects and arrays of objects.

    An object input with no default of its own but defaults inside is created, so nested groups
    (`anywhere: {enabled: false, ...}`) get their defaults even when the user omits the group; one with
    required inputs (`existing_vpc: {vpc_id, ...}`) is not: omitted, it stays absent.
    """
    node = resolve(node, root)
    if isinstance(instance, dict) and node.get("type") == "object":
        for key, sub in (node.get("properties") or {}).items():
            sub_r = resolve(sub, root)
            if key not in instance:
                if "default" in sub_r:
                    instance[key] = copy.deepcopy(sub_r["default"])
                elif sub_r.get("type") == "object" and has_defaults(sub_r, root) and not sub_r.get("required"):
                    instance[key] = {}
            if key in instance:
                apply_defaults(sub_r, root, instance[key])
    elif isinstance(instance, list) and isinstance(node.get("items"), Mapping):
        for item in instance:
            apply_defaults(node["items"], root, item)


def has_defaults(node: Mapping[str, Any], root: Mapping[str, Any]) -> bool:
    """Whether `apply_defaults` fills anything into an empty object of this type."""
    for sub in (node.get("properties") or {}).values():
        sub = resolve(sub, root)
        if "default" in sub or (sub.get("type") == "object" and has_defaults(sub, root)):
            return True
    return False


def iter_properties(schema: InputSchema) -> Iterator[tuple[str, Mapping[str, Any], bool]]:
    """(dotted path, property schema, required) for every input, depth first; for docs and checks."""
    yield from _walk(schema.json_schema, schema.json_schema, "")


def _walk(node: Mapping[str, Any], root: Mapping[str, Any], prefix: str
          ) -> Iterator[tuple[str, Mapping[str, Any], bool]]:
    node = resolve(node, root)
    required = set(node.get("required") or ())
    for key, sub in (node.get("properties") or {}).items():
        sub_r = resolve(sub, root)
        path = f"{prefix}.{key}" if prefix else key
        yield path, sub_r, key in required
        if sub_r.get("type") == "object":
            yield from _walk(sub_r, root, path)
        elif sub_r.get("type") == "array" and isinstance(sub_r.get("items"), Mapping):
            items = resolve(sub_r["items"], root)
            if items.get("type") == "object":
                yield from _walk(items, root, f"{path}[]")


def describe_all(err: jsonschema.ValidationError) -> list[tuple[str, str, Any, str | None]]:
    """`describe`, with one problem per unknown key (jsonschema reports them all in one error)."""
    if err.validator == "additionalProperties":
        return [describe(err, key) for key in leaf_keys(err)]
    return [describe(err)]


def describe(err: jsonschema.ValidationError, key: str | None = None) -> tuple[str, str, Any, str | None]:
    """A jsonschema error in words a developer can act on: (path, message, got, expected).
    `key`: which unknown key of an additionalProperties error (default: the first)."""
    path = join_path(*err.absolute_path) if err.absolute_path else ""
    v, sch = err.validator, err.validator_value
    inst = err.instance
    if v == "additionalProperties":
        allowed = sorted((err.schema.get("properties") or {}).keys())
        return (join_path(path, key or leaf_key(err)), "unknown input",
                MISSING, "one of: " + ", ".join(allowed) if allowed else "no inputs here")
    if v == "required":
        missing = leaf_key(err)
        return (join_path(path, missing), "required input is missing",
                MISSING, _type_words(err.schema.get("properties", {}).get(missing, {})))
    if v == "type":
        return path, "has the wrong type", inst, _type_words({"type": sch})
    if v == "enum":
        return path, "is not an allowed value", inst, "one of " + ", ".join(map(_lit, sch))
    if v == "minimum":
        return path, f"is less than the minimum {sch}", inst, f"at least {sch}"
    if v == "maximum":
        return path, f"is greater than the maximum {sch}", inst, f"at most {sch}"
    if v == "exclusiveMinimum":
        return path, "is too small", inst, f"more than {sch}"
    if v == "exclusiveMaximum":
        return path, "is too large", inst, f"less than {sch}"
    if v == "minLength":
        return path, "is too short", inst, f"at least {sch} character{'s' if sch != 1 else ''}"
    if v == "maxLength":
        return path, "is too long", inst, f"at most {sch} characters"
    if v == "pattern":
        return path, "does not match the required pattern", inst, f"a match for /{sch}/"
    if v == "minItems":
        return path, "has too few items", inst, f"at least {sch}"
    if v == "maxItems":
        return path, "has too many items", inst, f"at most {sch}"
    if v == "uniqueItems":
        return path, "has duplicate items", inst, "each item once"
    if v == "format" and sch == "ipv4-cidr":
        cause = err.cause if err.cause else None
        why = f": {cause}" if cause else ""
        return path, f"is not a valid CIDR block{why}", inst, "an IPv4 network such as 10.0.0.0/16"
    if v == "format" and sch == "ipv4":
        return path, "is not a valid IPv4 address", inst, "an address such as 10.0.0.10"
    if v == "multipleOf":
        return path, f"is not a multiple of {sch}", inst, f"a multiple of {sch}"
    return path, err.message, inst, None


def leaf_key(err: jsonschema.ValidationError) -> str:
    """The key an additionalProperties or required error is about (the path stops at its parent)."""
    return leaf_keys(err)[0]


def leaf_keys(err: jsonschema.ValidationError) -> list[str]:
    """Every unknown key of an additionalProperties error; the one missing key of a required error."""
    inst = err.instance
    if err.validator == "additionalProperties":
        allowed = set((err.schema.get("properties") or {}).keys())
        extra = sorted(map(str, set(inst) - allowed)) if isinstance(inst, Mapping) else []
        return extra or ["?"]
    if err.validator == "required":
        # jsonschema raises one error per missing key, each naming it only in its message
        missing = [str(k) for k in err.validator_value if not isinstance(inst, Mapping) or k not in inst]
        named = [k for k in missing if err.message == f"{k!r} is a required property"]
        return named[:1] or missing[:1] or ["?"]
    return [""]


def _lit(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def _type_words(node: Mapping[str, Any]) -> str:
    t = node.get("type")
    names = {"string": "a string", "number": "a number", "integer": "an integer",
             "boolean": "true or false", "object": "a mapping", "array": "a list"}
    if isinstance(t, list):
        return " or ".join(names.get(str(x), str(x)) for x in t)
    return names.get(str(t), "a value") if t else "a value"
