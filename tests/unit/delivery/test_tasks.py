"""modelops.delivery.tasks: what make serve/smoke/mlflow-server/bench-serve/monitor check, and the
command each then becomes (built here, not run)."""

import json
import shutil
import sys
from pathlib import Path

import pytest

from modelops.delivery import tasks
from modelops.delivery.tasks import TaskError

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    return tmp_path


@pytest.mark.parametrize("command", [["serve"], ["bench-serve"]])
def test_without_a_packaged_model_it_says_to_run_the_pipeline(project, capsys, command):
    assert tasks.main(command) == 1
    assert capsys.readouterr().err.strip() == "no packaged model: run 'make run' first"


def test_serve_runs_the_packaged_model_with_the_params_capture_settings(project, capsys):
    shutil.copy(ROOT / "params.yaml", project / "params.yaml")
    (project / "models" / "bento.json").write_text(json.dumps({"model_tag": "clf:abc123"}))
    command, env = tasks.serve_command(3001, "/data/captures", {"MODELOPS_CAPTURE_MAX_ROWS": "7"})
    assert command == [sys.executable, "-m", "bentoml", "serve", "services.classifier:Classifier",
                       "--host", "127.0.0.1", "--port", "3001"]  # fmt: skip
    assert env["MODELOPS_MODEL_TAG"] == "clf:abc123"
    assert env["MODELOPS_CAPTURE_DIR"] == "/data/captures"
    assert env["MODELOPS_CAPTURE_MAX_ROWS"] == "7"  # the caller's setting wins
    assert float(env["MODELOPS_CAPTURE_SAMPLE_RATE"]) > 0  # from params.yaml's monitor:
    out = capsys.readouterr().out
    assert "serving clf:abc123 at http://127.0.0.1:3001" in out
    assert "docs: http://127.0.0.1:3001/docs" in out


def test_serve_keeps_a_capture_dir_the_environment_sets(project):
    shutil.copy(ROOT / "params.yaml", project / "params.yaml")
    (project / "models" / "bento.json").write_text(json.dumps({"model_tag": "clf:1"}))
    _, env = tasks.serve_command(3000, "captures", {"MODELOPS_CAPTURE_DIR": "/elsewhere"})
    assert env["MODELOPS_CAPTURE_DIR"] == "/elsewhere"


def test_serve_stops_when_the_capture_settings_are_invalid(project):
    (project / "params.yaml").write_text("monitor:\n  sample_rate: lots\n")
    (project / "models" / "bento.json").write_text(json.dumps({"model_tag": "clf:1"}))
    with pytest.raises(TaskError, match="capture settings could not be read"):
        tasks.serve_command(3000, "captures", {})


def test_smoke_needs_a_url_and_defaults_to_unsigned_calls(capsys):
    assert tasks.main(["smoke", "--url", ""]) == 2
    assert "usage: make smoke URL=<base url of the service>" in capsys.readouterr().err
    command, env = tasks.smoke_command("https://x.example/", "", {})
    assert command[-1] == "tests/smoke" and "no:xdist" in command
    assert (env["SMOKE_BASE_URL"], env["SMOKE_AUTH"]) == ("https://x.example/", "none")
    assert tasks.smoke_command("u", "", {"SMOKE_AUTH": "aws_iam"})[1]["SMOKE_AUTH"] == "aws_iam"
    assert tasks.smoke_command("u", "none", {"SMOKE_AUTH": "aws_iam"})[1]["SMOKE_AUTH"] == "none"


def test_mlflow_server_names_both_settings_and_never_prints_the_store_credentials(capsys):
    assert tasks.main(["mlflow-server"]) == 2
    err = capsys.readouterr().err
    assert "MLFLOW_BACKEND_STORE_URI=postgresql://" in err and "MLFLOW_ARTIFACTS_DESTINATION" in err
    environ = {
        "MLFLOW_BACKEND_STORE_URI": "postgresql://ann:pw@db/mlflow",  # pragma: allowlist secret
        "MLFLOW_ARTIFACTS_DESTINATION": "s3://bucket/mlflow",
    }
    command = tasks.mlflow_server_command("0.0.0.0", 5001, 4, "basic-auth", environ)
    assert command == [
        "mlflow", "server", "--backend-store-uri", environ["MLFLOW_BACKEND_STORE_URI"],
        "--artifacts-destination", "s3://bucket/mlflow", "--host", "0.0.0.0", "--port", "5001",
        "--workers", "4", "--app-name", "basic-auth",
    ]  # fmt: skip
    out = capsys.readouterr().out
    assert "store: postgresql://..." in out and "pw@" not in out
    assert "--app-name" not in tasks.mlflow_server_command("h", 1, 1, "", environ)


def test_monitor_needs_the_reference_summary(project, capsys):
    assert tasks.main(["monitor", "--source", "captures"]) == 1
    assert "no reference summary (models/reference.json): run 'make run'" in (
        capsys.readouterr().err
    )
    (project / "models" / "reference.json").write_text("{}")
    command = tasks.monitor_command("s3://b/p", "3")
    assert command[-4:] == ["--source", "s3://b/p", "--days", "3"]
    assert "--days" not in tasks.monitor_command("captures", "")
