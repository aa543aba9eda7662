"""A window of captured predictions, read from where the service left them.

Sources (`open_source`): a local folder of JSON lines (`make serve` with capture on), an S3 prefix
(`s3://bucket/prefix`: the same JSON lines, or what a CloudWatch Logs subscription delivers
through Firehose: gzipped `DATA_MESSAGE` batches of log events), and CloudWatch Logs Insights
(`logs://<log group>`: the Lambda function's structured log lines). Every source yields capture
records (`modelops.serving.capture`, one per request); `Window` keeps their rows as columns, the
newest `max_rows` at most, so memory is bounded by the window, not by the history.
"""

from __future__ import annotations

import gzip
import json
import math
import time
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelops.serving.capture import CAPTURE_KIND

INSIGHTS_LIMIT = 10_000  # Logs Insights returns at most this many rows per query (AWS docs)
INSIGHTS_QUERY = (
    "fields @timestamp, @message | filter @message like /modelops.capture/ "
    "| sort @timestamp desc | limit 10000"
)


class SourceError(RuntimeError):
    """A capture source cannot be read; the message says which and why."""


@dataclass
class Window:
    """Captured rows as columns, with the requests' models and contracts counted.

    Compact, since a window holds millions of rows: a text cell repeated across rows (a
    category, a predicted label) is stored once and shared, and the predictions are columns
    too: labels, and confidences and values as float arrays (NaN when absent). A million rows
    of 10 features took 1.17 GiB as dicts and fresh strings per row.
    """

    columns: dict[str, list[Any]] = field(default_factory=dict)
    labels: list[Any] = field(default_factory=list)
    confidences: array[float] = field(default_factory=lambda: array("d"))
    values: array[float] = field(default_factory=lambda: array("d"))
    times: list[str] = field(default_factory=list)
    models: dict[str, int] = field(default_factory=dict)
    contracts: dict[str, int] = field(default_factory=dict)
    records: int = 0
    unreadable: int = 0
    first: str | None = None
    last: str | None = None
    _texts: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def rows(self) -> int:
        """Captured rows in the window."""
        return len(self.times)

    def _shared(self, values: Iterable[Any]) -> list[Any]:
        """`values` with each text replaced by the one copy the window keeps of it."""
        texts = self._texts
        return [texts.setdefault(v, v) if v.__class__ is str else v for v in values]

    def add(self, record: dict[str, Any]) -> None:
        """Append one capture record's rows."""
        names = record["columns"]
        rows = record["rows"]
        predictions = record["predictions"]
        if len(rows) != len(predictions) or any(len(r) != len(names) for r in rows):
            raise ValueError("rows and predictions of a capture record do not line up")
        labels = self._shared(p.get("label") for p in predictions)
        confidences = [_number(p.get("confidence")) for p in predictions]
        values = [_number(p.get("value")) for p in predictions]
        known = self.rows
        for name in names:
            if name not in self.columns:  # a column first seen now: missing in earlier rows
                self.columns[name] = [None] * known
        for position, cells in enumerate(zip(*rows, strict=True)) if rows else ():
            self.columns[names[position]].extend(self._shared(cells))
        for name, column in self.columns.items():  # a column this record lacks: missing
            if name not in names:
                column.extend([None] * len(rows))
        self.labels.extend(labels)
        self.confidences.extend(confidences)
        self.values.extend(values)
        self.times.extend([record["time"]] * len(rows))
        model = f"{record['model']['name']}:{record['model']['version']}"
        self.models[model] = self.models.get(model, 0) + len(rows)
        self.contracts[record["contract"]] = self.contracts.get(record["contract"], 0) + len(rows)
        self.records += 1
        self.first = min(self.first or record["time"], record["time"])
        self.last = max(self.last or record["time"], record["time"])

    def keep_newest(self, max_rows: int) -> None:
        """Drop the oldest rows beyond `max_rows`."""
        if self.rows <= max_rows:
            return
        order = sorted(range(self.rows), key=self.times.__getitem__)[-max_rows:]
        order.sort()
        self.columns = {k: [v[i] for i in order] for k, v in self.columns.items()}
        self.labels = [self.labels[i] for i in order]
        self.confidences = array("d", (self.confidences[i] for i in order))
        self.values = array("d", (self.values[i] for i in order))
        self.times = [self.times[i] for i in order]
        self.first, self.last = min(self.times), max(self.times)


def _number(value: Any) -> float:
    """A prediction's confidence or value as a float; NaN when absent or not a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return math.nan


def collect(records: Iterable[dict[str, Any] | None], since: datetime, max_rows: int) -> Window:
    """A window of the records at or after `since`, the newest `max_rows` rows at most.

    None stands for an unreadable line or event: counted, never fatal.
    """
    window = Window()
    cutoff = since.astimezone(UTC).isoformat(timespec="milliseconds")
    for record in records:
        if record is None:
            window.unreadable += 1
            continue
        if record.get("time", "") < cutoff:
            continue
        try:
            window.add(record)
        except (KeyError, TypeError, ValueError):
            window.unreadable += 1
            continue
        if window.rows > max_rows * 2:  # trim as we go: memory stays ~2x the window
            window.keep_newest(max_rows)
    window.keep_newest(max_rows)
    return window


def parse_text(text: str) -> Iterator[dict[str, Any] | None]:
    """Capture records in a text: JSON lines, or concatenated JSON values (Firehose batches)."""
    decoder = json.JSONDecoder()
    position, end = 0, len(text)
    while position < end:
        while position < end and text[position] in " \t\r\n":
            position += 1
        if position >= end:
            return
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            yield None
            newline = text.find("\n", position)
            position = end if newline < 0 else newline + 1
            continue
        yield from unwrap(value)


def unwrap(value: Any) -> Iterator[dict[str, Any] | None]:
    """The capture records inside a decoded JSON value.

    A record itself; a Lambda JSON-format log event (`{"message": {...}}` or the record as
    text in `message`); a CloudWatch Logs subscription batch (`{"logEvents": [...]}`). Other
    values (the runtime's own log lines) yield nothing.
    """
    if not isinstance(value, dict):
        return
    if value.get("kind") == CAPTURE_KIND:
        yield value
    elif isinstance(value.get("logEvents"), list):
        if value.get("messageType") != "DATA_MESSAGE":
            return  # CONTROL_MESSAGE: the subscription's own health check
        for event in value["logEvents"]:
            yield from parse_message((event or {}).get("message"))
    elif "message" in value:
        yield from parse_message(value["message"])


def parse_message(message: Any) -> Iterator[dict[str, Any] | None]:
    """The capture record in one log message (a mapping, or its JSON text), if any."""
    if isinstance(message, dict):
        yield from unwrap(message)
    elif isinstance(message, str) and CAPTURE_KIND in message:
        start = message.find("{")
        if start < 0:
            yield None
            return
        try:
            yield from unwrap(json.loads(message[start:]))
        except json.JSONDecodeError:
            yield None


def decode(data: bytes) -> str:
    """Bytes of a capture file or object (gzip by its magic number) as text."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def _days(since: datetime, until: datetime) -> set[str]:
    days, day = set(), since.date()
    while day <= until.date():
        days.add(day.isoformat())
        day += timedelta(days=1)
    return days


def read_folder(
    folder: str | Path, since: datetime, until: datetime
) -> Iterator[dict[str, Any] | None]:
    """Records under `folder` (`date=YYYY-MM-DD/*.jsonl[.gz]`, or any *.jsonl beneath it)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"{folder}: no such capture folder (is capture on? MODELOPS_CAPTURE_DIR)")
    days = _days(since, until)
    for path in sorted([*folder.rglob("*.jsonl"), *folder.rglob("*.jsonl.gz")]):
        partition = next((p[5:] for p in path.parts if p.startswith("date=")), None)
        if partition is not None and partition not in days:
            continue
        yield from read_lines(path)


def read_lines(path: Path) -> Iterator[dict[str, Any] | None]:
    """The records of one capture file (gzip by its magic number), a line at a time.

    Streaming, not `read_bytes()`: a day's file of a busy service holds hundreds of MB, and
    the file's bytes plus its text would otherwise be in memory at once, next to the window.
    """
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        lines: Iterable[bytes] = gzip.GzipFile(fileobj=raw) if gzipped else raw
        for line in lines:
            yield from parse_text(line.decode("utf-8", errors="replace"))


def read_s3(
    url: str, since: datetime, until: datetime, client: Any = None
) -> Iterator[dict[str, Any] | None]:
    """Records of the objects under `s3://bucket/prefix` modified in [since, until + 1 h]."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise SourceError(f"{url}: expected s3://bucket/prefix")
    if client is None:
        import boto3

        client = boto3.client("s3")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = [
            item["Key"]
            for page in pages
            for item in page.get("Contents", [])
            if since <= item["LastModified"] <= until + timedelta(hours=1)
        ]
        for key in sorted(keys):
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            yield from parse_text(decode(body))
    except (BotoCoreError, ClientError) as exc:
        raise SourceError(f"{url}: {exc}") from None


def read_cloudwatch(
    log_group: str,
    since: datetime,
    until: datetime,
    client: Any = None,
    poll_seconds: float = 1.0,
    timeout_seconds: float = 600.0,
) -> Iterator[dict[str, Any] | None]:
    """Records in a log group, through Logs Insights queries.

    A query returns at most INSIGHTS_LIMIT rows: a time range that fills it is split in two and
    each half queried again, so every event of the window is read.
    """
    if client is None:
        import boto3

        client = boto3.client("logs")
    from botocore.exceptions import BotoCoreError, ClientError

    def query(start: int, end: int) -> list[list[dict[str, str]]]:
        try:
            query_id = client.start_query(
                logGroupName=log_group, startTime=start, endTime=end, queryString=INSIGHTS_QUERY
            )["queryId"]
            deadline = time.monotonic() + timeout_seconds
            while True:
                answer = client.get_query_results(queryId=query_id)
                if answer["status"] == "Complete":
                    results: list[list[dict[str, str]]] = answer["results"]
                    return results
                if answer["status"] in ("Failed", "Cancelled", "Timeout", "Unknown"):
                    raise SourceError(f"logs://{log_group}: query {answer['status'].lower()}")
                if time.monotonic() > deadline:
                    raise SourceError(f"logs://{log_group}: query still running after timeout")
                time.sleep(poll_seconds)
        except (BotoCoreError, ClientError) as exc:
            raise SourceError(f"logs://{log_group}: {exc}") from None

    # startTime/endTime are epoch seconds, both inclusive
    pending = [(int(since.timestamp()), int(until.timestamp()))]
    while pending:
        start, end = pending.pop()
        results = query(start, end)
        if len(results) >= INSIGHTS_LIMIT and end > start:
            middle = (start + end) // 2
            pending += [(start, middle), (middle + 1, end)]
            continue
        for row in results:
            fields = {f["field"]: f["value"] for f in row}
            yield from parse_message(fields.get("@message"))


def open_source(
    source: str, since: datetime, until: datetime, **clients: Any
) -> Iterator[dict[str, Any] | None]:
    """The records of `source`: a folder path, `s3://bucket/prefix` or `logs://<log group>`."""
    if source.startswith("s3://"):
        return read_s3(source, since, until, clients.get("s3"))
    if source.startswith("logs://"):
        group = source.removeprefix("logs://")
        if not group:
            raise SourceError("logs:// needs a log group name, e.g. logs:///aws/lambda/my-fn")
        return read_cloudwatch(group, since, until, clients.get("logs"))
    if "://" in source:
        raise SourceError(f"{source}: expected a folder, s3://bucket/prefix or logs://<group>")
    return read_folder(source, since, until)
