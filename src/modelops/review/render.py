"""The PR report as GitHub-flavoured markdown, and the rewriting of its image links."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from modelops.review.collect import CANDIDATES_FILE, CONTRACT_FILE, SELECTED_FILE, Report, Row
from modelops.review.plots import PLOT_KINDS

MARKER = "<!-- modelops-report -->"
# Which way a metric improves, by its last name part: the change column says better or worse.
HIGHER_IS_BETTER = {
    "roc_auc", "average_precision", "pr_auc", "accuracy", "balanced_accuracy", "f1", "f1_macro",
    "precision", "recall", "r2", "score",
}  # fmt: skip
LOWER_IS_BETTER = {"log_loss", "brier", "brier_score", "mse", "rmse", "mae", "mape"}


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


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
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
        fields = [[key, fmt(card.get(key))] for key in keys]
        lineage = report.lineage or {}
        fields += [
            [key, fmt(lineage.get(key))]
            for key in ("registry_version", "mlflow_run_id", "trained_at", "git_commit")
        ]
        fields.append(["features", fmt(len(card.get("feature_schema", [])))])
        out += table(["field", "value"], fields)
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
