"""`make monitor`'s command: reads a folder window, writes drift.json + drift.html, summarises."""

import json
from datetime import timedelta

import yaml

from modelops.monitoring.monitor import main
from modelops.pipeline.contract import Column, Contract, write_contract

from .conftest import NOW, capture_records, table


def setup(tmp_path, reference, rows):
    captures = tmp_path / "captures" / f"date={NOW.date()}"
    captures.mkdir(parents=True)
    lines = [json.dumps(r) for r in capture_records(rows, start=NOW - timedelta(hours=1))]
    (captures / "a.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "reference.json").write_text(json.dumps(reference))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"monitor": {"min_rows": 500}}))
    contract = Contract(
        source="s",
        target="churn",
        task="binary",
        task_reason="",
        min_rows=1,
        max_rows=10,
        target_max_null_fraction=0.0,
        classes=("no", "yes"),
        columns=(
            Column("income", "number", 0.05, 0.15, min=-100.0, max=200.0),
            Column("plan", "category", 0.05, 0.15, categories=("basic", "plus", "pro")),
            Column("active", "boolean", 0.05, 0.15),
        ),
    )
    write_contract(contract, tmp_path / "contract.yaml")
    return [
        "--source",
        str(tmp_path / "captures"),
        "--reference",
        str(tmp_path / "reference.json"),
        "--contract",
        str(tmp_path / "contract.yaml"),
        "--params",
        str(tmp_path / "params.yaml"),
        "--output",
        str(tmp_path / "out"),
        "--until",
        NOW.isoformat(),
    ]


def test_a_drifted_window_is_reported_in_json_html_and_on_screen(tmp_path, reference, capsys):
    args = setup(tmp_path, reference, table(1500, seed=3, shift=2.0, plan="gold"))
    assert main(args) == 0
    report = json.loads((tmp_path / "out" / "drift.json").read_text())
    assert report["drift"] is True and report["rows"] == 1500
    assert report["drifted_features"] == ["income", "plan"]
    assert report["fingerprint"] and report["contract_check"]["success"] is False
    page = (tmp_path / "out" / "drift.html").read_text()
    assert "DRIFT" in page and page.count("data:image/png;base64,") == 3  # 2 features + predictions
    screen = capsys.readouterr().out
    assert "monitor: DRIFT — 1500 rows" in screen
    assert "drifted  income: normalized Wasserstein" in screen
    assert "unseen: gold" in screen
    assert len(screen.splitlines()) < 25  # one screen


def test_a_failed_run_names_the_problem_and_keeps_the_last_report(tmp_path, reference, capsys):
    args = setup(tmp_path, reference, table(600, seed=3))
    assert main(args) == 0
    before = (tmp_path / "out" / "drift.json").read_text()
    assert json.loads(before)["drift"] is False
    (tmp_path / "reference.json").unlink()
    assert main(args) == 1
    assert "reference.json: not found" in capsys.readouterr().err
    (tmp_path / "params.yaml").write_text("monitor:\n  min_rows: 0\n")
    assert main([*args[:-2]]) == 1
    assert "monitor.min_rows" in capsys.readouterr().err
    assert (tmp_path / "out" / "drift.json").read_text() == before


def test_capture_settings_come_from_params_unless_the_environment_sets_them(tmp_path):
    from modelops.monitoring.monitor import capture_environment

    params = tmp_path / "params.yaml"
    params.write_text(
        yaml.safe_dump(
            {
                "monitor": {
                    "sample_rate": 0.25,
                    "max_rows_per_request": 7,
                    "exclude": ["ssn", "email"],
                }
            }
        )
    )
    assert capture_environment(str(params), {}) == [
        "MODELOPS_CAPTURE_SAMPLE_RATE=0.25",
        "MODELOPS_CAPTURE_MAX_ROWS=7",
        "MODELOPS_CAPTURE_EXCLUDE=ssn,email",
    ]
    chosen = {"MODELOPS_CAPTURE_SAMPLE_RATE": "1"}
    assert capture_environment(str(params), chosen)[0] == "MODELOPS_CAPTURE_MAX_ROWS=7"
