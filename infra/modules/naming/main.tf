# Validated settings and the names/tags derived from them. Every other module takes its names and
# tags from here, so one rule names everything and the rules are tested offline.
locals {
  name = "${var.project}-${var.environment}"

  # Public URLs must name their browser origins; an IAM-only URL needs none.
  public_url_without_origins = var.url_auth_type == "NONE" && length(var.cors_allow_origins) == 0

  required_tags = {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
    Repository  = var.repository
  }
}

# A cross-variable rule: `validation` blocks may only see their own variable in every Terraform
# this project supports, so this one is a precondition on a resource-less check.
resource "terraform_data" "settings" {
  input = local.name

  lifecycle {
    precondition {
      condition     = !local.public_url_without_origins
      error_message = "url_auth_type = \"NONE\" makes the function URLs public: set cors_allow_origins to the exact https:// origins allowed to call them."
    }
  }
}
