"""None of the reference data is committed to the project: no tracked file has the git blob of a data file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conformance.reference_data import DATA_SETS, ROOT


def test_no_tracked_file_is_a_copy_of_reference_data(reference_data: Path) -> None:
    files = sorted(str(p) for s in DATA_SETS for p in (reference_data / s.name).rglob("*") if p.is_file())
    assert files
    theirs = set(subprocess.run(["git", "hash-object", "--stdin-paths"], input="\n".join(files), text=True,
                                capture_output=True, check=True).stdout.split())
    tracked = subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, text=True, capture_output=True, check=True).stdout
    ours = {line.split()[1]: line.split("\t", 1)[1] for line in tracked.splitlines()}
    assert sorted(path for blob, path in ours.items() if blob in theirs) == []
