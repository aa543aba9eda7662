"""The PR report on a temporary git repository: a base commit and a head that changes params,
metrics and plot data (no pipeline run: the files are what `dvc repro` would have committed)."""

import json
import subprocess
import sys

import pytest

from modelops.review.collect import ReportError, build_report
from modelops.review.render import MARKER, render_markdown
from modelops.review.report import write_report
from tests.project_copy import copy_repository

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("report")]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def commit(root, message):
    subprocess.run([*GIT, "commit", "-qam", message], cwd=root, check=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """Base = the repository as committed; head = C halved, xgboost better, a ROC point moved."""
    project = copy_repository(tmp_path_factory.mktemp("report-repo"))
    root = project.root
    project.set_params({"train": {"candidates": {"linear": {"C": 0.5}}}})

    def better(scores):
        scores["xgboost"]["roc_auc"] = 0.9812
        scores["xgboost"]["f1"] = 0.95

    edit_json(root / "metrics/candidates.json", better)

    def selected(record):
        record["metrics"]["roc_auc"], record["metrics"]["f1"] = 0.9812, 0.95
        record["score"] = 0.9812
        record["reason"] = "'xgboost' is the best of 3 candidate(s) by roc_auc (0.981200)"

    edit_json(root / "metrics/selected.json", selected)

    def moved(points):
        points[1]["tpr"] = 0.5

    edit_json(root / "plots/roc/xgboost.json", moved)
    confusion = root / "plots/confusion/xgboost.csv"
    lines = confusion.read_text().splitlines()
    confusion.write_text("\n".join([lines[0], "0,1", *lines[2:]]) + "\n")
    commit(root, "head: C=0.5")
    # the DVC outputs a reviewer also sees (not in git: produced by `dvc repro` / `make pull`)
    (root / "models/best").mkdir(parents=True)
    card = {"name": "modelops-classifier", "version": "3", "candidate": "xgboost",
            "threshold": 0.5, "git_commit": "abc", "data_hash": "d" * 32,
            "feature_schema": [{"name": "feature_00", "dtype": "float64"}]}  # fmt: skip
    (root / "models/best/model_card.json").write_text(json.dumps(card))
    (root / "reports/validation").mkdir(parents=True)
    summary = {"success": True, "rows": 5000, "expectations_evaluated": 30,
               "expectations_failed": 0, "positive_fraction": 0.4992, "failures": []}  # fmt: skip
    (root / "reports/validation/summary.json").write_text(json.dumps(summary))
    return project


def test_report_shows_params_metrics_gate_card_validation_and_plots(repo, tmp_path):
    path, report = write_report(repo.root, "HEAD~1", tmp_path / "pr")
    text = path.read_text()
    assert report.gate_passed is True

    assert text.startswith(MARKER)
    assert "| `train.candidates.linear.C` | 1 | 0.5 | -0.5 |" in text
    assert "| `metrics.roc_auc` | 0.953327 | 0.9812 | +0.027873 🟢 better |" in text
    assert "| `score` | 0.953327 | 0.9812 | +0.027873 🟢 better |" in text
    xgboost = next(line for line in text.splitlines() if line.startswith("| xgboost |"))
    assert (
        "**0.9812** (+0.027873 🟢 better)" in xgboost
        and "**0.95** (+0.126265 🟢 better)" in xgboost
    )
    lr = next(line for line in text.splitlines() if line.startswith("| linear |"))
    assert "**" not in lr  # unchanged metrics are not highlighted
    assert "**Gate vs base: ✅ passes** — 'xgboost' is the best of 3 candidate(s)" in text
    assert "champion version xgboost at HEAD~1 has 0.953327" in text
    assert "Recorded by `dvc repro`" in text and "(0.981200)" in text
    assert "✅ passed: 30 expectations on 5000 rows, 0 failed" in text
    assert "| version | 3 |" in text and "| features | 1 |" in text

    plots = sorted(p.name for p in (tmp_path / "pr/plots").iterdir())
    assert plots == ["calibration.png", "confusion.png", "precision_recall.png", "roc.png"]
    for name in plots:
        assert (tmp_path / "pr/plots" / name).read_bytes().startswith(PNG_MAGIC)
        assert f"](plots/{name})" in text


def test_gate_refuses_a_head_worse_than_the_base_selection(repo, tmp_path):
    project = repo.copy(tmp_path / "worse")

    def worse(scores):
        for name in scores:
            scores[name]["roc_auc"] = 0.9

    edit_json(project.root / "metrics/candidates.json", worse)
    report = build_report(project.root, "HEAD~1")
    text = render_markdown(report)
    assert report.gate_passed is False
    assert "**Gate vs base: ❌ refuses**" in text
    assert "worse than champion version xgboost at HEAD~1 (roc_auc=0.953327" in text
    # selected.json still describes the old candidates: the reviewer is told
    assert "does not match metrics/candidates.json" in text
    assert "+ uncommitted changes" in text
    assert report.selection_stale
    assert "### Model card — ⚠️ stale: the previous accepted selection" in text


def test_a_refused_new_candidate_flags_the_persisted_selection_as_stale(repo, tmp_path):
    """The old winner's metrics are unchanged and a new candidate is the best: only the ranking
    shows that select has not accepted this change (the gate refused it), so the old selection
    and model card must not pass as current."""
    project = repo.copy(tmp_path / "new-candidate")

    def add_candidate(scores):
        scores["challenger"] = {name: 0.999 for name in next(iter(scores.values()))}

    edit_json(project.root / "metrics/candidates.json", add_candidate)
    report = build_report(project.root, "HEAD~1")
    text = render_markdown(report)
    assert report.selection_stale
    assert "the best candidate of this change is 'challenger' but" in text
    assert "**The selected model and model card below are not from this change.**" in text


def test_a_current_selection_is_not_flagged(repo):
    report = build_report(repo.root, "HEAD~1")
    assert not report.selection_stale
    assert "stale" not in render_markdown(report)


def test_gate_refuses_below_min_score_from_params(repo, tmp_path):
    project = repo.copy(tmp_path / "strict")
    project.set_params({"select": {"min_score": 0.99}})
    report = build_report(project.root, "HEAD~1")
    assert report.gate_passed is False
    assert "the gate needs at least 0.99 (select.min_score)" in report.gate


def test_missing_pipeline_outputs_are_reported_not_fatal(repo, tmp_path):
    project = repo.copy(tmp_path / "bare")
    (project.root / "models/best/model_card.json").unlink()
    text = render_markdown(build_report(project.root, "HEAD~1"))
    assert "the model card (model_card.json) is missing: run `make run`" in text
    assert "No model card in the working tree." in text


def test_unknown_base_fails_clearly_and_keeps_the_previous_report(repo, tmp_path):
    out = tmp_path / "pr"
    write_report(repo.root, "HEAD~1", out)
    before = (out / "report.md").read_text()
    with pytest.raises(ReportError, match="not a commit"):
        write_report(repo.root, "no-such-branch", out)
    with pytest.raises(ReportError, match="not a git ref"):
        write_report(repo.root, "--all", out)
    assert (out / "report.md").read_text() == before
    assert len(list((out / "plots").iterdir())) == 4


def test_cli_writes_the_job_summary_without_broken_images(repo, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = subprocess.run(
        [sys.executable, "-m", "modelops.review.report", "--base", "HEAD~1",
         "--output", str(tmp_path / "out"), "--summary", str(summary)],
        cwd=repo.root, env=repo.env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "4 plot(s)" in result.stdout
    text = summary.read_text()
    assert text.startswith("earlier step\n" + MARKER)
    assert "![" not in text and "`plots/roc.png` in the `modelops-report` artifact" in text

    bad = subprocess.run(
        [sys.executable, "-m", "modelops.review.report", "--base", "nope",
         "--output", tmp_path / "x"],
        cwd=repo.root, env=repo.env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 1 and "error: report: BASE='nope' is not a commit" in bad.stderr


def test_strict_cli_fails_after_writing_a_refusing_report(repo, tmp_path):
    project = repo.copy(tmp_path / "strict-cli")
    project.set_params({"select": {"min_score": 0.99}})
    command = [sys.executable, "-m", "modelops.review.report", "--base", "HEAD~1", "--summary", ""]
    out = tmp_path / "out"

    def report(*extra):
        return subprocess.run(
            [*command, "--output", out, *extra],
            cwd=project.root, env=project.env(), capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    lenient = report()
    assert lenient.returncode == 0, lenient.stderr
    strict = report("--strict")
    assert strict.returncode == 3
    assert "the gate refuses vs HEAD~1" in strict.stderr
    assert "❌ refuses" in (out / "report.md").read_text()
