"""CloudFormation custom-resource plumbing shared by Keel's providers (each function folder links it).

`respond` runs a provider's `process(event) -> (physical id, data)` and always answers CloudFormation,
success or failure, so a stack never hangs on a crashed provider. Responses are NoEcho: `Data` never
reaches describe-stack-events. Standard library only.

Why `respond` never raises: CloudFormation invokes providers asynchronously, and Lambda retries an
asynchronous invocation that raises, which would run Create a second time. So a response that cannot be
delivered (the pre-signed URL unreachable) is retried here with backoff, then logged and given up: the
stack then fails at the resource's ServiceTimeout, and the providers' Create is idempotent by RequestId in
case the event is delivered again anyway (Lambda's asynchronous delivery is at least once).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

Process = Callable[[dict[str, Any]], tuple[str, dict[str, str]]]
Send = Callable[..., bool]

# Seconds between delivery attempts (5 attempts); every attempt has its own timeout. The worst case,
# about 15 s of waiting plus 5 x PUT_TIMEOUT, fits in any provider's function timeout margin.
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
PUT_TIMEOUT = 10.0
# A 4xx other than these means the URL itself is bad (expired, malformed): retrying cannot help.
_RETRYABLE_4XX = {408, 429}

_log = logging.getLogger("keel.cfn_response")


def failed_id(request_id: str) -> str:
    """The physical id of a Create that failed: Delete finds leftovers of that request by its id."""
    return f"failed-{request_id}"


def failed_request(physical_id: str) -> str | None:
    """The RequestId a failed Create's physical id names, or None."""
    return physical_id[len("failed-"):] if physical_id.startswith("failed-") else None


def send(event: dict[str, Any], status: str, physical_id: str, data: dict[str, str], reason: str = "", *,
         sleep: Callable[[float], None] = time.sleep,
         opener: Callable[..., Any] | None = None) -> bool:
    """PUT the response to CloudFormation's pre-signed URL; True once delivered. Never raises."""
    body = json.dumps({
        "Status": status, "Reason": reason[:1000] or "see the function's log group",
        "PhysicalResourceId": physical_id, "StackId": event["StackId"], "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"], "NoEcho": True, "Data": data,
    }).encode()
    opener = opener or urllib.request.urlopen
    attempts = len(RETRY_DELAYS) + 1
    for attempt in range(1, attempts + 1):
        try:
            request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                             headers={"content-type": "", "content-length": str(len(body))})
            with opener(request, timeout=PUT_TIMEOUT) as response:
                response.read()
            if attempt > 1:
                _log.info("%s response delivered on attempt %d", status, attempt)
            return True
        except urllib.error.HTTPError as exc:
            # The URL is pre-signed: never log it, only the status code.
            problem = f"HTTP {exc.code}"
            if 400 <= exc.code < 500 and exc.code not in _RETRYABLE_4XX:
                _log.error("CloudFormation refused the %s response (%s); not retrying", status, problem)
                return False
        except Exception as exc:  # network errors, timeouts, a malformed URL: all worth another try
            problem = type(exc).__name__
        if attempt < attempts:
            _log.warning("could not deliver the %s response (%s); retrying in %.0f s", status, problem,
                         RETRY_DELAYS[attempt - 1])
            sleep(RETRY_DELAYS[attempt - 1])
    _log.error("gave up delivering the %s response after %d attempts (%s); the stack fails at the resource's "
               "ServiceTimeout", status, attempts, problem)
    return False


def respond(event: dict[str, Any], process: Process, *, send: Send, logger: logging.Logger) -> None:
    """Run `process` and report the outcome with `send` (the caller's, so tests can replace it).
    Never raises: see the module docstring."""
    logger.info("%s %s", event.get("RequestType"), event.get("LogicalResourceId"))
    try:
        physical, data = process(event)
    except Exception as exc:  # every failure must still answer CloudFormation, or the stack hangs
        logger.exception("%s failed", event.get("RequestType"))
        physical = event.get("PhysicalResourceId") or failed_id(event["RequestId"])
        _deliver(send, event, "FAILED", physical, {}, f"{type(exc).__name__}: {exc}", logger)
        return
    _deliver(send, event, "SUCCESS", physical, data, "", logger)


def _deliver(send: Send, event: dict[str, Any], status: str, physical: str, data: dict[str, str], reason: str,
             logger: logging.Logger) -> None:
    try:
        send(event, status, physical, data, reason)
    except Exception:  # a replaced `send` that raises still must not turn into a Lambda retry
        logger.exception("sending the %s response failed", status)


# Properties that configure CloudFormation's side of the resource, not what the provider makes: a change
# to them (adding ServiceTimeout, say) must not issue a new activation or re-register a cluster.
_CLOUDFORMATION_PROPERTIES = {"ServiceToken", "ServiceTimeout"}


def inputs(props: dict[str, Any]) -> dict[str, Any]:
    """The resource's own properties, without CloudFormation's."""
    return {k: v for k, v in props.items() if k not in _CLOUDFORMATION_PROPERTIES}
