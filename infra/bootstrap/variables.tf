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
