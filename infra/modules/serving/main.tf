module "naming" {
  source = "../naming"

  project              = var.project
  environment          = var.environment
  repository           = var.repository
  image_uri            = var.image_uri
  memory_size          = var.memory_size
  timeout              = var.timeout
  architecture         = var.architecture
  reserved_concurrency = var.reserved_concurrency
  log_retention_days   = var.log_retention_days
  url_auth_type        = var.url_auth_type
  cors_allow_origins   = var.cors_allow_origins
  capture_sample_rate  = var.capture_sample_rate
  capture_exclude      = var.capture_exclude
  extra_tags           = var.extra_tags
}

locals {
  name     = module.naming.function_name
  tags     = module.naming.tags
  settings = module.naming.settings
  aliases  = toset(["live", "candidate"])
}

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # Built from values known at plan time (data sources and names), never from a resource's
  # computed `arn`: on a first plan that is "(known after apply)", the policy document would be
  # unknown too, and the policy check could not read what the role is allowed to do.
  log_group_arn = join(":", [
    "arn", data.aws_partition.current.partition, "logs", data.aws_region.current.region,
    data.aws_caller_identity.current.account_id, "log-group", module.naming.log_group_name,
  ])
}

# --- logs: created before the function so Lambda never creates an unmanaged, unexpiring group ---
resource "aws_cloudwatch_log_group" "function" {
  name              = module.naming.log_group_name
  retention_in_days = local.settings.log_retention_days
  tags              = local.tags
}

# --- execution role: only what the function does (write its own logs, send X-Ray traces) ---
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name                 = module.naming.role_name
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600
  tags                 = local.tags
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "logs" {
  name   = "write-own-logs"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.logs.json
}

# X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level permissions (they need
# Resource "*"), so the AWS-managed write-only policy is attached instead of an inline wildcard.
resource "aws_iam_role_policy_attachment" "xray" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# --- the function ---
resource "aws_lambda_function" "service" {
  function_name = local.name
  description   = "${var.project} model service (${var.environment})"
  role          = aws_iam_role.function.arn
  package_type  = "Image"
  image_uri     = local.settings.image_uri
  architectures = [local.settings.architecture]
  memory_size   = local.settings.memory_size
  timeout       = local.settings.timeout
  # null (the default) leaves the function unreserved (the provider's -1): a reservation must fit
  # in the account's quota with 100 unreserved to spare, which new accounts often do not have.
  reserved_concurrent_executions = local.settings.reserved_concurrency
  publish                        = true

  # Prediction capture (docs/monitoring.md): one JSON line per captured request on stdout, which
  # the JSON log format below stores as a structured event that Logs Insights (make monitor
  # SOURCE=logs://...) and the optional capture archive's subscription filter read.
  environment {
    variables = merge(var.environment_variables, {
      MODELOPS_ENVIRONMENT         = var.environment
      MODELOPS_CAPTURE             = local.settings.capture_sample_rate > 0 ? "log" : "off"
      MODELOPS_CAPTURE_SAMPLE_RATE = tostring(local.settings.capture_sample_rate)
      }, length(local.settings.capture_exclude) > 0 ? {
      MODELOPS_CAPTURE_EXCLUDE = join(",", local.settings.capture_exclude)
    } : {})
  }

  tracing_config {
    mode = "Active"
  }

  # JSON: the runtime's own lines become structured too, and a line the code prints as a JSON
  # object (a capture record) is one event Logs Insights discovers the fields of. Lambda gives a
  # printed JSON line without a "level" key the level INFO (AWS Lambda developer guide,
  # "Log-level filtering"), so the application level must stay at INFO or finer, or Lambda drops
  # the captures.
  logging_config {
    log_format            = "JSON"
    application_log_level = "INFO"
    system_log_level      = "INFO"
    # the name, known on a first plan (the policy check reads this block); depends_on below
    # still creates the group first
    log_group = module.naming.log_group_name
  }

  tags = local.tags

  # Ownership split with the release CLI (src/modelops/delivery/release.py, `make release-*`):
  # Terraform creates the function from var.image_uri once; after that the CLI points $LATEST at
  # each new image digest and publishes versions. Without this, every apply would revert the code
  # to the first image and publish a stray version.
  lifecycle {
    ignore_changes = [image_uri]
  }

  depends_on = [
    aws_cloudwatch_log_group.function, aws_iam_role_policy.logs, aws_iam_role_policy_attachment.xray,
  ]
}

# Both aliases start on the version the first apply published. The CLI moves them afterwards
# (candidate -> new version; live -> canary routing, promotion, rollback, with its history in
# the description), so Terraform must not put them back.
resource "aws_lambda_alias" "this" {
  for_each = local.aliases

  name             = each.key
  description      = "managed by make release-* after creation"
  function_name    = aws_lambda_function.service.function_name
  function_version = aws_lambda_function.service.version

  lifecycle {
    ignore_changes = [function_version, routing_config, description]
  }
}

# One HTTPS endpoint per alias: `candidate` is smoke-tested before `live` gets any traffic.
resource "aws_lambda_function_url" "this" {
  for_each = local.aliases

  function_name      = aws_lambda_function.service.function_name
  qualifier          = aws_lambda_alias.this[each.key].name
  authorization_type = local.settings.url_auth_type

  dynamic "cors" {
    for_each = length(local.settings.cors_allow_origins) > 0 ? [1] : []
    content {
      allow_origins = local.settings.cors_allow_origins
      allow_methods = ["GET", "POST"]
      allow_headers = ["content-type"]
      max_age       = 3600
    }
  }
}

# Public URLs only when asked for explicitly (url_auth_type = "NONE", with CORS origins). Since
# October 2025 a public URL needs two statements: InvokeFunctionUrl for auth type NONE, and
# InvokeFunction limited to calls that come through the function URL.
resource "aws_lambda_permission" "public_url" {
  for_each = local.settings.url_auth_type == "NONE" ? local.aliases : toset([])

  statement_id           = "public-function-url-${each.key}"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.service.function_name
  qualifier              = aws_lambda_alias.this[each.key].name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "public_url_invoke" {
  for_each = local.settings.url_auth_type == "NONE" ? local.aliases : toset([])

  statement_id             = "public-function-url-invoke-${each.key}"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.service.function_name
  qualifier                = aws_lambda_alias.this[each.key].name
  principal                = "*"
  invoked_via_function_url = true
}
