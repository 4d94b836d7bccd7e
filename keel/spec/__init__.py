"""The spec layer: YAML in, a validated PlatformModel out. Never imports aws_cdk."""

from __future__ import annotations

from keel.spec.errors import Problem, SpecError
from keel.spec.loader import load_platform
from keel.spec.model import Environment, PlatformModel, Service, ServiceInstance

__all__ = ["Environment", "PlatformModel", "Problem", "Service", "ServiceInstance", "SpecError", "load_platform"]
