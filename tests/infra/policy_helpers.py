"""Reading IAM policy statements out of a synthesized template, shared by the infra tests."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template


def role_statements(template: Template, role_prefix: str) -> list[dict[str, Any]]:
    """Statements of the inline policies attached to the role whose logical ID starts with `role_prefix`."""
    out = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        roles = policy["Properties"]["Roles"]
        if any(r.get("Ref", "").startswith(role_prefix) for r in roles):
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def flat(value: Any) -> str:
    """A value as one JSON string with sorted keys: `in` then finds a name anywhere inside it."""
    return json.dumps(value, sort_keys=True)
