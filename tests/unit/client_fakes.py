"""What the client's tests share: a request handler that answers with JSON."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from modelops.delivery.local_server import free_port


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet handler whose `reply` answers with a JSON body."""

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def note_get(self, script):
        """Record this GET in `script.seen`."""
        script.seen.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})

    def warming_up(self, script) -> bool:
        """Answer with the next of `script.failures`, if any is left (then True)."""
        if not script.failures:
            return False
        self.reply(script.failures.pop(0), {"error": "warming up"})
        return True


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler], script) -> Iterator[None]:
    """`handler` served on a free local port while the block runs; its URL set on `script.url`."""
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    script.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()
