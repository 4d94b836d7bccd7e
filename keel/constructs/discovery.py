"""Publishes an environment's or service's outputs as SSM parameters under /keel/<environment>/...

Run-time discovery (whitepaper: config in Parameter Store hierarchies) without CloudFormation exports.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnOutput
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from keel.constructs.common import pascal_id as _pascal


class DiscoveryParameters(Construct):
    """One String parameter and one stack output per value; `values` keys are `/`-separated paths."""

    def __init__(self, scope: Construct, id_: str, *, prefix: str, values: Mapping[str, str]) -> None:
        super().__init__(scope, id_)
        self.prefix = prefix.rstrip("/")
        self.parameters: dict[str, ssm.StringParameter] = {}
        for key, value in sorted(values.items()):
            name = f"{self.prefix}/{key}"
            self.parameters[key] = ssm.StringParameter(
                self, _pascal(key), parameter_name=name, string_value=value,
                description=f"Keel discovery: {key}")
            CfnOutput(self, f"{_pascal(key)}Output", value=value, description=name)

    def add(self, key: str, value: str) -> None:
        """One more value, published after the rest (an output a service asked the environment for)."""
        name = f"{self.prefix}/{key}"
        self.parameters[key] = ssm.StringParameter(self, _pascal(key), parameter_name=name, string_value=value,
                                                   description=f"Keel discovery: {key}")
        CfnOutput(self, f"{_pascal(key)}Output", value=value, description=name)
