terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.29, < 7.0" # 6.29: invoked_via_function_url
    }
  }

  # Bucket and region come from backend.hcl, written from the bootstrap outputs
  # (see README "Deploying to AWS"); use_lockfile = S3-native locking, no DynamoDB table.
  backend "s3" {
    key          = "envs/prod/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region
}

module "serving" {
  source = "../../modules/serving"

  environment          = "prod"
  repository           = var.repository
  image_uri            = var.image_uri
  memory_size          = var.memory_size
  timeout              = var.timeout
  architecture         = var.architecture
  reserved_concurrency = var.reserved_concurrency
  log_retention_days   = var.log_retention_days
  url_auth_type        = var.url_auth_type
  cors_allow_origins   = var.cors_allow_origins
}
