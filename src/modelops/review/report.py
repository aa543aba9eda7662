"""The pull-request report: what changed between a base git ref and the working tree, for review.

Diffs come from DVC (`dvc params diff`, `dvc metrics diff`, `dvc plots diff`); this module only
lays them out. The gate line re-applies `modelops.pipeline.selection.decide` to the head's
candidate metrics with the base's selected model as the champion, so a reviewer sees whether
the change would pass against what `BASE` ships, next to the decision the pipeline recorded in
`metrics/selected.json`.

Run it as `make report BASE=<ref>` (or `python -m modelops.review.report --base <ref>`): it writes
`<output>/report.md` and `<output>/plots/*.png`, replacing the folder whole only on success.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARKER = "<!-- modelops-report -->"
GATE_REFUSED_EXIT = 3  # --strict: the report was written, and the gate refuses the change
HEAD_LABEL = "workspace"  # how DVC names the working tree in its diffs
CANDIDATES_FILE = "metrics/candidates.json"
SELECTED_FILE = "metrics/selected.json"
MODEL_CARD_FILE = "models/best/model_card.json"
VALIDATION_FILE = "reports/validation/summary.json"
PARAMS_FILE = "params.yaml"
CONTRACT_FILE = "contract.yaml"  # the committed data contract (a dep of validate in dvc.yaml)
# Plot kinds in the order a reviewer reads them; titles for the figure when DVC gives none.
PLOT_KINDS = {
    "roc": "ROC curve",
    "precision_recall": "Precision-recall",
    "calibration": "Calibration",
    "confusion": "Confusion matrix",
    "predicted_vs_actual": "Predicted vs actual",
    "residuals": "Residuals",
}
DIAGONALS = {"roc", "calibration", "predicted_vs_actual"}  # the chance/perfect line
SCATTERS = {"predicted_vs_actual", "residuals"}  # points, not curves
# Which way a metric improves, by its last name part: the change column says better or worse.
HIGHER_IS_BETTER = {
    "roc_auc", "average_precision", "pr_auc", "accuracy", "balanced_accuracy", "f1", "f1_macro",
    "precision", "recall", "r2", "score",
}  # fmt: skip
LOWER_IS_BETTER = {"log_loss", "brier", "brier_score", "mse", "rmse", "mae", "mape"}


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
        return self.old != self.new


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
        {kind: {"title", "x", "y", "series": {candidate: {rev: [points]}}}}

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
            title = content.get("title", PLOT_KINDS.get(kind, kind))
            entry = kinds.setdefault(
                kind, {"title": title.get("text", kind) if isinstance(title, dict) else title}
            )
            entry.update(x=x, y=y)
            series = entry.setdefault("series", {}).setdefault(candidate, {})
            for point in content.get("data", {}).get("values", []):
                series.setdefault(point.get("rev"), []).append(point)
    return kinds


def render_plots(
    kinds: dict[str, dict[str, Any]],
    winners: dict[str, str | None],
    base_label: str,
    out_dir: Path,
) -> dict[str, str]:
    """Draw base (dashed) vs head (solid) per plot kind to PNG files; returns kind -> file name."""
    import matplotlib

    matplotlib.use("Agg")  # no display on CI runners
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    ordered = sorted(kinds, key=lambda k: list(PLOT_KINDS).index(k) if k in PLOT_KINDS else 99)
    for kind in ordered:
        spec = kinds[kind]
        if kind == "confusion":
            fig = confusion_figure(plt, spec, winners, base_label)
        else:
            fig = curve_figure(plt, kind, spec, winners, base_label)
        if fig is None:
            continue
        name = f"{kind}.png"
        fig.savefig(out_dir / name, dpi=90, bbox_inches="tight")
        plt.close(fig)
        written[kind] = name
    return written


def curve_figure(plt, kind, spec, winners, base_label):
    """One axes: each candidate a colour, head solid, base dashed; the selected model thicker."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (candidate, revs) in enumerate(sorted(spec["series"].items())):
        colour = colours[index % len(colours)]
        for rev, style, label in ((base_label, "--", "base"), (HEAD_LABEL, "-", "head")):
            points = revs.get(rev)
            if not points:
                continue
            width = 2.4 if candidate == winners.get(label) else 1.2
            xs = [float(p[spec["x"]]) for p in points]
            ys = [float(p[spec["y"]]) for p in points]
            if kind in SCATTERS:  # base as hollow rings, head as dots
                marker = {"marker": "o", "markersize": 3, "linestyle": "none"}
                if label == "base":
                    marker["markerfacecolor"] = "none"
                ax.plot(xs, ys, color=colour, label=f"{candidate} ({label})", **marker)
                continue
            ax.plot(xs, ys, style, color=colour, linewidth=width, label=f"{candidate} ({label})")
    if kind in DIAGONALS:
        low, high = (0, 1) if kind not in SCATTERS else ax.get_xlim()
        ax.plot([low, high], [low, high], ":", color="grey", linewidth=0.8)
    ax.set(title=f"{spec['title']}: base dashed, head solid", xlabel=spec["x"], ylabel=spec["y"])
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return fig


def confusion_figure(plt, spec, winners, base_label):
    """The selected model's confusion matrix at base and at head, side by side."""
    panels = []
    for rev, label in ((base_label, "base"), (HEAD_LABEL, "head")):
        winner = winners.get(label)
        points = spec["series"].get(winner, {}).get(rev) if winner else None
        if points:
            panels.append((label, winner, points))
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.6), squeeze=False)
    for ax, (label, winner, points) in zip(axes[0], panels, strict=True):
        classes = sorted({str(p[spec["x"]]) for p in points} | {str(p[spec["y"]]) for p in points})
        counts = [[0] * len(classes) for _ in classes]
        for point in points:
            counts[classes.index(str(point[spec["y"]]))][classes.index(str(point[spec["x"]]))] += 1
        ax.imshow(counts, cmap="Blues")
        darkest = max(max(values) for values in counts)
        for row, values in enumerate(counts):
            for col, value in enumerate(values):
                colour = "white" if value > darkest / 2 else "black"  # readable on dark cells
                ax.text(col, row, str(value), ha="center", va="center", color=colour)
        ax.set_xticks(range(len(classes)), classes)
        ax.set_yticks(range(len(classes)), classes)
        ax.set(title=f"{label}: {winner}", xlabel=spec["x"], ylabel=spec["y"])
    fig.suptitle(spec["title"])
    return fig


def git_head(repo: Path) -> tuple[str, bool]:
    """The checked-out commit and whether the working tree differs from it."""
    head = run(["git", "rev-parse", "HEAD"], repo).strip()
    dirty = bool(run(["git", "status", "--porcelain", "--untracked-files=no"], repo).strip())
    return head, dirty


def build_report(
    repo: Path, base: str, image_dir: Path | None = None, run_url: str | None = None
) -> Report:
    """Compare the working tree of `repo` with `base`; draw plots into `image_dir` if given."""
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
    images: dict[str, str] = {}
    if image_dir is not None:
        try:
            kinds = plot_series(repo, base_commit)
        except ReportError as exc:
            warnings.append(f"plots not drawn: {exc}")
        else:
            drawn = render_plots(kinds, winners, base_commit, image_dir)
            images = {kind: f"{image_dir.name}/{name}" for kind, name in drawn.items()}

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
        images=images,
        selection_stale=stale,
        run_url=run_url,
        contract_diff=run(["git", "diff", base_commit, "--", CONTRACT_FILE], repo),
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


def fmt(value: Any) -> str:
    """A value as a table cell: numbers to 6 significant digits, missing as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def direction(name: str, diff: float) -> str:
    """Whether a metric's change is "better" or "worse"; "" when its direction is unknown."""
    metric = name.rsplit(".", 1)[-1]
    if not diff or (metric not in HIGHER_IS_BETTER and metric not in LOWER_IS_BETTER):
        return ""
    return "better" if (diff > 0) == (metric in HIGHER_IS_BETTER) else "worse"


def change(row: Row) -> str:
    """The change column: the signed difference (better/worse for a known metric), or a word.

    Non-numbers show 'added', 'removed' or 'changed'.
    """
    if isinstance(row.diff, int | float) and not isinstance(row.diff, bool):
        if not row.diff:
            return "0"
        word = direction(row.name, row.diff)
        icon = {"better": "🟢 better", "worse": "🔴 worse"}.get(word)
        return f"{row.diff:+.6g} {icon}" if icon else f"{row.diff:+.6g}"
    if row.old is None:
        return "added"
    if row.new is None:
        return "removed"
    return "changed" if row.changed else ""


def candidate_cell(row: Row | None) -> str:
    """A head value with its change in brackets, bold when it changed."""
    if row is None:
        return "—"
    if not row.changed:
        return fmt(row.new)
    return f"**{fmt(row.new)}** ({change(row)})"


def table(header: Sequence[str], rows: list[Sequence[str]]) -> list[str]:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_markdown(report: Report, artifact_note: str | None = None) -> str:
    """The report as GitHub-flavoured markdown, starting with the hidden marker."""
    head = report.head_commit[:8] + (" + uncommitted changes" if report.dirty else "")
    base = f"`{report.base}` ({report.base_commit[:8]})"
    icon = {True: "✅", False: "❌", None: "⚠️"}[report.gate_passed]
    verdict = {True: "passes", False: "refuses", None: "not checked"}[report.gate_passed]
    out = [
        MARKER,
        f"## modelops report: `{head}` vs {base}",
        "",
        f"**Gate vs base: {icon} {verdict}** — {report.gate}",
        "",
    ]
    if report.run_url:
        out += [f"From [this CI run]({report.run_url}) (logs, artifact with the full report).", ""]
    stale_note = " — ⚠️ stale: the previous accepted selection" if report.selection_stale else ""
    if report.selection_stale:
        out += [
            "> [!WARNING]",
            "> **The selected model and model card below are not from this change.** The select "
            "stage refused this change's candidates (or did not run), so `models/best` still "
            "holds the previous accepted model; the candidates table is this change's.",
            "",
        ]
    if report.recorded_reason:
        out += [f"Recorded by `dvc repro` (vs the registry's champion): {report.recorded_reason}"]
        out += [""]
    out += [f"> ⚠️ {warning}" for warning in report.warnings]
    out += [""] if report.warnings else []

    out += ["### Params changed", ""]
    if report.params:
        out += table(
            ["param", "base", "head", "change"],
            [[f"`{r.name}`", fmt(r.old), fmt(r.new), change(r)] for r in report.params],
        )
    else:
        out += [f"No params changed (`dvc params diff {report.base}`)."]

    out += ["", f"### Selected model{stale_note}", ""]
    if report.selected:
        out += table(
            ["", "base", "head", "change"],
            [
                [f"`{r.name}`", fmt(r.old), fmt(r.new), change(r)]
                for r in report.selected
                if r.name not in ("reason", "ranking")
            ],
        )
    else:
        out += [f"No {SELECTED_FILE} at either revision."]

    out += ["", "### Candidates (head, change vs base)", ""]
    if report.candidates:
        metrics = sorted(
            {r.name for rows in report.candidates.values() for r in rows}
            - {r.name for rows in report.candidates.values() for r in rows if "." in r.name}
        )  # per-class scores (per_class.<label>.f1 ...) stay in the metrics file
        cells = []
        for candidate, rows in sorted(report.candidates.items()):
            by_name = {r.name: r for r in rows}
            cells.append([candidate] + [candidate_cell(by_name.get(m)) for m in metrics])
        out += table(["candidate", *metrics], cells)
    else:
        out += [f"No {CANDIDATES_FILE} at either revision."]

    out += ["", "### Data validation", ""]
    if report.validation:
        v = report.validation
        status = "✅ passed" if v.get("success") else "❌ failed"
        contract = v.get("contract") or {}
        out += [
            f"{status}: {v.get('expectations_evaluated')} expectations on {v.get('rows')} rows, "
            f"{v.get('expectations_failed')} failed; task {fmt(v.get('task'))} "
            f"({fmt(v.get('task_reason'))}); {fmt(v.get('target_null_rows', 0))} rows without "
            "a target dropped."
        ]
        if contract.get("re_inferred"):
            out += [f"The contract was re-inferred: {contract.get('reason')}."]
        out += [f"- {failure.get('message')}" for failure in v.get("failures", [])]
    else:
        out += ["No validation summary in the working tree."]
    out += ["", f"### Data contract (`{CONTRACT_FILE}`)", ""]
    if report.contract_diff.strip():
        out += ["<details open><summary>changed vs base</summary>", "", "```diff"]
        out += [report.contract_diff.rstrip(), "```", "</details>"]
    else:
        out += ["Unchanged."]

    out += ["", f"### Model card{stale_note}", ""]
    if report.model_card:
        card = report.model_card
        keys = ("name", "version", "task", "target", "candidate", "threshold", "data_hash")
        rows = [[key, fmt(card.get(key))] for key in keys]
        lineage = report.lineage or {}
        rows += [
            [key, fmt(lineage.get(key))]
            for key in ("registry_version", "mlflow_run_id", "trained_at", "git_commit")
        ]
        rows.append(["features", fmt(len(card.get("feature_schema", [])))])
        out += table(["field", "value"], rows)
        out += ["", "<details><summary>full model card</summary>", "", "```json"]
        out += [json.dumps(card, indent=2, sort_keys=True), "```", "</details>"]
    else:
        out += ["No model card in the working tree."]

    out += ["", "### Plots (base dashed, head solid; selected model thicker)", ""]
    if report.images:
        out += [f"![{PLOT_KINDS.get(k, k)}]({path})" for k, path in report.images.items()]
    else:
        out += ["No plots drawn."]
    if artifact_note:
        out += ["", artifact_note]
    return "\n".join(out) + "\n"


IMAGE_LINK = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<path>[^)\s]+\.png)\)")


def rewrite_images(markdown: str, resolve: Callable[[str, str], str]) -> str:
    """Replace each `![alt](relative.png)` by `resolve(alt, path)` (a URL'd image or a note).

    Relative image paths render in the artifact and locally, not in a PR comment or job summary:
    those need hosted URLs, or a pointer to where the images are.
    """
    return IMAGE_LINK.sub(lambda m: resolve(m["alt"], m["path"]), markdown)


def without_images(markdown: str, where: str) -> str:
    """The report with each image replaced by a line saying where to find it."""
    return rewrite_images(markdown, lambda alt, path: f"- {alt}: `{path}` in {where}")


def write_report(
    repo: Path,
    base: str,
    output: Path,
    artifact_note: str | None = None,
    run_url: str | None = None,
) -> tuple[Path, Report]:
    """Build the report into `output/` (report.md, plots/); replace the folder only on success."""
    from modelops.storage import replaced_directory

    with replaced_directory(output) as staging:
        report = build_report(repo, base, staging / "plots", run_url=run_url)
        (staging / "report.md").write_text(render_markdown(report, artifact_note))
    return output / "report.md", report


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `python -m modelops.review.report --base REF [--output DIR]`."""
    parser = argparse.ArgumentParser(prog="python -m modelops.review.report", description=__doc__)
    parser.add_argument("--base", required=True, help="git ref to compare the working tree with")
    parser.add_argument("--output", default="reports/pr", help="folder (default: %(default)s)")
    parser.add_argument("--repo", default=".", help="repository root (default: %(default)s)")
    parser.add_argument("--note", help="a line appended to the report (e.g. the artifact link)")
    parser.add_argument(
        "--run-url",
        default=os.environ.get("RUN_URL") or None,
        help="link to the CI run the report came from (default: $RUN_URL)",
    )
    parser.add_argument(
        "--summary",
        default=os.environ.get("GITHUB_STEP_SUMMARY"),
        help="also append the report to this file (default: $GITHUB_STEP_SUMMARY)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help=f"exit {GATE_REFUSED_EXIT} after writing the report when the gate refuses vs BASE",
    )
    args = parser.parse_args(argv)
    try:
        path, report = write_report(
            Path(args.repo).resolve(), args.base, Path(args.output), args.note, args.run_url
        )
    except ReportError as exc:
        print(f"error: report: {exc}", file=sys.stderr)
        return 1
    text = without_images(path.read_text(), "the `modelops-report` artifact of this run")
    if args.summary:
        with open(args.summary, "a") as summary:
            summary.write(text)
    print(f"wrote {path} and {len(list(path.parent.glob('plots/*.png')))} plot(s)")
    if args.strict and report.gate_passed is False:
        print(f"error: report: the gate refuses vs {args.base}: {report.gate}", file=sys.stderr)
        return GATE_REFUSED_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main())
