output "function_name" {
  description = "Lambda function name (FUNCTION_NAME for make release-*)."
  value       = module.serving.function_name
}

output "live_url" {
  description = "HTTPS URL of the live alias."
  value       = module.serving.live_url
}

output "candidate_url" {
  description = "HTTPS URL of the candidate alias."
  value       = module.serving.candidate_url
}

output "region" {
  description = "AWS region."
  value       = var.region
}

output "function_url_auth_type" {
  description = "AWS_IAM (smoke tests and callers sign with SigV4) or NONE: `make smoke AUTH=` follows it."
  value       = module.serving.url_auth_type
}

output "capture_source" {
  description = "What `make monitor SOURCE=` reads: the capture archive's S3 prefix, or the function's log group when the archive is off."
  value       = var.capture_archive ? module.capture_archive[0].source : "logs://${module.serving.log_group_name}"
}

# --- Spark engine (issue #24): null unless var.spark is set ----------------------------------
output "spark_application_id" {
  description = "EMR_SERVERLESS_APPLICATION_ID for make spark-submit (null unless var.spark is set)."
  value       = one(module.spark[*].application_id)
}

output "spark_job_role_arn" {
  description = "EMR_SERVERLESS_JOB_ROLE_ARN for make spark-submit (null unless var.spark is set)."
  value       = one(module.spark[*].job_role_arn)
}
# --- end Spark engine ----------------------------------------------------------------------------
