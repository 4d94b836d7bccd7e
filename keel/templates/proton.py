"""Proton-format templates (issue 15): the rendered CloudFormation included as it is, with CfnInclude.

The include keeps every logical ID, type and property of the rendered template; Keel adds only its tags (listed
in `<stack>.proton-adoption.json` for `keel report`). A service's `environment.outputs.X` arrives as a
`KeelEnvOutput<X>` Parameter, which CfnInclude replaces by the value the environment publishes for it as an SSM
parameter (`/keel/<environment>/outputs/X`; `publish_outputs`), also inside joined strings and Fn::Sub: no
cross-stack reference (issue 20).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from aws_cdk import cloudformation_include as cfn_inc
from constructs import Construct

from keel.constructs.assembly_file import AssemblyFile
from keel.contract.naming import environment_parameter_name, proton_output_key
from keel.contract.outputs import ProtonEnvOutputs
from keel.contract.registry import TemplateVersion
from keel.spec.model import Environment, Service, ServiceInstance
from keel.spec.proton import OUTPUT_PARAMETER, ProtonInputs, Rendered

ADOPTION_FILE = "proton-adoption.json"


def include(scope: Construct, *, template: TemplateVersion, rendered: Rendered, linked: Mapping[str, Any],
            parameters: Mapping[str, Any], published: Sequence[str] = ()) -> cfn_inc.CfnInclude:
    """Include `linked` (the rendered template, placeholders turned into Parameters) and acknowledge the
    findings the template folder's `keel-acknowledgements.yaml` lists, each with its reason."""
    handle, path = tempfile.mkstemp(suffix=".json", prefix="keel-proton-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(linked, file)
        included = cfn_inc.CfnInclude(scope, "Template", template_file=path, parameters=dict(parameters))
    finally:
        os.unlink(path)
    assert template.proton is not None
    for rule, resource, reason in template.proton.acknowledgements:
        target: Construct = included.get_resource(resource) if resource else included
        pack = rule.split("-", 1)[0]
        cdk.Validations.of(target).acknowledge(cdk.Acknowledgment(id=f"{pack}::{rule}", reason=reason))
    _adoption_summary(scope, rendered, included, published)
    return included


def _adoption_summary(scope: Construct, rendered: Rendered, included: cfn_inc.CfnInclude,
                      published: Sequence[str]) -> None:
    """What the first Keel deploy of an adopted stack changes: tags, on the resources that take them; and an
    environment's SSM parameters of its Outputs (`published`)."""
    stack = cdk.Stack.of(scope)
    keys = sorted(stack.tags.tag_values())
    resources = rendered.template.get("Resources") or {}
    tagged = sorted(lid for lid in resources if cdk.TagManager.is_taggable(included.get_resource(lid)))
    AssemblyFile(scope, "ProtonAdoption", name=ADOPTION_FILE, content=json.dumps({
        "template": rendered.file, "resources": len(resources), "tags_added": keys, "tagged_resources": tagged,
        **({"parameters_added": list(published)} if published else {}),
    }, indent=1) + "\n")


def build_environment(scope: Construct, *, environment: Environment, inputs: ProtonInputs) -> ProtonEnvOutputs:
    assert environment.rendered is not None  # the loader renders every Proton-format environment
    linked, _ = environment.rendered.linked()
    names = environment.rendered.outputs
    included = include(scope, template=environment.template, rendered=environment.rendered, linked=linked,
                       parameters={}, published=[environment_parameter_name(environment.name, proton_output_key(n))
                                                 for n in sorted(names)])
    outputs = {name: cdk.Token.as_string(included.get_output(name).value) for name in names}
    publish_outputs(scope, environment.name, outputs)
    return ProtonEnvOutputs(name=environment.name, template=environment.template.label,
                            production=environment.production, outputs=outputs)


# environment reads (issue 20)
def publish_outputs(scope: Construct, environment: str, outputs: Mapping[str, str]) -> None:
    """Every Output of a Proton-format environment template also as an SSM parameter
    (`/keel/<environment>/outputs/<Name>`), where its services' `environment.outputs.<Name>` read it: no export,
    so the environment can change or drop an output without waiting for its services."""
    group = Construct(scope, "ProtonOutputs")
    for name, value in sorted(outputs.items()):
        ssm.StringParameter(group, name,
                            parameter_name=environment_parameter_name(environment, proton_output_key(name)),
                            string_value=value, description=f"Keel discovery: the template's Output {name}")


def build_service(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: ProtonInputs,
                  pipeline: object, environment: ProtonEnvOutputs) -> dict[str, str]:
    """The pipeline template is not run (it drives Proton's API); its inputs were validated by the loader."""
    assert instance.rendered is not None
    linked, used = instance.rendered.linked()
    as_parameters = parameter_reads(linked, used)
    parameters = {OUTPUT_PARAMETER + name: ssm.StringParameter.value_for_string_parameter(
        scope, environment_parameter_name(environment.name, proton_output_key(name)))
        if name in as_parameters else environment.outputs[name] for name in used}
    include(scope, template=instance.template, rendered=instance.rendered, linked=linked, parameters=parameters)
    return {}


#: CloudFormation resolves at most this many dynamic references in one template.
DYNAMIC_REFERENCES_MAX = 60
_READ = re.compile(OUTPUT_PARAMETER + r"([A-Za-z0-9]+)")


def parameter_reads(linked: Mapping[str, Any], used: Sequence[str]) -> set[str]:
    """The environment outputs read through an `AWS::SSM::Parameter::Value` parameter rather than a dynamic
    reference (the form `environment.outputs` gives): those a resource's UserData or its
    `AWS::CloudFormation::Init` metadata reads (CloudFormation resolves no dynamic reference there), and, most
    used first, those beyond the 60 dynamic references a template may hold."""
    unresolved: set[str] = set()
    counts: dict[str, int] = dict.fromkeys(used, 0)
    for resource in (linked.get("Resources") or {}).values():
        if not isinstance(resource, Mapping):
            continue
        for part in (((resource.get("Properties") or {}).get("UserData")),
                     ((resource.get("Metadata") or {}).get("AWS::CloudFormation::Init"))):
            unresolved.update(_READ.findall(json.dumps(part)) if part is not None else ())
    for name in _READ.findall(json.dumps(linked.get("Resources") or {})):
        if name in counts:
            counts[name] += 1
    dynamic = sum(n for name, n in counts.items() if name not in unresolved)
    for name in sorted((n for n in counts if n not in unresolved), key=lambda n: (-counts[n], n)):
        if dynamic <= DYNAMIC_REFERENCES_MAX:
            break
        unresolved.add(name)
        dynamic -= counts[name]
    return unresolved & set(used)
