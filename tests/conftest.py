import atexit
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelops.delivery.local_server import start_on_free_port, stop, wait_ready
from modelops.params import DataParams, GenerateParams
from modelops.pipeline.data import generate_dataset

REPO = Path(__file__).resolve().parents[1]

# BentoML reads BENTOML_HOME once, at import, and the service reads its limits at import: set
# them when this conftest registers (before any test module imports bentoml), and put the
# environment back as it was when the run ends.
BENTOML_HOME = Path(tempfile.mkdtemp(prefix="bentoml-home-"))
atexit.register(shutil.rmtree, BENTOML_HOME, ignore_errors=True)
_RUN_ENVIRONMENT = pytest.MonkeyPatch()


def pytest_configure(config):
    _RUN_ENVIRONMENT.setenv("BENTOML_HOME", str(BENTOML_HOME))
    _RUN_ENVIRONMENT.setenv("MODELOPS_MAX_INSTANCES", "50")
    _RUN_ENVIRONMENT.setenv("MODELOPS_MAX_BODY_BYTES", "20000")


def pytest_unconfigure(config):
    _RUN_ENVIRONMENT.undo()


TINY = GenerateParams(
    n_rows=60, n_numeric=3, n_categorical=1, n_boolean=1, n_informative=3, missing_fraction=0.05,
    seed=7,
)  # fmt: skip
FEATURES = ["num_00", "num_01", "num_02", "cat_00", "flag_00"]


@pytest.fixture
def data_params() -> DataParams:
    return DataParams()


@pytest.fixture
def tiny_frame(data_params) -> pd.DataFrame:
    """60 seeded mixed-type rows (3 numbers, a category, a boolean, 5% nulls), no/yes target."""
    return generate_dataset(TINY, data_params)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def packaged(tmp_path_factory):
    """Train a tiny mixed-type XGBoost TabularModel, write models/best/, import it into BentoML.

    MODELOPS_MODEL_TAG names it for the rest of the session, and is restored afterwards.
    """
    from modelops.delivery.packaging import import_model
    from modelops.params import DataParams
    from modelops.pipeline.data import generate_dataset
    from modelops.pipeline.selection import raw_rows
    from modelops.pipeline.training import XGBoostParams
    from tests.fitting import fit_table

    frame = generate_dataset(TINY.model_copy(update={"n_rows": 300}), DataParams())
    model, contract = fit_table(
        frame, DataParams(), "xgboost", XGBoostParams(n_estimators=20, n_jobs=1)
    )
    best = tmp_path_factory.mktemp("best")
    (best / "model").mkdir()
    (best / "model" / "model.pkl").write_bytes(pickle.dumps(model))
    card = {
        "name": "test-classifier", "version": "42", "candidate": "xgboost", "task": "binary",
        "target": "target", "classes": list(contract.classes),
        "positive_class": contract.positive_class, "threshold": 0.5,
        "metrics": {"roc_auc": 0.9}, "params": {}, "git_commit": "abc123",
        "data_hash": "d41d8cd98f00b204e9800998ecf8427e",  # pragma: allowlist secret
        "trained_at": "2026-11-23T13:00:00+00:00",
        "feature_schema": contract.feature_schema(),
        "input_example": raw_rows(frame, contract.feature_names),
        "model_path": "model/model.pkl",
    }  # fmt: skip
    (best / "model_card.json").write_text(json.dumps(card))
    tag, _ = import_model(best)
    x = frame[contract.feature_names]
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("MODELOPS_MODEL_TAG", tag)
        yield {"tag": tag, "card": card, "model": model, "rows": x, "best": best}


def start_server(model_tag: str, log: Path) -> tuple[subprocess.Popen, str]:
    """`bentoml serve` of `model_tag` on a free loopback port, in its own process group, ready.

    Raises:
        RuntimeError: it did not become ready (on another port too, if it lost its port).
    """
    bentoml = Path(sys.executable).parent / "bentoml"

    def start(port: int) -> subprocess.Popen:
        with open(log, "ab") as out:
            return subprocess.Popen(
                [str(bentoml), "serve", "services.classifier:Classifier",
                 "--host", "127.0.0.1", "--port", str(port)],
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "MODELOPS_MODEL_TAG": model_tag},
            )  # fmt: skip

    def ready(port: int, process: subprocess.Popen) -> None:
        wait_ready(f"http://127.0.0.1:{port}", process)

    process, port = start_on_free_port(start, ready, what="bentoml serve")
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def local_server(packaged, tmp_path_factory):
    """`bentoml serve` of the test model on a free loopback port; stopped afterwards.

    Shared by the smoke suite (without SMOKE_BASE_URL), the fuzz, the browser and notebook
    tests; they are grouped (`xdist_group("smoke")`) so it starts once per run.
    """
    log = tmp_path_factory.mktemp("server") / "serve.log"
    try:
        process, url = start_server(packaged["tag"], log)
    except RuntimeError as exc:
        pytest.fail(f"{exc}\n{log.read_text()[-3000:]}")
    try:
        yield {"url": url, "process": process, "log": log, "version": packaged["card"]["version"]}
    finally:
        stop(process)  # whatever happened: nothing is left running
