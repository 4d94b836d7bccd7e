"""Which property changes replace a resource: the CloudFormation registry schemas that cfn-lint ships.

A schema's `createOnlyProperties` lists the properties that cannot change in place; a new value means
CloudFormation creates a new resource and deletes the old one. cfn-lint keeps these schemas current
with the registry, so Keel does not maintain its own table.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

_REGION = "us-east-1"  # create-only properties do not differ between commercial regions


def _schemas_dir() -> Path | None:
    try:
        import cfnlint
    except ImportError:  # pragma: no cover - cfn-lint is a pinned dev dependency
        return None
    folder = Path(cfnlint.__file__).parent / "data" / "schemas"
    return folder if folder.is_dir() else None


@cache
def _provider_index() -> dict[str, str]:
    folder = _schemas_dir()
    if folder is None:
        return {}
    return dict(json.loads((folder / "providers" / f"{_REGION}.json").read_text(encoding="utf-8")))


@cache
def create_only_properties(resource_type: str) -> tuple[tuple[str, ...], ...] | None:
    """Create-only properties as JSON-pointer parts under Properties (`*` for any list item), or None
    when the type is unknown (custom resources, third-party types)."""
    folder = _schemas_dir()
    digest = _provider_index().get(resource_type)
    if folder is None or digest is None:
        return None
    schema = json.loads((folder / "resources" / f"{digest}.json").read_text(encoding="utf-8"))
    out = []
    for pointer in schema.get("createOnlyProperties", []):
        parts = tuple(pointer.split("/")[1:])
        if parts and parts[0] == "properties":
            out.append(parts[1:])
    return tuple(out)
