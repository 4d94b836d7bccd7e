"""The CLI's context for in-process apps: a bare `cdk.App()` silently drops cdk.json's feature flags."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def cli_context(root: Path = ROOT) -> dict[str, Any]:
    """cdk.json's `context` (feature flags), as `cdk synth` would pass it."""
    return dict(json.loads((root / "cdk.json").read_text(encoding="utf-8")).get("context", {}))


def project_node_first() -> None:
    """jsii runs on the first `node` on PATH: use the project's pinned Node (node_modules/.bin), as the
    Makefile does, so `keel diff` run directly do not run on the machine's end-of-life Node
    and print its warnings."""
    bin_dir = str(ROOT / "node_modules" / ".bin")
    path = os.environ.get("PATH", "")
    if Path(bin_dir, "node").exists() and path.split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
