variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  default     = "modelops"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}[a-z0-9]$", var.project))
    error_message = "project must be 3-22 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Deployment environment."
  type        = string

  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment must be \"staging\" or \"prod\"."
  }
}

variable "image_uri" {
  description = "Container image by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<64 hex>."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.image_uri))
    error_message = "image_uri must be an ECR image pinned by digest (<repo uri>@sha256:<64 hex>), never a tag."
  }
}

variable "memory_size" {
  description = "Lambda memory in MB (CPU scales with it)."
  type        = number
  default     = 2048

  validation {
    condition     = var.memory_size >= 512 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 512 and 10240 (the model and its runtime need at least 512)."
  }
}

variable "timeout" {
  description = "Lambda timeout in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 3 && var.timeout <= 60 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 3 and 60 (function URLs are for synchronous predictions)."
  }
}

variable "architecture" {
  description = "Lambda CPU architecture; must match the image's platform."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be \"x86_64\" or \"arm64\"."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the function, or null (default) for none: the function then shares the account's unreserved pool. Reserving needs that much spare account quota (new accounts may have as little as 10)."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null ? true : (var.reserved_concurrency >= 1 && var.reserved_concurrency <= 1000 && floor(var.reserved_concurrency) == var.reserved_concurrency)
    error_message = "reserved_concurrency must be null (unreserved) or a whole number between 1 and 1000 (0 would disable the function)."
  }
}

variable "log_retention_days" {
  description = "CloudWatch log retention in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "url_auth_type" {
  description = "Function URL auth: AWS_IAM (SigV4-signed callers only) or NONE (public; needs explicit CORS origins)."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.url_auth_type)
    error_message = "url_auth_type must be \"AWS_IAM\" or \"NONE\"."
  }
}

variable "cors_allow_origins" {
  description = "Browser origins allowed to call the function URLs (https://...); never \"*\"."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for origin in var.cors_allow_origins : can(regex("^https://[a-z0-9.-]+(:[0-9]+)?$", origin))])
    error_message = "cors_allow_origins entries must be exact https:// origins (no \"*\", no path)."
  }
}

variable "extra_tags" {
  description = "Tags added to the required ones (Project, Environment, ManagedBy, Repository)."
  type        = map(string)
  default     = {}
}

variable "repository" {
  description = "GitHub repository (owner/name) that deploys this stack; recorded as a tag."
  type        = string
  default     = "unknown/unknown"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.repository))
    error_message = "repository must be a GitHub owner/name."
  }
}

# --- prediction capture (docs/monitoring.md) ---
variable "capture_sample_rate" {
  description = "Share of requests whose rows the service captures as JSON log lines for `make monitor` (decided by request id): 0 turns capture off, 1 (default) captures every request."
  type        = number
  default     = 1

  validation {
    condition     = var.capture_sample_rate >= 0 && var.capture_sample_rate <= 1
    error_message = "capture_sample_rate must be between 0 (capture off) and 1 (every request)."
  }
}

variable "capture_exclude" {
  description = "Feature columns never captured (personal data): they never reach the logs."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for column in var.capture_exclude : length(column) > 0 && !strcontains(column, ",")])
    error_message = "capture_exclude entries must be non-empty column names without commas (the service reads them comma-separated)."
  }
}
