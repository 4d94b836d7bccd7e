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

from keel.fileio import unsafe_target, write_files
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
                if _head(path, len(_MARKED)) == _MARKED:
                    found.add(PurePosixPath(path.relative_to(root).as_posix()))
    return found


_MARKED = MARKER.encode()


def _head(path: Path, size: int) -> bytes | None:
    """The first `size` bytes of a file (None when it is no readable file): a huge or binary file that is not
    Keel's is neither read whole nor decoded."""
    try:
        with path.open("rb") as file:
            return file.read(size)
    except OSError:
        return None


def _same(path: Path, text: str) -> bool:
    data = text.encode()
    return path.is_file() and path.stat().st_size == len(data) and _head(path, len(data)) == data


def plan(root: Path, files: dict[PurePosixPath, str],
         folders: set[PurePosixPath]) -> tuple[list[PurePosixPath], list[PurePosixPath]]:
    """(files to write because missing or different, marked files in `folders` to remove) under `root`."""
    wanted = {p: MARKER + text for p, text in files.items()}
    changed = [p for p, text in sorted(wanted.items()) if not _same(root / p, text)]
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
    return _write(root, {path: MARKER + files[path] for path in changed}, stale)


def _write(root: Path, files: dict[PurePosixPath, str], stale: list[PurePosixPath]) -> int:
    """Every path checked first (inside ROOT, not a folder, not through a symlink out of it), then every file
    written or none, then the stale ones removed."""
    for path in [*files, *stale]:
        why = unsafe_target(root / path, project=root)
        if why is not None:
            print(f"keel gitops: {root / path}: {why}\nNothing was written.", file=sys.stderr)
            return 2
    try:
        write_files({root / path: text for path, text in files.items()}, parents=True)
    except OSError as exc:
        print(f"keel gitops: cannot write: {exc}\nNothing was written.", file=sys.stderr)
        return 2
    for path in files:
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
