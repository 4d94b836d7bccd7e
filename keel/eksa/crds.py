"""Validation of generated EKS Anywhere documents against the CRDs' openAPIV3Schema (served version).

The CRDs prune unknown fields silently on a real API server; here every object schema that does not
allow extra fields is closed, so a misspelt field is an error instead of a setting that quietly vanishes.
The CRD folder is the user's (`-c keel:eksa-crds=DIR`): Keel ships no CRDs, so a bad folder is a clear
`CrdError`, never a traceback.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft7Validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError


@dataclass(frozen=True)
class Crd:
    api_version: str
    kind: str
    schema: Mapping[str, Any]


class CrdError(ValueError):
    """A CRD folder or file Keel cannot use; the message names the file and what is wrong."""


def load_crds(folder: Path) -> dict[tuple[str, str], Crd]:
    """{(apiVersion, kind): Crd} for the served version of every CRD in `folder`."""
    if not folder.is_dir():
        raise CrdError(f"{folder}: not a folder (expected a folder of CustomResourceDefinition YAML files)")
    out: dict[tuple[str, str], Crd] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, YAMLError) as exc:
            raise CrdError(f"{path}: cannot be read as YAML ({type(exc).__name__})") from None
        if not isinstance(doc, Mapping) or doc.get("kind") != "CustomResourceDefinition":
            continue
        try:
            group, kind = str(doc["spec"]["group"]), str(doc["spec"]["names"]["kind"])
            for version in doc["spec"]["versions"]:
                if version.get("served"):
                    api = f"{group}/{version['name']}"
                    schema = version["schema"]["openAPIV3Schema"]
                    if not isinstance(schema, Mapping):
                        raise TypeError
                    out[(api, kind)] = Crd(api, kind, cast(Mapping[str, Any], closed(copy.deepcopy(dict(schema)))))
        except (KeyError, TypeError, AttributeError):
            raise CrdError(f"{path}: not a CustomResourceDefinition Keel can read (expected spec.group, "
                           "spec.names.kind and spec.versions[].schema.openAPIV3Schema)") from None
    return out


class CrdProblems(Exception):
    """Generated EKS Anywhere documents that break the user's CRDs: the synth stops before writing."""

    def __init__(self, folder: Path, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) against the CRDs in {folder}")
        self.folder = folder
        self.problems = problems

    def render(self) -> str:
        return "\n".join([*self.problems, f"{len(self.problems)} problem(s) against the EKS Anywhere CRDs in "
                                           f"{self.folder}; nothing was synthesized."])


@dataclass(frozen=True)
class CrdFolder:
    """The CRDs a user gave for the synth-time check, and where they came from (the summary names it)."""

    folder: Path
    crds: Mapping[tuple[str, str], Crd]

    @property
    def groups(self) -> frozenset[str]:
        return frozenset(api.rpartition("/")[0] for api, _ in self.crds)


def load_crd_folder(folder: Path) -> CrdFolder:
    crds = load_crds(folder)
    if not crds:
        raise CrdError(f"{folder}: holds no served CustomResourceDefinition (expected *.yaml CRD files such as "
                       "EKS Anywhere's config/crd/bases)")
    return CrdFolder(folder, crds)


def check_stream(name: str, text: str, crds: CrdFolder) -> tuple[int, list[str]]:
    """(documents checked, problems as `name: Kind/name: path: message`) for a YAML stream as written
    into the cloud assembly. Only documents of an API group the folder defines are checked (RBAC and
    MetalLB documents are not EKS Anywhere resources); an unknown kind in such a group is a problem."""
    try:
        documents = [d for d in YAML(typ="safe", pure=True).load_all(text) if d is not None]
    except YAMLError as exc:
        return 0, [f"{name}: is not valid YAML ({type(exc).__name__})"]
    ours = [d for d in documents
            if isinstance(d, Mapping) and str(d.get("apiVersion", "")).rpartition("/")[0] in crds.groups]
    return len(ours), [f"{name}: {p}" for p in all_problems(ours, crds.crds)]


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
