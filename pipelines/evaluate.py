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


def write_plots(plots, name, model, labels, scores, params):
    """Each task's plot data for one candidate (see the top-level `plots:` of dvc.yaml)."""
    n = params.curve_points
    if model.task == "regression":
        write_json(
            plots / "predicted_vs_actual" / f"{name}.json",
            evaluation.predicted_vs_actual_points(labels, scores, n * 5),
        )
        write_json(
            plots / "residuals" / f"{name}.json",
            evaluation.residual_points(labels, scores, n * 5),
        )
        return
    if model.task == "binary":
        positive = scores[:, 1]
        write_json(plots / "roc" / f"{name}.json", evaluation.roc_points(labels, positive, n))
        write_json(
            plots / "precision_recall" / f"{name}.json",
            evaluation.precision_recall_points(labels, positive, n),
        )
        write_json(
            plots / "calibration" / f"{name}.json",
            evaluation.calibration_points(labels, positive, params.calibration_bins),
        )
        predicted = evaluation.binary_predictions(positive, model.threshold)
    else:
        predicted = scores.argmax(axis=1)
    write_text(
        plots / "confusion" / f"{name}.csv",
        evaluation.confusion_rows(labels, predicted, model.classes),
    )


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
        write_plots(plots, name, model, labels, output, params)
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
