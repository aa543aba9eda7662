"""Fixtures: real PostgreSQL, moto S3 and MLflow servers, and the pipeline run against them."""

from __future__ import annotations

import atexit
import hashlib
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests.project_copy import TINY_PARAMS, Project, copy_repository
from tests.team.servers import (
    FAKE_AWS,
    mlflow_server,
    moto_s3,
    postgres_missing,
    postgres_server,
    stop_all,
)

ARTIFACTS_BUCKET = "team-mlflow-artifacts"
DVC_BUCKET = "team-dvc-remote"
MODEL_NAME = "modelops-classifier"
atexit.register(stop_all)  # a crashed session still stops its servers


class TeamProject(Project):
    """A repository copy whose commands run with extra environment (tracking URI, remote)."""

    def __init__(self, root: Path, extra_env: dict[str, str] | None = None):
        super().__init__(root)
        self.extra_env = dict(extra_env or {})

    def env(self) -> dict[str, str]:
        # No AWS settings from the machine: each test says exactly which ones a command gets.
        env = {k: v for k, v in super().env().items() if not k.startswith("AWS_")}
        env.pop("DVC_REMOTE_URL", None)
        return {**env, **self.extra_env}

    def with_env(self, **changes: str | None) -> TeamProject:
        """The same folder with changed extra environment (None removes a variable)."""
        extra = {**self.extra_env, **changes}
        return TeamProject(self.root, {k: v for k, v in extra.items() if v is not None})

    def copy(self, destination: Path) -> TeamProject:
        return TeamProject(super().copy(destination).root, self.extra_env)


@dataclass(frozen=True)
class Servers:
    """The running team servers."""

    postgres_url: str
    s3_endpoint: str
    mlflow_url: str
    log_dir: Path

    def s3(self):
        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
            region_name=FAKE_AWS["AWS_DEFAULT_REGION"],
        )

    def remote_env(self, prefix: str = "dvc") -> dict[str, str]:
        """What a team member exports for `make push` / `make pull` (README: Team setup)."""
        return {
            "DVC_REMOTE_URL": f"s3://{DVC_BUCKET}/{prefix}",
            "AWS_ENDPOINT_URL": self.s3_endpoint,
            **FAKE_AWS,
        }


@pytest.fixture(scope="session")
def team_servers(tmp_path_factory) -> Servers:
    """PostgreSQL, moto S3 and `make mlflow-server` over both, stopped at the end."""
    reason = postgres_missing()
    if reason:
        pytest.skip(reason)
    log_dir = tmp_path_factory.mktemp("team-server-logs")
    with postgres_server() as postgres, moto_s3(log_dir) as s3_endpoint:
        s3 = boto3.client(
            "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip
        for bucket in (ARTIFACTS_BUCKET, DVC_BUCKET):
            s3.create_bucket(Bucket=bucket)
        with mlflow_server(
            log_dir,
            backend_store_uri=postgres.url,
            artifacts_destination=f"s3://{ARTIFACTS_BUCKET}/mlflow",
            s3_endpoint=s3_endpoint,
        ) as mlflow_url:
            yield Servers(postgres.url, s3_endpoint, mlflow_url, log_dir)


@pytest.fixture(scope="session")
def team_project(team_servers, tmp_path_factory) -> TeamProject:
    """The repository with tiny params after `dvc repro` against the tracking server, pushed.

    The pipeline gets the tracking URI only: no AWS credentials and no S3 endpoint, since the
    server proxies artifact uploads to S3 (`--artifacts-destination`).
    """
    root = copy_repository(tmp_path_factory.mktemp("team-repo")).root
    project = TeamProject(root, {"MLFLOW_TRACKING_URI": team_servers.mlflow_url})
    project.set_params(TINY_PARAMS)
    project.repro()
    project.run("git", "add", "-A")
    project.run("git", "-c", "user.name=t", "-c", "user.email=t@example.invalid",
                "commit", "-qm", "pipeline outputs")  # fmt: skip
    return project


def file_hashes(root: Path, *folders: str) -> dict[str, str]:
    """sha256 of every file under the folders (or of a file named), by path relative to root."""
    hashes = {}
    for folder in folders:
        top = root / folder
        for path in [top] if top.is_file() else sorted(top.rglob("*")):
            if path.is_file():
                hashes[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def dead_port_url() -> str:
    """A loopback URL where nothing listens."""
    from modelops.delivery.local_server import free_port

    return f"http://127.0.0.1:{free_port()}"
