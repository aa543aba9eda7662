"""`make bench-pipeline`: how long `dvc repro` takes, and how it scales with rows.

Wall time of a full `dvc repro` on the defaults (the mixed-type generator: numbers, categories,
booleans, nulls), of a no-op rerun, and throughput per stage at 10k, 100k and 1M rows, each in a
fresh copy of the repository. With `--baseline REF` (default `main`), the same full repro of that
git ref's tree is timed in the same run, so the ratio holds on a machine whose speed varies.

With `--engine spark` (`make bench-pipeline ENGINE=spark`), each size runs with
`compute.engine: spark` on `local[CORES]` (the xgboost candidate only: the one with a Spark form)
and the table adds rows/s per core, the figure docs/scaling.md projects a cluster's cost from;
the local engine is timed at `--local-sizes` in the same run, next to it.

Usage: python -m benchmarks.pipeline [--sizes 10000 100000 1000000] [--baseline REF|none]
       python -m benchmarks.pipeline --engine spark [--sizes 100000 1000000 4000000] [--cores 2]
                                    [--local-sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

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


def load_average() -> float:
    """The 1-minute load average: the machine is shared, so every figure carries it."""
    return round(os.getloadavg()[0], 2)


def time_stages(project: Project) -> dict[str, Any]:
    """Each stage's `dvc repro --single-item` time in a sized copy, with the load around it."""
    load_before = load_average()
    stages = {s: timed(project, "dvc", "repro", "--single-item", s) for s in STAGES}
    return {
        "seconds": round(sum(stages.values()), 2),
        "stages": {k: round(v, 2) for k, v in stages.items()},
        "load_average": [load_before, load_average()],
    }


def spark_scaling(
    sizes: list[int], cores: int, local_sizes: list[int], driver_memory: str | None = None
) -> None:
    """Per-stage time and rows/s per core of `dvc repro` with `compute.engine: spark`.

    `local_sizes` are timed on the local engine in the same run (same candidate), so the two
    engines' figures come from one sitting of a shared machine. The report is rewritten after
    every size: a run stopped part-way keeps the sizes it finished.
    """
    runs: list[dict[str, Any]] = []
    # Smallest first, each size on both engines back to back: the largest (the one a deadline
    # cuts) comes last, and each pair shares the same hour of the machine.
    plan = sorted(
        [("spark", rows) for rows in sizes] + [("local", rows) for rows in local_sizes],
        key=lambda run: (run[1], run[0] == "local"),
    )
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-spark-") as scratch:
        # One snapshot of the tree, its own src/ first on the import path, copied for each size:
        # a run of an hour measures one version of the code, whatever changes in the worktree.
        tree = copy_repository(Path(scratch) / "tree").root
        for engine, rows in plan:
            print(f"per-stage timing, {engine} engine, {rows:,} rows ...", flush=True)
            sized = ExportedProject(Path(scratch) / f"{engine}-{rows}")
            shutil.copytree(tree, sized.root, symlinks=True)
            # Re-inferring the contract (the row count changes the synthetic source) brings the
            # table to the driver: from a few million rows on, Spark's default 1g heap is too
            # small (java.lang.OutOfMemoryError at 4M rows here).
            conf = {"spark.driver.memory": driver_memory} if driver_memory else {}
            compute = (
                {"engine": "spark", "spark": {"master": f"local[{cores}]", "conf": conf}}
                if engine == "spark"
                else {"engine": "local"}
            )
            sized.set_params(
                {
                    "generate": {"n_rows": rows},
                    "compute": compute,
                    "train": {"candidates": {"linear": None, "random_forest": None}},
                }
            )
            measured = time_stages(sized)
            shutil.rmtree(sized.root, ignore_errors=True)  # 4M rows of copies fill /tmp
            runs.append(
                {
                    "engine": engine,
                    "rows": rows,
                    "spark_conf": conf if engine == "spark" else None,
                    **measured,
                    "rows_per_second": round(rows / measured["seconds"]),
                    "rows_per_second_per_core": round(rows / measured["seconds"] / cores),
                }
            )
            print(f"  {runs[-1]}", flush=True)
            path = write_report(
                "pipeline-spark",
                {
                    "engine": "spark",
                    "master": f"local[{cores}]",
                    "cores": cores,
                    "candidates": ["xgboost"],
                    "scaling": [r for r in runs if r["engine"] == "spark"],
                    "local": [r for r in runs if r["engine"] == "local"],
                },
            )
    print()
    print_table(
        ["engine", "rows", "total s", "rows/s", "rows/s/core", *STAGES, "load"],
        [
            [
                r["engine"],
                f"{r['rows']:,}",
                r["seconds"],
                f"{r['rows_per_second']:,}",
                f"{r['rows_per_second_per_core']:,}",
                *(r["stages"][s] for s in STAGES),
                "→".join(str(x) for x in r["load_average"]),
            ]
            for r in runs
        ],
    )
    print(f"\nwrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--baseline", default="main", help="git ref to compare with, or none")
    parser.add_argument("--engine", choices=("local", "spark"), default="local")
    parser.add_argument("--cores", type=int, default=2, help="spark: N of local[N]")
    parser.add_argument(
        "--local-sizes",
        type=int,
        nargs="*",
        default=None,
        help="spark: sizes also timed on the local engine in the same run (default 100k 1M)",
    )
    parser.add_argument("--driver-memory", help="spark: spark.driver.memory, e.g. 6g (4M rows)")
    args = parser.parse_args()
    if args.engine == "spark":
        local_sizes = [100_000, 1_000_000] if args.local_sizes is None else args.local_sizes
        spark_scaling(
            args.sizes or [100_000, 1_000_000, 4_000_000],
            args.cores,
            local_sizes,
            args.driver_memory,
        )
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
