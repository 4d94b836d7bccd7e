#!/usr/bin/env python3
"""Where a synth's time goes: phases (imports, spec, construct building, synthesis) and jsii round trips.

The building phase is Python talking to the jsii Node process one message at a time; this prints how
many messages a platform costs and how long Python waited on them, which is the floor CDK sets.
Usage: bench/profile_synth.py [PLATFORM] [--validation]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("platform", nargs="?", default=str(ROOT / "platform.yaml"))
    parser.add_argument("--validation", action="store_true", help="CDK's CloudFormation validation on")
    args = parser.parse_args()
    t0 = time.perf_counter()
    import aws_cdk as cdk

    t1 = time.perf_counter()
    from keel.cdk_context import cli_context
    from keel.spec import load_platform
    from keel.stacks.app import build

    t2 = time.perf_counter()
    model = load_platform(args.platform)
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        app = cdk.App(context=cli_context(), outdir=out, builtin_cloud_formation_validation=args.validation)
        profile = cProfile.Profile()
        profile.enable()
        built = build(app, model)
        profile.disable()
        t4 = time.perf_counter()
        app.synth()
        t5 = time.perf_counter()
    stats = pstats.Stats(profile)
    messages = waited = 0.0
    for (file, _, name), (_, calls, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if name == "_next_message" and "jsii" in file:
            messages, waited = calls, cumulative
    stacks = len(built.stacks)
    print(f"platform: {args.platform} ({stacks} stacks, {len(model.instances)} instances)")
    print(f"  import aws_cdk        {t1 - t0:6.2f} s")
    print(f"  import keel           {t2 - t1:6.2f} s")
    print(f"  spec (load+validate)  {t3 - t2:6.2f} s")
    print(f"  build constructs      {t4 - t3:6.2f} s   ({t4 - t3 - waited:.2f} s Python, {waited:.2f} s waiting on "
          f"{int(messages)} jsii messages = {waited / max(messages, 1) * 1000:.2f} ms each, "
          f"{messages / max(stacks, 1):.0f} a stack)")
    print(f"  synthesize{' + validate' if args.validation else ''}   {t5 - t4:6.2f} s   (Node: templates, "
          f"cdk-nag{', CloudFormation validation' if args.validation else ''})")
    print(f"  total                 {t5 - t0:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
