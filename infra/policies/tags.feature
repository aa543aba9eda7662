Feature: Required tags
  Every resource that can carry tags says which project, environment and tool own it,
  so costs can be split and orphans found.

  Scenario Outline: Taggable resources carry the <tag> tag
    Given I have resource that supports tags defined
    Then it must contain tags
    And it must contain <tag>
    And its value must not be null

    Examples:
      | tag         |
      | Project     |
      | Environment |
      | ManagedBy   |
