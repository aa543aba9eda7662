variable "environment" {
  description = "Which environment this state and these settings are: staging or prod (make passes ENV)."
  type        = string

  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment must be staging or prod."
  }
}

variable "project" {
  description = "Project name, the first part of every resource name; the same as the bootstrap's `project`."
  type        = string
  default     = "modelops"
}

variable "region" {
  description = "AWS region of the stack (same as the bootstrap's)."
  type        = string
}

variable "repository" {
  description = "GitHub owner/name."
  type        = string
}

variable "image_uri" {
  description = "Image by digest for the first apply (TF_VAR_image_uri, or `make apply IMAGE_URI=...`)."
  type        = string
}

variable "memory_size" {
  description = "Lambda memory in MB."
  type        = number
}

variable "timeout" {
  description = "Lambda timeout in seconds."
  type        = number
}

variable "architecture" {
  description = "x86_64 or arm64."
  type        = string
  default     = "x86_64"
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (1-1000), or null (default): unreserved. Reserving needs spare account quota (docs/deploying-to-aws.md)."
  type        = number
  default     = null
}

variable "log_retention_days" {
  description = "Log retention in days."
  type        = number
}

variable "url_auth_type" {
  description = "AWS_IAM or NONE."
  type        = string
  default     = "AWS_IAM"
}

variable "cors_allow_origins" {
  description = "Exact https:// origins for CORS."
  type        = list(string)
  default     = []
}

# --- Spark engine (issue #24): off by default; module "spark" in main.tf ------------------------
variable "enable_spark" {
  description = "Create the EMR Serverless application and job role that run stages with compute.engine: spark (make spark-submit)."
  type        = bool
  default     = false
}

variable "spark_data_bucket" {
  description = "With enable_spark: the bucket of the source tables (data.source s3:// URIs); the job role reads it only."
  type        = string
  default     = null

  validation {
    condition     = !var.enable_spark || var.spark_data_bucket != null
    error_message = "enable_spark needs spark_data_bucket (the bucket of the source tables)."
  }
}

variable "spark_dvc_remote_bucket" {
  description = "With enable_spark: the DVC remote bucket (bootstrap output), where job runs read and write the pipeline's outputs and logs."
  type        = string
  default     = null

  validation {
    condition     = !var.enable_spark || var.spark_dvc_remote_bucket != null
    error_message = "enable_spark needs spark_dvc_remote_bucket (the bootstrap's DVC remote bucket)."
  }
}

variable "spark_kms_key_arn" {
  description = "With enable_spark: the project's KMS key (bootstrap output kms_key_arn), which encrypts both buckets."
  type        = string
  default     = null

  validation {
    condition     = !var.enable_spark || var.spark_kms_key_arn != null
    error_message = "enable_spark needs spark_kms_key_arn (the bootstrap output kms_key_arn)."
  }
}

variable "spark_max_vcpu" {
  description = "With enable_spark: the most vCPU the application's workers may hold at once (the cost ceiling)."
  type        = number
  default     = 64
}
# --- end Spark engine ----------------------------------------------------------------------------
