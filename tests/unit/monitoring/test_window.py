"""Reading captured predictions: a folder, an S3 prefix and CloudWatch Logs Insights (moto)."""

import gzip
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from modelops.monitoring import window as window_module
from modelops.monitoring.window import (
    SourceError,
    collect,
    open_source,
    parse_text,
    read_cloudwatch,
    read_folder,
    read_s3,
)

from .conftest import NOW, capture_records, table

DAY = timedelta(days=1)


def write_lines(path, records, extra=()):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + "".join(extra))


def test_a_folder_window_skips_old_partitions_and_rows_and_counts_bad_lines(tmp_path):
    old = capture_records(table(30, 1), start=NOW - 10 * DAY)
    edge = capture_records(table(30, 2), start=NOW - DAY - timedelta(seconds=1))  # 1 of 3 out
    new = capture_records(table(50, 3), start=NOW - timedelta(hours=2))
    write_lines(tmp_path / "date=2026-11-22" / "a.jsonl", old)
    write_lines(tmp_path / "date=2026-12-01" / "b.jsonl", edge, extra=["{not json\n"])
    gz = tmp_path / "date=2026-12-02" / "c.jsonl.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in new).encode()))
    window = collect(read_folder(tmp_path, NOW - DAY, NOW), NOW - DAY, max_rows=10_000)
    assert window.rows == 20 + 50
    assert window.unreadable == 1
    assert window.models == {"churn:3": 70}
    assert set(window.columns) == {"income", "plan", "active"}
    assert all(len(column) == 70 for column in window.columns.values())


def test_the_window_keeps_the_newest_rows_only(tmp_path):
    records = capture_records(table(500, 1), start=NOW - timedelta(hours=3))
    window = collect(iter(records), NOW - DAY, max_rows=120)
    assert window.rows == 120
    assert window.first == records[-12]["time"] and window.last == records[-1]["time"]
    assert window.columns["income"] == [row[0] for r in records[-12:] for row in r["rows"]]


def test_lambda_json_log_events_and_subscription_batches_are_unwrapped():
    (record,) = capture_records(table(3, 1))
    lambda_json = {"timestamp": "t", "level": "INFO", "message": record, "logger": "x"}
    lambda_text = {"message": json.dumps(record)}  # logged as text under the JSON format
    batch = {
        "messageType": "DATA_MESSAGE",
        "logEvents": [
            {"id": "1", "timestamp": 1, "message": json.dumps(lambda_json)},
            {"id": "2", "timestamp": 2, "message": "END RequestId: abc"},
        ],
    }
    control = {"messageType": "CONTROL_MESSAGE", "logEvents": [{"message": "CWL CONTROL"}]}
    # Firehose concatenates the batches without a separator
    text = json.dumps(batch) + json.dumps(control) + json.dumps(lambda_text) + "\n"
    found = list(parse_text(text))
    assert found == [record, record]


def test_sources_are_named_in_errors(tmp_path):
    with pytest.raises(SourceError, match="no such capture folder"):
        list(open_source(str(tmp_path / "none"), NOW - DAY, NOW))
    with pytest.raises(SourceError, match="expected a folder, s3://"):
        open_source("ftp://host/x", NOW - DAY, NOW)
    with pytest.raises(SourceError, match="needs a log group"):
        open_source("logs://", NOW - DAY, NOW)


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # pragma: allowlist secret (moto)
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def test_s3_reads_json_lines_and_firehose_gzip_objects_under_the_prefix(aws):
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(
        Bucket="captures", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    now = datetime.now(UTC)
    plain = capture_records(table(20, 1), start=now - timedelta(minutes=5))
    firehose = capture_records(table(30, 2), start=now - timedelta(minutes=4))
    s3.put_object(
        Bucket="captures",
        Key="prod/date=x/a.jsonl",
        Body="".join(json.dumps(r) + "\n" for r in plain).encode(),
    )
    batch = {
        "messageType": "DATA_MESSAGE",
        "logEvents": [{"message": json.dumps({"message": r})} for r in firehose],
    }
    s3.put_object(
        Bucket="captures", Key="prod/2026/12/02/b", Body=gzip.compress(json.dumps(batch).encode())
    )
    s3.put_object(Bucket="captures", Key="staging/c.jsonl", Body=json.dumps(plain[0]).encode())
    window = collect(read_s3("s3://captures/prod/", now - DAY, now), now - DAY, 10_000)
    assert window.rows == 50 and window.unreadable == 0
    # objects last modified before the window are not even downloaded
    later = list(read_s3("s3://captures/prod/", now + DAY, now + 2 * DAY))
    assert later == []
    with pytest.raises(SourceError, match="s3://missing/"):
        list(read_s3("s3://missing/x", now - DAY, now))


class InsightsLikeAWS:
    """moto's Logs Insights, made to behave as AWS documents it where moto differs.

    AWS: a query is Scheduled/Running before it is Complete (moto: Complete at once); a query
    returns at most 10,000 rows, the `limit` (moto returns every match); `filter @message like`
    keeps only matching events (moto ignores the filter: the reader must cope either way, so that
    difference is left in). The limit is shrunk to `limit` so the split of a full time range is
    exercised on a few events.
    """

    def __init__(self, client, limit):
        self.client, self.limit, self.polls = client, limit, {}
        self.queries = []

    def start_query(self, **kwargs):
        self.queries.append((kwargs["startTime"], kwargs["endTime"]))
        return self.client.start_query(**kwargs)

    def get_query_results(self, queryId):
        self.polls[queryId] = self.polls.get(queryId, 0) + 1
        if self.polls[queryId] == 1:
            return {"status": "Running", "results": []}
        answer = self.client.get_query_results(queryId=queryId)
        return {**answer, "results": answer["results"][: self.limit]}


def test_cloudwatch_insights_reads_every_event_of_the_window_in_split_queries(aws, monkeypatch):
    logs = boto3.client("logs", region_name="eu-west-1")
    group = "/aws/lambda/modelops-prod"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/12/02/[$LATEST]abc")
    start = datetime.now(UTC) - timedelta(minutes=30)
    records = capture_records(table(120, 1), start=start)  # 12 requests, a second apart
    events = [{"timestamp": int(start.timestamp() * 1000) - 500, "message": "INIT_START ..."}]
    for i, record in enumerate(records):
        stamp = int(start.timestamp() * 1000) + i * 60_000  # a minute apart
        events.append(
            {"timestamp": stamp, "message": json.dumps({"level": "INFO", "message": record})}
        )
    logs.put_log_events(
        logGroupName=group, logStreamName="2026/12/02/[$LATEST]abc", logEvents=events
    )
    monkeypatch.setattr(window_module, "INSIGHTS_LIMIT", 5)
    client = InsightsLikeAWS(logs, limit=5)
    until = start + timedelta(minutes=20)
    read = list(read_cloudwatch(group, start - timedelta(minutes=1), until, client, poll_seconds=0))
    assert sorted(r["request_id"] for r in read) == sorted(r["request_id"] for r in records)
    assert len(client.queries) > 1  # the 13 events did not fit one 5-row answer
    for begin, end in client.queries:
        assert isinstance(begin, int) and begin <= end  # epoch seconds, as the API takes


def test_cloudwatch_failures_are_named(aws):
    logs = boto3.client("logs", region_name="eu-west-1")
    with pytest.raises(SourceError, match="logs:///aws/lambda/none"):
        list(read_cloudwatch("/aws/lambda/none", NOW - DAY, NOW, logs, poll_seconds=0))

    class Failing:
        def start_query(self, **kwargs):
            return {"queryId": "q"}

        def get_query_results(self, queryId):
            return {"status": "Failed", "results": []}

    with pytest.raises(SourceError, match="query failed"):
        list(read_cloudwatch("g", NOW - DAY, NOW, Failing(), poll_seconds=0))
