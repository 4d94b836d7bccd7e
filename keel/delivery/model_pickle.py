"""The platform model and Keel's template registry as pickles: `keel synth` loads the model once and hands it
to its workers, and keeps the parsed registry in its cache. CDK-free.

Reading the registry parses every template's schema.yaml (about 3 s of the ~3.4 s a load takes on the default
platform); each worker reading the spec again cost as much. A pickle of either loads in ~20 ms. The registry's
pickle is kept under a key of the content of every file in `keel/` and the lockfiles (what reads and builds
it), so an edited template or loader is never served stale. Only Keel writes and reads these files, in the
project's own cache folder or the synth's work folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import tempfile
import types
from collections.abc import Callable
from pathlib import Path

from jsonschema import Draft7Validator

from keel.contract.registry import Registry
from keel.contract.schema import FORMATS
from keel.spec.model import PlatformModel
from keel.spec.registry import TEMPLATES_DIR, default_registry, load_registry

#: Bumped when what is pickled changes shape.
FORMAT = "1"
#: Registries kept (one per version of keel/ seen lately).
KEEP = 4
#: The registry's folder in the synth cache (`--no-cache` keeps it).
REGISTRY_DIR = "registry"
_SKIP_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


def _validator(schema: object) -> Draft7Validator:
    return Draft7Validator(schema, format_checker=FORMATS)  # type: ignore[arg-type]


def _proxy(items: dict[object, object]) -> types.MappingProxyType[object, object]:
    return types.MappingProxyType(items)


class _Pickler(pickle.Pickler):
    """Schema validators by their schema (their checkers are module objects), read-only mappings by content."""

    def reducer_override(self, obj: object) -> tuple[Callable[..., object], tuple[object, ...]]:
        if isinstance(obj, Draft7Validator) and type(obj) is Draft7Validator and obj.format_checker is FORMATS:
            return _validator, (obj.schema,)
        if isinstance(obj, types.MappingProxyType):
            return _proxy, (dict(obj),)
        return NotImplemented


def dumps(value: PlatformModel | Registry) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def write_model(model: PlatformModel, path: Path) -> None:
    path.write_bytes(dumps(model))


def read_model(path: Path) -> PlatformModel:
    model = pickle.loads(path.read_bytes())
    if not isinstance(model, PlatformModel):
        raise TypeError(f"{path}: not a platform model")
    return model


def code_digest(root: Path) -> str:
    """Every file of `keel/` (templates, loader, contract) and the lockfiles, by name and content."""
    digest = hashlib.sha256(f"keel-registry {FORMAT} {sys.version}\0".encode())
    keel = root / "keel"
    for folder, dirs, files in os.walk(keel):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_PARTS)
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                file = Path(folder, name)
                digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes() + b"\0")
    for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml"):
        if (root / name).is_file():
            digest.update(f"\0{name}\0".encode() + (root / name).read_bytes())
    return digest.hexdigest()


def cached_registry(cache: Path | None) -> Registry:
    """Keel's own registry (what `default_registry()` returns), from the cache when `keel/` is unchanged."""
    root = TEMPLATES_DIR.parents[1]
    if cache is None:
        return default_registry()
    entry = cache / REGISTRY_DIR / f"{code_digest(root)}.pickle"
    try:
        registry = pickle.loads(entry.read_bytes())
        if isinstance(registry, Registry):
            return registry
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        pass
    registry = load_registry(TEMPLATES_DIR)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        kept = sorted(entry.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP - 1:]:  # a few: `keel diff` synthesizes two trees with two versions of keel/
            old.unlink(missing_ok=True)
        handle, name = tempfile.mkstemp(prefix=".registry-", dir=entry.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(dumps(registry))
        Path(name).replace(entry)
    except OSError:
        pass  # a read-only cache folder: the next synth parses again
    return registry
