"""`keel secret` and `keel param` on the config plane, against moto."""

from __future__ import annotations

import io
import json
import logging

import pytest

from keel.cli import main
from tests.ops.conftest import PLATFORM, SIGNING_KEY, Deployed

NEW_VALUE = "pa55-Word-from-stdin-7Qx"


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def keel(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--platform", str(PLATFORM)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_secret_set_reads_stdin_and_the_value_reaches_no_output_argv_or_log(
        deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # botocore logs request bodies at DEBUG: keel must keep them quiet
    assert keel(capsys, "param", "get", "dev", "api", "page-size")[0] == 0
    assert any(r.name.startswith("botocore") for r in caplog.records)  # DEBUG capture works, for other calls
    caplog.clear()
    monkeypatch.setattr("sys.stdin", Pipe(NEW_VALUE + "\n"))
    spawned: list[object] = []
    monkeypatch.setattr("subprocess.Popen", lambda *a, **k: spawned.append(a))
    argv = ["secret", "set", "dev", "api", "stripe-key", "--description", "Stripe API key"]
    code, out, err = keel(capsys, *argv)
    assert (code, out, err) == (0, "created keel/dev/api/stripe-key (the value is not shown)\n", "")
    assert NEW_VALUE not in " ".join(argv) and not spawned
    assert not [r for r in caplog.records if NEW_VALUE in r.getMessage()] and NEW_VALUE not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # the value did reach Secrets Manager
        assert deployed.client("secretsmanager").get_secret_value(SecretId="keel/dev/api/stripe-key")[
            "SecretString"] == NEW_VALUE  # the trailing newline of `echo` is not part of it


def test_secret_set_again_updates_the_value(deployed: Deployed, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    for value in ("first-value-1234", "second-value-5678"):
        monkeypatch.setattr("sys.stdin", Pipe(value))
        code, out, _ = keel(capsys, "secret", "set", "dev", "shared", "webhook-token")
    assert (code, out) == (0, "updated keel/dev/shared/webhook-token (the value is not shown)\n")
    assert deployed.client("secretsmanager").get_secret_value(SecretId="keel/dev/shared/webhook-token")[
        "SecretString"] == "second-value-5678"


def test_secret_set_on_a_terminal_prompts_twice_hidden(deployed: Deployed, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", Terminal())
    answers = iter(["typed-value-1", "typed-value-2"])
    monkeypatch.setattr("keel.ops.commands.getpass.getpass", lambda prompt: next(answers))
    code, out, err = keel(capsys, "secret", "set", "dev", "api", "typo-key")
    assert (code, err) == (2, "keel secret: the two values differ; nothing was stored\n")
    assert "typed-value" not in out + err


def test_a_value_on_the_command_line_is_refused_and_not_echoed(deployed: Deployed,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = keel(capsys, "secret", "set", "dev", "api", "stripe-key", "sk_live_oops")
    assert code == 2 and "never taken from the command line" in err
    assert "sk_live_oops" not in out + err


def test_secret_list_shows_names_never_values(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = keel(capsys, "secret", "list", "dev")
    assert code == 0 and "keel/dev/api/signing-key" in out and "platform file" in out
    assert SIGNING_KEY not in out
    code, out, _ = keel(capsys, "secret", "list", "dev", "api", "--json")
    entries = {e["name"]: e for e in json.loads(out)}
    assert entries["keel/dev/api/signing-key"]["managed_by"] == "platform file"
    assert SIGNING_KEY not in out and "value" not in next(iter(entries.values()))


def test_secrets_the_platform_file_declares_belong_to_cloudformation(deployed: Deployed,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = keel(capsys, "secret", "delete", "dev", "api", "signing-key")
    assert code == 2 and "declared in the platform file (config.secrets)" in err


def test_secret_delete_keeps_a_recovery_window(deployed: Deployed, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", Pipe("short-lived-value"))
    assert keel(capsys, "secret", "set", "dev", "api", "temp")[0] == 0
    code, out, _ = keel(capsys, "secret", "delete", "dev", "api", "temp", "--recovery-days", "10")
    assert (code, out) == (0, "deleted keel/dev/api/temp (recoverable for 10 days)\n")
    assert "DeletedDate" in deployed.client("secretsmanager").describe_secret(SecretId="keel/dev/api/temp")
    assert keel(capsys, "secret", "delete", "dev", "api", "never-there", "--force")[2] == \
        "keel secret: no secret keel/dev/api/never-there\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["dev", "Api", "x"], 'service: does not match'),
    (["dev", "api", "bad key"], 'key: does not match'),
    (["dev", "vpc", "x"], "service: is reserved: "),
    (["prod", "api", "x"], 'unknown environment "prod" (known: dev, staging)'),
])
def test_paths_follow_the_spec_layers_rules(deployed: Deployed, capsys: pytest.CaptureFixture[str],
                                            argv: list[str], message: str) -> None:
    for verb in (["secret", "delete"], ["param", "get"]):
        code, _, err = keel(capsys, *verb, *argv)
        assert code == 2 and message in err and err.count("\n") == 1, err


def test_param_set_get_and_list(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    assert keel(capsys, "param", "set", "dev", "api", "feature/new-cart", "on") == \
        (0, "/keel/dev/api/feature/new-cart: version 1\n", "")
    assert keel(capsys, "param", "get", "dev", "api", "feature/new-cart")[1] == "on\n"
    code, out, _ = keel(capsys, "param", "list", "dev", "api", "--json")
    assert [(p["name"], p["value"]) for p in json.loads(out)] == [
        ("/keel/dev/api/feature/new-cart", "on"), ("/keel/dev/api/greeting", "Hello from dev"),
        ("/keel/dev/api/page-size", "50")]
    code, out, _ = keel(capsys, "param", "list", "dev")
    assert code == 0 and "/keel/dev/vpc/id" in out  # the environment's published outputs too


def test_parameters_the_platform_file_declares_are_changed_there(deployed: Deployed,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = keel(capsys, "param", "set", "dev", "api", "greeting", "Hi")
    assert code == 2 and "declared in the platform file (config.parameters)" in err


def test_param_get_of_a_missing_parameter(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    assert keel(capsys, "param", "get", "dev", "api", "nope") == \
        (2, "", "keel param: no parameter /keel/dev/api/nope\n")


def test_secret_set_on_a_terminal_stores_the_confirmed_value(deployed: Deployed, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", Terminal())
    prompts: list[str] = []
    monkeypatch.setattr("keel.ops.commands.getpass.getpass", lambda prompt: prompts.append(prompt) or "typed-value-9")
    code, out, err = keel(capsys, "secret", "set", "dev", "api", "typed-key")
    assert (code, err, prompts) == (0, "", ["secret value (hidden): ", "again, to confirm: "])
    assert "typed-value-9" not in out
    assert deployed.client("secretsmanager").get_secret_value(SecretId="keel/dev/api/typed-key")[
        "SecretString"] == "typed-value-9"
