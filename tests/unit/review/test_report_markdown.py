"""Pure parts of the PR report and comment: cells, tables, image links, truncation."""

import math

from modelops.review.collect import Row, split_candidates
from modelops.review.pr_comment import MAX_BODY, prepare_body, truncate
from modelops.review.render import (
    MARKER,
    candidate_cell,
    change,
    fmt,
    rewrite_images,
    without_images,
)


def test_cells_format_numbers_missing_values_and_pipes():
    assert fmt(None) == "—"
    assert fmt(0.123456789) == "0.123457"
    assert fmt(math.nan) == "nan"
    assert fmt("a|b\nc") == "a\\|b c"  # would break the markdown table otherwise
    assert fmt({"k": 1}) == '{"k": 1}'


def test_change_column():
    assert change(Row("x", 1.0, 0.5, -0.5)) == "-0.5"
    assert change(Row("x", 1, 1, 0)) == "0"
    assert change(Row("x", None, 3, None)) == "added"
    assert change(Row("x", 3, None, None)) == "removed"
    assert change(Row("winner", "rf", "xgb", None)) == "changed"
    assert change(Row("winner", "rf", "rf", None)) == ""


def test_candidate_rows_are_grouped_and_changes_highlighted():
    grouped = split_candidates([Row("xgboost.roc_auc", 0.9, 0.95, 0.05), Row("rf.f1", 1, 1, 0)])
    assert sorted(grouped) == ["rf", "xgboost"]
    assert candidate_cell(grouped["xgboost"][0]) == "**0.95** (+0.05 🟢 better)"
    assert candidate_cell(grouped["rf"][0]) == "1"
    assert candidate_cell(None) == "—"


def test_image_links_are_rewritten_and_other_links_kept():
    text = "![ROC curve](plots/roc.png)\n[docs](https://x.test/a.png)\n![remote](https://x/y.png)"
    out = rewrite_images(text, lambda alt, path: f"<{alt}={path}>")
    assert out.splitlines()[0] == "<ROC curve=plots/roc.png>"
    assert "[docs](https://x.test/a.png)" in out
    assert "![" not in without_images("![ROC](plots/roc.png)", "the artifact")


def test_comment_body_uses_published_urls_or_points_at_the_artifact(tmp_path):
    report = tmp_path / "report.md"
    report.write_text(f"{MARKER}\n![ROC curve](plots/roc.png)\n![PR](plots/pr.png)\n")
    body = prepare_body(report, {"roc.png": "https://img/roc.png"}, "https://run/1")
    assert "![ROC curve](https://img/roc.png)" in body
    assert "- PR: `plots/pr.png` in [the report artifact](https://run/1)" in body


def test_truncate_keeps_short_bodies_and_cuts_long_ones():
    assert truncate("short") == "short"
    cut = truncate("x" * (MAX_BODY * 2))
    assert len(cut) <= MAX_BODY and cut.endswith("artifact.\n")


def test_report_shows_the_task_the_contract_diff_and_hides_per_class_columns():
    from modelops.review.collect import Report
    from modelops.review.render import render_markdown

    report = Report(
        base="main", base_commit="a" * 40, head_commit="b" * 40, dirty=False, params=[],
        selected=[],
        candidates=split_candidates([
            Row("xgboost.f1_macro", 0.8, 0.9, 0.1),
            Row("xgboost.per_class.barolo.f1", 0.7, 0.8, 0.1),
        ]),
        gate="ok", gate_passed=True, recorded_reason=None,
        validation={"success": True, "rows": 178, "expectations_evaluated": 30,
                    "expectations_failed": 0, "task": "multiclass",
                    "task_reason": "target is text with 3 distinct values",
                    "target_null_rows": 2, "failures": [],
                    "contract": {"re_inferred": True, "reason": "data.source changed (a -> b)"}},
        contract_diff="--- a/contract.yaml\n+++ b/contract.yaml\n-  - level_a\n+  - level_z\n",
    )  # fmt: skip
    text = render_markdown(report)
    assert "task multiclass (target is text with 3 distinct values); 2 rows without" in text
    assert "The contract was re-inferred: data.source changed (a -> b)." in text
    assert "### Data contract (`contract.yaml`)" in text and "+  - level_z" in text
    header = next(line for line in text.splitlines() if line.startswith("| candidate |"))
    assert "f1_macro" in header and "per_class" not in header
    unchanged = render_markdown(Report(**{**report.__dict__, "contract_diff": ""}))
    assert "### Data contract (`contract.yaml`)\n\nUnchanged." in unchanged


def test_each_metric_change_says_whether_it_is_better_or_worse():
    assert change(Row("xgboost.roc_auc", 0.9, 0.95, 0.05)) == "+0.05 🟢 better"
    assert change(Row("xgboost.log_loss", 0.3, 0.35, 0.05)) == "+0.05 🔴 worse"
    assert change(Row("metrics.brier", 0.2, 0.1, -0.1)) == "-0.1 🟢 better"
    assert change(Row("recall", 0.8, 0.7, -0.1)) == "-0.1 🔴 worse"
    assert change(Row("train.n_estimators", 100, 200, 100)) == "+100"  # a param: no verdict
    assert candidate_cell(Row("rf.f1", 0.5, 0.4, -0.1)) == "**0.4** (-0.1 🔴 worse)"


def report(**changes):
    from modelops.review.collect import Report

    fields = dict(
        base="origin/main", base_commit="a" * 40, head_commit="b" * 40, dirty=False,
        params=[], selected=[Row("winner", "rf", "rf", None)], candidates={},
        gate="best candidate 'xgb' has roc_auc=0.5; the gate needs 0.6", gate_passed=False,
        recorded_reason="'rf' is the best", model_card={"name": "clf", "version": "3"},
    )  # fmt: skip
    return Report(**(fields | changes))


def test_a_stale_selection_is_flagged_on_the_sections_it_affects():
    from modelops.review.render import render_markdown

    text = render_markdown(report(selection_stale=True))
    assert "**The selected model and model card below are not from this change.**" in text
    assert "### Selected model — ⚠️ stale: the previous accepted selection" in text
    assert "### Model card — ⚠️ stale: the previous accepted selection" in text
    current = render_markdown(report(selection_stale=False, gate_passed=True))
    assert "stale" not in current and "not from this change" not in current


def test_the_report_links_the_run_it_came_from():
    from modelops.review.render import render_markdown

    text = render_markdown(report(run_url="https://github.com/acme/m/actions/runs/9"))
    assert "From [this CI run](https://github.com/acme/m/actions/runs/9)" in text
    assert "this CI run" not in render_markdown(report())
