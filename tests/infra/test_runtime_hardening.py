"""Issue 13's runtime and least-privilege items, asserted on the default platform's templates (synthesized
once per session): custom resources that give up in time and run once, the rotation function configured
from the spec and callable by this account only, acknowledgements true for the function they cover, the
event worker's idempotency window, SSM agent and ECR grants scoped to the environment, and an ECS Anywhere
registration that verifies AWS's signature and keeps the activation code off every command line."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from keel.constructs.ecs_anywhere import ECS_PGP_KEY_FINGERPRINT, ECS_PGP_KEY_ID, SIGNATURE_URL, Registration
from tests.infra.conftest import Synthesized

CODE = "activation-code-DO-NOT-LEAK"
ENVIRONMENT_STACKS = ("keel-dev", "keel-prod", "keel-staging", "keel-edge")


def resources(platform: Synthesized, stack: str, kind: str) -> dict[str, Any]:
    return {k: v for k, v in platform.json(stack)["Resources"].items() if v["Type"] == kind}


def statements(platform: Synthesized, stack: str, policy_prefix: str) -> list[dict[str, Any]]:
    return [s for k, p in resources(platform, stack, "AWS::IAM::Policy").items() if k.startswith(policy_prefix)
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def acknowledged(platform: Synthesized, stack: str) -> dict[str, dict[str, str]]:
    """Construct path -> {rule: reason}, from the stack's cloud assembly metadata."""
    metadata = json.loads((platform.outdir / f"{stack}.metadata.json").read_text())
    out: dict[str, dict[str, str]] = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get("type") == "aws:cdk:acknowledged-rules":
                out.setdefault(path, {}).update(entry["data"])
    return out


# -- custom resources -----------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ENVIRONMENT_STACKS)
def test_every_custom_resource_gives_up_within_its_function_timeout_plus_a_margin(platform: Synthesized,
                                                                                  stack: str) -> None:
    template = platform.json(stack)["Resources"]
    custom = {k: v for k, v in template.items() if v["Type"].startswith("Custom::")}
    assert custom
    for logical, resource in custom.items():
        function = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
        timeout = template[function]["Properties"]["Timeout"]
        assert timeout < int(resource["Properties"]["ServiceTimeout"]) <= timeout + 60, logical


@pytest.mark.parametrize("stack", ["keel-staging", "keel-edge"])
def test_providers_are_never_retried_by_lambda(platform: Synthesized, stack: str) -> None:
    configs = resources(platform, stack, "AWS::Lambda::EventInvokeConfig")
    providers = {k: v for k, v in resources(platform, stack, "AWS::Lambda::Function").items()
                 if "Provider" in k and not k.startswith("Custom")  # Keel's providers, not CDK's own
                 and "KubectlProvider" not in k}  # nor aws_eks_v2's (its framework invokes it synchronously)
    assert providers and {c["Properties"]["FunctionName"]["Ref"] for c in configs.values()} >= set(providers)
    assert all(c["Properties"]["MaximumRetryAttempts"] == 0 for c in configs.values())


def test_activation_provider_issues_only_activations_tagged_as_its_own(platform: Synthesized) -> None:
    issue = next(s for s in statements(platform, "keel-staging", "AnywhereActivationProvider")
                 if "ssm:CreateActivation" in actions(s))
    assert sorted(actions(issue)) == ["ssm:AddTagsToResource", "ssm:CreateActivation"]
    assert issue["Condition"] == {
        "StringEquals": {"aws:RequestTag/keel:activation": "keel-staging/Anywhere/Activation"},
        "Null": {"aws:RequestTag/keel:cfn-request-id": "false"}}
    _, activation = next(iter(resources(platform, "keel-staging", "Custom::KeelHybridActivation").items()))
    assert activation["Properties"]["Owner"] == "keel-staging/Anywhere/Activation"


def test_the_provider_tags_what_its_iam_conditions_name() -> None:
    import ast

    from keel.constructs import hybrid_activation
    from keel.constructs.function import LAMBDA_SRC

    tree = ast.parse((LAMBDA_SRC / "hybrid_activation" / "handler.py").read_text())
    constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                 for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
    assert (constants["OWNER_TAG"], constants["REQUEST_TAG"]) == \
        (hybrid_activation.OWNER_TAG, hybrid_activation.REQUEST_TAG)


def test_activation_acknowledgement_says_why_delete_cannot_be_scoped(platform: Synthesized) -> None:
    reasons = acknowledged(platform, "keel-staging")["/keel-staging/Anywhere/Activation/Provider/Resource"]
    reason = reasons["AwsSolutions::AwsSolutions-IAM5[Resource::*]"]
    assert "aws:RequestTag" in reason and "DeleteActivation" in reason and "no condition key" in reason


# -- secret rotation ------------------------------------------------------------------------------
def test_rotation_permission_names_this_account(platform: Synthesized) -> None:
    [permission] = [p["Properties"] for p in resources(platform, "keel-dev", "AWS::Lambda::Permission").values()
                    if p["Properties"]["Principal"] == "secretsmanager.amazonaws.com"]
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}


def test_rotation_settings_come_from_the_spec_not_from_tags(platform: Synthesized) -> None:
    [rotation] = [f["Properties"] for k, f in resources(platform, "keel-dev", "AWS::Lambda::Function").items()
                  if k.startswith("ConfigRotation")]
    shapes = json.loads(rotation["Environment"]["Variables"]["KEEL_ROTATION_SHAPES"])
    secrets = {s["Properties"]["Name"]: s["Properties"]
               for s in resources(platform, "keel-dev", "AWS::SecretsManager::Secret").values()}
    for name, shape in shapes.items():
        generator = secrets[name]["GenerateSecretString"]
        assert shape["length"] == generator["PasswordLength"] >= 16
        assert shape["exclude_punctuation"] == generator["ExcludePunctuation"]
    tags = {t["Key"] for s in secrets.values() for t in s.get("Tags", [])}
    assert not {"keel:secret-length", "keel:secret-exclude-punctuation"} & tags


@pytest.mark.parametrize(("stack", "path", "caller"), [
    ("keel-dev", "/keel-dev/Config/Rotation/Resource", "Secrets Manager"),
    ("keel-items-api-dev", "/keel-items-api-dev/Function/Resource", "API Gateway"),
    ("keel-items-worker-dev", "/keel-items-worker-dev/Function/Resource", "SQS poller"),
])
def test_no_dlq_acknowledgement_names_the_function_s_own_caller(platform: Synthesized, stack: str, path: str,
                                                                caller: str) -> None:
    reasons = acknowledged(platform, stack)[path]
    for rule in ("Serverless::Serverless-LambdaDLQ", "Serverless::Serverless-LambdaAsyncFailureDestination"):
        assert caller in reasons[rule], rule
        assert "API Gateway, SQS poller" not in reasons[rule]


# -- event worker ---------------------------------------------------------------------------------
def test_event_worker_remembers_event_ids_past_the_queue_and_archive_horizons(platform: Synthesized) -> None:
    functions = resources(platform, "keel-items-worker-dev", "AWS::Lambda::Function").values()
    [function] = [f["Properties"] for f in functions
                  if "KEEL_IDEMPOTENCY_TTL_SECONDS" in f["Properties"].get("Environment", {}).get("Variables", {})]
    window = int(function["Environment"]["Variables"]["KEEL_IDEMPOTENCY_TTL_SECONDS"])
    [queue] = [q["Properties"] for q in resources(platform, "keel-items-worker-dev", "AWS::SQS::Queue").values()
               if "RedrivePolicy" in q["Properties"]]
    [archive] = [a["Properties"] for a in resources(platform, "keel-dev", "AWS::Events::Archive").values()]
    assert window > queue["MessageRetentionPeriod"]
    assert window > archive["RetentionDays"] * 86400


# -- on-premises roles ----------------------------------------------------------------------------
@pytest.mark.parametrize(("stack", "policy"), [("keel-staging", "AnywhereInstanceRole"),
                                               ("keel-edge", "HybridNodesRole")])
def test_on_premises_roles_read_only_their_environment_s_parameters(platform: Synthesized, stack: str,
                                                                    policy: str) -> None:
    roles = [r["Properties"] for k, r in resources(platform, stack, "AWS::IAM::Role").items() if k.startswith(policy)]
    assert "AmazonSSMManagedInstanceCore" not in json.dumps(roles)
    environment = stack.removeprefix("keel-")
    for statement in statements(platform, stack, policy):
        if {"ssm:GetParameter", "ssm:GetParameters"} & set(actions(statement)):
            assert statement["Resource"] != "*"
            assert f":parameter/keel/{environment}/" in json.dumps(statement["Resource"]) or \
                "AgentConfig" in json.dumps(statement["Resource"])
    agent = next(s for s in statements(platform, stack, policy) if s.get("Sid") == "SsmAgent")
    assert "ssm:UpdateInstanceInformation" in actions(agent) and "ssmmessages:OpenDataChannel" in actions(agent)


def test_hybrid_nodes_deregister_only_managed_instances_of_their_activation(platform: Synthesized) -> None:
    deregister = next(s for s in statements(platform, "keel-edge", "HybridNodesRole")
                      if s.get("Sid") == "DeregisterItselfOnUninstall")
    assert deregister["Condition"] == {"StringEquals": {"aws:ResourceTag/keel:activation":
                                                        "keel-edge/HybridNodes/Activation"}}


def test_external_tasks_pull_only_images_of_their_environment(platform: Synthesized) -> None:
    pull = next(s for s in statements(platform, "keel-staging", "AnywhereTaskExecutionRole")
                if s.get("Sid") == "EcrPull")
    assert pull["Condition"] == {"StringEquals": {"aws:ResourceTag/keel:environment": "staging"}}


# -- ECS Anywhere registration --------------------------------------------------------------------
INSTALLER = """\
printf '%s\\n' "$@" > "$FAKE_LOG/installer-args"
stat -c %a "$KEEL_WORK" > "$FAKE_LOG/workdir-mode"
printf '%s' "$KEEL_WORK" > "$FAKE_LOG/workdir"
"""


def fake_tools(tmp: Path, *, fingerprint: str) -> dict[str, str]:
    """aws, gpg and curl that log their argv and answer like the real ones; the rest is the real system."""
    bin_ = tmp / "bin"
    bin_.mkdir()
    log = tmp / "log"
    log.mkdir()
    tools = {
        "aws": f"""case "$*" in
  *get-parameter*) echo arn:aws:secretsmanager:eu-west-1:111111111111:secret:activation ;;
  *get-secret-value*) echo '{{"ActivationId": "act-1", "ActivationCode": "{CODE}"}}' ;;
esac""",
        "gpg": f"""case "$*" in
  *--verify*) echo "[GNUPG:] GOODSIG 50DECCC4710E61AF Amazon ECS"
              echo "[GNUPG:] VALIDSIG D64BB6F90CF377E9B5FB346F50DECCC4710E61AF 2021-05-25 0 4 0 1 8 00 {fingerprint}" ;;
esac""",
        "curl": """out=""; while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift 2 ;; *) url="$1"; shift ;; esac; done
case "$url" in *.asc) echo signature > "$out" ;; *) cp "$FAKE_INSTALLER" "$out" ;; esac""",
    }
    for name, body in tools.items():
        path = bin_ / name
        path.write_text(f'#!/bin/bash\nprintf "%s\\n" "{name} $*" >> "$FAKE_LOG/argv"\n{body}\n')
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    installer = tmp / "installer.sh"
    installer.write_text(INSTALLER)
    return {"PATH": f"{bin_}:/usr/bin:/bin", "FAKE_LOG": str(log), "FAKE_INSTALLER": str(installer),
            "HOME": str(tmp), "TMPDIR": str(tmp)}


def registration() -> Registration:
    return Registration(region="eu-west-1", cluster="keel-staging", gpu=False, docker_install_source="all")


def test_registration_script_verifies_the_installer_and_keeps_the_code_off_every_command_line(
        platform: Synthesized, tmp_path: Path) -> None:
    script = platform.outdir / "keel-staging.ecs-anywhere-register.sh"
    env = fake_tools(tmp_path, fingerprint=ECS_PGP_KEY_FINGERPRINT)
    result = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    log = Path(env["FAKE_LOG"])
    arguments = (log / "installer-args").read_text().split()
    assert arguments[arguments.index("--activation-code") + 1] == CODE  # the installer got it...
    assert CODE not in (log / "argv").read_text()  # ...and no command line ever carried it
    assert f"--recv-keys {ECS_PGP_KEY_ID}" in (log / "argv").read_text()
    assert SIGNATURE_URL in (log / "argv").read_text()
    assert (log / "workdir-mode").read_text().strip() == "700"  # mktemp -d: private
    assert not Path((log / "workdir").read_text()).exists()  # and removed afterwards


def test_registration_refuses_an_installer_not_signed_by_the_amazon_ecs_key(tmp_path: Path) -> None:
    env = fake_tools(tmp_path, fingerprint="0" * 40)
    result = subprocess.run(["bash", "-c", registration().command("arn:aws:secretsmanager:eu-west-1:1:secret:a")],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "no good signature" in result.stderr
    assert not (Path(env["FAKE_LOG"]) / "installer-args").exists()  # never ran
    assert "get-secret-value" not in (Path(env["FAKE_LOG"]) / "argv").read_text()  # the code was never read


def test_registration_command_runs_the_same_steps_as_the_script(tmp_path: Path) -> None:
    env = fake_tools(tmp_path, fingerprint=ECS_PGP_KEY_FINGERPRINT)
    result = subprocess.run(["bash", "-c", registration().command("arn:aws:secretsmanager:eu-west-1:1:secret:a")],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert CODE not in (Path(env["FAKE_LOG"]) / "argv").read_text()
    assert "--activation-code" in (Path(env["FAKE_LOG"]) / "installer-args").read_text()


def test_registration_script_is_executable_and_holds_no_code(platform: Synthesized) -> None:
    script = platform.outdir / "keel-staging.ecs-anywhere-register.sh"
    assert os.access(script, os.X_OK) and CODE not in script.read_text()
    assert "/tmp/ecs-anywhere-install.sh" not in script.read_text()  # no predictable path
