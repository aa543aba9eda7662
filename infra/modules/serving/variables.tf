# Validation of every setting lives in ../naming (provider-less, tested offline with
# `terraform test`); this module passes them through it.

variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  default     = "modelops"
}

variable "environment" {
  description = "staging or prod."
  type        = string
}

variable "repository" {
  description = "GitHub owner/name, recorded as the Repository tag."
  type        = string
}

variable "image_uri" {
  description = "ECR image pinned by digest for the FIRST apply. Later releases are made by `make release-candidate` (see lifecycle below)."
  type        = string
}

variable "memory_size" {
  description = "Lambda memory in MB (512-10240)."
  type        = number
  default     = 2048
}

variable "timeout" {
  description = "Lambda timeout in seconds (3-60)."
  type        = number
  default     = 30
}

variable "architecture" {
  description = "x86_64 or arm64; must match the image."
  type        = string
  default     = "x86_64"
}

variable "reserved_concurrency" {
  description = "Reserved (and maximum) concurrent executions, >= 1; null (default) reserves none."
  type        = number
  default     = null
}

variable "log_retention_days" {
  description = "CloudWatch log retention in days."
  type        = number
  default     = 30
}

variable "url_auth_type" {
  description = "AWS_IAM (default) or NONE for public URLs (then cors_allow_origins is required)."
  type        = string
  default     = "AWS_IAM"
}

variable "cors_allow_origins" {
  description = "Exact https:// origins allowed by CORS on the function URLs."
  type        = list(string)
  default     = []
}

variable "capture_sample_rate" {
  description = "Share of requests captured for drift monitoring as JSON log lines (MODELOPS_CAPTURE=log); 0 turns capture off."
  type        = number
  default     = 1
}

variable "capture_exclude" {
  description = "Feature columns never captured (personal data)."
  type        = list(string)
  default     = []
}

variable "environment_variables" {
  description = "Extra environment variables for the service (no secrets: use SSM/Secrets Manager)."
  type        = map(string)
  default     = {}
}

variable "extra_tags" {
  description = "Tags added to the required ones."
  type        = map(string)
  default     = {}
}
