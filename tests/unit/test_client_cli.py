"""`python -m modelops.client predict`: each option's default and effect, the help, exit codes.

Against a scripted service on loopback, fast: `make mutation` runs these against every mutant of
`client.py`.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from modelops import client as mc
from modelops.client import main
from tests.unit.client_fakes import JsonHandler, serving

CARD = {
    "name": "fake", "version": "7", "max_instances": 3,
    "feature_schema": [{"name": "x", "type": "number"}],
}  # fmt: skip


class Service:
    """The scripted service: answers /metadata and /predict, keeps every request it saw."""

    def __init__(self):
        self.failures: list[int] = []  # statuses to answer /predict with before succeeding
        self.seen: list[dict] = []

    def posts(self) -> list[dict]:
        return [seen for seen in self.seen if seen["method"] == "POST"]


@pytest.fixture
def service():
    script = Service()

    class Handler(JsonHandler):
        def do_GET(self):
            self.note_get(script)
            self.reply(200, CARD)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            script.seen.append({"method": "POST", "body": body, "headers": dict(self.headers)})
            if self.warming_up(script):
                return
            answers = [
                {"label": int(row["x"] > 1), "probability": 0.5} for row in body["instances"]
            ]
            self.reply(200, {"predictions": answers})

    with serving(Handler, script):
        yield script


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "in.csv"
    pd.DataFrame({"id": ["a", "b", "c", "d", "e"], "x": [0.0, 1.0, 2.0, 3.0, 4.0]}).to_csv(
        path, index=False
    )
    return path


@pytest.fixture
def built(monkeypatch):
    """Every Client the command line builds, and the arguments its `predict` was called with."""
    clients: list = []

    class Recorded(mc.Client):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.predict_calls: list = []
            clients.append(self)

        def predict(self, data, id_column=None, progress=None, concurrency=1):
            self.predict_calls.append({"id_column": id_column, "progress": progress,
                                       "concurrency": concurrency})  # fmt: skip
            return super().predict(data, id_column, progress, concurrency=concurrency)

    monkeypatch.setattr(mc, "Client", Recorded)
    return clients


def help_of(argv, capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "200")  # argparse wraps at the terminal's width
    with pytest.raises(SystemExit) as leaving:
        main(argv)
    assert leaving.value.code == 0
    return capsys.readouterr().out


def test_help_of_predict_names_each_option_with_its_meaning_and_default(capsys, monkeypatch):
    text = help_of(["predict", "--help"], capsys, monkeypatch)
    assert text.startswith("usage: python -m modelops.client predict [-h] [--auth {none,aws_iam}]")
    lines = {re.sub(r"\s+", " ", line.strip()) for line in text.splitlines()}
    for shown in [
        "url base URL of the service",
        "input CSV or Parquet with the model's features",
        "output CSV or Parquet: the input plus predictions",
        "aws_iam: sign with SigV4 for an AWS_IAM function URL (default: none)",
        "keep only this column of the input, plus predictions",
        "--timeout TIMEOUT seconds to wait for a connection and for each read (default: 30)",
        "--deadline DEADLINE seconds per call, in all (default: 120)",
        "--retries RETRIES retries of a connection error or a 429/502/503/504 (default: 5)",
        "rows per request (default: the server's)",
        "batches in flight at once (default: 1)",
    ]:
        assert shown in lines, shown
    for option in ("--auth {none,aws_iam}", "--id-column ID_COLUMN", "--batch-size BATCH_SIZE",
                   "--concurrency CONCURRENCY"):  # fmt: skip
        assert option in lines, option


def test_help_shows_the_module_doc_as_written_and_the_predict_command(capsys, monkeypatch):
    text = help_of(["--help"], capsys, monkeypatch)
    assert text.startswith("usage: python -m modelops.client [-h] {predict} ...\n\n")
    assert "\n\nA Python client for the prediction service: score a DataFrame" in text
    # the raw layout is kept: the indented examples stay on their own lines
    assert "\n    from modelops.client import Client\n" in text
    assert "\n    python -m modelops.client predict URL in.csv out.csv [--auth aws_iam]" in text
    assert re.search(r"\n +predict +score a CSV/Parquet file through the service\n", text)


def test_no_command_is_a_usage_error_naming_it(capsys):
    with pytest.raises(SystemExit) as leaving:
        main([])
    assert leaving.value.code == 2
    assert "error: the following arguments are required: command" in capsys.readouterr().err


def test_an_unknown_auth_is_a_usage_error_listing_the_choices(service, source, tmp_path, capsys):
    with pytest.raises(SystemExit) as leaving:
        main(["predict", service.url, str(source), str(tmp_path / "o.csv"), "--auth", "basic"])
    assert leaving.value.code == 2
    assert "invalid choice: 'basic' (choose from 'none', 'aws_iam')" in capsys.readouterr().err
    assert service.seen == []


def test_defaults_build_the_documented_client(service, source, tmp_path, built, capsys):
    target = tmp_path / "out.csv"
    assert main(["predict", service.url, str(source), str(target)]) == 0
    (client,) = built
    assert client.url == service.url and client.session.auth is None
    assert (client.timeout, client.deadline, client.batch_size) == (30.0, 120.0, None)
    (call,) = client.predict_calls
    assert call["id_column"] is None and call["concurrency"] == 1
    assert isinstance(call["progress"], mc.ProgressBar) and call["progress"].total == 5
    assert [len(p["body"]["instances"]) for p in service.posts()] == [3, 2]  # the server's max
    captured = capsys.readouterr()
    assert captured.out == ""
    # the progress bar (30 wide, one redraw per batch), then the summary line
    assert re.fullmatch(
        r"\rscoring \[#{18}-{12}\] 3/5 rows  60% [\d,]+ rows/s"
        r"\rscoring \[#{30}\] 5/5 rows 100% [\d,]+ rows/s\n"
        + re.escape(f"scored 5 rows with fake v7 -> {target}\n"),
        captured.err,
    )
    scored = pd.read_csv(target)
    assert list(scored.columns) == ["id", "x", "label", "probability"]
    assert scored["label"].tolist() == [0, 0, 1, 1, 1]


def test_each_option_reaches_the_client(service, source, tmp_path, built):
    target = tmp_path / "out.parquet"
    argv = ["predict", service.url, str(source), str(target), "--auth", "none", "--id-column",
            "id", "--timeout", "2.5", "--deadline", "60", "--retries", "1", "--batch-size", "2",
            "--concurrency", "2"]  # fmt: skip
    assert main(argv) == 0
    (client,) = built
    assert client.session.auth is None
    assert (client.timeout, client.deadline, client.batch_size) == (2.5, 60.0, 2)
    assert client.predict_calls[0]["concurrency"] == 2
    assert client.predict_calls[0]["id_column"] == "id"
    assert sorted(len(p["body"]["instances"]) for p in service.posts()) == [1, 2, 2]
    scored = pd.read_parquet(target)
    assert list(scored.columns) == ["id", "label", "probability"]
    assert scored["id"].tolist() == ["a", "b", "c", "d", "e"]


def test_retries_default_to_five_with_half_second_backoff(service, source, tmp_path, capsys, waits):
    service.failures = [503] * 10
    assert main(["predict", service.url, str(source), str(tmp_path / "o.csv")]) == 1
    assert len(service.posts()) == 6  # the first attempt and 5 retries
    assert waits == [1.0, 2.0, 4.0, 8.0]  # urllib3: no wait before the first retry, then 0.5*2^n
    err = capsys.readouterr().err
    assert err.endswith(f"error: {service.url}/predict answered 503: rows 0-2: warming up\n")


def test_retries_option_sets_how_often_a_failure_is_retried(service, source, tmp_path, waits):
    service.failures = [503, 503]
    argv = ["predict", service.url, str(source), str(tmp_path / "o.csv")]
    assert main([*argv, "--retries", "1"]) == 1
    assert len(service.posts()) == 2
    service.failures = [503]
    assert main([*argv, "--retries", "1"]) == 0


def test_aws_iam_signs_each_request(service, source, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")  # pragma: allowlist secret
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    argv = ["predict", service.url, str(source), str(tmp_path / "o.csv"), "--auth", "aws_iam"]
    assert main(argv) == 0
    assert service.seen and all(
        seen["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        and "/eu-north-1/lambda/aws4_request" in seen["headers"]["Authorization"]
        for seen in service.seen
    )


def test_a_missing_input_is_named_and_nothing_is_asked(service, tmp_path, capsys):
    missing, target = tmp_path / "nowhere.csv", tmp_path / "o.csv"
    assert main(["predict", service.url, str(missing), str(target)]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"error: {missing}: file not found\n" and captured.out == ""
    assert service.seen == [] and not target.exists()


@pytest.mark.parametrize(
    ("content", "output", "message"),
    [
        ("", "o.csv", "No columns to parse from file"),  # pandas: a ValueError
        ("x\n1\n", "o.json", "o.json: use a .csv or .parquet file, not '.json'"),  # ClientError
        ("x\n1\n", "missing/o.csv", "Cannot save file into a non-existent directory"),  # OSError
    ],
)
def test_each_kind_of_failure_is_one_line_on_stderr_and_exit_1(
    service, tmp_path, capsys, content, output, message
):
    path = tmp_path / "in.csv"
    path.write_text(content)
    assert main(["predict", service.url, str(path), str(tmp_path / output)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    last = captured.err.splitlines()[-1]
    assert last.startswith("error: ") and message in last
