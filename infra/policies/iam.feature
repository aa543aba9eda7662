Feature: Least-privilege IAM
  No policy grants every action of a service or every resource.

  Scenario Outline: No wildcard actions in <policy_type>
    Given I have <policy_type> defined
    Then it must contain policy
    And it must contain Statement
    And it must contain Action
    And its value must not match the ".*\*.*" regex

    Examples:
      | policy_type         |
      | aws_iam_policy      |
      | aws_iam_role_policy |

  # ecr:GetAuthorizationToken has no resource-level permission (IAM accepts only "*" for it);
  # the bootstrap keeps it alone in aws_iam_role_policy.ecr_login, the one exception here.
  @exclude_aws_iam_role_policy.ecr_login
  Scenario Outline: No wildcard resources in <policy_type>
    Given I have <policy_type> defined
    Then it must contain policy
    And it must contain Statement
    And it must contain Resource
    And its value must not match the "^\*$" regex

    Examples:
      | policy_type         |
      | aws_iam_policy      |
      | aws_iam_role_policy |

  # The role CI assumes on pull requests (infra/bootstrap, aws_iam_role_policy.pull_request) only
  # reads: the DVC remote and the labelled data (S3 list/get) and the keys that decrypt them.
  # No write, no Lambda, no ECR, no Terraform state. The staging deploy role's grant on the
  # labelled data (read-labelled-data) is as narrow.
  Scenario: CI on pull requests, and anyone on the labelled data, may only read
    Given I have aws_iam_role_policy defined
    When its name is "^read-(pipeline|labelled)-data$" regex
    Then it must contain policy
    And it must contain Statement
    And it must contain Action
    And all of its values must match the "^(s3:(GetObject|GetObjectVersion|ListBucket|ListBucketVersions|GetBucketLocation)|kms:Decrypt)$" regex

  # The monitor's role (infra/bootstrap, aws_iam_role_policy.monitor; monitor.yml) only reads:
  # runs Logs Insights queries on the functions' log groups, lists/reads the capture archive,
  # the DVC remote and the labelled data, decrypts through S3. No write, no Lambda, no ECR, no state.
  Scenario: The monitor may only read
    Given I have aws_iam_role_policy defined
    When its name is "read-monitor-data"
    Then it must contain policy
    And it must contain Statement
    And it must contain Action
    And all of its values must match the "^(logs:(StartQuery|GetQueryResults)|s3:(GetObject|GetObjectVersion|ListBucket|ListBucketVersions|GetBucketLocation)|kms:Decrypt)$" regex
