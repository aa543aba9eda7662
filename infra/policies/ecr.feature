Feature: ECR repositories
  A tag must always mean the same image, and every pushed image is scanned.

  Scenario: Image tags are immutable
    Given I have aws_ecr_repository defined
    Then it must contain image_tag_mutability
    And its value must be IMMUTABLE

  Scenario: Images are scanned on push
    Given I have aws_ecr_repository defined
    Then it must contain image_scanning_configuration
    And it must contain scan_on_push
    And its value must be true
