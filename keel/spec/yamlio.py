"""YAML reading with errors that name the file and line; ruamel keeps YAML 1.2 semantics (no `on: true`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError


class YamlReadError(Exception):
    def __init__(self, file: str, message: str) -> None:
        self.file = file
        self.message = message
        super().__init__(f"{file}: {message}")


def read_yaml(path: Path, *, display: str | None = None) -> Any:
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlReadError(shown, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlReadError(shown, f"cannot read file: {exc}") from None
    return parse_yaml(text, display=shown)


def parse_yaml(text: str, *, display: str) -> Any:
    yaml = YAML(typ="safe", pure=True)
    try:
        return _plain(yaml.load(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise YamlReadError(display, f"{where}invalid YAML: {exc.problem}") from None
    except YAMLError as exc:
        raise YamlReadError(display, f"invalid YAML: {exc}") from None


def _plain(node: Any) -> Any:
    """Plain dicts/lists; dates and other YAML-only scalars become strings (schemas speak JSON)."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, (str, int, float, bool)) else k: _plain(v)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if node is None or isinstance(node, (str, int, float, bool)):
        return node
    return str(node)
