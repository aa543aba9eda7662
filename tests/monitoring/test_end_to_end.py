"""The loop, end to end on loopback: serve a loop_model model with capture on, send it rows, run
the monitor on what it captured.

The test split itself must read as no drift; the same rows shifted (a number by +2 standard
deviations, a category replaced by one the model never saw, a boolean flipped) must read as drift
naming exactly those three features. One `bentoml serve` process, captures moved aside between
the two windows.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from modelops.delivery.local_server import start_on_free_port, stop, wait_ready
from modelops.monitoring.monitor import main as monitor
from modelops.monitoring.reference import raw_values

REPO = Path(__file__).resolve().parents[2]
BATCH = 20  # rows per request (the test session caps requests at 50 rows)


@pytest.fixture(scope="module")
def server(loop_model):
    captures = loop_model["folder"] / "captures"
    log = loop_model["folder"] / "serve.log"
    bentoml = Path(sys.executable).parent / "bentoml"

    def start(port):
        with open(log, "ab") as out:
            return subprocess.Popen(
                [
                    str(bentoml),
                    "serve",
                    "services.classifier:Classifier",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={
                    **os.environ,
                    "MODELOPS_MODEL_TAG": loop_model["tag"],
                    "MODELOPS_CAPTURE_DIR": str(captures),
                },
            )

    process, port = start_on_free_port(
        start, lambda port, p: wait_ready(f"http://127.0.0.1:{port}", p), what="bentoml serve"
    )
    try:
        yield {"url": f"http://127.0.0.1:{port}", "captures": captures, "log": log}
    finally:
        stop(process)


def send(url, frame, features):
    rows = [
        dict(zip(features, values, strict=True))
        for values in zip(*(raw_values(frame, f) for f in features), strict=True)
    ]
    with requests.Session() as session:
        for start in range(0, len(rows), BATCH):
            answer = session.post(f"{url}/predict", json={"instances": rows[start : start + BATCH]})
            assert answer.status_code == 200, answer.text
    return len(rows)


def captured_rows(folder):
    total = 0
    for path in folder.rglob("*.jsonl"):
        total += sum(len(json.loads(line)["rows"]) for line in path.read_text().splitlines())
    return total


def window(server, loop_model, frame, name):
    """Send `frame`, wait until every row is on disk, move the captures to their own folder."""
    sent = send(server["url"], frame, loop_model["features"])
    deadline = time.monotonic() + 30
    while captured_rows(server["captures"]) < sent:
        assert time.monotonic() < deadline, f"captured {captured_rows(server['captures'])}/{sent}"
        time.sleep(0.2)
    assert captured_rows(server["captures"]) == sent
    target = loop_model["folder"] / name
    shutil.move(server["captures"], target)
    return target


def run_monitor(loop_model, source, output):
    folder = loop_model["folder"]
    code = monitor(
        [
            "--source",
            str(source),
            "--reference",
            str(folder / "reference.json"),
            "--contract",
            str(folder / "contract.yaml"),
            "--params",
            str(folder / "params.yaml"),
            "--output",
            str(output),
        ]
    )
    assert code == 0
    return json.loads((output / "drift.json").read_text())


def test_the_test_split_reads_as_no_drift_and_shifted_rows_as_drift_on_exactly_them(
    loop_model, server, tmp_path
):
    test = loop_model["test"]
    steady = window(server, loop_model, test, "steady")
    report = run_monitor(loop_model, steady, tmp_path / "steady")
    assert report["drift"] is False, report["drifted_features"]
    assert report["rows"] == len(test)
    assert report["contract_check"]["success"] is True
    # what was captured is the contract's columns and the answers, nothing else
    line = json.loads(next(steady.rglob("*.jsonl")).read_text().splitlines()[0])
    assert line["columns"] == loop_model["features"]
    assert set(line) == {
        "kind",
        "v",
        "time",
        "request_id",
        "model",
        "contract",
        "columns",
        "rows",
        "predictions",
        "dropped_rows",
    }
    assert line["model"] == {"name": "loop-classifier", "version": "5"}

    reference = json.loads((loop_model["folder"] / "reference.json").read_text())
    shifted = test.copy()
    shifted["num_00"] = shifted["num_00"] + 2 * reference["features"]["num_00"]["std"]
    shifted["cat_00"] = shifted["cat_00"].replace("level_a", "level_new")
    shifted["flag_00"] = ~shifted["flag_00"]
    moved = window(server, loop_model, shifted, "shifted")
    report = run_monitor(loop_model, moved, tmp_path / "shifted")
    assert report["drift"] is True
    assert report["drifted_features"] == ["cat_00", "flag_00", "num_00"]
    assert report["features"]["cat_00"]["unseen"] == ["level_new"]
    page = (tmp_path / "shifted" / "drift.html").read_text()
    assert "num_00" in page and page.count("data:image/png;base64,") >= 3
    assert "error" not in server["log"].read_text().lower()
