"""The page at `/`: a form built from the model card, to try the model in a browser.

Rendered from the card on each request (plain HTML, no template engine), so it fits whatever
model is packaged: one input per feature, named after it (numbers as number inputs, categories
as a select of the known categories, booleans as a yes/no select; empty means missing). The
script and style sheet in `web/` post to the same `/predict` as every other client: the page
adds no work to the prediction path. No CDN and no build step: the deployed function has no
internet.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).with_name("web")
"""The page's script and style sheet, served under /web/."""

FEATURE_TYPES = ("number", "boolean", "category")
CARD_FIELDS = ("name", "version", "task", "trained_at", "data_hash", "git_commit")


def feature_type(feature: dict[str, Any]) -> str:
    """A schema entry's type; an entry without one (models before typed schemas) is a number."""
    kind = feature.get("type") or "number"
    return kind if kind in FEATURE_TYPES else "number"


def _text(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _field(index: int, feature: dict[str, Any]) -> str:
    """One labelled input for a feature; its `name` attribute is the feature's name."""
    name = str(feature["name"])
    kind = feature_type(feature)
    ident = f"feature-{index}"
    common = (
        f'id="{ident}" name="{_text(name)}" data-type="{kind}" aria-describedby="{ident}-error"'
    )
    if kind == "category":
        options = "".join(
            f'<option value="{_text(category)}">{_text(category)}</option>'
            for category in feature.get("categories") or []
        )
        control = f'<select {common}><option value="">(missing)</option>{options}</select>'
    elif kind == "boolean":
        control = (
            f'<select {common}><option value="">(missing)</option>'
            '<option value="true">yes</option><option value="false">no</option></select>'
        )
    else:
        control = f'<input {common} type="number" step="any" inputmode="decimal">'
    hint = "" if feature.get("nullable", True) else ' <span class="required">required</span>'
    return (
        f'<div class="field"><label for="{ident}">{_text(name)}{hint}</label>{control}'
        f'<p class="field-error" id="{ident}-error" role="alert"></p></div>'
    )


def _metrics(metrics: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th scope='row'>{_text(key)}</th><td>{_text(value)}</td></tr>"
        for key, value in sorted((metrics or {}).items())
    )
    return f'<table class="metrics"><caption>Metrics</caption>{rows}</table>' if rows else ""


def _card_panel(card: dict[str, Any]) -> str:
    items = "".join(
        f"<dt>{key.replace('_', ' ')}</dt><dd data-key='{key}'>{_text(card.get(key, '—'))}</dd>"
        for key in CARD_FIELDS
    )
    target = f"<dt>target</dt><dd>{_text(card['target'])}</dd>" if card.get("target") else ""
    return (
        '<section class="card" aria-labelledby="card-title"><h2 id="card-title">Model card</h2>'
        f"<dl>{items}{target}</dl>{_metrics(card.get('metrics', {}))}"
        '<p class="links"><a href="metadata">metadata (JSON)</a> · <a href="docs">API docs</a>'
        "</p></section>"
    )


def _page_data(card: dict[str, Any], max_instances: int) -> str:
    """What the script needs, as JSON safe inside a <script> element."""
    data = {
        "features": [
            {**feature, "type": feature_type(feature)} for feature in card["feature_schema"]
        ],
        "task": card.get("task") or "binary",
        "classes": card.get("classes"),
        "positive_class": card.get("positive_class"),
        "input_example": card.get("input_example") or [],
        "max_instances": max_instances,
    }
    return json.dumps(data).replace("</", "<\\/")


def render_page(card: dict[str, Any] | None, max_instances: int, error: str | None = None) -> str:
    """The whole page for `card`, or a page saying why no model is loaded.

    Args:
        card: the model card (shared interface: feature_schema, task, classes, metrics ...).
        max_instances: rows per request the server accepts (the CSV upload's chunk size).
        error: why there is no card, shown instead of the form.

    """
    if card is None:
        body = (
            '<main><h1>No model loaded</h1><p class="error" role="alert">'
            f"{_text(error or 'the service has no model')}</p></main>"
        )
        return _document("No model loaded", body)
    fields = "".join(_field(i, f) for i, f in enumerate(card["feature_schema"]))
    example = bool(card.get("input_example"))
    title = f"{card.get('name', 'model')} v{card.get('version', '?')}"
    disabled = "" if example else ' disabled title="the model card has no input example"'
    body = f"""<header><h1>{_text(title)}</h1>
<p>Enter a row and press <strong>Predict</strong>, or score a whole CSV file below.
Empty fields are sent as missing.</p></header>
<main>
<section class="try" aria-labelledby="try-title"><h2 id="try-title">Try the model</h2>
<form id="predict-form" novalidate>
<div class="fields">{fields}</div>
<p class="form-error" id="form-error" role="alert"></p>
<div class="actions"><button type="submit" id="predict-button">Predict</button>
<button type="button" id="example-button"{disabled}>Fill with an example</button>
<button type="reset" class="quiet">Clear</button></div>
</form>
<div class="result" aria-live="polite"><h3>Prediction</h3>
<output id="prediction" for="predict-form">—</output>
<div id="probabilities" class="bars"></div></div>
</section>
<section class="batch" aria-labelledby="batch-title"><h2 id="batch-title">Score a CSV file</h2>
<p>A header row with the feature names; other columns (an id, say) are kept in the result.
Rows go to the API in chunks of {max_instances}.</p>
<label for="csv-file">CSV file</label>
<input type="file" id="csv-file" accept=".csv,text/csv">
<progress id="csv-progress" max="1" value="0" hidden></progress>
<p id="csv-status" role="status"></p>
<p><a id="csv-download" hidden download="predictions.csv">Download the predictions (CSV)</a></p>
<div class="table-wrap"><table id="csv-preview"></table></div>
</section>
{_card_panel(card)}
</main>
<script type="application/json" id="page-data">{_page_data(card, max_instances)}</script>
<script src="web/page.js" defer></script>"""
    return _document(title, body)


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{_text(title)}</title><link rel="stylesheet" href="web/page.css"></head>'
        f"<body>{body}</body></html>"
    )


DOCS_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>API docs</title>
<link rel="stylesheet" href="./static_content/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="./static_content/swagger-ui-bundle.js"></script>
<script src="./static_content/swagger-ui-standalone-preset.js"></script>
<script src="./static_content/swagger-initializer.js"></script></body></html>"""
"""Swagger UI over /docs.json, from the assets BentoML ships (its own index loads a tag manager
from the internet; this one loads nothing from outside)."""
