"""Prediction capture: what the live model sees, recorded off the application log.

One call per answered request, after the prediction: `capture.record(rows, predictions,
request_id)`. It keeps only the model's contract columns (the card's `feature_schema`, minus
`exclude`), the prediction, the model's name and version, the contract's hash, the request id and
the time: never headers, client addresses or any key outside the contract. It never raises: a
failure is counted (`errors`) and logged once. On the request's path it only samples and hands
the sink a call that builds the record; the file sink builds and writes on its flusher thread.

Sampling is deterministic: a request is captured when a hash of its request id falls under
`sample_rate`, so a retried request is captured (or not) the same way, and two workers agree.
At most `max_rows` rows of a request are kept (the first ones).

Sinks (one record = one request, one JSON line, schema `CAPTURE_KIND` version 1):
- `JsonLinesSink`: files under a folder, `date=YYYY-MM-DD/capture-<host>-<pid>-<start>.jsonl`
  (one file per process, so workers never interleave lines); what `make serve` uses.
- `LogSink`: one JSON line per record on standard output: on AWS Lambda each is one CloudWatch
  Logs event whose message is the record, which Logs Insights queries (and a subscription filter
  can forward to S3).

Configured by environment (`Capture.from_environment`): MODELOPS_CAPTURE=off|dir|log (default:
off, or `dir` when MODELOPS_CAPTURE_DIR is set), MODELOPS_CAPTURE_DIR, MODELOPS_CAPTURE_SAMPLE_RATE
(0..1, default 1), MODELOPS_CAPTURE_MAX_ROWS (default 100), MODELOPS_CAPTURE_EXCLUDE (comma-
separated feature names).

Standard library only: this module is on the serving hot path (and in the Lambda image).
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import hashlib
import itertools
import json
import logging
import math
import os
import socket
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

CAPTURE_KIND = "modelops.capture"
CAPTURE_VERSION = 1
DEFAULT_MAX_ROWS = 100
# A file sink flushes its buffer at least this often (seconds) and at exit. Short, because the
# buffer keeps its requests' objects alive until then: a second's worth of 100-row requests
# filled the collector's oldest generation, whose full collections then stopped the server for
# up to 28-50 ms each (2-5 ms at 0.1 s: `make bench-capture`).
FLUSH_SECONDS = 0.1
# While it builds records, the flusher gives up the interpreter for PAUSE_SECONDS after each
# SLICE_SECONDS of work: otherwise a request thread that wants it back (after its socket or the
# model released it) waits up to Python's switch interval (5 ms), several times per request.
SLICE_SECONDS = 0.001
PAUSE_SECONDS = 0.0002

log = logging.getLogger("modelops.service")


def contract_hash(feature_schema: Sequence[Mapping[str, Any]]) -> str:
    """A short, stable hash of the columns the model takes (names, types, categories).

    The monitor computes the same hash from the model card: a window captured under another
    contract is named as such instead of being compared blindly.
    """
    canonical = json.dumps(list(feature_schema), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def sampled(request_id: str, rate: float) -> bool:
    """Whether the request with this id is captured at `rate` (the same answer every time)."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    return zlib.crc32(request_id.encode()) < rate * 2**32


class Sink(Protocol):
    """Where captured records go.

    The capture hands a sink each record as a call that builds its JSON line (`build`, which
    returns None when the record could not be built: the capture counts that) and the time the
    request was answered. A sink decides when to build: a file sink on its flusher thread, off
    the request's path; the log sink at once, because Lambda freezes the process after the answer.
    """

    def defer(self, stamp: float, build: Callable[[], str | None]) -> None:
        """Take one record answered at `stamp` (seconds since the epoch)."""

    def flush(self) -> None:
        """Push anything buffered to storage."""


def _day(stamp: float) -> str:
    """The UTC day (YYYY-MM-DD) of a time in seconds since the epoch."""
    return time.strftime("%Y-%m-%d", time.gmtime(stamp))


class JsonLinesSink:
    """Records as JSON lines in one file per process and day under `folder`."""

    def __init__(self, folder: str | Path, clock: Any = time.time):
        self.folder = Path(folder)
        started = datetime.fromtimestamp(clock(), UTC).strftime("%Y%m%dT%H%M%S")
        self.stem = f"capture-{socket.gethostname()}-{os.getpid()}-{started}"
        self.lock = threading.Lock()  # the buffer; held only to append or swap it
        self.write_lock = threading.Lock()  # the files: one writer at a time, in order
        self.buffer: list[tuple[float, Callable[[], str | None]]] = []
        self.flusher: threading.Thread | None = None
        atexit.register(self.flush)

    def path_for(self, day: str) -> Path:
        """The file records of `day` (YYYY-MM-DD) go to."""
        return self.folder / f"date={day}" / f"{self.stem}.jsonl"

    def defer(self, stamp: float, build: Callable[[], str | None]) -> None:
        """Buffer the record: a request never waits for building it or for the disk.

        The buffer is written out every FLUSH_SECONDS (a background thread) and at exit; each
        record goes to the file of the day it was answered.
        """
        with self.lock:
            self.buffer.append((stamp, build))
            if self.flusher is None:  # started by the first record, in the serving process
                self.flusher = threading.Thread(
                    target=self._flush_periodically, name="capture-flush", daemon=True
                )
                self.flusher.start()

    def _flush_periodically(self) -> None:
        """Write the buffer out every FLUSH_SECONDS, off the request path."""
        while True:
            time.sleep(FLUSH_SECONDS)
            try:
                self.flush()
            except Exception as exc:  # a full disk must not kill the thread: retried next time
                log.error("prediction capture flush failed: %s: %s", type(exc).__name__, exc)

    def flush(self) -> None:
        """Build the buffered records and append them to their day's file.

        The buffer is swapped under `lock` and written outside it: requests keep buffering
        while the records are built and written.
        """
        with self.lock:
            entries, self.buffer = self.buffer, []
        if not entries:
            return
        with self.write_lock:
            days: dict[int, list[str]] = {}  # by whole UTC days since the epoch
            slice_ends = time.perf_counter() + SLICE_SECONDS
            for stamp, build in entries:
                line = build()
                if line:
                    days.setdefault(int(stamp // 86_400), []).append(line)
                if time.perf_counter() > slice_ends:  # let waiting requests run
                    time.sleep(PAUSE_SECONDS)
                    slice_ends = time.perf_counter() + SLICE_SECONDS
            for number, lines in sorted(days.items()):
                path = self.path_for(_day(number * 86_400))
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as handle:
                    handle.write("\n".join(lines) + "\n")


class LogSink:
    """Records as JSON lines on standard output: CloudWatch Logs events on Lambda.

    Each record is one line, written and flushed whole, so each becomes one log event whose
    message is the record's JSON: Logs Insights discovers its fields, a subscription filter can
    select `{ $.kind = "modelops.capture" }`. Written directly, not through `logging`: the
    runtime's JSON log formatter cost ~150 us per record against ~40 us for the line itself
    (measured, `make bench-monitor`), on a warm invocation of ~0.6 ms.
    """

    def __init__(self, stream: Any = None):
        self.stream = stream
        self.lock = threading.Lock()

    def defer(self, stamp: float, build: Callable[[], str | None]) -> None:
        """Build the line and write it at once, flushed.

        Lambda may freeze the process once the answer is sent, so nothing waits for later here.
        """
        line = build()
        if not line:
            return
        stream = self.stream or sys.stdout
        with self.lock:
            stream.write(line + "\n")
            stream.flush()

    def flush(self) -> None:
        """Nothing is buffered here."""


@dataclasses.dataclass(slots=True)
class Answered:
    """What the capture keeps of one answered request until its record is built."""

    rows: Sequence[Mapping[str, Any]]  # the first `max_rows` of the request's rows
    predictions: Sequence[Mapping[str, Any]]  # their answers
    request_id: str
    stamp: float  # when it was answered, seconds since the epoch
    dropped: int  # rows past `max_rows`, not kept


class Capture:
    """Records the predictions of one model; `record` is the one call the service makes."""

    def __init__(
        self,
        feature_schema: Sequence[Mapping[str, Any]],
        model: Mapping[str, Any],
        sink: Sink,
        *,
        sample_rate: float = 1.0,
        max_rows: int = DEFAULT_MAX_ROWS,
        exclude: Sequence[str] = (),
        clock: Any = time.time,
    ):
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"capture sample rate must be between 0 and 1, got {sample_rate}")
        if max_rows < 1:
            raise ValueError(f"capture max rows must be at least 1, got {max_rows}")
        names = [str(entry["name"]) for entry in feature_schema]
        unknown = sorted(set(exclude) - set(names))
        if unknown:
            raise ValueError(f"capture exclude names no feature of the model: {', '.join(unknown)}")
        self.columns = [name for name in names if name not in set(exclude)]
        self.model = {"name": str(model.get("name")), "version": str(model.get("version"))}
        self.contract = contract_hash(feature_schema)
        # the part of every record that does not change, serialised once: `{"kind":...,` with
        # the model, the contract and the columns (about half of a one-row record's line)
        fixed = {
            "kind": CAPTURE_KIND,
            "v": CAPTURE_VERSION,
            "model": self.model,
            "contract": self.contract,
            "columns": self.columns,
        }
        self._head = json.dumps(fixed, separators=(",", ":"))[:-1] + ","
        # made once: json.dumps with options builds a new encoder on every call
        self._encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
        # ids for requests that come without one: unique per process, no random read per call
        self._id_prefix = uuid.uuid4().hex[:12]
        self._ids = itertools.count(1)
        self._second: tuple[int, str] = (-1, "")  # the last second formatted, and its text
        self.sink = sink
        self.sample_rate = sample_rate
        self.max_rows = max_rows
        self.clock = clock
        self.captured = 0  # rows written
        self.skipped = 0  # requests not sampled
        self.errors = 0
        self._logged_error = False

    @classmethod
    def from_environment(
        cls, card: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None
    ) -> Capture | None:
        """The capture the environment asks for (module doc), or None when it is off.

        Raises:
            ValueError: a setting is malformed (named), so a misconfigured service fails at
                start, not silently at every request.

        """
        env = os.environ if environ is None else environ
        folder = env.get("MODELOPS_CAPTURE_DIR", "")
        mode = env.get("MODELOPS_CAPTURE", "dir" if folder else "off").strip().lower()
        if mode in ("", "off", "0", "false") or card is None:
            return None
        if mode == "dir":
            if not folder:
                raise ValueError("MODELOPS_CAPTURE=dir needs MODELOPS_CAPTURE_DIR (a folder)")
            sink: Sink = JsonLinesSink(folder)
        elif mode == "log":
            sink = LogSink()
        else:
            raise ValueError(f"MODELOPS_CAPTURE={mode!r}: expected off, dir or log")
        try:
            rate = float(env.get("MODELOPS_CAPTURE_SAMPLE_RATE", "1") or 1)
            max_rows = int(env.get("MODELOPS_CAPTURE_MAX_ROWS", str(DEFAULT_MAX_ROWS)))
        except ValueError as exc:
            raise ValueError(f"MODELOPS_CAPTURE_SAMPLE_RATE / _MAX_ROWS: {exc}") from None
        exclude = [
            n.strip() for n in env.get("MODELOPS_CAPTURE_EXCLUDE", "").split(",") if n.strip()
        ]
        return cls(
            card["feature_schema"],
            card,
            sink,
            sample_rate=rate,
            max_rows=max_rows,
            exclude=exclude,
        )

    def record(
        self,
        rows: Sequence[Mapping[str, Any]],
        predictions: Sequence[Mapping[str, Any]],
        request_id: str | None = None,
    ) -> None:
        """Capture one answered request (never raises: an error is counted and logged once).

        On the request's path: the sampling decision, the time and two slices. The record is
        built when the sink asks for it (`Sink.defer`).
        """
        try:
            request_id = request_id or f"{self._id_prefix}-{next(self._ids)}"
            if not sampled(request_id, self.sample_rate):
                self.skipped += 1
                return
            kept = min(len(rows), len(predictions), self.max_rows)
            answered = Answered(
                rows[:kept],
                predictions[:kept],
                str(request_id)[:128],
                self.clock(),
                len(rows) - kept,
            )
            self.sink.defer(answered.stamp, functools.partial(self._build, answered))
        except Exception as exc:  # capture must never fail or slow a prediction
            self._failed(exc)

    def line(self, answered: Answered) -> str:
        """One request's record as its JSON line (schema `CAPTURE_KIND`, module doc)."""
        varying = {
            "time": self._time(answered.stamp),
            "request_id": answered.request_id,
            "rows": [[_cell(row.get(name)) for name in self.columns] for row in answered.rows],
            "predictions": [_prediction(p) for p in answered.predictions],
            "dropped_rows": answered.dropped,
        }
        return self._head + self._encode(varying)[1:]

    def _time(self, stamp: float) -> str:
        """`stamp` as ISO 8601 to the millisecond in UTC, as `datetime.isoformat` writes it.

        The date and time of day are formatted once a second; the fraction is rounded to the
        microsecond as `datetime.fromtimestamp` rounds it, then cut to milliseconds.
        """
        whole = math.floor(stamp)
        micro = round((stamp - whole) * 1_000_000)
        second = whole + micro // 1_000_000
        cached = self._second
        if cached[0] != second:
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            cached = self._second = (second, text)
        return f"{cached[1]}.{micro % 1_000_000 // 1000:03d}+00:00"

    def _build(self, answered: Answered) -> str | None:
        """`line`, when the sink builds it: a failure is counted and logged once, never raised."""
        try:
            built = self.line(answered)
        except Exception as exc:
            self._failed(exc)
            return None
        self.captured += len(answered.rows)
        return built

    def _failed(self, exc: Exception) -> None:
        """Count a capture failure; log the first one."""
        self.errors += 1
        if not self._logged_error:
            self._logged_error = True
            log.error(
                "prediction capture failed (counted, not raised; later failures are not "
                "logged): %s: %s",
                type(exc).__name__,
                exc,
            )

    def flush(self) -> None:
        """Write out what the sink buffers (tests, shutdown)."""
        try:
            self.sink.flush()
        except Exception as exc:
            self.errors += 1
            log.error("prediction capture flush failed: %s: %s", type(exc).__name__, exc)


# What a JSON request's cells are: kept as they are, without the checks below (a 100-row
# record's cells are most of the cost of building it).
_PLAIN = frozenset({str, int, bool, type(None)})


def _cell(value: Any) -> Any:
    """A raw cell as JSON can carry it: NaN is null; NumPy scalars become Python values."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _prediction(prediction: Mapping[str, Any]) -> dict[str, Any]:
    """What the monitor needs of one answer: the label or value, and the model's confidence."""
    if "value" in prediction:
        return {"value": _cell(prediction["value"])}
    kept: dict[str, Any] = {"label": _cell(prediction.get("label"))}
    probabilities = prediction.get("probabilities") or {}
    if probabilities:
        kept["confidence"] = round(float(max(probabilities.values())), 6)
    if "probability" in prediction:
        kept["probability"] = _cell(prediction["probability"])
    return kept
