import math
import re

import numpy as np
import pandas as pd
import pytest

from modelops.serving.inference import InputError, Predictor
from modelops.serving.scoring import score_file
from tests import typed_models
from tests.typed_models import features_only

COLUMNS = {
    "binary": ["label", "probability", "proba_malignant", "proba_benign"],
    "multiclass": ["label", "proba_barolo", "proba_grignolino", "proba_barbera"],
    "regression": ["value"],
}


@pytest.fixture(scope="module", params=typed_models.TASKS)
def built(request):
    model, rows, card = typed_models.build(request.param)
    predictor = Predictor(model, card)
    raw = [features_only(row) for row in rows[:60]]
    raw[3] = {**raw[3], "size": "never-seen"}
    frame = pd.DataFrame(raw).assign(customer_id=range(60))
    return {"task": request.param, "predictor": predictor, "rows": raw, "frame": frame}


@pytest.mark.parametrize(
    ("source", "target"), [("in.csv", "out.parquet"), ("in.parquet", "out.csv")]
)
def test_chunked_scoring_of_raw_rows_equals_the_service_predictions(
    tmp_path, built, source, target
):
    frame, predictor = built["frame"], built["predictor"]
    assert frame.isna().any().any()  # empty cells are predicted on
    src, dst = tmp_path / source, tmp_path / target
    frame.to_csv(src, index=False) if src.suffix == ".csv" else frame.to_parquet(src)
    seen = []
    rows = score_file(predictor, src, dst, chunk_rows=7, progress=seen.append)
    assert rows == 60 and sum(seen) == 60 and len(seen) == 9  # 8 chunks of 7, one of 4
    out = pd.read_csv(dst) if dst.suffix == ".csv" else pd.read_parquet(dst)
    assert list(out.columns) == [*frame.columns, *COLUMNS[built["task"]]]
    expected = predictor.predict(built["rows"])  # what POST /predict answers for these rows
    if built["task"] == "regression":
        assert out["value"].tolist() == pytest.approx([p["value"] for p in expected])
    else:
        assert out["label"].tolist() == [p["label"] for p in expected]  # original labels
        for label in predictor.classes:
            wanted = [p["probabilities"][label] for p in expected]
            assert out[f"proba_{label}"].tolist() == pytest.approx(wanted, abs=1e-6)
    assert out["customer_id"].tolist() == list(range(60))


def test_bad_inputs_leave_no_output_and_say_why(tmp_path, built):
    predictor, frame = built["predictor"], built["frame"]
    first = predictor.features[0]
    dst = tmp_path / "out.csv"
    dst.write_text("previous good output\n")
    infinite = frame.copy()
    infinite.loc[42, first] = math.inf
    cases = {
        "missing.csv": (None, "file not found"),
        "no_feature.csv": (frame.drop(columns=["flag"]), "missing features: flag"),
        "text.csv": (frame.assign(**{first: "x"}), f"rows 0-59: {first}: expected numbers"),
        "inf.csv": (infinite, f"{first}: must be finite"),
        "bool.csv": (frame.assign(flag="perhaps"), "flag: expected true or false"),
        "empty.csv": (frame.head(0), "no rows"),
    }
    for name, (bad, message) in cases.items():
        if bad is not None:
            bad.to_csv(tmp_path / name, index=False)
        with pytest.raises(InputError, match=re.escape(message)):
            score_file(predictor, tmp_path / name, dst)
        assert dst.read_text() == "previous good output\n"
    with pytest.raises(InputError, match=r"OUTPUT .*out.xlsx: use a .csv or .parquet"):
        score_file(predictor, tmp_path / "text.csv", tmp_path / "out.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_bad_chunk_after_good_ones_names_its_rows_and_writes_nothing(tmp_path, built):
    predictor, frame = built["predictor"], built["frame"]
    first = predictor.features[0]
    bad = frame.astype({first: object})
    bad.loc[50, first] = "n/a?"
    bad.to_csv(tmp_path / "late.csv", index=False)
    with pytest.raises(InputError, match=re.escape(f"rows 49-55: {first}: expected numbers")):
        score_file(predictor, tmp_path / "late.csv", tmp_path / "out.parquet", chunk_rows=7)
    assert not (tmp_path / "out.parquet").exists()
    assert np.isfinite(frame[first].dropna()).all()
