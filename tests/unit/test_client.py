"""modelops.client against a scripted HTTP server on loopback: batching, retries, errors, SigV4."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from modelops.client import Client, ClientError, RequestRejected, ServerUnreachable, main
from modelops.delivery.local_server import free_port
from tests.unit.client_fakes import JsonHandler, serving

CARD = {
    "name": "fake", "version": "7", "task": "binary", "max_instances": 3,
    "feature_schema": [{"name": "x", "type": "number"}, {"name": "colour", "type": "category"},
                       {"name": "wild", "type": "boolean"}],
}  # fmt: skip


class Scripted:
    """What the fake service answers; every request it saw."""

    def __init__(self):
        self.card = dict(CARD)
        self.failures: list[int] = []  # statuses to answer /predict with before succeeding
        self.seen: list[dict] = []
        self.answer = self.binary

    @staticmethod
    def binary(instance):
        p = 0.9 if instance["wild"] else 0.2
        return {"label": int(p >= 0.5), "probability": p}


@pytest.fixture
def server():
    script = Scripted()

    class Handler(JsonHandler):
        def do_GET(self):
            self.note_get(script)
            if self.path == "/metadata":
                self.reply(200, script.card)
            elif self.path == "/readyz":
                self.reply(200, {})
            else:
                self.reply(404, {"error": "no such route"})

        def do_POST(self):
            raw = self.rfile.read(int(self.headers["content-length"]))
            body = json.loads(raw)
            script.seen.append({"method": "POST", "path": self.path, "body": body, "raw": raw,
                                "headers": dict(self.headers)})  # fmt: skip
            if self.warming_up(script):
                return
            instances = body["instances"]
            if len(instances) > script.card["max_instances"]:
                self.reply(400, {"error": "too many"})
                return
            bad = [i for i, row in enumerate(instances) if isinstance(row["x"], str)]
            if bad:
                message = "Input should be a valid number"
                detail = [{"loc": ["instances", bad[0], "x"], "msg": message}]
                self.reply(400, {"error": "1 validation error", "detail": detail})
                return
            self.reply(200, {"predictions": [script.answer(row) for row in instances],
                             "model": {"name": "fake", "version": "7"}})  # fmt: skip

    with serving(Handler, script):
        yield script


def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"row-{i}" for i in range(n)],
            "x": [float(i) if i % 4 else None for i in range(n)],  # nulls included
            "colour": [["red", "blue", None, "red", "green"][i % 5] for i in range(n)],
            "wild": [i % 2 == 0 for i in range(n)],
        },
        index=range(100, 100 + n),
    )


def posts(server):
    return [seen for seen in server.seen if seen["method"] == "POST"]


def test_splits_into_the_servers_max_batch_and_keeps_the_index(server):
    rows = frame(8)
    result = Client(server.url, backoff=0).predict(rows)
    assert [len(p["body"]["instances"]) for p in posts(server)] == [3, 3, 2]
    assert list(result.index) == list(rows.index)
    assert list(result.columns) == ["label", "probability"]
    assert result["probability"].tolist() == [0.9 if w else 0.2 for w in rows["wild"]]


def test_sends_only_features_with_nulls_and_python_types(server):
    Client(server.url).predict(frame(2))
    first = posts(server)[0]["body"]["instances"][0]
    assert first == {"x": None, "colour": "red", "wild": True}  # no id, NaN -> null


def test_id_column_passes_through(server):
    result = Client(server.url).predict(frame(4), id_column="id")
    assert list(result.columns) == ["id", "label", "probability"]
    assert result["id"].tolist() == ["row-0", "row-1", "row-2", "row-3"]


def test_records_work_like_a_frame(server):
    records = [{"x": 1.0, "colour": "red", "wild": False}, {"x": 2, "colour": None, "wild": True}]
    result = Client(server.url).predict(records)
    assert result["label"].tolist() == [0, 1] and list(result.index) == [0, 1]


def test_multiclass_probabilities_become_one_column_per_class(server):
    server.answer = lambda row: {"label": "b", "probabilities": {"a": 0.25, "b": 0.75}}
    result = Client(server.url).predict(frame(2))
    assert list(result.columns) == ["label", "proba_a", "proba_b"]
    server.answer = lambda row: {"value": 1.5}
    assert Client(server.url).predict(frame(1))["value"].tolist() == [1.5]


def test_retries_a_server_that_fails_then_recovers(server):
    server.failures = [503, 502, 429]
    result = Client(server.url, retries=5, backoff=0).predict(frame(2))
    assert len(result) == 2 and len(posts(server)) == 4  # three failures, then the answer


def test_gives_up_after_the_retries_with_the_status(server):
    server.failures = [503] * 10
    with pytest.raises(RequestRejected) as caught:
        Client(server.url, retries=2, backoff=0).predict(frame(1))
    assert caught.value.status == 503 and len(posts(server)) == 3


def test_a_4xx_carries_the_servers_message_and_the_rows(server):
    rows = frame(5).astype({"x": object})
    rows.loc[104, "x"] = "high"  # the second batch's second row
    with pytest.raises(RequestRejected) as caught:
        Client(server.url).predict(rows)
    assert caught.value.status == 400
    assert "rows 3-4: instances.1.x: Input should be a valid number" in str(caught.value)
    assert len(posts(server)) == 2  # a 400 is not retried


def test_an_oversized_batch_is_halved_on_413(server):
    server.failures = [413]
    result = Client(server.url, batch_size=2).predict(frame(2))
    assert len(result) == 2
    assert [len(p["body"]["instances"]) for p in posts(server)] == [2, 1, 1]


def test_missing_features_are_named_before_any_request(server):
    with pytest.raises(ClientError, match="lacks the model's features: wild"):
        Client(server.url).predict(frame(2).drop(columns="wild"))
    assert posts(server) == []


def test_an_unreachable_url_is_named():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = Client(url, retries=1, backoff=0)
    with pytest.raises(ServerUnreachable, match=f"cannot reach {url}/metadata"):
        client.metadata()
    assert client.ready() is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "127.0.0.1:3000"}, "http:// or https://"),
        ({"url": "http://x", "auth": "basic"}, "use None, 'none' or 'aws_iam'"),
        ({"url": "http://x", "batch_size": 0}, "at least 1"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    with pytest.raises(ClientError, match=message):
        Client(**kwargs)


# --- SigV4 for AWS_IAM function URLs ------------------------------------------------------------
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # pragma: allowlist secret


@pytest.fixture
def aws_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-example")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


def expected_signature(seen: dict, url: str, region: str) -> str:
    """The signature AWS computes for the request the server received (botocore's algorithm)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authorization = seen["headers"]["Authorization"]
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    headers = {k: v for k, v in seen["headers"].items() if k.lower() in signed}
    request = AWSRequest(method=seen["method"], url=url, data=seen.get("raw"), headers=headers)
    request.context["timestamp"] = seen["headers"]["X-Amz-Date"]
    credentials = Credentials("AKIDEXAMPLE", SECRET, "session-token-example")
    signer = SigV4Auth(credentials, "lambda", region)
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)


def test_aws_iam_requests_carry_a_sigv4_signature_aws_would_accept(server, aws_credentials):
    client = Client(server.url, auth="aws_iam", region="eu-west-1")
    client.predict(frame(1))
    for seen in server.seen:
        authorization = seen["headers"]["Authorization"]
        assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        assert "/eu-west-1/lambda/aws4_request" in authorization
        assert seen["headers"]["X-Amz-Security-Token"] == "session-token-example"
        signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
        assert {"host", "x-amz-date"} <= set(signed)
        if seen["method"] == "POST":
            assert "content-type" in signed  # the body's type is covered by the signature
        url = server.url + seen["path"]
        assert authorization.endswith(f"Signature={expected_signature(seen, url, 'eu-west-1')}")


def test_the_region_comes_from_a_function_url(aws_credentials, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    client = Client("https://abcdef.lambda-url.ap-south-1.on.aws/", auth="aws_iam")
    assert client.session.auth.region == "ap-south-1"
    with pytest.raises(ClientError, match="set AWS_REGION"):
        Client("https://models.example.com", auth="aws_iam")


def test_aws_iam_without_credentials_says_so(monkeypatch, aws_credentials):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    with pytest.raises(ClientError) as caught:
        Client("https://x.lambda-url.eu-west-1.on.aws", auth="aws_iam")
    assert str(caught.value) == (
        "auth='aws_iam' but no AWS credentials were found "
        "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role)"
    )


def test_aws_iam_signs_the_readiness_probe_and_not_hop_by_hop_headers(server, aws_credentials):
    client = Client(server.url, auth="aws_iam", region="eu-west-1")
    assert client.ready() is True
    client.predict(frame(1))
    assert [seen["path"] for seen in server.seen] == ["/readyz", "/metadata", "/predict"]
    for seen in server.seen:
        assert seen["headers"]["Connection"] == "keep-alive"  # sent, but a proxy may change it
        authorization = seen["headers"]["Authorization"]
        signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
        assert "connection" not in signed
        url = server.url + seen["path"]
        assert authorization.endswith(f"Signature={expected_signature(seen, url, 'eu-west-1')}")


def test_the_model_lacking_features_are_named_with_those_it_takes(server):
    with pytest.raises(ClientError) as caught:
        Client(server.url).predict(frame(2).drop(columns=["x", "wild"]))
    assert str(caught.value) == (
        "input lacks the model's features: x, wild (the model takes: x, colour, wild)"
    )


# --- the command line ---------------------------------------------------------------------------
def test_cli_writes_the_input_plus_predictions(server, tmp_path, capsys):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    frame(7).to_csv(source, index=False)
    assert main(["predict", server.url, str(source), str(target)]) == 0
    scored = pd.read_csv(target)
    assert list(scored.columns) == ["id", "x", "colour", "wild", "label", "probability"]
    assert len(scored) == 7
    err = capsys.readouterr().err
    assert "7/7 rows 100%" in err and "scored 7 rows with fake v7" in err


def test_cli_error_leaves_an_earlier_output_untouched(server, tmp_path, capsys):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    target.write_text("earlier,good\n1,2\n")
    rows = frame(4)
    rows["x"] = rows["x"].astype(object)
    rows.loc[102, "x"] = "high"
    rows.to_csv(source, index=False)
    assert main(["predict", server.url, str(source), str(target)]) == 1
    assert "instances.2.x: Input should be a valid number" in capsys.readouterr().err
    assert target.read_text() == "earlier,good\n1,2\n"
    assert set(tmp_path.iterdir()) == {source, target}  # no partial file left behind


def test_importing_the_client_loads_nothing_heavy():
    code = (
        "import sys, modelops.client; "
        "heavy = {'mlflow', 'bentoml', 'dvc', 'great_expectations', 'botocore', 'sklearn'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_keeps_an_input_column_named_like_a_prediction(server, tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.parquet"
    frame(3).assign(label=["a", "b", "c"]).to_csv(source, index=False)
    assert main(["predict", server.url, str(source), str(target), "--id-column", "id"]) == 0
    assert list(pd.read_parquet(target).columns) == ["id", "label", "probability"]
    assert main(["predict", server.url, str(source), str(tmp_path / "all.csv")]) == 0
    scored = pd.read_csv(tmp_path / "all.csv")
    assert scored["label"].tolist() == ["a", "b", "c"]  # the input's own column, untouched
    assert scored["label_predicted"].tolist() == [1, 0, 1]


def test_retries_connection_errors_until_the_server_listens():
    """A cold start: nothing listens yet when the first call goes out, then the server is up."""
    port = free_port()
    client = Client(f"http://127.0.0.1:{port}", retries=6, backoff=0.2)
    assert client.ready() is False  # asked once, no waiting
    body = json.dumps({"name": "late", "version": "1", "feature_schema": []}).encode()

    class Late(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def serve_later():
        time.sleep(0.3)  # the first attempts are refused
        httpd = ThreadingHTTPServer(("127.0.0.1", port), Late)
        started.append(httpd)
        httpd.serve_forever(0.05)

    started: list = []
    threading.Thread(target=serve_later, daemon=True).start()
    try:
        assert client.metadata()["name"] == "late"
    finally:
        for httpd in started:
            httpd.shutdown()
            httpd.server_close()


def test_concurrent_batches_come_back_in_input_order(server):
    rows = frame(20)
    result = Client(server.url).predict(rows, concurrency=4)
    assert len(posts(server)) == 7  # 20 rows in batches of 3
    assert list(result.index) == list(rows.index)
    assert result["probability"].tolist() == [0.9 if w else 0.2 for w in rows["wild"]]
    rows = rows.astype({"x": object})
    rows.loc[117, "x"] = "high"
    with pytest.raises(RequestRejected, match=r"rows 15-17: instances\.2\.x"):
        Client(server.url).predict(rows, concurrency=4)
