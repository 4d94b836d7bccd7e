"""Schema comparison: does a version accept every spec the previous one accepted, and build the same?

`compare_versions(old, new)` lists every difference between two template versions' inputs as a
`Change`; a change is *breaking* when a spec that `old` accepted is refused by `new` (a removed input,
a new required input without a default, a narrowed type, enum, range, length, pattern or format) or
when a spec that omits an input gets a different value (a changed, added or removed default: Keel
cannot prove offline that the builder ignores it, so the template author has to say so with
`acknowledged_changes`). Added optional inputs and widened constraints are not breaking.

CDK-free: `keel templates check`, `keel outdated` and `keel upgrade` use it in milliseconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator

from keel.contract.registry import Registry, Template, TemplateVersion
from keel.contract.schema import FORMATS, InputSchema, apply_defaults, describe, has_defaults, iter_properties, resolve
from keel.spec.errors import render_value

# Where an input lives in a spec, by schema section (what a user sees in platform.yaml / spec files).
SECTION_PREFIX = {"environment": "spec", "service": "spec", "pipeline": "pipeline"}
_LOWER = (("minimum", "exclusiveMinimum"), ("minLength", None), ("minItems", None))
_UPPER = (("maximum", "exclusiveMaximum"), ("maxLength", None), ("maxItems", None))
_WORDS = {"minimum": "minimum", "maximum": "maximum", "minLength": "minimum length",
          "maxLength": "maximum length", "minItems": "minimum item count", "maxItems": "maximum item count"}


@dataclass(frozen=True)
class Change:
    """One difference between two versions' inputs, at a spec path such as `spec.nat_gateways`."""

    path: str
    kind: str  # removed | required | added | type | enum | range | pattern | format | default | ...
    message: str
    breaking: bool
    acknowledged: str | None = None  # the template author's reason, when a breaking change is declared safe

    @property
    def blocking(self) -> bool:
        """Breaking and not acknowledged: what fails `keel templates check` for a minor version."""
        return self.breaking and self.acknowledged is None

    def render(self) -> str:
        mark = "breaking" if self.blocking else "acknowledged" if self.breaking else "compatible"
        tail = f" (acknowledged: {self.acknowledged})" if self.breaking and self.acknowledged else ""
        return f"{self.path}: {self.message} [{mark}]{tail}"


def compare_schemas(old: InputSchema | None, new: InputSchema | None, *, prefix: str) -> list[Change]:
    """Every input difference between two root schemas; `prefix` is the spec path (`spec`, `pipeline`)."""
    if old is None and new is None:
        return []
    if new is None:
        assert old is not None
        return [Change(f"{prefix}.{name}", "removed", "input removed (the new version takes no "
                       f"{prefix} inputs)", True) for name in old.properties()]
    old_js: Mapping[str, Any] = old.json_schema if old else {"type": "object", "properties": {}}
    return list(_object(old_js, old_js, new.json_schema, new.json_schema, prefix))


def compare_versions(old: TemplateVersion, new: TemplateVersion) -> list[Change]:
    """Inputs, compatible environments and outputs: what moving a spec from `old` to `new` means."""
    changes: list[Change] = []
    if old.kind != new.kind:
        changes.append(Change("", "kind", f"kind changed from {old.kind} to {new.kind}", True))
    for section in ("environment", "service", "pipeline"):
        changes += compare_schemas(old.schemas.get(section), new.schemas.get(section),
                                   prefix=SECTION_PREFIX[section])
    for env_name, major in old.compatible_environments:
        if (env_name, major) not in new.compatible_environments:
            changes.append(Change("compatible_environments", "environments",
                                  f"no longer compatible with {env_name}:{major} environments", True))
    for env_name, major in new.compatible_environments:
        if (env_name, major) not in old.compatible_environments:
            changes.append(Change("compatible_environments", "environments",
                                  f"now also compatible with {env_name}:{major} environments", False))
    for key in old.outputs:
        if key not in new.outputs:
            changes.append(Change(f"outputs.{key}", "output", "output removed (consumers that read it break)",
                                  True))
    for key in new.outputs:
        if key not in old.outputs:
            changes.append(Change(f"outputs.{key}", "output", "output added", False))
    return [_acknowledge(c, new.acknowledged_changes) for c in changes]


def _acknowledge(change: Change, acknowledged: Mapping[str, str]) -> Change:
    if not change.breaking:
        return change
    bare = change.path.split(".", 1)[1] if change.path.startswith(("spec.", "pipeline.")) else change.path
    reason = acknowledged.get(change.path) or acknowledged.get(bare)
    return Change(change.path, change.kind, change.message, True, reason) if reason else change


# -- the walk -------------------------------------------------------------------------------------

def _object(old: Mapping[str, Any], old_root: Mapping[str, Any], new: Mapping[str, Any],
            new_root: Mapping[str, Any], prefix: str) -> Iterator[Change]:
    old, new = resolve(old, old_root), resolve(new, new_root)
    old_props: Mapping[str, Any] = old.get("properties") or {}
    new_props: Mapping[str, Any] = new.get("properties") or {}
    old_req, new_req = set(old.get("required") or ()), set(new.get("required") or ())
    for name, old_sub in old_props.items():
        path = f"{prefix}.{name}"
        if name not in new_props:
            yield Change(path, "removed", "input removed: specs that set it are refused", True)
            continue
        new_sub = resolve(new_props[name], new_root)
        old_sub = resolve(old_sub, old_root)
        if name in new_req and name not in old_req and "default" not in new_sub:
            yield Change(path, "required", "input is now required and has no default", True)
        elif name in old_req and name not in new_req:
            yield Change(path, "required", "input is no longer required", False)
        yield from _property(old_sub, old_root, new_sub, new_root, path, optional=name not in old_req)
    for name, new_sub in new_props.items():
        if name in old_props:
            continue
        path = f"{prefix}.{name}"
        new_sub = resolve(new_sub, new_root)
        if name in new_req and "default" not in new_sub:
            yield Change(path, "required", "new required input without a default: every spec must add it", True)
        elif "default" in new_sub:
            yield Change(path, "added", f"new optional input (default {render_value(new_sub['default'])}): "
                         "the builder must reproduce the previous resources with the default", False)
        elif _created_when_omitted(new_sub, new_root):
            yield Change(path, "added", "new optional group with defaults inside: specs that omit it get "
                         f"{render_value(_filled(new_sub, new_root))}, so their resources change", True)
        else:
            yield Change(path, "added", "new optional input (no default: nothing changes unless it is set)",
                         False)


def _property(old: Mapping[str, Any], old_root: Mapping[str, Any], new: Mapping[str, Any],
              new_root: Mapping[str, Any], path: str, *, optional: bool) -> Iterator[Change]:
    yield from _types(old, new, path)
    yield from _enum(old, new, path)
    for keys in _LOWER:
        yield from _bound(old, new, path, *keys, lower=True)
    for keys in _UPPER:
        yield from _bound(old, new, path, *keys, lower=False)
    yield from _keyword_added(old, new, path, "pattern", "pattern")
    yield from _keyword_added(old, new, path, "format", "format")
    yield from _multiple_of(old, new, path)
    if new.get("uniqueItems") and not old.get("uniqueItems"):
        yield Change(path, "unique", "items must now be unique", True)
    elif old.get("uniqueItems") and not new.get("uniqueItems"):
        yield Change(path, "unique", "items no longer need to be unique", False)
    if optional:
        yield from _default(old, old_root, new, new_root, path)
    if "object" in _type_set(old) and "object" in _type_set(new):
        yield from _object(old, old_root, new, new_root, path)
    old_items, new_items = old.get("items"), new.get("items")
    if isinstance(old_items, Mapping) and isinstance(new_items, Mapping):
        old_i, new_i = resolve(old_items, old_root), resolve(new_items, new_root)
        yield from _property(old_i, old_root, new_i, new_root, f"{path}[]", optional=False)


def _type_set(node: Mapping[str, Any]) -> set[str]:
    t = node.get("type")
    if t is None:
        return {"string", "number", "integer", "boolean", "object", "array", "null"}
    types = {str(x) for x in t} if isinstance(t, list) else {str(t)}
    return types | {"integer"} if "number" in types else types


def _types(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> Iterator[Change]:
    before, after = _type_set(old), _type_set(new)
    if before == after:
        return
    shown = (render_value(old.get("type", "any")), render_value(new.get("type", "any")))
    if before - after:
        yield Change(path, "type", f"type narrowed from {shown[0]} to {shown[1]}", True)
    else:
        yield Change(path, "type", f"type widened from {shown[0]} to {shown[1]}", False)


def _enum(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> Iterator[Change]:
    before, after = old.get("enum"), new.get("enum")
    if before == after or (before is None and after is None):
        return
    if after is None:
        yield Change(path, "enum", "no longer limited to a list of values", False)
        return
    if before is None:
        yield Change(path, "enum", "now limited to " + ", ".join(map(render_value, after)), True)
        return
    removed = [v for v in before if v not in after]
    added = [v for v in after if v not in before]
    if removed:
        yield Change(path, "enum", "allowed values removed: " + ", ".join(map(render_value, removed)), True)
    if added:
        yield Change(path, "enum", "allowed values added: " + ", ".join(map(render_value, added)), False)


def _bound(old: Mapping[str, Any], new: Mapping[str, Any], path: str, key: str, exclusive: str | None,
           *, lower: bool) -> Iterator[Change]:
    """Inclusive/exclusive bounds compared as (value, strict): a higher lower bound narrows."""
    def get(node: Mapping[str, Any]) -> tuple[float, bool] | None:
        found = []
        if key in node:
            found.append((float(node[key]), False))
        if exclusive and exclusive in node:
            found.append((float(node[exclusive]), True))
        if not found:
            return None
        # the tighter of the two keywords decides
        return max(found) if lower else min(found, key=lambda b: (b[0], not b[1]))

    before, after = get(old), get(new)
    if before == after:
        return
    word = _WORDS[key]
    if after is None:
        yield Change(path, "range", f"{word} {_bound_text(before)} removed", False)
        return
    if before is None:
        yield Change(path, "range", f"new {word} {_bound_text(after)}", True)
        return
    narrower = (after[0] > before[0] or (after[0] == before[0] and after[1] and not before[1])) if lower else \
        (after[0] < before[0] or (after[0] == before[0] and after[1] and not before[1]))
    verb = "narrowed" if narrower else "widened"
    yield Change(path, "range", f"{word} {verb} from {_bound_text(before)} to {_bound_text(after)}", narrower)


def _bound_text(bound: tuple[float, bool] | None) -> str:
    if bound is None:
        return "none"
    value = int(bound[0]) if bound[0].is_integer() else bound[0]
    return f"{value} (exclusive)" if bound[1] else str(value)


def _keyword_added(old: Mapping[str, Any], new: Mapping[str, Any], path: str, key: str,
                   kind: str) -> Iterator[Change]:
    before, after = old.get(key), new.get(key)
    if before == after:
        return
    if after is None:
        yield Change(path, kind, f"{key} {render_value(before)} removed", False)
    elif before is None:
        yield Change(path, kind, f"new {key} {render_value(after)}", True)
    else:
        # Regular expressions cannot be compared offline in general: a changed one is breaking unless
        # the template author acknowledges it.
        yield Change(path, kind, f"{key} changed from {render_value(before)} to {render_value(after)}", True)


def _multiple_of(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> Iterator[Change]:
    before, after = old.get("multipleOf"), new.get("multipleOf")
    if before == after:
        return
    if after is None:
        yield Change(path, "multipleOf", f"no longer needs to be a multiple of {before}", False)
        return
    # every multiple of `after` is a multiple of `before` only if `before` divides `after`: widened
    # exactly when the new step divides the old one.
    widened = before is not None and (float(before) / float(after)).is_integer()
    was = f" (was {before})" if before is not None else ""
    yield Change(path, "multipleOf", f"must be a multiple of {after}{was}", not widened)


def _created_when_omitted(node: Mapping[str, Any], root: Mapping[str, Any]) -> bool:
    """An object input without a default of its own but with defaults inside: the loader creates it
    (`keel.contract.schema.apply_defaults`) when a spec omits it, so omitting it is not leaving it unset.
    A group with required inputs is never created: omitted, it stays unset."""
    return ("default" not in node and node.get("type") == "object" and has_defaults(node, root)
            and not node.get("required"))


def _filled(node: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """What a spec that omits the group gets: the group as the loader fills it."""
    value: dict[str, Any] = {}
    apply_defaults(node, root, value)
    return value


def _default(old: Mapping[str, Any], old_root: Mapping[str, Any], new: Mapping[str, Any],
             new_root: Mapping[str, Any], path: str) -> Iterator[Change]:
    """An optional input's default is what specs that omit it get: changing it changes their resources."""
    if _created_when_omitted(new, new_root) and not _created_when_omitted(old, old_root) and "default" not in old:
        yield Change(path, "default", f"now created as {render_value(_filled(new, new_root))} when omitted (defaults "
                     "inside): specs that omit it no longer leave it unset", True)
        return
    if _created_when_omitted(old, old_root) and not _created_when_omitted(new, new_root) and "default" not in new:
        yield Change(path, "default", f"no longer created when omitted (was {render_value(_filled(old, old_root))}): "
                     "specs that omit it get different resources", True)
        return
    has_old, has_new = "default" in old, "default" in new
    if has_old and has_new and old["default"] != new["default"]:
        yield Change(path, "default", f"default changed from {render_value(old['default'])} to "
                     f"{render_value(new['default'])}: specs that omit it get different resources", True)
    elif has_old and not has_new:
        yield Change(path, "default", f"default {render_value(old['default'])} removed: specs that omit it "
                     "get different resources", True)
    elif has_new and not has_old:
        yield Change(path, "default", f"default {render_value(new['default'])} added: specs that omit it "
                     "no longer leave it unset", True)


# -- the registry ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """A problem with the registry's lifecycle: `template@version` and what is wrong."""

    label: str
    message: str
    change: Change | None = None

    def render(self) -> str:
        return f"{self.label}: {self.change.render() if self.change else self.message}"


def minor_pairs(template: Template) -> Iterator[tuple[TemplateVersion, TemplateVersion]]:
    """(previous minor, next minor) within each major, in order."""
    for major in template.majors:
        versions = [v for v in template.versions if v.version.major == major]
        yield from itertools.pairwise(versions)


def check_registry(registry: Registry) -> tuple[list[Finding], list[Finding]]:
    """(problems, notes): problems fail `keel templates check`; notes are acknowledged breaking changes."""
    problems: list[Finding] = []
    notes: list[Finding] = []
    for template in sorted(registry.templates.values(), key=lambda t: t.name):
        for old, new in minor_pairs(template):
            for change in compare_versions(old, new):
                if change.blocking:
                    problems.append(Finding(f"{new.label} (from {old.version})", change.message, change))
                elif change.breaking:
                    notes.append(Finding(f"{new.label} (from {old.version})", change.message, change))
        for version in template.versions:
            problems += _defaults_valid(version)
            problems += _environments_exist(registry, version)
            problems += _acknowledgements_used(version, template)
    return problems, notes


def _defaults_valid(version: TemplateVersion) -> Iterator[Finding]:
    """A default that breaks its own input's constraints would refuse every spec that omits the input."""
    for section, schema in version.schemas.items():
        definitions = schema.json_schema.get("definitions", {})
        for path, prop, _ in iter_properties(schema):
            if "default" not in prop:
                continue
            validator = Draft7Validator({**prop, "definitions": definitions}, format_checker=FORMATS)
            for err in validator.iter_errors(prop["default"]):
                _, message, got, expected = describe(err)
                yield Finding(version.label, f"{SECTION_PREFIX[section]}.{path}: the default {render_value(got)} "
                              f"{message}" + (f" (expected {expected})" if expected else ""))


def _environments_exist(registry: Registry, version: TemplateVersion) -> Iterator[Finding]:
    for env_name, major in version.compatible_environments:
        env = registry.templates.get(env_name)
        if env is None:
            yield Finding(version.label, f"compatible environment {env_name}:{major}: no template named "
                          f"\"{env_name}\" (known environment templates: {_env_names(registry)})")
        elif env.kind != "environment":
            yield Finding(version.label, f"compatible environment {env_name}:{major}: \"{env_name}\" is a "
                          f"{env.kind} template")
        elif env.recommended(major) is None:
            have = ", ".join(str(v.version) for v in env.versions)
            yield Finding(version.label, f"compatible environment {env_name}:{major}: {env_name} has no "
                          f"major version {major} (available: {have})")


def _acknowledgements_used(version: TemplateVersion, template: Template) -> Iterator[Finding]:
    """An acknowledgement that matches no change is stale (or a typo hiding a real change)."""
    if not version.acknowledged_changes:
        return
    previous = [v for v in template.versions if v.version.major == version.version.major
                and v.version < version.version]
    if not previous:
        yield Finding(version.label, "acknowledged_changes on the first version of a major: nothing to compare")
        return
    used = {c.path for c in compare_versions(previous[-1], version) if c.acknowledged}
    for path in version.acknowledged_changes:
        if not any(p == path or p.endswith(f".{path}") for p in used):
            yield Finding(version.label, f"acknowledged_changes.{path}: no breaking change at this input")


def _env_names(registry: Registry) -> str:
    return ", ".join(sorted(t.name for t in registry.templates.values() if t.kind == "environment")) or "none"


def summarize(changes: Sequence[Change]) -> str:
    """`2 breaking, 1 compatible` for tables."""
    blocking = sum(c.blocking for c in changes)
    acknowledged = sum(c.breaking and not c.blocking for c in changes)
    compatible = sum(not c.breaking for c in changes)
    parts = [f"{n} {w}" for n, w in ((blocking, "breaking"), (acknowledged, "acknowledged"),
                                     (compatible, "compatible")) if n]
    return ", ".join(parts) or "no input changes"
