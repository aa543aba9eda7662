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

# --- prediction capture (docs/monitoring.md) ---
variable "capture_sample_rate" {
  description = "Share of requests the function captures as JSON log lines for `make monitor` (0 = off, 1 = every request)."
  type        = number
  default     = 1
}

variable "capture_exclude" {
  description = "Feature columns never captured (personal data)."
  type        = list(string)
  default     = []
}

variable "capture_archive" {
  description = "Also archive the captures to S3 through Firehose (infra/modules/capture_archive); off by default."
  type        = bool
  default     = false
}

variable "capture_archive_kms_key_arn" {
  description = "Customer-managed KMS key of the capture archive's stream and bucket (the bootstrap's kms_key_arn output); required when capture_archive is true."
  type        = string
  default     = null

  validation {
    condition     = !var.capture_archive || var.capture_archive_kms_key_arn != null
    error_message = "capture_archive = true needs capture_archive_kms_key_arn (terraform -chdir=infra/bootstrap output kms_key_arn)."
  }
}

# --- Spark engine (issue #24): off by default; module "spark" in main.tf ------------------------
variable "spark" {
  description = "null (default): no Spark. Set to create the EMR Serverless application and job role that run stages with compute.engine: spark (make spark-submit): data_bucket (the source tables, read only), dvc_remote_bucket and kms_key_arn (bootstrap outputs), max_vcpu (the cost ceiling)."
  type = object({
    data_bucket       = string
    dvc_remote_bucket = string
    kms_key_arn       = string
    max_vcpu          = optional(number, 64)
  })
  default = null
}
# --- end Spark engine ----------------------------------------------------------------------------
