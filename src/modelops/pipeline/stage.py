"""How a pipeline stage runs: parse its paths, log progress, turn known failures into one line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable

from modelops.params import ParamsError
from modelops.pipeline.data import DataError
from modelops.pipeline.selection import GateRefused
from modelops.serving.inference import InputError, ModelLoadError

log = logging.getLogger("modelops")

EXPECTED_FAILURES: tuple[type[BaseException], ...] = (
    ParamsError,
    DataError,
    GateRefused,
    FileNotFoundError,
    InputError,
    ModelLoadError,
)


class StageFailed(RuntimeError):
    """A stage found a problem it has already explained; exit non-zero with this summary."""


def stage_parser(stage: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every stage takes."""
    parser = argparse.ArgumentParser(prog=f"pipelines.{stage}", description=description)
    parser.add_argument(
        "--params", default="params.yaml", help="params file (default: %(default)s)"
    )
    return parser


class _DropKnownWarnings(logging.Filter):
    """Drop warnings about choices this project makes on purpose."""

    KNOWN = (
        "pickle or cloudpickle format",  # models are cloudpickled so serving needs no mlflow
        "Failed to resolve installed pip version",  # uv venvs carry no pip
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(text in record.getMessage() for text in self.KNOWN)


def quiet_libraries() -> None:
    """Keep library chatter out of the stage log; the stage's own progress is what matters."""
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    # mlflow would otherwise copy uv.lock and pyproject.toml into every model artifact.
    os.environ.setdefault("MLFLOW_LOG_UV_FILES", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in ("mlflow.sklearn", "mlflow.utils.environment"):
        logging.getLogger(name).addFilter(_DropKnownWarnings())
    for name in ("alembic", "great_expectations", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run_stage(
    stage: str, main: Callable[[argparse.Namespace], None], parser: argparse.ArgumentParser
) -> None:
    """Run a stage's `main` and exit: 0 on success, 1 with a one-line reason on a known failure."""
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {stage}: %(message)s", datefmt="%H:%M:%S"
    )
    quiet_libraries()
    from modelops.pipeline.tracking import TrackingError

    handled: tuple[type[BaseException], ...] = (*EXPECTED_FAILURES, TrackingError, StageFailed)
    try:
        main(args)
    except handled as exc:
        print(f"error: {stage}: {exc}", file=sys.stderr)
        sys.exit(1)
