# Applied once per AWS account by an administrator, with local state (terraform.tfstate here,
# git-ignored; keep it safe or migrate it into the state bucket, see README "Deploying to AWS").
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region
}
