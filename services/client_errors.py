"""Client errors (4xx) on the service: one INFO line each, never the client's payload.

BentoML logs every exception of an API at ERROR with its traceback (`log_exception`), and a
pydantic ValidationError's text quotes the offending input (`input_value=...`): a client's
typo became an ERROR alert with personal data in CloudWatch, at log cost per bad request. The
filter below rewrites those records when the error is the client's (status < 500) into one INFO
line naming the route, the status and the error type and count; errors of the server (5xx)
stay at ERROR with their traceback.

Also builds the one 400 body shape the service answers: `{"error": str, "detail": [{"type",
"loc", "msg"}, ...]}`, whether pydantic or the model's input check refused the request.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

# The logger BentoML's `log_exception` writes to (listed in services.bentoml_private).
BENTOML_HTTP_LOGGER = "bentoml._internal.server.http_app"


def client_status(error: BaseException | None) -> int | None:
    """The HTTP status a client error gets (400 for validation), or None for a server error."""
    if isinstance(error, ValidationError):
        return 400
    code = getattr(getattr(error, "error_code", None), "value", None)
    if isinstance(code, int) and 400 <= code < 500:
        return code
    return None


class ClientErrorFilter(logging.Filter):
    """Turn BentoML's ERROR-with-traceback for a 4xx into one INFO line without the payload."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite client-error records in place; let every other record through unchanged."""
        error = record.exc_info[1] if record.exc_info else None
        status = client_status(error)
        if status is None:
            return True
        route = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        count = f", {error.error_count()} error(s)" if isinstance(error, ValidationError) else ""
        record.msg = "client error %s on %s: %s%s"
        record.args = (status, route, type(error).__name__, count)
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def quiet_client_errors() -> None:
    """Install the filter on BentoML's HTTP logger (idempotent)."""
    logger = logging.getLogger(BENTOML_HTTP_LOGGER)
    if not any(isinstance(f, ClientErrorFilter) for f in logger.filters):
        logger.addFilter(ClientErrorFilter())


def bad_request(message: str, loc: tuple[Any, ...] = ("instances",)) -> ValidationError:
    """A 400 in the service's one error shape, from the model's input check `message`.

    Raising `bentoml.exceptions.InvalidArgument` instead makes BentoML 1.4 answer a JSON *list*
    (`[{"error": ...}]`), which matches neither its own OpenAPI document nor a pydantic 400.
    """
    detail: InitErrorDetails = {
        "type": PydanticCustomError("invalid_input", "{message}", {"message": message}),
        "loc": loc,
        "input": None,
    }
    return ValidationError.from_exception_data("Input", [detail])
