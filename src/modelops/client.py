"""A Python client for the prediction service: score a DataFrame from a notebook in one call.

    from modelops.client import Client
    client = Client("http://127.0.0.1:3000")            # or a Lambda function URL
    scored = frame.join(client.predict(frame))          # label, probability, ... per row

`Client(url, auth="aws_iam")` signs every request with SigV4 (botocore, with the usual AWS
credentials) for a function URL whose auth type is AWS_IAM. Big inputs are split into the
server's maximum batch (`max_instances` from `/metadata`), and a batch the server finds too big
(413, or a connection it drops) is halved; connection errors and 429/502/503/504 are retried
with backoff (urllib3 Retry), a `Retry-After` obeyed up to `max_retry_after`. Each call ends
within `deadline` seconds, its retries, waits and the answer's body included. From a shell:

    python -m modelops.client predict URL in.csv out.csv [--auth aws_iam] [--id-column id]

Light on purpose: it needs requests and pandas (botocore only for `aws_iam`), nothing else of
this project, so a notebook or another service can install and import it alone.
"""

from __future__ import annotations

import argparse
import contextvars
import io
import json
import math
import os
import re
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, TextIO

import pandas as pd
import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_DEADLINE_S = 120.0
DEFAULT_MAX_RETRY_AFTER_S = 30.0
DEFAULT_RETRIES = 5
READ_CHUNK = 64 * 1024
DEFAULT_BATCH = 1000  # when the server does not say (`max_instances` in /metadata)
RETRY_STATUSES = (429, 502, 503, 504)
AUTH_MODES = (None, "none", "aws_iam")
# <url-id>.lambda-url.<region>.on.aws: the region a function URL lives in
FUNCTION_URL_REGION = re.compile(r"\.lambda-url\.([a-z0-9-]+)\.on\.aws$")


class ClientError(Exception):
    """Anything the client cannot do; the message says what and where."""


class ServerUnreachable(ClientError):
    """No answer from the URL (refused, DNS, timeout), after the retries."""


class ConnectionDropped(ServerUnreachable):
    """The server took the connection and closed it mid-request (reset, broken pipe).

    A server over its body limit may do that instead of answering 413: a batch is halved.
    """


class DeadlineExceeded(ServerUnreachable):
    """The call (retries, waits and the answer's body) did not finish within `deadline`."""


class BadAnswer(ClientError):
    """The server answered, but not with what the API promises (not JSON, a wrong shape)."""


class RequestRejected(ClientError):
    """The server answered 4xx or 5xx; `status` and the server's own `message` are kept."""

    def __init__(self, url: str, status: int, message: str):
        super().__init__(f"{url} answered {status}: {message}")
        self.url, self.status, self.message = url, status, message


# The end of the current call (time.monotonic()), for the Retry below. urllib3 creates a new
# Retry at every attempt from the one the adapter holds, and requests offers no per-call
# Retry, so the deadline travels in a context variable: each thread (concurrent batches) and
# each call sees its own.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "modelops_client_deadline", default=None
)


class DeadlineRetry(Retry):
    """urllib3's Retry that never waits past the call's deadline nor longer than a cap.

    A `Retry-After` is obeyed up to `max_retry_after` seconds; a wait (Retry-After or backoff)
    that would end past the deadline is not started: the call fails at once. 413 is not
    retried on its Retry-After: the body is too big, and the client halves the batch instead.
    """

    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})

    def __init__(self, *args: Any, max_retry_after: float = DEFAULT_MAX_RETRY_AFTER_S, **kw: Any):
        super().__init__(*args, **kw)
        self.max_retry_after = max_retry_after

    def new(self, **kw: Any) -> DeadlineRetry:
        """A copy with `kw` changed, keeping the cap (urllib3 calls this at every attempt)."""
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after
        return retry

    def get_retry_after(self, response: Any) -> float | None:
        """The server's Retry-After in seconds, capped at `max_retry_after`."""
        asked = super().get_retry_after(response)
        return None if asked is None else min(asked, self.max_retry_after)

    def sleep(self, response: Any = None) -> None:
        """Wait before the next attempt, unless the wait would end past the deadline.

        Raises:
            DeadlineExceeded: the wait would end past the call's deadline.

        """
        wait = None
        if self.respect_retry_after_header and response is not None:
            wait = self.get_retry_after(response)
        if wait is None:
            wait = self.get_backoff_time()
        deadline = _DEADLINE.get()
        if deadline is not None and time.monotonic() + wait >= deadline:
            raise DeadlineExceeded(
                f"gave up: the next attempt (in {wait:g} s) would start after the deadline"
            )
        if wait > 0:
            time.sleep(wait)


class SigV4Auth(requests.auth.AuthBase):
    """Sign each request for the `lambda` service, as an AWS_IAM function URL requires."""

    def __init__(self, region: str, credentials: Any = None):
        import botocore.session  # only for aws_iam: the client imports without botocore

        self.region = region
        found = credentials or botocore.session.get_session().get_credentials()
        if found is None:
            raise ClientError(
                "auth='aws_iam' but no AWS credentials were found "
                "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role)"
            )
        self.credentials = found

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add Authorization, X-Amz-Date (and X-Amz-Security-Token) to `request`."""
        from botocore.auth import SigV4Auth as BotocoreSigV4
        from botocore.awsrequest import AWSRequest

        # Sign what will be sent; hop-by-hop headers may be changed on the way, so they are not.
        headers = {k: v for k, v in request.headers.items() if k.lower() != "connection"}
        aws_request = AWSRequest(
            method=request.method, url=request.url, data=request.body, headers=headers
        )
        frozen = self.credentials.get_frozen_credentials()
        BotocoreSigV4(frozen, "lambda", self.region).add_auth(aws_request)
        request.headers.update(dict(aws_request.headers.items()))
        return request


def region_of(url: str) -> str | None:
    """The AWS region of a Lambda function URL, else AWS_REGION / AWS_DEFAULT_REGION."""
    host = urllib.parse.urlparse(url).hostname or ""
    match = FUNCTION_URL_REGION.search(host)
    if match:
        return match.group(1)
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def _server_message(content: bytes, reason: str) -> str:
    """The server's reason, from its JSON body (`error`, pydantic `detail`) or its text."""
    try:
        body = json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace").strip()[:500] or reason or ""
    if not isinstance(body, dict):
        return json.dumps(body)[:500]
    details = body.get("detail")
    if isinstance(details, list) and details:
        parts = []
        for item in details[:5]:
            if isinstance(item, dict):
                where = ".".join(str(part) for part in item.get("loc", []))
                parts.append(f"{where}: {item.get('msg', '')}" if where else str(item.get("msg")))
        if parts:
            return "; ".join(parts)
    for key in ("error", "detail", "message"):
        if body.get(key):
            return str(body[key])
    return json.dumps(body)[:500]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: missing (NaN, None, NaT) is null, numpy scalars are Python's."""
    cleaned = frame.astype(object).where(frame.notna(), None)
    columns = [str(column) for column in frame.columns]
    return [
        {
            name: value.item() if hasattr(value, "item") else value
            for name, value in zip(columns, row, strict=True)
        }
        for row in cleaned.itertuples(index=False, name=None)
    ]


def _number(value: Any) -> Any:
    """A number written as text ("1.5") as a float; anything else as it is."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _numbers_as_numbers(frame: pd.DataFrame, schema: list[dict[str, Any]]) -> pd.DataFrame:
    """Number features read as text (one bad cell makes a CSV column text) back to numbers.

    Only the cells that are not numbers stay text, so the server's error names the right row.
    """
    text = [
        feature["name"]
        for feature in schema
        if feature.get("type", "number") == "number"
        and not pd.api.types.is_numeric_dtype(frame[feature["name"]])  # text or object
    ]
    if not text:
        return frame
    return frame.assign(**{name: frame[name].map(_number) for name in text})


def _columns(predictions: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Prediction columns exactly as `make score` writes them.

    `label`, `probability` (binary: of the positive class) and one `proba_<class>` per class for
    classification; `value` for regression.
    """
    columns: dict[str, list[Any]] = {}
    for position, prediction in enumerate(predictions):
        flat = {key: value for key, value in prediction.items() if key != "probabilities"}
        if "probabilities" in prediction:
            flat |= {f"proba_{k}": v for k, v in prediction["probabilities"].items()}
        for key, value in flat.items():
            columns.setdefault(key, [None] * position).append(value)
        for values in columns.values():  # a key this row lacks
            if len(values) <= position:
                values.append(None)
    return columns


class Client:
    """The prediction service at `url`: `predict`, `metadata`, `ready`.

    Args:
        url: base URL of the service (`http://127.0.0.1:3000`, a Lambda function URL, ...).
        auth: None (or "none") for an open URL, "aws_iam" to SigV4-sign for an AWS_IAM
            function URL (credentials from the usual AWS environment or profile).
        timeout: seconds to wait for a connection, and for each read of an answer.
        retries: how often a connection error or a 429/502/503/504 is retried, with
            exponential backoff (a cold start, a throttled function).
        backoff: backoff factor: waits of backoff, 2*backoff, 4*backoff ... seconds.
        region: AWS region for signing; default from a function URL's host, else AWS_REGION.
        batch_size: rows per request; default the server's `max_instances` (from /metadata).
        deadline: seconds one call may take in all: its attempts, the waits between them and
            reading the answer (a server dripping its answer is cut off).
        max_retry_after: the longest `Retry-After` obeyed, in seconds (a longer one is waited
            this long).

    Raises:
        ClientError: a bad `auth`, or aws_iam without credentials or region.

    """

    def __init__(
        self,
        url: str,
        auth: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 0.5,
        region: str | None = None,
        batch_size: int | None = None,
        deadline: float = DEFAULT_DEADLINE_S,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER_S,
    ):
        if auth not in AUTH_MODES:
            raise ClientError(f"auth={auth!r}: use None, 'none' or 'aws_iam'")
        if not url or not url.startswith(("http://", "https://")):
            raise ClientError(f"url {url!r}: give the service's base URL, http:// or https://")
        if batch_size is not None and batch_size < 1:
            raise ClientError(f"batch_size={batch_size}: must be at least 1")
        if deadline <= 0 or timeout <= 0:
            raise ClientError(f"timeout={timeout}, deadline={deadline}: both must be positive")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.deadline = deadline
        self.batch_size = batch_size
        self._metadata: dict[str, Any] | None = None
        retry = DeadlineRetry(
            total=retries,  # connection, read and status failures all count against it
            backoff_factor=backoff,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD", "POST"}),  # /predict has no side effects
            respect_retry_after_header=True,
            raise_on_status=False,  # the last answer is returned, and its message reported
            max_retry_after=max_retry_after,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if auth == "aws_iam":
            signing_region = region or region_of(self.url)
            if not signing_region:
                raise ClientError(
                    f"auth='aws_iam' for {self.url}: set AWS_REGION (or pass region=)"
                )
            self.session.auth = SigV4Auth(signing_region)
        # ready() asks once: "not yet" is an answer, not something to wait out with backoff
        self._probe = requests.Session()
        self._probe.auth = self.session.auth

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One call to `path`, retried as configured, its answer read within the deadline.

        Raises:
            ServerUnreachable: no answer from the URL after the retries (DeadlineExceeded: not
                within the deadline; ConnectionDropped: the server closed the connection).
            RequestRejected: a 4xx/5xx answer, carrying the server's message.

        """
        url = self.url + path
        deadline = time.monotonic() + self.deadline
        token = _DEADLINE.set(deadline)
        try:
            response = self.session.request(
                method, url, timeout=(self.timeout, self.timeout), stream=True, **kwargs
            )
        except requests.exceptions.RetryError as exc:  # retries used up on 429/5xx answers
            raise RequestRejected(url, 503, f"still failing after retries ({exc})") from None
        except DeadlineExceeded as exc:
            raise DeadlineExceeded(
                f"no answer from {url} within {self.deadline:g} s: {exc}"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            if _dropped(exc):
                raise ConnectionDropped(f"{url} closed the connection: {_reason(exc)}") from None
            raise ServerUnreachable(f"cannot reach {url}: {_reason(exc)}") from None
        except requests.exceptions.Timeout:
            raise ServerUnreachable(f"no answer from {url} within {self.timeout:g} s") from None
        finally:
            _DEADLINE.reset(token)
        content = self._read(response, url, deadline)
        if response.status_code >= 400:
            raise RequestRejected(
                url, response.status_code, _server_message(content, response.reason)
            )
        response.raw = io.BytesIO(content)  # read already: `.content`, `.json()` take it from here
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """`request`, and the answer's JSON.

        Raises:
            BadAnswer: a 2xx answer whose body is not JSON (and what `request` raises).

        """
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            content = response.content
            kind = response.headers.get("content-type") or "no content type"
            start = content[:80].decode("utf-8", "replace")
            raise BadAnswer(
                f"{self.url}{path} answered {response.status_code} with a body that is not JSON "
                f"({kind}, {len(content)} bytes: {start!r})"
            ) from None

    def _read(self, response: requests.Response, url: str, deadline: float) -> bytes:
        """The answer's body, read before the deadline (a read timeout alone never ends a drip).

        Raises:
            DeadlineExceeded: the body was still arriving at the deadline.
            ServerUnreachable: the connection failed while reading.

        """
        chunks: list[bytes] = []
        try:
            while True:
                if time.monotonic() >= deadline:
                    raise DeadlineExceeded(
                        f"{url}: the answer was still arriving after {self.deadline:g} s "
                        f"({sum(map(len, chunks))} bytes so far)"
                    )
                # read1: at most one read from the socket, so a drip is checked between bytes
                chunk = response.raw.read1(READ_CHUNK, decode_content=True)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ServerUnreachable(f"{url}: the answer broke off ({_reason(exc)})") from None
        finally:
            response.close()

    def ready(self) -> bool:
        """Whether the service is up with its model loaded (`/readyz` answers 200), asked once."""
        try:
            return self._probe.get(self.url + "/readyz", timeout=self.timeout).ok
        except requests.RequestException:
            return False

    def metadata(self, refresh: bool = False) -> dict[str, Any]:
        """The model card the service serves (name, version, metrics, feature_schema, ...)."""
        if self._metadata is None or refresh:
            card = self.call("GET", "/metadata")
            if not isinstance(card, dict):
                raise BadAnswer(f"{self.url}/metadata: the answer is not a model card")
            self._metadata = card
        return self._metadata

    def features(self) -> list[str]:
        """The feature names the model takes, in the order of its schema."""
        return [feature["name"] for feature in self.metadata().get("feature_schema", [])]

    def max_batch(self) -> int:
        """Rows per request: `batch_size` if given, else the server's `max_instances`."""
        if self.batch_size is not None:
            return self.batch_size
        return int(self.metadata().get("max_instances") or DEFAULT_BATCH)

    def predict_records(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """POST one batch of raw rows; the predictions in order.

        A batch the server finds too big (413, or a connection it drops while taking the body)
        is sent again as two halves; a single row too big for the server is an error.

        Raises:
            RequestRejected: the server refused the rows (a single row over its size limit:
                status 413, saying so).
            BadAnswer: not one prediction per row.

        """
        try:
            body = self.call("POST", "/predict", json={"instances": records})
        except RequestRejected as exc:
            if exc.status != 413:
                raise
            if len(records) < 2:
                size = len(json.dumps({"instances": records}, default=str).encode())
                raise RequestRejected(
                    exc.url,
                    413,
                    f"one row alone ({size:,} bytes as JSON) is over the "
                    f"server's size limit: {exc.message}",
                ) from None
            return self._halves(records)
        except ConnectionDropped:
            if len(records) < 2:
                raise
            return self._halves(records)
        predictions = body.get("predictions") if isinstance(body, dict) else None
        if not isinstance(predictions, list) or len(predictions) != len(records):
            raise BadAnswer(f"{self.url}/predict: answer without one prediction per row")
        return predictions

    def _halves(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        half = len(records) // 2
        return self.predict_records(records[:half]) + self.predict_records(records[half:])

    def predict(
        self,
        data: pd.DataFrame | Iterable[Mapping[str, Any]],
        id_column: str | None = None,
        progress: Callable[[int], Any] | None = None,
        concurrency: int = 1,
    ) -> pd.DataFrame:
        """Predict every row of `data` (a DataFrame or a list of {feature: value} dicts).

        Only the model's features are sent (other columns are ignored); missing values go as
        null, for the model to impute. Rows go in batches of the server's maximum.

        Args:
            data: the rows, with the model's raw feature columns.
            id_column: a column passed through to the result (and not sent).
            progress: called with the number of rows after each batch (a progress bar).
            concurrency: batches in flight at once (against Lambda, each runs on its own
                instance; a one-process local server gains little).

        Returns:
            One row per input row, with the input's index: `id_column` first if given, then
            the prediction columns (`label`, `probability`, `proba_<class>` for
            multiclass; `value` for regression).

        Raises:
            ClientError: missing features or id column, or a batch the server refused
                (RequestRejected: the server's message, naming the rows it was sent).

        """
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
        if id_column is not None and id_column not in frame.columns:
            raise ClientError(f"id_column {id_column!r} is not a column of the input")
        features = self.features()
        if features:
            missing = [name for name in features if name not in frame.columns]
            if missing:
                raise ClientError(
                    f"input lacks the model's features: {', '.join(missing)} "
                    f"(the model takes: {', '.join(features)})"
                )
            to_send = _numbers_as_numbers(frame[features], self.metadata()["feature_schema"])
        else:
            to_send = frame.drop(columns=[id_column] if id_column else [])
        size = self.max_batch()
        starts = range(0, len(to_send), size)

        def batch(start: int) -> list[dict[str, Any]]:
            chunk = to_send.iloc[start : start + size]
            try:
                return self.predict_records(_records(chunk))
            except RequestRejected as exc:
                where = f"rows {start}-{start + len(chunk) - 1}"
                raise RequestRejected(exc.url, exc.status, f"{where}: {exc.message}") from None

        parts: dict[int, list[dict[str, Any]]] = {}
        if concurrency <= 1 or len(starts) <= 1:
            for start in starts:
                parts[start] = batch(start)
                if progress is not None:
                    progress(len(parts[start]))
        else:
            # Batches in flight at once: a Lambda function URL runs each on its own instance.
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                futures = {pool.submit(batch, start): start for start in starts}
                try:
                    for future in as_completed(futures):
                        parts[futures[future]] = future.result()
                        if progress is not None:
                            progress(len(parts[futures[future]]))
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
        predictions = [prediction for start in starts for prediction in parts[start]]
        result = pd.DataFrame(_columns(predictions), index=frame.index)
        if id_column is not None:
            result.insert(0, id_column, frame[id_column])
        return result


def _dropped(exc: requests.exceptions.ConnectionError) -> bool:
    """Whether the connection was made and then closed mid-request (not refused, not DNS)."""
    cause: Any = exc.args[0] if exc.args else None
    if isinstance(cause, urllib3.exceptions.MaxRetryError):
        cause = cause.reason
    return isinstance(cause, urllib3.exceptions.ProtocolError | ConnectionResetError)


def _reason(exc: Exception) -> str:
    """The innermost cause of a connection error, without urllib3's object reprs."""
    # the first argument is the wrapped error or the message (requests, urllib3), but an
    # OSError(errno, text) from a socket reads as a whole: "[Errno 104] Connection reset by peer"
    whole = getattr(exc, "errno", None) is not None or not exc.args
    text = str(exc if whole else exc.args[0])
    match = re.search(r"\[Errno [^\]]+\][^')]*|Failed to resolve[^)']*|timed out", text)
    return match.group(0).strip() if match else text[:300]


class ProgressBar:
    """A one-line progress bar on stderr (no dependency): rows done, of total, rows/s."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30):
        self.total, self.done, self.width = total, 0, width
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def __call__(self, rows: int) -> None:
        """Advance by `rows` and redraw."""
        self.done += rows
        share = self.done / self.total if self.total else 1.0
        filled = math.floor(share * self.width)
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(
            f"\rscoring [{bar}] {self.done}/{self.total} rows {share:4.0%} {rate:,.0f} rows/s"
        )
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise ClientError(f"{path}: use a .csv or .parquet file, not {suffix or 'no suffix'!r}")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write `frame` to `path` (CSV or Parquet) atomically: a failure leaves `path` as it was."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ClientError(f"{path}: use a .csv or .parquet file, not {suffix or 'no suffix'!r}")
    partial = path.with_name(f".{path.name}.partial")
    try:
        if suffix == ".csv":
            frame.to_csv(partial, index=False)
        else:
            frame.to_parquet(partial, index=False)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """`python -m modelops.client predict URL in.csv out.csv`: the input plus predictions."""
    parser = argparse.ArgumentParser(
        prog="python -m modelops.client",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="score a CSV/Parquet file through the service")
    predict.add_argument("url", help="base URL of the service")
    predict.add_argument("input", type=Path, help="CSV or Parquet with the model's features")
    predict.add_argument("output", type=Path, help="CSV or Parquet: the input plus predictions")
    predict.add_argument(
        "--auth",
        choices=["none", "aws_iam"],
        default="none",
        help="aws_iam: sign with SigV4 for an AWS_IAM function URL (default: %(default)s)",
    )
    predict.add_argument("--id-column", help="keep only this column of the input, plus predictions")
    predict.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="seconds to wait for a connection and for each read (default: %(default)g)",
    )
    predict.add_argument(
        "--deadline",
        type=float,
        default=DEFAULT_DEADLINE_S,
        help="seconds per call, in all (default: %(default)g)",
    )
    predict.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        help="retries of a connection error or a 429/502/503/504 (default: %(default)s)",
    )
    predict.add_argument("--batch-size", type=int, help="rows per request (default: the server's)")
    predict.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="batches in flight at once (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        if not args.input.is_file():
            raise ClientError(f"{args.input}: file not found")
        frame = read_table(args.input)
        client = Client(args.url, auth=args.auth, timeout=args.timeout, retries=args.retries,
                        batch_size=args.batch_size, deadline=args.deadline)  # fmt: skip
        predictions = client.predict(
            frame, args.id_column, ProgressBar(len(frame)), concurrency=args.concurrency
        )
        if args.id_column is None:
            clashing = {c: f"{c}_predicted" for c in predictions.columns if c in frame.columns}
            predictions = pd.concat([frame, predictions.rename(columns=clashing)], axis=1)
        write_table(predictions, args.output)
    except (ClientError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    model = client.metadata()
    print(f"scored {len(frame)} rows with {model.get('name')} v{model.get('version')} "
          f"-> {args.output}", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
