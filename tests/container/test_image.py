"""The service image: builds, serves HTTP and Lambda events, and fails safe on a bad model."""

from __future__ import annotations

import json
import time

import pytest
import requests

from modelops.delivery import image as img
from modelops.delivery.local_server import free_port
from modelops.serving.formats import BOOSTER_FILE, ESTIMATOR_FILE, LINEAR_FILE

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.xdist_group("container")]


def test_building_without_a_packaged_model_fails_early_naming_the_target(tmp_path, monkeypatch):
    monkeypatch.setattr(img, "BENTO_RECORD", tmp_path / "models" / "bento.json")
    with pytest.raises(img.ImageError, match=r"not found: run 'make run' first"):
        img.build()


def test_image_metadata(built_image):
    inspect = json.loads(img.docker("image", "inspect", built_image).stdout)[0]
    config = inspect["Config"]
    model = img.packaged_model()
    assert config["User"] == "10001"
    assert config["Labels"]["ai.modelops.model.version"] == model["model_version"]
    assert config["Labels"]["org.opencontainers.image.revision"] == img.git_commit()
    assert built_image.endswith(f"-v{model['model_version']}")


def test_healthcheck_command_passes_in_a_ready_container(built_image):
    # podman stores OCI images, which drop HEALTHCHECK; so run its command in the container.
    port = free_port()
    with img.running(built_image, *img.http_container_args(port)) as container:
        url = f"http://127.0.0.1:{port}"
        img.wait_http_ready(container, url)
        check = img.docker("exec", "-e", f"PORT={port}", container.id, "python", "-c",
                           HEALTHCHECK, check=False)  # fmt: skip
        assert check.returncode == 0, check.stderr
        # the row the corrupt-model test sends is one a healthy model answers
        card = requests.get(f"{url}/metadata", timeout=5).json()
        answer = requests.post(
            f"{url}/predict", json={"instances": [img.example_row(card)]}, timeout=5
        )
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["predictions"]) == 1
        assert answer.json()["model"]["version"] == card["version"]


HEALTHCHECK = (
    "import os, urllib.request; urllib.request.urlopen("
    "'http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '3000'), timeout=2)"
)


def test_image_smoke_over_http_and_lambda(built_image):
    img.smoke(built_image)  # raises ImageError on any failure


def test_missing_model_is_not_ready_and_says_why(built_image):
    port = free_port()
    missing = "/app/absent"
    args = [*img.http_container_args(port), "-e", f"MODELOPS_MODEL_DIR={missing}"]
    with img.running(built_image, *args) as container:
        url = f"http://127.0.0.1:{port}"
        assert_not_ready(container, url, f"MODELOPS_MODEL_DIR={missing} does not exist")


def test_corrupt_model_file_is_not_ready_and_says_why(built_image, tmp_path):
    model = img.packaged_model()
    served = MODEL_FILES[model.get("serving_format", "pickle")]
    corrupt = tmp_path / served
    corrupt.write_bytes(b"\x80\x04 this is not a model")
    corrupt.chmod(0o644)
    target = f"/app/model/{served}"  # the image's copy of models/serving/
    port = free_port()
    args = [*img.http_container_args(port), "-v", f"{corrupt}:{target}:ro"]
    with img.running(built_image, *args) as container:
        url = f"http://127.0.0.1:{port}"
        assert_not_ready(container, url, "cannot load model")
        # The card loads (it is not the model file): a row it accepts must get a 503, not a
        # prediction, and not a 400 that any body missing its features would get anyway.
        card = requests.get(f"{url}/metadata", timeout=5).json()
        row = img.example_row(card)
        response = requests.post(f"{url}/predict", json={"instances": [row]}, timeout=5)
        assert response.status_code == 503, response.text
        assert "cannot load model" in response.text


MODEL_FILES = {"xgboost": BOOSTER_FILE, "linear": LINEAR_FILE, "pickle": ESTIMATOR_FILE}


def test_the_image_installs_only_what_the_winners_format_needs(built_image):
    """An XGBoost or linear winner's image has no scikit-learn or pandas; its Lambda path
    imports no BentoML or web framework either."""
    code = (
        "import importlib.util as u, sys; import services.lambda_handler; "
        "print(sorted(n for n in ('sklearn', 'pandas') if u.find_spec(n)), "
        "sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sklearn', 'pandas', 'bentoml', 'starlette', 'mangum', 'fastapi'}))"
    )
    out = img.docker("run", "--rm", "--read-only", "--tmpfs", "/tmp", "--entrypoint", "python",
                     built_image, "-c", code)  # fmt: skip
    installed, imported = out.stdout.strip().splitlines()[-1].split("] [")
    assert imported.strip("[]") == ""
    if img.packaged_model().get("serving_format", "pickle") != "pickle":
        assert installed.strip("[]") == ""


def assert_not_ready(container, url: str, reason: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/livez", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        pytest.fail(f"container never came up:\n{container.logs()}")
    assert requests.get(f"{url}/readyz", timeout=5).status_code == 503
    assert reason in container.logs()


def test_image_smoke_removes_its_containers_when_the_suite_fails(built_image, monkeypatch):
    real = img.packaged_model()  # expect a version the image does not have: the suite fails
    monkeypatch.setattr(img, "packaged_model", lambda: {**real, "model_version": "999"})
    before = img.own_containers()  # other workers' containers carry another label
    with pytest.raises(img.ImageError, match="smoke suite failed"):
        img.smoke(built_image)
    left = img.own_containers() - before
    assert not left, f"containers left behind: {left}\n{img.docker('ps', '-a').stdout}"


def test_lambda_handler_in_the_image_answers_function_url_events(built_image):
    from modelops.delivery.lambda_runtime import lambda_event

    readyz, empty = img.invoke_lambda_handler(
        built_image,
        [lambda_event("GET", "/readyz"), lambda_event("POST", "/predict", '{"instances": []}')],
    )
    assert readyz["statusCode"] == 200
    assert empty["statusCode"] == 400
    assert "at least 1" in empty["body"]  # says what is wrong, as for HTTP callers


def test_lambda_mode_starts_the_runtime_interface_client(built_image):
    assert img.runtime_client_polls(built_image)
