data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  # Account and region in the name: S3 names are global, and one repo may bootstrap many accounts.
  suffix = "${local.account}-${var.region}"
  # The key's alias and its ARN are known at plan time (the key's own ARN is not until it exists):
  # buckets name the key by alias ARN, so their encryption is readable on the first plan.
  kms_alias_name = "alias/${var.project}"
  kms_alias_arn  = "arn:${local.partition}:kms:${var.region}:${local.account}:${local.kms_alias_name}"
  tags = {
    Project     = var.project
    Environment = "shared"
    ManagedBy   = "terraform"
    Repository  = local.repository_name
  }
}

# One customer-managed key for state, images and team data: rotation on, usage visible in
# CloudTrail. Its key policy is AWS's default (the account's IAM policies decide who uses it).
resource "aws_kms_key" "this" {
  description             = "${var.project}: Terraform state, ECR images, DVC and MLflow data"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  name          = local.kms_alias_name
  target_key_id = aws_kms_key.this.key_id
}

# --- Terraform state (S3-native locking: `use_lockfile = true` in each env's backend) ---
module "state_bucket" {
  source = "../modules/bucket"

  name        = "${var.project}-tfstate-${local.suffix}"
  kms_key_arn = local.kms_alias_arn
  depends_on  = [aws_kms_alias.this]
  tags        = local.tags
}

# --- container images ---
resource "aws_ecr_repository" "service" {
  name                 = var.project
  image_tag_mutability = "IMMUTABLE" # a tag always means the same digest

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.this.arn
  }

  tags = local.tags
}

resource "aws_ecr_lifecycle_policy" "service" {
  repository = aws_ecr_repository.service.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "untagged layers of failed pushes"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "keep the newest ${var.ecr_keep_images} images (rollback targets)"
        selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = var.ecr_keep_images }
        action       = { type = "expire" }
      },
    ]
  })
}

# Lambda pulls the image with its service principal, only for this project's functions.
data "aws_iam_policy_document" "ecr_lambda_pull" {
  statement {
    sid     = "LambdaPull"
    actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:sourceArn"
      values   = ["arn:${local.partition}:lambda:${var.region}:${local.account}:function:${var.project}-*"]
    }
  }
}

resource "aws_ecr_repository_policy" "service" {
  repository = aws_ecr_repository.service.name
  policy     = data.aws_iam_policy_document.ecr_lambda_pull.json
}
