"""`keel gitops`: write, or check for drift, the GitOps path Argo CD (cloud clusters with workload_delivery
argocd) and Flux (the EKS Anywhere cluster) sync kubernetes-svc manifests from. CDK-free: the manifests come
from the platform model, the same functions the builder writes cdk.out/<stack>.k8s.yaml with.

Keel owns `keel-managed` files only: each starts with MARKER, and a marked file no instance produces any more
is stale (check reports it; write removes it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path, PurePosixPath

from keel.spec import SpecError, load_platform
from keel.templates.kubernetes_svc.manifests import InvalidManifest
from keel.templates.kubernetes_svc.workloads import gitops_files, gitops_folders

MARKER = "# keel-managed: written by `keel gitops write` from the platform spec; edit the spec, not this file\n"


def _owned(root: Path, folders: set[PurePosixPath]) -> set[PurePosixPath]:
    found: set[PurePosixPath] = set()
    for folder in folders:
        base = root / folder
        if base.is_dir():
            for path in base.glob("*.yaml"):
                if path.read_text(encoding="utf-8").startswith(MARKER):
                    found.add(PurePosixPath(path.relative_to(root).as_posix()))
    return found


def plan(root: Path, files: dict[PurePosixPath, str],
         folders: set[PurePosixPath]) -> tuple[list[PurePosixPath], list[PurePosixPath]]:
    """(files to write because missing or different, marked files in `folders` to remove) under `root`."""
    wanted = {p: MARKER + text for p, text in files.items()}
    changed = [p for p, text in sorted(wanted.items())
               if not (root / p).is_file() or (root / p).read_text(encoding="utf-8") != text]
    stale = sorted(_owned(root, folders | {p.parent for p in wanted}) - set(wanted))
    return changed, stale


def cmd_gitops(args: argparse.Namespace) -> int:
    try:
        model = load_platform(args.platform)
        files, folders = gitops_files(model), gitops_folders(model)
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    except InvalidManifest as exc:
        print(f"keel gitops: a rendered manifest is invalid: {exc}", file=sys.stderr)
        return 2
    root = Path(args.root)
    changed, stale = plan(root, files, folders)
    if args.action == "check":
        for path in changed:
            print(f"{path}: differs from the spec (run `keel gitops write`)")
        for path in stale:
            print(f"{path}: no instance produces it any more (run `keel gitops write`)")
        if not changed and not stale:
            print(f"{len(files)} GitOps file(s) up to date.")
        return 1 if changed or stale else 0
    for path in changed:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(MARKER + files[path], encoding="utf-8")
        print(f"wrote {path}")
    for path in stale:
        (root / path).unlink()
        print(f"removed {path}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    g = sub.add_parser("gitops", help="write or check the GitOps path of kubernetes-svc manifests",
                       description="`write`: write every kubernetes-svc manifest Argo CD or Flux syncs "
                       "(<gitops_path>/<environment>/..., <EKS Anywhere Flux path>/keel-workloads/...) under ROOT "
                       "and remove stale Keel files. `check`: report drift. Exit 0 up to date / written; 1 drift; "
                       "2 invalid platform.")
    g.add_argument("action", choices=["write", "check"])
    g.add_argument("platform", nargs="?", default="platform.yaml", help="the platform file (default: platform.yaml)")
    g.add_argument("--root", default=".", help="the repository root the paths are relative to (default: .)")
    g.set_defaults(func=cmd_gitops)
