"""The providers' shared CloudFormation plumbing: every outcome is answered, and answered NoEcho."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.handlers.conftest import LAMBDA_SRC, load_handler

EVENT = {"RequestType": "Create", "StackId": "s", "RequestId": "r1", "LogicalResourceId": "X",
         "ResponseURL": "https://example.invalid/"}


def test_every_provider_links_the_shared_module() -> None:
    for name in ("hybrid_activation", "eks_connector"):
        link = LAMBDA_SRC / name / "cfn_response.py"
        assert link.is_symlink() and link.resolve() == (LAMBDA_SRC / "_shared" / "cfn_response.py").resolve()


def test_send_puts_a_noecho_response_to_the_presigned_url(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_handler("_shared", "cfn_response")
    seen: dict[str, Any] = {}

    class Response:
        def __enter__(self) -> Response:
            return self

        def __exit__(self, *args: object) -> None:
            return None

        def read(self) -> bytes:
            return b""

    def urlopen(request: Any, timeout: int) -> Response:
        seen.update(url=request.full_url, method=request.get_method(), body=json.loads(request.data))
        return Response()

    monkeypatch.setattr(module.urllib.request, "urlopen", urlopen)
    module.send(EVENT, "SUCCESS", "p1", {"K": "v"})
    assert seen["method"] == "PUT" and seen["url"] == EVENT["ResponseURL"]
    assert seen["body"]["NoEcho"] is True and seen["body"]["PhysicalResourceId"] == "p1"


def test_respond_reports_an_exception_as_failed() -> None:
    module = load_handler("_shared", "cfn_response")
    sent: list[tuple[Any, ...]] = []

    def boom(event: dict[str, Any]) -> tuple[str, dict[str, str]]:
        raise RuntimeError("no")

    module.respond(EVENT, boom, send=lambda *a: sent.append(a), logger=logging.getLogger("keel.test"))
    assert sent[0][1] == "FAILED" and sent[0][2] == "failed-r1" and "RuntimeError: no" in sent[0][4]
