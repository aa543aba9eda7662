"""`make bench-image`: image size, container start -> first 200, Lambda-handler cold invocation.

Needs a built image (`make image`) and a container engine. Writes reports/bench/image.json.
"""

from __future__ import annotations

import json
import statistics
import time

from benchmarks.report import print_table, write_report
from modelops.delivery import image as img
from modelops.delivery.lambda_runtime import lambda_event
from modelops.delivery.local_server import free_port

RUNS = 3


def main() -> None:
    reason = img.engine_unavailable()
    if reason:
        raise SystemExit(f"error: bench-image: {reason}")
    try:
        tag = img.require_image(img.image_tag(img.packaged_model()))
    except img.ImageError as exc:
        raise SystemExit(f"error: bench-image: {exc}") from None
    size_mb = int(img.docker("image", "inspect", tag, "--format", "{{.Size}}").stdout) / 1e6

    http_starts = []
    for _ in range(RUNS):
        port = free_port()
        started = time.perf_counter()
        with img.running(tag, *img.http_container_args(port)) as container:
            img.wait_http_ready(container, f"http://127.0.0.1:{port}")
            http_starts.append(time.perf_counter() - started)

    features = {f["name"]: 0.0 for f in _feature_schema(tag)}
    event = lambda_event("POST", "/predict", json.dumps({"instances": [features]}))
    lambda_runs = []
    for _ in range(RUNS):
        timings: dict = {}
        started = time.perf_counter()
        img.invoke_lambda_handler(tag, [event, event], timings)
        lambda_runs.append({**timings, "container_total_s": time.perf_counter() - started})

    summary = {
        "image": tag,
        "size_mb": round(size_mb, 1),
        "http_start_to_ready_s": [round(s, 2) for s in http_starts],
        "lambda_import_s": [round(r["import_s"], 2) for r in lambda_runs],
        "lambda_first_invocation_ms": [round(r["invocations_ms"][0], 1) for r in lambda_runs],
        "lambda_warm_invocation_ms": [round(r["invocations_ms"][1], 1) for r in lambda_runs],
        "lambda_container_total_s": [round(r["container_total_s"], 2) for r in lambda_runs],
        "targets": {"size_mb": 500, "http_start_to_ready_s": 3},
    }
    median = {
        key: statistics.median(value) for key, value in summary.items() if isinstance(value, list)
    }
    print_table(
        ["measure", f"median of {RUNS}", "target"],
        [
            ["image size (uncompressed)", f"{size_mb:.0f} MB", "<= 500 MB"],
            [
                "container start -> /readyz 200",
                f"{median['http_start_to_ready_s']:.2f} s",
                "<= 3 s",
            ],
            ["Lambda cold start: import + model load", f"{median['lambda_import_s']:.2f} s", ""],
            ["Lambda first invocation", f"{median['lambda_first_invocation_ms']:.1f} ms", ""],
            ["Lambda warm invocation", f"{median['lambda_warm_invocation_ms']:.1f} ms", ""],
        ],
    )
    print(f"\nwrote {write_report('image', summary)}")


def _feature_schema(tag: str) -> list[dict]:
    metadata = img.invoke_lambda_handler(tag, [lambda_event("GET", "/metadata")])[0]
    return json.loads(metadata["body"])["feature_schema"]


if __name__ == "__main__":
    main()
