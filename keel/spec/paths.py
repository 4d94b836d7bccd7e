"""Every path a spec names stays inside the platform's project: the git repository that holds the platform
file, or the platform file's folder when it is in none. A spec from someone else must not make Keel read (or
package) `/etc/...`, `~/.aws/...` or a file a symlink leads to outside the project."""

from __future__ import annotations

from functools import cache
from pathlib import Path


class OutsideProject(ValueError):
    """A path a spec names leads outside the project root; the message never shows the file's contents."""

    def __init__(self, given: str, root: Path) -> None:
        self.given, self.root = given, root
        super().__init__(f"leads outside the project ({root})")

    @property
    def expected(self) -> str:
        return f"a path inside {self.root} (no .. out of it, no absolute path elsewhere, no symlink out)"


def project_root(platform_file: Path) -> Path:
    """The nearest folder at or above the platform file's with a `.git` (a folder, or a worktree's file);
    else the platform file's own folder."""
    return _root(platform_file.resolve().parent)


@cache
def _root(folder: Path) -> Path:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def inside_project(root: Path, base: Path, given: str) -> Path:
    """`given` (relative to `base`, or absolute) resolved with every symlink followed; raises OutsideProject
    unless the result is `root` or below it."""
    if "\x00" in given:
        raise OutsideProject(given.replace("\x00", "\\0"), root)
    resolved = (base / given).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise OutsideProject(given, root)
    return resolved
