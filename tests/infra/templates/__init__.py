"""Test-only templates (never in the default registry): `registry()` is the default one plus these."""

from __future__ import annotations

from pathlib import Path

from keel.templates.registry import Registry, default_registry, load_registry


def registry() -> Registry:
    return Registry(templates={**default_registry().templates, **load_registry(Path(__file__).parent).templates})
