"""Terminal manners: rich tables and colours on a terminal, plain text in pipes, progress only where watched."""

from __future__ import annotations

import io

import pytest

from keel import terminal


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_pipe_gets_a_plain_table_that_never_wraps() -> None:
    long = "x" * 300
    text = terminal.render_table(["name", "value"], [["a", long], ["b", "2"]], color=False)
    lines = text.splitlines()
    assert lines[0].split() == ["name", "value"] and set(lines[1]) == {"─"}
    assert lines[2].split() == ["a", long] and lines[3].split() == ["b", "2"]
    assert "\x1b[" not in text


def test_a_terminal_gets_colours() -> None:
    assert "\x1b[" in terminal.render_table(["name"], [["a"]], color=True)


def test_ci_is_never_interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert terminal.is_interactive(Tty())
    monkeypatch.setenv("CI", "true")
    assert not terminal.is_interactive(Tty())
    assert not terminal.is_interactive(io.StringIO())


def test_progress_is_silent_off_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CI", "1")
    with terminal.progress("synthesizing"):
        pass
    assert capsys.readouterr() == ("", "")


def test_progress_shows_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    err = Tty()
    monkeypatch.setattr("sys.stderr", err)
    with terminal.progress("synthesizing the base"):
        pass
    assert "synthesizing the base" in err.getvalue()
