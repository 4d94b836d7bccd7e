"""The CLI's context for in-process apps: a bare `cdk.App()` silently drops cdk.json's feature flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def cli_context(root: Path = ROOT) -> dict[str, Any]:
    """cdk.json's `context` (feature flags), as `cdk synth` would pass it."""
    return dict(json.loads((root / "cdk.json").read_text(encoding="utf-8")).get("context", {}))
