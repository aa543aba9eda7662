"""`make bench-candidates`: does each candidate kind earn its place? Test score and fit time.

Every kind of `modelops.pipeline.training.KINDS`, with params.yaml's hyperparameters (a kind not
listed there: its defaults), on the bundled scikit-learn tables made mixed-type
(benchmarks/tables.py) and on the default synthetic table for each task. Each score is the mean
over `--splits` seeded 80/20 splits of the task's default selection metric (roc_auc, f1_macro,
r2). One thread per fit (n_jobs=1; set OMP_NUM_THREADS=1 for the OpenMP libraries) so the fit
times compare the algorithms, not how many cores a busy machine lends each of them.

Usage: python -m benchmarks.candidates [--splits 3]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

from benchmarks import tables
from benchmarks.report import print_table, write_report
from modelops.params import AUTO_METRIC, DataParams, GenerateParams, ValidateParams
from modelops.pipeline.contract import infer_contract
from modelops.pipeline.data import generate_dataset
from modelops.pipeline.evaluation import label_indices, task_metrics
from modelops.pipeline.training import (
    KINDS,
    fit_candidate,
    parse_candidates,
    scores_of,
    training_data,
    training_labels,
)


def hyperparameters(params_file: str) -> dict[str, Any]:
    """params.yaml's hyperparameters for every kind (defaults where it lists none), one thread."""
    raw = yaml.safe_load(Path(params_file).read_text())
    listed = parse_candidates(raw["train"]["candidates"])
    kinds = {name: listed.get(name) or kind.params() for name, kind in KINDS.items()}
    return {
        name: p.model_copy(update={"n_jobs": 1}) if "n_jobs" in type(p).model_fields else p
        for name, p in kinds.items()
    }


def tables_to_score(params_file: str) -> dict[str, tuple[pd.DataFrame, DataParams]]:
    """The tables: bundled ones made mixed-type, and the default synthetic one per task."""
    generate = GenerateParams(**yaml.safe_load(Path(params_file).read_text())["generate"])
    iris = load_iris(as_frame=True).frame
    found = {
        "breast_cancer (mixed)": (tables.breast_cancer(), DataParams(target="diagnosis")),
        "wine (mixed)": (tables.wine(), DataParams(target="cultivar")),
        "diabetes (mixed)": (tables.diabetes(), DataParams(target="progression")),
        "iris": (iris, DataParams(task="multiclass")),
    }
    for task in ("binary", "multiclass", "regression"):
        data = DataParams(task=task)
        found[f"synthetic {task}"] = (generate_dataset(generate, data), data)
    return found


def score(frame: pd.DataFrame, data: DataParams, kinds: dict[str, Any], splits: int) -> dict:
    """Mean and spread of each kind's test score over seeded splits, and its mean fit time."""
    scores: dict[str, list[float]] = {name: [] for name in kinds}
    seconds: dict[str, list[float]] = {name: [] for name in kinds}
    metric = ""
    for seed in range(splits):
        train, test = train_test_split(frame, test_size=0.2, random_state=seed)
        contract, _ = infer_contract(train, data, ValidateParams(min_rows=1), "benchmark")
        features = contract.features()
        matrix, labels = training_data(train, features), training_labels(contract, train)
        metric = AUTO_METRIC[contract.task]
        for name, params in kinds.items():
            fitted = fit_candidate(
                name, params, 42, features=features, task=contract.task,
                classes=list(contract.classes), matrix=matrix, labels=labels,
            )  # fmt: skip
            model = fitted.model
            actual = label_indices(model, test[contract.target])
            seen = actual >= 0 if contract.task != "regression" else np.ones(len(test), bool)
            output = scores_of(model, model.encode_frame(test[seen]))
            result = task_metrics(contract.task, actual[seen], output, model.classes)
            scores[name].append(float(result[metric]))
            seconds[name].append(fitted.fit_seconds)
    return {
        "rows": len(frame),
        "metric": metric,
        "kinds": {
            name: {
                "mean": round(float(np.mean(scores[name])), 4),
                "sd": round(float(np.std(scores[name])), 4),
                "fit_seconds": round(float(np.mean(seconds[name])), 2),
            }
            for name in kinds
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--params", default="params.yaml")
    args = parser.parse_args()
    kinds = hyperparameters(args.params)
    results = {}
    for label, (frame, data) in tables_to_score(args.params).items():
        print(f"{label} ...", flush=True)
        results[label] = score(frame, data, kinds, args.splits)
    rows = []
    for label, result in results.items():
        best = max(result["kinds"].values(), key=lambda k: k["mean"])["mean"]
        for name, figures in result["kinds"].items():
            mark = " *" if figures["mean"] == best else ""
            shown = f"{figures['mean']:.4f} ± {figures['sd']:.4f}{mark}"
            rows.append([label, result["metric"], name, shown, f"{figures['fit_seconds']:.2f}"])
    print()
    print_table(
        ["table", "metric", "kind", f"test score (mean ± sd, {args.splits} splits)", "fit s"], rows
    )
    print("* best on that table")
    path = write_report("candidates", {"splits": args.splits, "tables": results})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
