"""Cache keys of `keel synth`: one per stack, over everything that can change the stack's output. CDK-free.

A stack's key covers
- its slice of the platform model: the environment (an environment stack), or the instance, its service's
  own fields (not the other instances) and its environment (an instance stack);
- the files the slice names (a Lambda's code folder, an API contract), by content;
- the code of the template versions it uses (their folders), and the rest of `keel/` (everything but the
  other templates' folders), `lambda_src/`, `app.py`;
- the lockfiles, and the CDK context (cdk.json's and `-c`'s), and the synth's switches (validation, CRDs).
Anything the key cannot read exactly (an object without a stable form) makes the key unique to this run, so
the cache can miss but never serve a stale stack.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from keel.contract.registry import TemplateVersion
from keel.spec.model import Environment, PlatformModel, Service, ServiceInstance

#: Bumped when the cache's layout or what a key covers changes.
CACHE_FORMAT = "1"
LOCKFILES = ("requirements.txt", "requirements-dev.txt", "package.json", "package-lock.json", "pyproject.toml",
             "cdk.json")
#: Context entries the model already carries (the platform file, image overrides): not in every key.
MODEL_CONTEXT = ("keel:platform", "keel:image:")
_SKIP_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
#: Fields of the model that name the spec file a value came from: parsed into the model already.
_SOURCE_FIELDS = {"source"}
#: How Keel code names a template package (imports, and template.yaml's `module:object` strings).
_TEMPLATE_REF = re.compile(r"keel[./]templates[./]([a-z0-9_]+)")


class Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


def hash_tree(path: Path, digest: Digest) -> None:
    """Every file under `path` (or `path` itself) by relative name and content; caches and bytecode skipped."""
    if path.is_file():
        digest.update(b"f\0" + path.read_bytes())
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_PARTS)
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            file = Path(root, name)
            digest.update(str(file.relative_to(path)).encode() + b"\0" + file.read_bytes() + b"\0")


def canonical(value: object, root: str = "") -> object:
    """A JSON-able form of a model value; TemplateVersions by label (their code is hashed on its own), paths
    inside `root` relative to it (a tree exported to a new temporary folder keys as the same tree)."""
    if isinstance(value, TemplateVersion):
        return {"template": value.label}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # `source: str` names the spec file a value came from, for messages: it builds nothing
        return {"type": type(value).__qualname__,
                **{f.name: canonical(getattr(value, f.name), root) for f in dataclasses.fields(value)
                   if not (f.name in _SOURCE_FIELDS and isinstance(getattr(value, f.name), str))}}
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, Mapping):
        return {str(k): canonical(v, root) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v, root) for v in value]
    if isinstance(value, (frozenset, set)):
        return sorted((canonical(v, root) for v in value), key=repr)
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        return "<root>/" + value[len(root) + 1:] if root and value.startswith(root + os.sep) else value
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return f"unstable:{uuid.uuid4()}"  # no stable form: never served from the cache


def _strings(value: object, *, skip: bool = False) -> Iterable[str]:
    if dataclasses.is_dataclass(value) and not isinstance(value, (type, TemplateVersion)):
        for f in dataclasses.fields(value):
            if f.name not in _SOURCE_FIELDS:
                yield from _strings(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str) and not skip:
        yield value


def referenced_files(value: object, bases: Iterable[Path], root: Path,
                     memo: dict[str, Path | None] | None = None) -> list[Path]:
    """Files and folders inside the project that the slice names by a path relative to the platform file's
    folder or the working folder (a Lambda's code folder, an API contract): their content goes into the key.
    `memo`: each string's answer, for these bases and root (500 instances repeat the same few strings)."""
    found: set[Path] = set()
    bases = [_resolved(b) for b in bases]
    root = _resolved(root)
    memo = {} if memo is None else memo
    listings: dict[Path, frozenset[str]] = {}
    for text in _strings(value):
        if text not in memo:
            memo[text] = _referenced(text, bases, root, listings)
        path = memo[text]
        if path is not None:
            found.add(path)
    return sorted(found)


@functools.lru_cache(maxsize=256)
def _resolved(path: Path) -> Path:
    """A base or root folder, resolved once (a 500-instance platform asks for the same two for every slice)."""
    return path.resolve()


def _referenced(text: str, bases: list[Path], root: Path, listings: dict[Path, frozenset[str]]) -> Path | None:
    if not text or len(text) > 1024 or "\n" in text or text.startswith(("/", "arn:", "http", "~")) \
            or text.strip("./") == "":
        return None
    parts = [p for p in text.split("/") if p not in ("", ".")]
    for base in bases:
        if base not in listings:
            try:
                listings[base] = frozenset(n.lower() for n in os.listdir(base))  # as a case-blind disk matches
            except OSError:
                listings[base] = frozenset()
        if parts and parts[0] != ".." and parts[0].lower() not in listings[base]:
            continue  # no such entry in this folder: not a path here (and no file system call to say so)
        try:
            candidate = (base / text).resolve()
            if candidate != root and root in candidate.parents and candidate.exists():
                return candidate
        except (OSError, ValueError):
            continue
    return None


def template_folder(template: TemplateVersion) -> Path:
    return template.schema_file.resolve().parent.parent if template.schema_file.parent.name == "schema" \
        else template.schema_file.resolve().parent


def _code_files(folder: Path) -> list[Path]:
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_PARTS)
        out += [Path(root, f) for f in sorted(files) if f.endswith((".py", ".yaml", ".yml", ".json"))]
    return out


def template_references(files: Iterable[Path], packages: Mapping[str, Path]) -> set[str]:
    """The template packages these files import or name."""
    found: set[str] = set()
    for file in files:
        found |= {m for m in _TEMPLATE_REF.findall(file.read_text(encoding="utf-8", errors="replace"))
                  if m in packages}
    return found


def closure(names: Iterable[str], packages: Mapping[str, Path]) -> set[str]:
    """The packages and, transitively, those they import (ecs_env imports vpc_env's builder)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += sorted(template_references(_code_files(packages[name]), packages) - seen)
    return seen


@dataclasses.dataclass(frozen=True)
class KeyMaker:
    """What every key shares, computed once: the project's code less the template folders, the lockfiles, the
    context and the switches."""

    root: Path
    model: PlatformModel
    context: Mapping[str, Any]
    switches: Mapping[str, Any]
    #: Folder hashes and template closures, computed once per synth (500 instances share a few templates).
    _memo: dict[object, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def _tree_hash(self, path: Path) -> str:
        key = ("tree", path)
        if key not in self._memo:
            digest = hashlib.sha256()
            hash_tree(path, digest)
            self._memo[key] = digest.hexdigest()
        return str(self._memo[key])

    @property
    def packages(self) -> dict[str, Path]:
        """Keel's template packages (folders with a template.yaml) by module name."""
        if "packages" not in self._memo:
            templates = self.root / "keel" / "templates"
            self._memo["packages"] = {p.name: p for p in sorted(templates.iterdir())
                                      if (p / "template.yaml").exists()}
        return dict(self._memo["packages"])

    def shared_templates(self) -> set[str]:
        """Template packages the rest of keel/ imports (keel.stacks reads ecs-env's inputs...): in every key."""
        packages = self.packages
        inside = {p.resolve() for p in packages.values()}
        files = [f for f in _code_files(self.root / "keel") if not any(d in inside for d in f.resolve().parents)]
        return closure(template_references(files, packages), packages)

    def shared(self) -> str:
        digest = hashlib.sha256(f"keel-synth-cache {CACHE_FORMAT}\0".encode())
        packages = self.packages
        inside = {p.resolve() for p in packages.values()}
        keel = self.root / "keel"
        for root, dirs, files in os.walk(keel):
            here = Path(root).resolve()
            # Each template's own folder goes into the keys of the stacks that use it, not into every key.
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_PARTS and (here / d).resolve() not in inside)
            for name in sorted(files):
                if not name.endswith((".pyc", ".pyo")):
                    file = Path(root, name)
                    digest.update(str(file.relative_to(self.root)).encode() + b"\0" + file.read_bytes() + b"\0")
        for name in sorted(self.shared_templates()):
            digest.update(f"\0shared template {name}\0".encode())
            hash_tree(packages[name], digest)
        for extra in ("app.py", "lambda_src", *LOCKFILES):
            path = self.root / extra
            if path.exists():
                digest.update(f"\0{extra}\0".encode())
                hash_tree(path, digest)
        context = {k: v for k, v in self.context.items() if not k.startswith(MODEL_CONTEXT)}
        digest.update(json.dumps({"context": context, "switches": self.switches}, sort_keys=True,
                                 default=str).encode())
        return digest.hexdigest()

    def bases(self) -> list[Path]:
        if "bases" not in self._memo:
            self._memo["bases"] = [Path(self.model.source).resolve().parent, Path.cwd().resolve()]
        return list(self._memo["bases"])

    def _file_part(self, path: Path) -> str:
        """A named file's line in a key: its project-relative name and content digest (once per synth)."""
        memo_key = ("file", path)
        if memo_key not in self._memo:
            self._memo[memo_key] = (f"\0file {canonical(str(path.resolve()), str(self.root))} "
                                    f"{self._tree_hash(path)}\0")
        return str(self._memo[memo_key])

    def template_folders(self, templates: Iterable[TemplateVersion]) -> list[Path]:
        templates = list(templates)
        key = ("folders", tuple(t.label for t in templates), tuple(str(t.schema_file) for t in templates))
        if key not in self._memo:
            self._memo[key] = self._template_folders(templates)
        return list(self._memo[key])

    def _template_folders(self, templates: Iterable[TemplateVersion]) -> list[Path]:
        """The folders of these template versions (in this tree, by the package their builder names; a
        template folder of the platform's own by its schema's folder) and of the Keel templates their code
        imports."""
        packages = self.packages
        names: set[str] = set()
        folders: set[Path] = set()
        for template in templates:
            named = [m for m in _TEMPLATE_REF.findall(f"{template.builder} {template.inputs}") if m in packages]
            if named:
                names |= set(named)
            else:
                folders.add(template_folder(template))
        return sorted(folders | {packages[n].resolve() for n in closure(names, packages)})

    def _part(self, kind: str, name: str, value: object) -> tuple[str, list[Path]]:
        """One slice part's canonical form (as JSON text) and the files it names, once per synth (an
        environment's part is in the key of each of its instances)."""
        memo_key = ("part", kind, name)
        if memo_key not in self._memo:
            strings: dict[str, Path | None] = self._memo.setdefault("strings", {})
            self._memo[memo_key] = (json.dumps(canonical(value, str(self.root)), sort_keys=True),
                                    referenced_files(value, self.bases(), self.root, strings))
        found: tuple[str, list[Path]] = self._memo[memo_key]
        return found

    def key(self, shared: str, *, environment: Environment, service: Service | None = None,
            instance: ServiceInstance | None = None,
            consumers: Iterable[tuple[Service, ServiceInstance]] = (), extra: Iterable[Path] = ()) -> str:
        """`consumers`: the instances an environment stack's template depends on (cross-stack references)."""
        parts = {"environment": self._part("environment", environment.name, environment),
                 "platform": self._part("platform", "", dataclasses.replace(self.model, environments=(),
                                                                           services=()))}
        templates = [environment.template]
        if service is not None and instance is not None:
            parts["service"] = self._part("service", service.name, dataclasses.replace(service, instances=()))
            parts["instance"] = self._part("instance", f"{service.name}/{instance.name}", instance)
            templates.append(instance.template)
        pairs = list(consumers)
        if pairs:
            consumer_slice = [{"service": dataclasses.replace(s, instances=()), "instance": i} for s, i in pairs]
            parts["consumers"] = (json.dumps(canonical(consumer_slice, str(self.root)), sort_keys=True),
                                  referenced_files(consumer_slice, self.bases(), self.root))
            templates += [i.template for _, i in pairs]
        digest = hashlib.sha256(shared.encode())
        for kind in sorted(parts):  # each part's JSON once per synth, not once per key
            digest.update(f"\0{kind}\0{parts[kind][0]}".encode())
        for folder in self.template_folders(templates):
            digest.update(f"\0template {folder.name} {self._tree_hash(folder)}\0".encode())
        files = sorted({path for _, named in parts.values() for path in named})
        for path in [*files, *extra]:
            digest.update(self._file_part(path).encode())
        return digest.hexdigest()

    def whole_key(self, shared: str) -> str:
        """One key for the whole platform (its delivery stacks read all of it): the model, the files it names,
        and every template version it uses."""
        digest = hashlib.sha256(f"{shared}\0whole\0".encode())
        digest.update(json.dumps(canonical(self.model, str(self.root)), sort_keys=True).encode())
        templates = [e.template for e in self.model.environments]
        templates += [t for s in self.model.services for t in (s.template, *(i.template for i in s.instances))]
        for folder in self.template_folders(templates):
            digest.update(f"\0template {folder.name} {self._tree_hash(folder)}\0".encode())
        for path in referenced_files(self.model, self.bases(), self.root, self._memo.setdefault("strings", {})):
            digest.update(f"\0file {canonical(str(path.resolve()), str(self.root))} {self._tree_hash(path)}\0"
                          .encode())
        return digest.hexdigest()
