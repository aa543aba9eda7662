# Production: IAM-authenticated URLs only; longer log retention.
region      = "eu-west-1"
repository  = "your-org/modelops"
memory_size = 2048
timeout     = 30
# reserved_concurrency = 20  # unreserved by default: see docs/deploying-to-aws.md (quota)
log_retention_days = 90
url_auth_type      = "AWS_IAM"
# Prediction capture for `make monitor` (docs/monitoring.md): share of requests logged as JSON
# lines; capture_exclude keeps personal columns out. The S3 archive stays off until volume needs it.
capture_sample_rate = 1
# capture_exclude             = ["email"]
# capture_archive             = true
# capture_archive_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/..."  # bootstrap output kms_key_arn
