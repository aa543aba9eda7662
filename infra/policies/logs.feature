Feature: Log retention
  Logs expire: none are kept forever at CloudWatch's storage price.

  Scenario: Log groups set a retention period
    Given I have aws_cloudwatch_log_group defined
    Then it must contain retention_in_days
    And its value must be greater than 0
