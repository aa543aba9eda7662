"""A small mixed-type table, its reference summary, and capture records built from it."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from modelops.monitoring.reference import build_reference
from modelops.serving.capture import Capture

SCHEMA = [
    {"name": "income", "type": "number", "nullable": True},
    {"name": "plan", "type": "category", "categories": ["basic", "plus", "pro"], "nullable": True},
    {"name": "active", "type": "boolean", "nullable": True},
]
CARD = {
    "name": "churn",
    "version": "3",
    "task": "binary",
    "classes": ["no", "yes"],
    "feature_schema": SCHEMA,
}
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def table(n, seed, shift=0.0, plan=None, flip=False, null_rate=0.05):
    """n raw rows: income ~ N(50 + shift*10, 10), plan 50/30/20, active 70% true, some nulls."""
    rng = np.random.default_rng(seed)
    income = rng.normal(50 + shift * 10, 10, n)
    plans = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2]).astype(object)
    if plan is not None:
        plans[plans == "basic"] = plan
    active = rng.random(n) < (0.3 if flip else 0.7)
    rows = []
    for i in range(n):
        row = {"income": float(income[i]), "plan": plans[i], "active": bool(active[i])}
        for name in row:
            if rng.random() < null_rate:
                row[name] = None
        rows.append(row)
    return rows


def predictions(rows, seed=0):
    """A classifier's answers: 'yes' more likely for low income."""
    rng = np.random.default_rng(seed)
    answers = []
    for row in rows:
        p = 0.8 if (row["income"] or 50) < 45 else 0.2
        p = min(max(p + rng.normal(0, 0.05), 0.01), 0.99)
        label = "yes" if p >= 0.5 else "no"
        answers.append({"label": label, "probabilities": {"no": 1 - p, "yes": p}, "probability": p})
    return answers


def columns(rows):
    return {entry["name"]: [r.get(entry["name"]) for r in rows] for entry in SCHEMA}


@pytest.fixture(scope="session")
def reference():
    train = table(4000, seed=1)
    return build_reference(columns(train), SCHEMA, CARD, predictions(table(1000, 2)), bins=100)


class Records:
    """A sink that keeps the capture records."""

    def __init__(self):
        self.records = []

    def defer(self, stamp, build):
        self.records.append(json.loads(build()))

    def flush(self):
        pass


def capture_records(rows, start=NOW - timedelta(hours=1), per_request=10):
    """Capture records of `rows` as the service writes them, one request per `per_request` rows."""
    sink = Records()
    clock = [start.timestamp()]
    capture = Capture(SCHEMA, CARD, sink, clock=lambda: clock[0])
    for i in range(0, len(rows), per_request):
        chunk = rows[i : i + per_request]
        capture.record(chunk, predictions(chunk, seed=i), request_id=f"r{i}")
        clock[0] += 1.0
    return sink.records
