import re

import numpy as np
import pytest

from modelops.params import ValidateParams
from modelops.pipeline.validation import Contract, validate_dataset

BOUNDS = ValidateParams(min_rows=20, feature_min=-100, feature_max=100)


def contract(frame, **bounds):
    features = tuple(c for c in frame.columns if c != "target")
    return Contract(features=features, target="target", bounds=BOUNDS.model_copy(update=bounds))


def messages(report):
    return [f["message"] for f in report.failures]


def test_good_data_passes_and_writes_data_docs(tiny_frame, tmp_path):
    report = validate_dataset(tiny_frame, contract(tiny_frame), docs_dir=tmp_path / "docs")
    assert report.success, report.describe_failures()
    assert report.rows == 60 and report.evaluated > 10 and report.failures == []
    assert (tmp_path / "docs" / "index.html").is_file()
    assert list((tmp_path / "docs" / "validations").rglob("*.html"))


def test_bad_values_are_each_listed_with_what_was_observed(tiny_frame):
    frame = tiny_frame.copy()
    frame.loc[3, "feature_00"] = np.nan
    frame.loc[5, "feature_01"] = 1e9
    frame["feature_02"] = frame["feature_02"].astype(str)
    frame.loc[7, "feature_02"] = "abc"
    report = validate_dataset(frame, contract(tiny_frame))
    assert not report.success
    text = "\n".join(messages(report))
    assert "feature_00: must have no nulls; observed 1 bad value(s)" in text
    assert "feature_01: values must be between -100.0 and 100.0; observed 1 bad value(s)" in text
    assert "1000000000.0" in text
    assert re.search(r"feature_02: must be numeric; observed (object|str)\b", text)
    assert {f["column"] for f in report.failures} == {"feature_00", "feature_01", "feature_02"}


def test_missing_and_unexpected_columns(tiny_frame):
    frame = tiny_frame.drop(columns=["feature_03"]).assign(extra=1.0)
    report = validate_dataset(frame, contract(tiny_frame))
    [failure] = [f for f in report.failures if f["expectation"].startswith("expect_table_columns")]
    assert "missing: ['feature_03']" in failure["message"]
    assert "unexpected: ['extra']" in failure["message"]


def test_single_class_target(tiny_frame):
    report = validate_dataset(tiny_frame.assign(target=1), contract(tiny_frame))
    text = "\n".join(messages(report))
    assert "target: must contain both classes [0, 1]" in text
    assert "target: positive fraction must be between 0.05 and 0.95; observed 1.0" in text


def test_labels_outside_zero_one(tiny_frame):
    frame = tiny_frame.copy()
    frame.loc[0, "target"] = 2
    report = validate_dataset(frame, contract(tiny_frame))
    assert any("target: values must be in [0, 1]" in m for m in messages(report))


def test_row_count_and_balance_bounds(tiny_frame):
    report = validate_dataset(tiny_frame, contract(tiny_frame, min_rows=100, max_rows=1000))
    assert any("row count must be between 100 and 1000; observed 60" in m for m in messages(report))


def test_summary_is_json_ready_and_stable(tiny_frame):
    import json

    frame = tiny_frame.copy()
    frame.loc[1, "feature_00"] = np.nan
    first = validate_dataset(frame, contract(tiny_frame)).to_dict()
    second = validate_dataset(frame, contract(tiny_frame)).to_dict()
    assert json.dumps(first, allow_nan=False) == json.dumps(second, allow_nan=False)
    assert first["expectations_failed"] == 1


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_values_are_out_of_range(tiny_frame, value):
    frame = tiny_frame.copy()
    frame.loc[2, "feature_00"] = value
    report = validate_dataset(frame, contract(tiny_frame))
    assert [f["column"] for f in report.failures] == ["feature_00"]


def test_good_data_passes_without_writing_data_docs(tiny_frame):
    # the fast twin of the data-docs test above, which `make mutation` leaves out (16 s each)
    report = validate_dataset(tiny_frame, contract(tiny_frame))
    assert report.success, report.describe_failures()
    assert report.rows == 60 and report.evaluated > 10 and report.failures == []
    assert report.describe_failures() == ""


def test_failures_are_described_one_line_each(tiny_frame):
    report = validate_dataset(tiny_frame.assign(target=1), contract(tiny_frame))
    lines = report.describe_failures().split("\n")
    assert lines == [f"  - {message}" for message in messages(report)] and len(lines) >= 2
