"""Great Expectations enforces the inferred contract: one plain line per broken expectation."""

import json
import logging
import os
import re

import numpy as np
import pandas as pd
import pytest

from modelops.params import DataParams, ValidateParams
from modelops.pipeline.contract import infer_contract
from modelops.pipeline.validation import validate_dataset
from tests.unit.pipeline.test_validation_rules import REGRESSOR

BOUNDS = ValidateParams(min_rows=20, null_margin=0.1)


@pytest.fixture
def contract(tiny_frame):
    inferred, _ = infer_contract(tiny_frame, DataParams(), BOUNDS, "tiny")
    return inferred


def messages(report):
    return [f["message"] for f in report.failures]


def test_the_table_it_was_inferred_from_passes_and_writes_data_docs(tiny_frame, contract, tmp_path):
    assert tiny_frame.isna().any().any()  # nulls within the contract's fractions are fine
    report = validate_dataset(tiny_frame, contract, docs_dir=tmp_path / "docs")
    assert report.success, report.describe_failures()
    assert report.rows == 60 and report.evaluated > 10 and report.failures == []
    assert (tmp_path / "docs" / "index.html").is_file()
    assert list((tmp_path / "docs" / "validations").rglob("*.html"))


def test_a_small_table_renders_its_data_docs_site_in_the_folder_given(tmp_path, monkeypatch):
    """The data-docs test's fast twin (a hand-built contract, three rows: under a second, so it
    stays in the mutation run): GX's site, its store and the docs action, in a relative folder."""
    monkeypatch.chdir(tmp_path)
    report = validate_dataset(pd.DataFrame({"x": [0.5, 1.0, 2.0], "y": [1.0, 2.0, 3.0]}),
                              REGRESSOR, docs_dir="docs")  # fmt: skip
    assert [f["column"] for f in report.failures] == ["x"]
    docs = tmp_path / "docs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs"]  # nothing beside the folder
    index = (docs / "index.html").read_text()
    pages = list((docs / "validations").rglob("*.html"))
    assert len(pages) == 1 and pages[0].relative_to(docs).as_posix() in index
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", pages[0].read_text()))  # its words
    assert "Status: Failed" in page
    assert "less than or equal to 1.0 . 1 unexpected values found" in page


def test_each_broken_expectation_is_one_line_with_what_was_observed(tiny_frame, contract):
    frame = tiny_frame.copy()
    frame.loc[5, "num_01"] = 1e9
    frame.loc[2, "num_02"] = np.inf
    frame["cat_00"] = frame["cat_00"].astype(object)
    frame.loc[7, "cat_00"] = "never seen"
    frame["flag_00"] = frame["flag_00"].astype(object)
    frame.loc[8, "flag_00"] = "maybe"
    frame.loc[:30, "num_00"] = np.nan  # far more nulls than inferred
    frame.loc[0, "target"] = "perhaps"
    report = validate_dataset(frame, contract)
    text = "\n".join(messages(report))
    assert re.search(r"num_00: at most \d+\.\d% nulls; observed \d+ bad value", text)
    assert "num_01: values must be finite and between" in text and "1000000000.0" in text
    assert "num_02: values must be finite and between" in text and "inf" in text
    assert "cat_00: values must be in ['level_a'" in text and "never seen" in text
    assert "flag_00: values must be in [True, False]" in text and "maybe" in text
    assert "target: values must be in ['no', 'yes']" in text and "perhaps" in text
    assert len(report.failures) == 6, text
    assert "Traceback" not in text


def test_a_column_that_changes_type(tiny_frame, contract):
    frame = tiny_frame.copy()
    frame["num_00"] = frame["num_00"].astype(str)
    report = validate_dataset(frame, contract)
    assert re.search(
        r"num_00: must be numeric; observed (object|str)\b", "\n".join(messages(report))
    )


def test_missing_and_unexpected_columns(tiny_frame, contract):
    frame = tiny_frame.drop(columns=["num_01"]).assign(extra=1.0)
    report = validate_dataset(frame, contract)
    [failure] = [f for f in report.failures if f["expectation"].startswith("expect_table_columns")]
    assert "missing: ['num_01']" in failure["message"]
    assert "unexpected: ['extra']" in failure["message"]


def test_a_lost_class_and_too_few_rows(tiny_frame, contract):
    report = validate_dataset(tiny_frame.assign(target="no").head(10), contract)
    text = "\n".join(messages(report))
    assert "target: must contain every class ['no', 'yes']" in text
    assert "row count must be between 20 and 600; observed 10" in text


def test_summary_is_json_ready_stable_and_counts_null_targets(tiny_frame, contract):
    frame = tiny_frame.copy()
    frame.loc[1, "target"] = None
    first = validate_dataset(frame, contract).to_dict()
    second = validate_dataset(frame, contract).to_dict()
    assert json.dumps(first, allow_nan=False) == json.dumps(second, allow_nan=False)
    assert first["target_null_rows"] == 1
    assert first["expectations_failed"] == 1  # the contract saw no null target
    assert first["failures"][0]["message"].startswith("target: must have no nulls")


def test_an_infinity_is_reported_in_a_json_ready_summary(tiny_frame, contract):
    frame = tiny_frame.copy()
    frame.loc[2, "num_00"] = -np.inf
    summary = validate_dataset(frame, contract).to_dict()
    text = json.dumps(summary, allow_nan=False)  # what write_json does: no bare Infinity
    assert summary["failures"][0]["observed"]["examples"] == ["-inf"]
    assert "num_00: values must be finite" in text


def test_good_data_passes_without_writing_data_docs(tiny_frame, contract):
    # the fast twin of the data-docs test above, which `make mutation` leaves out (16 s each)
    report = validate_dataset(tiny_frame, contract)
    assert report.success, report.describe_failures()
    assert report.rows == 60 and report.evaluated > 10 and report.failures == []
    assert report.describe_failures() == ""


def test_failures_are_described_one_line_each(tiny_frame, contract):
    report = validate_dataset(tiny_frame.assign(target="no").head(10), contract)
    lines = report.describe_failures().split("\n")
    assert lines == [f"  - {message}" for message in messages(report)] and len(lines) >= 2


def test_a_run_sends_no_usage_statistics_and_keeps_the_stage_log_quiet(
    tiny_frame, contract, monkeypatch, capfd
):
    monkeypatch.delenv("GX_ANALYTICS_ENABLED", raising=False)
    gx_logger = logging.getLogger("great_expectations.data_context.types.base")
    root = logging.getLogger()
    monkeypatch.setattr(gx_logger, "level", logging.INFO)  # as GX leaves it at import
    monkeypatch.setattr(root, "level", logging.INFO)
    capfd.readouterr()
    assert validate_dataset(tiny_frame, contract).success
    # GX's documented switch for usage statistics, set unless the user set it
    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"
    assert gx_logger.level == logging.WARNING  # its "Created temporary directory" lines
    assert root.level == logging.INFO  # the application's own logging is left alone
    err = capfd.readouterr().err
    assert "Calculating Metrics" not in err and "it/s" not in err  # no progress bars


def test_a_table_without_the_target_column_counts_no_target_nulls(tiny_frame, contract):
    report = validate_dataset(tiny_frame.drop(columns=[contract.target]), contract)
    assert report.target_null_rows == 0
    assert not report.success  # the missing column itself is a failure
