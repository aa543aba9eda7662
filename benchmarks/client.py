"""`make bench-client`: modelops.client against `bentoml serve`, next to `make score`.

The same 10,000 rows (random values fitting the packaged model's feature schema) are scored
four ways on this machine, loopback only:
- `Client.predict(frame)` in-process, in batches of the server's maximum (one at a time and two
  in flight) and of 100 rows;
- `python -m modelops.client predict URL in.csv out.csv` (process start, CSV in and out);
- `python -m pipelines.score` (what `make score` runs: the model in-process, no HTTP).
Prints a table and writes reports/bench/client.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.report import print_table, write_report
from modelops.client import Client
from modelops.delivery.local_server import free_port, stop, wait_ready
from modelops.delivery.packaging import use_project_bentoml_home


def rows_for(schema: list[dict], n: int, seed: int = 0) -> pd.DataFrame:
    """`n` random rows that fit the feature schema (an entry without a type is a number)."""
    rng = np.random.default_rng(seed)
    columns = {}
    for feature in schema:
        kind = feature.get("type") or "number"
        if kind == "category":
            columns[feature["name"]] = rng.choice(feature["categories"], size=n)
        elif kind == "boolean":
            columns[feature["name"]] = rng.random(n) < 0.5
        else:
            columns[feature["name"]] = rng.normal(size=n)
    return pd.DataFrame(columns)


def timed(run, repeats: int) -> list[float]:
    """Seconds of each of `repeats` runs of `run()`."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return seconds


def figure(name: str, rows: int, seconds: list[float], requests: int | None) -> dict:
    median = statistics.median(seconds)
    return {
        "how": name,
        "rows": rows,
        "requests": requests,
        "runs": len(seconds),
        "median_s": round(median, 3),
        "best_s": round(min(seconds), 3),
        "rows_per_s": round(rows / median),
    }


def command(args: list[str]) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not Path("models/bento.json").is_file():
        parser.exit(1, "no packaged model: run 'make run' first\n")
    use_project_bentoml_home(Path.cwd())  # where the package stage put the model
    bento = json.loads(Path("models/bento.json").read_text())
    card = json.loads(Path("models/best/model_card.json").read_text())
    frame = rows_for(card["feature_schema"], args.rows)
    python = sys.executable
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-client-") as scratch:
        source = Path(scratch) / "rows.csv"
        frame.to_csv(source, index=False)
        server = subprocess.Popen(
            [str(Path(python).parent / "bentoml"), "serve", "services.classifier:Classifier",
             "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, "MODELOPS_MODEL_TAG": bento["model_tag"]},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            wait_ready(url, server)
            client = Client(url)
            batch = client.max_batch()
            client.predict(frame.head(batch))  # warm: first request, imports, caches
            seconds = timed(lambda: client.predict(frame), args.repeats)
            results.append(
                figure(f"Client.predict, batches of {batch}", args.rows, seconds,
                       -(-args.rows // batch))
            )  # fmt: skip
            seconds = timed(lambda: client.predict(frame, concurrency=2), args.repeats)
            results.append(
                figure(f"Client.predict, batches of {batch}, 2 in flight", args.rows, seconds,
                       -(-args.rows // batch))
            )  # fmt: skip
            small = Client(url, batch_size=100)
            seconds = timed(lambda: small.predict(frame), args.repeats)
            results.append(
                figure("Client.predict, batches of 100", args.rows, seconds, -(-args.rows // 100))
            )
            out = Path(scratch) / "client.csv"
            cli = [python, "-m", "modelops.client", "predict", url, str(source), str(out)]
            results.append(
                figure("python -m modelops.client predict (CLI, CSV)", args.rows,
                       timed(lambda: command(cli), args.repeats), -(-args.rows // batch))
            )  # fmt: skip
        finally:
            stop(server)
        scored = Path(scratch) / "score.csv"
        score = [python, "-m", "pipelines.score", "--input", str(source), "--output", str(scored)]
        results.append(
            figure("make score (python -m pipelines.score, CSV)", args.rows,
                   timed(lambda: command(score), args.repeats), None)
        )  # fmt: skip
        same = pd.read_csv(out)["label"].equals(pd.read_csv(scored)["label"])
    print_table(
        ["how", "rows", "requests", "median s", "best s", "rows/s"],
        [[r["how"], r["rows"], r["requests"] or "-", r["median_s"], r["best_s"], r["rows_per_s"]]
         for r in results],
    )  # fmt: skip
    print(f"client and make score agree on every label: {same}")
    path = write_report(
        "client",
        {"model": bento["model_tag"], "features": len(card["feature_schema"]),
         "labels_agree": bool(same), "results": results},
    )  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
