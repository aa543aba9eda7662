"""The job's entry point on the driver (`engines.spark.job`), with a submit's plan, on moto S3.

moto runs no Spark and no driver: the test runs the entry point here, in the driver's place, with
a stand-in stage module that reads what a stage reads and writes what it writes. What EMR
Serverless adds (the working directory, spark-submit's Python path) is AWS's; a driver's working
directory is not kept after the run (EMR Serverless user guide), which is why the job stores the
outputs in S3.
"""

import sys
import textwrap

import pytest

from modelops.pipeline.engines.spark import job

BUCKET = "dvc-remote"
ROOT = f"s3://{BUCKET}/spark"
TABLE = f"{ROOT}/runs/r1/data/split/train.parquet"
STAGE = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    def main():
        args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
        assert "engine: spark" in Path("params.yaml").read_text()
        models = Path(args["--models-dir"])
        (models / "xgboost").mkdir(parents=True)
        (models / "xgboost" / "model.json").write_text(Path(args["--contract"]).read_text())
        (models / "runs.json").write_text("{}")
        if args["--fail"] == "yes":
            print("error: train: a contract break", file=sys.stderr)
            sys.exit(1)

    if __name__ == "__main__":
        main()
    """
)


@pytest.fixture
def s3(moto_bucket, monkeypatch, tmp_path):
    monkeypatch.delenv(job.SUBMITTED_ENV, raising=False)
    driver = tmp_path / "driver"  # the driver's working directory
    driver.mkdir()
    (tmp_path / "stand_in_stage.py").write_text(STAGE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(driver)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    client = moto_bucket.client("s3")
    client.put_object(
        Bucket=BUCKET, Key="spark/work/params.yaml", Body=b"compute:\n  engine: spark\n"
    )
    client.put_object(Bucket=BUCKET, Key="spark/work/contract.yaml", Body=b"task: binary\n")
    return client


def plan(fail="no"):
    return {
        "module": "stand_in_stage",
        "args": [
            "--train", TABLE, "--contract", "contract.yaml",
            "--models-dir", "models/candidates", "--fail", fail,
        ],
        "fetch": [
            [f"{ROOT}/work/params.yaml", "params.yaml"],
            [f"{ROOT}/work/contract.yaml", "contract.yaml"],
        ],
        "store": [["models/candidates", f"{ROOT}/work/models/candidates"]],
        "pointers": [
            [f"{ROOT}/work/data/split/train.parquet.latest", TABLE],
        ],
    }  # fmt: skip


def keys(s3):
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_a_stage_gets_its_inputs_and_its_outputs_and_pointers_reach_s3_after_it(s3):
    assert job.run(plan(), s3) == 0
    assert keys(s3) == [
        "spark/work/contract.yaml",
        "spark/work/data/split/train.parquet.latest",
        "spark/work/models/candidates/runs.json",
        "spark/work/models/candidates/xgboost/model.json",
        "spark/work/params.yaml",
    ]
    model = s3.get_object(Bucket=BUCKET, Key="spark/work/models/candidates/xgboost/model.json")
    assert model["Body"].read() == b"task: binary\n"  # the fetched contract reached the stage
    pointer = s3.get_object(Bucket=BUCKET, Key="spark/work/data/split/train.parquet.latest")
    assert pointer["Body"].read().decode() == TABLE


def test_a_failed_stage_stores_nothing_and_leaves_the_last_good_outputs(s3, capsys):
    s3.put_object(Bucket=BUCKET, Key="spark/work/models/candidates/runs.json", Body=b"good")
    s3.put_object(Bucket=BUCKET, Key="spark/work/data/split/train.parquet.latest", Body=b"old")
    assert job.run(plan(fail="yes"), s3) == 1
    assert "no output was stored" in capsys.readouterr().err
    assert (
        s3.get_object(Bucket=BUCKET, Key="spark/work/models/candidates/runs.json")["Body"].read()
        == b"good"
    )
    pointer = s3.get_object(Bucket=BUCKET, Key="spark/work/data/split/train.parquet.latest")
    assert pointer["Body"].read() == b"old"


def test_a_missing_input_stops_the_job_before_the_stage(s3, capsys):
    missing = plan()
    missing["fetch"].append([f"{ROOT}/work/metrics/candidates.json", "metrics/candidates.json"])
    assert job.run(missing, s3) == 1
    assert f"nothing at {ROOT}/work/metrics/candidates.json" in capsys.readouterr().err
    assert "spark/work/models/candidates/runs.json" not in keys(s3)


def test_a_folder_fetch_takes_its_files_not_a_sibling_sharing_its_prefix(s3, tmp_path):
    s3.put_object(Bucket=BUCKET, Key="spark/work/models/best/model.json", Body=b"best")
    s3.put_object(Bucket=BUCKET, Key="spark/work/models/best2/model.json", Body=b"other")
    assert job.fetch(s3, f"{ROOT}/work/models/best", "models/best") == 1
    assert (tmp_path / "driver" / "models/best/model.json").read_bytes() == b"best"
    assert not (tmp_path / "driver" / "models/best2").exists()


def test_the_entry_point_takes_one_plan(capsys):
    assert job.main([]) == 2
    assert "usage: job.py PLAN_JSON" in capsys.readouterr().err
