#!/usr/bin/env python3
"""The CDK entry point: validate the platform spec, then build one stack per environment and instance.

The platform file comes from context `keel:platform` (`-c keel:platform=...`), then KEEL_PLATFORM,
then `platform.yaml`. Context `keel:image:<service>` entries (a service pipeline's deploy step sets them)
replace the spec's image of that service's instances. Spec problems print as `file:path: message` and
exit 2 before aws_cdk is even imported, so nothing is written to cdk.out.

An EKS Anywhere CRD folder (context `keel:eksa-crds`, then KEEL_EKSA_CRDS) turns on the synth-time check
of every EKS Anywhere document Keel writes; a document that breaks its CRD exits 2 before cdk.out is
written. Without one, `keel report` says the documents were not checked.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from keel.eksa.crds import CrdError, CrdFolder, CrdProblems, load_crd_folder
from keel.spec import SpecError, load_platform
from keel.spec.images import from_context
from keel.spec.model import PlatformModel


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


def eksa_crd_folder(context: dict[str, Any]) -> str | None:
    return str(context.get("keel:eksa-crds") or os.environ.get("KEEL_EKSA_CRDS") or "") or None


def synth_share() -> set[str] | None:
    """A `keel synth` worker builds only its share of the stacks (KEEL_SYNTH_STACKS, comma-separated)."""
    names = os.environ.get("KEEL_SYNTH_STACKS")
    return None if names is None else {n for n in names.split(",") if n}


def load_model(context: dict[str, Any]) -> PlatformModel:
    """The platform model; a `keel synth` worker takes the one its parent loaded and checked (KEEL_SYNTH_MODEL,
    a pickle in the synth's work folder) instead of reading the spec again."""
    pickled = os.environ.get("KEEL_SYNTH_MODEL")
    if pickled:
        from keel.delivery.model_pickle import read_model

        return read_model(Path(pickled))
    return load_platform(platform_file(context), image_overrides=from_context(context))


def main() -> int:
    context = cli_context()
    try:
        model = load_model(context)
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    crds: CrdFolder | None = None
    folder = eksa_crd_folder(context)
    if folder is not None:
        try:
            crds = load_crd_folder(Path(folder))
        except CrdError as exc:
            print(f"keel:eksa-crds: {exc}\n1 problem; nothing was synthesized.", file=sys.stderr)
            return 2

    import aws_cdk as cdk

    from keel.spec.errors import SourceError
    from keel.stacks.app import build, build_stacks

    # a `keel synth` standby worker learns its folder (KEEL_SYNTH_OUTDIR) after its Node runtime started, so
    # Node's own CDK_OUTDIR is stale there; elsewhere CDK reads CDK_OUTDIR itself (and creates it only at synth)
    outdir = os.environ.get("KEEL_SYNTH_OUTDIR")
    app = cdk.App(outdir=outdir) if outdir else cdk.App()
    share = synth_share()
    try:
        if share is None:
            build(app, model, eksa_crds=crds)
        else:
            build_stacks(app, model, share, eksa_crds=crds)
    except SourceError as exc:  # the spec layer checks these first; never a traceback all the same
        print(f"{exc}\n1 problem; nothing was synthesized.", file=sys.stderr)
        return 2
    except CrdProblems as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
