"""`make monitor`: read a window of captured predictions, compare it with the reference, report.

    python -m modelops.monitoring.monitor --source <folder | s3://bucket/prefix | logs://group>
        [--reference models/reference.json] [--contract contract.yaml] [--params params.yaml]
        [--output reports/monitor] [--days N] [--until ISO-time]

Writes `drift.json` and `drift.html` under `--output` (atomically: a failed run leaves the
previous report) and prints a one-screen summary. Exit 0 whatever the verdict (the workflow reads
`drift.json`); 1 when something cannot be read, with a message naming it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from modelops.monitoring.drift import compare, fingerprint
from modelops.monitoring.report import render_html, summary
from modelops.monitoring.window import SourceError, collect, open_source
from modelops.params import ParamsError, load_params
from modelops.pipeline.contract import read_contract
from modelops.pipeline.data import DataError
from modelops.storage import read_json, write_json, write_text


def capture_environment(params_path: str, environ: Mapping[str, str]) -> list[str]:
    """`NAME=value` settings of the service's capture from params.yaml `monitor:`.

    Variables already set in `environ` win (a person's explicit choice); `make serve` exports the
    rest, so the capture follows the same params the reference and the comparison do.
    """
    (params,) = load_params(params_path, "monitor")
    wanted = {
        "MODELOPS_CAPTURE_SAMPLE_RATE": f"{params.sample_rate:g}",
        "MODELOPS_CAPTURE_MAX_ROWS": str(params.max_rows_per_request),
        "MODELOPS_CAPTURE_EXCLUDE": ",".join(params.exclude),
    }
    return [f"{name}={value}" for name, value in wanted.items() if name not in environ and value]


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (module doc)."""
    parser = argparse.ArgumentParser(
        prog="python -m modelops.monitoring.monitor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--source")
    parser.add_argument(
        "--capture-env", action="store_true", help="print the service's capture settings and exit"
    )
    parser.add_argument("--reference", default="models/reference.json")
    parser.add_argument("--contract", default="contract.yaml")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--output", default="reports/monitor")
    parser.add_argument("--days", type=float, default=None, help="default: monitor.window_days")
    parser.add_argument("--until", default=None, help="end of the window (ISO time; default now)")
    args = parser.parse_args(argv)
    if args.capture_env:
        try:
            print(" ".join(capture_environment(args.params, os.environ)))
        except ParamsError as exc:
            print(f"error: monitor: {exc}", file=sys.stderr)
            return 1
        return 0
    if not args.source:
        parser.error("--source is required (a folder, s3://bucket/prefix or logs://<group>)")
    started = time.perf_counter()
    try:
        (params,) = load_params(args.params, "monitor")
        until = datetime.fromisoformat(args.until) if args.until else datetime.now(UTC)
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        days = args.days if args.days is not None else params.window_days
        if days <= 0:
            raise ParamsError(f"--days must be positive, got {days}")
        since = until - timedelta(days=days)
        reference = read_json(args.reference)
        contract = read_contract(args.contract)
        window = collect(open_source(args.source, since, until), since, params.max_rows)
        report = compare(reference, window, params, contract)
        report["fingerprint"] = fingerprint(report)
        report["source"] = args.source
        output = Path(args.output)
        write_json(output / "drift.json", report)
        write_text(output / "drift.html", render_html(report, reference, window))
    except (SourceError, ParamsError, DataError, FileNotFoundError, ValueError) as exc:
        print(f"error: monitor: {exc}", file=sys.stderr)
        return 1
    print(summary(report))
    print(f"  report: {output / 'drift.html'}  ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
