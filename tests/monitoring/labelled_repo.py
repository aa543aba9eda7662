"""A small real project whose `data.source` is a DVC import of a labelled file (for refresh tests).

`dvc import-url` of a local file behaves as for s3:// or https:// (DVC records the source's hash
and `dvc update` fetches a changed source), without a network. Its one stage counts the rows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

STAGE = """\
stages:
  count:
    cmd: python count.py
    deps:
      - count.py
      - data/external
    metrics:
      - metrics.json:
          cache: false
"""
# Stands in for a gate: refuses (exit 3) a table of more than 9 rows, as `select` fails dvc repro.
COUNT = """\
import json, sys
rows = len(open("data/external/labels.csv").readlines()) - 1
if rows > 9:
    sys.exit("gate: refused, %d rows" % rows)
json.dump({"rows": rows}, open("metrics.json", "w"))
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def dvc(root: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, check=True, capture_output=True)


def make_labelled_repo(root: Path, rows: int = 3) -> Path:
    """A committed git + DVC project under `root`; returns the labelled source file (outside)."""
    source = root.parent / f"{root.name}-labels.csv"
    write_labels(source, rows)
    root.mkdir(parents=True)
    git(root, "init", "-q")
    dvc(root, "init", "-q")
    dvc(root, "config", "core.analytics", "false")
    (root / "data/external").mkdir(parents=True)
    dvc(root, "import-url", str(source), "data/external/labels.csv")
    (root / "dvc.yaml").write_text(STAGE)
    (root / "count.py").write_text(COUNT)
    (root / "params.yaml").write_text("data:\n  source: data/external/labels.csv\n")
    dvc(root, "repro")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "labelled project")
    return source


def write_labels(path: Path, rows: int) -> None:
    """`rows` labelled rows (plus the header)."""
    path.write_text("x,target\n" + "".join(f"{i},{i % 2}\n" for i in range(rows)))
