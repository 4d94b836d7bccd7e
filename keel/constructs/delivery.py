"""Delivery constructs: the artifact store pipelines share, and a container service's pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Aws, CfnElement, Duration, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from keel.contract import pipeline as commands

BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
# CDK bootstrap roles a deploy assumes in the target account (default qualifier).
BOOTSTRAP_ROLES = ("deploy", "file-publishing", "image-publishing", "lookup")


def acknowledge(construct: Construct, rule: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))


class ArtifactStore(Construct):
    """A KMS-encrypted, TLS-only, private bucket for pipeline artifacts, expiring them after 30 days."""

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        self.key = kms.Key(self, "Key", enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
                           description="Pipeline artifacts")
        self.bucket = s3.Bucket(
            self, "Resource", encryption=s3.BucketEncryption.KMS, encryption_key=self.key, enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=False,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(30),
                                              abort_incomplete_multipart_upload_after=Duration.days(1))],
            removal_policy=RemovalPolicy.RETAIN)
        acknowledge(self.bucket, "AwsSolutions-S1",
                    "Pipeline artifacts are build intermediates that expire after 30 days; the pipelines' "
                    "execution history and CloudTrail record who produced and read them")


@dataclass(frozen=True)
class DeployTarget:
    """One pipeline stage: an environment's stacks, in its account and region."""

    environment: str
    stacks: tuple[str, ...]
    account: str  # concrete or a token (Aws.ACCOUNT_ID) for environment-agnostic stacks
    region: str
    approval: bool


#: The image build on CodeBuild's Linux image (bash).
LINUX_IMAGE_BUILD: Mapping[str, object] = {
    "version": "0.2",
    "env": {"exported-variables": ["IMAGE_URI"]},
    "phases": {
        "pre_build": {"commands": [
            "cd \"$SERVICE_DIR\"",
            "bash -c \"$UNIT_TEST_COMMAND\"",
            "aws ecr get-login-password | docker login --username AWS --password-stdin "
            "\"${REPOSITORY_URI%%/*}\"",
        ]},
        "build": {"commands": [
            "export IMAGE_URI=\"$REPOSITORY_URI:${CODEBUILD_RESOLVED_SOURCE_VERSION:0:12}\"",
            "docker build -f \"$DOCKERFILE\" -t \"$IMAGE_URI\" .",
        ]},
        "post_build": {"commands": ["docker push \"$IMAGE_URI\""]},
    },
}
# Windows containers (issue 15)
#: The same build on CodeBuild's Windows Server images, whose buildspec commands run in PowerShell; each
#: command's failure ($LASTEXITCODE of a native program) fails the build.
WINDOWS_IMAGE_BUILD: Mapping[str, object] = {
    "version": "0.2",
    "env": {"shell": "powershell.exe", "exported-variables": ["IMAGE_URI"]},
    "phases": {
        "pre_build": {"commands": [
            "Set-Location $env:SERVICE_DIR",
            "Invoke-Expression $env:UNIT_TEST_COMMAND; if ($LASTEXITCODE) { exit $LASTEXITCODE }",
            "aws ecr get-login-password | docker login --username AWS --password-stdin "
            "\"$($env:REPOSITORY_URI.Split('/')[0])\"; if ($LASTEXITCODE) { exit $LASTEXITCODE }",
        ]},
        "build": {"commands": [
            "$env:IMAGE_URI = \"$($env:REPOSITORY_URI):$($env:CODEBUILD_RESOLVED_SOURCE_VERSION.Substring(0, 12))\"",
            "docker build -f $env:DOCKERFILE -t $env:IMAGE_URI .; if ($LASTEXITCODE) { exit $LASTEXITCODE }",
        ]},
        "post_build": {"commands": ["docker push $env:IMAGE_URI; if ($LASTEXITCODE) { exit $LASTEXITCODE }"]},
    },
}


class ContainerServicePipeline(Construct):
    """Proton's container-service pipeline: source -> unit tests + image build -> ECR -> deploy the
    service's instances environment by environment (a manual approval where asked), with `cdk deploy`
    from the platform repository, the new image passed as context `keel:image:<service>`."""

    def __init__(self, scope: Construct, id_: str, *, service: str, connection_arn: str, repository: str,
                 branch: str, platform_connection_arn: str, platform_repository: str, platform_branch: str,
                 platform_file: str, service_dir: str, dockerfile: str, unit_test_command: str,
                 targets: Sequence[DeployTarget], store: ArtifactStore,
                 # Windows containers (issue 15): a Windows Server build image builds Windows images
                 build_image: codebuild.IBuildImage = BUILD_IMAGE,
                 compute_type: codebuild.ComputeType = codebuild.ComputeType.MEDIUM) -> None:
        super().__init__(scope, id_)
        self.repository = ecr.Repository(
            self, "Repository", image_scan_on_push=True, encryption=ecr.RepositoryEncryption.KMS,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE, removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[ecr.LifecycleRule(description="keep the last 100 images", max_image_count=100)])
        for account in sorted({t.account for t in targets if not Token.is_unresolved(t.account)}):
            self.repository.grant_pull(iam.AccountPrincipal(account))

        windows = build_image.type.startswith("WINDOWS")
        build = self._image_build(service=service, service_dir=service_dir, dockerfile=dockerfile,
                                  unit_test_command=unit_test_command, store=store, build_image=build_image,
                                  compute_type=compute_type, spec=WINDOWS_IMAGE_BUILD if windows else LINUX_IMAGE_BUILD)
        self.repository.grant_pull_push(build)
        if not windows:  # CodeBuild's Windows images run Docker unprivileged (and refuse privileged mode)
            acknowledge(build, "AwsSolutions-CB3",
                        "Privileged mode is what `docker build` needs in CodeBuild; the project runs only this "
                        "service's own Dockerfile from its own repository")

        deploy = _deploy_project(
            self, description=f"{service}: cdk deploy of the service's instance stacks",
            build_commands=[commands.SETUP, commands.deploy_service(platform_file, service)],
            targets=targets, store=store)

        source, platform = codepipeline.Artifact("Source"), codepipeline.Artifact("Platform")
        self.pipeline = _sourced_pipeline(
            self, service=service, store=store, source=source, platform=platform, connection_arn=connection_arn,
            repository=repository, branch=branch, platform_connection_arn=platform_connection_arn,
            platform_repository=platform_repository, platform_branch=platform_branch)
        self.pipeline.add_stage(stage_name="Build", actions=[
            actions.CodeBuildAction(action_name="TestAndBuildImage", project=build, input=source,
                                    variables_namespace="Build")])
        for target in targets:
            steps = _approval(service, target)
            steps.append(actions.CodeBuildAction(
                action_name="Deploy", project=deploy, input=platform, run_order=2,
                environment_variables={
                    "STACKS": codebuild.BuildEnvironmentVariable(value=" ".join(target.stacks)),
                    "IMAGE_URI": codebuild.BuildEnvironmentVariable(value="#{Build.IMAGE_URI}"),
                }))
            self.pipeline.add_stage(stage_name=f"Deploy-{target.environment}", actions=steps)
        self.stage_names: Mapping[str, str] = {t.environment: f"Deploy-{t.environment}" for t in targets}
        acknowledge_pipeline_grants(
            self, store=store, projects=(build, deploy),
            wildcard_reason="ecr:GetAuthorizationToken has no resource-level permissions (AWS documents `*`)")

    def _image_build(self, *, service: str, service_dir: str, dockerfile: str, unit_test_command: str,
                     store: ArtifactStore, build_image: codebuild.IBuildImage, compute_type: codebuild.ComputeType,
                     spec: Mapping[str, object]) -> codebuild.PipelineProject:
        """Unit tests, then `docker build` of the service's Dockerfile, pushed to the service's repository."""
        windows = build_image.type.startswith("WINDOWS")
        return codebuild.PipelineProject(
            self, "Build", description=f"{service}: unit tests, image build, push to ECR",
            encryption_key=store.key, timeout=Duration.minutes(90 if windows else 60),
            environment=codebuild.BuildEnvironment(build_image=build_image, privileged=not windows,
                                                   compute_type=compute_type),
            environment_variables={
                "REPOSITORY_URI": codebuild.BuildEnvironmentVariable(value=self.repository.repository_uri),
                "SERVICE_DIR": codebuild.BuildEnvironmentVariable(value=service_dir),
                "DOCKERFILE": codebuild.BuildEnvironmentVariable(value=dockerfile),
                "UNIT_TEST_COMMAND": codebuild.BuildEnvironmentVariable(value=unit_test_command),
            },
            build_spec=codebuild.BuildSpec.from_object(dict(spec)))


class LambdaServicePipeline(Construct):
    """Proton's Lambda-service pipeline: source -> unit tests + packaging (`unit_test_command` then
    `packaging_command` in code_dir of the service's repository, which must write function.zip there) -> deploy
    the service's instances environment by environment (a manual approval where asked), with `cdk deploy` from
    the platform repository after the package replaced the function's code folder there (`code_folder`)."""

    def __init__(self, scope: Construct, id_: str, *, service: str, connection_arn: str, repository: str,
                 branch: str, platform_connection_arn: str, platform_repository: str, platform_branch: str,
                 platform_file: str, code_dir: str, code_folder: str, unit_test_command: str | None,
                 packaging_command: str,
                 targets: Sequence[DeployTarget], store: ArtifactStore) -> None:
        super().__init__(scope, id_)
        steps = ['cd "$CODE_DIR"'] + (['bash -c "$UNIT_TEST_COMMAND"'] if unit_test_command else []) + [
            'bash -c "$PACKAGING_COMMAND"',
            'test -f function.zip || { echo "packaging_command wrote no function.zip in $CODE_DIR"; exit 1; }']
        variables = {"CODE_DIR": codebuild.BuildEnvironmentVariable(value=code_dir),
                     "PACKAGING_COMMAND": codebuild.BuildEnvironmentVariable(value=packaging_command)}
        if unit_test_command:
            variables["UNIT_TEST_COMMAND"] = codebuild.BuildEnvironmentVariable(value=unit_test_command)
        build = codebuild.PipelineProject(
            self, "Build", description=f"{service}: unit tests and packaging of the function",
            encryption_key=store.key, timeout=Duration.minutes(60),
            environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE), environment_variables=variables,
            build_spec=codebuild.BuildSpec.from_object({
                "version": "0.2",
                "phases": {"build": {"commands": steps}},
                "artifacts": {"files": [f"{code_dir.rstrip('/')}/function.zip"], "discard-paths": "yes"},
            }))
        deploy = _deploy_project(
            self, description=f"{service}: cdk deploy of the service's instance stacks with its package",
            build_commands=['export PACKAGE="$CODEBUILD_SRC_DIR_Package/function.zip"', commands.SETUP,
                            *commands.deploy_packaged_function(platform_file, code_folder)],
            targets=targets, store=store)

        source, platform = codepipeline.Artifact("Source"), codepipeline.Artifact("Platform")
        self.pipeline = _sourced_pipeline(
            self, service=service, store=store, source=source, platform=platform, connection_arn=connection_arn,
            repository=repository, branch=branch, platform_connection_arn=platform_connection_arn,
            platform_repository=platform_repository, platform_branch=platform_branch)
        package = codepipeline.Artifact("Package")
        self.pipeline.add_stage(stage_name="Build", actions=[
            actions.CodeBuildAction(action_name="TestAndPackage", project=build, input=source, outputs=[package])])
        for target in targets:
            stage = _approval(service, target)
            stage.append(actions.CodeBuildAction(
                action_name="Deploy", project=deploy, input=platform, extra_inputs=[package], run_order=2,
                environment_variables={
                    "STACKS": codebuild.BuildEnvironmentVariable(value=" ".join(target.stacks))}))
            self.pipeline.add_stage(stage_name=f"Deploy-{target.environment}", actions=stage)
        self.stage_names: Mapping[str, str] = {t.environment: f"Deploy-{t.environment}" for t in targets}
        acknowledge_pipeline_grants(
            self, store=store, projects=(build, deploy),
            wildcard_reason="the deploy role assumes only the CDK bootstrap roles of the target accounts")


def _deploy_project(scope: Construct, *, description: str, build_commands: Sequence[str],
                    targets: Sequence[DeployTarget], store: ArtifactStore) -> codebuild.PipelineProject:
    """A pipeline's `Deploy` project: `build_commands` (cdk deploy from the platform repository), allowed to
    assume the targets' CDK bootstrap roles and nothing else."""
    deploy = codebuild.PipelineProject(
        scope, "Deploy", description=description, encryption_key=store.key, timeout=Duration.minutes(60),
        environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
        build_spec=codebuild.BuildSpec.from_object({
            "version": "0.2", "phases": {"build": {"commands": list(build_commands)}}}))
    _assume_bootstrap_roles(deploy, targets)
    return deploy


def _assume_bootstrap_roles(deploy: codebuild.PipelineProject, targets: Sequence[DeployTarget]) -> None:
    """`cdk deploy` from the deploy project assumes the CDK bootstrap roles of the target accounts, no other."""
    deploy.add_to_role_policy(iam.PolicyStatement(
        actions=["sts:AssumeRole"],
        resources=sorted({f"arn:{Aws.PARTITION}:iam::{t.account}:role/cdk-hnb659fds-{kind}-role-"
                          f"{t.account}-{t.region}" for t in targets for kind in BOOTSTRAP_ROLES})))


def _sourced_pipeline(scope: Construct, *, service: str, store: ArtifactStore, source: codepipeline.Artifact,
                      platform: codepipeline.Artifact, connection_arn: str, repository: str, branch: str,
                      platform_connection_arn: str, platform_repository: str,
                      platform_branch: str) -> codepipeline.Pipeline:
    """The service's pipeline (its construct ID `Resource`) with its Source stage: the service's repository,
    which triggers it, and the platform repository, which is read but does not trigger."""
    pipeline = codepipeline.Pipeline(
        scope, "Resource", pipeline_name=f"keel-{service}", artifact_bucket=store.bucket,
        pipeline_type=codepipeline.PipelineType.V2, restart_execution_on_update=False)
    pipeline.add_stage(stage_name="Source", actions=[
        actions.CodeStarConnectionsSourceAction(
            action_name="Service", connection_arn=connection_arn, output=source,
            owner=repository.split("/", 1)[0], repo=repository.split("/", 1)[1], branch=branch),
        actions.CodeStarConnectionsSourceAction(
            action_name="Platform", connection_arn=platform_connection_arn, output=platform,
            owner=platform_repository.split("/", 1)[0], repo=platform_repository.split("/", 1)[1],
            branch=platform_branch, trigger_on_push=False),
    ])
    return pipeline


def _approval(service: str, target: DeployTarget) -> list[codepipeline.IAction]:
    """A deploy stage's first step: the manual approval, where the target asks for one."""
    if not target.approval:
        return []
    return [actions.ManualApprovalAction(action_name="Approve", run_order=1,
                                         additional_information=f"Deploy {service} to {target.environment}?")]


_GRANT_ACTIONS = ("kms:GenerateDataKey*", "kms:ReEncrypt*", "s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*",
                  "s3:GetObject*", "s3:List*")


def acknowledge_pipeline_grants(scope: Construct, *, store: ArtifactStore, projects: Iterable[codebuild.Project],
                                wildcard_reason: str) -> None:
    """The IAM5 findings CDK's own pipeline and CodeBuild grants raise, one by one (nag needs each
    finding's exact id): every wildcard is bounded to this pipeline's bucket, key, projects or account."""
    stack = Stack.of(scope)
    arn = f"arn:{stack.partition}:{{service}}:{stack.region}:{stack.account}"
    reasons = {f"Action::{a}": "CDK's artifact grants use wildcard actions (read/write/abort objects, "
               "re-encrypt and data keys) scoped to this pipeline's own artifact bucket and key"
               for a in _GRANT_ACTIONS}
    reasons[f"Resource::<{_logical_id(store.bucket)}.Arn>/*"] = \
        "Objects of this pipeline's own artifact bucket: artifact names are generated per execution"
    reasons["Resource::*"] = wildcard_reason
    for project in projects:
        name = _logical_id(project)
        reasons[f"Resource::{arn.format(service='logs')}:log-group:/aws/codebuild/<{name}>:*"] = \
            "The log streams of this CodeBuild project's own log group (stream names are per build)"
        reasons[f"Resource::{arn.format(service='codebuild')}:report-group/<{name}>-*"] = \
            "The test report groups of this CodeBuild project (names are prefixed with the project's)"
    for finding, reason in reasons.items():
        acknowledge(scope, f"AwsSolutions-IAM5[{finding}]", reason)


def _logical_id(construct: Construct) -> str:
    cfn = construct.node.default_child
    assert isinstance(cfn, CfnElement)
    return Stack.of(construct).get_logical_id(cfn)
