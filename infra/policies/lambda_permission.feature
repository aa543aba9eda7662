Feature: Public Lambda permissions
  A permission for everyone (principal "*") may only open a function URL whose auth type is
  NONE: invoking it directly, or any other action, stays with IAM.

  Scenario: A public permission only invokes the function
    Given I have aws_lambda_permission defined
    When its principal is *
    Then it must contain action
    And its value must match the "^lambda:InvokeFunction(Url)?$" regex

  Scenario: A public InvokeFunctionUrl is only for an auth type NONE URL
    Given I have aws_lambda_permission defined
    When its principal is *
    And its action is lambda:InvokeFunctionUrl
    Then it must contain function_url_auth_type
    And its value must be NONE

  Scenario: A public InvokeFunction only comes through the function URL
    Given I have aws_lambda_permission defined
    When its principal is *
    And its action is lambda:InvokeFunction
    Then it must contain invoked_via_function_url
    And its value must be true
