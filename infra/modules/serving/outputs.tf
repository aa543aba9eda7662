output "function_name" {
  description = "Lambda function name (the release CLI's FUNCTION_NAME)."
  value       = aws_lambda_function.service.function_name
}

output "live_url" {
  description = "HTTPS URL of the live alias."
  value       = aws_lambda_function_url.this["live"].function_url
}

output "candidate_url" {
  description = "HTTPS URL of the candidate alias."
  value       = aws_lambda_function_url.this["candidate"].function_url
}

output "url_auth_type" {
  description = "AWS_IAM (callers sign with SigV4) or NONE."
  value       = local.settings.url_auth_type
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.function.name
}

output "tags" {
  description = "The tags every resource of this environment carries (for modules beside this one)."
  value       = local.tags
}
