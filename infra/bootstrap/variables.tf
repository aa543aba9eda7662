variable "region" {
  description = "AWS region for the state bucket, ECR, team buckets and every environment."
  type        = string
}

variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  default     = "modelops"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}[a-z0-9]$", var.project))
    error_message = "project must be 3-22 characters of lowercase letters, digits and hyphens."
  }
}

variable "repository" {
  description = "GitHub repository whose workflows may assume the deploy roles: owner/name, or owner@OWNER_ID/name@REPO_ID for immutable OIDC subjects (repositories created or renamed on or after 2026-07-15; IDs: gh api repos/OWNER/NAME --jq '.owner.id, .id')."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(@[0-9]+)?/[A-Za-z0-9_.-]+(@[0-9]+)?$", var.repository)) && length(regexall("@", var.repository)) != 1
    error_message = "repository must be a GitHub owner/name (e.g. acme/modelops), or owner@OWNER_ID/name@REPO_ID with both numeric IDs (e.g. acme@1234567/modelops@890123456)."
  }
}

variable "environments" {
  description = "Environments that get a deploy role (infra/envs/<name>)."
  type        = set(string)
  default     = ["staging", "prod"]

  validation {
    condition     = alltrue([for env in var.environments : contains(["staging", "prod"], env)])
    error_message = "environments may only contain \"staging\" and \"prod\"."
  }
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (false if it already exists: there is one per account)."
  type        = bool
  default     = true
}

variable "ecr_keep_images" {
  description = "How many images ECR keeps; older ones expire. Versions still used by a Lambda alias must be among them."
  type        = number
  default     = 30

  validation {
    condition     = var.ecr_keep_images >= 5
    error_message = "ecr_keep_images must be at least 5 so that rollback targets survive."
  }
}

variable "team_buckets_force_destroy" {
  description = "Allow `terraform destroy` to delete non-empty DVC/MLflow buckets."
  type        = bool
  default     = false
}

variable "pull_request_role" {
  description = "Create the read-only role CI assumes on pull requests from this repository (never forks): it reads the DVC remote and labelled_data, nothing else (output pull_request_role_arn, repository variable AWS_PULL_REQUEST_ROLE_ARN)."
  type        = bool
  default     = true
}

variable "labelled_data" {
  description = "Private S3 locations of the labelled data that data.source imports (`dvc import-url s3://bucket/prefix/...`), s3://bucket or s3://bucket/prefix: the pull-request and monitor roles (and the staging deploy role) may list and read there. [] = the DVC remote only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for uri in var.labelled_data : can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^*?]*)?$", uri))])
    error_message = "labelled_data entries must be s3://bucket or s3://bucket/prefix (no wildcards)."
  }
}

variable "labelled_data_kms_key_arns" {
  description = "Customer-managed KMS keys of the labelled_data buckets (SSE-KMS), which the roles that read labelled_data may use to decrypt through S3 only; [] for SSE-S3."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.labelled_data_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$", arn))])
    error_message = "labelled_data_kms_key_arns entries must be KMS key ARNs (arn:aws:kms:<region>:<account>:key/<id>), not aliases or wildcards."
  }
}

variable "monitor_role" {
  description = "Create the read-only role monitor.yml assumes on main (output monitor_role_arn, repository variable MONITOR_ROLE_ARN): Logs Insights on the functions' log groups, the capture archive of capture_archive_environments, the DVC remote and labelled_data; nothing else."
  type        = bool
  default     = true
}

variable "capture_archive_environments" {
  description = "Environments whose capture archive is on (infra/envs capture_archive = true): the monitor role may list and read captures/ of their bucket <project>-<env>-captures-<account>. [] = Logs Insights only."
  type        = set(string)
  default     = []

  validation {
    condition     = alltrue([for env in var.capture_archive_environments : contains(["staging", "prod"], env)])
    error_message = "capture_archive_environments may only contain \"staging\" and \"prod\"."
  }
}
