"""The front benchmark's image-size arithmetic: the Caddy layer read from `docker history`."""

import subprocess

import pytest

from benchmarks import front

HISTORY = (
    "/bin/sh -c #(nop) USER 10001\t0B\n"
    "|6 GIT_COMMIT=abc /bin/sh -c useradd --system --uid 10001 app\t11.8kB\n"
    "|1 SOURCE_DATE_EPOCH=1 /bin/sh -c apt-get update -qq && apt-get install -y -qq "
    "--no-install-recommends caddy     && rm -rf /var/lib/apt/lists/*\t59.3MB\n"
    "/bin/sh -c #(nop) ADD file:9c16 in /\t1.2GB\n"
)


def history(text):
    return lambda *args: subprocess.CompletedProcess(["docker", *args], 0, text, "")


def test_the_caddy_layer_is_the_one_that_installs_it(monkeypatch):
    monkeypatch.setattr(front.img, "docker", history(HISTORY))
    assert front.caddy_layer_mb("image:tag") == pytest.approx(59.3)


def test_an_image_without_the_layer_has_none(monkeypatch):
    monkeypatch.setattr(front.img, "docker", history(HISTORY.replace("caddy", "curl")))
    assert front.caddy_layer_mb("image:tag") == 0.0


@pytest.mark.parametrize(
    ("size", "mb"), [("59.3MB", 59.3), ("11.8kB", 0.0118), ("0B", 0.0), ("1.2GB", 1200.0)]
)
def test_docker_history_sizes_read_as_mb(size, mb):
    assert front._to_mb(size) == pytest.approx(mb)


def test_an_unreadable_size_is_named():
    with pytest.raises(ValueError, match="unreadable layer size '12 parsecs'"):
        front._to_mb("12 parsecs")
