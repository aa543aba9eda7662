"""The pull-request report: what changed between a base git ref and the working tree, for review.

One job per module: `collect` reads git, DVC and the pipeline's records (and re-applies the gate
against the base), `plots` draws base-vs-head figures, `render` writes the markdown. This module
runs them: `make report BASE=<ref>` (or `python -m modelops.review.report --base <ref>`) writes
`<output>/report.md` and `<output>/plots/*.png`, replacing the folder whole only on success.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from modelops.review.collect import Report, ReportError, build_report
from modelops.review.plots import render_plots
from modelops.review.render import render_markdown, without_images

GATE_REFUSED_EXIT = 3  # --strict: the report was written, and the gate refuses the change


def write_report(
    repo: Path,
    base: str,
    output: Path,
    artifact_note: str | None = None,
    run_url: str | None = None,
) -> tuple[Path, Report]:
    """Build the report into `output/` (report.md, plots/); replace the folder only on success."""
    from modelops.storage import replaced_directory

    with replaced_directory(output) as staging:
        report = build_report(repo, base, run_url=run_url, with_plots=True)
        if report.plot_data is not None:
            images = staging / "plots"
            drawn = render_plots(report.plot_data, report.winners, report.base_commit, images)
            report.images = {kind: f"{images.name}/{name}" for kind, name in drawn.items()}
        (staging / "report.md").write_text(render_markdown(report, artifact_note))
    return output / "report.md", report


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `python -m modelops.review.report --base REF [--output DIR]`."""
    parser = argparse.ArgumentParser(prog="python -m modelops.review.report", description=__doc__)
    parser.add_argument("--base", required=True, help="git ref to compare the working tree with")
    parser.add_argument("--output", default="reports/pr", help="folder (default: %(default)s)")
    parser.add_argument("--repo", default=".", help="repository root (default: %(default)s)")
    parser.add_argument("--note", help="a line appended to the report (e.g. the artifact link)")
    parser.add_argument(
        "--run-url",
        default=os.environ.get("RUN_URL") or None,
        help="link to the CI run the report came from (default: $RUN_URL)",
    )
    parser.add_argument(
        "--summary",
        default=os.environ.get("GITHUB_STEP_SUMMARY"),
        help="also append the report to this file (default: $GITHUB_STEP_SUMMARY)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help=f"exit {GATE_REFUSED_EXIT} after writing the report when the gate refuses vs BASE",
    )
    args = parser.parse_args(argv)
    try:
        path, report = write_report(
            Path(args.repo).resolve(), args.base, Path(args.output), args.note, args.run_url
        )
    except ReportError as exc:
        print(f"error: report: {exc}", file=sys.stderr)
        return 1
    text = without_images(path.read_text(), "the `modelops-report` artifact of this run")
    if args.summary:
        with open(args.summary, "a") as summary:
            summary.write(text)
    print(f"wrote {path} and {len(list(path.parent.glob('plots/*.png')))} plot(s)")
    if args.strict and report.gate_passed is False:
        print(f"error: report: the gate refuses vs {args.base}: {report.gate}", file=sys.stderr)
        return GATE_REFUSED_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main())
