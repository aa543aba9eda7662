"""A small model packaged into a private BentoML home, and the service over it, in-process."""

from __future__ import annotations

import importlib
import json
import os
import pickle
import tempfile
from pathlib import Path

import pytest

# BentoML reads BENTOML_HOME once, at import: set it at collection, before any test imports it.
BENTOML_HOME = Path(tempfile.mkdtemp(prefix="bentoml-home-"))
os.environ["BENTOML_HOME"] = str(BENTOML_HOME)
os.environ["MODELOPS_MAX_INSTANCES"] = "50"
os.environ["MODELOPS_MAX_BODY_BYTES"] = "20000"

FEATURES = [f"feature_{i:02d}" for i in range(4)]


def lambda_event(method: str, path: str, body: str | None = None, headers=None) -> dict:
    """A Lambda Function URL event (payload format 2.0), as AWS sends it."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "host": "abcdefg.lambda-url.eu-west-1.on.aws",
            "x-forwarded-proto": "https",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdefg",
            "domainName": "abcdefg.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abcdefg",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:13:00:00 +0000",
            "timeEpoch": 1795438800000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


class LambdaContext:
    function_name = "modelops-classifier"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:modelops-classifier"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture(scope="session")
def packaged(tmp_path_factory):
    """Train a tiny XGBoost model, write it as models/best/, import it into the BentoML store."""
    from modelops.data import generate_dataset
    from modelops.inference import Predictor
    from modelops.packaging import import_model
    from modelops.params import DataParams, GenerateParams, XGBoostParams
    from modelops.training import fit_candidate

    frame = generate_dataset(
        GenerateParams(n_rows=300, n_features=4, n_informative=3), DataParams()
    )
    x, y = frame.drop(columns="target"), frame["target"]
    fitted = fit_candidate("xgboost", XGBoostParams(n_estimators=20, n_jobs=1), 0, x, y)
    best = tmp_path_factory.mktemp("best")
    (best / "model").mkdir()
    (best / "model" / "model.pkl").write_bytes(pickle.dumps(fitted.model))
    card = {
        "name": "test-classifier", "version": "42", "candidate": "xgboost", "threshold": 0.5,
        "metrics": {"roc_auc": 0.9}, "params": fitted.hyperparameters, "git_commit": "abc123",
        "data_hash": "d41d8cd98f00b204e9800998ecf8427e", "trained_at": "2026-11-23T13:00:00+00:00",
        "feature_schema": [{"name": name, "dtype": "float64"} for name in FEATURES],
        "model_path": "model/model.pkl",
    }  # fmt: skip
    (best / "model_card.json").write_text(json.dumps(card))
    tag = import_model(Predictor.from_directory(best))
    os.environ["MODELOPS_MODEL_TAG"] = tag
    return {"tag": tag, "card": card, "model": fitted.model, "rows": x}


@pytest.fixture(scope="session")
def service_module(packaged):
    import services.classifier

    return importlib.reload(services.classifier)  # resolve the model tag set by `packaged`


@pytest.fixture(scope="session")
def client(service_module):
    from starlette.testclient import TestClient

    with TestClient(service_module.Classifier.to_asgi(), follow_redirects=False) as test_client:
        yield test_client
