"""A fake of the AWS Lambda Runtime API (the one awslambdaric polls), on a loopback port.

It hands out queued events on `GET /2018-06-01/runtime/invocation/next` and records what the
function posts back, so the image's real Lambda code path runs here without AWS.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"


class FakeLambdaRuntime:
    """Serve events to one Lambda runtime client and collect its responses."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.responses: dict[str, queue.Queue[tuple[str, bytes]]] = {}
        self.init_errors: list[Any] = []
        self.polled = threading.Event()  # set when a runtime client asks for its first event
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # the runtime client keeps its connection open
            # Headers and body go out as separate writes: with Nagle's algorithm on, the body
            # waits for the client's delayed ACK (~40 ms per event), which Lambda's own Runtime
            # API does not add.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self.send_error(404)
                    return
                runtime.polled.set()
                request_id, event = runtime.events.get()
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", "9999999999999")
                self.send_header(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:eu-west-1:123456789012:function:modelops-classifier",
                )
                self.send_header(
                    "Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"
                )
                # The event is JSON, and Lambda's Runtime API (and AWS's runtime interface
                # emulator) say so; awslambdaric 4.2's native client crashes (SIGSEGV) on a
                # next-invocation answer without a Content-Type.
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length)
                parts = self.path.removeprefix(PREFIX).strip("/").split("/")
                if parts[:2] == ["init", "error"]:
                    runtime.init_errors.append(payload.decode(errors="replace"))
                elif len(parts) == 3 and parts[0] == "invocation":
                    _, request_id, kind = parts
                    runtime.responses[request_id].put((kind, payload))
                else:
                    self.send_error(404)
                    return
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLambdaRuntime:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def invoke(self, event: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
        """Queue `event`, wait for the function's answer; raise if it reported an error."""
        request_id = str(uuid.uuid4())
        self.responses[request_id] = queue.Queue()
        self.events.put((request_id, event))
        try:
            kind, payload = self.responses[request_id].get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(
                f"no answer in {timeout} s; init errors: {self.init_errors}"
            ) from None
        if kind != "response":
            raise RuntimeError(
                f"the function reported an error: {payload.decode(errors='replace')}"
            )
        answer: dict[str, Any] = json.loads(payload)
        return answer


def lambda_event(
    method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """A Lambda Function URL event (payload format 2.0), as AWS sends it."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "host": "abcdefg.lambda-url.eu-west-1.on.aws",
            "x-forwarded-proto": "https",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdefg",
            "domainName": "abcdefg.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abcdefg",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:13:00:00 +0000",
            "timeEpoch": 1795438800000,
        },
        "body": body,
        "isBase64Encoded": False,
    }
