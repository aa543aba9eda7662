"""The drift report: `drift.json` for machines, `drift.html` for people, a terminal summary."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from typing import Any

import numpy as np

from modelops.monitoring.drift import as_numbers
from modelops.monitoring.window import Window

TEST_LABELS = {
    "wasserstein_normed": "normalized Wasserstein",
    "jensen_shannon": "Jensen-Shannon (base 2)",
    "unseen_share": "share of unseen categories",
    "null_rate_change": "null-rate change",
}


def verdict_text(report: Mapping[str, Any]) -> str:
    """DRIFT / no drift / no verdict, as one word or two."""
    if report["drift"] is None:
        return "NO VERDICT"
    return "DRIFT" if report["drift"] else "no drift"


def _failed(feature: Mapping[str, Any]) -> str:
    parts = []
    for test in feature["tests"]:
        if test["drift"]:
            value = "inf" if test["value"] is None else f"{test['value']:.3f}"
            parts.append(
                f"{TEST_LABELS.get(test['test'], test['test'])} {value} > {test['threshold']:g}"
            )
    if feature.get("unseen"):
        parts.append("unseen: " + ", ".join(feature["unseen"][:5]))
    return "; ".join(parts)


def summary(report: Mapping[str, Any]) -> str:
    """A one-screen summary: verdict, rows, what drifted and why, estimates, contract check."""
    window = report["window"]
    lines = [
        f"monitor: {verdict_text(report)} — {report['rows']} rows "
        f"({window['first'] or '-'} .. {window['last'] or '-'}), reference "
        f"{report['reference']['model']['name']} v{report['reference']['model']['version']}",
    ]
    lines += [f"  note: {note}" for note in report["notes"]]
    for name in report["drifted_features"]:
        lines.append(f"  drifted  {name}: {_failed(report['features'][name])}")
    steady = [n for n, f in report["features"].items() if f["drift"] is False]
    if steady:
        lines.append(f"  steady   {', '.join(steady)}")
    unjudged = [n for n, f in report["features"].items() if f["drift"] is None]
    if unjudged:
        lines.append(f"  not judged (too few rows): {', '.join(unjudged)}")
    prediction = report["prediction"]
    state = {True: "DRIFT " + _failed(prediction), False: "steady", None: "not judged"}
    lines.append(f"  predictions: {state[prediction['drift']]}")
    estimates = prediction.get("estimates")
    if estimates and estimates.get("mean_confidence") is not None:
        reference = estimates.get("reference_mean_confidence")
        lines.append(
            f"  estimate (no labels): mean confidence {estimates['mean_confidence']:.3f} "
            f"vs {reference:.3f} on the test split"
            if reference is not None
            else ""
        )
    check = report.get("contract_check")
    if check is not None:
        lines.append(
            "  contract: ok"
            if check["success"]
            else "  contract: " + "; ".join(check["failures"][:5])
        )
    return "\n".join(line for line in lines if line)


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def plot_feature(
    name: str, reference: Mapping[str, Any], values: list[Any] | Mapping[str, float]
) -> str:
    """A PNG (base64) of the reference against the window for one feature."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.4, 3.2))
    try:
        numeric = reference["type"] in ("number", "value") and reference.get("histogram")
        if numeric and isinstance(values, list):  # the window's values of a number
            numbers, _ = as_numbers(values)
            present = numbers[~np.isnan(numbers)]
            edges = np.asarray(reference["histogram"]["edges"])
            counts = np.asarray(reference["histogram"]["counts"], dtype=float)
            width = np.diff(edges)
            axis.stairs(
                counts / counts.sum() / width,
                edges,
                fill=True,
                alpha=0.4,
                label="reference (training split)",
                color="tab:blue",
            )
            if len(present):
                # the window's own bins over both ranges: as many as its size supports
                low = min(edges[0], float(present.min()))
                high = max(edges[-1], float(present.max()))
                count = int(min(50, max(10, np.sqrt(len(present)))))
                window_counts, window_edges = np.histogram(present, bins=count, range=(low, high))
                axis.stairs(
                    window_counts / len(present) / np.diff(window_edges),
                    window_edges,
                    linewidth=2,
                    label="window (captured)",
                    color="tab:orange",
                )
            axis.set_ylabel("density")
            axis.set_xlabel(name)
        else:
            ref = reference["frequencies"]
            # frequencies, passed in by the caller for categories and predicted labels
            window = values if isinstance(values, Mapping) else {}
            keys = sorted(set(ref) | set(window), key=lambda k: (k not in ref, k))
            x = np.arange(len(keys))
            axis.bar(
                x - 0.2,
                [ref.get(k, 0) for k in keys],
                0.4,
                label="reference",
                color="tab:blue",
                alpha=0.6,
            )
            axis.bar(
                x + 0.2, [window.get(k, 0) for k in keys], 0.4, label="window", color="tab:orange"
            )
            axis.set_xticks(x, keys, rotation=30 if len(keys) > 6 else 0)
            axis.set_ylabel(
                "share of predictions"
                if reference["type"] == "label"
                else "share of non-missing values"
            )
        axis.set_title(name)
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return _png(figure)
    finally:
        plt.close(figure)


def render_html(report: Mapping[str, Any], reference: Mapping[str, Any], window: Window) -> str:
    """The report as one self-contained HTML page (plots inline)."""
    esc = html.escape
    verdict = verdict_text(report)
    colour = {"DRIFT": "#b42318", "no drift": "#067647"}.get(verdict, "#93370d")
    sections = []
    for name in [
        *report["drifted_features"],
        *(["prediction"] if report["prediction"]["drift"] else []),
    ]:
        if name == "prediction":
            entry, ref = report["prediction"], reference["prediction"]
            values: Any = list(window.values) if ref["kind"] == "value" else entry["frequencies"]
            ref = {**ref, "type": "value" if ref["kind"] == "value" else "label"}
            title = "predictions"
        else:
            entry, ref = report["features"][name], reference["features"][name]
            values = window.columns[name] if ref["type"] == "number" else entry["frequencies"]
            title = name
        image = plot_feature(title, ref, values)
        sections.append(
            f"<section><h3>{esc(title)}</h3><p>{esc(_failed(entry))}</p>"
            f'<img alt="reference vs window: {esc(title)}" src="data:image/png;base64,{image}">'
            "</section>"
        )
    rows = []
    for name, feature in report["features"].items():
        cells = "".join(
            f"<td>{esc(TEST_LABELS.get(t['test'], t['test']))}: "
            f"<b>{'inf' if t['value'] is None else format(t['value'], '.3f')}</b> "
            f"(threshold {t['threshold']:g})</td>"
            for t in feature["tests"]
        )
        mark = {True: "drift", False: "ok", None: "not judged"}[feature["drift"]]
        rows.append(
            f'<tr class="{mark}"><th>{esc(name)}</th><td>{esc(feature["type"])}</td>'
            f"<td>{mark}</td>{cells}</tr>"
        )
    estimates = report["prediction"].get("estimates") or {}
    estimate_html = ""
    if estimates.get("mean_confidence") is not None:
        estimate_html = (
            "<h2>Performance estimates (no labels)</h2>"
            f"<p><em>{esc(estimates['note'])}.</em></p><ul>"
            f"<li>mean confidence: window {estimates['mean_confidence']:.3f}, test split "
            f"{estimates['reference_mean_confidence']:.3f}</li>"
            f"<li>predicted-class mix: window {esc(_mix(estimates['predicted_class_mix']))}; "
            f"test split {esc(_mix(estimates['reference_predicted_class_mix']))}</li></ul>"
        )
    check = report.get("contract_check")
    check_html = ""
    if check is not None:
        items = (
            "".join(f"<li>{esc(f)}</li>" for f in check["failures"]) or "<li>all checks pass</li>"
        )
        check_html = f"<h2>Contract re-check (contract.yaml)</h2><ul>{items}</ul>"
    notes = "".join(f"<li>{esc(n)}</li>" for n in report["notes"])
    model = report["reference"]["model"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report: {esc(verdict)}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
  color: #1d2939; }}
.verdict {{ font-size: 1.6rem; font-weight: 700; color: {colour}; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9rem; }}
th, td {{ border-bottom: 1px solid #eaecf0; padding: 0.35rem 0.5rem; text-align: left; }}
tr.drift th, tr.drift td:nth-child(3) {{ color: #b42318; font-weight: 600; }}
section img {{ max-width: 100%; }}
</style></head><body>
<h1>Drift report</h1>
<p class="verdict">{esc(verdict)}</p>
<p>{report["rows"]} captured rows from {esc(str(report["window"]["first"]))} to
{esc(str(report["window"]["last"]))}, against the reference of {esc(model["name"])} version
{esc(model["version"])} (training split; predictions from the test split).
Thresholds from <code>params.yaml</code> <code>monitor:</code>; no verdict under
{report["min_rows"]} rows.</p>
<ul>{notes}</ul>
<h2>Drifted: reference vs window</h2>
{"".join(sections) or "<p>Nothing drifted.</p>"}
<h2>Every feature</h2>
<table><thead><tr><th>feature</th><th>type</th><th>verdict</th><th colspan="3">statistics</th>
</tr></thead><tbody>{"".join(rows)}</tbody></table>
{estimate_html}
{check_html}
<p><small>Numbers: {esc(report["statistics"]["number"])}. Categories and booleans:
{esc(report["statistics"]["category"])}.</small></p>
</body></html>
"""


def _mix(shares: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:.0%}" for k, v in shares.items())


def markdown(report: Mapping[str, Any], run_url: str | None = None) -> str:
    """The drift summary for a pull request or issue body."""
    lines = [
        f"**{verdict_text(report)}** in {report['rows']} captured rows "
        f"({report['window']['first']} .. {report['window']['last']}), against "
        f"{report['reference']['model']['name']} version "
        f"{report['reference']['model']['version']}.",
        "",
        "| feature | what drifted |",
        "|---|---|",
    ]
    for name in report["drifted_features"]:
        lines.append(f"| `{name}` | {_failed(report['features'][name])} |")
    if report["prediction"]["drift"]:
        lines.append(f"| predictions | {_failed(report['prediction'])} |")
    check = report.get("contract_check")
    if check is not None and not check["success"]:
        lines += ["", "Contract re-check: " + "; ".join(check["failures"][:10])]
    estimates = report["prediction"].get("estimates") or {}
    if estimates.get("mean_confidence") is not None:
        lines += [
            "",
            f"Estimates without labels: mean confidence {estimates['mean_confidence']:.3f} "
            f"(test split {estimates['reference_mean_confidence']:.3f}).",
        ]
    if run_url:
        lines += ["", f"Full report (drift.html) in the [monitor run's artifact]({run_url})."]
    return "\n".join(lines)
