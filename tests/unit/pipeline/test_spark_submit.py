"""`make spark-submit`: one stage as an EMR Serverless job run, followed to its end, on moto.

moto differs from AWS here, and the fixture follows AWS's documentation:
- moto creates a job run already in SUCCESS; AWS's JobRun.state moves SUBMITTED -> PENDING ->
  SCHEDULED -> RUNNING -> SUCCESS/FAILED (EMR Serverless API reference, "JobRun" and "Job run
  states"). The test's `sleep` (what the poller waits with) walks moto's run through those states.
- moto writes no logs; AWS writes a run's driver logs, gzipped, under the S3 log URI at
  `applications/<application id>/jobs/<job run id>/SPARK_DRIVER/stdout.gz` and `stderr.gz`
  (EMR Serverless user guide, "Storing logs"). The test puts them there as AWS would.
"""

import gzip

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.emrserverless.models import emrserverless_backends

from modelops.pipeline.engines.spark.submit import (
    Settings,
    SubmitError,
    driver_log_prefix,
    main,
    stage_command,
    submit,
)

REGION = "eu-west-1"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/modelops-staging-spark-job"
DOCUMENTED_STATES = ["SUBMITTED", "PENDING", "SCHEDULED", "RUNNING"]


@pytest.fixture
def aws(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        session.client("s3").create_bucket(
            Bucket="dvc-remote", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        app = session.client("emr-serverless").create_application(
            name="modelops-staging", releaseLabel="emr-7.11.0", type="SPARK"
        )
        yield session, app["applicationId"]


def settings(application_id, **changes):
    values = {
        "application_id": application_id, "role_arn": ROLE, "code_uri": "s3://dvc-remote/code",
        "log_uri": "s3://dvc-remote/emr-logs", "env_archive": "s3://dvc-remote/env/venv.tar.gz",
        "region": REGION,
    }  # fmt: skip
    return Settings(**{**values, **changes})


class DocumentedRun:
    """The poller's sleep: each wait moves moto's job run one documented state on, as AWS does."""

    def __init__(self, session, application_id, final="SUCCESS", details=None):
        self.session, self.application_id = session, application_id
        self.states = [*DOCUMENTED_STATES[1:], final]
        self.final, self.details, self.waits = final, details, 0

    def job(self):
        backend = emrserverless_backends[DEFAULT_ACCOUNT_ID][REGION]
        return backend.job_runs[self.application_id][-1]

    def started(self, job_run_id):
        """Put the run where AWS puts a new one (SUBMITTED) and its logs where AWS writes them."""
        self.job().state = "SUBMITTED"
        prefix = driver_log_prefix("s3://dvc-remote/emr-logs", self.application_id, job_run_id)
        key = prefix.removeprefix("s3://dvc-remote/") + "stderr.gz"
        lines = "\n".join(f"line {i}" for i in range(100)) + "\n"
        self.session.client("s3").put_object(
            Bucket="dvc-remote", Key=key, Body=gzip.compress(lines.encode())
        )

    def __call__(self, seconds):
        self.waits += 1
        job = self.job()
        job.state = self.states.pop(0)
        if job.state == self.final and self.details:
            job.state_details = self.details


def run_stage(session, application_id, stage="train", **kwargs):
    said = []
    clock = DocumentedRun(session, application_id, **kwargs)

    def say(line):
        said.append(line)
        if line.startswith("submitted "):
            clock.started(line.rsplit(" ", 1)[-1])

    def go():
        return submit(
            settings(application_id), stage, session=session, say=say, sleep=clock, poll_seconds=0
        )

    return said, clock, go


def test_a_stage_runs_its_dvc_command_and_its_states_and_logs_are_shown(aws):
    session, application_id = aws
    said, clock, go = run_stage(session, application_id)
    run = go()
    assert run["state"] == "SUCCESS"
    states = [line.split(": ", 1)[1] for line in said if line.startswith("job run ")]
    assert states == [*DOCUMENTED_STATES, "SUCCESS"]  # each state once, in order
    assert clock.waits == 4
    job_run_id = said[0].rsplit(" ", 1)[-1]
    prefix = f"s3://dvc-remote/emr-logs/applications/{application_id}/jobs/{job_run_id}/"
    assert f"driver logs: {prefix}SPARK_DRIVER/" in said
    assert "--- driver stderr (last 40 lines) ---" in said
    assert said[-1] == "line 99" and "line 59" not in said
    stored = session.client("emr-serverless").get_job_run(
        applicationId=application_id, jobRunId=job_run_id
    )["jobRun"]
    driver = stored["jobDriver"]["sparkSubmit"]
    _, arguments = stage_command("dvc.yaml", "train")
    assert driver["entryPoint"] == "s3://dvc-remote/code/pipelines/train.py"
    assert driver["entryPointArguments"] == arguments and "--models-dir" in arguments
    assert (
        "--conf spark.archives=s3://dvc-remote/env/venv.tar.gz#environment"
        in (driver["sparkSubmitParameters"])
    )
    assert stored["executionRole"] == ROLE  # GetJobRun names it executionRole


def test_a_failed_run_raises_with_aws_details_after_showing_the_logs(aws):
    session, application_id = aws
    said, _, go = run_stage(session, application_id, final="FAILED", details="Job failed, OOM")
    with pytest.raises(SubmitError, match=r"ended FAILED: Job failed, OOM"):
        go()
    assert said[-1] == "line 99"
    assert any(line.endswith("FAILED (Job failed, OOM)") for line in said)


def test_bad_settings_and_stages_are_named(aws, monkeypatch, capsys):
    session, application_id = aws
    with pytest.raises(SubmitError, match=r"STAGE: no stage 'trian' in dvc.yaml"):
        submit(settings(application_id), "trian", session=session)
    with pytest.raises(SubmitError, match=r"code URI must be an s3:// URI, got 'code/'"):
        submit(settings(application_id, code_uri="code/"), "train", session=session)
    with pytest.raises(SubmitError, match=r"EMR Serverless refused the job run of train"):
        submit(settings("00nosuchapp0000"), "train", session=session)
    for key in ("EMR_SERVERLESS_APPLICATION_ID", "EMR_SERVERLESS_JOB_ROLE_ARN"):
        monkeypatch.delenv(key, raising=False)
    assert main(["train", "--region", REGION]) == 2
    error = capsys.readouterr().err
    assert "EMR_SERVERLESS_APPLICATION_ID" in error and "EMR_SERVERLESS_CODE_URI" in error
