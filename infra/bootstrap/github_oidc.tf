# GitHub Actions get short-lived credentials through OIDC: no access keys stored anywhere.
resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  # Ignored by AWS for this provider (it trusts GitHub's CA), but still required by older providers.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"] # pragma: allowlist secret
  tags            = local.tags
}

locals {
  # The provider's ARN from the account and GitHub's issuer host, never from the resource's
  # computed `arn`: a data source that read an attribute of a resource created in the same apply
  # would be deferred on the first plan, leaving `assume_role_policy` "known after apply", and
  # the policy check (which runs before the apply) could not read it. The roles wait for the
  # provider through `depends_on` instead (IAM refuses a trust policy naming a missing provider).
  oidc_provider_arn = "arn:${local.partition}:iam::${local.account}:oidc-provider/token.actions.githubusercontent.com"

  # Which workflow runs may assume each role (the token's `sub` claim). A job that names a GitHub
  # environment gets `environment:<name>` as its subject, any other job on main `ref:refs/heads/main`.
  # Repositories created or renamed on or after 2026-07-15 get immutable subjects that carry the
  # owner's and the repository's numeric IDs, `repo:OWNER@OWNER_ID/REPO@REPO_ID:...` (GitHub
  # docs, OpenID Connect, "Immutable subject claims"); older ones `repo:OWNER/REPO:...`. Given
  # `owner@id/name@id`, the roles trust both forms, so opting an older repository in later
  # needs no new bootstrap; given `owner/name`, only the name form.
  # Production trusts only jobs in the environment `prod`, whose protection rules (required
  # reviewers, deployment branch main) decide who deploys; trusting `ref:refs/heads/main` too would
  # let any job of any workflow on main skip them. Staging also trusts main's other jobs: CI on
  # main plans staging and pushes the pipeline outputs to the DVC remote with this role.
  repository_name     = replace(var.repository, "/@[0-9]+/", "")
  repository_subjects = distinct([var.repository, local.repository_name])
  repositories        = [for repo in local.repository_subjects : { owner = split("/", repo)[0], name = split("/", repo)[1] }]
  trusted_subjects = {
    staging = flatten([for r in local.repositories : ["repo:${r.owner}/${r.name}:ref:refs/heads/main", "repo:${r.owner}/${r.name}:environment:staging"]])
    prod    = [for r in local.repositories : "repo:${r.owner}/${r.name}:environment:prod"]
  }

  # ARNs from names and the account (known at plan time), not from resources' computed `arn`:
  # the policy documents are then known on the first plan, and the policy check can read them.
  ecr_repository_arn = "arn:${local.partition}:ecr:${var.region}:${local.account}:repository/${var.project}"
  dvc_bucket_arn     = "arn:${local.partition}:s3:::${var.project}-dvc-${local.suffix}"
  # Who may write the DVC remote: staging (CI on main pushes what it reproduced); prod only reads.
  dvc_writers = toset(["staging"])
}

data "aws_iam_policy_document" "deploy_trust" {
  # checkov:skip=CKV_AWS_358:checkov cannot evaluate the for-expressions of trusted_subjects; the same rule (exact repo subjects, no wildcard, no abusable claim) runs on the plan's real values: infra/policies/iam_trust.feature
  for_each = var.environments

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = local.trusted_subjects[each.key]
    }
  }
}

resource "aws_iam_role" "deploy" {
  for_each = var.environments

  name                 = "${var.project}-deploy-${each.key}"
  description          = "GitHub Actions (${local.repository_name}) deploys ${var.project}-${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust[each.key].json
  max_session_duration = 3600
  tags                 = merge(local.tags, { Environment = each.key })

  # The trust policy names the provider by ARN (known at plan time): create the provider first.
  depends_on = [aws_iam_openid_connect_provider.github]
}

# What `make apply ENV=<env>`, `make image-push`, `make release-*`, `make smoke` (SigV4 calls
# to an AWS_IAM function URL need InvokeFunctionUrl and InvokeFunction) and `make pull`/`make push`
# (the DVC remote) need, and no more: every statement names its resources (this project's
# function, role, log group, state key, repository, DVC prefix).
data "aws_iam_policy_document" "deploy" {
  for_each = var.environments

  statement {
    sid       = "StateList"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.project}-tfstate-${local.suffix}"]
  }
  statement {
    sid     = "StateReadWrite"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    # DeleteObject: the S3-native lock file is removed when the lock is released.
    resources = ["arn:${local.partition}:s3:::${var.project}-tfstate-${local.suffix}/envs/${each.key}/*"]
  }
  statement {
    sid     = "UseProjectKey"
    actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    # The key's ARN holds a random id unknown until it exists: name the account's keys and let
    # only the one behind the project's alias match.
    resources = ["arn:${local.partition}:kms:${var.region}:${local.account}:key/*"]
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [local.kms_alias_name]
    }
  }
  # ListBucket on the whole bucket, not only the prefix `dvc/`: s3fs (DVC's S3 file system)
  # probes the bucket before it writes under it, with HeadBucket then GetBucketLocation
  # (s3fs/core.py `_exists` of a bucket, called from `_mkdir`), and creates the bucket when
  # both fail. HeadBucket needs s3:ListBucket (S3 API reference, HeadBucket) but carries no
  # s3:prefix, so a prefix condition refuses it and `dvc push` ends in CreateBucket: AccessDenied.
  # The bucket holds only the DVC remote, so listing all of it shows nothing more.
  statement {
    sid       = "DvcRemoteList"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [local.dvc_bucket_arn]
  }
  statement {
    sid       = "DvcRemoteRead"
    actions   = contains(local.dvc_writers, each.key) ? ["s3:GetObject", "s3:PutObject"] : ["s3:GetObject"]
    resources = ["${local.dvc_bucket_arn}/dvc/*"]
  }
  statement {
    sid = "PushImages"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
      "ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:GetDownloadUrlForLayer",
      "ecr:GetRepositoryPolicy", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
    ]
    resources = [local.ecr_repository_arn]
  }
  statement {
    sid = "ManageFunction"
    actions = [
      "lambda:AddPermission", "lambda:CreateAlias", "lambda:CreateFunction",
      "lambda:CreateFunctionUrlConfig", "lambda:DeleteAlias", "lambda:DeleteFunction",
      "lambda:DeleteFunctionConcurrency", "lambda:DeleteFunctionUrlConfig", "lambda:GetAlias",
      "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency",
      "lambda:GetFunctionConfiguration", "lambda:GetFunctionUrlConfig", "lambda:GetPolicy",
      "lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:ListAliases", "lambda:ListTags",
      "lambda:ListVersionsByFunction", "lambda:PublishVersion", "lambda:PutFunctionConcurrency",
      "lambda:RemovePermission", "lambda:TagResource", "lambda:UntagResource", "lambda:UpdateAlias",
      "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
      "lambda:UpdateFunctionUrlConfig",
    ]
    resources = [
      "arn:${local.partition}:lambda:${var.region}:${local.account}:function:${var.project}-${each.key}",
      "arn:${local.partition}:lambda:${var.region}:${local.account}:function:${var.project}-${each.key}:*",
    ]
  }
  statement {
    sid = "ManageExecutionRole"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:GetRole", "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies",
      "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${var.project}-${each.key}-lambda"]
  }
  statement {
    sid       = "AttachOnlyXRayWrite"
    actions   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${var.project}-${each.key}-lambda"]
    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values   = ["arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"]
    }
  }
  statement {
    sid       = "PassExecutionRoleToLambda"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${var.project}-${each.key}-lambda"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }
  statement {
    sid = "ManageLogGroup"
    actions = [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
      "logs:ListTagsForResource", "logs:ListTagsLogGroup", "logs:PutRetentionPolicy",
      "logs:TagResource", "logs:UntagResource",
    ]
    resources = [
      "arn:${local.partition}:logs:${var.region}:${local.account}:log-group:/aws/lambda/${var.project}-${each.key}",
      "arn:${local.partition}:logs:${var.region}:${local.account}:log-group:/aws/lambda/${var.project}-${each.key}:*",
    ]
  }
  statement {
    sid       = "FindLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${var.region}:${local.account}:log-group:*"]
  }
}

resource "aws_iam_role_policy" "deploy" {
  for_each = var.environments

  name   = "deploy"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy[each.key].json
}

# ecr:GetAuthorizationToken supports no resource-level permission: IAM only accepts Resource "*"
# for it. It is kept alone in this policy, which the no-wildcard-resources policy names as its
# only exception (infra/policies/iam.feature), so nothing else can slip in beside it.
resource "aws_iam_role_policy" "ecr_login" {
  for_each = var.environments

  name = "ecr-login"
  role = aws_iam_role.deploy[each.key].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "EcrLogin", Effect = "Allow", Action = "ecr:GetAuthorizationToken", Resource = "*" }]
  })
}
