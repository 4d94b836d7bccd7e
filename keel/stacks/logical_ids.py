"""Logical IDs that CDK derives from an environment's constructs, kept as they were when service stacks
referenced the environment's stack directly (a changed ID replaces the resource).

Two kinds, both named by CDK after something of the environment's:
- security group rules between a service's tasks and the shared load balancer's group: CDK names them after the
  peer group's unique ID (its construct path), now the service stack's import of that group;
- EventBridge Scheduler's target role (`SchedulerRoleForTarget-<hash>`): CDK hashes the target's ARN as it
  resolves, once the cluster's `Fn::GetAtt`, now a parameter's `Ref`.
The old IDs follow from the environment's construct paths (fixed by its builder) and the model alone;
`check_environment_paths` proves those paths against the environment's stack whenever it is in the same app.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct, IConstruct

from keel.contract.outputs import EcsEnvOutputs
from keel.spec.model import Environment
from keel.stacks.environment_reads import SCOPE_ID

#: Where ecs-env's builder puts the shared load balancer's security group, and the cluster's CfnCluster.
LOAD_BALANCER_SECURITY_GROUP = ("LoadBalancer", "SecurityGroup")
ECS_CLUSTER = ("Cluster", "Cluster", "Resource")
#: The service stack's import of the load balancer's group (keel.stacks.environment_reads).
IMPORTED_LOAD_BALANCER_SECURITY_GROUP = "LoadBalancerSecurityGroup"
SCHEDULER_ROLE_PREFIX = "SchedulerRoleForTarget-"


def unique_id(*path: str) -> str:
    """CDK's unique ID of the construct at `path` (from the root's first child; from a stack, its logical ID):
    aws-cdk-lib's `makeUniqueId` (core/lib/private/uniqueid.js, 2.275), which it does not export. A test
    compares it with CDK's own on real constructs."""
    components = [c for c in path if c != "Default"]
    if len(components) == 1 and len(_alnum(components[0])) <= 255:
        return _alnum(components[0])
    digest = hashlib.md5("/".join(components).encode()).hexdigest()[:8].upper()
    human: list[str] = []
    for c in components:
        if not human or not human[-1].endswith(c):
            human.append(c)
    return "".join(_alnum(c) for c in human if c != "Resource")[:240] + digest


def _alnum(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def _stack_path(stack: cdk.Stack, construct: Construct) -> list[str]:
    scopes = construct.node.scopes
    return [s.node.id for s in scopes[scopes.index(stack) + 1:]]


def environment_path(stack: cdk.Stack, environment: Environment) -> tuple[str, ...]:
    """The environment stack's own path from the root: its stage (a pipeline's) and its id."""
    stage = cdk.Stage.of(stack)
    prefix = (stage.node.id,) if stage is not None and stage.node.scope is not None else ()
    return (*prefix, environment.stack_name)


def keep_logical_ids(stack: cdk.Stack, environment: Environment) -> None:
    _keep_rule_ids(stack, environment)
    _keep_scheduler_role_ids(stack)


def _keep_rule_ids(stack: cdk.Stack, environment: Environment) -> None:
    imports = stack.node.try_find_child(SCOPE_ID)
    imported = imports.node.try_find_child(IMPORTED_LOAD_BALANCER_SECURITY_GROUP) if imports else None
    if imported is None:
        return
    imported = cast(ec2.ISecurityGroup, imported)
    new, old = imported.unique_id, unique_id(*environment_path(stack, environment), *LOAD_BALANCER_SECURITY_GROUP)
    groups = {g.unique_id: g for g in stack.node.find_all() if isinstance(g, ec2.SecurityGroup)}
    for rule in stack.node.find_all():
        if isinstance(rule, ec2.CfnSecurityGroupIngress) and new in rule.node.id:
            # `from <group>:<port>` on the service's group: the same place, the environment group's name
            rule.override_logical_id(unique_id(*_stack_path(stack, rule)[:-1], rule.node.id.replace(new, old)))
        elif isinstance(rule, ec2.CfnSecurityGroupEgress) and _parent_path(rule) == imported.node.path:
            # `to <service group>:<port>` on the import; across stacks, CDK put it on the service's group as
            # `<environment group>:<port> from`
            match = re.fullmatch(r"to (\S+):(.+)", rule.node.id)
            target = groups.get(match.group(1)) if match else None
            if match and target is not None:
                rule.override_logical_id(unique_id(*_stack_path(stack, target), f"{old}:{match.group(2)} from"))


def _parent_path(construct: Construct) -> str | None:
    return construct.node.scope.node.path if construct.node.scope is not None else None


def _keep_scheduler_role_ids(stack: cdk.Stack) -> None:
    """The role CDK creates for a schedule's ECS target, named after the md5 of the cluster ARN as it resolved:
    the environment cluster's `{"Fn::GetAtt": [<its logical ID>, "Arn"]}`."""
    cluster_arn = json.dumps({"Fn::GetAtt": [unique_id(*ECS_CLUSTER), "Arn"]}, separators=(",", ":"))
    old = SCHEDULER_ROLE_PREFIX + hashlib.md5(cluster_arn.encode()).hexdigest()[:6]
    for role in stack.node.children:
        if not role.node.id.startswith(SCHEDULER_ROLE_PREFIX) or role.node.id == old:
            continue
        if not _targets_environment_cluster(stack, role):
            continue
        for element in role.node.find_all():
            if isinstance(element, cdk.CfnElement):
                element.override_logical_id(unique_id(old, *_stack_path(stack, element)[1:]))


def _targets_environment_cluster(stack: cdk.Stack, role: IConstruct) -> bool:
    """Whether CDK named the role after the environment cluster's ARN parameter (so it was the `Fn::GetAtt`)."""
    imports = stack.node.try_find_child(SCOPE_ID)
    cluster = imports.node.try_find_child("Cluster") if imports else None
    if cluster is None:
        return False
    resolved = stack.resolve(cast(ecs.ICluster, cluster).cluster_arn)
    if not (isinstance(resolved, dict) and set(resolved) == {"Ref"}):
        return False  # an existing cluster's ARN, built from its name as the environment builds it: unchanged
    arn = json.dumps(resolved, separators=(",", ":"))
    return role.node.id == SCHEDULER_ROLE_PREFIX + hashlib.md5(arn.encode()).hexdigest()[:6]


def check_environment_paths(environment_stack: cdk.Stack) -> list[str]:
    """Where the environment's constructs are not where `keep_logical_ids` expects them (its builder moved
    them): the old IDs would then be wrong. Checked whenever the environment's stack is in the same app."""
    outputs = getattr(environment_stack, "outputs", None)
    environment = getattr(environment_stack, "keel_environment", None)
    if not isinstance(outputs, EcsEnvOutputs) or not isinstance(environment, Environment):
        return []
    problems: list[str] = []
    if outputs.load_balancer is not None:
        expected = unique_id(*environment_path(environment_stack, environment), *LOAD_BALANCER_SECURITY_GROUP)
        if outputs.load_balancer.security_group.unique_id != expected:
            problems.append(f"the load balancer's security group is {outputs.load_balancer.security_group.node.path}"
                            f", not at {'/'.join(LOAD_BALANCER_SECURITY_GROUP)}")
    cfn = outputs.cluster.node.default_child
    if isinstance(cfn, cdk.CfnElement) and environment_stack.get_logical_id(cfn) != unique_id(*ECS_CLUSTER):
        problems.append(f"the cluster is {cfn.node.path}, not at {'/'.join(ECS_CLUSTER)}")
    return problems
