#!/usr/bin/env python3
"""The CDK entry point: validate the platform spec, then build one stack per environment and instance.

The platform file comes from context `keel:platform` (`-c keel:platform=...`), then KEEL_PLATFORM,
then `platform.yaml`. Context `keel:image:<service>` entries (a service pipeline's deploy step sets them)
replace the spec's image of that service's instances. Spec problems print as `file:path: message` and
exit 2 before aws_cdk is even imported, so nothing is written to cdk.out.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from keel.spec import SpecError, load_platform
from keel.spec.images import from_context


def cli_context() -> dict[str, Any]:
    """The CLI hands context to the app in CDK_CONTEXT_JSON (and, past 128 KiB, in the file that
    CONTEXT_OVERFLOW_LOCATION_ENV names); read it without importing aws_cdk."""
    context = dict(json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}"))
    overflow = os.environ.get("CONTEXT_OVERFLOW_LOCATION_ENV")
    if overflow:
        with open(overflow, encoding="utf-8") as file:
            context.update(json.load(file))
    return context


def platform_file(context: dict[str, Any] | None = None) -> str:
    context = cli_context() if context is None else context
    return str(context.get("keel:platform") or os.environ.get("KEEL_PLATFORM") or "platform.yaml")


def main() -> int:
    context = cli_context()
    try:
        model = load_platform(platform_file(context), image_overrides=from_context(context))
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return 2

    import aws_cdk as cdk

    from keel.spec.errors import SourceError
    from keel.stacks.app import build

    app = cdk.App()
    try:
        build(app, model)
    except SourceError as exc:  # the spec layer checks these first; never a traceback all the same
        print(f"{exc}\n1 problem; nothing was synthesized.", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
