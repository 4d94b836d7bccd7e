"""Delivery stacks: the platform's self-mutating deploy pipeline, and one pipeline per container service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import Aws, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from constructs import Construct

from keel.constructs.delivery import (
    BUILD_IMAGE,
    ArtifactStore,
    ContainerServicePipeline,
    DeployTarget,
    acknowledge,
    acknowledge_pipeline_grants,
)
from keel.delivery import commands
from keel.spec.model import Delivery, PlatformModel, Service, ServicePipeline, stack_name
from keel.stacks.environment import keel_tags, tag_resources

PIPELINE_STACK = stack_name("delivery", "pipeline")


def service_pipeline_stack_name(service: str) -> str:
    return stack_name(service, "pipeline")


def _tags(model: PlatformModel, **extra: str) -> dict[str, str]:
    tags = keel_tags(environment="delivery", template="keel-delivery", extra={})
    return {**tags, **extra}


class PipelineStack(Stack):
    """CDK Pipelines: source -> `make synth` -> self-mutation -> one stage per environment in the
    spec's order, a manual approval before each environment that asks for one (production by default)."""

    def __init__(self, scope: Construct, id_: str, *, model: PlatformModel, delivery: Delivery,
                 stages: Mapping[str, cdk.Stage], **kwargs: Any) -> None:
        super().__init__(scope, id_, stack_name=PIPELINE_STACK,
                         description=f"Keel deploy pipeline of platform {model.name}",
                         tags=_tags(model), **kwargs)
        tag_resources(self)
        assert delivery.source is not None and delivery.pipeline is not None  # the loader guarantees both
        source = pipelines.CodePipelineSource.connection(
            delivery.source.repository, delivery.source.branch, connection_arn=delivery.source.connection_arn,
            action_name="Platform")
        self.synth_commands = [commands.synth(model.source)]
        store = ArtifactStore(self, "Artifacts")
        accounts = {e.account for e in model.environments if e.name in delivery.pipeline.stages and e.account}
        self.pipeline = pipelines.CodePipeline(
            self, "Resource", pipeline_name=f"keel-{model.name}", artifact_bucket=store.bucket,
            synth=pipelines.ShellStep("Synth", input=source, commands=self.synth_commands,
                                      primary_output_directory="cdk.out"),
            self_mutation=True, cross_account_keys=bool(accounts - {delivery.account}), enable_key_rotation=True,
            pipeline_type=codepipeline.PipelineType.V2, docker_enabled_for_synth=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE)))
        for name in delivery.pipeline.stages:
            pre = [pipelines.ManualApprovalStep(f"Approve-{name}", comment=f"Deploy platform {model.name} to {name}?")
                   ] if name in delivery.pipeline.approvals else []
            self.pipeline.add_stage(stages[name], pre=pre)
        self.pipeline.build_pipeline()
        projects = [c for c in self.node.find_all() if isinstance(c, codebuild.Project)]
        for project in projects:
            acknowledge(project, "AwsSolutions-CB4",
                        "CDK Pipelines' own CodeBuild projects (synth, self-mutation, asset publishing) encrypt "
                        "their artifacts with the pipeline's artifact key through the pipeline")
        acknowledge_pipeline_grants(
            self.pipeline, store=store, projects=[p for p in projects if "Assets" not in p.node.path],
            wildcard_reason="cloudformation:DescribeStacks and s3:ListBucket for self-mutation's `cdk deploy`, and "
                            "codebuild:StartBuild/BatchGetBuilds of the asset projects CDK Pipelines creates")
        arn = f"arn:{self.partition}:{{service}}:{self.region}:{self.account}"
        for finding, reason in {
            "arn:*:iam::{account}:role/*": "Self-mutation assumes the CDK bootstrap roles, restricted by the "
                                           "aws-cdk:bootstrap-role tag condition CDK Pipelines adds",
            arn.format(service="logs") + ":log-group:/aws/codebuild/*": "The asset-publishing projects' log groups "
                                                                        "(CDK Pipelines names them at deploy time)",
            arn.format(service="codebuild") + ":report-group/*": "The asset-publishing projects' report groups",
        }.items():
            acknowledge(self.pipeline, f"AwsSolutions-IAM5[Resource::{finding.format(account=self.account)}]", reason)

    def _projects(self) -> list[Construct]:
        return [c for c in self.node.find_all() if isinstance(c, codebuild.Project)]


class ServicePipelineStack(Stack):
    """One container service's pipeline (Proton's pipeline_infrastructure), in the delivery account."""

    def __init__(self, scope: Construct, id_: str, *, model: PlatformModel, delivery: Delivery,
                 service: Service, spec: ServicePipeline, **kwargs: Any) -> None:
        super().__init__(scope, id_, stack_name=service_pipeline_stack_name(service.name),
                         description=f"Keel pipeline of service {service.name}",
                         tags={**_tags(model), "keel:service": service.name, **dict(sorted(service.tags.items()))},
                         **kwargs)
        tag_resources(self)
        assert delivery.source is not None  # the loader requires it with any pipeline
        store = ArtifactStore(self, "Artifacts")
        self.service_pipeline = ContainerServicePipeline(
            self, "Pipeline", service=service.name, connection_arn=spec.source.connection_arn,
            repository=spec.source.repository, branch=spec.source.branch,
            platform_connection_arn=delivery.source.connection_arn,
            platform_repository=delivery.source.repository, platform_branch=delivery.source.branch,
            platform_file=model.source, service_dir=getattr(service.pipeline, "service_dir", None) or ".",
            dockerfile=service.pipeline.dockerfile, unit_test_command=service.pipeline.unit_test_command,
            targets=deploy_targets(model, service, spec), store=store)


def deploy_targets(model: PlatformModel, service: Service, spec: ServicePipeline) -> Sequence[DeployTarget]:
    out = []
    for name in spec.stages:
        env = model.environment(name)
        out.append(DeployTarget(
            environment=name, stacks=tuple(i.stack_name for i in service.instances if i.environment == name),
            account=env.account or Aws.ACCOUNT_ID, region=env.region or Aws.REGION,
            approval=name in spec.approvals))
    return out
