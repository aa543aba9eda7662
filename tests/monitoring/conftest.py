"""A model loop_model as `make run` packages it, with its reference, contract and test split."""

import json
import pickle

import pytest
import yaml

from modelops.monitoring.reference import reference_of_split
from modelops.params import DataParams, GenerateParams
from modelops.pipeline.contract import write_contract
from modelops.pipeline.data import generate_dataset, split_dataset
from modelops.pipeline.training import XGBoostParams


@pytest.fixture(scope="session")
def loop_model(tmp_path_factory):
    """A model trained on 2,400 generated rows (default params), its reference and test split."""
    from modelops.delivery.packaging import import_model
    from modelops.serving.inference import Predictor
    from tests.fitting import fit_table

    frame = generate_dataset(GenerateParams(n_rows=3000), DataParams())
    train, test = split_dataset(frame, "target", 0.2, 42, stratify=True)
    model, contract = fit_table(
        train, DataParams(), "xgboost", XGBoostParams(n_estimators=30, n_jobs=1)
    )
    folder = tmp_path_factory.mktemp("loop")
    best = folder / "best"
    (best / "model").mkdir(parents=True)
    (best / "model" / "model.pkl").write_bytes(pickle.dumps(model))
    card = {
        "name": "loop-classifier",
        "version": "5",
        "candidate": "xgboost",
        "task": "binary",
        "target": "target",
        "classes": list(contract.classes),
        "positive_class": contract.positive_class,
        "threshold": 0.5,
        "feature_schema": contract.feature_schema(),
        "input_example": [],
        "model_path": "model/model.pkl",
        "git_commit": "abc123",
        "metrics": {},
        "params": {},
        "data_hash": "0" * 32,
        "trained_at": "2026-12-02T00:00:00+00:00",
    }
    (best / "model_card.json").write_text(json.dumps(card))
    predictor = Predictor.from_directory(best)
    tag, _ = import_model(best)
    (folder / "reference.json").write_text(
        json.dumps(reference_of_split(train, test, predictor, bins=100))
    )
    write_contract(contract, folder / "contract.yaml")
    (folder / "params.yaml").write_text(yaml.safe_dump({"monitor": {"min_rows": 300}}))
    return {"tag": tag, "folder": folder, "test": test, "features": contract.feature_names}
