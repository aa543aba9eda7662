output "name" {
  description = "Base name: <project>-<environment>."
  value       = local.name
}

output "function_name" {
  description = "Lambda function name."
  value       = local.name
}

output "log_group_name" {
  description = "The log group Lambda writes to for this function."
  value       = "/aws/lambda/${local.name}"
}

output "role_name" {
  description = "Lambda execution role name."
  value       = "${local.name}-lambda"
}

output "tags" {
  description = "Required tags merged with extra_tags (required keys win)."
  value       = merge(var.extra_tags, local.required_tags)
}

output "settings" {
  description = "The validated Lambda settings."
  value = {
    image_uri            = var.image_uri
    memory_size          = var.memory_size
    timeout              = var.timeout
    architecture         = var.architecture
    reserved_concurrency = var.reserved_concurrency
    log_retention_days   = var.log_retention_days
    url_auth_type        = var.url_auth_type
    cors_allow_origins   = var.cors_allow_origins
    capture_sample_rate  = var.capture_sample_rate
    capture_exclude      = var.capture_exclude
  }
}
