terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0" # 6.28: aws_lambda_permission.invoked_via_function_url
    }
  }

  # One root for every environment: the state key (envs/<env>/terraform.tfstate), bucket,
  # region and kms_key_id come from backend-<env>.hcl, written from the bootstrap outputs
  # (`make backend-config ENV=<env>`, docs/deploying-to-aws.md), and each environment's settings
  # from <env>.tfvars. With kms_key_id, the state is written with the project's KMS key:
  # `encrypt = true` alone asks S3 for its own keys (SSE-S3) and overrides the bucket's default
  # KMS encryption. use_lockfile = S3-native locking, no DynamoDB table.
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region
}

module "serving" {
  source = "../modules/serving"

  project              = var.project
  environment          = var.environment
  repository           = var.repository
  image_uri            = var.image_uri
  memory_size          = var.memory_size
  timeout              = var.timeout
  architecture         = var.architecture
  reserved_concurrency = var.reserved_concurrency
  log_retention_days   = var.log_retention_days
  url_auth_type        = var.url_auth_type
  cors_allow_origins   = var.cors_allow_origins
  capture_sample_rate  = var.capture_sample_rate
  capture_exclude      = var.capture_exclude
}

# --- prediction capture archive (docs/monitoring.md), off by default ---
# The function's capture log events -> subscription filter -> Firehose -> S3 under
# captures/date=YYYY-MM-DD/, for volumes where Logs Insights costs more than reading objects.
# `terraform output capture_source` is what `make monitor SOURCE=` then reads.
module "capture_archive" {
  source = "../modules/capture_archive"
  count  = var.capture_archive ? 1 : 0

  name           = "${var.project}-${var.environment}"
  log_group_name = module.serving.log_group_name
  kms_key_arn    = var.capture_archive_kms_key_arn
  tags           = module.serving.tags
}

# --- Spark engine (issue #24): EMR Serverless for `compute.engine: spark`, off by default -------
# `spark = { data_bucket = ..., dvc_remote_bucket = ..., kms_key_arn = ... }` in <env>.tfvars creates
# the application and its job role; `make spark-submit STAGE=...` runs a stage there
# (docs/scaling.md).
module "spark" {
  source = "../modules/spark"
  count  = var.spark == null ? 0 : 1

  project           = var.project
  environment       = var.environment
  data_bucket       = var.spark.data_bucket
  dvc_remote_bucket = var.spark.dvc_remote_bucket
  kms_key_arn       = var.spark.kms_key_arn
  max_vcpu          = var.spark.max_vcpu
}
# --- end Spark engine ----------------------------------------------------------------------------
