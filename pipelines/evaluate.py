"""Stage `evaluate`: test-set metrics for every candidate, and the data of the plots."""

from pathlib import Path

from modelops.params import load_params
from modelops.pipeline import evaluation
from modelops.pipeline.data import read_table
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.pipeline.tracking import load_local_model, log_test_metrics, start_tracking
from modelops.pipeline.training import positive_probability
from modelops.storage import read_json, write_json, write_text


def main(args):
    data, params = load_params(args.params, "data", "evaluate")
    test = read_table(args.test)
    features, labels = test.drop(columns=[data.target]), test[data.target]
    runs = read_json(Path(args.models_dir) / "runs.json")["candidates"]
    start_tracking(Path.cwd())
    plots = Path(args.plots_dir)
    scores = {}
    for name, run in runs.items():
        probability = positive_probability(load_local_model(Path(args.models_dir) / name), features)
        scores[name] = evaluation.compute_metrics(labels, probability, params.threshold)
        n = params.curve_points
        write_json(plots / "roc" / f"{name}.json", evaluation.roc_points(labels, probability, n))
        write_json(
            plots / "precision_recall" / f"{name}.json",
            evaluation.precision_recall_points(labels, probability, n),
        )
        write_json(
            plots / "calibration" / f"{name}.json",
            evaluation.calibration_points(labels, probability, params.calibration_bins),
        )
        write_text(
            plots / "confusion" / f"{name}.csv",
            evaluation.confusion_rows(labels, probability, params.threshold),
        )
        if not log_test_metrics(run["run_id"], scores[name]):
            log.warning(
                "run %s of %s is not in this MLflow store; metrics not logged", run["run_id"], name
            )
        log.info("%s: %s", name, ", ".join(f"{k}={v:.4f}" for k, v in scores[name].items()))
    write_json(args.metrics, scores)


if __name__ == "__main__":
    parser = stage_parser("evaluate", __doc__)
    parser.add_argument("--test", required=True)
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--metrics", required=True, help="JSON metrics per candidate")
    parser.add_argument("--plots-dir", required=True)
    run_stage("evaluate", main, parser)
