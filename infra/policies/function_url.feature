Feature: Function URL authentication
  Function URLs use IAM (SigV4) auth unless a public URL was chosen explicitly; a public URL
  must restrict browser callers to exact origins.

  Scenario: Auth type is IAM or an explicit NONE
    Given I have aws_lambda_function_url defined
    Then it must contain authorization_type
    And its value must match the "^(AWS_IAM|NONE)$" regex

  Scenario: Public URLs restrict CORS to named origins
    Given I have aws_lambda_function_url defined
    When its authorization_type is NONE
    Then it must contain cors
    And it must contain allow_origins
    And its value must not match the "^\*$" regex
