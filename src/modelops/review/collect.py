"""Collect what the PR report shows: git and DVC diffs, the pipeline's records, the gate vs base.

Diffs come from DVC (`dvc params diff`, `dvc metrics diff`, `dvc plots diff`). The gate line
re-applies `modelops.pipeline.selection.decide` to the head's candidate metrics with the base's
selected model as the champion, so a reviewer sees whether the change would pass against what
`BASE` ships, next to the decision the pipeline recorded in `metrics/selected.json`.
Nothing here draws or formats: `plots` draws, `render` writes the markdown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEAD_LABEL = "workspace"  # how DVC names the working tree in its diffs
CANDIDATES_FILE = "metrics/candidates.json"
SELECTED_FILE = "metrics/selected.json"
MODEL_CARD_FILE = "models/best/model_card.json"
VALIDATION_FILE = "reports/validation/summary.json"
PARAMS_FILE = "params.yaml"
CONTRACT_FILE = "contract.yaml"  # the committed data contract (a dep of validate in dvc.yaml)


class ReportError(RuntimeError):
    """The report cannot be built; the message says what is wrong and what to do."""


@dataclass
class Row:
    """One line of a diff table: a name, the base and head values and their difference."""

    name: str
    old: Any
    new: Any
    diff: Any = None

    @property
    def changed(self) -> bool:
        """Whether the value differs between base and head."""
        return bool(self.old != self.new)


@dataclass
class Report:
    """Everything the markdown shows; built by `build_report`, rendered by `render_markdown`."""

    base: str
    base_commit: str
    head_commit: str
    dirty: bool
    params: list[Row]
    selected: list[Row]
    candidates: dict[str, list[Row]]
    gate: str
    gate_passed: bool | None
    recorded_reason: str | None
    warnings: list[str] = field(default_factory=list)
    selection_stale: bool = False  # models/best and the selection predate this change
    run_url: str | None = None
    validation: dict[str, Any] | None = None
    model_card: dict[str, Any] | None = None
    # registry version, run id, training time and commit of the card's model (from MLflow)
    lineage: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # plot kind -> path relative to report
    contract_diff: str = ""  # `git diff BASE -- contract.yaml`
    # the selected candidate at each side ("base", "head"): drawn thicker in the plots
    winners: dict[str, str | None] = field(default_factory=dict)
    # `dvc plots diff` data by kind (see `plot_series`); None when not collected or unavailable
    plot_data: dict[str, dict[str, Any]] | None = None


def run(cmd: Sequence[str], cwd: Path) -> str:
    """Run a command in the repository and return its stdout.

    Raises:
        ReportError: the command is missing or fails; carries its stderr.

    """
    try:
        result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ReportError(f"{cmd[0]}: command not found (run `make venv`)") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ReportError(f"`{' '.join(cmd)}` failed: {' '.join(detail[-3:])}")
    return result.stdout


def resolve_commit(repo: Path, ref: str) -> str:
    """The full commit id `ref` names.

    Raises:
        ReportError: `ref` is not a commit in this repository (e.g. a shallow CI checkout).

    """
    if not ref or ref.startswith("-"):
        raise ReportError(f"BASE={ref!r} is not a git ref; use e.g. BASE=origin/main or HEAD~1")
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise ReportError(
            f"BASE={ref!r} is not a commit in {repo} (in CI, check out with fetch-depth: 0 "
            "or fetch the base branch first)"
        )
    return result.stdout.strip()


def dvc_executable() -> str:
    """The `dvc` beside this interpreter (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "dvc"
    return str(beside) if beside.is_file() else "dvc"


def dvc_json(repo: Path, *args: str) -> Any:
    """Run a `dvc ... --json` command and parse its output."""
    out = run([dvc_executable(), *args, "--json"], repo)
    try:
        return json.loads(out) if out.strip() else {}
    except json.JSONDecodeError as exc:
        raise ReportError(f"`dvc {' '.join(args)} --json` printed no JSON: {exc}") from None


def file_at(repo: Path, commit: str, path: str) -> str | None:
    """A git-tracked file's text at `commit`, or None when it does not exist there."""
    result = subprocess.run(
        ["git", "show", f"{commit}:{path}"], cwd=repo, capture_output=True, text=True, check=False
    )
    return result.stdout if result.returncode == 0 else None


def read_optional_json(path: Path, warnings: list[str], what: str) -> Any:
    """Read a JSON output of the pipeline; note in `warnings` (not fail) when it is absent."""
    if not path.is_file():
        warnings.append(f"{what} ({path.name}) is missing: run `make run` (or `make pull`) first")
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        warnings.append(f"{what} ({path}) is not valid JSON: {exc}")
        return None


def rows_from_dvc(section: dict[str, Any]) -> list[Row]:
    """Rows from one file of `dvc params/metrics diff --json`, sorted by name."""
    return [
        Row(name, values.get("old"), values.get("new"), values.get("diff"))
        for name, values in sorted(section.items())
    ]


def split_candidates(rows: list[Row]) -> dict[str, list[Row]]:
    """`xgboost.roc_auc` rows grouped as {"xgboost": [Row("roc_auc", ...)]}."""
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        candidate, _, metric = row.name.partition(".")
        grouped.setdefault(candidate, []).append(Row(metric, row.old, row.new, row.diff))
    return grouped


def gate_against_base(
    repo: Path, base_commit: str, base_label: str, warnings: list[str]
) -> tuple[str, bool | None]:
    """Apply the pipeline's own gate to the head candidates, with BASE's selection as champion."""
    from modelops.params import ParamsError, parse_section, read_params_file
    from modelops.pipeline.selection import ChampionScore, GateRefused, decide

    try:
        select = parse_section(read_params_file(repo / PARAMS_FILE), "select")
    except ParamsError as exc:
        return f"cannot apply the gate: {exc}", False
    scores_path = repo / CANDIDATES_FILE
    if not scores_path.is_file():
        return f"cannot apply the gate: {CANDIDATES_FILE} is missing (run `make run`)", None
    scores = json.loads(scores_path.read_text())
    head_selected = repo / SELECTED_FILE
    task = "binary"
    if head_selected.is_file():
        task = json.loads(head_selected.read_text()).get("task", task)
    try:
        metric = select.metric_for(task)
    except ParamsError as exc:
        return f"cannot apply the gate: {exc}", False
    base_text = file_at(repo, base_commit, SELECTED_FILE)
    champion = None
    if base_text is not None:
        base_selected = json.loads(base_text)
        if (
            base_selected.get("metric") == metric
            and base_selected.get("task", "binary") == task
            and base_selected.get("score") is not None
        ):
            champion = ChampionScore(
                version=f"{base_selected.get('winner')} at {base_label}",
                score=float(base_selected["score"]),
                source=f"recorded in {SELECTED_FILE} at {base_label}",
            )
        else:
            warnings.append(
                f"the selection metric changed ({base_selected.get('metric')} -> "
                f"{metric}): the gate is checked without a base champion"
            )
    try:
        decision = decide(scores, select, champion, task)
    except GateRefused as exc:
        return str(exc), False
    return decision.reason, True


def check_selection_is_current(repo: Path, warnings: list[str]) -> tuple[str | None, bool]:
    """The recorded decision, and whether it is stale (then a warning says so).

    When the gate refuses, `select` keeps its last accepted outputs (dvc.yaml: persist): the
    selection record and models/best then describe an earlier change, not this one. That shows as
    the record's metrics not matching the candidates', or as another candidate now ranking first
    by the selection metric.
    """
    selected_path = repo / SELECTED_FILE
    candidates_path = repo / CANDIDATES_FILE
    if not selected_path.is_file() or not candidates_path.is_file():
        return None, False
    selected = json.loads(selected_path.read_text())
    candidates = json.loads(candidates_path.read_text())
    winner = selected.get("winner")
    stale = False
    if candidates.get(winner) != selected.get("metrics"):
        stale = True
        warnings.append(
            f"{SELECTED_FILE} does not match {CANDIDATES_FILE} for {winner!r}: the select stage "
            "refused the new candidates or was not rerun; the model in models/best is the old one"
        )
    else:
        best = best_candidate(repo, candidates)
        if best is not None and best != winner:
            stale = True
            warnings.append(
                f"the best candidate of this change is {best!r} but {SELECTED_FILE} records "
                f"{winner!r}: the select stage refused this change's candidates or was not "
                "rerun; the selection and the model card below are the previous accepted ones"
            )
    return selected.get("reason"), stale


def best_candidate(repo: Path, candidates: dict[str, dict[str, float]]) -> str | None:
    """The candidate `select` would rank first by params' metric, or None if unknown."""
    from modelops.params import ParamsError, parse_section, read_params_file
    from modelops.pipeline.selection import GateRefused, rank_candidates

    try:
        select = parse_section(read_params_file(repo / PARAMS_FILE), "select")
        selected = repo / SELECTED_FILE
        task = (
            json.loads(selected.read_text()).get("task", "binary")
            if selected.is_file()
            else "binary"
        )
        # `metric: auto` names no metric until the task does (roc_auc, f1_macro or r2)
        return rank_candidates(candidates, select.metric_for(task))[0][0]
    except (ParamsError, GateRefused, KeyError, IndexError, ValueError):
        return None


def plot_series(repo: Path, base_label: str) -> dict[str, dict[str, Any]]:
    """Plot data of both revisions from `dvc plots diff`, grouped by plot kind and candidate.

    Returns:
        {kind: {"title" (if DVC gives one), "x", "y", "series": {candidate: {rev: [points]}}}}

    """
    data = dvc_json(repo, "plots", "diff", base_label).get("data", {})
    kinds: dict[str, dict[str, Any]] = {}
    for source, renders in data.items():
        path = Path(source)
        kind, candidate = path.parent.name, path.stem
        for render in renders:
            content = render.get("content", {})
            encoding = content.get("encoding") or content.get("spec", {}).get("encoding", {})
            x, y = encoding.get("x", {}).get("field"), encoding.get("y", {}).get("field")
            if not x or not y:
                continue
            if kind not in kinds:  # the kind's first render names it; no title: `plots` names it
                title = content.get("title")
                named = "title" in content
                text = title.get("text", kind) if isinstance(title, dict) else title
                kinds[kind] = {"title": text} if named else {}
            entry = kinds[kind]
            entry.update(x=x, y=y)
            series = entry.setdefault("series", {}).setdefault(candidate, {})
            for point in content.get("data", {}).get("values", []):
                series.setdefault(point.get("rev"), []).append(point)
    return kinds


def git_head(repo: Path) -> tuple[str, bool]:
    """The checked-out commit and whether the working tree differs from it."""
    head = run(["git", "rev-parse", "HEAD"], repo).strip()
    dirty = bool(run(["git", "status", "--porcelain", "--untracked-files=no"], repo).strip())
    return head, dirty


def build_report(
    repo: Path, base: str, run_url: str | None = None, with_plots: bool = False
) -> Report:
    """Compare the working tree of `repo` with `base`; with `with_plots`, the plots' data too."""
    base_commit = resolve_commit(repo, base)
    head_commit, dirty = git_head(repo)
    warnings: list[str] = []
    # DVC labels revisions by the name it is given; the commit id keeps that label unambiguous.
    params = dvc_json(repo, "params", "diff", base_commit)
    metrics = dvc_json(repo, "metrics", "diff", base_commit, "--all")
    recorded, stale = check_selection_is_current(repo, warnings)
    gate, passed = gate_against_base(repo, base_commit, base, warnings)

    base_selected = json.loads(file_at(repo, base_commit, SELECTED_FILE) or "{}")
    head_selected = read_optional_json(repo / SELECTED_FILE, warnings, "the selection record")
    winners = {"base": base_selected.get("winner"), "head": (head_selected or {}).get("winner")}
    model_card = read_optional_json(repo / MODEL_CARD_FILE, warnings, "the model card")
    plot_data = None
    if with_plots:
        try:
            plot_data = plot_series(repo, base_commit)
        except ReportError as exc:
            warnings.append(f"plots not drawn: {exc}")
    return Report(
        base=base,
        base_commit=base_commit,
        head_commit=head_commit,
        dirty=dirty,
        params=[row for rows in params.values() for row in rows_from_dvc(rows)],
        selected=rows_from_dvc(metrics.get(SELECTED_FILE, {})),
        candidates=split_candidates(rows_from_dvc(metrics.get(CANDIDATES_FILE, {}))),
        gate=gate,
        gate_passed=passed,
        recorded_reason=recorded,
        warnings=warnings,
        validation=read_optional_json(repo / VALIDATION_FILE, warnings, "the validation summary"),
        model_card=model_card,
        lineage=card_lineage(repo, model_card, warnings),
        selection_stale=stale,
        run_url=run_url,
        contract_diff=run(["git", "diff", base_commit, "--", CONTRACT_FILE], repo),
        winners=winners,
        plot_data=plot_data,
    )


def card_lineage(repo: Path, card: dict[str, Any] | None, warnings: list[str]) -> dict[str, str]:
    """The registry's record of the card's model (the card itself holds no run id or time)."""
    if not card or not card.get("version"):
        return {}
    from modelops.pipeline.tracking import DEFAULT_DB, TrackingError, model_lineage, start_tracking

    if not os.environ.get("MLFLOW_TRACKING_URI") and not (repo / DEFAULT_DB).is_file():
        return {}
    try:
        start_tracking(repo)
        return model_lineage(str(card.get("name")), str(card["version"]))
    except TrackingError as exc:
        warnings.append(f"model lineage not read from MLflow: {exc}")
        return {}
