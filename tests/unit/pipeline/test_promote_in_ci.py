"""`make promote` in CI without a team MLflow server: say so, move nothing."""

from modelops.pipeline.tracking import ci_without_registry


def test_ci_without_a_team_server_is_announced_with_the_released_version():
    message = ci_without_registry({"GITHUB_ACTIONS": "true"}, "3")
    assert message is not None and message.startswith("::warning::no team MLflow server")
    assert "version 3 of the reviewed outputs" in message
    assert "version ? of" in (ci_without_registry({"GITHUB_ACTIONS": "true"}, None) or "")


def test_a_team_server_or_a_local_run_promotes():
    assert (
        ci_without_registry({"GITHUB_ACTIONS": "true", "MLFLOW_TRACKING_URI": "http://m"}, "3")
        is None
    )
    assert ci_without_registry({}, "3") is None
    assert ci_without_registry({"GITHUB_ACTIONS": ""}, None) is None
