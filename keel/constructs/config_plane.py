"""The environment's config plane: `/keel/<environment>/<service>/<key>` in Parameter Store, secrets in
Secrets Manager under `keel/<environment>/<service>/<key>`, rotated by a generic function.

SecureString parameters cannot be created by CloudFormation, so secrets live in Secrets Manager; code
that prefers one API reads them through Parameter Store as
`/aws/reference/secretsmanager/keel/<environment>/<service>/<key>`. Templates that need a secret's value
use a dynamic reference (`{{resolve:secretsmanager:...}}`, what `SecretValue.secrets_manager` renders),
never a plain value.

`grant_config_read` is the one way a role gets config access: its own service path and the shared path,
nothing else; it works whether or not the environment declares any parameters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, SecretValue, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from keel.constructs.common import pascal_id
from keel.constructs.function import ServiceFunction
from keel.contract.naming import (
    PASSWORD_FIELD,
    ROTATION_SETTINGS_ENV,
    SHARED,
    USERNAME_FIELD,
    parameter_name,
    secret_name,
)


@dataclass(frozen=True, kw_only=True)
class DeclaredParameter:
    """A parameter the environment declares: `values` makes it a StringList, else `value` is a String."""

    service: str
    key: str
    value: str | None = None
    values: tuple[str, ...] | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeclaredSecret:
    """A generated secret the environment declares; with a username it is JSON {username, password}."""

    service: str
    key: str
    description: str | None = None
    username: str | None = None
    length: int = 32
    exclude_punctuation: bool = False
    #: Rotated by the config plane's generic rotation function every `rotation_days`; False: issued elsewhere.
    rotate: bool = True
    rotation_days: int = 30


def config_read_statements(scope: Construct, *, environment: str, service: str,
                           key: kms.IKey | None) -> list[iam.PolicyStatement]:
    """Read access to `/keel/<env>/<service>/*` and `/keel/<env>/shared/*` (parameters, secrets, and
    secrets through `/aws/reference/secretsmanager/`), with ARNs in the grantee's own stack."""
    stack = Stack.of(scope)
    region, account, partition = stack.region, stack.account, stack.partition
    paths = [service, SHARED] if service != SHARED else [SHARED]
    ssm_arn = f"arn:{partition}:ssm:{region}:{account}:parameter"
    parameter_arns = []
    for path in paths:
        parameter_arns += [f"{ssm_arn}{parameter_name(environment, path, '')[:-1]}",
                           f"{ssm_arn}{parameter_name(environment, path, '*')}",
                           f"{ssm_arn}/aws/reference/secretsmanager/{secret_name(environment, path, '*')}"]
    statements = [
        iam.PolicyStatement(
            sid="ReadOwnAndSharedParameters",
            actions=["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
            resources=parameter_arns),
        iam.PolicyStatement(
            sid="ReadOwnAndSharedSecrets",
            actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            resources=[f"arn:{partition}:secretsmanager:{region}:{account}:secret:"
                       f"{secret_name(environment, path, '*')}" for path in paths]),
    ]
    if key is not None:
        statements.append(iam.PolicyStatement(
            sid="DecryptConfigThroughSsmAndSecretsManager",
            actions=["kms:Decrypt"], resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": [f"secretsmanager.{region}.amazonaws.com",
                                                            f"ssm.{region}.amazonaws.com"]}}))
    return statements


def secret_reference(*, environment: str, service: str, key: str, field: str | None = None) -> SecretValue:
    """A config-plane secret where a template needs its value: a CloudFormation dynamic reference
    (`{{resolve:secretsmanager:keel/<env>/<service>/<key>:SecretString[:field]}}`), resolved by
    CloudFormation at deploy time, so the value is in no template, output or cdk.out."""
    return SecretValue.secrets_manager(secret_name(environment, service, key), json_field=field)


def grant_config_read(role: iam.Role, *, environment: str, service: str, key: kms.IKey | None) -> None:
    """Attach the config read statements to `role` and acknowledge the path wildcards they need."""
    for statement in config_read_statements(role, environment=environment, service=service, key=key):
        role.add_to_principal_policy(statement)
    Validations.of(role).acknowledge(*[
        Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]",
                       reason=f"scoped to the config path of service {service} and the shared path: the "
                              "parameters and secrets under it are declared per environment")
        for resource in config_wildcards(role, environment=environment, service=service)])


def config_wildcards(scope: Construct, *, environment: str, service: str) -> list[str]:
    """The wildcard resources of `config_read_statements` as cdk-nag prints them."""
    stack = Stack.of(scope)

    def shown(value: str, pseudo: str) -> str:
        return f"<AWS::{pseudo}>" if Token.is_unresolved(value) else value

    region, account = shown(stack.region, "Region"), shown(stack.account, "AccountId")
    partition = shown(stack.partition, "Partition")
    paths = [service, SHARED] if service != SHARED else [SHARED]
    out = []
    for path in paths:
        out += [f"arn:{partition}:ssm:{region}:{account}:parameter{parameter_name(environment, path, '*')}",
                f"arn:{partition}:ssm:{region}:{account}:parameter/aws/reference/secretsmanager/"
                f"{secret_name(environment, path, '*')}",
                f"arn:{partition}:secretsmanager:{region}:{account}:secret:{secret_name(environment, path, '*')}"]
    return out


# A Lambda function's environment holds 4 KB in all; the rotation settings get most of it.
ROTATION_SETTINGS_LIMIT = 3500


def rotation_shape(secret: DeclaredSecret) -> dict[str, object]:
    """What the rotation function needs to generate the next value the way the spec declares the first."""
    return {"length": secret.length, "exclude_punctuation": secret.exclude_punctuation,
            "json": secret.username is not None}


def _only_this_account(function: lambda_.Function) -> None:
    """Secrets Manager may invoke the rotation function for this account's secrets only: CDK's rotation
    schedule grants the service principal with no SourceAccount (confused deputy)."""
    for child in function.node.children:
        if isinstance(child, lambda_.CfnPermission) and child.principal == "secretsmanager.amazonaws.com":
            child.source_account = Stack.of(function).account


class ConfigPlane(Construct):
    """Parameters and secrets declared by the environment spec, plus the rotation function."""

    def __init__(self, scope: Construct, id_: str, *, environment: str, key: kms.IKey,
                 parameters: Sequence[DeclaredParameter], secrets: Sequence[DeclaredSecret],
                 rotation_code: lambda_.Code, rotation_handler: str, runtime: lambda_.Runtime,
                 architecture: lambda_.Architecture,
                 log_retention: logs.RetentionDays, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_)
        self.environment = environment
        self.key = key
        self.parameters = self._parameters(parameters)
        self.rotation = self._rotation(secrets, code=rotation_code, handler=rotation_handler, runtime=runtime,
                                       architecture=architecture, log_retention=log_retention,
                                       removal_policy=removal_policy)
        self.secrets = {secret_name(environment, s.service, s.key): self._secret(s, removal_policy=removal_policy)
                        for s in secrets}
        if self.rotation is not None:
            _only_this_account(self.rotation.function)

    def _parameters(self, parameters: Sequence[DeclaredParameter]) \
            -> dict[str, ssm.StringParameter | ssm.StringListParameter]:
        out: dict[str, ssm.StringParameter | ssm.StringListParameter] = {}
        for p in parameters:
            name = parameter_name(self.environment, p.service, p.key)
            cid = f"Parameter{pascal_id(p.service)}{pascal_id(p.key)}"
            if p.values is not None:
                out[name] = ssm.StringListParameter(
                    self, cid, parameter_name=name, string_list_value=list(p.values), description=p.description)
            else:
                out[name] = ssm.StringParameter(
                    self, cid, parameter_name=name, string_value=p.value or "", description=p.description)
        return out

    def _rotation(self, secrets: Sequence[DeclaredSecret], *, code: lambda_.Code, handler: str,
                  runtime: lambda_.Runtime, architecture: lambda_.Architecture, log_retention: logs.RetentionDays,
                  removal_policy: RemovalPolicy) -> ServiceFunction | None:
        """One rotation function for every secret the spec rotates; None when it rotates none."""
        environment = self.environment
        rotated = {secret_name(environment, s.service, s.key): rotation_shape(s) for s in secrets if s.rotate}
        if not rotated:
            return None
        settings = json.dumps(rotated, sort_keys=True, separators=(",", ":"))
        if len(settings) > ROTATION_SETTINGS_LIMIT:
            raise ValueError(f"environment {environment}: {len(rotated)} rotated secrets need {len(settings)} "
                             f"bytes of rotation settings, more than the {ROTATION_SETTINGS_LIMIT} a Lambda "
                             "environment holds")
        rotation = ServiceFunction(
            self, "Rotation", code=code, handler=handler, runtime=runtime,
            architecture=architecture, memory_mb=256, timeout=Duration.seconds(30),
            # How each secret is generated comes from here (set from the spec), never from its tags.
            environment={"POWERTOOLS_SERVICE_NAME": "keel-secret-rotation",
                         "KEEL_ENVIRONMENT": environment, ROTATION_SETTINGS_ENV: settings},
            key=self.key, log_retention=log_retention, removal_policy=removal_policy,
            description=f"Keel {environment}: generic secret rotation (create/set/test/finish)",
            reserved_concurrency=None,
            synchronous_caller="only Secrets Manager invokes it, synchronously, once per rotation step: a "
                               "failed step marks the rotation failed, keeps AWSCURRENT, and Secrets Manager "
                               "retries the rotation itself")
        # GetRandomPassword has no resource to scope to.
        rotation.role.add_to_policy(iam.PolicyStatement(
            sid="GenerateRandomValues", actions=["secretsmanager:GetRandomPassword"], resources=["*"]))
        return rotation

    def _secret(self, s: DeclaredSecret, *, removal_policy: RemovalPolicy) -> secretsmanager.Secret:
        environment = self.environment
        name = secret_name(environment, s.service, s.key)
        # With a username: JSON {"username": ..., "password": <generated>}; else the bare value.
        template = json.dumps({USERNAME_FIELD: s.username}) if s.username else None
        secret = secretsmanager.Secret(
            self, f"Secret{pascal_id(s.service)}{pascal_id(s.key)}", secret_name=name,
            description=s.description or f"Keel {environment}: {s.service}/{s.key}",
            encryption_key=self.key, removal_policy=removal_policy,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=s.length, exclude_punctuation=s.exclude_punctuation,
                secret_string_template=template, generate_string_key=PASSWORD_FIELD if template else None))
        if s.rotate and self.rotation is not None:
            secret.add_rotation_schedule(
                "Rotation", rotation_lambda=self.rotation.function,
                automatically_after=Duration.days(s.rotation_days))
        else:
            Validations.of(secret).acknowledge(Acknowledgment(
                id="AwsSolutions::AwsSolutions-SMG4",
                reason="the spec declares this secret with rotation: none (a value issued by a third party)"))
        return secret

    def grant_read(self, role: iam.Role, *, service: str) -> None:
        grant_config_read(role, environment=self.environment, service=service, key=self.key)
