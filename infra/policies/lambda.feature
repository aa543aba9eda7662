Feature: Lambda function sizing
  Memory and timeout stay within the bounds the service is built for, and reserved
  concurrency caps cost and blast radius (0 would disable the function, none leaves it uncapped).

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

  Scenario: Reserved concurrency is positive
    Given I have aws_lambda_function defined
    Then it must contain reserved_concurrent_executions
    And its value must be greater than 0
