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
    # CI on this repository's pull requests (aws_iam_role.read_only, below)
    pull_request = [for r in local.repositories : "repo:${r.owner}/${r.name}:pull_request"]
    # monitor.yml (aws_iam_role.read_only, below): scheduled and workflow_dispatch runs use the
    # default branch, and its job names no environment
    monitor = [for r in local.repositories : "repo:${r.owner}/${r.name}:ref:refs/heads/main"]
  }

  # ARNs from names and the account (known at plan time), not from resources' computed `arn`:
  # the policy documents are then known on the first plan, and the policy check can read them.
  ecr_repository_arn = "arn:${local.partition}:ecr:${var.region}:${local.account}:repository/${var.project}"
  dvc_bucket_arn     = "arn:${local.partition}:s3:::${var.project}-dvc-${local.suffix}"
  # Who may write the DVC remote: staging (CI on main pushes what it reproduced); prod only reads.
  dvc_writers = toset(["staging"])
}

# The deploy roles' trust, the pull-request role's and the monitor's (below).
data "aws_iam_policy_document" "deploy_trust" {
  # checkov:skip=CKV_AWS_358:checkov cannot evaluate the for-expressions of trusted_subjects; the same rule (exact repo subjects, no wildcard, no abusable claim) runs on the plan's real values: infra/policies/iam_trust.feature
  for_each = setunion(var.environments, ["pull_request", "monitor"])

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

# The DVC remote: `make pull` reads it (every role here), `make push` writes it (the writers).
data "aws_iam_policy_document" "dvc_remote" {
  for_each = toset(["read", "write"])

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
    actions   = each.key == "write" ? ["s3:GetObject", "s3:PutObject"] : ["s3:GetObject"]
    resources = ["${local.dvc_bucket_arn}/dvc/*"]
  }
}

# What `make apply ENV=<env>`, `make image-push`, `make release-*`, `make smoke` (SigV4 calls
# to an AWS_IAM function URL need InvokeFunctionUrl and InvokeFunction) and `make pull`/`make push`
# (the DVC remote) need, and no more: every statement names its resources (this project's
# function, role, log group, state key, repository, DVC prefix).
data "aws_iam_policy_document" "deploy" {
  for_each = var.environments

  source_policy_documents = [data.aws_iam_policy_document.dvc_remote[contains(local.dvc_writers, each.key) ? "write" : "read"].json]

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

# --- CI on pull requests: read-only, this repository's pull requests only --------------------
# A retrain pull request (monitor.yml, docs/monitoring.md) records a new version of the labelled
# data; CI's `make repro-check` on it must read that version from its source (a private bucket:
# `dvc import-url s3://...`) and the rest from the DVC remote. This role may read exactly those,
# nothing else: no write anywhere, no Lambda, no ECR, no Terraform state.
#
# Who may assume it: a job of a `pull_request` run of this repository that names no environment
# has the subject `repo:OWNER/REPO:pull_request` (GitHub docs, OpenID Connect reference, "Filtering
# for pull_request events"); AWS evaluates only `aud` and `sub` of GitHub's tokens (GitHub docs,
# "Configuring OpenID Connect in AWS": no custom claims), so `job_workflow_ref`, `head_ref` or the
# head repository cannot be conditions here. A fork's pull request gets the same subject, so what
# keeps forks out is GitHub: their runs get a read-only GITHUB_TOKEN and no OIDC token (unless
# "Send write tokens to workflows from pull requests" is enabled for a private repository: keep
# it off), and ci.yml requests one only when the head repository is this one.
locals {
  # s3://bucket/prefix -> {bucket, prefix}; the prefix may be empty (the whole bucket) or a file.
  labelled_data = [for uri in var.labelled_data : {
    bucket = split("/", trimprefix(uri, "s3://"))[0]
    prefix = join("/", slice(split("/", trimprefix(uri, "s3://")), 1, length(split("/", trimprefix(uri, "s3://")))))
  }]
  # Per location: list only under its prefix, read only its objects.
  labelled_data_statements = flatten([for i, d in local.labelled_data : [
    {
      sid      = "LabelledDataList${i}", actions = ["s3:ListBucket", "s3:ListBucketVersions"]
      resource = "arn:${local.partition}:s3:::${d.bucket}", prefixes = ["${d.prefix}*"]
    },
    {
      sid      = "LabelledDataRead${i}", actions = ["s3:GetObject", "s3:GetObjectVersion"]
      resource = "arn:${local.partition}:s3:::${d.bucket}/${d.prefix}*", prefixes = []
    },
  ]])
}

# The read-only roles: CI on pull requests (above) and the monitor (monitor.yml, below), each
# optional, each trusting its own subjects (trusted_subjects) and with its own policy.
locals {
  read_only_roles = { for key, role in {
    pull_request = {
      create = var.pull_request_role, name = "ci-pull-request", environment = "ci"
      does   = "CI on this repository's pull requests: reads the DVC remote and the labelled data"
    }
    monitor = {
      create = var.monitor_role, name = "monitor", environment = "monitor"
      does   = "monitor.yml on main: reads the captured predictions, the DVC remote and the labelled data"
    }
  } : key => role if role.create }
}

resource "aws_iam_role" "read_only" {
  for_each = local.read_only_roles

  name                 = "${var.project}-${each.value.name}"
  description          = "GitHub Actions (${local.repository_name}) ${each.value.does}"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust[each.key].json
  max_session_duration = 3600
  tags                 = merge(local.tags, { Environment = each.value.environment })

  depends_on = [aws_iam_openid_connect_provider.github]
}

# The labelled data, read only: the pull-request role's and the staging deploy role's (CI on main
# reproduces a merged retrain pull request, whose new labels only the source has, and pushes them
# to the DVC remote). `dvc update` of the import lists and reads; `dvc pull` of a --version-aware
# import reads the recorded object version. Listing only under its prefix, reading only its objects.
data "aws_iam_policy_document" "labelled_data" {
  dynamic "statement" {
    for_each = local.labelled_data_statements
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = [statement.value.resource]
      dynamic "condition" {
        for_each = statement.value.prefixes
        content {
          test     = "StringLike"
          variable = "s3:prefix"
          values   = [condition.value]
        }
      }
    }
  }
  # A labelled bucket encrypted with its own customer-managed key: decrypt only, through S3.
  dynamic "statement" {
    for_each = length(var.labelled_data_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "LabelledDataDecrypt"
      actions   = ["kms:Decrypt"]
      resources = var.labelled_data_kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${var.region}.amazonaws.com"]
      }
    }
  }
}

data "aws_iam_policy_document" "pull_request" {
  # The DVC remote, read only (`make pull ALLOW_MISSING=1`), and the labelled data.
  source_policy_documents = [
    data.aws_iam_policy_document.dvc_remote["read"].json,
    data.aws_iam_policy_document.labelled_data.json,
  ]

  # The remote is encrypted with the project's key: decrypt only, only through S3.
  statement {
    sid       = "DecryptThroughS3"
    actions   = ["kms:Decrypt"]
    resources = ["arn:${local.partition}:kms:${var.region}:${local.account}:key/*"]
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [local.kms_alias_name]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "pull_request" {
  count = var.pull_request_role ? 1 : 0

  name   = "read-pipeline-data"
  role   = aws_iam_role.read_only["pull_request"].id
  policy = data.aws_iam_policy_document.pull_request.json
}

# CI on main (the staging deploy role) reproduces a merged retrain pull request: it reads the
# labelled data as the pull-request role does, and nothing more of it.
resource "aws_iam_role_policy" "deploy_labelled_data" {
  count = length(var.labelled_data) > 0 && contains(var.environments, "staging") ? 1 : 0

  name   = "read-labelled-data"
  role   = aws_iam_role.deploy["staging"].id
  policy = data.aws_iam_policy_document.labelled_data.json
}

# --- The monitor (monitor.yml): read-only, this repository's main branch ----------------------
# `make monitor` reads the captured predictions (Logs Insights queries on the functions' log
# groups, or the capture archive's objects), `make pull` the reference summary from the DVC
# remote, and `make monitor-pr` runs `dvc update` on the labelled data. This role may read
# exactly those: what the pull-request role reads plus the captures; no write anywhere.
#
# Who may assume it: monitor.yml runs on `schedule` and `workflow_dispatch`, both on the default
# branch, and its job names no environment, so its token's subject is
# `repo:OWNER/REPO:ref:refs/heads/main` (GitHub docs, OpenID Connect reference, "Filtering for a
# specific branch"). Any other job on main that names no environment carries the same subject
# (AWS reads only `aud` and `sub`): that is why this role (aws_iam_role.read_only["monitor"])
# only reads.
data "aws_iam_policy_document" "monitor" {
  # The DVC remote (the reference summary), the labelled data, the project key through S3.
  source_policy_documents = [data.aws_iam_policy_document.pull_request.json]

  # Logs Insights on the functions' log groups (SOURCE=logs:///aws/lambda/<project>-<env>).
  # StartQuery and GetQueryResults both take the resource type log-group (service authorization
  # reference, CloudWatch Logs), so neither needs Resource "*"; the group's name and its `:*`
  # form, as the deploy policy's ManageLogGroup. logs:StopQuery takes only "*" and is not
  # granted: the reader never stops a query (one it gave up on ends within Insights' 60 minutes).
  statement {
    sid     = "QueryCaptureLogs"
    actions = ["logs:StartQuery", "logs:GetQueryResults"]
    resources = flatten([for env in sort(tolist(var.environments)) : [
      "arn:${local.partition}:logs:${var.region}:${local.account}:log-group:/aws/lambda/${var.project}-${env}",
      "arn:${local.partition}:logs:${var.region}:${local.account}:log-group:/aws/lambda/${var.project}-${env}:*",
    ]])
  }
  # The capture archive's objects (SOURCE=s3://<project>-<env>-captures-<account>/captures/),
  # of the environments that have one: list only under captures/, read only its objects.
  dynamic "statement" {
    for_each = length(var.capture_archive_environments) > 0 ? [1] : []
    content {
      sid       = "CaptureArchiveList"
      actions   = ["s3:ListBucket"]
      resources = [for env in sort(tolist(var.capture_archive_environments)) : "arn:${local.partition}:s3:::${var.project}-${env}-captures-${local.account}"]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["captures/*"]
      }
    }
  }
  dynamic "statement" {
    for_each = length(var.capture_archive_environments) > 0 ? [1] : []
    content {
      sid       = "CaptureArchiveRead"
      actions   = ["s3:GetObject"]
      resources = [for env in sort(tolist(var.capture_archive_environments)) : "arn:${local.partition}:s3:::${var.project}-${env}-captures-${local.account}/captures/*"]
    }
  }
}

resource "aws_iam_role_policy" "monitor" {
  count = var.monitor_role ? 1 : 0

  name   = "read-monitor-data"
  role   = aws_iam_role.read_only["monitor"].id
  policy = data.aws_iam_policy_document.monitor.json
}
