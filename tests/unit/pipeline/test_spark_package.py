"""`make spark-package`: the code and environment archives, content-addressed in S3, on moto.

The environment archive itself cannot be built in this test: AWS requires it built on the
workers' OS and architecture (Amazon Linux 2023, x86_64, "Using Python libraries with EMR
Serverless"), which takes a container build of minutes. The tests give `package` an archive
built elsewhere (what `--env-archive` takes) and check the rest: the content addresses, that a
rerun uploads and builds nothing, and the errors.
"""

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from modelops.pipeline.engines.spark import package as pkg


@pytest.fixture
def session(moto_bucket):
    return moto_bucket


def keys(session):
    listed = session.client("s3").list_objects_v2(Bucket="dvc-remote").get("Contents", [])
    return sorted(item["Key"] for item in listed)


def test_the_code_archive_holds_the_packages_and_is_the_same_bytes_each_time():
    first, second = pkg.code_archive(), pkg.code_archive()
    assert first == second
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert "modelops/pipeline/engines/spark/job.py" in names and "pipelines/train.py" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert b"def run(plan" in pkg.entry_point_source()


def test_both_archives_go_up_once_under_content_addresses(session, tmp_path):
    archive = tmp_path / "environment.tar.gz"
    archive.write_bytes(b"a venv-pack archive built on Amazon Linux 2023")
    said = []
    code, env = pkg.package(
        "s3://dvc-remote/spark", archive=archive, session=session, say=said.append
    )
    assert code.archive.startswith("s3://dvc-remote/spark/code/") and code.uploaded
    assert env == f"s3://dvc-remote/spark/env/{pkg.env_key()}/environment.tar.gz"
    assert said == [f"code: {code.uri}/ (uploaded)", f"environment: {env} (uploaded)"]
    uploaded = keys(session)
    # A rerun finds both: it builds nothing (no archive, no container engine) and uploads nothing.
    said.clear()
    again, env_again = pkg.package(
        "s3://dvc-remote/spark", engine="no-such-engine", session=session, say=said.append
    )
    assert (again.uri, env_again) == (code.uri, env) and not again.uploaded
    assert said == [f"code: {code.uri}/ (already there)", f"environment: {env} (already there)"]
    assert keys(session) == uploaded


def test_a_changed_lock_or_code_gets_a_new_address(session, tmp_path):
    repo = tmp_path / "repo"
    for part in ("src/modelops", "pipelines"):
        shutil.copytree(part, repo / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy("uv.lock", repo / "uv.lock")
    root = pkg.Location.parse("s3://dvc-remote/spark")
    s3 = session.client("s3")
    before, key = pkg.upload_code(s3, root, repo), pkg.env_key(repo)
    (repo / "pipelines" / "train.py").write_text("# changed\n", encoding="utf-8")
    with (repo / "uv.lock").open("a", encoding="utf-8") as lock:
        lock.write("\n# changed\n")
    after = pkg.upload_code(s3, root, repo)
    assert after.uri != before.uri and after.uploaded
    assert pkg.env_key(repo) != key


def test_bad_input_is_named(session, tmp_path, capsys, monkeypatch):
    with pytest.raises(pkg.PackageError, match=r"--s3-uri: need an s3://bucket/prefix URI"):
        pkg.package("dvc-remote/spark", session=session)
    with pytest.raises(pkg.PackageError, match=r"bucket 'nope' does not exist"):
        pkg.package("s3://nope/spark", session=session)
    with pytest.raises(pkg.PackageError, match=r"--env-archive: file not found"):
        pkg.package("s3://dvc-remote/spark", archive=tmp_path / "none.tar.gz", session=session)
    with pytest.raises(pkg.PackageError, match=r"no container engine 'no-such-engine'"):
        pkg.package("s3://dvc-remote/spark", engine="no-such-engine", session=session)
    assert not [key for key in keys(session) if "/env/" in key]  # nothing half-made
    monkeypatch.delenv("EMR_SERVERLESS_S3_URI", raising=False)
    assert pkg.main([]) == 2
    assert "EMR_SERVERLESS_S3_URI" in capsys.readouterr().err


def test_the_build_runs_aws_recipe_on_amazon_linux_x86_64(tmp_path):
    command = pkg.build_command("podman", Path("."), tmp_path)
    assert command[command.index("--platform") + 1] == "linux/amd64"
    assert "public.ecr.aws/amazonlinux/amazonlinux:2023" in command
    script = command[-1]
    assert "python3.11 -m venv" in script and "venv-pack" in script
    assert "--no-emit-package pyspark" in script  # the application's Spark provides it
