"""Security-relevant changes a reviewer must see: IAM statements and security-group rules, added or removed.

Policies are compared statement by statement (identity policies, trust policies, key policies, resource
policies, managed-policy attachments, Lambda permissions); security groups rule by rule (inline
ingress/egress lists and standalone rule resources).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from keel.delivery.diff import ResourceChange, mask_hashes, render

_POLICY_PROPERTIES = ("PolicyDocument", "AssumeRolePolicyDocument", "KeyPolicy", "ResourcePolicy")
_PERMISSION_TYPES = ("AWS::Lambda::Permission",)
_SG_RULE_TYPES = {"AWS::EC2::SecurityGroupIngress": "in", "AWS::EC2::SecurityGroupEgress": "out"}


@dataclass(frozen=True)
class SecurityChange:
    stack: str
    logical_id: str
    type: str
    sign: str  # "+" or "-"
    what: str  # rendered statement or rule


def iam_changes(changes: Iterable[ResourceChange]) -> list[SecurityChange]:
    return _compare(changes, _statements)


def security_group_changes(changes: Iterable[ResourceChange]) -> list[SecurityChange]:
    return _compare(changes, _rules)


def _compare(changes: Iterable[ResourceChange],
             extract: Callable[[Mapping[str, Any] | None], Iterator[str]]) -> list[SecurityChange]:
    """What each change takes away (-) and adds (+), as sets of rendered statements or rules."""
    out = []
    for change in changes:
        old, new = set(extract(change.old)), set(extract(change.new))
        for sign, items in (("-", old - new), ("+", new - old)):
            out += [SecurityChange(change.stack, change.logical_id, change.type, sign, i) for i in sorted(items)]
    return out


def _statements(resource: Mapping[str, Any] | None) -> Iterator[str]:
    if not resource:
        return
    props = mask_hashes(resource.get("Properties") or {})
    if resource.get("Type") in _PERMISSION_TYPES:
        yield (f"Allow {render(props.get('Action'))} on {render(props.get('FunctionName'))} "
               f"to {render(props.get('Principal'))}"
               + (f" if source {render(props.get('SourceArn'))}" if props.get("SourceArn") else ""))
        return
    documents = [props[k] for k in _POLICY_PROPERTIES if k in props]
    documents += [p.get("PolicyDocument") for p in props.get("Policies") or [] if isinstance(p, Mapping)]
    for document in documents:
        if isinstance(document, str):  # AWS::SecretsManager::ResourcePolicy may hold JSON text
            try:
                document = json.loads(document)
            except ValueError:
                continue
        statements = (document or {}).get("Statement") if isinstance(document, Mapping) else None
        for statement in statements if isinstance(statements, list) else [statements] if statements else []:
            yield _statement(statement)
    for arn in props.get("ManagedPolicyArns") or []:
        yield f"attach managed policy {render(arn)}"


def _statement(statement: Mapping[str, Any]) -> str:
    parts = [str(statement.get("Effect", "?"))]
    for key, label in (("Action", ""), ("NotAction", "all but "), ("Resource", "on "), ("NotResource", "on all but "),
                       ("Principal", "to "), ("NotPrincipal", "to all but ")):
        if key in statement:
            value = statement[key]
            if key.endswith("Principal") and isinstance(value, Mapping):
                value = [f"{k}:{render(v)}" for k, v in sorted(value.items())]
            parts.append(label + render(value if isinstance(value, list) else [value]))
    if "Condition" in statement:
        parts.append("when " + json.dumps(statement["Condition"], sort_keys=True))
    return " ".join(parts)


def _rules(resource: Mapping[str, Any] | None) -> Iterator[str]:
    if not resource:
        return
    props = resource.get("Properties") or {}
    kind = resource.get("Type")
    if kind == "AWS::EC2::SecurityGroup":
        for direction, key in (("in", "SecurityGroupIngress"), ("out", "SecurityGroupEgress")):
            for rule in props.get(key) or []:
                yield _rule(direction, rule)
    elif kind in _SG_RULE_TYPES:
        group = render(props.get("GroupId"))
        yield f"{_rule(_SG_RULE_TYPES[kind], props)} on {group}"


def _rule(direction: str, rule: Mapping[str, Any]) -> str:
    protocol = str(rule.get("IpProtocol", "?"))
    protocol = "all" if protocol == "-1" else protocol
    low, high = rule.get("FromPort"), rule.get("ToPort")
    ports = "" if low is None else f" {low}" if low == high else f" {low}-{high}"
    peer_keys = ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "DestinationSecurityGroupId",
                 "SourcePrefixListId", "DestinationPrefixListId")
    peer = next((render(rule[k]) for k in peer_keys if k in rule), "?")
    return f"{direction} {protocol}{ports} {'from' if direction == 'in' else 'to'} {peer}"
