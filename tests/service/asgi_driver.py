"""Answer HTTP requests with the service's ASGI app in a process of its own (one model per process).

BentoML's Prometheus metrics are process-global, so one process serves one model: the tests of
each task run their requests here. Reads one request per stdin line ({"method", "path", "json"}),
writes one line per request: {"status": int, "body": parsed JSON or text, "headers": its
content-type and server}.
"""

import json
import sys

from starlette.testclient import TestClient

from services.classifier import Classifier

with TestClient(Classifier.to_asgi(), follow_redirects=False) as client:
    for line in sys.stdin:
        request = json.loads(line)
        if "body" in request:  # raw text with the headers given (content type included)
            response = client.request(request["method"], request["path"],
                                      content=request["body"].encode(),
                                      headers=request.get("headers") or {})  # fmt: skip
        else:
            response = client.request(request["method"], request["path"], json=request.get("json"))
        try:
            body = response.json()
        except ValueError:
            body = response.text
        headers = {name: response.headers.get(name) for name in ("content-type", "server", "allow")}
        print(json.dumps({"status": response.status_code, "body": body, "headers": headers}),
              flush=True)  # fmt: skip
