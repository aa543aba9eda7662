"""`make spark-submit`: one stage as an EMR Serverless job run, followed to its end, on moto.

moto differs from AWS here, and the fixture follows AWS's documentation:
- moto creates a job run already in SUCCESS; AWS's JobRun.state moves SUBMITTED -> PENDING ->
  SCHEDULED -> RUNNING -> SUCCESS/FAILED (EMR Serverless API reference, "JobRun" and "Job run
  states"). The test's `sleep` (what the poller waits with) walks moto's run through those states.
- moto writes no logs; AWS writes a run's driver logs, gzipped, under the S3 log URI at
  `applications/<application id>/jobs/<job run id>/SPARK_DRIVER/stdout.gz` and `stderr.gz`
  (EMR Serverless user guide, "Storing logs"). The test puts them there as AWS would.
- moto runs nothing: what the job does on the driver (fetch, run the stage, store, move the
  pointers) is `engines.spark.job`, tested on its own (test_spark_job.py) with the plan a submit
  writes.
"""

import gzip
import json
import shlex
from pathlib import Path

import pytest
import yaml
from moto.core import DEFAULT_ACCOUNT_ID
from moto.emrserverless.models import emrserverless_backends

from modelops.pipeline.engines.spark.package import Location, env_archive_uri
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
def aws(moto_bucket):
    app = moto_bucket.client("emr-serverless").create_application(
        name="modelops-staging", releaseLabel="emr-7.11.0", type="SPARK"
    )
    return moto_bucket, app["applicationId"]


ROOT = "s3://dvc-remote/spark"


def settings(application_id, **changes):
    values = {
        "application_id": application_id, "role_arn": ROLE, "s3_uri": ROOT,
        "log_uri": "s3://dvc-remote/emr-logs", "region": REGION,
    }  # fmt: skip
    return Settings(**{**values, **changes})


def packaged(session):
    """What `make spark-package` leaves: this uv.lock's environment archive under the root."""
    archive = Location.parse(env_archive_uri(Location.parse(ROOT)))
    session.client("s3").put_object(Bucket=archive.bucket, Key=archive.prefix, Body=b"venv")
    return f"s3://{archive.bucket}/{archive.prefix}"


def written_by_an_earlier_run(session, table):
    """An earlier stage's run: its table under runs/, and the pointer naming it."""
    uri = f"{ROOT}/runs/earlier/{table}"
    session.client("s3").put_object(
        Bucket="dvc-remote", Key=f"spark/work/{table}.latest", Body=uri.encode()
    )
    return uri


def read(session, key):
    return session.client("s3").get_object(Bucket="dvc-remote", Key=key)["Body"].read()


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


def test_a_stage_runs_its_dvc_command_with_its_paths_in_s3_and_its_states_and_logs_shown(aws):
    session, application_id = aws
    env_archive = packaged(session)
    train_table = written_by_an_earlier_run(session, "data/split/train.parquet")
    said, clock, go = run_stage(session, application_id)
    run = go()
    assert run["state"] == "SUCCESS"
    states = [line.split(": ", 1)[1] for line in said if line.startswith("job run ")]
    assert states == [*DOCUMENTED_STATES, "SUCCESS"]  # each state once, in order
    assert clock.waits == 4
    job_run_id = next(line for line in said if line.startswith("submitted ")).rsplit(" ", 1)[-1]
    prefix = f"s3://dvc-remote/emr-logs/applications/{application_id}/jobs/{job_run_id}/"
    assert f"driver logs: {prefix}SPARK_DRIVER/" in said
    assert "--- driver stderr (last 40 lines) ---" in said
    assert said[-1] == "line 99" and "line 59" not in said
    stored = session.client("emr-serverless").get_job_run(
        applicationId=application_id, jobRunId=job_run_id
    )["jobRun"]
    assert stored["executionRole"] == ROLE  # GetJobRun names it executionRole
    driver = stored["jobDriver"]["sparkSubmit"]
    code = driver["entryPoint"].removesuffix("/job.py")
    assert code.startswith(f"{ROOT}/code/") and driver["entryPoint"].endswith("/job.py")
    conf = shlex.split(driver["sparkSubmitParameters"])
    assert f"spark.submit.pyFiles={code}/code.zip" in conf
    assert f"spark.archives={env_archive}#environment" in conf
    assert "spark.emr-serverless.driverEnv.PYSPARK_PYTHON=./environment/bin/python" in conf
    # The plan: dvc.yaml's command, its table input read where the last run's pointer says,
    # its other paths fetched from work/ before the stage and stored there after it.
    (plan,) = driver["entryPointArguments"]
    plan = json.loads(plan)
    stage = stage_command("dvc.yaml", "train")
    assert plan["module"] == "pipelines.train"
    expected = [
        train_table if word == "data/split/train.parquet" else word for word in stage.arguments
    ]
    assert plan["args"] == expected and "--models-dir" in plan["args"]
    assert [f"{ROOT}/work/contract.yaml", "contract.yaml"] in plan["fetch"]
    assert [f"{ROOT}/work/params.yaml", "params.yaml"] in plan["fetch"]
    assert plan["store"] == [["models/candidates", f"{ROOT}/work/models/candidates"]]
    assert plan["pointers"] == []
    # The committed inputs went up from the worktree; params.yaml runs the Spark engine.
    assert read(session, "spark/work/contract.yaml") == Path("contract.yaml").read_bytes()
    params = yaml.safe_load(read(session, "spark/work/params.yaml"))
    assert params["compute"]["engine"] == "spark"
    assert params["train"] == yaml.safe_load(Path("params.yaml").read_text())["train"]


def test_a_table_output_goes_to_its_own_run_and_the_code_is_uploaded_once(aws):
    session, application_id = aws
    packaged(session)
    written_by_an_earlier_run(session, "data/raw/dataset.parquet")
    session.client("s3").put_object(
        Bucket="dvc-remote", Key="spark/work/reports/validation/summary.json", Body=b"{}"
    )
    plans, code_lines = [], []
    for _ in range(2):
        said, _, go = run_stage(session, application_id, stage="split")
        run = go()
        plans.append(json.loads(run["jobDriver"]["sparkSubmit"]["entryPointArguments"][0]))
        code_lines.append(next(line for line in said if line.startswith("code: ")))
    assert code_lines[0].endswith("(uploaded)") and code_lines[1].endswith("(already there)")
    assert code_lines[0].split()[1] == code_lines[1].split()[1]  # the same content address
    first, second = plans
    train = first["args"][first["args"].index("--train") + 1]
    assert train.startswith(f"{ROOT}/runs/") and train.endswith("/data/split/train.parquet")
    assert train != second["args"][second["args"].index("--train") + 1]  # never overwritten
    assert [f"{ROOT}/work/data/split/train.parquet.latest", train] in first["pointers"]
    assert (
        first["args"][first["args"].index("--input") + 1]
        == f"{ROOT}/runs/earlier/data/raw/dataset.parquet"
    )
    assert [
        f"{ROOT}/work/reports/validation/summary.json",
        "reports/validation/summary.json",
    ] in first["fetch"]


def test_a_failed_run_raises_with_aws_details_after_showing_the_logs(aws):
    session, application_id = aws
    packaged(session)
    written_by_an_earlier_run(session, "data/split/train.parquet")
    said, _, go = run_stage(session, application_id, final="FAILED", details="Job failed, OOM")
    with pytest.raises(SubmitError, match=r"ended FAILED: Job failed, OOM"):
        go()
    assert said[-1] == "line 99"
    assert any(line.endswith("FAILED (Job failed, OOM)") for line in said)


def test_bad_settings_stages_and_missing_inputs_are_named_before_anything_runs(
    aws, monkeypatch, capsys
):
    session, application_id = aws

    def runs():  # moto's ListJobRuns answers "does not exist" for an application without runs
        return len(
            emrserverless_backends[DEFAULT_ACCOUNT_ID][REGION].job_runs.get(application_id, [])
        )

    with pytest.raises(SubmitError, match=r"STAGE: no stage 'trian' in dvc.yaml"):
        submit(settings(application_id), "trian", session=session)
    with pytest.raises(SubmitError, match=r"generate on EMR Serverless reads data.source"):
        submit(settings(application_id), "generate", session=session)  # params.yaml: synthetic
    with pytest.raises(SubmitError, match=r"EMR_SERVERLESS_S3_URI: need an s3://bucket/prefix"):
        submit(settings(application_id, s3_uri="spark/"), "train", session=session)
    with pytest.raises(SubmitError, match=r"bucket 'no-such-bucket' does not exist"):
        submit(settings(application_id, s3_uri="s3://no-such-bucket/x"), "train", session=session)
    with pytest.raises(SubmitError, match=r"no environment archive .* run `make spark-package`"):
        submit(settings(application_id), "train", session=session)
    packaged(session)
    with pytest.raises(SubmitError, match=r"train reads data/split/train.parquet, which no run"):
        submit(settings(application_id), "train", session=session)
    written_by_an_earlier_run(session, "data/split/test.parquet")
    with pytest.raises(SubmitError, match=r"evaluate reads models/candidates: nothing at s3://"):
        submit(settings(application_id), "evaluate", session=session)
    assert runs() == 0  # none of these started a run
    written_by_an_earlier_run(session, "data/split/train.parquet")
    with pytest.raises(SubmitError, match=r"EMR Serverless refused the job run of train"):
        submit(settings("00nosuchapp0000"), "train", session=session)
    for key in ("EMR_SERVERLESS_APPLICATION_ID", "EMR_SERVERLESS_JOB_ROLE_ARN"):
        monkeypatch.delenv(key, raising=False)
    assert main(["train", "--region", REGION]) == 2
    error = capsys.readouterr().err
    assert "EMR_SERVERLESS_APPLICATION_ID" in error and "EMR_SERVERLESS_S3_URI" in error
