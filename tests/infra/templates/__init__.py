"""Test-only templates (never in the default registry): `registry()` is the default one plus these."""

from __future__ import annotations

from pathlib import Path

from keel.contract.registry import Registry
from keel.spec.registry import default_registry, load_registry


def registry() -> Registry:
    return Registry(templates={**default_registry().templates, **load_registry(Path(__file__).parent).templates})
