"""`make spark-package`: the project's code and Python environment, as EMR Serverless runs them.

Two archives, both stored content-addressed under the S3 root (`--s3-uri`), so a rerun with the
same inputs uploads nothing:

- `<root>/code/<sha256 of the archive>/code.zip`: the `modelops` and `pipelines` packages, put on
  the job's Python path with `spark.submit.pyFiles`, and `job.py` next to it, the job's entry
  point (`modelops.pipeline.engines.spark.job`). Built here, from the worktree, with fixed
  timestamps and order: the same files give the same bytes, hence the same key.
- `<root>/env/<key>/environment.tar.gz`: the project's locked dependencies in a virtual
  environment packed with venv-pack, shipped with `spark.archives=...#environment` and used as
  `PYSPARK_PYTHON=./environment/bin/python` ("Using Python libraries with EMR Serverless" in the
  EMR Serverless user guide). A venv holds compiled wheels and a link to its interpreter, so AWS
  requires it to be built on the workers' OS and architecture: Amazon Linux 2023 (EMR 7.x),
  x86_64, with the Python the job runs (3.11). It is built in that image with the container
  engine (`--platform linux/amd64`); a venv of this machine (another OS, another interpreter
  path) would not start there. Its key is a digest of what determines its contents (uv.lock,
  the image, the Python version, the platform), so it is built only when one of them changes.
  pyspark is left out: the application's Spark provides it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shlex
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

# What AWS documents for EMR 7.x workers (Amazon Linux 2023, x86_64) and the job's Python.
BUILD_IMAGE = "public.ecr.aws/amazonlinux/amazonlinux:2023"
BUILD_PLATFORM = "linux/amd64"
PYTHON = "python3.11"
ENV_ARCHIVE = "environment.tar.gz"
CODE_ARCHIVE = "code.zip"
ENTRY_POINT = "job.py"
PACKAGES = ("src/modelops", "pipelines")  # the import roots the stages need
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time zip stores: no build time in the bytes


class PackageError(RuntimeError):
    """A setting is missing or wrong, or a build or upload failed; the message says which."""


@dataclass(frozen=True)
class Location:
    """An s3://bucket/prefix, split."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str, role: str = "--s3-uri") -> Location:
        """`s3://bucket[/prefix]`, or a PackageError naming `role`."""
        parsed = urlparse(uri or "")
        if parsed.scheme != "s3" or not parsed.netloc:
            raise PackageError(f"{role}: need an s3://bucket/prefix URI, got {uri!r}")
        return cls(parsed.netloc, parsed.path.strip("/"))

    def key(self, *parts: str) -> str:
        """The object key of `parts` under the prefix."""
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p.strip("/"))

    def uri(self, *parts: str) -> str:
        """The s3:// URI of `parts` under the prefix."""
        return f"s3://{self.bucket}/{self.key(*parts)}"


def _package_files(repo: Path) -> list[tuple[str, Path]]:
    """(name in the archive, file) of every file of the packages, sorted; no caches."""
    files = []
    for root in PACKAGES:
        base = repo / root
        if not base.is_dir():
            raise PackageError(f"{base}: missing; run from the repository's root")
        for path in base.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.append((path.relative_to(base.parent).as_posix(), path))
    return sorted(files)


def code_archive(repo: str | Path = ".") -> bytes:
    """`code.zip`: the `modelops` and `pipelines` packages at its root, the same bytes each time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in _package_files(Path(repo)):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def entry_point_source() -> bytes:
    """The job's entry point: the source of `modelops.pipeline.engines.spark.job`."""
    return (Path(__file__).with_name("job.py")).read_bytes()


def env_key(repo: str | Path = ".") -> str:
    """The environment archive's key: a digest of uv.lock, the build image, Python, platform."""
    lock = Path(repo) / "uv.lock"
    if not lock.is_file():
        raise PackageError(f"{lock}: missing; the environment is built from the lock file")
    digest = hashlib.sha256(lock.read_bytes())
    digest.update(f"\n{BUILD_IMAGE}\n{PYTHON}\n{BUILD_PLATFORM}\n".encode())
    return digest.hexdigest()[:32]


def _exists(s3: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise PackageError(f"s3://{bucket}/{key}: {exc}") from None
    return True


def put_once(s3: Any, bucket: str, key: str, body: bytes | Path) -> bool:
    """Upload `body` to `key` unless an object is there already (keys are content addresses).

    Returns:
        whether it uploaded.

    """
    if _exists(s3, bucket, key):
        return False
    if isinstance(body, Path):
        s3.upload_file(str(body), bucket, key)  # multipart for a large archive
    else:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return True


@dataclass(frozen=True)
class CodePackage:
    """Where a build of the code is in S3."""

    uri: str  # s3://.../code/<sha256>
    uploaded: bool

    @property
    def archive(self) -> str:
        """The `spark.submit.pyFiles` URI."""
        return f"{self.uri}/{CODE_ARCHIVE}"

    @property
    def entry_point(self) -> str:
        """The job's entry point URI."""
        return f"{self.uri}/{ENTRY_POINT}"


def upload_code(s3: Any, root: Location, repo: str | Path = ".") -> CodePackage:
    """Build `code.zip` and the entry point; upload both under a digest of their bytes."""
    archive, entry = code_archive(repo), entry_point_source()
    digest = hashlib.sha256(archive + b"\0" + entry).hexdigest()[:32]
    uploaded = put_once(s3, root.bucket, root.key("code", digest, CODE_ARCHIVE), archive)
    uploaded |= put_once(s3, root.bucket, root.key("code", digest, ENTRY_POINT), entry)
    return CodePackage(root.uri("code", digest), uploaded)


def env_archive_uri(root: Location, repo: str | Path = ".") -> str:
    """Where the environment archive of this uv.lock is (or goes)."""
    return root.uri("env", env_key(repo), ENV_ARCHIVE)


def build_script() -> str:
    """What runs inside the Amazon Linux 2023 container to make the archive (AWS's recipe).

    A venv of the locked dependencies (the groups the stages import; no dev tools, no pyspark,
    no project: the code ships in code.zip), packed by venv-pack into /out.
    """
    export = (
        "uv export --frozen --no-hashes --no-emit-project --no-default-groups "
        "--group pipeline --no-emit-package pyspark --output-file /tmp/requirements.txt"
    )
    return " && ".join(
        [
            f"dnf install -y -q {PYTHON} tar gzip",
            f"{PYTHON} -m venv --copies /opt/environment",
            "/opt/environment/bin/pip install -q uv venv-pack",
            f"cd /src && /opt/environment/bin/{export}",
            "/opt/environment/bin/pip install -q -r /tmp/requirements.txt",
            f"/opt/environment/bin/venv-pack -p /opt/environment -o /out/{ENV_ARCHIVE}",
        ]
    )


def build_command(engine: str, repo: Path, out: Path) -> list[str]:
    """The container run that builds the archive into `out` (the lock file mounted read-only)."""
    return [
        engine, "run", "--rm", "--platform", BUILD_PLATFORM,
        "-v", f"{repo.resolve()}:/src:ro", "-v", f"{out.resolve()}:/out",
        BUILD_IMAGE, "bash", "-c", build_script(),
    ]  # fmt: skip


def build_env_archive(engine: str, repo: Path, out: Path) -> Path:
    """Build the environment archive in the Amazon Linux 2023 x86_64 image; its path.

    Raises:
        PackageError: no container engine, or the build failed (its last output lines).

    """
    out.mkdir(parents=True, exist_ok=True)
    command = build_command(engine, repo, out)
    print(f"building the environment archive: {shlex.join(command[:6])} ... {BUILD_IMAGE}")
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise PackageError(
            f"no container engine {engine!r} to build the environment on Amazon Linux 2023; "
            "install podman or docker, or pass --env-archive with an archive built as AWS "
            "documents"
        ) from None
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-10:])
        raise PackageError(f"the environment build failed ({result.returncode}):\n{tail}")
    return out / ENV_ARCHIVE


def upload_env(
    s3: Any, root: Location, repo: Path, archive: Path | None, engine: str
) -> tuple[str, bool]:
    """Make sure the environment archive of this uv.lock is in S3; (its URI, whether uploaded).

    `archive` is one built elsewhere (CI on Amazon Linux, say); without it, the archive is built
    in a container, and only when S3 does not have this lock's archive yet.
    """
    key = root.key("env", env_key(repo), ENV_ARCHIVE)
    if _exists(s3, root.bucket, key):
        return f"s3://{root.bucket}/{key}", False
    if archive is None:
        with tempfile.TemporaryDirectory(prefix="spark-env-") as scratch:
            built = build_env_archive(engine, repo, Path(scratch))
            return f"s3://{root.bucket}/{key}", put_once(s3, root.bucket, key, built)
    if not archive.is_file():
        raise PackageError(f"--env-archive: file not found: {archive}")
    return f"s3://{root.bucket}/{key}", put_once(s3, root.bucket, key, archive)


def package(
    s3_uri: str,
    repo: str | Path = ".",
    *,
    archive: Path | None = None,
    engine: str = "podman",
    session: Any = None,
    endpoint_url: str | None = None,
    say: Any = print,
) -> tuple[CodePackage, str]:
    """Build and upload what a job run needs; (the code's location, the environment's URI)."""
    import boto3

    root = Location.parse(s3_uri)
    session = session or boto3.session.Session()
    s3 = session.client("s3", endpoint_url=endpoint_url)
    if not _bucket_exists(s3, root.bucket):
        raise PackageError(f"--s3-uri: bucket {root.bucket!r} does not exist or is not yours")
    code = upload_code(s3, root, repo)
    say(f"code: {code.uri}/ ({'uploaded' if code.uploaded else 'already there'})")
    env, uploaded = upload_env(s3, root, Path(repo), archive, engine)
    say(f"environment: {env} ({'uploaded' if uploaded else 'already there'})")
    return code, env


def _bucket_exists(s3: Any, bucket: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """`make spark-package`; exit 2 on a missing setting, 1 when a build or upload failed."""
    parser = argparse.ArgumentParser(
        prog="python -m modelops.pipeline.engines.spark.package", description=__doc__
    )
    parser.add_argument("--s3-uri", default=os.environ.get("EMR_SERVERLESS_S3_URI"))
    parser.add_argument("--env-archive", type=Path, help="an archive built elsewhere")
    parser.add_argument("--container-engine", default=os.environ.get("CONTAINER_ENGINE", "podman"))
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    args = parser.parse_args(argv)
    if not args.s3_uri:
        print("error: spark-package needs --s3-uri / EMR_SERVERLESS_S3_URI", file=sys.stderr)
        return 2
    return exit_code(
        lambda: package(
            args.s3_uri, archive=args.env_archive, engine=args.container_engine,
            endpoint_url=args.endpoint_url or None,
        ),
        PackageError,
    )  # fmt: skip


def exit_code(action: Callable[[], object], *errors: type[Exception]) -> int:
    """A command's exit code: 0 when `action` ran, 1 with its one-line error when it failed."""
    try:
        action()
    except errors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
