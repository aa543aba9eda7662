"""`make reviewed`'s decisions, with the commands it runs recorded instead of run.

tests/pipeline/test_reviewed.py runs the same flow for real (a DVC remote, a fresh clone).
"""

import sys

import pytest

from modelops.delivery.reviewed import NOT_CONFIGURED, deliver_reviewed

REMOTE = [sys.executable, "-m", "pipelines.remote"]
STATUS = ["dvc", "status", "--quiet", "--with-deps", "select"]


class Commands:
    """Answers each command with a chosen exit code (0 unless told) and records it."""

    def __init__(self, codes: dict[tuple[str, ...], int] | None = None):
        self.codes = codes or {}
        self.ran: list[list[str]] = []

    def __call__(self, command, stdout=None):
        self.ran.append(list(command))
        return self.codes.get(tuple(command), 0)


def test_pulls_checks_and_packages_what_dvc_lock_names(capsys):
    commands = Commands()
    assert deliver_reviewed(["make", "repro-check"], commands) == 0
    assert commands.ran == [
        [*REMOTE, "check"], [*REMOTE, "pull"], STATUS, ["dvc", "repro", "package"],
    ]  # fmt: skip
    assert "pulled and packaged" in capsys.readouterr().out


@pytest.mark.parametrize(("actions", "prefix"), [("true", "::warning::"), ("", "warning: ")])
def test_without_a_remote_it_announces_the_fallback_and_runs_the_repro_check(
    capsys, monkeypatch, actions, prefix
):
    monkeypatch.setenv("GITHUB_ACTIONS", actions)
    commands = Commands({(*REMOTE, "check"): NOT_CONFIGURED, ("make", "repro-check"): 5})
    assert deliver_reviewed(["make", "repro-check"], commands) == 5  # its verdict is the result
    assert commands.ran == [[*REMOTE, "check"], ["make", "repro-check"]]
    assert capsys.readouterr().out.startswith(f"{prefix}no DVC remote configured")


def test_an_unreachable_remote_stops_before_anything_else():
    commands = Commands({(*REMOTE, "check"): 1})
    assert deliver_reviewed(["make", "repro-check"], commands) == 1
    assert commands.ran == [[*REMOTE, "check"]]


def test_a_remote_without_this_commits_outputs_is_refused(capsys):
    commands = Commands({(*REMOTE, "pull"): 1})
    assert deliver_reviewed(["make", "repro-check"], commands) == 1
    assert "the remote lacks this commit's outputs" in capsys.readouterr().err
    assert ["dvc", "repro", "package"] not in commands.ran


def test_outputs_that_do_not_match_dvc_lock_are_never_packaged(capsys):
    commands = Commands({tuple(STATUS): 1})
    assert deliver_reviewed(["make", "repro-check"], commands) == 1
    assert "dvc status is not clean" in capsys.readouterr().err
    assert commands.ran[-1] == ["dvc", "status", "--with-deps", "select"]  # shown to the reader
