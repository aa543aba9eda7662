"""`make bench-monitor`: what `make monitor` costs on 100k and 1M captured rows.

Writes capture files as the service does (JSON lines, 100 rows per request) for a 10-feature
contract (6 numbers, 3 categories, 1 boolean), then, in a fresh process per size (so peak
memories do not mix), reads the window and computes every drift statistic against a stored
reference, as `make monitor` does (report rendering excluded: it does not grow with rows).
Prints a table and writes reports/bench/monitor.json. One core: the statistics are
single-threaded (OPENBLAS/OMP threads pinned to 1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from benchmarks.report import print_table, write_report

SCHEMA = [
    *({"name": f"num_{i}", "type": "number", "nullable": True} for i in range(6)),
    *(
        {
            "name": f"cat_{i}",
            "type": "category",
            "categories": [f"c{j}" for j in range(8)],
            "nullable": True,
        }
        for i in range(3)
    ),
    {"name": "flag", "type": "boolean", "nullable": True},
]
CARD = {
    "name": "bench",
    "version": "1",
    "task": "binary",
    "classes": ["no", "yes"],
    "feature_schema": SCHEMA,
}
ROWS_PER_REQUEST = 100
SIZES = (100_000, 1_000_000)


def columns(n: int, seed: int, shift: float = 0.0) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    data: dict[str, list] = {}
    for entry in SCHEMA:
        name = entry["name"]
        if entry["type"] == "number":
            values = rng.normal(shift, 1.0, n).round(5).astype(object)
        elif entry["type"] == "category":
            values = rng.choice(entry["categories"], n).astype(object)
        else:
            values = (rng.random(n) < 0.6).astype(object)
        values[rng.random(n) < 0.05] = None
        data[name] = values.tolist()
    return data


def predictions(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    p = rng.random(n).round(6)
    return [
        {
            "label": "yes" if q >= 0.5 else "no",
            "probabilities": {"no": 1 - q, "yes": q},
            "probability": q,
        }
        for q in p.tolist()
    ]


def write_captures(folder: Path, n: int) -> None:
    from modelops.serving.capture import Capture, JsonLinesSink

    data = columns(n, seed=2, shift=0.05)
    names = list(data)
    answers = predictions(n, seed=3)
    sink = JsonLinesSink(folder)
    capture = Capture(SCHEMA, CARD, sink, max_rows=ROWS_PER_REQUEST)
    for start in range(0, n, ROWS_PER_REQUEST):
        stop = start + ROWS_PER_REQUEST
        rows = [
            dict(zip(names, values, strict=True))
            for values in zip(*(data[k][start:stop] for k in names), strict=True)
        ]
        capture.record(rows, answers[start:stop], request_id=str(start))
    capture.flush()


def peak_rss_mib() -> float:
    """Peak resident memory of the running process (VmHWM), in MiB.

    Not getrusage's ru_maxrss: Linux carries that across fork and exec, so a child started by
    this benchmark's parent (which held the rows it wrote, ~1 GB at 1M) reported the parent's
    peak, not its own: the 1.17 GiB measured before was the writer's, not the monitor's.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("/proc/self/status has no VmHWM (Linux only)")


def measure(folder: Path, reference_path: Path) -> dict:
    """One size, in this process: read + compare; seconds and peak RSS."""
    from modelops.monitoring.drift import compare
    from modelops.monitoring.window import collect, read_folder
    from modelops.params import MonitorParams

    reference = json.loads(reference_path.read_text())
    params = MonitorParams()
    now = datetime.now(UTC)
    since = now - timedelta(days=1)
    started, cpu_started = time.perf_counter(), time.process_time()
    window = collect(read_folder(folder, since, now), since, params.max_rows)
    read = time.perf_counter() - started
    report = compare(reference, window, params)
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak = peak_rss_mib()
    return {
        "rows": window.rows,
        "read_seconds": round(read, 2),
        "drift_seconds": round(total - read, 2),
        "total_seconds": round(total, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_mib": round(peak),
        "drift": report["drift"],
    }


def capture_cost(folder: Path, calls: int = 20_000) -> dict:
    """Microseconds per captured one-row request, file and log sinks (record, build and write).

    Next to them, a one-row predict of the project's model (when `make run` ran).
    """
    from modelops.serving.capture import Capture, JsonLinesSink, LogSink

    data = columns(1, seed=5)
    row = {name: values[0] for name, values in data.items()}
    answer = predictions(1, seed=6)
    figures = {}
    with open(os.devnull, "w") as devnull:
        for name, sink in (("file", JsonLinesSink(folder)), ("log", LogSink(devnull))):
            capture = Capture(SCHEMA, CARD, sink)
            started = time.perf_counter()
            for i in range(calls):
                capture.record([row], answer, request_id=str(i))
            # the file sink builds and writes its records when it flushes: counted too
            capture.flush()
            figures[f"capture_record_{name}_us"] = round(
                (time.perf_counter() - started) / calls * 1e6, 1
            )
    best = Path("models/best")
    if (best / "model_card.json").is_file():  # the project's own model, when `make run` ran
        from modelops.serving.inference import Predictor

        predictor = Predictor.from_directory(best)
        example = predictor.card["input_example"][0]
        matrix = predictor.encode([example])
        for _ in range(200):
            predictor.predict_encoded(matrix)
        started = time.perf_counter()
        for _ in range(2000):
            predictor.predict_encoded(matrix)
        figures["predict_one_row_us"] = round((time.perf_counter() - started) / 2000 * 1e6, 1)
    return figures


LAMBDA_DRIVER = """
import json, logging, os, statistics, sys, time
from awslambdaric.lambda_runtime_log_utils import JsonFormatter
handler = logging.StreamHandler(open(os.devnull, "w"))
handler.setFormatter(JsonFormatter())  # what the runtime formats each log event with
logging.basicConfig(level=logging.INFO, handlers=[handler])
sys.stdout = open(os.devnull, "w")  # the capture lines: Lambda's log pipe, not this benchmark's
from services.lambda_handler import handler as lambda_handler
class Context:
    aws_request_id = "bench"
    def get_remaining_time_in_millis(self):
        return 30_000
event = json.loads(sys.argv[1])
for _ in range(100):
    lambda_handler(event, Context())
times = []
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    lambda_handler(event, Context())
    times.append(time.perf_counter() - started)
print(json.dumps({"p50_ms": statistics.median(times) * 1000}), file=sys.__stdout__)
"""


def lambda_overhead(rounds: int = 3, invocations: int = 500) -> dict | None:
    """Warm Lambda invocations (in-process handler, one-row Function URL event), capture on/off.

    Rounds alternate off/on, each in a fresh process; the ratio is the median of the rounds'.
    None when no packaged model exists (`make run` first).
    """
    bento = Path("models/bento.json")
    if not bento.is_file():
        return None
    tag = json.loads(bento.read_text())["model_tag"]
    example = json.loads(Path("models/best/model_card.json").read_text())["input_example"][0]
    event = {
        "version": "2.0",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {
                "method": "POST",
                "path": "/predict",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
            }
        },
        "body": json.dumps({"instances": [example]}),
        "isBase64Encoded": False,
    }
    env = {
        **os.environ,
        "MODELOPS_MODEL_TAG": tag,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "BENTOML_HOME": os.environ.get("BENTOML_HOME", str(Path("bentoml_home").resolve())),
    }
    env.pop("MODELOPS_CAPTURE_DIR", None)
    figures: dict[str, list[float]] = {"off": [], "log": []}
    for _ in range(rounds):
        for mode in ("off", "log"):
            done = subprocess.run(
                [sys.executable, "-c", LAMBDA_DRIVER, json.dumps(event), str(invocations)],
                env={**env, "MODELOPS_CAPTURE": mode},
                capture_output=True,
                text=True,
                check=True,
                timeout=600,
            )
            figures[mode].append(json.loads(done.stdout.splitlines()[-1])["p50_ms"])
    ratios = [on / off for on, off in zip(figures["log"], figures["off"], strict=True)]
    return {
        "p50_ms_capture_off": [round(v, 3) for v in figures["off"]],
        "p50_ms_capture_log": [round(v, 3) for v in figures["log"]],
        "ratio_median": round(sorted(ratios)[len(ratios) // 2], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.monitor")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument(
        "--measure", nargs=2, metavar=("FOLDER", "REFERENCE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), Path(args.measure[1]))))
        return
    from modelops.monitoring.reference import build_reference

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        reference = Path(tmp) / "reference.json"
        train = columns(200_000, seed=1)
        reference.write_text(
            json.dumps(build_reference(train, SCHEMA, CARD, predictions(20_000, 4), 100))
        )
        for size in (int(s) for s in args.sizes.split(",")):
            folder = Path(tmp) / f"captures-{size}"
            started = time.perf_counter()
            write_captures(folder, size)
            written = time.perf_counter() - started
            megabytes = sum(p.stat().st_size for p in folder.rglob("*.jsonl")) / 1e6
            env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
            done = subprocess.run(
                [
                    "taskset",
                    "-c",
                    "0",
                    sys.executable,
                    "-m",
                    "benchmarks.monitor",
                    "--measure",
                    str(folder),
                    str(reference),
                ],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            figure = json.loads(done.stdout.splitlines()[-1])
            figure.update(capture_mb=round(megabytes, 1), capture_write_seconds=round(written, 1))
            results.append(figure)
        cost = capture_cost(Path(tmp) / "cost")
    warm = lambda_overhead()
    print_table(
        ["rows", "read s", "drift s", "total s", "CPU s", "peak RSS MiB", "capture MB", "verdict"],
        [
            [
                f"{r['rows']:,}",
                r["read_seconds"],
                r["drift_seconds"],
                r["total_seconds"],
                r["cpu_seconds"],
                r["peak_rss_mib"],
                r["capture_mb"],
                r["drift"],
            ]
            for r in results
        ],
    )
    print(
        f"\ncapture call (one-row request): file sink {cost['capture_record_file_us']} us, "
        f"log sink (Lambda) {cost['capture_record_log_us']} us"
        + (
            f"; the model's one-row predict: {cost['predict_one_row_us']} us"
            if "predict_one_row_us" in cost
            else ""
        )
    )
    if warm:
        print(
            f"Lambda warm invocation p50 (ms), capture off {warm['p50_ms_capture_off']}, "
            f"capture on (JSON log) {warm['p50_ms_capture_log']}: on/off {warm['ratio_median']}"
        )
    path = write_report(
        "monitor",
        {
            "features": len(SCHEMA),
            "rows_per_request": ROWS_PER_REQUEST,
            "results": results,
            "capture_cost": cost,
            "lambda_warm": warm,
        },
    )
    print(f"\nwritten to {path}; target: 1M rows under 60 s on one core")


if __name__ == "__main__":
    main()
