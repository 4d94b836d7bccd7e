"""A warm worker kept for the next `keel synth` (`--standby`, the default at an interactive terminal).

What a worker pays before it builds anything (Python imports, jsii's Node runtime, CDK's CloudFormation
validation engine) is most of a one-stack synth. After a synth, `keel synth --standby` leaves one worker that
has paid it, waiting on a Unix socket in the cache folder; the next synth claims it instead of starting its
first worker, so re-synthesizing one changed instance costs about what building that stack costs.

A standby serves one synth, then exits (a jsii runtime cannot forget the app it built); the synth that used it
leaves a new one. It is used only by a synth that would start the same worker: the socket's name is a key of
Keel's code, app.py, the interpreter and the worker's environment (context, platform file, validation, PATH,
AWS_* and the rest), so an edit to the code or a changed context starts a fresh worker as before, and the
stale standby is told to exit. Unclaimed, a standby exits after `IDLE_SECONDS`, or once its socket is gone
(`make clean`). Never on CI: without a terminal (or with $CI set) `keel synth` leaves nothing running unless
`--standby` is given.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

#: An unclaimed standby exits after this long (it holds ~150 MiB of Python and ~500 MiB of Node).
IDLE_SECONDS = 900.0
#: How often a waiting standby checks that its socket is still there (`make clean` removes the cache).
POLL_SECONDS = 5.0
#: How long a synth waits for a standby to answer its claim before it starts a worker of its own.
CLAIM_SECONDS = 2.0
#: The cache's folder of standby sockets and their logs.
FOLDER = "standby"
#: Environment variables that say nothing about the synth (a terminal's, a shell's): left out of the key.
_VOLATILE = frozenset({"PWD", "OLDPWD", "SHLVL", "_", "TERM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION", "COLUMNS",
                       "LINES", "DISPLAY", "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY", "SSH_AUTH_SOCK", "TMUX",
                       "TMUX_PANE", "STY", "WINDOW", "PS1", "PROMPT_COMMAND", "HISTFILE", "CDK_OUTDIR",
                       "KEEL_SYNTH_STACKS", "KEEL_SYNTH_MODEL", "KEEL_SYNTH_OUTDIR", "COLORTERM",
                       "LS_COLORS"})


def wanted(choice: bool | None, environ: Mapping[str, str], interactive: bool) -> bool:
    """`--standby`/`--no-standby`, else on at an interactive terminal outside CI."""
    if choice is not None:
        return choice
    return interactive and not environ.get("CI")


def key_of(root: Path, env: Mapping[str, str], python: str) -> str:
    """What a worker started now would be: Keel's code and lockfiles, app.py, the interpreter, its environment."""
    from keel.delivery.model_pickle import code_digest

    digest = hashlib.sha256(f"keel-standby 1\0{python}\0{sys.version}\0{code_digest(root)}\0".encode())
    app = root / "app.py"
    digest.update(app.read_bytes() if app.is_file() else b"")
    relevant = {k: v for k, v in env.items() if k not in _VOLATILE}
    digest.update(json.dumps(relevant, sort_keys=True).encode())
    return digest.hexdigest()[:32]


def socket_path(folder: Path, key: str) -> Path:
    return folder / f"{key}.sock"


def _message(conn: socket.socket, doc: Mapping[str, object]) -> None:
    conn.sendall((json.dumps(doc) + "\n").encode())


def _line(conn: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", errors="replace").strip()


def claim(folder: Path, key: str) -> socket.socket | None:
    """The standby of this key, now this synth's (a connected socket), or None. Standbys of other keys are
    told to exit: they would never be claimed."""
    if not folder.is_dir():
        return None
    for other in folder.glob("*.sock"):
        if other.stem != key:
            _quit(other)
    path = socket_path(folder, key)
    if not path.exists() or len(str(path)) > 100:  # sun_path holds ~107 bytes
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(CLAIM_SECONDS)
    try:
        conn.connect(str(path))
        _message(conn, {"claim": key})
        if _line(conn) == "ok":
            conn.settimeout(None)
            return conn
    except OSError:
        path.unlink(missing_ok=True)  # its process is gone
    conn.close()
    return None


def _quit(path: Path) -> None:
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(CLAIM_SECONDS)
        conn.connect(str(path))
        _message(conn, {"quit": True})
        return
    path.unlink(missing_ok=True)


def leave_one(folder: Path, key: str, *, root: Path, python: str, env: Mapping[str, str]) -> bool:
    """Start a standby for the next synth, detached (its own session, no terminal, output into its log), unless
    one of this key is there already. False: nothing started (the folder's path is too long for a socket)."""
    path = socket_path(folder, key)
    if len(str(path)) > 100:
        return False
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    if path.exists():
        return True
    # Bound here, not in the child: the socket is there when this synth ends, and a synth that comes before
    # the child is listening waits in the backlog instead of starting a worker of its own.
    with listen(path) as listener, (folder / f"{key}.log").open("wb") as log:
        fd = listener.fileno()
        subprocess.Popen([python, "-m", "keel.delivery.synth_worker", "--standby", str(path), str(fd)],
                         cwd=root, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                         start_new_session=True, close_fds=True, pass_fds=(fd,))
    return True


# -- the standby's side ---------------------------------------------------------------------------------------

def listen(path: Path) -> socket.socket:
    """The standby's socket, bound before it starts (by the synth that leaves it): a synth that comes meanwhile
    claims a worker that is part of the way there rather than starting one from nothing."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path.unlink(missing_ok=True)
    listener.bind(str(path))
    listener.listen(4)
    return listener


def serve(listener: socket.socket, path: Path,
          idle: float = IDLE_SECONDS) -> tuple[socket.socket, dict[str, object]] | None:
    """Wait until a synth claims this standby (the connection to answer on, and its assignment), or until `idle`
    seconds pass, its socket is removed, or a synth says quit (None)."""
    try:
        listener.settimeout(min(POLL_SECONDS, idle))
        deadline = time.monotonic() + idle
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                if time.monotonic() > deadline or not path.exists():  # idle too long, or `make clean`
                    return None
                continue
            conn.settimeout(CLAIM_SECONDS)
            try:
                first = json.loads(_line(conn) or "{}")
            except (OSError, ValueError):
                conn.close()
                continue
            if first.get("quit"):
                conn.close()
                return None
            if first.get("claim") != path.stem:
                conn.close()
                continue
            path.unlink(missing_ok=True)  # claimed: no other synth may connect
            try:
                conn.sendall(b"ok\n")
            except OSError:  # the synth gave up waiting and started a worker of its own
                conn.close()
                return None
            conn.settimeout(None)
            try:
                work = json.loads(_line(conn) or "{}")
            except ValueError:
                work = {}
            return conn, work if isinstance(work, dict) else {}
    finally:
        listener.close()
        path.unlink(missing_ok=True)
