import numpy as np
import pandas as pd
import pytest

from modelops.params import XGBoostParams
from modelops.pipeline.training import fit_candidate
from modelops.serving.inference import InputError, Predictor
from modelops.serving.scoring import score_file


@pytest.fixture
def predictor(tiny_frame):
    x, y = tiny_frame.drop(columns="target"), tiny_frame["target"]
    model = fit_candidate("xgboost", XGBoostParams(n_estimators=5, n_jobs=1), 0, x, y).model
    card = {"name": "m", "version": "1", "feature_schema": [{"name": c} for c in x.columns]}
    return Predictor(model, card)


@pytest.mark.parametrize(
    ("source", "target"), [("in.csv", "out.parquet"), ("in.parquet", "out.csv")]
)
def test_chunked_scoring_matches_one_shot_and_keeps_other_columns(
    tmp_path, predictor, tiny_frame, source, target
):
    frame = tiny_frame.drop(columns="target").assign(customer_id=range(60))
    src, dst = tmp_path / source, tmp_path / target
    frame.to_csv(src, index=False) if src.suffix == ".csv" else frame.to_parquet(src)
    seen = []
    rows = score_file(predictor, src, dst, chunk_rows=7, progress=seen.append)
    assert rows == 60 and sum(seen) == 60 and len(seen) == 9  # 8 chunks of 7, one of 4
    out = pd.read_csv(dst) if dst.suffix == ".csv" else pd.read_parquet(dst)
    expected = predictor.predict(frame[predictor.features].to_dict(orient="records"))
    assert out["probability"].round(6).tolist() == [p["probability"] for p in expected]
    assert out["label"].tolist() == [p["label"] for p in expected]
    assert out["customer_id"].tolist() == list(range(60))


def test_bad_inputs_leave_no_output(tmp_path, predictor, tiny_frame):
    dst = tmp_path / "out.csv"
    dst.write_text("previous good output\n")
    cases = {
        "missing.csv": (None, "file not found"),
        "no_feature.csv": (tiny_frame.drop(columns=["feature_01"]), "missing features: feature_01"),
        "text.csv": (tiny_frame.assign(feature_02="x"), "non-numeric values in feature_02"),
        "nan.csv": (tiny_frame.assign(feature_00=np.nan), "rows 0-59: features must be finite"),
        "empty.csv": (tiny_frame.head(0), "no rows"),
    }
    for name, (frame, message) in cases.items():
        if frame is not None:
            frame.to_csv(tmp_path / name, index=False)
        with pytest.raises(InputError, match=message):
            score_file(predictor, tmp_path / name, dst)
        assert dst.read_text() == "previous good output\n"
    with pytest.raises(InputError, match=r"OUTPUT .*out.xlsx: use a .csv or .parquet"):
        score_file(predictor, tmp_path / "nan.csv", tmp_path / "out.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
