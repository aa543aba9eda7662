"""The client's own decisions pinned exactly, without a server: the server's message as the user
reads it, rows to JSON, prediction columns, numbers read as text, the region of a function URL,
file formats, the progress line.

Fast on purpose: `make mutation` runs these against every mutant of `client.py`.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
import requests
import urllib3.exceptions

from modelops import client as mc
from modelops.client import ClientError, ProgressBar, read_table, region_of, write_table


@pytest.mark.parametrize(
    ("content", "reason", "message"),
    [
        (b'{"error": "x: expected a number"}', "Bad Request", "x: expected a number"),
        (b'{"detail": "too many rows"}', "", "too many rows"),
        (b'{"message": "Forbidden"}', "", "Forbidden"),
        (b'{"error": "", "message": "second"}', "", "second"),
        (b'{"other": 1}', "", '{"other": 1}'),
        (b"[1, 2]", "", "[1, 2]"),
        (b"  plain text \n", "Bad Gateway", "plain text"),
        (b"", "Bad Gateway", "Bad Gateway"),
        (b"", "", ""),
        (b"\xff\xfe", "", "\ufffd\ufffd"),
        (
            b'{"detail": [{"loc": ["body", 0, "x"], "msg": "not a number"}, '
            b'{"loc": [], "msg": "bad row"}, "ignored"]}',
            "",
            "body.0.x: not a number; bad row",
        ),
        (b'{"detail": [], "error": "fallback"}', "", "fallback"),
        (b'{"detail": ["no dicts"]}', "", "['no dicts']"),
        (b'{"detail": [{"loc": ["a"]}]}', "", "a: "),
    ],
)
def test_the_servers_message_is_read_from_its_json_or_its_text(content, reason, message):
    assert mc._server_message(content, reason) == message


def test_the_servers_message_is_cut_at_500_characters_and_at_5_details():
    assert mc._server_message(b"x" * 600, "") == "x" * 500
    assert len(mc._server_message(json.dumps({"k": "y" * 600}).encode(), "")) == 500
    assert len(mc._server_message(json.dumps(["y" * 600]).encode(), "")) == 500
    details = [{"loc": [str(i)], "msg": "m"} for i in range(7)]
    assert mc._server_message(json.dumps({"detail": details}).encode(), "") == (
        "0: m; 1: m; 2: m; 3: m; 4: m"
    )


def test_rows_become_json_ready_records_with_every_missing_value_null():
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None], dtype="Int64"),
            "x": [np.float64(1.5), np.nan],
            "c": ["a", None],
            "t": pd.to_datetime(["2024-01-01", None]),
            1: [True, False],
        }
    )
    records = mc._records(frame)
    assert records[1] == {"n": None, "x": None, "c": None, "t": None, "1": False}
    assert records[0]["n"] == 1 and type(records[0]["n"]) is int
    assert type(records[0]["x"]) is float
    assert type(records[0]["1"]) is bool
    json.dumps(records[1])


def test_numbers_read_as_text_become_numbers_and_only_bad_cells_stay_text():
    frame = pd.DataFrame({"x": ["1.5", "oops", None], "c": ["1", "2", "3"], "y": [1, 2, 3]})
    schema = [{"name": "x"}, {"name": "c", "type": "category"}, {"name": "y", "type": "number"}]
    fixed = mc._numbers_as_numbers(frame, schema)
    assert fixed["x"].tolist()[:2] == [1.5, "oops"]
    assert pd.isna(fixed["x"].iloc[2])
    assert fixed["c"].tolist() == ["1", "2", "3"]
    assert fixed["y"].tolist() == [1, 2, 3]
    numeric = pd.DataFrame({"x": [1.0]})
    assert mc._numbers_as_numbers(numeric, [{"name": "x", "type": "number"}]) is numeric
    assert mc._number(7) == 7
    assert mc._number("2") == 2.0 and type(mc._number("2")) is float


def test_prediction_columns_flatten_probabilities_and_fill_a_key_a_row_lacks():
    predictions = [
        {"label": "b", "probabilities": {"a": 0.2, "b": 0.8}, "probability": 0.8},
        {"label": "a", "probabilities": {"a": 0.6, "b": 0.4}},
        {"label": "a", "extra": 1},
    ]
    assert mc._columns(predictions) == {
        "label": ["b", "a", "a"],
        "probability": [0.8, None, None],
        "proba_a": [0.2, 0.6, None],
        "proba_b": [0.8, 0.4, None],
        "extra": [None, None, 1],
    }
    assert mc._columns([{"value": 1.0}, {"value": 2.0}]) == {"value": [1.0, 2.0]}
    assert mc._columns([]) == {}


def test_the_region_comes_from_a_function_url_else_the_environment(monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    url = "https://abc123.lambda-url.eu-west-3.on.aws/predict"
    assert region_of(url) == "eu-west-3"
    assert region_of("https://example.com/lambda-url.eu-west-3.on.aws") is None
    assert region_of("https://abc.lambda-url.eu-west-3.on.aws.example.com") is None
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")
    assert region_of("http://localhost:3000") == "us-east-2"
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert region_of("http://localhost:3000") == "ap-south-1"
    assert region_of(url) == "eu-west-3"


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".pq", ".CSV"])
def test_tables_round_trip_through_each_format(tmp_path, suffix):
    frame = pd.DataFrame({"x": [1.5, 2.0], "c": ["a", "b"]})
    path = tmp_path / f"t{suffix}"
    write_table(frame, path)
    pd.testing.assert_frame_equal(read_table(path), frame)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_an_unknown_format_is_refused_by_name_and_leaves_no_file(tmp_path):
    frame = pd.DataFrame({"x": [1]})
    for name, shown in (("t.json", "'.json'"), ("t", "'no suffix'")):
        message = f"^{tmp_path / name}: use a .csv or .parquet file, not {shown}$"
        with pytest.raises(ClientError, match=message.replace(".", r"\.")):
            write_table(frame, tmp_path / name)
        with pytest.raises(ClientError, match=message.replace(".", r"\.")):
            read_table(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_earlier_file(tmp_path):
    path = tmp_path / "out.parquet"
    write_table(pd.DataFrame({"x": [1]}), path)
    before = path.read_bytes()
    with pytest.raises((ValueError, TypeError)):  # pyarrow: ArrowInvalid or ArrowTypeError
        write_table(pd.DataFrame({"x": [object()]}), path)  # not storable as Parquet
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]


def test_the_progress_bar_draws_the_share_done_and_ends_the_line_when_done():
    stream = io.StringIO()
    bar = ProgressBar(4, stream=stream, width=8)
    bar(1)
    first = stream.getvalue()
    assert first.startswith("\rscoring [##------] 1/4 rows  25% ")
    assert first.endswith(" rows/s")
    bar(3)
    assert stream.getvalue()[len(first) :].startswith("\rscoring [########] 4/4 rows 100% ")
    assert stream.getvalue().endswith(" rows/s\n")
    empty = io.StringIO()
    ProgressBar(0, stream=empty, width=4)(0)
    assert empty.getvalue().startswith("\rscoring [####] 0/0 rows 100% ")


def test_the_reason_of_a_connection_error_is_its_innermost_cause():
    refused = OSError("HTTPConnectionPool(...): Max retries ([Errno 111] Connection refused')")
    assert mc._reason(refused) == "[Errno 111] Connection refused"
    dns = OSError("<urllib3...>: Failed to resolve 'nowhere.invalid' (x)")
    assert mc._reason(dns) == "Failed to resolve"
    assert mc._reason(OSError("read timed out.")) == "timed out"
    assert mc._reason(OSError("z" * 400)) == "z" * 300
    assert mc._reason(OSError()) == ""
    assert mc._reason(ValueError("plain")) == "plain"
    reset = ConnectionResetError(104, "Connection reset by peer")  # as a socket raises it
    assert mc._reason(reset) == "[Errno 104] Connection reset by peer"
    broken = urllib3.exceptions.ProtocolError(
        "Connection broken: IncompleteRead(9 bytes read, 991 more expected)",
        urllib3.exceptions.IncompleteRead(9, 991),
    )
    assert mc._reason(broken) == (  # urllib3's message, not the tuple of its arguments
        "Connection broken: IncompleteRead(9 bytes read, 991 more expected)"
    )


def test_numpy_scalars_in_text_columns_become_python_values():
    frame = pd.DataFrame({"k": [np.int64(3), "a"], "b": [np.bool_(True), None]})  # object columns
    records = mc._records(frame)
    assert records == [{"k": 3, "b": True}, {"k": "a", "b": None}]
    assert type(records[0]["k"]) is int and type(records[0]["b"]) is bool
    json.dumps(records)  # numpy's int64 and bool_ are not JSON


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_table_is_written_without_its_index(tmp_path, suffix):
    frame = pd.DataFrame({"x": [1.5, 2.0]}, index=[100, 101])
    write_table(frame, tmp_path / f"t{suffix}")
    back = read_table(tmp_path / f"t{suffix}")
    assert list(back.columns) == ["x"] and back.index.tolist() == [0, 1]


def test_an_id_column_the_input_lacks_is_named_before_any_request():
    client = mc.Client("http://127.0.0.1:1")  # nothing listens: no request may be made
    with pytest.raises(ClientError, match=r"^id_column 'nope' is not a column of the input$"):
        client.predict(pd.DataFrame({"x": [1]}), id_column="nope")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": ""}, "url '': give the service's base URL, http:// or https://"),
        ({"url": "ftp://x"}, "url 'ftp://x': give the service's base URL, http:// or https://"),
        ({"url": "http://x", "auth": "basic"}, "auth='basic': use None, 'none' or 'aws_iam'"),
        ({"url": "http://x", "batch_size": 0}, "batch_size=0: must be at least 1"),
        ({"url": "http://x", "timeout": 0}, "timeout=0, deadline=120.0: both must be positive"),
        ({"url": "http://x", "deadline": 0}, "timeout=30.0, deadline=0: both must be positive"),
    ],
)
def test_a_bad_argument_is_refused_word_for_word(kwargs, message):
    with pytest.raises(ClientError) as caught:
        mc.Client(**kwargs)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("kwargs", "url"),
    [
        ({"url": "http://x/"}, "http://x"),
        ({"url": "https://x//", "batch_size": 1}, "https://x"),
        ({"url": "http://HOSTX/"}, "http://HOSTX"),  # only slashes are cut
        ({"url": "http://x", "timeout": 0.5, "deadline": 0.5}, "http://x"),
    ],
)
def test_the_smallest_good_arguments_are_taken(kwargs, url):
    client = mc.Client(**kwargs)
    assert client.url == url and repr(client) == f"Client({url!r})"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"detail": {"field": "x"}}', "{'field': 'x'}"),  # not a list of errors: shown as is
        (b'{"detail": [{"msg": "no location"}]}', "no location"),
    ],
)
def test_the_servers_detail_in_other_shapes(content, message):
    assert mc._server_message(content, "") == message


def test_the_progress_rate_is_rows_per_second_since_the_bar_was_made(monkeypatch):
    clock = iter([100.0, 100.5, 102.0])
    monkeypatch.setattr(mc.time, "monotonic", lambda: next(clock))
    stream = io.StringIO()
    bar = ProgressBar(3000, stream=stream, width=4)  # started at 100 s
    bar(1000)  # at 100.5 s
    bar(2000)  # at 102 s
    monkeypatch.undo()
    assert stream.getvalue() == (
        "\rscoring [#---] 1000/3000 rows  33% 2,000 rows/s"
        "\rscoring [####] 3000/3000 rows 100% 1,500 rows/s\n"
    )


def test_a_connection_error_without_a_cause_is_not_a_dropped_connection():
    assert mc._dropped(requests.exceptions.ConnectionError()) is False
    assert mc._dropped(requests.exceptions.ConnectionError(ConnectionResetError(104, "reset")))
