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
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from modelops.monitoring.drift import compare, fingerprint
from modelops.monitoring.report import render_html, summary
from modelops.monitoring.window import SourceError, collect, open_source
from modelops.params import ParamsError, load_params
from modelops.pipeline.contract import read_contract
from modelops.pipeline.data import DataError
from modelops.storage import read_json, write_json, write_text


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (module doc)."""
    parser = argparse.ArgumentParser(
        prog="python -m modelops.monitoring.monitor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--source", required=True)
    parser.add_argument("--reference", default="models/reference.json")
    parser.add_argument("--contract", default="contract.yaml")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--output", default="reports/monitor")
    parser.add_argument("--days", type=float, default=None, help="default: monitor.window_days")
    parser.add_argument("--until", default=None, help="end of the window (ISO time; default now)")
    args = parser.parse_args(argv)
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
