Feature: Lambda function sizing
  Memory and timeout stay within the bounds the service is built for. Reserved concurrency is
  optional (-1: unreserved, the default, since new accounts lack the quota), but never 0, which
  would disable the function.

  Scenario: Memory is at least 512 MB
    Given I have aws_lambda_function defined
    Then it must contain memory_size
    And its value must be greater and equal than 512

  Scenario: Memory is at most 10240 MB
    Given I have aws_lambda_function defined
    Then it must contain memory_size
    And its value must be less and equal than 10240

  Scenario: Timeout is at least 3 seconds
    Given I have aws_lambda_function defined
    Then it must contain timeout
    And its value must be greater and equal than 3

  Scenario: Timeout is at most 60 seconds
    Given I have aws_lambda_function defined
    Then it must contain timeout
    And its value must be less and equal than 60

  Scenario: Reserved concurrency never disables the function
    Given I have aws_lambda_function defined
    Then it must contain reserved_concurrent_executions
    And its value must not be 0
