"""Validation of generated EKS Anywhere documents against the CRDs' openAPIV3Schema (served version).

The CRDs prune unknown fields silently on a real API server; here every object schema that does not
allow extra fields is closed, so a misspelt field is an error instead of a setting that quietly vanishes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft7Validator
from ruamel.yaml import YAML


@dataclass(frozen=True)
class Crd:
    api_version: str
    kind: str
    schema: Mapping[str, Any]


def load_crds(folder: Path) -> dict[tuple[str, str], Crd]:
    """{(apiVersion, kind): Crd} for the served version of every CRD in `folder`."""
    out: dict[tuple[str, str], Crd] = {}
    for path in sorted(folder.glob("*.yaml")):
        doc = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        if not isinstance(doc, Mapping) or doc.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
        for version in doc["spec"]["versions"]:
            if version.get("served"):
                api = f"{group}/{version['name']}"
                schema = closed(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                out[(api, kind)] = Crd(api, kind, cast(Mapping[str, Any], schema))
    return out


def closed(node: object) -> object:
    """Close every object schema with `properties` (unless it keeps unknown fields on purpose)."""
    if isinstance(node, dict):
        if ("properties" in node and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")):
            node["additionalProperties"] = False
        for value in node.values():
            closed(value)
    elif isinstance(node, list):
        for value in node:
            closed(value)
    return node


def problems(document: Mapping[str, Any], crds: Mapping[tuple[str, str], Crd]) -> list[str]:
    """Every way `document` breaks its CRD, as `Kind/name: path: message`; empty when valid."""
    key = (str(document.get("apiVersion")), str(document.get("kind")))
    name = (document.get("metadata") or {}).get("name", "?")
    crd = crds.get(key)
    if crd is None:
        return [f"{key[1]}/{name}: no served CRD for {key[0]} {key[1]}"]
    validator = Draft7Validator(crd.schema)
    return [f"{key[1]}/{name}: {'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))]


def all_problems(documents: Iterable[Mapping[str, Any]], crds: Mapping[tuple[str, str], Crd]) -> list[str]:
    return [p for d in documents for p in problems(d, crds)]
