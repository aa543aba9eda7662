"""`make bench-pipeline`: how long `dvc repro` takes, and how it scales with rows.

Wall time of a full `dvc repro` on the defaults (the mixed-type generator: numbers, categories,
booleans, nulls), of a no-op rerun, and throughput per stage at 10k, 100k and 1M rows, each in a
fresh copy of the repository. With `--baseline REF` (default `main`), the same full repro of that
git ref's tree is timed in the same run, so the ratio holds on a machine whose speed varies.

With `--engine spark` (`make bench-pipeline ENGINE=spark`), each size runs with
`compute.engine: spark` on `local[CORES]` (the xgboost candidate only: the one with a Spark form)
and the table adds rows/s per core, the figure docs/scaling.md projects a cluster's cost from.

Usage: python -m benchmarks.pipeline [--sizes 10000 100000 1000000] [--baseline REF|none]
       python -m benchmarks.pipeline --engine spark [--sizes 100000 1000000] [--cores 2]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.project_copy import REPO, Project, copy_repository
from benchmarks.report import print_table, write_report

STAGES = ["generate", "validate", "split", "train", "evaluate", "select"]


def timed(project, *cmd: str) -> float:
    started = time.perf_counter()
    project.run(*cmd, timeout=3600)  # 1M rows on a loaded 2-core machine take many minutes
    return time.perf_counter() - started


class ExportedProject(Project):
    """A copy of another revision: its own src/ shadows the editable install of this one."""

    def env(self) -> dict[str, str]:
        """The copy's environment, with its own src/ first on the import path."""
        env = super().env()
        env["PYTHONPATH"] = str(self.root / "src")
        return env


def export_ref(ref: str, destination: Path) -> Project:
    """The tree of a git ref (tracked files only) as a fresh repository, like a clone of it."""
    destination.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x"], cwd=destination, input=archive, check=True)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", ref]):
        subprocess.run([*git, *cmd], cwd=destination, check=True, capture_output=True)
    return ExportedProject(destination)


def spark_scaling(sizes: list[int], cores: int) -> None:
    """Per-stage time and rows/s per core of `dvc repro` with `compute.engine: spark`."""
    scaling = []
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-spark-") as scratch:
        for rows in sizes:
            print(f"per-stage timing on Spark local[{cores}] at {rows:,} rows ...", flush=True)
            sized = copy_repository(Path(scratch) / f"rows-{rows}")
            sized.set_params(
                {
                    "generate": {"n_rows": rows},
                    "compute": {"engine": "spark", "spark": {"master": f"local[{cores}]"}},
                    "train": {"candidates": {"linear": None, "random_forest": None}},
                }
            )
            stages = {s: timed(sized, "dvc", "repro", "--single-item", s) for s in STAGES}
            total = sum(stages.values())
            scaling.append(
                {
                    "rows": rows,
                    "seconds": round(total, 2),
                    "rows_per_second": round(rows / total),
                    "rows_per_second_per_core": round(rows / total / cores),
                    "stages": {k: round(v, 2) for k, v in stages.items()},
                }
            )
            print(f"  {scaling[-1]}", flush=True)
    print()
    print_table(
        ["rows", "total s", "rows/s", "rows/s/core", *STAGES],
        [
            [
                f"{r['rows']:,}",
                r["seconds"],
                f"{r['rows_per_second']:,}",
                f"{r['rows_per_second_per_core']:,}",
                *(r["stages"][s] for s in STAGES),
            ]
            for r in scaling
        ],
    )
    path = write_report(
        "pipeline-spark",
        {"engine": "spark", "master": f"local[{cores}]", "cores": cores, "scaling": scaling},
    )
    print(f"\nwrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--baseline", default="main", help="git ref to compare with, or none")
    parser.add_argument("--engine", choices=("local", "spark"), default="local")
    parser.add_argument("--cores", type=int, default=2, help="spark: N of local[N]")
    args = parser.parse_args()
    if args.engine == "spark":
        spark_scaling(args.sizes or [100_000, 1_000_000], args.cores)
        return
    args.sizes = args.sizes or [10_000, 100_000, 1_000_000]

    baseline = None
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as scratch:
        if args.baseline != "none":
            print(
                f"full dvc repro of {args.baseline} in a fresh copy (the baseline) ...", flush=True
            )
            base = export_ref(args.baseline, Path(scratch) / "baseline")
            baseline = timed(base, "dvc", "repro")
            print(f"  {baseline:.1f} s", flush=True)
        print("full dvc repro on the defaults in a fresh copy (new MLflow store) ...", flush=True)
        project = copy_repository(Path(scratch) / "defaults")
        full = timed(project, "dvc", "repro")
        noop = min(timed(project, "dvc", "repro") for _ in range(3))
        forced = timed(project, "dvc", "repro", "--force")
        defaults_rows = project.params()["generate"]["n_rows"]
        print(f"  full {full:.1f} s, no-op {noop:.2f} s, --force {forced:.1f} s", flush=True)

        scaling = []
        for rows in args.sizes:
            print(f"per-stage timing at {rows:,} rows ...", flush=True)
            sized = copy_repository(Path(scratch) / f"rows-{rows}")
            sized.set_params({"generate": {"n_rows": rows}})
            sized.run("python", "-m", "pipelines.generate", "--help")  # warm the file cache
            stages = {s: timed(sized, "dvc", "repro", "--single-item", s) for s in STAGES}
            total = sum(stages.values())
            scaling.append(
                {
                    "rows": rows,
                    "seconds": round(total, 2),
                    "rows_per_second": round(rows / total),
                    "stages": {k: round(v, 2) for k, v in stages.items()},
                }
            )
            print(f"  {scaling[-1]}", flush=True)

    ratio = full / baseline if baseline else None
    summary = [
        ["full repro, defaults, fresh copy", f"{defaults_rows:,}", f"{full:.1f}", "<= 60"],
        *(
            [
                [f"full repro of {args.baseline} (baseline), same run", "", f"{baseline:.1f}", ""],
                ["ratio to the baseline", "", f"{ratio:.2f}x", "<= 2x"],
            ]
            if baseline
            else []
        ),
        ["full repro --force, warm store", f"{defaults_rows:,}", f"{forced:.1f}", ""],
        ["no-op rerun (best of 3)", "", f"{noop:.2f}", "<= 3"],
    ]
    print()
    print_table(["run", "rows", "seconds", "target"], summary)
    print()
    print_table(
        ["rows", "total s", "rows/s", *STAGES],
        [
            [
                f"{r['rows']:,}",
                r["seconds"],
                f"{r['rows_per_second']:,}",
                *(r["stages"][s] for s in STAGES),
            ]
            for r in scaling
        ],
    )
    path = write_report(
        "pipeline",
        {
            "full_repro_seconds": round(full, 2),
            "baseline": args.baseline,
            "baseline_commit": subprocess.run(
                ["git", "rev-parse", args.baseline], cwd=REPO, capture_output=True, text=True
            ).stdout.strip()
            if baseline
            else None,
            "baseline_full_repro_seconds": round(baseline, 2) if baseline else None,
            "ratio_to_baseline": round(ratio, 3) if ratio else None,
            "forced_repro_seconds": round(forced, 2),
            "noop_repro_seconds": round(noop, 3),
            "defaults_rows": defaults_rows,
            "targets": {"full_repro_seconds": 60, "noop_repro_seconds": 3, "ratio_to_baseline": 2},
            "scaling": scaling,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
