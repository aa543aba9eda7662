"""Stage `evaluate`: test-set metrics for every candidate, and the data of its task's plots."""

from pathlib import Path

from modelops.params import load_params
from modelops.pipeline import evaluation
from modelops.pipeline.data import read_table
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.pipeline.tracking import (
    MODEL_UUID_TAG,
    find_candidate_run,
    load_local_model,
    log_test_metrics,
    start_tracking,
)
from modelops.pipeline.training import scores_of
from modelops.storage import read_json, write_json, write_text


def write_plots(plots: Path, name: str, data: dict) -> None:
    """One candidate's plot files: `<plots>/<kind>/<name>.json`, or `.csv` for the confusion."""
    for kind, payload in data.items():
        if isinstance(payload, str):
            write_text(plots / kind / f"{name}.csv", payload)
        else:
            write_json(plots / kind / f"{name}.json", payload)


def main(args):
    data, params = load_params(args.params, "data", "evaluate")
    test = read_table(args.test)
    runs = read_json(Path(args.models_dir) / "runs.json")["candidates"]
    experiment_id = start_tracking(Path.cwd())
    plots = Path(args.plots_dir)
    plots.mkdir(parents=True, exist_ok=True)
    scores = {}
    for name, run in runs.items():
        model = load_local_model(Path(args.models_dir) / name)
        labels = evaluation.label_indices(model, test[data.target])
        output = scores_of(model, model.encode_frame(test))
        scores[name] = evaluation.task_metrics(
            model.task, labels, output, model.classes, model.threshold
        )
        write_plots(
            plots, name,
            evaluation.plot_data(
                model, labels, output, params.curve_points, params.calibration_bins
            ),
        )  # fmt: skip
        flat = {k: v for k, v in scores[name].items() if isinstance(v, float | int)}
        logged = find_candidate_run(experiment_id, name, run[MODEL_UUID_TAG])
        if logged is None or not log_test_metrics(logged.run_id, flat):
            log.warning(
                "no run of %s (model %s) in this MLflow store; test metrics not logged",
                name, run[MODEL_UUID_TAG],
            )  # fmt: skip
        log.info("%s: %s", name, ", ".join(f"{k}={v:.4f}" for k, v in flat.items()))
    write_json(args.metrics, scores)


if __name__ == "__main__":
    parser = stage_parser("evaluate", __doc__)
    parser.add_argument("--test", required=True)
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--metrics", required=True, help="JSON metrics per candidate")
    parser.add_argument("--plots-dir", required=True)
    run_stage("evaluate", main, parser)
