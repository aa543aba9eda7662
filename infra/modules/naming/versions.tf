# No provider on purpose: `terraform init`/`test` of this module run offline, so its validation
# and naming rules are tested everywhere (`make test`), not only where the AWS provider downloads.
terraform {
  required_version = ">= 1.10"
}
