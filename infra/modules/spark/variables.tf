# An EMR Serverless application that runs the pipeline's stages with `compute.engine: spark`
# (docs/scaling.md), and the job role its runs assume. infra/envs creates it when var.spark is set.

variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  default     = "modelops"
}

variable "environment" {
  description = "staging or prod."
  type        = string

  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment must be staging or prod."
  }
}

variable "release_label" {
  description = "EMR release: emr-7.11.0 runs Spark 3.5.6 on Python 3.11 and Java 17, as pyspark in uv.lock."
  type        = string
  default     = "emr-7.11.0"

  validation {
    condition     = can(regex("^emr-7\\.[0-9]+\\.[0-9]+$", var.release_label))
    error_message = "release_label must be an EMR 7 release (Spark 3.5), e.g. emr-7.11.0."
  }
}

variable "image_uri" {
  description = "Optional custom image (ECR, by digest) with the project's Python environment; null uses the release's image with a venv archive (docs/scaling.md)."
  type        = string
  default     = null
}

variable "max_vcpu" {
  description = "The most vCPU the application's workers may hold at once: the cost ceiling."
  type        = number
  default     = 64

  validation {
    condition     = var.max_vcpu >= 4 && var.max_vcpu <= 4000
    error_message = "max_vcpu must be between 4 and 4000."
  }
}

variable "idle_timeout_minutes" {
  description = "Stop the application (no more billing) after this many idle minutes."
  type        = number
  default     = 15

  validation {
    condition     = var.idle_timeout_minutes >= 1 && var.idle_timeout_minutes <= 10080
    error_message = "idle_timeout_minutes must be between 1 and 10080."
  }
}

variable "data_bucket" {
  description = "Name of the bucket with the source tables (data.source s3:// URIs); read only."
  type        = string
}

variable "dvc_remote_bucket" {
  description = "Name of the DVC remote bucket: the pipeline's outputs and the job's logs."
  type        = string
}

variable "kms_key_arn" {
  description = "The project's KMS key (bootstrap output kms_key_arn), which encrypts both buckets."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
