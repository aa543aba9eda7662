# Production: IAM-authenticated URLs only; longer log retention.
region      = "eu-west-1"
repository  = "your-org/modelops"
memory_size = 2048
timeout     = 30
# reserved_concurrency = 20  # unreserved by default: see docs/deploying-to-aws.md (quota)
log_retention_days = 90
url_auth_type      = "AWS_IAM"
