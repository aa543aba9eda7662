"""On Lambda the capture goes to the log: the real handler, Function URL events, JSON log format.

The handler runs in a process of its own with MODELOPS_CAPTURE=log and AWS_LAMBDA_LOG_FORMAT=JSON;
the root logger gets awslambdaric's JsonFormatter, as the runtime sets it up for that format, and
the capture lines go to standard output, one event each. They must read back, through the
monitor's CloudWatch/S3 parsing, as the requests' rows and answers, and nothing of the request
beyond the contract (headers, source IP) may appear.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from modelops.monitoring.reference import raw_values
from modelops.monitoring.window import parse_text

REPO = Path(__file__).resolve().parents[2]
DRIVER = """
import json, logging, sys
from awslambdaric.lambda_runtime_log_utils import JsonFormatter
handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(JsonFormatter())
logging.basicConfig(level=logging.INFO, handlers=[handler])
from services.lambda_handler import handler as lambda_handler

class Context:
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    def get_remaining_time_in_millis(self):
        return 30_000

for line in sys.stdin:
    answer = lambda_handler(json.loads(line), Context())
    print(json.dumps({"answer": answer}), flush=True)
"""


def event(rows):
    return {
        "version": "2.0",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "x-forwarded-for": "203.0.113.9",
            "authorization": "Bearer secret-token",
        },
        "requestContext": {
            "http": {
                "method": "POST",
                "path": "/predict",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "test",
            },
            "requestId": "req-1",
            "timeEpoch": 1_790_000_000_000,
        },
        "body": json.dumps({"instances": rows}),
        "isBase64Encoded": False,
    }


def test_lambda_writes_each_answered_request_as_one_structured_log_event(loop_model):
    test, features = loop_model["test"], loop_model["features"]
    rows = [
        dict(zip(features, values, strict=True))
        for values in zip(*(raw_values(test.head(7), f) for f in features), strict=True)
    ]
    events = [event(rows[:3]), event(rows[3:])]
    env = {
        **os.environ,
        "MODELOPS_MODEL_TAG": loop_model["tag"],
        "MODELOPS_CAPTURE": "log",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
    }
    env.pop("MODELOPS_CAPTURE_DIR", None)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input="".join(json.dumps(e) + "\n" for e in events),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers = [
        json.loads(line)["answer"] for line in done.stdout.splitlines() if '"answer"' in line
    ]
    assert [a["statusCode"] for a in answers] == [200, 200]
    records = list(parse_text(done.stdout))
    assert [len(r["rows"]) for r in records] == [3, 4]
    assert records[1]["rows"][0] == [rows[3][f] for f in features]
    labels = [p["label"] for a in answers for p in json.loads(a["body"])["predictions"]]
    assert [p["label"] for r in records for p in r["predictions"]] == labels
    capture_lines = [line for line in done.stdout.splitlines() if "modelops.capture" in line]
    assert len(capture_lines) == 2
    assert all(json.loads(line)["kind"] == "modelops.capture" for line in capture_lines)
    assert "203.0.113.9" not in "".join(capture_lines)
    assert "secret-token" not in done.stdout + done.stderr
