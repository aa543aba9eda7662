"""Compute engines of the data stages: `local` (pandas, one process) and `spark` (Apache Spark).

`compute.engine` in params.yaml picks one; `local` is the default and is exactly the stages'
own pandas code. The Spark engine lives in `modelops.pipeline.engines.spark`, the only place
that imports pyspark, so the local engine and serving never load it. Reading the section here
costs no pyspark import: a stage asks `compute_params` first and imports the Spark engine only
when it is chosen.
"""

from __future__ import annotations

from pathlib import Path

from modelops.params import ComputeParams, parse_section, read_params_file


def compute_params(params_path: str | Path) -> ComputeParams:
    """The `compute:` section of a params file; a file without one runs the local engine.

    Raises:
        ParamsError: the section is there but has a bad value (naming the dotted key).

    """
    raw = read_params_file(params_path)
    if raw.get("compute") is None:
        return ComputeParams()
    return parse_section(raw, "compute")


def uses_spark(params_path: str | Path) -> bool:
    """Whether the params choose the Spark engine."""
    return compute_params(params_path).engine == "spark"


def run_on_spark(stage: str, args) -> None:
    """Run `stage` on the Spark engine (this imports pyspark: only when the engine is spark)."""
    from modelops.pipeline.engines.spark.stages import STAGES

    STAGES[stage](args)
