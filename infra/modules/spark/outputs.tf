output "application_id" {
  description = "EMR_SERVERLESS_APPLICATION_ID for `make spark-submit`."
  value       = aws_emrserverless_application.this.id
}

output "job_role_arn" {
  description = "EMR_SERVERLESS_JOB_ROLE_ARN for `make spark-submit`: the role job runs assume."
  value       = aws_iam_role.job.arn
}
