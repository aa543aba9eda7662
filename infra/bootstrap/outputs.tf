output "state_bucket" {
  description = "Bucket for every environment's Terraform state (backend.hcl `bucket`)."
  value       = module.state_bucket.id
}

output "region" {
  description = "Region of everything (backend.hcl `region`)."
  value       = var.region
}

output "ecr_repository_url" {
  description = "Where `make image-push REPOSITORY=...` pushes."
  value       = aws_ecr_repository.service.repository_url
}

output "deploy_role_arns" {
  description = "Role per environment for aws-actions/configure-aws-credentials (role-to-assume)."
  value       = { for env, role in aws_iam_role.deploy : env => role.arn }
}

output "kms_key_arn" {
  description = "The project's KMS key (state, images, team buckets)."
  value       = aws_kms_key.this.arn
}

output "dvc_remote_url" {
  description = "DVC remote: `dvc remote add -d storage <this>`."
  value       = "s3://${module.dvc_bucket.id}/dvc"
}

output "mlflow_artifacts_uri" {
  description = "MLflow server `--artifacts-destination` / `--default-artifact-root`."
  value       = "s3://${module.mlflow_bucket.id}/artifacts"
}

output "pull_request_role_arn" {
  description = "Read-only role for CI on this repository's pull requests (repository variable AWS_PULL_REQUEST_ROLE_ARN); null when pull_request_role is false."
  value       = try(aws_iam_role.read_only["pull_request"].arn, null)
}

output "monitor_role_arn" {
  description = "Read-only role of monitor.yml (repository variable MONITOR_ROLE_ARN); null when monitor_role is false."
  value       = try(aws_iam_role.read_only["monitor"].arn, null)
}
