"""Files written into the cloud assembly next to the templates (e.g. a server registration script).

An `AssemblyFile` only records its content; the stack's `KeelSynthesizer` writes it into the assembly
directory while the stack synthesizes, so the file exists exactly when the templates do.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import DefaultStackSynthesizer, ISynthesisSession, Stack, Token
from constructs import Construct, IConstruct

from keel.fileio import write_text


class AssemblyFile(Construct):
    """A text file named `<stack artifact id>.<name>` in the cloud assembly; content must be literal."""

    def __init__(self, scope: Construct, id_: str, *, name: str, content: str, executable: bool = False) -> None:
        super().__init__(scope, id_)
        if Token.is_unresolved(content):
            raise ValueError(f"{self.node.path}: an assembly file is written at synth time; its content "
                             "cannot hold deploy-time values (tokens)")
        if "/" in name or name.startswith("."):
            raise ValueError(f"{self.node.path}: {name!r} is not a plain file name")
        self.name = name
        self.content = content
        self.executable = executable

    def file_name(self) -> str:
        return f"{Stack.of(self).artifact_id}.{self.name}"

    def write(self, outdir: str) -> Path:
        path = Path(outdir) / self.file_name()
        write_text(path, self.content, mode=0o755 if self.executable else None)
        return path


class KeelSynthesizer(DefaultStackSynthesizer):
    """The default synthesizer, plus the stack's `AssemblyFile`s. One instance per stack (every Keel stack
    gets its own: keel.stacks.base.KeelStack)."""

    def __init__(self) -> None:
        super().__init__()
        self._keel_stack: Stack | None = None

    def reusable_bind(self, stack: Stack) -> KeelSynthesizer:
        # DefaultStackSynthesizer hands each stack a copy; the copy would not call back into this
        # Python object, so bind this instance itself (one synthesizer per stack, never shared).
        if self._keel_stack is not None and self._keel_stack is not stack:
            raise ValueError(f"a KeelSynthesizer serves one stack: {self._keel_stack.node.path} already has this one")
        self.bind(stack)
        self._keel_stack = stack
        return self

    def synthesize(self, session: ISynthesisSession) -> None:
        super().synthesize(session)
        if self._keel_stack is None:
            raise RuntimeError("KeelSynthesizer.synthesize before the stack bound it")
        for construct in _files(self._keel_stack):
            construct.write(session.outdir)


def _files(stack: Stack) -> list[AssemblyFile]:
    # By path, not identity: CDK binds the synthesizer while the stack is being constructed, so the stack it
    # hands over is a different Python proxy of the same construct.
    def ours(c: IConstruct) -> bool:
        return isinstance(c, AssemblyFile) and Stack.of(c).node.path == stack.node.path
    return [c for c in stack.node.find_all() if ours(c)]  # type: ignore[misc]
