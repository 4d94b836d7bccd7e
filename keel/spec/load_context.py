"""What every part of loading a platform shares: where the files are, the registry, the problems found so far,
and the reading and resolving every part does the same way (YAML files, spec files, template references,
inputs against a schema). The parts (environments, services, cross-instance checks) each take one of these."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, ValidationError

from keel.contract.naming import KEEL_NAME_MAX, KEEL_NAME_PATTERN, PROTON_OUTPUTS, SHARED, keel_name
from keel.contract.registry import Registry, TemplateRef, TemplateVersion
from keel.contract.schema import InputSchema, describe, leaf_keys
from keel.spec.errors import MISSING, Problems, join_path
from keel.spec.model import Environment, Override
from keel.spec.paths import OutsideProject, inside_project, project_root
from keel.spec.proton import ProtonInputs, Rendered, RenderError, render
from keel.spec.registry import with_template_dirs
from keel.spec.typed import to_dataclass
from keel.spec.yamlio import YamlReadError, parse_yaml, read_yaml


def reserved_service_names(registry: Registry) -> dict[str, str]:
    """Names no service may take, and why: environments publish their outputs under
    `/keel/<environment>/<segment>/...` (the first segment of every environment template's declared outputs),
    where a service's config and outputs live under `/keel/<environment>/<service>/...`; `shared`, the
    config path every service reads; and `outputs`, where a Proton-format environment publishes its Outputs."""
    owners: dict[str, set[str]] = {}
    for version in registry.all_versions():
        if version.kind == "environment":
            for key in version.outputs:
                owners.setdefault(key.split("/", 1)[0], set()).add(version.name)
    reserved = {segment: f"{', '.join(sorted(names))} publish{'es' if len(names) == 1 else ''} environment outputs "
                f"under /keel/<environment>/{segment}/" for segment, names in owners.items()}
    reserved[SHARED] = f"/keel/<environment>/{SHARED}/ is the config path every service reads"
    reserved[PROTON_OUTPUTS] = (f"Proton-format environments publish their template's Outputs under "
                                f"/keel/<environment>/{PROTON_OUTPUTS}/<Name>")
    return reserved


class LoadContext:
    def __init__(self, path: Path, registry: Registry, texts: Mapping[Path, str] | None = None) -> None:
        self.texts = {Path(p).resolve(): t for p, t in (texts or {}).items()}
        self.path = path
        self.base = path.parent
        self.root = project_root(path)
        self.file = display(path)
        self.registry = registry
        self.problems = Problems()
        self.reserved = reserved_service_names(registry)
        self.platform_name = "keel"  # the platform's name: Copilot add-ons' App parameter
        self.delivery: object = None  # the raw delivery section: Proton's service.* repository names (issue 15)
        self.notes: list[str] = []  # what is accepted but worth saying (`keel validate` prints them)
        #: environment -> (file, spec path) of its inputs: where its config plane's entries are (CrossChecks)
        self.config_sites: dict[str, tuple[str, str]] = {}

    def structure(self, doc: object, schema: Mapping[str, Any], file: str, prefix: str = "") -> set[str]:
        """Structural validation; returns the display paths of the entries that had problems: the entry of a
        list (`environments[dev]`) for a problem inside one, the key itself for a top-level key's own
        (`template_dirs: 5`), so a caller never reads a wrong-typed value."""
        bad: set[str] = set()
        errors = [leaf for err in Draft7Validator(schema).iter_errors(doc) for leaf in _branch_errors(err)]
        for err in sorted(errors, key=lambda e: list(map(str, e.path))):
            for key in leaf_keys(err):
                _, message, got, expected = _one_of(err) or describe(err, key or None)
                shown = named_path(doc, list(err.absolute_path))
                if err.validator in ("additionalProperties", "required"):
                    shown = join_path(shown, key)
                if "propertyNames" in err.schema_path:
                    message, got, expected = "is not a valid tag key", err.instance, \
                        "1-128 letters, digits, spaces or _.:/=+@- and no aws: prefix"
                elif err.validator == "pattern" and "tags" in list(err.absolute_path):
                    message, expected = "contains a control character", "printable text (no tab, newline or NUL)"
                self.problems.add(file, join_path(prefix, shown) if prefix else shown, message, got, expected)
            parts = list(err.absolute_path)
            if parts:
                bad.add(named_path(doc, parts[:2]))
        return bad

    def yaml(self, path: Path, shown: str) -> object:
        text = self.texts.get(path.resolve())
        return read_yaml(path, display=shown) if text is None else parse_yaml(text, display=shown)

    def read(self, relative: str, where: str) -> tuple[object, str] | None:
        """A spec file named at `where`: (document, displayed path), or None with the problem recorded."""
        try:
            path = inside_project(self.root, self.base, relative)
        except OutsideProject as exc:
            self.problems.add(self.file, where, f"cannot use spec file: it {exc}", relative, exc.expected)
            return None
        shown = display(path)
        try:
            return self.yaml(path, shown), shown
        except YamlReadError as exc:
            if exc.path:  # a value inside the file: located there
                self.problems.add(exc.file, exc.path, exc.message, exc.got, exc.expected)
            else:
                self.problems.add(self.file, where, f"cannot use spec file: {exc.message}", relative, exc.expected)
            return None

    def spec_file(self, raw: Mapping[str, Any], where: str,
                  schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], str] | None:
        """The Proton spec file an entry names (`spec_file` at `where`), read and checked against `schema`:
        (document, displayed path), or None with the problems recorded."""
        read = self.read(raw["spec_file"], f"{where}.spec_file")
        if read is None:
            return None
        doc, shown = read
        if self.structure(doc, schema, shown) or not isinstance(doc, Mapping):
            return None
        return doc, shown

    def template(self, text: object, kind: str, file: str, path: str) -> tuple[TemplateRef, TemplateVersion] | None:
        try:
            ref = TemplateRef.parse(str(text))
        except ValueError:
            self.problems.add(file, path, "is not a template reference", text,
                              "name:major or name:major.minor, e.g. vpc-env:1")
            return None
        try:
            found = self.registry.resolve(ref)
        except LookupError as exc:
            self.problems.add(file, path, str(exc), str(text))
            return None
        if found.kind != kind:
            self.problems.add(file, path, f"template \"{found.name}\" is {article(found.kind)} template", str(text),
                              f"{article(kind)} template")
            return None
        return ref, found

    def inputs(self, schema: InputSchema, raw: Mapping[str, Any], file: str, prefix: str, cls: type) -> object:
        values = schema.with_defaults(raw)
        problems = schema.validate(values)
        for path, message, got, expected in problems:
            self.problems.add(file, join_path(prefix, path) if path else prefix, message, got, expected)
        if not problems and cls is ProtonInputs:
            for path in schema.unnamed(values):
                self.notes.append(f"{file}:{join_path(prefix, path)}: not named by the template's schema; passed to "
                                  "its template as Proton passed it (check the spelling)")
            return ProtonInputs(values)
        return None if problems else to_dataclass(cls, values)

    def checks(self, template: TemplateVersion, inputs: object, env: Environment, file: str, prefix: str) -> None:
        check = template.checks()
        if check is None or inputs is None:
            return
        for path, message, got, expected in check(inputs, env):
            self.problems.add(file, join_path(prefix, path) if path else prefix, message, got, expected)

    def keel_name(self, name: str, file: str, path: str) -> str | None:
        """The Keel form of a (Proton-valid) name, or None with a located problem when it cannot name stacks."""
        key = keel_name(name)
        if len(key) > KEEL_NAME_MAX:
            self.problems.add(file, path, f"is too long for Keel's stack and resource names ({len(key)} characters "
                              f"as \"{key}\")", name, f"at most {KEEL_NAME_MAX} characters")
            return None
        if not re.match(KEEL_NAME_PATTERN, key):
            self.problems.add(file, path, "gives no usable stack name (nothing but - and _)", name,
                              "a letter or digit")
            return None
        return key

    def render(self, template: TemplateVersion, context: Mapping[str, Any], file: str, where: str) -> Rendered | None:
        assert template.proton is not None
        try:
            return render(template.proton.infrastructure, context,
                          display=display(template.proton.infrastructure))
        except RenderError as exc:
            self.problems.add(exc.file, exc.where, exc.message, MISSING,
                              f"a template that renders for {where} of {file}")
            return None

    # Proton-format template folders (issue 15)
    def template_dirs(self, entries: Sequence[Any]) -> None:
        """The platform's own template folders join the registry; a bad folder is a located problem."""
        folders: list[tuple[Path, str, str]] = []
        for n, entry in enumerate(entries):
            given, prefix = (entry, "") if isinstance(entry, str) else (entry["path"], entry.get("prefix", ""))
            where = f"template_dirs[{n}]" + ("" if isinstance(entry, str) else ".path")
            try:
                folder = inside_project(self.root, self.base, given)
            except OutsideProject as exc:
                self.problems.add(self.file, where, f"cannot use template folder: it {exc}", given, exc.expected)
                continue
            if not folder.is_dir():
                self.problems.add(self.file, where, "is not a folder", given,
                                  "a folder of template folders, relative to the platform file")
                continue
            folders.append((folder, prefix, f"template_dirs[{n}]"))
        if not folders:
            return
        self.registry, problems = with_template_dirs(self.registry, folders, root=self.root)
        for problem in problems:
            self.problems.add(display(Path(problem.file)) if problem.file else self.file, problem.path,
                              problem.message, MISSING if problem.got is None else problem.got, problem.expected)
        self.reserved = reserved_service_names(self.registry)


def overrides(raw: object, file: str, where: str) -> tuple[Override, ...]:
    """Structurally checked already; whether the resource and property exist is judged at synth."""
    return tuple(Override(resource=str(o["resource"]), path=str(o["path"]), value=o["value"],
                          where=f"{file}:{join_path(where, 'overrides', n)}")
                 for n, o in enumerate(as_list(raw)) if isinstance(o, Mapping))


def article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _branch_errors(err: ValidationError) -> list[ValidationError]:
    """A oneOf/anyOf error as the errors of the one branch whose type the value has (`{path: 5}` in
    `template_dirs` is the mapping form with a wrong `path`); itself when no branch or several have it."""
    if err.validator not in ("oneOf", "anyOf"):
        return [err]
    wrong_type = {e.relative_schema_path[0] for e in err.context if e.validator == "type" and not e.relative_path}
    branches = {e.relative_schema_path[0] for e in err.context} - wrong_type
    if len(branches) != 1:
        return [err]
    return [leaf for e in err.context if e.relative_schema_path[0] in branches for leaf in _branch_errors(e)]


def _one_of(err: ValidationError) -> tuple[str, str, object, str | None] | None:
    """A value of none of a oneOf's types, in words: `(got 5, expected a string or a mapping)`."""
    if err.validator not in ("oneOf", "anyOf"):
        return None
    types = [describe(e)[3] for e in err.context if e.validator == "type" and not e.relative_path]
    if not types or len(types) != len(err.validator_value):
        return None
    return "", "has the wrong type", err.instance, " or ".join(t for t in types if t)


def named_path(doc: object, parts: Sequence[Any]) -> str:
    """['environments', 0, 'region'] -> 'environments[dev].region' (names read better than indexes)."""
    out = ""
    node = doc
    for n, part in enumerate(parts):
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            parent = parts[n - 1] if n else None
            name = item.get("name") if isinstance(item, Mapping) else None
            if parent in ("environments", "services") and isinstance(name, str) and name:
                out += f"[{name}]"
            else:
                out += f"[{part}]"
            node = item
        else:
            out = join_path(out, str(part)) if out else str(part)
            node = node.get(part) if isinstance(node, Mapping) else None
    return out


def display(path: Path) -> str:
    """Paths relative to the working directory when they are under it: what a user typed."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
