"""A stand-in for CloudFormation's pre-signed response URL: a local HTTP server on 127.0.0.1 that answers
each PUT with the next status of a script (the last one repeats) and records what it was sent."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeCloudFormation:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                fake.requests.append({"method": "PUT", "path": self.path, "body": json.loads(body or b"{}")})
                status = fake.statuses.pop(0) if len(fake.statuses) > 1 else fake.statuses[0]
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/presigned?X-Amz-Signature=abc"
        # shutdown() waits for serve_forever's next poll: 0.5 s a test at its default interval
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def __enter__(self) -> FakeCloudFormation:
        self.thread.start()
        return self

    def __exit__(self, *args: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def statuses_sent(self) -> list[str]:
        return [r["body"]["Status"] for r in self.requests]
