"""Tracing at the price you choose. Lambda's active tracing (the template's `tracing: true`) records every
invocation (init, handler, overhead) with no code at all. Subsegments for each AWS SDK call need the X-Ray
SDK, whose import alone costs ~170 ms of cold start (bench/handlers.py): the whitepaper's "optimized
dependency usage" says pay that only when you use it, so Powertools Tracer is loaded when
KEEL_TRACE_SDK_CALLS is "true" (the template's `trace_sdk_calls` input), and a no-op stand-in with the same
decorators is used otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

TRACE_SDK_ENV = "KEEL_TRACE_SDK_CALLS"


class NoTracer:
    """Powertools Tracer's decorators and annotations, doing nothing."""

    def capture_lambda_handler(self, fn: Callable[..., Any] | None = None, **_: Any) -> Any:
        return fn if fn is not None else (lambda f: f)

    def capture_method(self, fn: Callable[..., Any] | None = None, **_: Any) -> Any:
        return fn if fn is not None else (lambda f: f)

    def put_annotation(self, key: str, value: Any) -> None:
        """Annotations need the X-Ray SDK; without it they are dropped."""

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        """Metadata needs the X-Ray SDK; without it it is dropped."""


def tracer() -> Any:
    """Powertools Tracer when SDK calls are traced, else NoTracer; decided once, at import."""
    if os.environ.get(TRACE_SDK_ENV, "false").lower() == "true":
        from aws_lambda_powertools import Tracer

        return Tracer()
    return NoTracer()
