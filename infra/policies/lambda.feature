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

  # Prediction capture (docs/monitoring.md): the service prints each captured request as a JSON
  # line; with the JSON log format it is one structured event Logs Insights and the capture
  # archive's subscription filter read. Lambda gives such a line (no "level" key) the level
  # INFO, so a coarser application log level would silently drop every capture.
  Scenario: The function logs JSON, so captured predictions are structured events
    Given I have aws_lambda_function defined
    Then it must contain logging_config
    And it must contain log_format
    And its value must be JSON

  Scenario: The application log level keeps the captured predictions
    Given I have aws_lambda_function defined
    Then it must contain logging_config
    And it must contain application_log_level
    And its value must match the "^(TRACE|DEBUG|INFO)$" regex
