"""Test-only templates (never in the default registry): `registry()` is the default one plus these."""

from __future__ import annotations

import functools
from pathlib import Path

from keel.contract.registry import Registry
from keel.spec.registry import default_registry, load_registry


@functools.cache
def _templates() -> Registry:
    return load_registry(Path(__file__).parent)  # once per process, as default_registry(): the files do not change


def registry() -> Registry:
    return Registry(templates={**default_registry().templates, **_templates().templates})
