"""The page over a hand-made card with every feature type, in chromium.

The page is rendered from the card (as the service does per request) and /predict is answered
by a scripted handler, so categories, booleans, nulls, multiclass labels and a regression work
in the browser before any such model is packaged.
"""

from __future__ import annotations

import json

import pytest

from modelops.serving.page import ASSETS, render_page
from tests.web.conftest import PHONE, screenshot

pytestmark = pytest.mark.slow

BASE = "http://page.test"
CARD = {
    "name": "iris-mixed", "version": "5", "task": "multiclass", "target": "species",
    "classes": ["setosa", "versicolor", "virginica"],
    "metrics": {"accuracy": 0.947, "f1_macro": 0.946}, "trained_at": "2026-11-30T10:00:00+00:00",
    "data_hash": "5f2b1c", "git_commit": "9e1d2a7",
    "input_example": [{"petal_length": 4.5, "colour": "purple", "wild": None, "sepal_width": 3.1}],
    "feature_schema": [
        {"name": "petal_length", "type": "number", "nullable": True},
        {"name": "colour", "type": "category", "categories": ["blue", "purple", "white"],
         "nullable": True},
        {"name": "wild", "type": "boolean", "nullable": True},
        {"name": "sepal_width", "type": "number", "nullable": False},
    ],
}  # fmt: skip


def answer(instance: dict) -> dict | None:
    """The scripted model: None (a 400) when sepal_width is not a number."""
    if not isinstance(instance["sepal_width"], int | float) or isinstance(
        instance["sepal_width"], bool
    ):
        return None
    label = "virginica" if (instance["petal_length"] or 0) > 4 else "setosa"
    probabilities = {"setosa": 0.1, "versicolor": 0.2, "virginica": 0.7}
    if label == "setosa":
        probabilities = {"setosa": 0.8, "versicolor": 0.15, "virginica": 0.05}
    return {"label": label, "probabilities": probabilities}


@pytest.fixture
def mixed(page):
    """The page for CARD at http://page.test/, its API scripted; the bodies /predict got."""
    received = []

    def handle(route):
        path = route.request.url.removeprefix(BASE)
        if path == "/":
            route.fulfill(body=render_page(CARD, 4), content_type="text/html")
        elif path.startswith("/web/"):
            asset = ASSETS / path.removeprefix("/web/")
            kind = "text/css" if asset.suffix == ".css" else "text/javascript"
            route.fulfill(body=asset.read_text(), content_type=kind)
        elif path == "/predict":
            body = json.loads(route.request.post_data)
            received.append(body)
            predictions = [answer(row) for row in body["instances"]]
            bad = [i for i, p in enumerate(predictions) if p is None]
            if bad:
                message = "Input should be a valid number"
                detail = [{"loc": ["instances", bad[0], "sepal_width"], "msg": message}]
                route.fulfill(status=400, json={"error": "validation", "detail": detail})
            else:
                route.fulfill(json={"predictions": predictions, "model": {"name": "x"}})
        else:
            route.fulfill(status=404, body="not found")

    page.route(f"{BASE}/**", handle)
    page.goto(f"{BASE}/")
    return received


def test_controls_follow_the_schema_and_send_typed_values(page, mixed):
    assert page.locator("form").count() == 1
    assert page.get_attribute('[name="petal_length"]', "type") == "number"
    options = page.locator('select[name="colour"] option').all_text_contents()
    assert options == ["(missing)", "blue", "purple", "white"]
    assert page.locator('select[name="wild"] option').count() == 3
    page.fill('[name="petal_length"]', "5.1")
    page.select_option('[name="colour"]', "white")
    page.select_option('[name="wild"]', "false")
    page.fill('[name="sepal_width"]', "2.9")
    page.click("#predict-button")
    page.wait_for_function("document.getElementById('prediction').textContent === 'virginica'")
    assert mixed[-1] == {
        "instances": [{"petal_length": 5.1, "colour": "white", "wild": False, "sepal_width": 2.9}]
    }
    bars = page.locator("#probabilities .bar")
    assert bars.count() == 3
    assert bars.nth(2).locator(".bar-value").text_content() == "70.0%"
    screenshot(page, "mixed-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "mixed-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_example_fills_a_real_row_and_empty_means_missing(page, mixed):
    page.click("text=Fill with an example")
    assert page.input_value('[name="petal_length"]') == "4.5"
    assert page.input_value('[name="colour"]') == "purple"
    assert page.input_value('[name="wild"]') == ""  # null in the example: missing
    page.fill('[name="petal_length"]', "")
    page.click("#predict-button")
    page.wait_for_function("document.getElementById('prediction').textContent === 'setosa'")
    assert mixed[-1]["instances"][0] == {
        "petal_length": None, "colour": "purple", "wild": None, "sepal_width": 3.1,
    }  # fmt: skip


def test_an_api_error_lands_next_to_its_field(page, mixed):
    page.click("text=Fill with an example")
    page.fill('[name="sepal_width"]', "")  # required by this card: the API says so
    page.click("#predict-button")
    error = page.locator("#feature-3-error")
    error.wait_for(state="visible")
    assert error.text_content() == "Enter a number."
    assert page.get_attribute('[name="sepal_width"]', "aria-invalid") == "true"
    assert "see the messages under them" in page.text_content("#form-error")
    screenshot(page, "mixed-error")
    page.fill('[name="sepal_width"]', "3")  # fixed: the next answer clears the error
    page.click("#predict-button")
    page.wait_for_function("document.getElementById('prediction').textContent === 'virginica'")
    assert error.text_content() == ""


def test_csv_rows_are_typed_by_the_schema_and_a_bad_row_is_named(page, mixed, tmp_path):
    good = tmp_path / "plants.csv"
    good.write_text(
        "id,petal_length,colour,wild,sepal_width\n"
        'p1,1.2,blue,true,3\np2,,"white",,2.5\np3,5,purple,no,3.3\np4,4.4,blue,1,3\np5,6,,0,2\n'
    )
    page.set_input_files("#csv-file", str(good))
    page.wait_for_function(
        "document.getElementById('csv-status').textContent.startsWith('Scored 5 rows')"
    )
    assert [len(body["instances"]) for body in mixed] == [4, 1]  # max_instances = 4
    assert mixed[0]["instances"][1] == {
        "petal_length": None, "colour": "white", "wild": None, "sepal_width": 2.5,
    }  # fmt: skip
    assert mixed[0]["instances"][2]["wild"] is False
    header = page.locator("#csv-preview thead th").all_text_contents()
    assert header[-4:] == ["label", "proba_setosa", "proba_versicolor",
                           "proba_virginica"]  # fmt: skip
    screenshot(page, "mixed-csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("petal_length,colour,wild,sepal_width\n1,blue,true,3\n2,blue,true,wide\n")
    page.set_input_files("#csv-file", str(bad))
    status = page.locator("#csv-status.error")
    status.wait_for()
    assert "bad.csv, row 2: sepal_width: Input should be a valid number" in status.text_content()


def test_the_card_panel_shows_the_card(page, mixed):
    for key in ("name", "version", "task", "trained_at", "data_hash", "git_commit"):
        assert page.text_content(f"dd[data-key={key}]") == str(CARD[key])
    assert "f1_macro" in page.text_content(".metrics")
    assert page.outside == []
