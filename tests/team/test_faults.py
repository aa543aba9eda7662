"""Faults of the team setup: unreachable tracking server, unreachable or refusing S3 remote."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mlflow
import pytest

from modelops.pipeline.tracking import (
    MLFLOW_HTTP_DEFAULTS,
    TrackingError,
    check_tracking_server,
    start_tracking,
)
from tests.project_copy import REPO
from tests.team.conftest import MODEL_NAME, dead_port_url, file_hashes
from tests.team.servers import mlflow_server, moto_s3

WRONG_KEY = "AKIAWRONGKEY0EXAMPLE"  # pragma: allowlist secret
team = [pytest.mark.slow, pytest.mark.xdist_group("team")]


@contextmanager
def hanging_up_server() -> Iterator[tuple[str, list[int]]]:
    """A loopback port that accepts each connection and closes it at once; counts them."""
    accepted: list[int] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(1)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stopping.set()
        thread.join(timeout=5)
        listener.close()


@contextmanager
def http_status_server(status: int) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"OK" if status == 200 else b"down")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_tracking_check_gives_up_after_bounded_attempts_naming_the_uri():
    with hanging_up_server() as (uri, accepted), pytest.raises(TrackingError) as error:
        check_tracking_server(uri, attempts=3)
    assert f"MLflow tracking server {uri} is unreachable after 3 attempt(s)" in str(error.value)
    assert len(accepted) == 3


def test_tracking_check_passes_a_healthy_server_and_refuses_an_unhealthy_one():
    with http_status_server(200) as uri:
        check_tracking_server(uri)
    with http_status_server(500) as uri, pytest.raises(TrackingError) as error:
        check_tracking_server(uri, attempts=1)
    assert f"{uri} is not healthy: GET {uri}/health answered 500" in str(error.value)
    check_tracking_server("sqlite:///nowhere/mlflow.db")  # local stores are not probed


def test_tracking_check_names_the_refused_user(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    with http_status_server(401) as uri, pytest.raises(TrackingError) as error:
        check_tracking_server(uri, attempts=1)
    assert f"MLflow tracking server {uri} refused user 'alice' (HTTP 401" in str(error.value)


def test_mlflow_requests_after_a_healthy_check_retry_a_bounded_number_of_times(
    monkeypatch, tmp_path
):
    """/health answers but the API is down (503): mlflow gives up after the project's 3 retries."""
    api_calls: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/health":
                api_calls.append(self.path)
            self.send_response(200 if self.path == "/health" else 503)
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args) -> None:
            pass

    for key in MLFLOW_HTTP_DEFAULTS:  # unset, and restored to unset after the test
        monkeypatch.setenv(key, "unset")
        monkeypatch.delenv(key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    try:
        with pytest.raises(TrackingError) as error:
            start_tracking(tmp_path)
    finally:
        server.shutdown()
        server.server_close()
        mlflow.set_tracking_uri(None)
    assert f"MLflow tracking store {uri} is not usable" in str(error.value)
    assert len(api_calls) == 1 + int(MLFLOW_HTTP_DEFAULTS["MLFLOW_HTTP_REQUEST_MAX_RETRIES"])


@pytest.mark.parametrize("target", ["push", "pull", "mlflow-server"])
def test_make_targets_without_configuration_say_how_to_configure(target, tmp_path):
    unset = ("AWS_", "DVC_REMOTE", "MLFLOW_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    result = subprocess.run(
        ["make", "-C", str(REPO), target, "SYNCED=", f"BIN={sys.prefix}/bin"],
        env={**env, "DVC_NO_ANALYTICS": "1"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    if target == "mlflow-server":
        assert "usage: MLFLOW_BACKEND_STORE_URI=postgresql://" in result.stderr
        assert "MLFLOW_ARTIFACTS_DESTINATION=s3://" in result.stderr
    else:
        assert f"error: {target}: no DVC remote is configured" in result.stderr
        assert "DVC_REMOTE_URL=s3://<bucket>/dvc" in result.stderr
        assert "dvc remote add -d storage" in result.stderr


@pytest.mark.slow
@pytest.mark.xdist_group("team")
def test_unreachable_tracking_server_fails_training_fast_and_registers_nothing(
    team_project, team_servers, tmp_path
):
    project = team_project.copy(tmp_path / "repo")
    client = mlflow.MlflowClient(tracking_uri=team_servers.mlflow_url)
    versions_before = len(client.search_model_versions(f"name='{MODEL_NAME}'"))
    candidates = file_hashes(project.root, "models/candidates")
    best = file_hashes(project.root, "models/best")

    with hanging_up_server() as (uri, accepted):
        trained = project.with_env(MLFLOW_TRACKING_URI=uri).run(
            "python", "-m", "pipelines.train", "--train", "data/split/train.parquet",
            "--contract", "contract.yaml", "--models-dir", "models/candidates", check=False,
        )  # fmt: skip
    assert trained.returncode == 1
    assert f"error: train: MLflow tracking server {uri} is unreachable after 3" in trained.stderr
    assert len(accepted) == 3  # bounded retries, then no further connection
    assert "Traceback" not in trained.stderr

    uri = dead_port_url()
    selected = project.with_env(MLFLOW_TRACKING_URI=uri).run(
        "python", "-m", "pipelines.select", "--test", "data/split/test.parquet",
        "--contract", "contract.yaml", "--validation", "reports/validation/summary.json",
        "--models-dir", "models/candidates", "--metrics", "metrics/candidates.json",
        "--best", "models/best", "--selected", "metrics/selected.json", check=False,
    )  # fmt: skip
    assert selected.returncode == 1
    assert f"error: select: MLflow tracking server {uri} is unreachable" in selected.stderr

    assert file_hashes(project.root, "models/candidates") == candidates
    assert file_hashes(project.root, "models/best") == best
    assert len(client.search_model_versions(f"name='{MODEL_NAME}'")) == versions_before


def cache_hashes(project) -> dict[str, str]:
    hashes = file_hashes(project.root, ".dvc/cache")
    assert hashes, "the reproduced project has a DVC cache"
    return hashes


@pytest.mark.slow
@pytest.mark.xdist_group("team")
def test_push_to_an_unreachable_s3_endpoint_is_a_clear_error_and_keeps_the_cache(
    team_project, team_servers, tmp_path
):
    project = team_project.copy(tmp_path / "repo")
    before = cache_hashes(project)
    endpoint = dead_port_url()
    remote = project.with_env(
        **{**team_servers.remote_env("unreachable"), "AWS_ENDPOINT_URL": endpoint}
    )

    pushed = remote.run("python", "-m", "pipelines.remote", "push", check=False)
    assert pushed.returncode == 1
    assert (
        f"error: push: S3 endpoint {endpoint} is unreachable for DVC remote "
        "s3://team-dvc-remote/unreachable after 2 attempt(s)"
    ) in pushed.stderr
    assert cache_hashes(project) == before

    # DVC on its own (what `make push` runs after its check) fails too, cache untouched.
    raw = remote.run("dvc", "push", check=False)
    assert raw.returncode != 0 and endpoint.removeprefix("http://") in raw.stderr + raw.stdout
    assert cache_hashes(project) == before


@pytest.mark.slow
@pytest.mark.xdist_group("team")
def test_refused_credentials_name_the_access_key_and_the_reason(team_project, tmp_path):
    project = team_project.copy(tmp_path / "repo")
    before = cache_hashes(project)
    with moto_s3(tmp_path, check_credentials=True) as endpoint:
        remote = project.with_env(
            DVC_REMOTE_URL="s3://team-dvc-remote/dvc",
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID=WRONG_KEY,
            AWS_SECRET_ACCESS_KEY="not-the-secret",  # pragma: allowlist secret
            AWS_DEFAULT_REGION="us-east-1",
        )
        pushed = remote.run("python", "-m", "pipelines.remote", "push", check=False)
        pulled = remote.run("python", "-m", "pipelines.remote", "pull", check=False)
    for result, action in ((pushed, "push"), (pulled, "pull")):
        assert result.returncode == 1
        assert (
            f"error: {action}: S3 refused access key '{WRONG_KEY}' to s3://team-dvc-remote"
        ) in result.stderr
        assert "InvalidAccessKeyId" in result.stderr
    assert cache_hashes(project) == before


@pytest.mark.slow
@pytest.mark.xdist_group("team")
def test_tracking_server_refusing_credentials_names_the_user(team_project, team_servers, tmp_path):
    """`make mlflow-server` with MLFLOW_APP_NAME=basic-auth: a wrong password fails the stage."""
    auth_ini = tmp_path / "basic_auth.ini"
    auth_ini.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{tmp_path / 'auth.db'}\nadmin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    server = mlflow_server(
        tmp_path,
        backend_store_uri=f"sqlite:///{tmp_path / 'tracking.db'}",
        artifacts_destination="s3://team-mlflow-artifacts/auth",
        s3_endpoint=team_servers.s3_endpoint,
        extra_env={
            "MLFLOW_APP_NAME": "basic-auth",
            "MLFLOW_AUTH_CONFIG_PATH": str(auth_ini),
            "MLFLOW_AUTH_ADMIN_PASSWORD": "right-password-1234",  # pragma: allowlist secret
            "MLFLOW_FLASK_SERVER_SECRET_KEY": "test-only-csrf-key",  # pragma: allowlist secret
        },
    )
    project = team_project.copy(tmp_path / "repo")
    candidates = file_hashes(project.root, "models/candidates")
    train = ("python", "-m", "pipelines.train", "--train", "data/split/train.parquet",
             "--contract", "contract.yaml", "--models-dir", "models/candidates")  # fmt: skip
    with server as uri:
        wrong = project.with_env(
            MLFLOW_TRACKING_URI=uri,
            MLFLOW_TRACKING_USERNAME="admin",
            MLFLOW_TRACKING_PASSWORD="wrong-password",  # pragma: allowlist secret
        ).run(*train, check=False)
        anonymous = project.with_env(MLFLOW_TRACKING_URI=uri).run(*train, check=False)
    assert wrong.returncode == 1
    assert f"error: train: MLflow tracking server {uri} refused user 'admin'" in wrong.stderr
    assert "MLFLOW_TRACKING_PASSWORD" in wrong.stderr
    assert anonymous.returncode == 1
    assert f"{uri} refused anonymous access (MLFLOW_TRACKING_USERNAME unset)" in anonymous.stderr
    assert file_hashes(project.root, "models/candidates") == candidates


@pytest.mark.slow
@pytest.mark.xdist_group("team")
def test_remote_check_names_a_missing_bucket_and_missing_credentials(team_project, team_servers):
    missing_bucket = team_project.with_env(
        **{**team_servers.remote_env(), "DVC_REMOTE_URL": "s3://no-such-team-bucket/dvc"}
    ).run("python", "-m", "pipelines.remote", "check", check=False)
    assert missing_bucket.returncode == 1
    assert "bucket 'no-such-team-bucket' of DVC remote" in missing_bucket.stderr
    assert "does not exist" in missing_bucket.stderr

    no_credentials = team_project.with_env(
        DVC_REMOTE_URL="s3://team-dvc-remote/dvc",
        AWS_ENDPOINT_URL=team_servers.s3_endpoint,
        # no keys, no profile files, and never the instance metadata address
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/credentials",
        AWS_CONFIG_FILE="/nonexistent/config",
        AWS_EC2_METADATA_DISABLED="true",
    ).run("python", "-m", "pipelines.remote", "check", check=False)
    assert no_credentials.returncode == 1
    assert "no AWS credentials for DVC remote s3://team-dvc-remote/dvc" in no_credentials.stderr
