"""The entry point of a stage's EMR Serverless job run (uploaded as `job.py` by spark-package).

Its one argument is the run's plan, written by `make spark-submit` (`submit.job_plan`): JSON with
the stage's module and arguments, the files to fetch into the driver's working directory before
the stage (its small inputs: params.yaml, contract.yaml, a models folder, metrics), the files to
store after it (its small outputs), and the table pointers to move. Tables are not copied: the
stage reads and writes them as s3:// URIs on the executors, each output in a prefix of its own
run, and only when the stage succeeded does `<table>.latest` (one small object, replaced in one
PUT) name that prefix, so a failed run leaves the outputs of the last good one in place.

The driver's working directory is not kept after the run, so whatever must outlive it goes to S3
here. The module needs only the standard library and boto3 (in the job's environment), and runs
the stage in this process, so the stage's SparkSession is the one spark-submit configured.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

SUBMITTED_ENV = "MODELOPS_SPARK_SUBMITTED"  # the session takes its master from spark-submit


def _split(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def fetch(s3: Any, uri: str, local: str) -> int:
    """Copy the object at `uri`, or every object under `uri/`, to `local`; how many files."""
    bucket, key = _split(uri)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
    count = 0
    for page in pages:
        for item in page.get("Contents", []):
            name = item["Key"]
            if name == key:
                target = Path(local)
            elif name.startswith(key.rstrip("/") + "/"):
                target = Path(local) / name[len(key.rstrip("/")) + 1 :]
            else:
                continue  # a sibling sharing the prefix (models/best2 for models/best)
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, name, str(target))
            count += 1
    return count


def store(s3: Any, local: str, uri: str) -> int:
    """Copy the file or folder `local` to `uri` (a folder's files under `uri/`); how many."""
    bucket, key = _split(uri)
    path = Path(local)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        name = key if file == path else f"{key}/{file.relative_to(path).as_posix()}"
        s3.upload_file(str(file), bucket, name)
    return len(files)


def run(plan: dict[str, Any], s3: Any) -> int:
    """Fetch the inputs, run the stage, and only on success store its outputs; its exit code."""
    for uri, local in plan["fetch"]:
        if fetch(s3, uri, local) == 0:
            print(f"error: job: nothing at {uri} (for {local})", file=sys.stderr)
            return 1
    os.environ[SUBMITTED_ENV] = "1"
    sys.argv = [plan["module"], *plan["args"]]
    try:
        runpy.run_module(plan["module"], run_name="__main__", alter_sys=True)
        code: int | str | None = 0
    except SystemExit as exit_:
        code = exit_.code
    if code not in (0, None):
        print(f"job: {plan['module']} exited {code}; no output was stored", file=sys.stderr)
        return code if isinstance(code, int) else 1
    for local, uri in plan["store"]:
        if not Path(local).exists():
            print(f"error: job: the stage wrote no {local}", file=sys.stderr)
            return 1
        print(f"job: stored {store(s3, local, uri)} file(s) of {local} at {uri}")
    for pointer, table in plan["pointers"]:
        bucket, key = _split(pointer)
        s3.put_object(Bucket=bucket, Key=key, Body=table.encode())
        print(f"job: {pointer} -> {table}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`job.py PLAN_JSON`, as EMR Serverless starts it."""
    import boto3

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: job.py PLAN_JSON (written by make spark-submit)", file=sys.stderr)
        return 2
    return run(json.loads(argv[0]), boto3.client("s3"))


if __name__ == "__main__":
    raise SystemExit(main())
