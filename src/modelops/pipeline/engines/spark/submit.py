"""`make spark-submit STAGE=...`: run one pipeline stage as an EMR Serverless job run.

The job runs the stage's own command from dvc.yaml (`python -m pipelines.<stage> ARGS`) with
`compute.engine: spark`: the entry point is the stage module under the project's code in S3
(EMR_SERVERLESS_CODE_URI: the repository's files, plus `code.zip` of its `src/modelops` and
`pipelines` packages put on the Python path with `spark.submit.pyFiles`), its arguments are
dvc.yaml's unless ARGS gives others (the driver's working directory is not kept: give s3:// paths
for what must outlive the run), and the Python environment is the project's venv packed as an
archive (EMR_SERVERLESS_ENV_ARCHIVE, `spark.archives`, as AWS documents for Python libraries on
EMR Serverless) unless the application runs a custom image. The command then polls `GetJobRun`,
printing each state as the run moves (SUBMITTED, PENDING, SCHEDULED, RUNNING, then SUCCESS,
FAILED or CANCELLED), says where the driver's logs are, prints the driver's stdout and stderr from
there when the run ends, and exits 1 unless it succeeded. Only boto3 is needed here: pyspark runs
on the application's workers.
"""

from __future__ import annotations

import argparse
import gzip
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

# GetJobRun's states (EMR Serverless API reference, JobRun.state); these three are final.
FINAL_STATES = ("SUCCESS", "FAILED", "CANCELLED")
DRIVER_LOGS = ("stdout.gz", "stderr.gz")
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class Settings:
    """Where the job runs and what it reads (`make spark-submit`'s environment or flags)."""

    application_id: str
    role_arn: str
    code_uri: str  # s3://bucket/prefix holding the repository's files
    log_uri: str  # s3://bucket/prefix for the job's logs (S3 monitoring configuration)
    env_archive: str | None = None  # s3://.../venv.tar.gz; None: the application's custom image
    region: str | None = None
    endpoint_url: str | None = None


class SubmitError(RuntimeError):
    """A setting is missing or wrong, or AWS refused the job run; the message says which."""


def stage_command(dvc_yaml: str | Path, stage: str) -> tuple[str, list[str]]:
    """The module and arguments of `stage`'s `cmd` in dvc.yaml (`python -m MODULE ARGS`).

    Raises:
        SubmitError: no such stage, or its command is not `python -m pipelines.<module> ...`.

    """
    stages = (yaml.safe_load(Path(dvc_yaml).read_text(encoding="utf-8")) or {}).get("stages", {})
    if stage not in stages:
        raise SubmitError(f"STAGE: no stage {stage!r} in {dvc_yaml} (stages: {', '.join(stages)})")
    words = shlex.split(str(stages[stage]["cmd"]))
    if words[:2] != ["python", "-m"] or len(words) < 3 or not words[2].startswith("pipelines."):
        raise SubmitError(
            f"STAGE: {stage}'s command is not `python -m pipelines.<module> ...`: {' '.join(words)}"
        )
    return words[2], words[3:]


def job_request(
    settings: Settings, stage: str, module: str, arguments: list[str]
) -> dict[str, Any]:
    """The StartJobRun request for one stage (a fresh client token: one call, one run)."""
    entry = f"{settings.code_uri.rstrip('/')}/{module.replace('.', '/')}.py"
    conf = {"spark.submit.pyFiles": f"{settings.code_uri.rstrip('/')}/code.zip"}
    if settings.env_archive:
        python = "./environment/bin/python"
        conf |= {
            "spark.archives": f"{settings.env_archive}#environment",
            "spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON": python,
            "spark.emr-serverless.driverEnv.PYSPARK_PYTHON": python,
            "spark.executorEnv.PYSPARK_PYTHON": python,
        }
    return {
        "applicationId": settings.application_id,
        "clientToken": str(uuid.uuid4()),
        "executionRoleArn": settings.role_arn,
        "name": f"modelops-{stage}",
        "jobDriver": {
            "sparkSubmit": {
                "entryPoint": entry,
                "entryPointArguments": arguments,
                "sparkSubmitParameters": " ".join(f"--conf {k}={v}" for k, v in conf.items()),
            }
        },
        "configurationOverrides": {
            "monitoringConfiguration": {
                "s3MonitoringConfiguration": {"logUri": settings.log_uri.rstrip("/") + "/"}
            }
        },
        "tags": {"project": "modelops", "stage": stage},
    }


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
    arguments: list[str] | None = None,
    session: Any = None,
    say: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = 10.0,
) -> dict[str, Any]:
    """Start `stage` as a job run, follow it to its end, show its driver's logs; the final run.

    Raises:
        SubmitError: a bad stage or setting, AWS refused the run, or the run did not succeed.

    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    for name, value in (("code URI", settings.code_uri), ("log URI", settings.log_uri)):
        if urlparse(value).scheme != "s3":
            raise SubmitError(f"the {name} must be an s3:// URI, got {value!r}")
    module, declared = stage_command(dvc_yaml, stage)
    arguments = declared if arguments is None else arguments
    session = session or boto3.session.Session(region_name=settings.region)
    emr = session.client("emr-serverless", endpoint_url=settings.endpoint_url)
    s3 = session.client("s3", endpoint_url=settings.endpoint_url)
    try:
        started = emr.start_job_run(**job_request(settings, stage, module, arguments))
    except (ClientError, BotoCoreError) as exc:
        raise SubmitError(f"EMR Serverless refused the job run of {stage}: {exc}") from None
    job_run_id = started["jobRunId"]
    prefix = driver_log_prefix(settings.log_uri, settings.application_id, job_run_id)
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
    parser.add_argument("--code-uri", default=env("EMR_SERVERLESS_CODE_URI"))
    parser.add_argument("--log-uri", default=env("EMR_SERVERLESS_LOG_URI"))
    parser.add_argument("--env-archive", default=env("EMR_SERVERLESS_ENV_ARCHIVE"))
    parser.add_argument("--region", default=env("AWS_REGION") or env("AWS_DEFAULT_REGION"))
    parser.add_argument("--endpoint-url", default=env("AWS_ENDPOINT_URL"))
    parser.add_argument("--dvc-yaml", default="dvc.yaml")
    parser.add_argument("--poll-seconds", type=float, default=10.0)
    parser.add_argument(
        "--args", default="", help="the stage's arguments instead of dvc.yaml's (one string)"
    )
    return parser


REQUIRED = {
    "application_id": "--application-id / EMR_SERVERLESS_APPLICATION_ID (terraform output)",
    "role_arn": "--role-arn / EMR_SERVERLESS_JOB_ROLE_ARN (terraform output)",
    "code_uri": "--code-uri / EMR_SERVERLESS_CODE_URI (s3:// prefix of the project's code)",
    "log_uri": "--log-uri / EMR_SERVERLESS_LOG_URI (s3:// prefix for the job's logs)",
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
        application_id=args.application_id, role_arn=args.role_arn, code_uri=args.code_uri,
        log_uri=args.log_uri, env_archive=args.env_archive or None, region=args.region,
        endpoint_url=args.endpoint_url or None,
    )  # fmt: skip
    try:
        submit(
            settings, args.stage, args.dvc_yaml, poll_seconds=args.poll_seconds,
            arguments=shlex.split(args.args) if args.args else None,
        )  # fmt: skip
    except SubmitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
