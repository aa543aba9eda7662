# `terraform test` (offline: this module uses no provider). Run: make infra-test, or pytest.

variables {
  environment = "staging"
  image_uri   = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelops@sha256:0000000000000000000000000000000000000000000000000000000000000001"
  repository  = "acme/modelops"
}

run "defaults_name_and_tag_everything" {
  command = plan

  assert {
    condition     = output.function_name == "modelops-staging"
    error_message = "function name must be <project>-<environment>"
  }
  assert {
    condition     = output.log_group_name == "/aws/lambda/modelops-staging"
    error_message = "log group must be the one Lambda writes to"
  }
  assert {
    condition     = output.tags == { Project = "modelops", Environment = "staging", ManagedBy = "terraform", Repository = "acme/modelops" }
    error_message = "required tags are missing or wrong"
  }
  assert {
    condition     = output.settings.capture_sample_rate == 1 && length(output.settings.capture_exclude) == 0
    error_message = "capture must default to every request, no column left out (make monitor needs rows)"
  }
  assert {
    condition     = output.settings.url_auth_type == "AWS_IAM" && output.settings.reserved_concurrency == null
    error_message = "function URLs must default to AWS_IAM auth, concurrency to unreserved (new accounts lack the quota to reserve)"
  }
}

run "required_tags_win_over_extra_tags" {
  command = plan
  variables {
    extra_tags = { Team = "ml", Environment = "spoofed" }
  }
  assert {
    condition     = output.tags["Team"] == "ml" && output.tags["Environment"] == "staging"
    error_message = "extra tags must be added without overriding the required ones"
  }
}

run "public_url_with_exact_origins_is_allowed" {
  command = plan
  variables {
    url_auth_type      = "NONE"
    cors_allow_origins = ["https://app.example.com"]
  }
  assert {
    condition     = output.settings.url_auth_type == "NONE"
    error_message = "an explicit public URL with origins must be accepted"
  }
}

run "public_url_without_origins_is_refused" {
  command = plan
  variables {
    url_auth_type = "NONE"
  }
  expect_failures = [terraform_data.settings]
}

run "wildcard_cors_origin_is_refused" {
  command = plan
  variables {
    url_auth_type      = "NONE"
    cors_allow_origins = ["*"]
  }
  expect_failures = [var.cors_allow_origins]
}

run "image_by_tag_is_refused" {
  command = plan
  variables {
    image_uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelops:latest"
  }
  expect_failures = [var.image_uri]
}

run "memory_below_bound_is_refused" {
  command = plan
  variables {
    memory_size = 256
  }
  expect_failures = [var.memory_size]
}

run "memory_above_bound_is_refused" {
  command = plan
  variables {
    memory_size = 20000
  }
  expect_failures = [var.memory_size]
}

run "timeout_above_bound_is_refused" {
  command = plan
  variables {
    timeout = 900
  }
  expect_failures = [var.timeout]
}

run "reserved_concurrency_when_set_is_kept" {
  command = plan
  variables {
    reserved_concurrency = 5
  }
  assert {
    condition     = output.settings.reserved_concurrency == 5
    error_message = "an explicit reservation must reach the function"
  }
}

run "zero_reserved_concurrency_is_refused" {
  command = plan
  variables {
    reserved_concurrency = 0
  }
  expect_failures = [var.reserved_concurrency]
}

run "unknown_architecture_is_refused" {
  command = plan
  variables {
    architecture = "i386"
  }
  expect_failures = [var.architecture]
}

run "non_cloudwatch_retention_is_refused" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "unknown_environment_is_refused" {
  command = plan
  variables {
    environment = "dev"
  }
  expect_failures = [var.environment]
}

run "bad_project_name_is_refused" {
  command = plan
  variables {
    project = "Model_Ops"
  }
  expect_failures = [var.project]
}

run "capture_sample_rate_above_one_is_refused" {
  command = plan
  variables {
    capture_sample_rate = 1.5
  }
  expect_failures = [var.capture_sample_rate]
}

run "capture_exclude_with_a_comma_is_refused" {
  command = plan
  variables {
    capture_exclude = ["email,phone"]
  }
  expect_failures = [var.capture_exclude]
}

run "capture_off_and_excluded_columns_are_kept" {
  command = plan
  variables {
    capture_sample_rate = 0
    capture_exclude     = ["email"]
  }
  assert {
    condition     = output.settings.capture_sample_rate == 0 && output.settings.capture_exclude == tolist(["email"])
    error_message = "capture settings must pass through unchanged"
  }
}
