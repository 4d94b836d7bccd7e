"""A standby worker (keel.delivery.standby) is claimed by exactly one synth that would start the same worker,
never by another, and never outlives its welcome: claimed once, told to quit when stale, gone when idle or when
its socket is removed. The protocol here, without CDK; a real `keel synth --standby` pair under `heavy`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from keel.cdk_context import ROOT
from keel.delivery import standby
from keel.delivery.assembly_compare import differences

pytestmark = pytest.mark.early  # under heavy: three synths in subprocesses


class Served:
    """`serve` running in a thread, as a standby process runs it."""

    def __init__(self, folder: Path, key: str, idle: float = 30.0) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = standby.socket_path(folder, key)
        self.result: list[tuple[socket.socket, dict[str, object]] | None] = []
        listener = standby.listen(self.path)
        self.thread = threading.Thread(target=lambda: self.result.append(standby.serve(listener, self.path, idle)))
        self.thread.start()

    def outcome(self) -> tuple[socket.socket, dict[str, object]] | None:
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "serve never returned"
        return self.result[0]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    # a short path: a socket's name must fit in sun_path (~107 bytes)
    path = Path("/tmp") / f"keel-sb-{os.getpid()}-{tmp_path.name[-20:]}"
    path.mkdir()
    yield path  # type: ignore[misc]
    for p in path.iterdir():
        p.unlink()
    path.rmdir()


def test_a_claim_gets_the_standby_once_and_its_share_reaches_it(folder: Path) -> None:
    served = Served(folder, "k1")
    conn = standby.claim(folder, "k1")
    assert conn is not None
    assert standby.claim(folder, "k1") is None  # claimed: its socket is gone, no second synth gets it
    conn.sendall(json.dumps({"stacks": ["keel-lab"], "outdir": "/x"}).encode() + b"\n")
    outcome = served.outcome()
    assert outcome is not None
    answer, work = outcome
    assert work == {"stacks": ["keel-lab"], "outdir": "/x"}
    answer.sendall(b"done\n")
    assert conn.recv(16) == b"done\n"
    answer.close()
    conn.close()
    assert not served.path.exists()


def test_a_synth_with_another_key_starts_its_own_worker_and_the_stale_standby_quits(folder: Path) -> None:
    served = Served(folder, "old-code")
    assert standby.claim(folder, "new-code") is None
    assert served.outcome() is None
    assert list(folder.glob("*.sock")) == []


def test_an_unclaimed_standby_leaves_when_idle(folder: Path) -> None:
    served = Served(folder, "k1", idle=0.2)
    assert served.outcome() is None
    assert not served.path.exists()


def test_a_standby_leaves_when_its_socket_is_removed(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(standby, "POLL_SECONDS", 0.1)
    served = Served(folder, "k1")
    served.path.unlink()  # `make clean`
    assert served.outcome() is None


def test_a_dead_standby_is_forgotten(folder: Path) -> None:
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(standby.socket_path(folder, "k1")))
    dead.close()  # bound, never listening: its process is gone
    assert standby.claim(folder, "k1") is None
    assert not standby.socket_path(folder, "k1").exists()


def test_the_standby_is_there_when_the_leaving_synth_ends_and_a_claim_waits_for_it(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(standby, "CLAIM_SECONDS", 15.0)  # a loaded machine's start-up, not the point here
    # an interpreter that takes its time to start: the socket must not wait for it
    slow = tmp_path / "slow-python"
    slow.write_text(f"#!/bin/sh\nsleep 0.2\nexec {sys.executable} \"$@\"\n")
    slow.chmod(0o755)
    env = dict(os.environ, CDK_VALIDATION="false", PYTHONDONTWRITEBYTECODE="1")
    assert standby.leave_one(folder, "k1", root=ROOT, python=str(slow), env=env)
    assert standby.socket_path(folder, "k1").exists()
    conn = standby.claim(folder, "k1")  # before the child listens: it waits in the backlog
    assert conn is not None, "the claim was not answered"
    conn.sendall(b"{}\n")  # nothing to build: the standby exits
    conn.settimeout(20)
    assert conn.recv(16) == b""
    conn.close()
    assert not standby.socket_path(folder, "k1").exists()


def test_only_an_interactive_synth_outside_ci_leaves_one_unless_told() -> None:
    assert standby.wanted(None, {}, interactive=True)
    assert not standby.wanted(None, {"CI": "true"}, interactive=True)
    assert not standby.wanted(None, {}, interactive=False)
    assert standby.wanted(True, {"CI": "true"}, interactive=False)
    assert not standby.wanted(False, {}, interactive=True)


def _project(root: Path, module: str) -> Path:
    (root / "keel").mkdir(parents=True, exist_ok=True)
    (root / "keel" / "stack.py").write_text(module)
    (root / "app.py").write_text("print('app')\n")
    return root


def test_the_key_is_the_worker_a_synth_would_start(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "X = 1\n")
    env = {"CDK_CONTEXT_JSON": '{"a": 1}', "PATH": "/bin", "PWD": "/here", "TERM": "xterm"}
    key = standby.key_of(root, env, "/usr/bin/python3")
    assert standby.key_of(root, {**env, "PWD": "/elsewhere", "TERM": "dumb"}, "/usr/bin/python3") == key
    assert standby.key_of(root, {**env, "CDK_CONTEXT_JSON": '{"a": 2}'}, "/usr/bin/python3") != key
    assert standby.key_of(root, {**env, "AWS_REGION": "eu-west-1"}, "/usr/bin/python3") != key
    assert standby.key_of(root, env, "/opt/python3") != key
    _project(root, "X = 2\n")  # an edit to Keel's code
    assert standby.key_of(root, env, "/usr/bin/python3") != key


# -- a real pair of synths --------------------------------------------------------------------------------------

PLATFORM = ROOT / "tests" / "delivery" / "platforms" / "parallel.yaml"


def _synth(out: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
               CDK_VALIDATION="false", PYTHONDONTWRITEBYTECODE="1")
    env.pop("CI", None)
    return subprocess.run([sys.executable, "-m", "keel", "synth", "--platform", str(PLATFORM), "--quiet", "--memory",
                           "--jobs", "1", "--out", str(out), "--cache-dir", str(cache), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def cache(folder: Path) -> Iterator[Path]:
    path = folder / "c"
    yield path
    for sock in (path / standby.FOLDER).glob("*.sock"):
        standby._quit(sock)
    subprocess.run(["rm", "-rf", str(path)], check=False)


@pytest.mark.heavy  # three synths: make conformance
def test_the_next_synth_builds_on_the_standby_and_writes_the_same_assembly(cache: Path, tmp_path: Path) -> None:
    first = _synth(tmp_path / "first", cache, "--standby", "--no-cache")
    assert first.returncode == 0, first.stderr
    assert "standby" not in first.stdout
    assert list((cache / standby.FOLDER).glob("*.sock")), "the synth left no standby"
    second = _synth(tmp_path / "second", cache, "--standby", "--no-cache")
    assert second.returncode == 0, second.stderr
    assert "the standby an earlier synth left" in second.stdout
    assert differences(tmp_path / "first", tmp_path / "second") == []
    other = _synth(tmp_path / "other", cache, "--standby", "--no-cache", "-c", "keel:unused=1")
    assert other.returncode == 0, other.stderr
    assert "standby" not in other.stdout  # another context: another worker, not the one left for this one
    quiet = _synth(tmp_path / "quiet", cache / "none")
    assert not (cache / "none" / standby.FOLDER).exists()  # no terminal: nothing left running
    assert quiet.returncode == 0, quiet.stderr
