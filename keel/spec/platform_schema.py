"""The platform file's structure (JSON Schema): judged first, so the loader reads only well-formed entries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keel.contract.naming import PROTON_NAME_MAX, PROTON_NAME_PATTERN
from keel.spec.delivery import DELIVERY_SCHEMA

NAME = {"type": "string", "pattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$", "maxLength": 40}
# Environment and instance names follow Proton's rule (its specs name them: `Beta`, `prod_eu`); Keel derives
# stack and resource names from their lowercase form (keel.contract.naming.keel_name), checked for collisions.
_PROTON_NAME = {"type": "string", "pattern": PROTON_NAME_PATTERN, "maxLength": PROTON_NAME_MAX}
_TAGS = {
    "type": "object",
    "propertyNames": {"pattern": "^(?!aws:)[A-Za-z0-9 _.:/=+@-]{1,128}$"},
    # No control characters (a tab or a newline in a tag breaks consoles, logs and cost reports).
    "additionalProperties": {"type": "string", "maxLength": 256, "pattern": "^[^\\x00-\\x1f\\x7f]*$"},
}
# overrides (issue 17): one CloudFormation property of one resource, addressed by construct path.
_OVERRIDES = {"type": "array", "items": {
    "type": "object", "additionalProperties": False, "required": ["resource", "path", "value"],
    "properties": {"resource": {"type": "string", "minLength": 1, "maxLength": 1024, "pattern": "^[^\\x00-\\x1f]+$"},
                   "path": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9]*(\\.([A-Za-z0-9_:-]+))*$",
                            "maxLength": 512},
                   "value": {}}}}
# Proton-format template folders (issue 15): a pinned CloudFormation stack name adopts a deployed stack.
_STACK_NAME = {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9-]{0,127}$"}
_INSTANCE = {
    "type": "object", "additionalProperties": False, "required": ["name", "environment"],
    "properties": {"name": _PROTON_NAME, "environment": {"type": "string"}, "spec": {"type": "object"},
                   "stack_name": _STACK_NAME,
                   # components (issue 17): what the instance owns beside its template; each kind's schema
                   # judges its inputs (keel.spec.components).
                   "components": {"type": "array", "items": {"type": "object"}},
                   "overrides": _OVERRIDES},
}
PLATFORM_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["environments"],
    "properties": {
        "name": NAME,
        "description": {"type": "string"},
        "environments": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "template"],
            "properties": {
                "name": _PROTON_NAME,
                "description": {"type": "string"},
                "template": {"type": "string"},
                "account": {"type": "string", "pattern": "^[0-9]{12}$"},
                "region": {"type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]$"},
                "availability_zones": {"type": "array", "minItems": 1, "maxItems": 6, "uniqueItems": True,
                                       "items": {"type": "string",
                                                 "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$"}},
                "production": {"type": "boolean"},
                "tags": _TAGS,
                "spec": {"type": "object"},
                "spec_file": {"type": "string", "minLength": 1},
                "stack_name": _STACK_NAME,
                "overrides": _OVERRIDES,
                # shared data stores (issue 15): components the environment owns for its services to share
                "components": {"type": "array", "items": {"type": "object"}},
            },
        }},
        "services": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "template"],
            "properties": {
                "name": NAME,
                "description": {"type": "string"},
                "template": {"type": "string"},
                "tags": _TAGS,
                "pipeline": {"type": "object"},
                "instances": {"type": "array", "items": _INSTANCE},
                "spec_file": {"type": "string", "minLength": 1},
            },
        }},
        "delivery": DELIVERY_SCHEMA,
        # Proton-format template folders (issue 15)
        "template_dirs": {"type": "array", "items": {"oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "object", "additionalProperties": False, "required": ["path"],
             "properties": {"path": {"type": "string", "minLength": 1},
                            "prefix": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$", "maxLength": 20}}},
        ]}},
        "compliance": {"type": "object", "additionalProperties": False,
                       "properties": {"imported": {"enum": ["fail", "report"]}}},
    },
}
COMPONENT = {"type": "object", "required": ["kind", "name"], "properties": {"kind": {"type": "string"}, "name": NAME}}
# shared data stores (issue 15): an instance's use of one of its environment's components
USE_COMPONENT = {"type": "object", "additionalProperties": False, "required": ["use", "access"],
                 "properties": {"use": NAME, "access": {"enum": ["read", "readwrite"]}, "kind": {"type": "string"}}}
ENV_SPEC_FILE = {
    "type": "object", "additionalProperties": False, "required": ["proton"],
    "properties": {"proton": {"enum": ["EnvironmentSpec"]}, "spec": {"type": "object"}},
}
SVC_SPEC_FILE = {
    "type": "object", "additionalProperties": False, "required": ["proton", "instances"],
    "properties": {"proton": {"enum": ["ServiceSpec"]}, "pipeline": {"type": "object"},
                   "instances": {"type": "array", "items": _INSTANCE}},
}
