"""ECS Anywhere readiness: customers' own servers join the cluster as external instances.

An IAM role for the servers (trusted by SSM, which hands it to them on registration), an SSM hybrid
activation managed as code (`HybridActivation`: id and code only in a CMK-encrypted secret), a task
execution role for external tasks, a CloudWatch agent configuration for the servers, a FireLens log
routing default for external tasks, and the registration command (a stack output and a script written
next to the cloud assembly). The activation code never appears in any of them: they read it from the
secret with the AWS CLI when they run.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Acknowledgment, CfnOutput, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from keel.constructs.assembly_file import AssemblyFile
from keel.constructs.common import FLUENT_BIT_IMAGE, ecs_tasks_principal, firelens_cloudwatch_options, nag_arn_prefix
from keel.constructs.hybrid_activation import HybridActivation
from keel.constructs.ssm_agent import WILDCARD_REASON, grant_ssm_agent

INSTALL_SCRIPT_URL = "https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install-latest.sh"
# AWS's detached signature of the installer, and the Amazon ECS PGP key that makes it, as the ECS developer
# guide ("Registering an external instance to a cluster", verification steps) publishes them: the key id to
# fetch, the keyserver it names, and the primary key fingerprint a good signature must carry.
SIGNATURE_URL = INSTALL_SCRIPT_URL + ".asc"
ECS_PGP_KEY_ID = "BCE9D9A42D51784F"
ECS_PGP_KEY_FINGERPRINT = "F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F"
ECS_PGP_KEYSERVER = "hkp://keys.gnupg.net:80"
METRICS_NAMESPACE = "Keel/ECSAnywhere"
ENVIRONMENT_TAG = "keel:environment"
_MANAGED = "arn:<AWS::Partition>:iam::aws:policy/"
_CURL = "curl --proto '=https' --tlsv1.2 -fsSL"


@dataclass(frozen=True)
class Registration:
    """What `ecs-anywhere-install.sh` needs, minus the activation (read from the secret at run time).

    The installer is downloaded into a private temporary directory (mktemp -d, umask 077), run only when
    its signature verifies against the Amazon ECS key's documented fingerprint (in a throwaway GNUPGHOME),
    and given the activation without argv: the installer takes the code only as `--activation-code`, so it
    is sourced in a subshell with its arguments set by `set --` (a builtin), and no process Keel starts
    carries the code on its command line. The installer itself then passes it to `amazon-ssm-agent
    -register -code`, briefly visible in `ps` on the server: that is AWS's agent CLI, not avoidable here.
    `KEEL_ECS_KEYSERVER` replaces the documented keyserver where it is unreachable (the fingerprint
    check is what establishes trust, not the server)."""

    region: str
    cluster: str
    gpu: bool
    docker_install_source: str

    def install_arguments(self) -> str:
        flags = f'--region {self.region} --cluster {self.cluster} --activation-id "$KEEL_ACTIVATION_ID" ' \
                f'--activation-code "$KEEL_ACTIVATION_CODE" --docker-install-source {self.docker_install_source}'
        return flags + (" --enable-gpu" if self.gpu else "")

    def steps(self, secret_id: str) -> list[str]:
        """The registration, one shell command a line; `secret_id` may be a deploy-time token."""
        return [
            "umask 077",
            'KEEL_WORK=$(mktemp -d)',
            "trap 'rm -rf \"$KEEL_WORK\"' EXIT",
            'export GNUPGHOME="$KEEL_WORK/gnupg"',
            'mkdir "$GNUPGHOME"',
            f'gpg --batch --keyserver "${{KEEL_ECS_KEYSERVER:-{ECS_PGP_KEYSERVER}}}" --recv-keys {ECS_PGP_KEY_ID}',
            f'{_CURL} -o "$KEEL_WORK/ecs-anywhere-install.sh" {INSTALL_SCRIPT_URL}',
            f'{_CURL} -o "$KEEL_WORK/ecs-anywhere-install.sh.asc" {SIGNATURE_URL}',
            # A good signature (VALIDSIG) whose primary key is the documented Amazon ECS key, or stop.
            'gpg --batch --status-fd 1 --verify "$KEEL_WORK/ecs-anywhere-install.sh.asc" '
            '"$KEEL_WORK/ecs-anywhere-install.sh" 2>/dev/null | awk -v fpr=' + ECS_PGP_KEY_FINGERPRINT
            + " '$2 == \"VALIDSIG\" && $NF == fpr { ok = 1 } END { exit !ok }' || "
            '{ echo "ecs-anywhere-install.sh: no good signature by the Amazon ECS key '
            + ECS_PGP_KEY_FINGERPRINT + '; not running it" >&2; exit 1; }',
            f"KEEL_ACTIVATION=$(aws secretsmanager get-secret-value --region {self.region} --secret-id "
            f"{secret_id} --query SecretString --output text)",
            f"KEEL_ACTIVATION_ID=$({_field('ActivationId')})",
            f"KEEL_ACTIVATION_CODE=$({_field('ActivationCode')})",
            "unset KEEL_ACTIVATION",
            f"set -- {self.install_arguments()}",
            # The installer expects bash's defaults (it reads unset variables and checks pipelines itself).
            "set +u +o pipefail",
            'source "$KEEL_WORK/ecs-anywhere-install.sh"',
        ]

    def command(self, secret_id: str) -> str:
        """One line for a root shell on the server, run in a subshell (its trap cleans up at the end)."""
        return "(set -euo pipefail; " + "; ".join(self.steps(secret_id)) + ")"

    def script(self, *, secret_parameter: str, environment: str) -> str:
        """The same registration as a script: the secret is found through its discovery parameter."""
        return "\n".join([
            "#!/usr/bin/env bash",
            f"# Registers this server with the ECS cluster {self.cluster} ({self.region}) as an ECS Anywhere",
            f"# external instance of the Keel environment {environment}. Written by Keel at synth time; it",
            "# holds no secret: the activation id and code are read from Secrets Manager when it runs.",
            "# Run as root on the server (needs aws, gpg, curl, python3), with AWS credentials that may read",
            f"# the SSM parameter {secret_parameter}, the secret it names and decrypt with the environment key.",
            "# AWS's installer runs only if its signature verifies against the Amazon ECS key",
            f"# {ECS_PGP_KEY_FINGERPRINT}; it never gets the activation code on its command line.",
            "set -euo pipefail",
            f"SECRET_ID=$(aws ssm get-parameter --region {self.region} --name {shlex.quote(secret_parameter)} "
            "--query Parameter.Value --output text)",
            *self.steps('"$SECRET_ID"'),
            "",
        ])


def _field(name: str) -> str:
    """A field of the activation JSON, read from stdin (printf is a builtin: the value is in no argv)."""
    return f"""printf '%s' "$KEEL_ACTIVATION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["{name}"])'"""


class EcsAnywhere(Construct):
    def __init__(self, scope: Construct, id_: str, *, cluster: ecs.ICluster, key: kms.IKey, environment: str,
                 registration: Registration, secret_parameter: str, instance_name_prefix: str,
                 registration_limit: int, expiry_days: int, epoch: int, tags: Mapping[str, str],
                 log_retention: logs.RetentionDays, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_)
        self.instance_role = self._instance_role(environment)
        self.agent_config = self._agent_config(environment, registration)
        self.task_log_group, self.execution_role = self._external_tasks(environment, key=key,
                                                                       log_retention=log_retention,
                                                                       removal_policy=removal_policy)
        self.log_routing_policy, self.log_routing = self._log_routing(environment, registration)

        self.activation = HybridActivation(
            self, "Activation", role=self.instance_role, key=key, instance_name_prefix=instance_name_prefix,
            registration_limit=registration_limit, expiry_days=expiry_days, epoch=epoch, tags=tags,
            removal_policy=removal_policy, description=f"Keel {environment} ECS Anywhere")
        self.secret = self.activation.secret

        self.registration_command = CfnOutput(
            self, "RegistrationCommand", value=registration.command(self.secret.secret_arn),
            description="Run as root on a server to register it with the cluster (reads the activation from "
                        "Secrets Manager)")
        self.registration_script = AssemblyFile(
            self, "RegistrationScript", name="ecs-anywhere-register.sh", executable=True,
            content=registration.script(secret_parameter=secret_parameter, environment=environment))

    def _instance_role(self, environment: str) -> iam.Role:
        stack = Stack.of(self)
        # Servers: SSM assumes this role for them (hybrid service role) and hands them its credentials.
        instance_role = iam.Role(
            self, "InstanceRole",
            description=f"Keel {environment}: ECS Anywhere external instances (SSM managed, ECS agent, "
                        "CloudWatch agent)",
            assumed_by=iam.ServicePrincipal("ssm.amazonaws.com", conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:*"}}),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonEC2ContainerServiceforEC2Role"),
            ])
        # The SSM agent: its own actions, and parameter reads of this environment only (not
        # AmazonSSMManagedInstanceCore, which reads every parameter of the account and region).
        grant_ssm_agent(instance_role, environment=environment)
        Validations.of(instance_role).acknowledge(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM4[Policy::{_MANAGED}service-role/"
                              "AmazonEC2ContainerServiceforEC2Role]",
                           reason="ECS Anywhere requires it: the ECS agent on each server registers the "
                                  "container instance and polls for tasks with it (AWS-maintained)."))
        return instance_role

    def _agent_config(self, environment: str, registration: Registration) -> ssm.StringParameter:
        # Node metrics (CPU, memory, network, disk) through the CloudWatch agent, configured from SSM.
        agent_config = ssm.StringParameter(
            self, "AgentConfig", parameter_name=f"/keel/{environment}/ecs/anywhere/cloudwatch-agent",
            description="CloudWatch agent configuration for ECS Anywhere servers (amazon-cloudwatch-agent-ctl "
                        "-a fetch-config -m onPremise -c ssm:<this name>)",
            string_value=json.dumps(cloudwatch_agent_config(registration.cluster), sort_keys=True))
        agent_config.grant_read(self.instance_role)
        self.instance_role.add_to_principal_policy(iam.PolicyStatement(
            sid="AgentMetrics", actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}}))
        Validations.of(self.instance_role).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            reason="cloudwatch:PutMetricData has no resource-level permissions; the statement is limited to "
                   f"the {METRICS_NAMESPACE} namespace by condition. And {WILDCARD_REASON}."))
        return agent_config

    def _external_tasks(self, environment: str, *, key: kms.IKey, log_retention: logs.RetentionDays,
                        removal_policy: RemovalPolicy) -> tuple[logs.LogGroup, iam.Role]:
        stack = Stack.of(self)
        # External tasks: pull from this account's ECR, log to the environment's external task log group.
        task_log_group = logs.LogGroup(self, "TaskLogs", retention=log_retention, encryption_key=key,
                                            removal_policy=removal_policy)
        execution_role = iam.Role(
            self, "TaskExecutionRole",
            description=f"Keel {environment}: task execution role for external (ECS Anywhere) tasks",
            assumed_by=ecs_tasks_principal(self))
        execution_role.add_to_principal_policy(iam.PolicyStatement(
            sid="EcrToken", actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        # Only repositories of this environment: every Keel resource carries keel:environment.
        execution_role.add_to_principal_policy(iam.PolicyStatement(
            sid="EcrPull", actions=["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                                    "ecr:BatchGetImage"],
            resources=[f"arn:{stack.partition}:ecr:{stack.region}:{stack.account}:repository/*"],
            conditions={"StringEquals": {f"aws:ResourceTag/{ENVIRONMENT_TAG}": environment}}))
        task_log_group.grant_write(execution_role)
        Validations.of(execution_role).acknowledge(
            Acknowledgment(id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                           reason="ecr:GetAuthorizationToken has no resource-level permissions."),
            # the statement's own ARN: the spec's literal account (`account:`) or the AccountId pseudo parameter
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{nag_arn_prefix(self, 'ecr')}:repository/*]",
                           reason="Shared by every external task of the environment: image pulls from the "
                                  "repositories of this account and region tagged "
                                  f"{ENVIRONMENT_TAG}={environment} (an aws:ResourceTag condition), nothing else."))
        return task_log_group, execution_role

    def _log_routing(self, environment: str, registration: Registration
                     ) -> tuple[iam.ManagedPolicy, ssm.StringParameter]:
        stack = Stack.of(self)
        # FireLens: the log router sidecar writes with the *task* role; services attach this policy to it.
        log_routing_policy = iam.ManagedPolicy(
            self, "LogRoutingPolicy",
            description=f"Keel {environment}: lets a task's FireLens log router write to the external task logs",
            statements=[iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[self.task_log_group.log_group_arn])])
        log_routing = ssm.StringParameter(
            self, "LogRouting", parameter_name=f"/keel/{environment}/ecs/anywhere/log-routing",
            description="FireLens (Fluent Bit) default for external tasks: log router container and log "
                        "configuration",
            string_value=stack.to_json_string(firelens_default(
                log_group=self.task_log_group.log_group_name, region=registration.region,
                policy_arn=log_routing_policy.managed_policy_arn)))
        return log_routing_policy, log_routing


def cloudwatch_agent_config(cluster: str) -> dict[str, object]:
    dims = {"ClusterName": cluster}
    return {
        "agent": {"metrics_collection_interval": 60, "run_as_user": "root"},
        "metrics": {
            "namespace": METRICS_NAMESPACE,
            "aggregation_dimensions": [["ClusterName"], ["ClusterName", "host"]],
            "metrics_collected": {
                "cpu": {"measurement": ["usage_active", "usage_iowait"], "totalcpu": True,
                        "append_dimensions": dims},
                "mem": {"measurement": ["used_percent", "available"], "append_dimensions": dims},
                "net": {"measurement": ["bytes_sent", "bytes_recv", "drop_in", "drop_out", "err_in", "err_out"],
                        "resources": ["*"], "append_dimensions": dims},
                "disk": {"measurement": ["used_percent"], "resources": ["/"], "append_dimensions": dims},
            },
        },
    }


def firelens_default(*, log_group: str, region: str, policy_arn: str) -> dict[str, object]:
    return {
        "logRouter": {
            "name": "log-router", "image": FLUENT_BIT_IMAGE, "essential": True, "memoryReservation": 50,
            "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}},
        },
        "logConfiguration": {
            "logDriver": "awsfirelens",
            "options": firelens_cloudwatch_options(log_group=log_group, region=region, stream_prefix="external/"),
        },
        "taskRolePolicyArn": policy_arn,
    }
