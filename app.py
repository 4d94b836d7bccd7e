#!/usr/bin/env python3
"""The CDK entry point: validate the platform spec, then build one stack per environment and instance.

The platform file comes from context `keel:platform` (`-c keel:platform=...`), then KEEL_PLATFORM,
then `platform.yaml`. Spec problems print as `file:path: message` and exit 2 before anything is written.
"""

from __future__ import annotations

import os
import sys

from keel.spec import SpecError, load_platform


def main() -> int:
    import aws_cdk as cdk

    app = cdk.App()
    platform_file = app.node.try_get_context("keel:platform") or os.environ.get("KEEL_PLATFORM", "platform.yaml")
    try:
        model = load_platform(platform_file)
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return 2

    from keel.stacks.app import build

    build(app, model)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
