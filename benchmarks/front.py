"""`make bench-front`: what the image's HTTP front (Caddy, docs/serving.md) costs.

- Image size with and without it: the image's size, and that minus the layer that installs
  Caddy (`docker history`: the uncompressed bytes that layer adds).
- Latency and throughput through the front vs `MODELOPS_FRONT=off` (bentoml serve on $PORT),
  the same image in one run: both containers up at once, single-row predictions from `wrk` at
  concurrency 1 (p50) and 16 (requests/s), in rounds, the two in turn within a round; a ratio is
  the median of the round-by-round ratios.

Needs a built image (`make image`), a container engine and wrk. Writes reports/bench/front.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from contextlib import ExitStack

import requests

from benchmarks.report import print_table, write_report
from benchmarks.serve import SCENARIOS, bench_rows, paired_ratio, run_wrk, summarize
from modelops.delivery import image as img
from modelops.delivery.local_server import free_port

CADDY_LAYER = "--no-install-recommends caddy"  # the Dockerfile's RUN that installs it
MODES = {"through the front": "on", "direct (MODELOPS_FRONT=off)": "off"}


def caddy_layer_mb(tag: str) -> float:
    """Uncompressed MB of the layer that installs Caddy (0 if the image has none)."""
    history = img.docker("history", "--no-trunc", "--format", "{{.CreatedBy}}\t{{.Size}}", tag)
    for line in history.stdout.splitlines():
        created_by, _, size = line.rpartition("\t")
        if CADDY_LAYER in created_by:
            return _to_mb(size)
    return 0.0


def _to_mb(size: str) -> float:
    """`docker history`'s human size (`37.5MB`, `512kB`, `0B`) in MB."""
    units = {"GB": 1e3, "MB": 1.0, "kB": 1e-3, "KB": 1e-3, "B": 1e-6}
    for unit, factor in units.items():
        if size.endswith(unit):
            return float(size.removesuffix(unit)) * factor
    raise ValueError(f"unreadable layer size {size!r}")


def measure_front(tag: str, rounds: int, seconds: int) -> dict:
    """Size with and without Caddy, and wrk figures through the front vs direct."""
    size_mb = int(img.docker("image", "inspect", tag, "--format", "{{.Size}}").stdout) / 1e6
    layer_mb = caddy_layer_mb(tag)
    scenarios = [s for s in SCENARIOS if s[1] == 1]  # single rows at c=1 and c=16
    windows: dict[str, dict[str, list[dict]]] = {m: {s[0]: [] for s in scenarios} for m in MODES}
    with ExitStack() as stack:
        urls = {}
        for mode, front in MODES.items():
            port = free_port()
            args = [*img.http_container_args(port), "-e", f"MODELOPS_FRONT={front}"]
            container = stack.enter_context(img.running(tag, *args))
            urls[mode] = f"http://127.0.0.1:{port}"
            img.wait_http_ready(container, urls[mode])
        card = requests.get(f"{urls[next(iter(MODES))]}/metadata", timeout=10).json()
        body = json.dumps({"instances": bench_rows(card, 1)}).encode()
        for round_number in range(1, rounds + 1):
            print(f"round {round_number} of {rounds} ...", flush=True)
            for label, _, threads, connections in scenarios:
                for mode, url in urls.items():
                    windows[mode][label].append(
                        run_wrk(f"{url}/predict", body, threads, connections, seconds)
                    )
    front, direct = MODES
    c1, c16 = (s[0] for s in scenarios)

    def per_round(mode: str, label: str, key: str) -> list[float]:
        return [window[key] for window in windows[mode][label]]

    return {
        "image": tag,
        "size_mb": round(size_mb, 1),
        "size_without_caddy_mb": round(size_mb - layer_mb, 1),
        "caddy_layer_mb": round(layer_mb, 1),
        "rounds": rounds,
        "seconds_per_window": seconds,
        "load": {
            mode: {label: summarize(w) for label, w in by.items()} for mode, by in windows.items()
        },
        "ratios": {
            "c1_p50_front_vs_direct": round(
                paired_ratio(per_round(front, c1, "p50_ms"), per_round(direct, c1, "p50_ms")), 3
            ),
            "c16_rps_front_vs_direct": round(
                paired_ratio(
                    per_round(front, c16, "requests_per_second"),
                    per_round(direct, c16, "requests_per_second"),
                ),
                3,
            ),
        },
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=4, help="wrk windows per scenario and mode")
    parser.add_argument("--seconds", type=int, default=3, help="seconds per wrk window")
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds < 1:
        parser.error("--rounds and --seconds must be at least 1")
    if shutil.which("wrk") is None:
        raise SystemExit("error: bench-front: wrk is not installed (apt-get install wrk)")
    try:
        tag = img.this_commits_image()
    except img.ImageError as exc:
        raise SystemExit(f"error: bench-front: {exc}") from None
    summary = measure_front(tag, args.rounds, args.seconds)
    rows = [
        ["image size (uncompressed)", f"{summary['size_mb']:.0f} MB"],
        ["  without the Caddy layer", f"{summary['size_without_caddy_mb']:.0f} MB"],
    ]
    for mode, by_label in summary["load"].items():
        for label, figures in by_label.items():
            errors = f" ({figures['non_2xx']} non-2xx)" if figures["non_2xx"] else ""
            rows.append([
                f"{label}, {mode}",
                f"p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, "
                f"{figures['requests_per_second']:,.0f} req/s{errors}",
            ])  # fmt: skip
    rows += [[f"ratio {key}", f"{value:.2f}x"] for key, value in summary["ratios"].items()]
    rows.append(
        ["load average (1, 5, 15 min)", " ".join(f"{x:.1f}" for x in summary["load_average"])]
    )
    print_table(["measure", f"median of {args.rounds} rounds"], rows)
    print(f"\nwrote {write_report('front', summary)}")


if __name__ == "__main__":
    main()
