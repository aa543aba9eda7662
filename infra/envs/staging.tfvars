# Staging: small and cheap. Reserving concurrency caps cost and blast radius, but needs quota.
region      = "eu-west-1"
repository  = "your-org/modelops"
memory_size = 2048
timeout     = 30
# reserved_concurrency = 5  # unreserved by default: see docs/deploying-to-aws.md (quota)
log_retention_days = 14
url_auth_type      = "AWS_IAM"
