"""infra/modules/spark: the EMR Serverless application and the least-privilege job role."""

import re

from tests.infra.tools import ROOT

MODULE = ROOT / "infra" / "modules" / "spark"


def statements(text: str) -> dict[str, str]:
    return dict(re.findall(r'sid\s+= "(\w+)"(.*?)\n  \}', text, re.S))


def test_the_job_role_reaches_the_two_buckets_and_the_key_only():
    text = (MODULE / "main.tf").read_text()
    policy = statements(text)
    assert set(policy) == {
        "ListBuckets",
        "ReadSourceTables",
        "ReadWriteDvcRemote",
        "UseTheProjectKey",
    }
    resources = re.findall(r"resources = \[(.*?)\]", "".join(policy.values()))
    named = set(re.findall(r"var\.(\w+)", " ".join(resources)))
    assert named == {"data_bucket", "dvc_remote_bucket", "kms_key_arn"}
    assert '"*"' not in "".join(resources)
    assert '"s3:GetObject"' in policy["ReadSourceTables"]
    assert "PutObject" not in policy["ReadSourceTables"]  # source tables are read only
    assert "data_bucket" not in policy["ReadWriteDvcRemote"]


def test_only_this_accounts_job_runs_assume_the_role():
    """EMR Serverless job runs of this account only (the confused-deputy guard), with an ARN
    built from its parts: the application's own ARN is unknown until it exists, and a trust
    policy unknown on the first plan fails the policy check."""
    text = (MODULE / "main.tf").read_text()
    assume = re.search(r'data "aws_iam_policy_document" "assume" \{(.*?)\n\}', text, re.S).group(1)
    assert '"emr-serverless.amazonaws.com"' in assume
    assert "aws:SourceAccount" in assume and "data.aws_caller_identity.current.account_id" in assume
    assert "aws:SourceArn" in assume and '"/applications/*/jobruns/*"' in assume
    assert "aws_emrserverless_application.this.arn" not in assume


def test_the_application_runs_the_locked_spark_and_stops_when_idle():
    variables = (MODULE / "variables.tf").read_text()
    assert 'default     = "emr-7.11.0"' in variables  # Spark 3.5.6, as pyspark in uv.lock
    lock = (ROOT / "uv.lock").read_text()
    assert re.search(r'name = "pyspark"\nversion = "3\.5\.6"', lock)
    main = (MODULE / "main.tf").read_text()
    assert re.search(r"auto_stop_configuration \{\s+enabled\s+= true", main)
    assert "maximum_capacity" in main
