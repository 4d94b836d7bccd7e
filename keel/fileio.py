"""How every `keel` verb writes files: all or nothing, never a truncated file, never where it may not.

Each file is written to a temporary file beside it, flushed to disk, then renamed over the target, so an
error or Ctrl-C leaves the old file (or none), never half of the new one; several files are all written
before any is renamed, and a failed rename puts back the ones renamed before it. `unsafe_target` says why a
verb must not write a path at all. Standard library only, so every layer may use it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path


def write_text(path: Path, text: str, *, mode: int | None = None, parents: bool = False) -> None:
    """One file, atomically (see `write_files`)."""
    write_files({path: text}, mode=mode, parents=parents)


def write_files(files: Mapping[Path, str], *, mode: int | None = None, parents: bool = False) -> None:
    """Every file or none. A target that is a symlink is written where it leads (the link stays); an existing
    target keeps its permissions, a new one gets the umask's (or `mode`). `parents`: create missing folders
    (else a missing one is an OSError, raised before any file is renamed). Of several files, the ones already
    renamed when a later rename fails get their old content back (a link to it is kept until all are in)."""
    temps: dict[Path, Path] = {}
    backups: dict[Path, Path] = {}
    renamed: list[Path] = []
    try:
        for path, text in files.items():
            target = Path(os.path.realpath(path))
            if parents:
                target.parent.mkdir(parents=True, exist_ok=True)
            temps[target] = _write_temp(target, text.encode("utf-8"), mode)
        if len(temps) > 1:
            backups = {target: _backup(target) for target in temps if target.is_file()}
        for target, temp in list(temps.items()):
            os.replace(temp, target)
            del temps[target]  # renamed: nothing left to clean up
            renamed.append(target)
        for folder in {target.parent for target in renamed}:
            _sync_folder(folder)
    except BaseException:
        for target in reversed(renamed):  # undo: the old file back, or no file where there was none
            with contextlib.suppress(OSError):
                if target in backups:
                    os.replace(backups.pop(target), target)
                else:
                    target.unlink()
        raise
    finally:
        for leftover in (*temps.values(), *backups.values()):
            leftover.unlink(missing_ok=True)


def _backup(target: Path) -> Path:
    """A second name for the old file (a hard link; a copy where links are not allowed)."""
    backup = target.with_name(f".{target.name}.{secrets.token_hex(4)}.bak")
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)
    return backup


def _write_temp(target: Path, data: bytes, mode: int | None) -> Path:
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for a plain write
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        keep = mode if mode is not None else (target.stat().st_mode & 0o7777 if target.is_file() else None)
        if keep is not None:
            os.chmod(temp, keep)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _sync_folder(folder: Path) -> None:
    """The rename itself reaches the disk (POSIX; a folder cannot be opened on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unsafe_target(path: Path, *, project: Path | None = None, inputs: Iterable[Path] = ()) -> str | None:
    """Why a verb must not write `path`, as `is ... (expected ...)`; None when it may.

    Refused: an existing folder; a path inside a `.git` folder; a path outside `project` (by its name, or
    through a symlink that leads out); the command's own input (a file it reads, or inside a folder it reads).
    `project` defaults to the current folder for a path inside it, else to the path's own folder."""
    lexical = Path(os.path.abspath(path))
    real = Path(os.path.realpath(path))
    if real.is_dir():
        return "is a folder (expected a file to write)"
    if ".git" in lexical.parts or ".git" in real.parts:
        return "is inside a .git folder (expected a path outside the repository's own data)"
    base = Path(os.path.abspath(project)) if project is not None else _default_project(lexical)
    if not _within(lexical, base):
        return f"is outside {base} (expected a path inside it)"
    if not _within(real, Path(os.path.realpath(base))):
        return f"leads through a symlink to {real}, outside {base} (expected a path inside it)"
    for source in inputs:
        source_real = Path(os.path.realpath(source))
        if real == source_real:
            return f"is this command's input {source} (expected a path it does not read)"
        if _within(real, source_real) and source_real.is_dir():
            return f"is inside {source}, which this command reads (expected a path it does not read)"
    return None


def _default_project(lexical: Path) -> Path:
    cwd = Path.cwd()
    return cwd if _within(lexical, cwd) else lexical.parent


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
