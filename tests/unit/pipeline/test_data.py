import pandas as pd
import pytest

from modelops.params import DataParams, GenerateParams
from modelops.pipeline.data import (
    DataError,
    feature_columns,
    file_md5,
    generate_dataset,
    load_dataset,
    read_table,
    split_dataset,
    synthetic_feature_names,
    write_table,
)


def test_generation_is_seeded_and_mixed_type(data_params):
    params = GenerateParams(n_rows=200, n_numeric=2, n_categorical=2, n_boolean=1, seed=3)
    first, second = generate_dataset(params, data_params), generate_dataset(params, data_params)
    pd.testing.assert_frame_equal(first, second)
    assert list(first.columns) == [*synthetic_feature_names(params), "target"]
    assert synthetic_feature_names(params) == ["num_00", "num_01", "cat_00", "cat_01", "flag_00"]
    assert set(first["target"]) == {"no", "yes"}
    assert pd.api.types.is_float_dtype(first["num_00"])
    assert set(first["cat_00"].dropna()) <= {"level_a", "level_b", "level_c", "level_d"}
    assert pd.api.types.is_bool_dtype(first["flag_00"])
    other = generate_dataset(params.model_copy(update={"seed": 4}), data_params)
    assert not first.equals(other)


def test_missing_fraction_blanks_feature_cells_never_the_target(data_params):
    frame = generate_dataset(GenerateParams(n_rows=4000, missing_fraction=0.2), data_params)
    nulls = frame.isna().mean()
    assert nulls.drop("target").between(0.17, 0.23).all() and nulls["target"] == 0
    clean = generate_dataset(GenerateParams(n_rows=500, missing_fraction=0.0), data_params)
    assert not clean.isna().any().any()


@pytest.mark.parametrize(
    ("task", "labels"),
    [("multiclass", {"class_a", "class_b", "class_c", "class_d"}), ("regression", None)],
)
def test_generation_per_task(task, labels):
    frame = generate_dataset(GenerateParams(n_rows=400, n_classes=4), DataParams(task=task))
    if labels:
        assert set(frame["target"]) == labels
    else:
        assert pd.api.types.is_float_dtype(frame["target"]) and frame["target"].nunique() > 300


def test_class_balance_follows_params(data_params):
    params = GenerateParams(n_rows=4000, positive_fraction=0.2, label_noise=0.0, seed=1)
    frame = generate_dataset(params, data_params)
    assert (frame["target"] == "yes").mean() == pytest.approx(0.2, abs=0.02)


def test_label_noise_makes_the_task_harder(data_params):
    from modelops.pipeline.training import XGBoostParams
    from tests.fitting import fit_table

    def fit_score(noise):
        params = GenerateParams(n_rows=1500, label_noise=noise, seed=1)
        frame = generate_dataset(params, data_params)
        model, _ = fit_table(
            frame, data_params, "xgboost", XGBoostParams(n_estimators=20, n_jobs=1)
        )
        return (model.predict(frame) == frame["target"].to_numpy(dtype=object)).mean()

    assert fit_score(0.0) > fit_score(0.4) + 0.1


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_load_round_trip(tmp_path, tiny_frame, suffix):
    path = tmp_path / f"data{suffix}"
    tiny_frame.to_csv(path, index=False) if suffix == ".csv" else tiny_frame.to_parquet(path)
    loaded = load_dataset(path, "target")
    # CSV carries no dtypes: a boolean column without nulls reads back as plain bool
    pd.testing.assert_frame_equal(
        loaded, tiny_frame, check_exact=False, check_dtype=suffix != ".csv"
    )


def test_load_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"data.source: file not found: .*nope.csv"):
        load_dataset(tmp_path / "nope.csv", "target")


def test_load_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="is empty"):
        load_dataset(path, "target")


def test_load_header_only(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,b,target\n")
    with pytest.raises(DataError, match="has a header but no rows"):
        load_dataset(path, "target")


def test_load_missing_target_lists_columns(tmp_path, tiny_frame):
    path = tmp_path / "data.csv"
    tiny_frame.rename(columns={"target": "label"}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"no target column 'target' \(columns: .*label\)"):
        load_dataset(path, "target")


def test_load_unsupported_type(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(DataError, match=r"unsupported type '\.xlsx'"):
        load_dataset(path, "target")


def test_load_corrupt_parquet(tmp_path):
    path = tmp_path / "data.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="cannot read"):
        load_dataset(path, "target")


def test_feature_columns_declared_or_derived(tiny_frame):
    assert feature_columns(tiny_frame, DataParams()) == [c for c in tiny_frame if c != "target"]
    declared = DataParams(features=("b", "a"))
    assert feature_columns(tiny_frame, declared) == ["b", "a"]


def test_split_is_stratified_and_seeded(data_params):
    frame = generate_dataset(
        GenerateParams(n_rows=1000, positive_fraction=0.3, seed=2), data_params
    )
    train, test = split_dataset(frame, "target", 0.25, seed=5)
    assert len(train) == 750 and len(test) == 250
    share = {part: (f["target"] == "yes").mean() for part, f in (("train", train), ("test", test))}
    assert share["train"] == pytest.approx(share["test"], abs=0.01)
    again, _ = split_dataset(frame, "target", 0.25, seed=5)
    pd.testing.assert_frame_equal(train, again)


def test_split_refuses_a_class_too_small(tiny_frame):
    frame = tiny_frame.assign(target="no")
    with pytest.raises(DataError, match="each class needs at least 2 rows"):
        split_dataset(frame, "target", 0.2, seed=0)


def test_regression_split_is_not_stratified():
    frame = generate_dataset(GenerateParams(n_rows=100), DataParams(task="regression"))
    train, test = split_dataset(frame, "target", 0.2, seed=0, stratify=False)
    assert len(train) == 80 and len(test) == 20


def test_table_io_and_hash(tmp_path, tiny_frame):
    path = tmp_path / "sub" / "t.parquet"
    write_table(tiny_frame, path)
    pd.testing.assert_frame_equal(read_table(path), tiny_frame)
    assert len(file_md5(path)) == 32
    assert not list(path.parent.glob(".*tmp"))  # no staging file left behind
    with pytest.raises(DataError, match="run the stage that produces it"):
        read_table(tmp_path / "missing.parquet")
