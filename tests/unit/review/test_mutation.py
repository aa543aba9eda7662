"""The mutation report: score, survivors and their diffs from a mutmut run."""

from modelops.review import mutation
from modelops.review.mutation import Mutant, mutant_diff, parse_results, score, summarise

RESULTS = """
    modelops.pipeline.selection.x_decide__mutmut_1: killed
    modelops.pipeline.selection.x_decide__mutmut_2: survived
    modelops.pipeline.selection.x_decide__mutmut_3: timeout
    modelops.serving.inference.xǁPredictorǁcheck_columns__mutmut_4: no tests
    modelops.serving.inference.xǁPredictorǁcheck_columns__mutmut_5: skipped
    some other line
"""

MUTATED = """
def x_decide__mutmut_orig(worse_by, limit):
    if worse_by > limit:
        raise ValueError("refused")
    return "passes"


def x_decide__mutmut_2(worse_by, limit):
    if worse_by >= limit:
        raise ValueError("refused")
    return "passes"
"""


def test_results_are_parsed_with_their_module_and_function():
    mutants = parse_results(RESULTS)
    assert [m.status for m in mutants] == ["killed", "survived", "timeout", "no tests", "skipped"]
    assert mutants[0].module == "modelops.pipeline.selection"
    assert mutants[0].readable_function == "decide"
    assert mutants[3].readable_function == "Predictor.check_columns"


def test_score_counts_survivors_and_untested_mutants_as_missed_and_ignores_skipped():
    mutants = parse_results(RESULTS)
    assert score(mutants) == 0.5  # killed + timeout caught; survived + no tests missed
    assert score([Mutant("m.x_f__mutmut_1", "not checked")]) is None


def test_summary_per_module_and_incomplete_runs_are_flagged():
    mutants = [*parse_results(RESULTS), Mutant("m.x_f__mutmut_1", "not checked")]
    summary = summarise(mutants)
    assert summary["complete"] is False and summary["mutants"] == 6
    assert summary["modules"]["modelops.pipeline.selection"] == {
        "score": 0.6667, "killed": 1, "survived": 1, "timeout": 1,
    }  # fmt: skip
    assert summary["survivors"] == [
        "modelops.pipeline.selection.x_decide__mutmut_2",
        "modelops.serving.inference.xǁPredictorǁcheck_columns__mutmut_4",
    ]


def test_a_survivor_is_shown_as_a_diff_against_the_original(tmp_path):
    module = tmp_path / "src" / "modelops" / "pipeline" / "selection.py"
    module.parent.mkdir(parents=True)
    module.write_text(MUTATED)
    diff = mutant_diff(Mutant("modelops.pipeline.selection.x_decide__mutmut_2", "survived"),
                       tmp_path, {})  # fmt: skip
    assert "-    if worse_by > limit:" in diff and "+    if worse_by >= limit:" in diff
    assert "__mutmut" not in diff  # shown under the function's own name


def test_the_report_is_written_and_the_score_printed(tmp_path, monkeypatch, capsys):
    mutants_dir = tmp_path / "mutants"
    (mutants_dir / "src" / "modelops" / "pipeline").mkdir(parents=True)
    (mutants_dir / "src" / "modelops" / "pipeline" / "selection.py").write_text(MUTATED)

    class Listed:
        returncode, stdout, stderr = 0, RESULTS, ""

    monkeypatch.setattr(mutation.subprocess, "run", lambda *a, **k: Listed())
    out = tmp_path / "report"
    summary = tmp_path / "step-summary.md"
    args = ["--output", str(out), "--mutants", str(mutants_dir), "--summary", str(summary)]
    assert mutation.main([*args, "--min-score", "0.9"]) == 1  # 0.5 is below --min-score
    assert "## Mutation score 50.0%" in summary.read_text()
    assert "| `modelops.pipeline.selection` | 0.6667 | 1 | 1 | 0 | 1 |" in summary.read_text()
    assert "mutation score 50.0% over 5 mutants: 2 missed" in capsys.readouterr().out
    assert '"score": 0.5' in (out / "summary.json").read_text()
    assert "+    if worse_by >= limit:" in (out / "survivors.md").read_text()


def test_a_part_of_the_run_is_reported_alone(tmp_path, monkeypatch, capsys):
    (tmp_path / "mutants").mkdir()

    class Listed:
        returncode, stdout, stderr = 0, RESULTS, ""

    monkeypatch.setattr(mutation.subprocess, "run", lambda *a, **k: Listed())
    args = ["--output", str(tmp_path / "r"), "--mutants", str(tmp_path / "mutants")]
    args += ["--summary", str(tmp_path / "summary.md")]
    assert mutation.main([*args, "--matching", "modelops.serving.*"]) == 0
    assert "mutation score 0.0% over 2 mutants: 1 missed" in capsys.readouterr().out


def test_without_a_run_it_says_what_to_do(tmp_path, capsys):
    assert mutation.main(["--mutants", str(tmp_path / "nowhere")]) == 2
    assert "run 'mutmut run' first" in capsys.readouterr().err
