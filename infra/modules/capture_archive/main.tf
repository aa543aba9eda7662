# Optional archive of the prediction capture (docs/monitoring.md): the Lambda's structured capture
# log events -> a CloudWatch Logs subscription filter -> Firehose -> S3, partitioned by date, for
# volumes where Logs Insights queries cost more than reading objects. `make monitor
# SOURCE=s3://<bucket>/captures/` reads what lands there (Firehose keeps the subscription's gzip
# batches as they are; the reader unpacks them). infra/envs adds it when capture_archive = true.
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0" # 6.0: aws_region.region (name is deprecated)
    }
  }
}

variable "name" {
  description = "Prefix of the Firehose stream and roles, e.g. modelops-prod."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$", var.name))
    error_message = "name must be 1-41 letters, digits, '-' or '_' (it prefixes IAM role names)."
  }
}

variable "log_group_name" {
  description = "The function's log group (the serving module's log_group_name output)."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique name of the archive bucket; null (default): <name>-captures-<account id>."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key that encrypts the stream and the objects."
  type        = string
}

variable "buffer_seconds" {
  description = "Firehose writes an object at least this often (60-900 s)."
  type        = number
  default     = 300

  validation {
    condition     = var.buffer_seconds >= 60 && var.buffer_seconds <= 900
    error_message = "buffer_seconds must be between 60 and 900."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  bucket_name = coalesce(var.bucket_name, "${var.name}-captures-${data.aws_caller_identity.current.account_id}")
  # Built from its parts, not read from the resource: the policy that lets Logs write to the
  # stream is then known on a first plan (terraform-compliance reads the planned document).
  stream_name = "${var.name}-capture"
  # The bucket's ARN from its name, not the bucket module's `arn` output (the resource's computed
  # ARN, unknown until it exists): Firehose's write policy would otherwise be deferred to the
  # apply, and the policy check on the first plan could not read it.
  bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${local.bucket_name}"
  stream_arn = join(":", [
    "arn", data.aws_partition.current.partition, "firehose", data.aws_region.current.region,
    data.aws_caller_identity.current.account_id, "deliverystream/${local.stream_name}",
  ])
}

module "bucket" {
  source      = "../bucket"
  name        = local.bucket_name
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}

# Firehose's documented trust: its service principal, for this account only (sts:ExternalId).
data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name               = "${var.name}-capture-firehose"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "firehose_write" {
  statement {
    actions   = ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [local.bucket_arn]
  }
  statement {
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${local.bucket_arn}/captures/*", "${local.bucket_arn}/errors/*"]
  }
  # The key only through S3, for this bucket (with S3 Bucket Keys the encryption context is the
  # bucket's ARN, without them the object's).
  statement {
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.region}.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = [local.bucket_arn, "${local.bucket_arn}/*"]
    }
  }
}

resource "aws_iam_role_policy" "firehose_write" {
  name   = "write-capture-archive"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose_write.json
}

resource "aws_kinesis_firehose_delivery_stream" "capture" {
  name        = local.stream_name
  destination = "extended_s3"

  server_side_encryption {
    enabled  = true
    key_type = "CUSTOMER_MANAGED_CMK"
    key_arn  = var.kms_key_arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.firehose.arn
    bucket_arn          = module.bucket.arn
    kms_key_arn         = var.kms_key_arn
    prefix              = "captures/date=!{timestamp:yyyy-MM-dd}/"
    error_output_prefix = "errors/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/"
    buffering_interval  = var.buffer_seconds
    buffering_size      = 64
    compression_format  = "UNCOMPRESSED" # the subscription's batches arrive gzipped already
  }

  tags = var.tags
}

# CloudWatch Logs' documented trust for a subscription to Firehose: its regional principal,
# acting for log groups of this account and region only (aws:SourceArn, no confused deputy).
data "aws_iam_policy_document" "logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.region}.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:SourceArn"
      values = [join(":", [
        "arn", data.aws_partition.current.partition, "logs", data.aws_region.current.region,
        data.aws_caller_identity.current.account_id, "*",
      ])]
    }
  }
}

resource "aws_iam_role" "logs" {
  name               = "${var.name}-capture-logs"
  assume_role_policy = data.aws_iam_policy_document.logs_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "logs_put" {
  statement {
    actions   = ["firehose:PutRecord", "firehose:PutRecordBatch"]
    resources = [local.stream_arn]
  }
}

resource "aws_iam_role_policy" "logs_put" {
  name   = "forward-capture"
  role   = aws_iam_role.logs.id
  policy = data.aws_iam_policy_document.logs_put.json
}

# Only the capture events: each is the record's JSON line, {"kind": "modelops.capture", ...}.
resource "aws_cloudwatch_log_subscription_filter" "capture" {
  name            = "${var.name}-capture"
  log_group_name  = var.log_group_name
  filter_pattern  = "{ $.kind = \"modelops.capture\" }"
  destination_arn = aws_kinesis_firehose_delivery_stream.capture.arn
  role_arn        = aws_iam_role.logs.arn
}

output "source" {
  description = "What `make monitor SOURCE=` reads."
  value       = "s3://${local.bucket_name}/captures/"
}
