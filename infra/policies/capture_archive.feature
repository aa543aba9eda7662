Feature: The capture archive's IAM is least privilege
  The optional archive of the prediction capture (infra/modules/capture_archive: the function's
  log group -> subscription filter -> Firehose -> S3) has two roles. Firehose's may write only
  the archive bucket's `captures/` prefix (and `errors/`, where Firehose puts records it could
  not deliver) and use the key through S3; CloudWatch Logs' may only put records to that one
  delivery stream. Each role is trusted by its service only.

  Scenario: Firehose's policy names only the archive bucket, its two prefixes and the key
    Given I have aws_iam_role_policy defined
    When its name is "write-capture-archive"
    Then it must contain policy
    And it must contain Statement
    And it must contain Resource
    And all of its values must match the "^(arn:aws[a-z-]*:s3:::[a-z0-9.-]+-captures-[0-9]{12}(/(captures|errors)/\*)?|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+)$" regex

  Scenario: Firehose may only deliver objects, never delete or reconfigure
    Given I have aws_iam_role_policy defined
    When its name is "write-capture-archive"
    Then it must contain policy
    And it must contain Statement
    And it must contain Action
    And all of its values must match the "^(s3:(AbortMultipartUpload|GetBucketLocation|ListBucket|ListBucketMultipartUploads|PutObject|GetObject)|kms:(GenerateDataKey|Decrypt))$" regex

  Scenario: CloudWatch Logs may only put records
    Given I have aws_iam_role_policy defined
    When its name is "forward-capture"
    Then it must contain policy
    And it must contain Statement
    And it must contain Action
    And all of its values must match the "^firehose:(PutRecord|PutRecordBatch)$" regex

  Scenario: CloudWatch Logs may put only to the capture delivery stream
    Given I have aws_iam_role_policy defined
    When its name is "forward-capture"
    Then it must contain policy
    And it must contain Statement
    And it must contain Resource
    And all of its values must match the "^arn:aws[a-z-]*:firehose:[a-z0-9-]+:[0-9]{12}:deliverystream/[A-Za-z0-9_-]+-capture$" regex

  Scenario: Only Firehose assumes the archive's delivery role
    Given I have aws_iam_role defined
    When its name is ".*-capture-firehose$" regex
    Then it must contain assume_role_policy
    And it must contain Service
    And its value must be firehose.amazonaws.com

  Scenario: Only CloudWatch Logs of the region assumes the forwarding role
    Given I have aws_iam_role defined
    When its name is ".*-capture-logs$" regex
    Then it must contain assume_role_policy
    And it must contain Service
    And its value must match the "^logs\.[a-z0-9-]+\.amazonaws\.com$" regex
