"""The spec layer: YAML in, a validated PlatformModel out. Never imports aws_cdk."""

from __future__ import annotations

from typing import Any

# Exports resolve lazily: keel.templates.registry imports keel.spec.schema, and the loader imports the
# registry, so an eager import here would make the two packages' import order matter.
_EXPORTS = {
    "Problem": "keel.spec.errors", "SpecError": "keel.spec.errors", "load_platform": "keel.spec.loader",
    "Environment": "keel.spec.model", "PlatformModel": "keel.spec.model", "Service": "keel.spec.model",
    "ServiceInstance": "keel.spec.model",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
