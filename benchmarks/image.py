"""`make bench-image`: image size, Lambda cold init and warm invocations, per winner kind.

Everything is timed inside the image (read-only root and a writable /tmp, as on Lambda), so the
container engine's own start-up (which Lambda does not bill as init) is left out, and every
figure of one kind comes from the same image:

- **Lambda cold init**: process start to the first answer. A fake of the Lambda Runtime API
  (this checkout's `modelops.delivery.lambda_runtime`, mounted) runs in the container; the timer
  starts when it spawns
  `python -m awslambdaric <handler>` (what the image's entrypoint runs on Lambda) and stops when
  the runtime client posts the answer to the first event. Three handlers, each in a fresh
  container, in rounds so that drift on a shared machine hits all three alike:
  - `lean`: `services.lambda_handler` (the core; no BentoML, no web framework);
  - `anchor`: the handler before issue 22 (`benchmarks/lambda_anchor.py`: BentoML's app through
    Mangum), mounted into the container for the run. It wraps today's `services.classifier`,
    which imports less than the one issue 22 measured (no scikit-learn in an XGBoost or linear
    image), so the ratio to it is, if anything, harder to meet than the issue's;
  - `floor` (XGBoost winners): import numpy + xgboost, load the booster, predict one row.
- **Lambda warm invocation**: after the first answer, the same event again and again through
  the same fake Runtime API; each one timed from the event being handed out to the answer
  posted back. The lean handler runs with prediction capture off and on (`MODELOPS_CAPTURE=log`,
  the JSON line on standard output that CloudWatch stores); the capture lines are counted, so a
  run where capture silently did nothing fails instead of passing as "free".
- **Container path, c=1**: the image's entrypoint (`bentoml serve`) in HTTP mode, and one
  keep-alive client in the same container sending the same body one request at a time.
- **CPU per warm request**: the time on a CPU (`/proc/<pid>/task/*/schedstat`) of the function's
  process, or of the server's processes, over the warm requests, divided by their number. On a
  shared, loaded machine a wall-clock p50 is mostly time spent waiting for a core; the CPU a
  request costs is the steadier figure, and the one that sets the wall time on a core of one's
  own (Lambda's).
- **Image size**: the engine's uncompressed size.

Every handler gets the same request body: one row the model accepts (the card's example).
Targets (issue 22, XGBoost winner): lean cold init <= 0.35x the anchor and <= 2x the floor; warm
Lambda p50 <= the container path's c=1 p50. Issue 23: warm p50 with capture on within 10% of off.

    python -m benchmarks.image                  # the image of this checkout (make image)
    python -m benchmarks.image --kind xgboost linear random_forest

`--kind K` runs the pipeline in a throw-away copy of this checkout whose only candidate is K (the
copy's params.yaml; this checkout's is untouched) and builds that copy's image once: it is
tagged `modelops-bench-K:<hash of what goes into the image>` and reused while that is unchanged.
Writes reports/bench/image.json (one entry per kind).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.project_copy import Project, copy_repository
from benchmarks.report import print_table, write_report
from benchmarks.serve import paired_ratio
from modelops.delivery import image as img
from modelops.delivery import lambda_runtime
from modelops.delivery.lambda_runtime import lambda_event

KINDS = ("xgboost", "linear", "random_forest")
ANCHOR = Path(__file__).with_name("lambda_anchor.py")
MOUNT = "/app/bench"  # this benchmark's files inside the container (a package `bench` in /app)

# The floor: the least any XGBoost handler must do (imports, booster load, one prediction).
FLOOR = """
import json, numpy, xgboost
booster = xgboost.Booster(model_file="/app/model/booster.ubj")
booster.set_param({"nthread": 1})  # as the core does: one-row requests
def handler(event, context):
    json.loads(event["body"])
    booster.inplace_predict(numpy.zeros((1, booster.num_features())))
    return {"statusCode": 200, "body": "{}"}
"""

# Runs inside the container: one measurement, printed as `RESULT <json>`.
DRIVER = """
import http.client, json, os, socket, subprocess, sys, threading, time, urllib.request
plan = json.loads(sys.argv[1])
event, result, lines = plan["event"], {}, []
def drain(stream):
    for line in stream:
        lines.append(line)
def cpu_ns(pids):  # time on a CPU of every thread of these processes (robust to a busy machine)
    total = 0
    for pid in pids:
        try:
            for task in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/schedstat" % (pid, task)) as stat:
                    total += int(stat.read().split()[0])
        except (OSError, ValueError):
            pass
    return total
def others():  # the server's processes: everything in the container but this driver
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
if plan["mode"] == "lambda":
    from fake_runtime import FakeLambdaRuntime  # this checkout's, mounted with the driver
    with FakeLambdaRuntime() as runtime:
        env = {**os.environ, **plan["env"], "AWS_LAMBDA_RUNTIME_API": runtime.address}
        started = time.perf_counter()
        # Its output goes to a file on tmpfs, read afterwards: a consumer that never makes the
        # function wait (on Lambda, the platform's log agent; a reader thread here would
        # compete with the function for this machine's shared cores).
        output = open("/tmp/function.log", "w")
        child = subprocess.Popen([sys.executable, "-m", "awslambdaric", plan["handler"]],
                                 cwd="/app", env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            answers = [runtime.invoke(event, timeout=plan["timeout"])]
        except TimeoutError:
            child.kill()
            raise SystemExit("no first answer; the runtime client wrote:\\n"
                             + open("/tmp/function.log").read()[-3000:])
        result["cold_s"] = time.perf_counter() - started
        warm, cpu_before = [], cpu_ns([child.pid])
        for _ in range(plan["warm"]):
            started = time.perf_counter()
            answers.append(runtime.invoke(event))
            warm.append(time.perf_counter() - started)
        result["cpu_ms"] = (cpu_ns([child.pid]) - cpu_before) / 1e6 / plan["warm"]
        child.kill()
        child.wait()
    lines = open("/tmp/function.log").readlines()
    result["statuses"] = sorted({answer["statusCode"] for answer in answers})
    result["first_body"] = answers[0].get("body")
else:  # the container path: the entrypoint's HTTP server, one keep-alive client
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    child = subprocess.Popen(["/app/services/entrypoint.sh"], cwd="/app",
                             env={**os.environ, **plan["env"], "PORT": str(port)},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    reader = threading.Thread(target=drain, args=(child.stdout,), daemon=True)
    reader.start()
    while True:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=2)
            break
        except OSError:
            if child.poll() is not None or time.perf_counter() - started > plan["timeout"]:
                raise SystemExit("server did not start:\\n" + "".join(lines[-40:]))
            time.sleep(0.05)
    result["ready_s"] = time.perf_counter() - started
    body, statuses, warm = event["body"].encode(), set(), []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for index in range(plan["warm"] + 20):  # the first 20 warm the server up, untimed
        if index == 20:
            cpu_before = cpu_ns(others())
        started = time.perf_counter()
        connection.request("POST", "/predict", body, {"content-type": "application/json"})
        answer = connection.getresponse()
        answer.read()
        if index >= 20:
            warm.append(time.perf_counter() - started)
        statuses.add(answer.status)
    result["cpu_ms"] = (cpu_ns(others()) - cpu_before) / 1e6 / plan["warm"]
    child.kill()  # the container goes with the driver: BentoML's workers too
    result["statuses"] = sorted(statuses)
result["warm_ms"] = [seconds * 1000 for seconds in warm]
result["captured"] = sum('"modelops.capture"' in line for line in lines)
print("RESULT " + json.dumps(result), flush=True)
"""

# What each measurement runs; `env` is added to the image's environment.
LAMBDA_LOGS = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}  # as deployed
RUNS: dict[str, dict[str, Any]] = {
    "lean": {"mode": "lambda", "handler": "services.lambda_handler.handler", "env": LAMBDA_LOGS},
    "lean+capture": {
        "mode": "lambda",
        "handler": "services.lambda_handler.handler",
        "env": {**LAMBDA_LOGS, "MODELOPS_CAPTURE": "log"},
    },
    "anchor": {"mode": "lambda", "handler": "bench.lambda_anchor.handler", "env": LAMBDA_LOGS},
    "floor": {"mode": "lambda", "handler": "bench.lambda_floor.handler", "env": LAMBDA_LOGS},
    "container": {"mode": "http", "env": {}},
}
LAMBDA = [name for name, run in RUNS.items() if run["mode"] == "lambda"]


def measure(tag: str, bench_dir: Path, name: str, event: dict[str, Any], warm: int) -> dict:
    """Run one measurement (`RUNS[name]`) in a fresh container of `tag`."""
    plan = {**RUNS[name], "event": event, "warm": warm, "timeout": 180}
    result = subprocess.run(
        ["docker", "run", "--rm", "-i", "--label", img.OWNER_LABEL, "--read-only",
         "--tmpfs", "/tmp", "-v", f"{bench_dir}:{MOUNT}:ro", "--entrypoint", "python",
         tag, f"{MOUNT}/driver.py", json.dumps(plan)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        output = (result.stdout + result.stderr)[-3000:]
        raise SystemExit(f"error: bench-image: {name} in {tag} failed:\n{output}")
    found: dict[str, Any] = json.loads(lines[0].removeprefix("RESULT "))
    if found["statuses"] != [200]:
        raise SystemExit(f"error: bench-image: {name} answered {found}")
    if name == "lean+capture" and found["captured"] != warm + 1:
        raise SystemExit(f"error: bench-image: capture wrote {found['captured']} of {warm + 1}")
    return found


def bench_files(folder: Path) -> Path:
    """The files mounted at MOUNT: the driver, the fake Runtime API, the anchor and the floor."""
    (folder / "driver.py").write_text(DRIVER)
    shutil.copy(ANCHOR, folder / "lambda_anchor.py")
    (folder / "lambda_floor.py").write_text(FLOOR)
    shutil.copy(lambda_runtime.__file__, folder / "fake_runtime.py")
    folder.chmod(0o755)  # readable by the image's user (uid 10001)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


def image_of_kind(kind: str, scratch: Path) -> str:
    """The image of a pipeline whose only candidate is `kind`; built once per image input."""
    copy = copy_repository(scratch / kind)
    # What the image's bytes come from (not src/modelops/delivery: the fake Runtime API the
    # benchmark uses is mounted from this checkout, not taken from the image)
    inputs = ("src/modelops/serving", "src/modelops/pipeline", "src/modelops/params.py",
              "services", "pipelines", "Dockerfile", "pyproject.toml", "uv.lock",
              "params.yaml", "dvc.yaml", "contract.yaml")  # fmt: skip
    trees = subprocess.run(
        ["git", "rev-parse", *(f"HEAD:{name}" for name in inputs)],
        cwd=copy.root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    tag = (
        f"modelops-bench-{kind.replace('_', '-')}:{hashlib.sha256(trees.encode()).hexdigest()[:12]}"
    )
    if img.docker("image", "inspect", tag, check=False).returncode == 0:
        print(f"{kind}: reusing {tag}", flush=True)
        return tag
    candidates = copy.params()["train"]["candidates"]
    if kind not in candidates:
        raise SystemExit(f"error: bench-image: params.yaml train.candidates has no {kind}")
    copy.set_params({"train": {"candidates": {k: None for k in candidates if k != kind}}})
    own = Project(copy.root)
    env = {**own.env(), "PYTHONPATH": str(copy.root / "src"), "IMAGE_NAME": tag.split(":")[0]}
    print(f"{kind}: dvc repro in {copy.root} ...", flush=True)
    for command in (["dvc", "repro"], [sys.executable, "-m", "modelops.delivery.image", "build"]):
        done = subprocess.run(command, cwd=copy.root, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"error: bench-image: {' '.join(command)} failed for {kind}:\n"
                             f"{(done.stdout + done.stderr)[-3000:]}")  # fmt: skip
    # its last line: `built <name>:<commit>-v<version>: <image id>`
    built, image_id = done.stdout.strip().splitlines()[-1].removeprefix("built ").rsplit(": ", 1)
    img.docker("tag", image_id, tag)
    for name in (built, f"{tag.split(':')[0]}:latest"):  # only the keyed tag stays
        img.docker("rmi", name, check=False)
    return tag


def bench(tag: str, runs: int, warm: int, bench_dir: Path) -> dict[str, Any]:
    """Every figure of one image, in rounds (each round: every measurement once)."""
    card = json.loads(img.invoke_lambda_handler(tag, [lambda_event("GET", "/metadata")])[0]["body"])
    serving = json.loads(
        img.docker("run", "--rm", "--entrypoint", "cat", tag, "/app/model/serving.json").stdout
    )
    body = json.dumps({"instances": [img.example_row(card)]})
    event = lambda_event("POST", "/predict", body)
    names = [n for n in RUNS if n != "floor" or serving["format"] == "xgboost"]
    found: dict[str, list[dict]] = {name: [] for name in names}
    for round_ in range(runs):
        for name in names:
            found[name].append(measure(tag, bench_dir, name, event, warm))
        print(f"{tag}: round {round_ + 1}/{runs} done; load average {os.getloadavg()}", flush=True)
    cold = {name: [r["cold_s"] for r in found[name]] for name in names if name in LAMBDA}
    # each run's p50; figures are medians over runs, ratios medians of the rounds' ratios
    warm_p50 = {name: [statistics.median(r["warm_ms"]) for r in found[name]] for name in names}
    cpu = {name: [r["cpu_ms"] for r in found[name]] for name in names}
    pairs = {
        "cold lean/anchor": (cold["lean"], cold["anchor"]),
        "cold lean/floor": (cold["lean"], cold.get("floor")),
        "warm lean p50 / container c=1 p50": (warm_p50["lean"], warm_p50["container"]),
        "warm capture on/off p50": (warm_p50["lean+capture"], warm_p50["lean"]),
        "warm lean CPU / container CPU": (cpu["lean"], cpu["container"]),
        "warm capture on/off CPU": (cpu["lean+capture"], cpu["lean"]),
    }
    size = int(img.docker("image", "inspect", tag, "--format", "{{.Size}}").stdout)
    return {
        "image": tag,
        "serving_format": serving["format"],
        "size_mb": round(size / 1e6, 1),
        "runs": runs,
        "warm_invocations_per_run": warm,
        "request_body": body,
        "cold_init_s": {name: round(statistics.median(v), 3) for name, v in cold.items()},
        "cold_init_s_all": {name: [round(x, 3) for x in v] for name, v in cold.items()},
        "container_ready_s": [round(r["ready_s"], 2) for r in found["container"]],
        "warm_p50_ms": {name: round(statistics.median(v), 3) for name, v in warm_p50.items()},
        "warm_p50_ms_all": {name: [round(x, 3) for x in v] for name, v in warm_p50.items()},
        "cpu_ms_per_request": {name: round(statistics.median(v), 3) for name, v in cpu.items()},
        "cpu_ms_per_request_all": {name: [round(x, 3) for x in v] for name, v in cpu.items()},
        "warm_p99_ms": {
            name: round(statistics.median(p99(r["warm_ms"]) for r in found[name]), 3)
            for name in names
        },
        "ratios": {
            key: round(paired_ratio(ours, anchor), 3)
            for key, (ours, anchor) in pairs.items()
            if anchor is not None
        },
        "load_average_after": os.getloadavg(),
    }


def p99(values: list[float]) -> float:
    """The 99th percentile."""
    return statistics.quantiles(values, n=100)[98]


TARGETS = {
    "cold lean/anchor": "<= 0.35x (XGBoost)",
    "cold lean/floor": "<= 2x",
    "warm lean p50 / container c=1 p50": "<= 1.0x",
    "warm capture on/off p50": "<= 1.10x",
    "warm lean CPU / container CPU": "(steadier under load)",
    "warm capture on/off CPU": "(steadier under load)",
}


def table(results: list[dict[str, Any]]) -> None:
    """One column per image."""

    def cells(pick: Any) -> list[str]:
        return [pick(r) for r in results]

    rows = [
        ["serving format", *cells(lambda r: r["serving_format"]), ""],
        ["image size (uncompressed)", *cells(lambda r: f"{r['size_mb']:.0f} MB"), ""],
    ]
    for name in ("lean", "anchor", "floor"):
        rows.append([f"Lambda cold init: {name}", *cells(
            lambda r, n=name: f"{r['cold_init_s'][n]:.2f} s" if n in r["cold_init_s"] else "-"
        ), ""])  # fmt: skip
    rows.append(["container: process start -> ready", *cells(
        lambda r: f"{statistics.median(r['container_ready_s']):.2f} s"
    ), ""])  # fmt: skip
    for name in RUNS:
        rows.append([f"warm CPU per request: {name}", *cells(
            lambda r, n=name: f"{r['cpu_ms_per_request'][n]:.3f} ms"
            if n in r["cpu_ms_per_request"] else "-"
        ), ""])  # fmt: skip
    for name in RUNS:
        rows.append([f"warm p50: {name}", *cells(
            lambda r, n=name: f"{r['warm_p50_ms'][n]:.2f} ms" if n in r["warm_p50_ms"] else "-"
        ), ""])  # fmt: skip
    for ratio, target in TARGETS.items():
        rows.append([ratio, *cells(
            lambda r, k=ratio: f"{r['ratios'][k]:.2f}x" if k in r["ratios"] else "-"
        ), target])  # fmt: skip
    print_table(["measure (medians)", *cells(lambda r: r["image"]), "target"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--kind", nargs="+", choices=KINDS, help="measure the image of a pipeline with only K"
    )
    parser.add_argument("--runs", type=int, default=5, help="rounds (medians over them)")
    parser.add_argument("--warm", type=int, default=300, help="warm invocations per run")
    args = parser.parse_args()
    reason = img.engine_unavailable()
    if reason:
        raise SystemExit(f"error: bench-image: {reason}")
    with tempfile.TemporaryDirectory(prefix="bench-image-") as scratch:
        if args.kind:
            tags = [image_of_kind(kind, Path(scratch)) for kind in args.kind]
        else:
            try:
                tags = [img.require_image(img.image_tag(img.packaged_model()))]
            except img.ImageError as exc:
                raise SystemExit(f"error: bench-image: {exc}") from None
        files = Path(scratch) / "mounted"
        files.mkdir()
        bench_files(files)
        results = [bench(tag, args.runs, args.warm, files) for tag in tags]
    table(results)
    print(f"\nwrote {write_report('image', {'images': results})}")


if __name__ == "__main__":
    main()
