terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0" # 6.28: aws_lambda_permission.invoked_via_function_url
    }
  }
}
