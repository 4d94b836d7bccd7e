"""PlatformModel -> CDK app: one stack per environment, one per service instance, compliance over all."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import aws_cdk as cdk
import jsii
from cdk_nag import AwsSolutionsChecks, NagPack, NIST80053R5Checks, ServerlessChecks

from keel.constructs.assembly_file import AssemblyFile
from keel.eksa import CRD_CHECK_FILE, EKSA_FILE_PREFIX
from keel.eksa.crds import CrdFolder, CrdProblems, check_stream
from keel.spec.model import Environment, PlatformModel
from keel.stacks.environment import EnvironmentStack
from keel.stacks.service import ServiceInstanceStack


@dataclass(frozen=True)
class BuiltPlatform:
    environments: dict[str, EnvironmentStack]
    instances: dict[str, ServiceInstanceStack]
    delivery: dict[str, cdk.Stack] = field(default_factory=dict)  # pipeline stacks, when the spec has any

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [*self.environments.values(), *self.instances.values(), *self.delivery.values()]


def build(app: cdk.App, model: PlatformModel, *, compliance: bool = True,
          eksa_crds: CrdFolder | None = None) -> BuiltPlatform:
    """`eksa_crds`: the user's CRD folder (app.py reads `keel:eksa-crds`); every EKS Anywhere document is
    checked against it before anything is written (`CrdProblems` on a failure)."""
    stages = pipeline_stages(app, model)
    environments: dict[str, EnvironmentStack] = {}
    for env in model.environments:
        environments[env.name] = EnvironmentStack(
            stages.get(env.name, app), env.stack_name, environment=env,
            env=deployment_target(env))
    instances: dict[str, ServiceInstanceStack] = {}
    for service in model.services:
        for inst in service.instances:
            env_stack = environments[inst.environment]
            instances[inst.stack_name] = ServiceInstanceStack(
                stages.get(inst.environment, app), inst.stack_name, service=service, instance=inst,
                environment=env_stack.keel_environment, environment_stack=env_stack,
                env=deployment_target(env_stack.keel_environment))
    delivery = build_delivery(app, model, stages)
    if compliance:
        # the app's plugins also walk the stacks inside pipeline stages
        enable_compliance(app, imported=imported_templates(model, environments, instances))
    if eksa_crds is not None:
        check_eks_anywhere_documents(environments.values(), eksa_crds)
    return BuiltPlatform(environments=environments, instances=instances, delivery=delivery)


def build_stacks(app: cdk.App, model: PlatformModel, names: Iterable[str], *, compliance: bool = True,
                 eksa_crds: CrdFolder | None = None) -> list[cdk.Stack]:
    """Only the named environment and instance stacks (not in pipeline stages), each from the model alone: a
    service stack reads its environment from SSM, so neither its environment's stack nor its siblings need be in
    this app, and each template comes out as the whole app writes it. The deploy order (an instance after its
    environment) is then the caller's to keep."""
    wanted = set(names)
    stacks: list[cdk.Stack] = []
    environments: list[EnvironmentStack] = []
    for env in model.environments:
        if env.stack_name in wanted:
            environments.append(EnvironmentStack(app, env.stack_name, environment=env, env=deployment_target(env)))
    stacks += environments
    for service in model.services:
        for inst in service.instances:
            if inst.stack_name in wanted:
                env = model.environment(inst.environment)
                stacks.append(ServiceInstanceStack(app, inst.stack_name, service=service, instance=inst,
                                                   environment=env, env=deployment_target(env)))
    unknown = wanted - {s.stack_name for s in stacks}
    if unknown:
        raise ValueError(f"no such stack in the platform: {', '.join(sorted(unknown))}")
    if compliance:
        enable_compliance(app, imported=[s.template_file for s in stacks if _imported(model, s)])
    if eksa_crds is not None:
        check_eks_anywhere_documents(environments, eksa_crds)
    return stacks


def _imported(model: PlatformModel, stack: cdk.Stack) -> bool:
    if model.imported_compliance != "report":
        return False
    if isinstance(stack, EnvironmentStack):
        return stack.keel_environment.template.proton is not None
    return isinstance(stack, ServiceInstanceStack) and stack.instance.template.proton is not None


def check_eks_anywhere_documents(stacks: Iterable[cdk.Stack], crds: CrdFolder) -> None:
    """Validate each stack's EKS Anywhere files (the text written into cdk.out) against the CRDs, and
    record the check next to them (`<stack>.eks-anywhere-crd-check.json`) for `keel report`."""
    problems: list[str] = []
    for stack in stacks:
        files = sorted((c for c in stack.node.find_all() if isinstance(c, AssemblyFile) and cdk.Stack.of(c) is stack
                        and c.name.startswith(EKSA_FILE_PREFIX) and c.name.endswith(".yaml")),
                       key=lambda f: f.name)
        checked: dict[str, int] = {}
        for file in files:
            count, found = check_stream(file.file_name(), file.content, crds)
            checked[file.file_name()] = count
            problems += found
        if files:
            AssemblyFile(stack, "EksAnywhereCrdCheck", name=CRD_CHECK_FILE,
                         content=json.dumps({"crds": str(crds.folder), "documents": checked}, indent=1) + "\n")
    if problems:
        raise CrdProblems(crds.folder, problems)


def pipeline_stages(app: cdk.App, model: PlatformModel) -> dict[str, cdk.Stage]:
    """With a deploy pipeline in the spec, each environment it deploys (and that environment's service
    instances) lives in a Stage the pipeline adds; without one, stacks sit directly in the app."""
    if model.delivery is None or model.delivery.pipeline is None:
        return {}
    return {name: cdk.Stage(app, name) for name in model.delivery.pipeline.stages}


def build_delivery(app: cdk.App, model: PlatformModel, stages: dict[str, cdk.Stage]) -> dict[str, cdk.Stack]:
    delivery = model.delivery
    if delivery is None:
        return {}
    from keel.stacks.delivery import PIPELINE_STACK, PipelineStack, ServicePipelineStack, service_pipeline_stack_name

    home = cdk.Environment(account=delivery.account, region=delivery.region) if delivery.region else None
    out: dict[str, cdk.Stack] = {}
    for spec in delivery.service_pipelines:
        name = service_pipeline_stack_name(spec.service)
        out[name] = ServicePipelineStack(app, name, model=model, delivery=delivery,
                                         service=model.service(spec.service), spec=spec, env=home)
    if delivery.pipeline is not None:
        out[PIPELINE_STACK] = PipelineStack(app, PIPELINE_STACK, model=model, delivery=delivery, stages=stages,
                                            env=home)
    return out


def deployment_target(env: Environment) -> cdk.Environment | None:
    """Account and region from the spec; none given means environment-agnostic (CLI credentials decide)."""
    return cdk.Environment(account=env.account, region=env.region) if env.region else None


#: Packs that gate the synth (an unacknowledged finding fails it) and packs that only report.
GATE_PACKS = ("AwsSolutions", "Serverless")
REPORT_PACKS = ("NIST.800.53.R5",)


def enable_compliance(app: cdk.App, *, imported: Collection[str] = ()) -> None:
    """cdk-nag 3 runs as synth-time validation plugins: an unacknowledged AwsSolutions or Serverless
    finding fails the synth; NIST 800-53 R5 findings are reported (validation-report.json, `keel report`)
    and acknowledged the same way, but do not fail it. `imported`: template files of stacks that include a
    Proton-format template under `compliance: {imported: report}`; their gate findings stay open, reported."""
    packs: list[NagPack] = [AwsSolutionsChecks(app), ServerlessChecks(app)]
    gates: list[cdk.IPolicyValidationPlugin] = list(packs)
    if imported:
        gates = [ReportImported(pack, app=app, templates=frozenset(imported)) for pack in packs]
    cdk.Validations.of(app).add_plugins(*gates, ReportOnly(NIST80053R5Checks(app)))


# Proton-format template folders (issue 15)
#: rule_metadata key that marks a gate finding kept open (reported) under `compliance: {imported: report}`.
IMPORTED_MARK = "keel:imported"


def imported_templates(model: PlatformModel, environments: Mapping[str, EnvironmentStack],
                       instances: Mapping[str, ServiceInstanceStack]) -> list[str]:
    if model.imported_compliance != "report":
        return []
    stacks: list[cdk.Stack] = [s for s in environments.values() if s.keel_environment.template.proton]
    stacks += [s for s in instances.values() if s.instance.template.proton]
    return [s.template_file for s in stacks]


class _Wrapped:
    """A validation plugin that passes on its pack's name, version and rules (so acknowledgements match)."""

    def __init__(self, pack: cdk.IPolicyValidationPlugin) -> None:
        self._pack = pack

    @property
    def name(self) -> str:
        return self._pack.name

    @property
    def version(self) -> str | None:
        return self._pack.version

    @property
    def rule_ids(self) -> list[str] | None:
        return self._pack.rule_ids


def _as_warning(v: cdk.PolicyViolation, rule_metadata: Mapping[str, str] | None) -> cdk.PolicyViolation:
    return cdk.PolicyViolation(rule_name=v.rule_name, description=v.description,
                               violating_resources=v.violating_resources, severity="warning", fix=v.fix,
                               rule_metadata=rule_metadata)


@jsii.implements(cdk.IPolicyValidationPlugin)
class ReportImported(_Wrapped):
    """A gate pack whose findings on stacks that include Proton templates are warnings (open, listed, not
    failing): each stack is checked on its own (`validate_scope`), so a finding's stack is known."""

    def __init__(self, pack: NagPack, *, app: cdk.App, templates: frozenset[str]) -> None:
        super().__init__(pack)
        self._nag = pack
        self._app = app
        self._templates = templates

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        violations: list[cdk.PolicyViolation] = []
        for stack in (c for c in self._app.node.find_all() if isinstance(c, cdk.Stack)):
            imported = stack.template_file in self._templates
            for v in self._nag.validate_scope(stack).violations:
                violations.append(_as_warning(v, {**(v.rule_metadata or {}), IMPORTED_MARK: "report"})
                                  if imported else v)
        failing = any(v.severity == "error" for v in violations)
        return cdk.PolicyValidationPluginReport(success=not failing, violations=violations)


@jsii.implements(cdk.IPolicyValidationPlugin)
class ReportOnly(_Wrapped):
    """A pack in report mode: the same rules and name (so acknowledgements match), its findings as warnings."""

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        report = self._pack.validate(context)
        return cdk.PolicyValidationPluginReport(success=True, metadata=report.metadata, violations=[
            _as_warning(v, v.rule_metadata) for v in report.violations])
