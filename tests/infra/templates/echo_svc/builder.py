"""echo-svc: publishes its message; enough of an instance for pipelines to deploy."""

from __future__ import annotations

from typing import Any

from constructs import Construct


def build(scope: Construct, *, service: Any, instance: Any, inputs: Any, pipeline: Any,
          environment: Any) -> dict[str, str]:
    image = instance.image_override or inputs.image
    return {"message": inputs.message, "image": str(image)}
