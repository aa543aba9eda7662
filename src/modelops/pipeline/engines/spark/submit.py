"""`make spark-submit STAGE=...`: run one pipeline stage as an EMR Serverless job run.

Everything lives under one S3 root (`--s3-uri` / EMR_SERVERLESS_S3_URI, e.g. the DVC remote's
bucket with a `spark` prefix):

- `code/<digest>/`: the code archive and the job's entry point. spark-submit builds and uploads
  them itself (`package.upload_code`: a second of zipping, and nothing is uploaded when the same
  code is there), so a run always runs the worktree it was submitted from.
- `env/<digest of uv.lock>/environment.tar.gz`: the Python environment, built once per lock by
  `make spark-package` (minutes, in an Amazon Linux container); spark-submit only checks it is
  there. `--env-archive none` uses the application's custom image instead.
- `work/<path>`: the pipeline's state, at the same relative paths as dvc.yaml's. The stage's
  command is dvc.yaml's; each argument that is one of the stage's deps or outs is mapped:
  a table (`*.parquet`) input to the URI its `work/<path>.latest` pointer names, a table output
  to `runs/<run>/<path>` (the pointer moves when the stage succeeds), and a file or folder
  (params.yaml, contract.yaml, models, metrics) stays a relative path that the job fetches from
  `work/` before the stage and stores there after it (`engines.spark.job`). The deps no stage
  produces (params.yaml, contract.yaml: committed files) are uploaded from the worktree first,
  params.yaml with `compute.engine: spark`.
- `logs/`: the job runs' logs (S3 monitoring configuration), unless `--log-uri`.

The command then polls `GetJobRun`, printing each state as the run moves (SUBMITTED, PENDING,
SCHEDULED, RUNNING, then SUCCESS, FAILED or CANCELLED), says where the driver's logs are, prints
the driver's stdout and stderr from there when the run ends, and exits 1 unless it succeeded.
Only boto3 is needed here: pyspark runs on the application's workers.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shlex
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from modelops.pipeline.engines.spark.package import (
    CodePackage,
    Location,
    PackageError,
    env_archive_uri,
    exit_code,
    upload_code,
)

# GetJobRun's states (EMR Serverless API reference, JobRun.state); these three are final.
FINAL_STATES = ("SUCCESS", "FAILED", "CANCELLED")
DRIVER_LOGS = ("stdout.gz", "stderr.gz")
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class Settings:
    """Where the job runs and where its files are (`make spark-submit`'s environment or flags)."""

    application_id: str
    role_arn: str
    s3_uri: str  # s3://bucket/prefix: code/, env/, work/, runs/ and logs/ live under it
    log_uri: str | None = None  # default <s3_uri>/logs
    env_archive: str | None = "auto"  # auto: this uv.lock's archive; None: a custom image
    region: str | None = None
    endpoint_url: str | None = None


class SubmitError(RuntimeError):
    """A setting is missing or wrong, or AWS refused the job run; the message says which."""


@dataclass(frozen=True)
class Stage:
    """A stage of dvc.yaml: its command's module and arguments, its deps and outputs."""

    name: str
    module: str
    arguments: list[str]
    deps: list[str]
    outs: list[str]  # outs, metrics and plots: whatever the stage writes


def _paths(entries: list[Any] | None) -> list[str]:
    """The paths of a dvc.yaml list (`- path` or `- path: {cache: false}`)."""
    found: list[Any] = []
    for entry in entries or []:
        found.extend(entry if isinstance(entry, dict) else [entry])
    return [str(path).rstrip("/") for path in found]


def read_stages(dvc_yaml: str | Path) -> dict[str, Any]:
    """dvc.yaml's stages."""
    return dict(
        (yaml.safe_load(Path(dvc_yaml).read_text(encoding="utf-8")) or {}).get("stages") or {}
    )


def stage_command(dvc_yaml: str | Path, stage: str) -> Stage:
    """`stage` of dvc.yaml, its `cmd` being `python -m MODULE ARGS`.

    Raises:
        SubmitError: no such stage, or its command is not `python -m pipelines.<module> ...`.

    """
    stages = read_stages(dvc_yaml)
    if stage not in stages:
        raise SubmitError(f"STAGE: no stage {stage!r} in {dvc_yaml} (stages: {', '.join(stages)})")
    spec = stages[stage]
    words = shlex.split(str(spec["cmd"]))
    if words[:2] != ["python", "-m"] or len(words) < 3 or not words[2].startswith("pipelines."):
        raise SubmitError(
            f"STAGE: {stage}'s command is not `python -m pipelines.<module> ...`: {' '.join(words)}"
        )
    outs = [*_paths(spec.get("outs")), *_paths(spec.get("metrics")), *_paths(spec.get("plots"))]
    return Stage(stage, words[2], words[3:], _paths(spec.get("deps")), outs)


def is_table(path: str) -> bool:
    """Whether a dvc.yaml path is a table (Spark reads and writes it as a URI)."""
    return path.endswith(".parquet")


def is_code(path: str) -> bool:
    """Whether a dep is code (it ships in the code archive, not as a file)."""
    return path.endswith(".py") or path.startswith(("src/", "pipelines/"))


def _has_objects(s3: Any, bucket: str, key: str) -> bool:
    """Whether an object is at `key` or under `key/`."""
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=2)
    return any(
        item["Key"] == key or item["Key"].startswith(key + "/")
        for item in listed.get("Contents", [])
    )  # fmt: skip


def job_plan(
    stage: Stage, produced: set[str], root: Location, run_id: str, s3: Any
) -> tuple[dict[str, Any], list[str]]:
    """The job's plan (`engines.spark.job`) and the source files to upload to `work/` first.

    `produced` is every path some stage of dvc.yaml writes: a dep among them must be in `work/`
    already (an earlier stage's run put it there); a dep no stage writes is a committed file,
    uploaded from the worktree. Code deps ship in the code archive.

    Raises:
        SubmitError: an input no run has produced yet, naming the stage that makes it.

    """
    mapped: dict[str, str] = {}
    fetch: list[list[str]] = [[root.uri("work", "params.yaml"), "params.yaml"]]
    store: list[list[str]] = []
    pointers: list[list[str]] = []
    sources = ["params.yaml"]
    for dep in stage.deps:
        if is_code(dep):
            continue
        if dep not in produced:
            sources.append(dep)
        elif is_table(dep):
            pointer = root.key("work", dep + ".latest")
            try:
                body = s3.get_object(Bucket=root.bucket, Key=pointer)["Body"].read()
            except s3.exceptions.NoSuchKey:
                raise SubmitError(
                    f"{stage.name} reads {dep}, which no run has written under "
                    f"{root.uri('work')}/ yet: submit the stage that writes it first"
                ) from None
            mapped[dep] = body.decode().strip()
            continue
        elif not _has_objects(s3, root.bucket, root.key("work", dep)):
            raise SubmitError(
                f"{stage.name} reads {dep}: nothing at {root.uri('work', dep)} yet: submit "
                "the stage that writes it first"
            )
        fetch.append([root.uri("work", dep), dep])
    for out in stage.outs:
        if is_table(out):
            mapped[out] = root.uri("runs", run_id, out)
            pointers.append([root.uri("work", out + ".latest"), mapped[out]])
        else:
            store.append([out, root.uri("work", out)])
    arguments = [mapped.get(word, word) for word in stage.arguments]
    plan = {
        "module": stage.module,
        "args": arguments,
        "fetch": fetch,
        "store": store,
        "pointers": pointers,
    }
    return plan, sources


def _data_source(params: Path) -> str | None:
    """`data.source` of a params file (None when unset or the file is missing)."""
    if not params.is_file():
        return None
    data = (yaml.safe_load(params.read_text(encoding="utf-8")) or {}).get("data") or {}
    return data.get("source") or None


def upload_sources(s3: Any, root: Location, sources: list[str], repo: Path) -> None:
    """Put the stage's committed inputs in `work/`; params.yaml with `compute.engine: spark`.

    Raises:
        SubmitError: a committed input is missing from the worktree.

    """
    for source in sources:
        path = repo / source
        if source == "params.yaml":
            if not path.is_file():
                raise SubmitError(f"{path}: missing; run from the repository's root")
            params = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            params.setdefault("compute", {})["engine"] = "spark"
            body = yaml.safe_dump(params, sort_keys=False).encode()
            s3.put_object(Bucket=root.bucket, Key=root.key("work", source), Body=body)
        elif path.is_file():
            s3.upload_file(str(path), root.bucket, root.key("work", source))
        elif path.is_dir():
            for file in sorted(f for f in path.rglob("*") if f.is_file()):
                key = root.key("work", file.relative_to(repo).as_posix())
                s3.upload_file(str(file), root.bucket, key)
        else:
            raise SubmitError(f"{source}: the stage reads it, but it is not in {repo}")


def job_request(
    settings: Settings, stage: str, code: CodePackage, env_archive: str | None,
    plan: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """The StartJobRun request for one stage (a fresh client token: one call, one run)."""
    conf = {"spark.submit.pyFiles": code.archive}
    if env_archive:
        python = "./environment/bin/python"
        conf |= {
            "spark.archives": f"{env_archive}#environment",
            "spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON": python,
            "spark.emr-serverless.driverEnv.PYSPARK_PYTHON": python,
            "spark.executorEnv.PYSPARK_PYTHON": python,
        }
    tracking = os.environ.get("MLFLOW_TRACKING_URI", "")
    if urlparse(tracking).scheme in ("http", "https", "databricks"):
        # The driver's directory is not kept: a local MLflow store would vanish with it.
        conf["spark.emr-serverless.driverEnv.MLFLOW_TRACKING_URI"] = tracking
    return {
        "applicationId": settings.application_id,
        "clientToken": str(uuid.uuid4()),
        "executionRoleArn": settings.role_arn,
        "name": f"modelops-{stage}",
        "jobDriver": {
            "sparkSubmit": {
                "entryPoint": code.entry_point,
                "entryPointArguments": [json.dumps(plan, separators=(",", ":"))],
                "sparkSubmitParameters": " ".join(f"--conf {k}={v}" for k, v in conf.items()),
            }
        },
        "configurationOverrides": {
            "monitoringConfiguration": {
                "s3MonitoringConfiguration": {"logUri": log_uri(settings).rstrip("/") + "/"}
            }
        },
        "tags": {"project": "modelops", "stage": stage},
    }


def log_uri(settings: Settings) -> str:
    """Where the job's logs go: `--log-uri`, else `<s3 root>/logs`."""
    return settings.log_uri or Location.parse(settings.s3_uri).uri("logs")


def driver_log_prefix(log_uri: str, application_id: str, job_run_id: str) -> str:
    """Where EMR Serverless writes a run's driver logs under the S3 log URI (AWS's layout)."""
    base = log_uri.rstrip("/")
    return f"{base}/applications/{application_id}/jobs/{job_run_id}/SPARK_DRIVER/"


def watch(
    emr: Any,
    application_id: str,
    job_run_id: str,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = 10.0,
) -> dict[str, Any]:
    """Poll GetJobRun until a final state, saying each new state once; the final job run."""
    seen = None
    while True:
        run: dict[str, Any] = emr.get_job_run(applicationId=application_id, jobRunId=job_run_id)[
            "jobRun"
        ]
        state = run["state"]
        if state != seen:
            details = run.get("stateDetails") or ""
            say(f"job run {job_run_id}: {state}" + (f" ({details})" if details else ""))
            seen = state
        if state in FINAL_STATES:
            return run
        sleep(poll_seconds)


def driver_logs(s3: Any, prefix: str, lines: int = LOG_TAIL_LINES) -> dict[str, list[str]]:
    """The last `lines` lines of the driver's stdout and stderr under `prefix` (absent: none)."""
    location = urlparse(prefix)
    found = {}
    for name in DRIVER_LOGS:
        try:
            body = s3.get_object(Bucket=location.netloc, Key=location.path.lstrip("/") + name)
        except s3.exceptions.NoSuchKey:
            continue
        text = gzip.decompress(body["Body"].read()).decode("utf-8", errors="replace")
        found[name.removesuffix(".gz")] = text.splitlines()[-lines:]
    return found


def submit(
    settings: Settings,
    stage: str,
    dvc_yaml: str | Path = "dvc.yaml",
    *,
    repo: str | Path = ".",
    session: Any = None,
    say: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = 10.0,
) -> dict[str, Any]:
    """Start `stage` as a job run, follow it to its end, show its driver's logs; the final run.

    Raises:
        SubmitError: a bad stage or setting, a missing input, AWS refused the run, or the run
            did not succeed.

    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        root = Location.parse(settings.s3_uri, "EMR_SERVERLESS_S3_URI")
    except PackageError as exc:
        raise SubmitError(str(exc)) from None
    if settings.log_uri and urlparse(settings.log_uri).scheme != "s3":
        raise SubmitError(f"the log URI must be an s3:// URI, got {settings.log_uri!r}")
    spec = stage_command(dvc_yaml, stage)
    if stage == "generate" and not _data_source(Path(repo) / "params.yaml"):
        raise SubmitError(
            "generate on EMR Serverless reads data.source (an s3:// table); without one it "
            "makes synthetic rows with pandas in one process, which cannot write to S3: set "
            "data.source in params.yaml"
        )
    produced = {out for name in read_stages(dvc_yaml) for out in stage_command(dvc_yaml, name).outs}
    session = session or boto3.session.Session(region_name=settings.region)
    emr = session.client("emr-serverless", endpoint_url=settings.endpoint_url)
    s3 = session.client("s3", endpoint_url=settings.endpoint_url)
    try:
        s3.head_bucket(Bucket=root.bucket)
    except ClientError:
        raise SubmitError(
            f"EMR_SERVERLESS_S3_URI: bucket {root.bucket!r} does not exist or is not yours"
        ) from None
    env_archive = settings.env_archive
    if env_archive == "auto":
        env_archive = env_archive_uri(root, repo)
        archive = Location.parse(env_archive)
        if not _has_objects(s3, archive.bucket, archive.prefix):
            raise SubmitError(
                f"no environment archive for this uv.lock at {env_archive}: run "
                "`make spark-package` first (or pass --env-archive none for a custom image)"
            )
    run_id = uuid.uuid4().hex[:16]
    plan, sources = job_plan(spec, produced, root, run_id, s3)
    upload_sources(s3, root, sources, Path(repo))
    code = upload_code(s3, root, repo)
    say(f"code: {code.uri}/ ({'uploaded' if code.uploaded else 'already there'})")
    try:
        started = emr.start_job_run(**job_request(settings, stage, code, env_archive, plan))
    except (ClientError, BotoCoreError) as exc:
        raise SubmitError(f"EMR Serverless refused the job run of {stage}: {exc}") from None
    job_run_id = started["jobRunId"]
    prefix = driver_log_prefix(log_uri(settings), settings.application_id, job_run_id)
    say(f"submitted {stage} to application {settings.application_id}: job run {job_run_id}")
    say(f"driver logs: {prefix}")
    run = watch(emr, settings.application_id, job_run_id, say, sleep, poll_seconds)
    for name, lines in driver_logs(s3, prefix).items():
        say(f"--- driver {name} (last {len(lines)} lines) ---")
        for line in lines:
            say(line)
    if run["state"] != "SUCCESS":
        details = run.get("stateDetails") or "no details"
        raise SubmitError(f"job run {job_run_id} of {stage} ended {run['state']}: {details}")
    return run


def _parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m modelops.pipeline.engines.spark.submit",
        description="Run one pipeline stage on EMR Serverless and follow it to its end.",
    )
    parser.add_argument("stage", help="a stage of dvc.yaml, e.g. train")
    parser.add_argument("--application-id", default=env("EMR_SERVERLESS_APPLICATION_ID"))
    parser.add_argument("--role-arn", default=env("EMR_SERVERLESS_JOB_ROLE_ARN"))
    parser.add_argument("--s3-uri", default=env("EMR_SERVERLESS_S3_URI"))
    parser.add_argument("--log-uri", default=env("EMR_SERVERLESS_LOG_URI"))
    parser.add_argument(
        "--env-archive", default=env("EMR_SERVERLESS_ENV_ARCHIVE") or "auto",
        help="auto (make spark-package's, the default), an s3:// URI, or none (custom image)",
    )  # fmt: skip
    parser.add_argument("--region", default=env("AWS_REGION") or env("AWS_DEFAULT_REGION"))
    parser.add_argument("--endpoint-url", default=env("AWS_ENDPOINT_URL"))
    parser.add_argument("--dvc-yaml", default="dvc.yaml")
    parser.add_argument("--poll-seconds", type=float, default=10.0)
    return parser


REQUIRED = {
    "application_id": "--application-id / EMR_SERVERLESS_APPLICATION_ID (terraform output)",
    "role_arn": "--role-arn / EMR_SERVERLESS_JOB_ROLE_ARN (terraform output)",
    "s3_uri": "--s3-uri / EMR_SERVERLESS_S3_URI (s3://bucket/prefix for code, data and logs)",
    "region": "--region / AWS_REGION",
}


def main(argv: list[str] | None = None) -> int:
    """`make spark-submit STAGE=...`; exit 2 on a missing setting, 1 when the run failed."""
    args = _parser().parse_args(argv)
    missing = [hint for key, hint in REQUIRED.items() if not getattr(args, key)]
    if missing:
        print(f"error: spark-submit needs {'; '.join(missing)}", file=sys.stderr)
        return 2
    settings = Settings(
        application_id=args.application_id, role_arn=args.role_arn, s3_uri=args.s3_uri,
        log_uri=args.log_uri or None, region=args.region,
        env_archive=None if args.env_archive == "none" else args.env_archive,
        endpoint_url=args.endpoint_url or None,
    )  # fmt: skip
    return exit_code(
        lambda: submit(settings, args.stage, args.dvc_yaml, poll_seconds=args.poll_seconds),
        SubmitError,
    )


if __name__ == "__main__":
    raise SystemExit(main())
