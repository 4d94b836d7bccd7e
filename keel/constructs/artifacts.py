"""Files written next to the templates in the cloud assembly (cdk.out), for people and tools that run
outside CloudFormation: EKS Anywhere cluster configs, nodeadm node configs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from aws_cdk import Stage
from constructs import Construct


class AssemblyFiles(Construct):
    """Writes `files` ({relative path: text}) under `<outdir>/<folder>/` when the app is built; the
    paths are what a pipeline picks up from the synthesized assembly."""

    def __init__(self, scope: Construct, id_: str, *, folder: str, files: Mapping[str, str]) -> None:
        super().__init__(scope, id_)
        stage = Stage.of(self)
        assert stage is not None, "AssemblyFiles needs an App (or Stage) above it"
        self.folder = Path(stage.outdir) / folder
        self.paths: dict[str, Path] = {}
        for name, text in sorted(files.items()):
            relative = PurePosixPath(name)
            if relative.is_absolute() or ".." in relative.parts:
                raise ValueError(f"{name!r}: artifact paths stay inside their folder")
            path = self.folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            self.paths[name] = path
