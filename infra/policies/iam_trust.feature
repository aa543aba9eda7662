Feature: IAM trust policies
  No role trusts everyone, and the deploy roles (`<project>-deploy-<env>`, assumed by GitHub
  Actions through OIDC) name the token audience and the exact workflow subjects they trust: a
  wildcard could match any branch, and production trusts only its environment's jobs.

  Scenario: No role trusts every principal
    Given I have aws_iam_role defined
    Then it must contain assume_role_policy
    And it must contain Statement
    And it must contain Principal
    And its value must not match the "^\*$" regex

  Scenario: OIDC trust names the token audience
    Given I have aws_iam_role defined
    When its name is ".*-deploy-(staging|prod)$" regex
    Then it must contain assume_role_policy
    And it must contain token.actions.githubusercontent.com:aud
    And its value must be sts.amazonaws.com

  Scenario: OIDC trust names exact subjects
    Given I have aws_iam_role defined
    When its name is ".*-deploy-(staging|prod)$" regex
    Then it must contain assume_role_policy
    And it must contain token.actions.githubusercontent.com:sub
    And its value must not match the ".*\*" regex

  # The repository in the name form (repo:OWNER/REPO) or the immutable form GitHub gives
  # repositories created or renamed on or after 2026-07-15 (repo:OWNER@ID/REPO@ID), then main or
  # one of the project's environments: no other claim (workflow, context ...) and no wildcard.
  Scenario: OIDC subjects are this repository's main branch or environments
    Given I have aws_iam_role defined
    When its name is ".*-deploy-(staging|prod)$" regex
    Then it must contain assume_role_policy
    And it must contain token.actions.githubusercontent.com:sub
    And all of its values must match the "^repo:[A-Za-z0-9_.-]+(@[0-9]+)?/[A-Za-z0-9_.-]+(@[0-9]+)?:(ref:refs/heads/main|environment:(staging|prod))$" regex

  Scenario: Production trusts only jobs of its GitHub environment
    Given I have aws_iam_role defined
    When its name is ".*-deploy-prod$" regex
    Then it must contain assume_role_policy
    And it must contain token.actions.githubusercontent.com:sub
    And all of its values must match the "^repo:[^:]+/[^:]+:environment:prod$" regex

  # CI on pull requests (infra/bootstrap, aws_iam_role.read_only["pull_request"]): a job of a `pull_request`
  # run that names no environment has the subject repo:OWNER/REPO:pull_request, and AWS reads no
  # other GitHub claim; forks get no OIDC token (ci.yml asks for one only for this repository).
  Scenario: The pull-request role trusts the token audience
    Given I have aws_iam_role defined
    When its name is ".*-ci-pull-request$" regex
    Then it must contain assume_role_policy
    And it must contain token.actions.githubusercontent.com:aud
    And its value must be sts.amazonaws.com

  Scenario: The pull-request role trusts only this repository's pull requests
    Given I have aws_iam_role defined
    When its name is ".*-ci-pull-request$" regex
    Then it must contain assume_role_policy
    And it must contain token.actions.githubusercontent.com:sub
    And all of its values must match the "^repo:[A-Za-z0-9_.-]+(@[0-9]+)?/[A-Za-z0-9_.-]+(@[0-9]+)?:pull_request$" regex

  # The monitor (infra/bootstrap, aws_iam_role.read_only["monitor"]): monitor.yml's scheduled and
  # workflow_dispatch runs are on main and its job names no environment, so its subject is
  # repo:OWNER/REPO:ref:refs/heads/main; no environment, no pull request, no other branch.
  Scenario: The monitor's role trusts the token audience
    Given I have aws_iam_role defined
    When its name is ".*-monitor$" regex
    Then it must contain assume_role_policy
    And it must contain token.actions.githubusercontent.com:aud
    And its value must be sts.amazonaws.com

  Scenario: The monitor's role trusts only this repository's main branch
    Given I have aws_iam_role defined
    When its name is ".*-monitor$" regex
    Then it must contain assume_role_policy
    And it must contain token.actions.githubusercontent.com:sub
    And all of its values must match the "^repo:[A-Za-z0-9_.-]+(@[0-9]+)?/[A-Za-z0-9_.-]+(@[0-9]+)?:ref:refs/heads/main$" regex
