"""Properties of the client that hold for every input (hypothesis): predictions come back aligned.

Whatever the index (strings, duplicates, out of order, a MultiIndex), the batch size and the
number of batches in flight, row i of the result is the prediction for row i of the input,
under the input's own index label.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelops.client import Client
from modelops.delivery.local_server import free_port

CARD = {"name": "echo", "version": "1", "max_instances": 1000,
        "feature_schema": [{"name": "v", "type": "number"}]}  # fmt: skip


@pytest.fixture(scope="module")
def echo_url():
    """Answers each row with its own value: a misplaced row shows as a wrong value."""

    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, body):
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.answer(CARD)

        def do_POST(self):
            rows = json.loads(self.rfile.read(int(self.headers["content-length"])))["instances"]
            self.answer({"predictions": [{"value": row["v"]} for row in rows]})

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Echo)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


labels = st.one_of(st.integers(-5, 5), st.text(max_size=3), st.sampled_from([0.5, -1.0, 2.25]))


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=0, max_value=40))
    kind = draw(st.sampled_from(["labels", "range", "multi"]))
    if kind == "range":
        index = pd.RangeIndex(draw(st.integers(-10, 10)), draw(st.integers(-10, 10)) + n)[:n]
        n = len(index)
    elif kind == "multi":
        index = pd.MultiIndex.from_arrays(
            [draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
             draw(st.lists(st.text(max_size=2), min_size=n, max_size=n))]
        )  # fmt: skip
    else:
        index = pd.Index(draw(st.lists(labels, min_size=n, max_size=n)), dtype=object)
    values = draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n))
    extra = draw(st.lists(st.text(max_size=3), min_size=n, max_size=n))
    return pd.DataFrame({"v": values, "other": extra}, index=index)


@settings(max_examples=25, deadline=None)
@given(frame=frames(), batch=st.integers(1, 45), concurrency=st.integers(1, 4))
def test_predictions_are_aligned_to_any_index_and_any_batch_size(
    echo_url, frame, batch, concurrency
):
    result = Client(echo_url, batch_size=batch).predict(frame, concurrency=concurrency)
    assert result.index.equals(frame.index)
    assert result["value"].tolist() == frame["v"].tolist() if len(frame) else result.empty
