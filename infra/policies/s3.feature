Feature: S3 buckets
  The state, DVC and MLflow buckets keep old versions, encrypt with the project's KMS key
  and can never be made public.

  Scenario: Versioning is enabled
    Given I have aws_s3_bucket_versioning defined
    Then it must contain versioning_configuration
    And it must contain status
    And its value must match the "^Enabled$" regex

  Scenario: Objects are encrypted with KMS
    Given I have aws_s3_bucket_server_side_encryption_configuration defined
    Then it must contain rule
    And it must contain apply_server_side_encryption_by_default
    And it must contain sse_algorithm
    And its value must be aws:kms

  Scenario: Objects are encrypted with a customer-managed key, not AWS's
    Given I have aws_s3_bucket_server_side_encryption_configuration defined
    Then it must contain rule
    And it must contain apply_server_side_encryption_by_default
    And it must contain kms_master_key_id
    And its value must match the "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[0-9a-f-]+|alias/(?!aws/)[A-Za-z0-9/_-]+)$" regex

  Scenario Outline: Public access is blocked (<setting>)
    Given I have aws_s3_bucket_public_access_block defined
    Then it must contain <setting>
    And its value must be true

    Examples:
      | setting                 |
      | block_public_acls       |
      | block_public_policy     |
      | ignore_public_acls      |
      | restrict_public_buckets |
