data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  name      = "${var.project}-${var.environment}-spark"
  partition = data.aws_partition.current.partition
  # memory follows vCPU at the 4 GB per vCPU of EMR Serverless' default workers
  max_memory_gb = var.max_vcpu * 4
}

resource "aws_emrserverless_application" "this" {
  name          = local.name
  release_label = var.release_label
  type          = "spark"

  maximum_capacity {
    cpu    = "${var.max_vcpu} vCPU"
    memory = "${local.max_memory_gb} GB"
  }

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = var.idle_timeout_minutes
  }

  dynamic "image_configuration" {
    for_each = var.image_uri == null ? [] : [var.image_uri]
    content {
      image_uri = image_configuration.value
    }
  }

  tags = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["emr-serverless.amazonaws.com"]
    }
    # only job runs of this account's EMR Serverless applications may assume the role
    # (confused-deputy guard). The ARN is built from its parts, not read from the application
    # (whose id AWS assigns at create): the trust policy is then known on a first plan.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values = [join(":", [
        "arn", local.partition, "emr-serverless", data.aws_region.current.region,
        data.aws_caller_identity.current.account_id, "/applications/*/jobruns/*",
      ])]
    }
  }
}

resource "aws_iam_role" "job" {
  name                 = "${local.name}-job"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 43200 # a job run's default timeout is 12 hours
  tags                 = var.tags
}

# The job reads the source tables and reads/writes the DVC remote (outputs, logs): nothing else.
data "aws_iam_policy_document" "data" {
  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = ["arn:${local.partition}:s3:::${var.data_bucket}", "arn:${local.partition}:s3:::${var.dvc_remote_bucket}"]
  }

  statement {
    sid       = "ReadSourceTables"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${var.data_bucket}/*"]
  }

  statement {
    sid       = "ReadWriteDvcRemote"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["arn:${local.partition}:s3:::${var.dvc_remote_bucket}/*"]
  }

  statement {
    sid       = "UseTheProjectKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "data" {
  name   = "data"
  role   = aws_iam_role.job.id
  policy = data.aws_iam_policy_document.data.json
}
