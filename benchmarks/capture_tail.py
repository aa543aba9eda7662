"""`make bench-capture`: what a file sink's flusher does to the requests beside it (100 rows each).

One thread answers 100-row requests of the packaged model in a closed loop (parse the body,
predict, serialise the answer, record the capture, give up the interpreter as a socket write
does) while the capture's flusher builds and writes the records beside it, as in a server
worker. Each variant runs in a fresh interpreter, after `gc.freeze()` as the service does:

- `off`: no capture;
- `1 s, no pause`: the file sink as it was (flushes once a second, builds without a break);
- `shipped`: the module's settings (`FLUSH_SECONDS`, `SLICE_SECONDS`, `PAUSE_SECONDS`).

Every variant answers the same number of requests, so their percentiles rest on as many
samples. Prints requests per second, latency p50/p99/p99.9/max, and the garbage collector's full
(oldest-generation) collections: how many and the longest. Writes reports/bench/capture.json.
No HTTP and no client on the same cores: the tail seen here is the flusher's alone.

    python -m benchmarks.capture_tail [--requests 3000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.report import print_table, write_report

VARIANTS = ("off", "1 s, no pause", "shipped")


def run_variant(variant: str, requests: int) -> dict[str, Any]:
    """Answer `requests` requests with the capture `variant`; latencies and GC pauses."""
    from benchmarks.serve import bench_rows, store_entry
    from modelops.delivery.packaging import use_project_bentoml_home
    from modelops.serving import capture as cap
    from modelops.serving.inference import Predictor

    use_project_bentoml_home(Path.cwd())
    bento = json.loads(Path("models/bento.json").read_text())
    predictor = Predictor.from_directory(store_entry(bento["model_tag"]))
    body = json.dumps({"instances": bench_rows(predictor.card)}).encode()
    if variant == "1 s, no pause":
        cap.FLUSH_SECONDS, cap.SLICE_SECONDS = 1.0, float("inf")
    capture = None
    if variant != "off":
        sink = cap.JsonLinesSink(tempfile.mkdtemp(prefix="bench-capture-"))
        capture = cap.Capture(predictor.card["feature_schema"], predictor.card, sink)
    gc.freeze()
    full: list[float] = []
    started = [0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif info["generation"] == 2:
            full.append(time.perf_counter() - started[0])

    gc.callbacks.append(timed)
    latencies = []
    began = time.perf_counter()
    for _ in range(requests):
        start = time.perf_counter()
        rows = json.loads(body)["instances"]
        predictions = predictor.predict(rows)
        json.dumps({"predictions": predictions})
        if capture is not None:
            capture.record(rows, predictions)
        time.sleep(0)  # the answer's socket write gives up the interpreter
        latencies.append(time.perf_counter() - start)
    elapsed = time.perf_counter() - began
    gc.callbacks.remove(timed)
    latencies.sort()

    def quantile(q: float) -> float:
        return round(latencies[int(q * (len(latencies) - 1))] * 1000, 2)

    return {
        "variant": variant,
        "requests_per_s": round(requests / elapsed),
        "p50_ms": quantile(0.5),
        "p99_ms": quantile(0.99),
        "p999_ms": quantile(0.999),
        "max_ms": round(latencies[-1] * 1000, 2),
        "full_collections": len(full),
        "longest_full_collection_ms": round(max(full, default=0.0) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per variant")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # one, in-process
    args = parser.parse_args()
    if args.requests < 1000:
        parser.error("--requests must be at least 1000 (a p99.9 needs them)")
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.requests)))
        return
    if not Path("models/bento.json").is_file():
        sys.exit("error: bench-capture: no packaged model (models/bento.json): run `make run`")
    load_at_start = os.getloadavg()
    results = []
    for variant in VARIANTS:
        print(f"{variant} ...", flush=True)
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.capture_tail", "--variant", variant,
             "--requests", str(args.requests)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            sys.exit(f"error: bench-capture: {variant}: {done.stderr.strip()[-2000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    headers = ["variant", "requests/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms",
               "full GCs", "longest full GC ms"]  # fmt: skip
    print_table(headers, [list(r.values()) for r in results])
    load = {"start": load_at_start, "end": os.getloadavg()}
    print(f"load average (1, 5, 15 min) at start: {load['start']}, at end: {load['end']}")
    out = write_report("capture", {"requests": args.requests, "load": load, "runs": results})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
