"""How `make smoke` configures the smoke suite: SMOKE_AUTH, checked, and only tests/smoke."""

import subprocess
from pathlib import Path

import pytest

from modelops.delivery.tasks import smoke_command
from tests.smoke.conftest import smoke_auth

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("env", "expected"), [({}, "none"), ({"SMOKE_AUTH": "aws_iam"}, "aws_iam")]
)
def test_smoke_auth_defaults_to_none(monkeypatch, env, expected):
    monkeypatch.delenv("SMOKE_AUTH", raising=False)
    monkeypatch.delenv("SMOKE_AWS_IAM", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert smoke_auth() == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [({"SMOKE_AUTH": "iam"}, "SMOKE_AUTH='iam'"), ({"SMOKE_AWS_IAM": "1"}, "replaced by")],
)
def test_a_bad_or_retired_setting_stops_the_suite(monkeypatch, env, message):
    monkeypatch.delenv("SMOKE_AUTH", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(pytest.UsageError, match=message):
        smoke_auth()


def make_smoke(*args: str) -> str:
    return subprocess.run(
        ["make", "-n", "--no-print-directory", "smoke", *args],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_make_smoke_passes_url_and_auth_and_runs_only_the_smoke_suite():
    command = make_smoke("URL=https://x.lambda-url.eu-west-1.on.aws", "AUTH=aws_iam")
    assert 'smoke --url "https://x.lambda-url.eu-west-1.on.aws" --auth "aws_iam"' in command
    # what it then runs (SMOKE_BASE_URL, SMOKE_AUTH, tests/smoke only)
    suite, env = smoke_command("https://x.lambda-url.eu-west-1.on.aws", "aws_iam", {})
    assert env["SMOKE_BASE_URL"] == "https://x.lambda-url.eu-west-1.on.aws"
    assert env["SMOKE_AUTH"] == "aws_iam" and suite[-1] == "tests/smoke"
    assert smoke_command("http://127.0.0.1:3000", "", {})[1]["SMOKE_AUTH"] == "none"


def test_the_smoke_folder_holds_only_endpoint_checks():
    """Nothing in tests/smoke starts, fuzzes or stops a server (that is tests/service)."""
    for path in (REPO / "tests" / "smoke").glob("*.py"):
        text = path.read_text()
        for needle in ("schemathesis", "subprocess", "Popen", "start_server", "killpg"):
            assert needle not in text, f"{path.name} uses {needle}"
