"""`make bench-image`: image size, container start -> first 200, Lambda cold init per handler.

Lambda cold init is timed inside the image (read-only root, as on Lambda), from the driver's first
line to the first answer (import + model load + one invocation), for three handlers in fresh
processes, in rounds so that drift on a shared machine hits all three alike:
- the lean handler (`services.lambda_handler`: the core, no BentoML or web framework);
- the anchor, the handler before issue 22 (`benchmarks/lambda_anchor.py`, BentoML's app through
  Mangum), mounted into the container for the run;
- the floor: import numpy + xgboost, load the booster, predict one row.
Targets (issue 22, XGBoost winner): lean <= 0.35x the anchor and <= 2x the floor.

Needs a built image (`make image`) and a container engine. Writes reports/bench/image.json.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from pathlib import Path

from benchmarks.report import print_table, write_report
from modelops.delivery import image as img
from modelops.delivery.lambda_runtime import lambda_event
from modelops.delivery.local_server import free_port

RUNS = 3
ANCHOR = Path(__file__).with_name("lambda_anchor.py")
_COLD = """
import json, sys, time
started = time.perf_counter()
{load}
event = json.loads(sys.stdin.readline())
answer = handler(event, None)
assert answer["statusCode"] == 200, answer
print("COLD %.4f" % (time.perf_counter() - started), flush=True)
"""
LOADS = {
    "lean": "from services.lambda_handler import handler",
    "anchor": "from anchor.lambda_anchor import handler",
    "floor": (
        "import numpy, xgboost, glob\n"
        "found = glob.glob('/app/model/booster.ubj')\n"
        "booster = xgboost.Booster(model_file=found[0])\n"
        "def handler(event, context):\n"
        "    booster.inplace_predict(numpy.zeros((1, booster.num_features())))\n"
        "    return {'statusCode': 200}"
    ),
}


def cold_init(tag: str, kind: str, event: dict) -> float:
    """Seconds from the driver's first line to the first answer, in a fresh container."""
    mount = ["-v", f"{ANCHOR}:/app/anchor/lambda_anchor.py:ro"] if kind == "anchor" else []
    result = subprocess.run(
        ["docker", "run", "--rm", "-i", "--read-only", "--tmpfs", "/tmp", *mount,
         "--entrypoint", "python", tag, "-c", _COLD.format(load=LOADS[kind])],
        input=json.dumps(event) + "\n", capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    lines = [line for line in result.stdout.splitlines() if line.startswith("COLD ")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"error: bench-image: {kind} handler failed:\n{result.stderr[-2000:]}")
    return float(lines[0].split()[1])


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

    row = img.example_row(_card(tag))  # a row the model accepts: every invocation a 200
    event = lambda_event("POST", "/predict", json.dumps({"instances": [row]}))
    lambda_runs = []
    for _ in range(RUNS):
        timings: dict = {}
        started = time.perf_counter()
        img.invoke_lambda_handler(tag, [event, event], timings)
        lambda_runs.append({**timings, "container_total_s": time.perf_counter() - started})

    cold: dict[str, list[float]] = {kind: [] for kind in LOADS}
    serving_format = img.packaged_model().get("serving_format", "pickle")
    kinds = [k for k in LOADS if k != "floor" or serving_format == "xgboost"]
    for _ in range(RUNS):
        for kind in kinds:
            cold[kind].append(cold_init(tag, kind, event))
    cold_median = {kind: statistics.median(v) for kind, v in cold.items() if v}

    summary = {
        "image": tag,
        "serving_format": serving_format,
        "lambda_cold_init_s": {kind: [round(x, 3) for x in v] for kind, v in cold.items() if v},
        "size_mb": round(size_mb, 1),
        "http_start_to_ready_s": [round(s, 2) for s in http_starts],
        "lambda_import_s": [round(r["import_s"], 2) for r in lambda_runs],
        "lambda_first_invocation_ms": [round(r["invocations_ms"][0], 1) for r in lambda_runs],
        "lambda_warm_invocation_ms": [round(r["invocations_ms"][1], 1) for r in lambda_runs],
        "lambda_container_total_s": [round(r["container_total_s"], 2) for r in lambda_runs],
        "targets": {
            "size_mb": 500,
            "http_start_to_ready_s": 3,
            "lambda_cold_init_lean_vs_anchor": 0.35,
            "lambda_cold_init_lean_vs_floor": 2.0,
        },
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
            *(
                [f"Lambda cold init: {kind}", f"{seconds:.2f} s", ""]
                for kind, seconds in cold_median.items()
            ),
            [
                "lean / anchor",
                f"{cold_median['lean'] / cold_median['anchor']:.2f}x",
                "<= 0.35x",
            ],
            *(
                [["lean / floor", f"{cold_median['lean'] / cold_median['floor']:.2f}x", "<= 2x"]]
                if "floor" in cold_median
                else []
            ),
        ],
    )
    summary["lambda_cold_init_ratios"] = {
        f"lean/{kind}": round(cold_median["lean"] / cold_median[kind], 3)
        for kind in ("anchor", "floor")
        if kind in cold_median
    }
    print(f"\nwrote {write_report('image', summary)}")


def _card(tag: str) -> dict:
    metadata = img.invoke_lambda_handler(tag, [lambda_event("GET", "/metadata")])[0]
    return json.loads(metadata["body"])


if __name__ == "__main__":
    main()
