"""PlatformModel -> CDK app: one stack per environment, one per service instance, compliance over all."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from keel.spec.model import Environment, PlatformModel
from keel.stacks.environment import EnvironmentStack
from keel.stacks.service import ServiceInstanceStack


@dataclass(frozen=True)
class BuiltPlatform:
    environments: dict[str, EnvironmentStack]
    instances: dict[str, ServiceInstanceStack]

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [*self.environments.values(), *self.instances.values()]


def build(app: cdk.App, model: PlatformModel, *, compliance: bool = True) -> BuiltPlatform:
    environments: dict[str, EnvironmentStack] = {}
    for env in model.environments:
        environments[env.name] = EnvironmentStack(
            app, env.stack_name, environment=env,
            env=deployment_target(env))
    instances: dict[str, ServiceInstanceStack] = {}
    for service in model.services:
        for inst in service.instances:
            env_stack = environments[inst.environment]
            instances[inst.stack_name] = ServiceInstanceStack(
                app, inst.stack_name, service=service, instance=inst, environment=env_stack,
                env=deployment_target(env_stack.keel_environment))
    if compliance:
        enable_compliance(app)
    return BuiltPlatform(environments=environments, instances=instances)


def deployment_target(env: Environment) -> cdk.Environment | None:
    """Account and region from the spec; none given means environment-agnostic (CLI credentials decide)."""
    return cdk.Environment(account=env.account, region=env.region) if env.region else None


def enable_compliance(app: cdk.App) -> None:
    """cdk-nag 3 runs as a synth-time validation plugin: any unacknowledged finding fails the synth."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
