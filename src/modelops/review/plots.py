"""Draw the PR report's plots: base (dashed) against head (solid), from `dvc plots diff` data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelops.review.collect import HEAD_LABEL

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
        spec = {"title": PLOT_KINDS.get(kind, kind), **kinds[kind]}
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


def curve_figure(
    plt: Any, kind: str, spec: dict[str, Any], winners: dict[str, str | None], base_label: str
) -> Any:
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


def confusion_figure(
    plt: Any, spec: dict[str, Any], winners: dict[str, str | None], base_label: str
) -> Any:
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
