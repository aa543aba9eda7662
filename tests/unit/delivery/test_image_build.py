"""How `make image` asks each engine for a reproducible build (issue #26): no engine needed.

The rebuild itself (same commit and model -> same image id) is tests/container/
test_reproducible_image.py, where an engine exists.
"""

import subprocess

import pytest

from modelops.delivery import image as img


def test_docker_gets_source_date_epoch_and_rewritten_file_times():
    command = img.build_command("docker", 1700000000, ["--build-arg", "A=1"], ["m:1", "m:latest"])
    assert command[:2] == ["docker", "build"]
    assert "SOURCE_DATE_EPOCH=1700000000" in command
    assert command[command.index("--output") + 1] == "type=docker,rewrite-timestamp=true"
    assert command[-4:] == ["-t", "m:1", "-t", "m:latest"]
    assert "--timestamp" not in command


def test_podman_builds_with_its_cli_and_a_fixed_timestamp():
    command = img.build_command("podman", 1700000000, ["--no-cache"], ["m:1"])
    assert command[:2] == ["podman", "build"]
    assert command[command.index("--timestamp") + 1] == "1700000000"
    assert "SOURCE_DATE_EPOCH=1700000000" in command and "--no-cache" in command
    assert "--output" not in command  # podman 4 has no rewrite-timestamp exporter option


def test_the_epoch_is_the_commit_time_unless_given(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    committed = subprocess.run(
        ["git", "log", "-1", "--format=%ct"], cwd=img.REPO, capture_output=True, text=True
    ).stdout.strip()
    assert img.source_date_epoch() == int(committed)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234")
    assert img.source_date_epoch() == 1234
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(img.ImageError, match="SOURCE_DATE_EPOCH='yesterday' is not a number"):
        img.source_date_epoch()


def test_the_engine_is_told_apart_by_the_servers_components(monkeypatch):
    answers = {
        "podman": '[{"Name":"Podman Engine","Version":"4.3.1"}]',
        "docker": '[{"Name":"Engine","Version":"28.2.2"},{"Name":"containerd"}]',
    }
    for engine, components in answers.items():
        monkeypatch.setattr(
            img, "docker", lambda *a, out=components, **k: subprocess.CompletedProcess(a, 0, out)
        )
        assert img.engine_kind() == engine
