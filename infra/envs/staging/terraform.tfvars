# Staging: small and cheap; reserved concurrency caps cost and blast radius.
region               = "eu-west-1"
repository           = "your-org/modelops"
memory_size          = 2048
timeout              = 30
reserved_concurrency = 5
log_retention_days   = 14
url_auth_type        = "AWS_IAM"
