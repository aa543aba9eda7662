"""The capture writer: contract columns only, deterministic sampling, a row cap, never raising."""

import json
import logging
import threading

import numpy as np
import pytest

from modelops.serving.capture import (
    CAPTURE_KIND,
    Capture,
    JsonLinesSink,
    LogSink,
    contract_hash,
    sampled,
)

SCHEMA = [
    {"name": "age", "type": "number", "nullable": True},
    {"name": "plan", "type": "category", "categories": ["a", "b"], "nullable": True},
    {"name": "active", "type": "boolean", "nullable": True},
]
CARD = {"name": "churn", "version": "7", "task": "binary", "feature_schema": SCHEMA}
PREDICTION = {"label": "yes", "probabilities": {"no": 0.2, "yes": 0.8}, "probability": 0.8}


class ListSink:
    """Builds each record at once, as the log sink does."""

    def __init__(self):
        self.records = []

    def defer(self, stamp, build):
        line = build()
        if line:
            self.records.append(json.loads(line))

    def flush(self):
        pass


class BrokenSink:
    def defer(self, stamp, build):
        raise OSError("disk full")

    def flush(self):
        raise OSError("disk full")


def capture(sink=None, **kwargs):
    return Capture(SCHEMA, CARD, sink or ListSink(), clock=lambda: 1_790_000_000.0, **kwargs)


def test_a_record_holds_the_contract_columns_the_prediction_and_who_answered():
    sink = ListSink()
    rows = [{"age": 41.5, "plan": "a", "active": True, "client_ip": "10.0.0.1", "Cookie": "x"}]
    capture(sink).record(rows, [PREDICTION], request_id="req-1")
    (record,) = sink.records
    assert record["kind"] == CAPTURE_KIND and record["v"] == 1
    assert record["columns"] == ["age", "plan", "active"]
    assert record["rows"] == [[41.5, "a", True]]
    assert record["predictions"] == [{"label": "yes", "confidence": 0.8, "probability": 0.8}]
    assert record["model"] == {"name": "churn", "version": "7"}
    assert record["contract"] == contract_hash(SCHEMA)
    assert record["request_id"] == "req-1"
    assert record["time"].startswith("2026-09-21T")
    text = json.dumps(record)
    assert "10.0.0.1" not in text and "Cookie" not in text and "client_ip" not in text


def test_excluded_columns_are_never_written():
    sink = ListSink()
    capture(sink, exclude=["age"]).record([{"age": 99, "plan": "b", "active": False}], [PREDICTION])
    assert sink.records[0]["columns"] == ["plan", "active"]
    assert sink.records[0]["rows"] == [["b", False]]
    assert "99" not in json.dumps(sink.records[0]["rows"])


def test_excluding_a_column_the_model_lacks_is_an_error_naming_it():
    with pytest.raises(ValueError, match="salary"):
        capture(exclude=["salary"])


def test_missing_values_and_numpy_scalars_become_json():
    sink = ListSink()
    rows = [{"age": float("nan"), "plan": None, "active": np.bool_(True)}, {"plan": "a"}]
    regression = [{"value": np.float64(3.5)}, {"value": 1.0}]
    capture(sink).record(rows, regression)
    assert sink.records[0]["rows"] == [[None, None, True], [None, "a", None]]
    assert sink.records[0]["predictions"] == [{"value": 3.5}, {"value": 1.0}]


def test_sampling_is_deterministic_by_request_id_and_close_to_the_rate():
    ids = [f"request-{i}" for i in range(20_000)]
    first = [sampled(i, 0.25) for i in ids]
    assert first == [sampled(i, 0.25) for i in ids]  # a retry is captured the same way
    assert 0.23 < sum(first) / len(ids) < 0.27
    assert all(sampled(i, 1.0) for i in ids[:100])
    assert not any(sampled(i, 0.0) for i in ids[:100])
    sink = ListSink()
    kept = capture(sink, sample_rate=0.25)
    for request_id in ids[:2000]:
        kept.record([{"age": 1, "plan": "a", "active": True}], [PREDICTION], request_id)
    assert len(sink.records) == sum(first[:2000]) == kept.captured
    assert kept.skipped == 2000 - kept.captured


def test_rows_per_request_are_capped():
    sink = ListSink()
    rows = [{"age": i, "plan": "a", "active": True} for i in range(250)]
    capture(sink, max_rows=100).record(rows, [PREDICTION] * 250)
    assert len(sink.records[0]["rows"]) == 100 == len(sink.records[0]["predictions"])
    assert sink.records[0]["rows"][-1][0] == 99
    assert sink.records[0]["dropped_rows"] == 150


def test_a_failing_sink_never_raises_and_is_logged_once(caplog):
    broken = capture(BrokenSink())
    with caplog.at_level(logging.ERROR, logger="modelops.service"):
        for _ in range(5):
            broken.record([{"age": 1, "plan": "a", "active": True}], [PREDICTION])
        broken.flush()
    assert broken.errors == 6
    failures = [r for r in caplog.records if "capture failed" in r.getMessage()]
    assert len(failures) == 1 and "disk full" in failures[0].getMessage()
    # a value JSON cannot carry is counted too, not raised
    odd = capture()
    odd.record([{"age": object(), "plan": "a", "active": True}], [PREDICTION])
    assert odd.errors == 1


def test_json_lines_sink_writes_one_file_per_process_and_day(tmp_path):
    now = [1_790_000_000.0]  # 2026-09-21
    sink = JsonLinesSink(tmp_path, clock=lambda: now[0])
    writer = Capture(SCHEMA, CARD, sink, clock=lambda: now[0])
    writer.record([{"age": 1, "plan": "a", "active": True}], [PREDICTION], "r1")
    now[0] += 86_400  # the next day: the buffered day is written out first
    writer.record([{"age": 2, "plan": "b", "active": False}], [PREDICTION], "r2")
    writer.flush()
    files = sorted(tmp_path.rglob("*.jsonl"))
    assert [f.parent.name for f in files] == ["date=2026-09-21", "date=2026-09-22"]
    lines = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert [r["request_id"] for r in lines] == ["r1", "r2"]


def test_log_sink_writes_one_flushed_json_line_per_record():
    import io

    class Stream(io.StringIO):
        flushes = 0

        def flush(self):
            self.flushes += 1

    stream = Stream()
    sink = LogSink(stream)
    writer = Capture(SCHEMA, CARD, sink)
    writer.record([{"age": 1, "plan": "a", "active": True}], [PREDICTION], "r1")
    writer.record([{"age": 2, "plan": "b", "active": None}], [PREDICTION], "r2")
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["request_id"] for line in lines] == ["r1", "r2"]
    assert stream.flushes == 2  # each record reaches the runtime at once, whole


def test_the_environment_turns_capture_on_and_bad_settings_fail_at_start(tmp_path):
    assert Capture.from_environment(CARD, {}) is None
    assert Capture.from_environment(None, {"MODELOPS_CAPTURE_DIR": str(tmp_path)}) is None
    on = Capture.from_environment(
        CARD,
        {"MODELOPS_CAPTURE_DIR": str(tmp_path), "MODELOPS_CAPTURE_SAMPLE_RATE": "0.5",
         "MODELOPS_CAPTURE_MAX_ROWS": "7", "MODELOPS_CAPTURE_EXCLUDE": "age, plan"},
    )  # fmt: skip
    assert isinstance(on.sink, JsonLinesSink)
    assert (on.sample_rate, on.max_rows, on.columns) == (0.5, 7, ["active"])
    assert isinstance(Capture.from_environment(CARD, {"MODELOPS_CAPTURE": "log"}).sink, LogSink)
    for env, message in [
        ({"MODELOPS_CAPTURE": "kafka"}, "expected off, dir or log"),
        ({"MODELOPS_CAPTURE": "dir"}, "needs MODELOPS_CAPTURE_DIR"),
        ({"MODELOPS_CAPTURE": "log", "MODELOPS_CAPTURE_SAMPLE_RATE": "x"}, "SAMPLE_RATE"),
        ({"MODELOPS_CAPTURE": "log", "MODELOPS_CAPTURE_SAMPLE_RATE": "2"}, "between 0 and 1"),
        ({"MODELOPS_CAPTURE": "log", "MODELOPS_CAPTURE_MAX_ROWS": "0"}, "at least 1"),
    ]:
        with pytest.raises(ValueError, match=message):
            Capture.from_environment(CARD, env)


def test_contract_hash_changes_with_the_columns_and_not_with_key_order():
    same = [{"nullable": True, "type": "number", "name": "age"}, *SCHEMA[1:]]
    assert contract_hash(same) == contract_hash(SCHEMA)
    other = [*SCHEMA[:1], {**SCHEMA[1], "categories": ["a", "b", "c"]}, SCHEMA[2]]
    assert contract_hash(other) != contract_hash(SCHEMA)
    assert len(contract_hash(SCHEMA)) == 16


def test_lambda_log_lines_read_back_as_records_as_events_and_in_subscription_batches():
    """A line the log sink writes is a CloudWatch event's message as it is; the monitor's parser
    reads it alone, as Insights returns it, and inside a subscription's DATA_MESSAGE batch."""
    import io

    from modelops.monitoring.window import parse_message, parse_text

    stream = io.StringIO()
    sink = ListSink()
    row = [{"age": 3, "plan": "b", "active": None}]
    Capture(SCHEMA, CARD, sink).record(row, [PREDICTION], "r9")
    Capture(SCHEMA, CARD, LogSink(stream)).record(row, [PREDICTION], "r9")
    line = stream.getvalue().strip()
    expected = {k: v for k, v in sink.records[0].items() if k != "time"}
    (alone,) = list(parse_message(line))
    batch = {"messageType": "DATA_MESSAGE", "logEvents": [{"id": "1", "message": line}]}
    (batched,) = list(parse_text(json.dumps(batch)))
    for read in (alone, batched):
        assert {k: v for k, v in read.items() if k != "time"} == expected


def test_a_file_sink_builds_records_off_the_request_path_at_the_time_of_the_request(tmp_path):
    now = [1_790_000_000.0]
    writer = Capture(SCHEMA, CARD, JsonLinesSink(tmp_path), clock=lambda: now[0])
    writer.record([{"age": object(), "plan": "a", "active": True}], [PREDICTION], "bad")
    writer.record([{"age": 3, "plan": "b", "active": False}] * 2, [PREDICTION] * 2, "good")
    # nothing was built yet: the unserialisable row has not failed, no row is counted
    assert (writer.errors, writer.captured) == (0, 0)
    now[0] += 30  # the buffer is written out later, by the flusher thread (or at exit)
    writer.flush()
    assert (writer.errors, writer.captured) == (1, 2)
    (written,) = [json.loads(line) for f in tmp_path.rglob("*.jsonl") for line in f.open()]
    assert written["request_id"] == "good"
    assert written["time"] == "2026-09-21T14:13:20.000+00:00"  # when it was answered
    assert written["rows"] == [[3, "b", False], [3, "b", False]]


def test_a_long_flush_gives_up_the_interpreter_between_slices_and_loses_nothing(
    tmp_path, monkeypatch
):
    """Requests waiting for the interpreter run between the flusher's slices of building."""
    import modelops.serving.capture as capture_module

    sink = JsonLinesSink(tmp_path)
    sink.flusher = threading.Thread(target=print)  # never started: this test flushes
    writer = Capture(SCHEMA, CARD, sink)
    pauses = []
    monkeypatch.setattr(capture_module.time, "sleep", pauses.append)
    for n in range(6):
        writer.record([{"age": n, "plan": "a", "active": True}], [PREDICTION], f"r{n}")
    monkeypatch.setattr(capture_module, "SLICE_SECONDS", float("inf"))
    writer.flush()  # one slice: built without a break
    assert pauses == []
    for n in range(6, 12):
        writer.record([{"age": n, "plan": "a", "active": True}], [PREDICTION], f"r{n}")
    monkeypatch.setattr(capture_module, "SLICE_SECONDS", 0.0)
    writer.flush()  # every record ends a slice
    assert pauses == [capture_module.PAUSE_SECONDS] * 6
    lines = [json.loads(line) for f in tmp_path.rglob("*.jsonl") for line in f.open()]
    assert [line["request_id"] for line in lines] == [f"r{n}" for n in range(12)]


def test_the_record_time_is_what_datetime_writes_for_any_instant():
    from datetime import UTC, datetime

    now = [0.0]
    sink = ListSink()
    writer = Capture(SCHEMA, CARD, sink, clock=lambda: now[0])
    rng = np.random.default_rng(3)
    stamps = [1_790_000_000.0, 1_790_000_000.9995, 1_790_000_000.123, 1_790_000_059.9999996]
    stamps += sorted(1_790_000_000 + rng.uniform(0, 86_400 * 400, 3_000))  # a second apart, or not
    stamps += [1_790_000_000.5 + i / 1000 for i in range(1500)]  # many in one second
    for stamp in stamps:
        now[0] = stamp
        writer.record([{"age": 1, "plan": "a", "active": True}], [PREDICTION], "r")
    written = [record["time"] for record in sink.records]
    assert written == [
        datetime.fromtimestamp(stamp, UTC).isoformat(timespec="milliseconds") for stamp in stamps
    ]


def test_requests_without_an_id_get_distinct_ids_and_are_sampled_near_the_rate():
    sink = ListSink()
    writer = capture(sink, sample_rate=0.5)
    for _ in range(4000):
        writer.record([{"age": 1, "plan": "a", "active": True}], [PREDICTION])
    ids = [r["request_id"] for r in sink.records]
    assert len(set(ids)) == len(ids) == writer.captured
    assert 0.46 < writer.captured / 4000 < 0.54
    other = capture(ListSink())
    other.record([{"age": 1, "plan": "a", "active": True}], [PREDICTION])
    assert (
        other.sink.records[0]["request_id"] not in ids
    )  # another capture (process) numbers its own
