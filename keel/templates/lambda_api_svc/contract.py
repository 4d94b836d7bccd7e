"""Contract-first APIs: the routes of an OpenAPI 3 document. CDK-free (the handler tests use it too)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from keel.spec.errors import SourceError
from keel.spec.yamlio import YamlReadError, read_yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


class ContractError(SourceError):
    """The contract is missing or is not an OpenAPI 3 document with paths."""


def contract_routes(document: object, *, source: str = "contract") -> list[tuple[str, str]]:
    """[(METHOD, /path/{param})] in document order; raises ContractError naming the problem."""
    if not isinstance(document, Mapping) or not str(document.get("openapi", "")).startswith("3."):
        raise ContractError(f"{source}: not an OpenAPI 3 document (openapi: 3.x)")
    paths = document.get("paths")
    if not isinstance(paths, Mapping) or not paths:
        raise ContractError(f"{source}: paths: expected at least one path")
    routes = []
    for path, item in paths.items():
        if not str(path).startswith("/") or not isinstance(item, Mapping):
            raise ContractError(f"{source}: paths.{path}: expected /path with operations")
        operations = [m for m in METHODS if m in item]
        if not operations:
            raise ContractError(f"{source}: paths.{path}: no operations ({', '.join(METHODS)})")
        routes += [(m.upper(), str(path)) for m in operations]
    return routes


def read_contract(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        raise ContractError(f"{path}: the api_contract file does not exist")
    try:
        document = read_yaml(path)
    except YamlReadError as exc:  # the same limits as every spec file (size, depth, aliases)
        where = f"{exc.path}: " if exc.path else ""
        raise ContractError(f"{exc.file}: {where}{exc.message}") from None
    return contract_routes(document, source=str(path))


def parse_route(route: str) -> tuple[str, str]:
    method, _, path = route.partition(" ")
    return method, path
